"""Chaos drill: N installs while a driver kills -9 and restarts backends at random, on the embedded
store (one SQLite file shared by the processes) and on the Cosmos DB protocol server. Every install must
end Succeeded, and the step histories and the simulator's request log must show no step run by two
workers at once and no completed step run again (see tests/drills/chaos.py for the exact checks).

``ARO_DRILL_SEED`` fixes the driver's choices (which backend, when) to replay a run; timing still varies.
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.backend.helpers import simulator_requests
from tests.drills.chaos import Driver, admin_documents, analyse, deploy, states
from tests.drills.scale import Scale, record
from tests.frontend.helpers import STABLE, TERMINAL, cli_body, cluster_path, new_sub, rg_list_path


@pytest.fixture(params=["embedded", "cosmos"])
def store(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    """(name, ARO_* environment) of the store the frontend and the backends share."""
    if request.param == "embedded":
        return "embedded", {}
    server = request.getfixturevalue("cosmos_server")
    return "cosmos", server.env(server.new_database("chaos"))


@pytest.mark.slow
def test_installs_finish_exactly_once_under_random_backend_kills(
    rp_factory: Any, tmp_path: Path, scale: Scale, store: tuple[str, dict[str, str]]
) -> None:
    store_name, store_env = store
    data = tmp_path / "data"
    stack = deploy(rp_factory, data, store_env, scale.chaos_step_delay)
    # each backend takes at most half the installs: a backend claims a whole batch at once, and one that
    # took every install would leave the other's kills nothing to interrupt
    stack.backend_env["ARO_BACKEND_WORKERS"] = str(-(-scale.chaos_installs // 2))
    seed = int(os.environ.get("ARO_DRILL_SEED") or random.randrange(2**31))
    driver = Driver(stack, scale.chaos_kill_every, seed)
    sub, rg = new_sub(), "drill"
    names = [f"chaos{i:03d}" for i in range(scale.chaos_installs)]
    with stack.frontend.client() as c:
        driver.start()

        def create(name: str) -> None:
            r = c.put(cluster_path(sub, rg, name), params={"api-version": STABLE}, json=cli_body(sub, name))
            assert r.status_code == 201, r.text

        started = time.monotonic()
        try:
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(create, names))
            deadline = started + scale.chaos_deadline
            while True:
                counts = states(c, rg_list_path(sub, rg))
                if sum(counts[s] for s in TERMINAL) == len(names):
                    break
                assert time.monotonic() < deadline, f"installs not finished after {scale.chaos_deadline}s: {counts}"
                time.sleep(0.25)
        finally:
            driver.stop()
        elapsed = time.monotonic() - started
        docs = admin_documents(c)
    stack.simulator.stop()  # SIGTERM: the request log is complete on disk
    findings = analyse(docs, simulator_requests(data), driver.kills)
    record(
        f"chaos ({store_name})",
        installs=len(names),
        succeeded=counts["Succeeded"],
        seconds=round(elapsed, 1),
        kills=len(driver.kills),
        backends_started=driver.started,
        takeovers=findings.takeovers,
        clusters_taken_over=findings.clusters_taken_over,
        runs_cut_by_a_kill=findings.interrupted_runs,
        runs_abandoned_by_a_live_worker=findings.abandoned_runs,
        step_runs=findings.runs,
        cloud_requests_checked=findings.requests,
        most_claims_of_one_cluster=findings.max_claims,
        violations=len(findings.violations),
        seed=seed,
    )
    assert counts == {"Succeeded": len(names)}, counts
    assert not findings.violations, "\n".join(findings.violations[:20])
    # a drill that killed nothing mid-install proved nothing: it must have forced takeovers
    assert driver.kills and findings.takeovers > 0 and findings.interrupted_runs > 0
