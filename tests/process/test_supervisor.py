"""`aro rp` is a supervisor of processes (``aro.supervisor``): the simulator, the backend and the frontend
each in a process of its own, forked by it, tagged in the merged log, restarted when they die, stopped in
order on SIGTERM, killed with it; and several `aro rp` side by side on one machine do not see each other."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.helpers import simulator_requests
from tests.conftest import RPProcess
from tests.database.cosmos_server import CosmosServer
from tests.fixtures.clusters import cli_body

V = "2025-07-25"
SUB = "5a1e0000-0000-4000-8000-000000000001"


def cluster_url(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.RedHatOpenShift/openShiftClusters/{name}"


def state(c: httpx.Client, name: str) -> str:
    r = c.get(cluster_url(name), params={"api-version": V})
    return str(r.json()["properties"]["provisioningState"]) if r.status_code == 200 else str(r.status_code)


def wait_state(c: httpx.Client, name: str, want: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (now := state(c, name)) != want:
        assert now not in ("Failed", "Canceled"), f"{name}: {now}"
        assert time.monotonic() < deadline, f"{name} still {now} after {timeout}s"
        time.sleep(0.05)


def create(c: httpx.Client, name: str) -> None:
    r = c.put(cluster_url(name), params={"api-version": V}, json=cli_body(SUB, name))
    assert r.status_code == 201, r.text


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pids: list[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids):
        assert time.monotonic() < deadline, f"still running: {[p for p in pids if alive(p)]}"
        time.sleep(0.05)


def log_lines(rp: RPProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in rp.log().splitlines() if line.startswith("{")]


def test_the_parts_run_in_processes_of_their_own_and_wake_each_other(rp_factory: Any) -> None:
    # The backend polls once a minute: only the frontend's wake-up can have it pick a create up in time.
    rp = rp_factory("rp", env={"ARO_BACKEND_POLL_SECONDS": "60"})
    procs = rp.ready_info()["processes"]
    assert set(procs) == {"simulator", "backend", "frontend"}, procs
    assert len(set(procs.values())) == 3 and rp.proc.pid not in procs.values()
    assert all(parent_of(pid) == rp.proc.pid for pid in procs.values())
    with rp.client() as c:
        create(c, "woken")
        wait_state(c, "woken", "Succeeded", timeout=20)
        metrics = c.get("/metrics").text
    claims = [line for line in metrics.splitlines() if line.startswith("aro_backend_claims_total")]
    assert claims and float(claims[0].split()[-1]) >= 1, "the frontend's /metrics counts the backend's claims"
    tags = {line.get("proc") for line in log_lines(rp)}
    assert {"simulator", "backend", "frontend"} <= tags, tags
    steps = [line for line in log_lines(rp) if line.get("docKey", "").endswith("/woken")]
    assert steps and all(line["proc"] == "backend" for line in steps if line["logger"].startswith("aro.backend"))


def test_a_killed_backend_is_forked_again_and_its_installs_resume(rp_factory: Any) -> None:
    rp = rp_factory(
        "rp",
        env={"ARO_BACKEND_LEASE_SECONDS": "2", "ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0.4"},
    )
    backend = rp.ready_info()["processes"]["backend"]
    names = [f"resume{i}" for i in range(3)]
    with rp.client() as c:
        for name in names:
            create(c, name)
        deadline = time.monotonic() + 10
        while not any(e.get("leaseOwner") for e in simulator_requests(rp.data_dir)):
            assert time.monotonic() < deadline, "no install reached the cloud"
            time.sleep(0.05)
        os.kill(backend, signal.SIGKILL)
        assert [state(c, n) for n in names] == ["Creating"] * 3, "killed while the installs ran"
        for name in names:
            wait_state(c, name, "Succeeded", timeout=45)
    again = [line for line in log_lines(rp) if line["msg"] == "process ready again"]
    assert [line["proc"] for line in again] == ["backend"] and again[0]["pid"] != backend
    owners = {e["leaseOwner"].split("-")[1] for e in simulator_requests(rp.data_dir) if e.get("leaseOwner")}
    assert owners == {str(backend), str(again[0]["pid"])}, "the new backend took the installs over"


def test_sigterm_stops_every_process_in_order(rp_factory: Any) -> None:
    rp = rp_factory("rp")
    pids = list(rp.ready_info()["processes"].values())
    started = time.monotonic()
    assert rp.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 2, "SIGTERM to exit"
    wait_gone(pids, timeout=1)
    lines = log_lines(rp)
    stopped = [line.get("proc") for line in lines if line["msg"] == "stopped"]
    assert stopped[-1] is None and set(stopped[:-1]) == {"simulator", "backend", "frontend"}, stopped
    assert stopped.index("simulator") > stopped.index("backend"), "the simulator outlives the backend's stop"


def test_a_killed_supervisor_takes_its_processes_with_it(rp_factory: Any) -> None:
    rp = rp_factory("rp")
    pids = list(rp.ready_info()["processes"].values())
    rp.kill()
    wait_gone(pids, timeout=5)


def test_a_process_that_cannot_start_stops_the_start(rp_factory: Any, tmp_path: Path) -> None:
    rp = rp_factory("rp", wait=False, env={"ARO_HCP_VERSIONS_FILE": str(tmp_path / "missing.json")})
    assert rp.proc.wait(30) == 2, rp.log()
    assert "configuration error: hcp.versionsFile" in rp.log()
    children = [line["pid"] for line in log_lines(rp) if "pid" in line]
    wait_gone(children, timeout=5)


def start_instance(home: Path, database: dict[str, Any]) -> RPProcess:
    """An `aro rp` from a config file of its own, every port 0; its address from its "ready" line."""
    home.mkdir()
    config = {
        "dataDirectory": str(home / "data"),
        "frontend": {"port": 0},
        "cloud": {"simulator": {"port": 0, "proxyPort": 0, "stepDelaySeconds": 0}},
        "database": database,
    }
    (home / "aro.yaml").write_text(json.dumps(config))  # JSON is YAML
    rp = RPProcess(home / "data", 0, "rp", args=["--config", str(home / "aro.yaml")])
    rp.start(wait=False)
    rp.wait_ready(60)
    rp.port = int(rp.ready_info()["listen"].rsplit(":", 1)[1])
    return rp


def test_three_instances_side_by_side_one_on_cosmos(tmp_path: Path, cosmos_server: CosmosServer) -> None:
    cosmos = cosmos_server.spec(cosmos_server.new_database("instance"))
    databases: list[dict[str, Any]] = [
        {},
        {},
        {"mode": "cosmos", "cosmos": {k: cosmos[k] for k in ("endpoint", "key", "database", "caFile")}},
    ]
    instances = [start_instance(tmp_path / f"instance{i}", db) for i, db in enumerate(databases)]
    try:
        infos = [rp.ready_info() for rp in instances]
        for key in ("listen", "simulator", "proxy"):
            assert len({info[key] for info in infos}) == 3, f"{key}: {[info[key] for info in infos]}"
        for i, rp in enumerate(instances):  # the same cluster id in each: no instance sees another's
            with rp.client() as c:
                body = cli_body(SUB, "same") | {"tags": {"instance": str(i)}}
                r = c.put(cluster_url("same"), params={"api-version": V}, json=body)
                assert r.status_code == 201, r.text
        for i, rp in enumerate(instances):
            with rp.client() as c:
                wait_state(c, "same", "Succeeded", timeout=45)
                assert c.get(cluster_url("same"), params={"api-version": V}).json()["tags"] == {"instance": str(i)}
                listed = c.get(cluster_url("same").rsplit("/", 1)[0], params={"api-version": V}).json()["value"]
                assert [oc["tags"] for oc in listed] == [{"instance": str(i)}]
            backend = str(rp.ready_info()["processes"]["backend"])
            owners = {e["leaseOwner"].split("-")[1] for e in simulator_requests(rp.data_dir) if e.get("leaseOwner")}
            assert owners == {backend}, f"instance {i}: installed by {owners}, its backend is {backend}"
    finally:
        for rp in instances:
            rp.stop()


@pytest.fixture
def cosmos_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.database import cosmos_server as local_cosmos

    return local_cosmos.shared(request.config, tmp_path_factory)


def test_frontend_workers_accept_on_one_socket(rp_factory: Any) -> None:
    rp = rp_factory("rp", env={"ARO_FRONTEND_WORKERS": "2"})
    procs = rp.ready_info()["processes"]
    assert {"frontend-1", "frontend-2"} <= set(procs), procs
    from concurrent.futures import ThreadPoolExecutor

    def get(_: int) -> int:
        with rp.client() as c:  # a connection of its own: the kernel hands it to either process
            return c.get(cluster_url("nobody"), params={"api-version": V}).status_code

    served: set[str] = set()
    for _ in range(20):  # rounds of 32 concurrent connections, until both processes have answered one
        with ThreadPoolExecutor(32) as pool:
            assert set(pool.map(get, range(32))) == {404}
        served = {line["proc"] for line in log_lines(rp) if line.get("msg") == "request" and "proc" in line}
        if {"frontend-1", "frontend-2"} <= served:
            break
    assert {"frontend-1", "frontend-2"} <= served, served
