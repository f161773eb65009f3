"""Crash, takeover, several backends and fault injection, with separate `aro simulator`, `aro frontend`
and `aro backend` processes on one data directory (one embedded store file)."""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.backend.helpers import (
    cluster_doc,
    cluster_url,
    create,
    simulator_requests,
    wait_operation,
    wait_state,
)
from tests.conftest import RPProcess


@dataclass
class Deployment:
    data: Path
    simulator: RPProcess
    frontend: RPProcess
    backend_env: dict[str, str]

    def backend(self, rp_factory: Any) -> RPProcess:
        return rp_factory("backend", data_dir=self.data, env=self.backend_env)  # type: ignore[no-any-return]


def deploy(rp_factory: Any, tmp_path: Path, sim_env: dict[str, str], **backend_env: str) -> Deployment:
    data = tmp_path / "data"
    sim = rp_factory("simulator", data_dir=data, env=sim_env)
    fe = rp_factory("frontend", data_dir=data)
    env = {
        "ARO_CLOUD_SIMULATOR_ENDPOINT": sim.base_url,
        "ARO_BACKEND_LEASE_SECONDS": "2",
        "ARO_BACKEND_HEARTBEAT_SECONDS": "0.3",
        **backend_env,
    }
    return Deployment(data, sim, fe, env)


def owner_process(owner: str) -> str:
    """Lease owners are '<host>-<pid>-<pool id>-<claim id>': the process part."""
    return owner.rsplit("-", 1)[0]


def assert_no_step_overlap(runs: list[dict[str, Any]], killed_at: float) -> None:
    """For each step, runs by different owners must not overlap in time (a run cut short by a kill
    ends at the kill)."""
    by_step: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for r in runs:
        by_step[r["step"]].append((r["started"], r.get("ended") or killed_at, r["owner"]))
    for step, spans in by_step.items():
        spans.sort()
        for (_s1, e1, o1), (s2, _e2, o2) in zip(spans, spans[1:], strict=False):
            assert o1 == o2 or s2 >= e1, f"step {step} ran in {o1} and {o2} at once"


def test_killed_backend_is_taken_over_without_overlap_or_repeats(rp_factory: Any, tmp_path: Path) -> None:
    d = deploy(rp_factory, tmp_path, {"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0.4"})
    a = d.backend(rp_factory)
    with d.frontend.client() as c:
        created = create(c, "crash")
        deadline = time.monotonic() + 60
        while True:  # until A has completed at least two steps and is inside a third
            doc = cluster_doc(d.data, "crash")
            progress = (doc or {}).get("openShiftCluster", {}).get("properties", {}).get("install") or {}
            if len(progress.get("completedSteps", [])) >= 3 and progress.get("currentStep"):
                break
            assert time.monotonic() < deadline, "install did not progress"
            time.sleep(0.02)
        a.kill()
        killed_at = time.time()
        done_by_a = list(progress["completedSteps"])
        owner_a = doc["leaseOwner"]  # type: ignore[index]
        b = d.backend(rp_factory)
        got = wait_state(c, "crash", {"Succeeded", "Failed"}, timeout=90)
        assert got["properties"]["provisioningState"] == "Succeeded", got
        assert wait_operation(c, created)["status"] == "Succeeded"
    doc = cluster_doc(d.data, "crash")
    assert doc is not None
    runs = doc["openShiftCluster"]["properties"]["install"]["history"]
    owners = {owner_process(r["owner"]) for r in runs}
    assert owner_process(owner_a) in owners and len(owners) == 2, "A started, B finished"
    assert_no_step_overlap(runs, killed_at)
    for step in done_by_a:
        assert [r["owner"] for r in runs if r["step"] == step] == [owner_a], f"completed step {step} was redone"
    # the cloud's view: requests of each step came from one process at a time, completed steps not repeated
    log = [e for e in simulator_requests(d.data) if e.get("step") and e.get("leaseOwner")]
    per_step: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for e in log:
        per_step[e["step"]].append((e["ts"], owner_process(e["leaseOwner"])))
    for step, hits in per_step.items():
        procs = [p for _, p in sorted(hits)]
        switches = sum(1 for x, y in zip(procs, procs[1:], strict=False) if x != y)
        assert switches <= 1, f"step {step} alternated between processes: {procs}"
        if step in done_by_a:
            assert set(procs) == {owner_process(owner_a)}, f"completed step {step} was repeated by B"
    assert any(
        p == owner_process(b.ready_info().get("owner", "")) or p != owner_process(owner_a)
        for hits in per_step.values()
        for _, p in hits
    )


@pytest.mark.slow
def test_two_backends_share_100_creates(rp_factory: Any, tmp_path: Path) -> None:
    d = deploy(rp_factory, tmp_path, {"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0"}, ARO_BACKEND_LEASE_SECONDS="10")
    d.backend(rp_factory)
    d.backend(rp_factory)
    names = [f"many{i:03d}" for i in range(100)]
    with d.frontend.client() as c, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: create(c, n), names))
        states = list(pool.map(lambda n: wait_state(c, n, {"Succeeded", "Failed"}, timeout=180), names))
    assert all(s["properties"]["provisioningState"] == "Succeeded" for s in states)
    per_cluster: dict[str, set[str]] = defaultdict(set)
    for e in simulator_requests(d.data):
        if e.get("leaseOwner") and "/resourcegroups/aro-many" in e["path"].lower():
            rg = e["path"].lower().split("/resourcegroups/")[1].split("/")[0]
            per_cluster[rg].add(e["leaseOwner"])
    assert len(per_cluster) == 100
    assert all(len(owners) == 1 for owners in per_cluster.values()), "a cluster's install ran in two processes"
    processes = {owner_process(next(iter(o))) for o in per_cluster.values()}
    print(f"\n100 installs split across {len(processes)} backend processes")


def test_failed_deployment_surfaces_the_arm_error(rp_factory: Any) -> None:
    fault = (
        '[{"operation": "deploy", "mode": "fail", "count": 1, "code": "QuotaExceeded", '
        '"message": "Quota for Standard_D8s_v5 exceeded."}]'
    )
    rp = rp_factory(env={"ARO_CLOUD_SIMULATOR_FAULTS": fault})
    with rp.client() as c:
        created = create(c, "quota")
        op = wait_operation(c, created)
        assert op["status"] == "Failed"
        assert op["error"]["code"] == "DeploymentFailed"
        assert "Quota for Standard_D8s_v5 exceeded." in op["error"]["message"] + str(op["error"].get("details"))
        assert "endTime" in op
        assert wait_state(c, "quota", {"Failed"})["properties"]["provisioningState"] == "Failed"
        # a failed create can only be deleted
        deleted = c.delete(cluster_url("quota"), params={"api-version": "2025-07-25"})
        assert deleted.status_code == 202
        assert wait_operation(c, deleted)["status"] == "Succeeded"


def test_hung_condition_fails_after_its_timeout(rp_factory: Any) -> None:
    rp = rp_factory(
        env={
            "ARO_CLOUD_SIMULATOR_FAULTS": '[{"operation": "clusterReady", "mode": "hang", "count": null}]',
            "ARO_BACKEND_CONDITION_TIMEOUT_SECONDS": "1",
        }
    )
    with rp.client() as c:
        started = time.monotonic()
        op = wait_operation(c, create(c, "hung"))
        elapsed = time.monotonic() - started
    assert op["status"] == "Failed" and op["error"]["code"] == "DeploymentFailed"
    assert "did not become ready" in op["error"]["message"]
    assert elapsed >= 1, "failed before the condition's timeout"


def test_too_many_dequeues_fails_the_operation(rp_factory: Any, tmp_path: Path) -> None:
    # the deployment never finishes; every backend that claims the cluster is killed
    d = deploy(
        rp_factory,
        tmp_path,
        {"ARO_CLOUD_SIMULATOR_FAULTS": '[{"operation": "deploy", "mode": "hang", "count": null}]'},
        ARO_BACKEND_MAX_DEQUEUES="2",
        ARO_BACKEND_LEASE_SECONDS="1",
        ARO_BACKEND_HEARTBEAT_SECONDS="0.2",
    )
    with d.frontend.client() as c:
        created = create(c, "retry")
        for n in range(1, 3):
            b = d.backend(rp_factory)
            deadline = time.monotonic() + 30
            while (cluster_doc(d.data, "retry") or {}).get("dequeues") != n:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            b.kill()
        d.backend(rp_factory)
        op = wait_operation(c, created, timeout=60)
    assert op["status"] == "Failed" and "attempted 2 times" in op["error"]["message"]
