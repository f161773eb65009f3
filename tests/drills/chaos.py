"""The chaos drill's parts: the deployment (separate `aro simulator`, `aro frontend` and two `aro backend`
processes), the driver that kills -9 and restarts backends at random, and the analysis of what the
backends recorded (each cluster's step history) against what the cloud saw (the simulator's request log).

The analysis, per cluster:
- every install step completed once, in order;
- a run of a step (``{step, owner, started, ended?}``) ends when it ended, or when its process was killed;
  sorted by start, each run starts after the previous one ended: no two runs -- of any step, by any
  workers -- overlap;
- a completed run is the last run of its step: no completed step was repeated;
- every request the cloud saw for the cluster falls inside a run of the step it names, by the lease owner
  it names -- for a run cut by a kill, before the next run started (a request sent just before the kill
  may be served after it; the cloud's own clock orders it against the next worker's requests): the cloud
  never saw a step from two workers at once, or from a worker with no recorded run.
A run left unended by a process that was NOT killed (a live worker that lost its lease) is bounded by its
last request to the cloud; such runs are counted, and the overlap checks still apply to them. So is a run
left unended before its process was killed: a live worker also gives up a run whose lease it could not
renew in time (a starved event loop), before that lease can run out, and its process may be killed later;
a run cut by a kill ended no later than the kill.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aro.cluster import install
from tests.conftest import RPProcess

INSTALL_STEPS = [s.id for s in install.STEPS]
StartProcess = Callable[..., RPProcess]


def owner_pid(owner: str) -> int:
    """Lease owners are '<host>-<pid>-<pool id>-<claim id>' (the host may contain '-')."""
    return int(owner.rsplit("-", 3)[1])


@dataclass
class Stack:
    data: Path
    simulator: RPProcess
    frontend: RPProcess
    backend_env: dict[str, str]
    start: StartProcess

    def backend(self, wait: bool = True) -> RPProcess:
        return self.start("backend", data_dir=self.data, env=self.backend_env, wait=wait)


def deploy(start: StartProcess, data: Path, store_env: dict[str, str], step_delay: float) -> Stack:
    sim = start("simulator", data_dir=data, env={"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": str(step_delay)})
    fe = start("frontend", data_dir=data, env=store_env)
    backend_env = {
        **store_env,
        "ARO_CLOUD_SIMULATOR_ENDPOINT": sim.base_url,
        "ARO_BACKEND_LEASE_SECONDS": "2",
        "ARO_BACKEND_HEARTBEAT_SECONDS": "0.3",
        # the crash budget (default 5 claims) is its own test (tests/backend/test_resilience.py); here the
        # kills outnumber it by design, and every install must still finish
        "ARO_BACKEND_MAX_DEQUEUES": "1000",
    }
    return Stack(data, sim, fe, backend_env, start)


@dataclass
class Driver:
    """Kills -9 a random one of the backends every ``every`` seconds (uniform) and starts a new one in its
    place at once, until stopped. Kill times are taken after the process is reaped. The next kill also waits
    for the new backend to be ready: on a busy machine (the suite runs in several processes) a start can take
    longer than ``every``, and backends killed before they are up would leave the installs no time to run."""

    stack: Stack
    every: tuple[float, float]
    seed: int
    slots: list[RPProcess] = field(default_factory=list)
    kills: dict[int, float] = field(default_factory=dict)  # pid -> time it was dead
    started: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, backends: int = 2) -> None:
        self.slots = [self.stack.backend() for _ in range(backends)]
        self.started = backends
        self._thread = threading.Thread(target=self._run, name="chaos-driver", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        rng = random.Random(self.seed)
        due = time.monotonic() + rng.uniform(*self.every)
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            slot = rng.randrange(len(self.slots))
            victim = self.slots[slot]
            assert victim.proc is not None
            pid = victim.proc.pid
            victim.kill()
            self.kills[pid] = time.time()
            due = time.monotonic() + rng.uniform(*self.every)
            self.slots[slot] = self.stack.backend()
            self.started += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)


def admin_documents(client: httpx.Client) -> list[dict[str, Any]]:
    """Every cluster document (redacted) through the admin API: the same view on either store."""
    docs: list[dict[str, Any]] = []
    r = client.get("/admin/providers/microsoft.redhatopenshift/openshiftclusters", params={"$top": "1000"})
    while True:
        assert r.status_code == 200, r.text
        docs += r.json()["value"]
        if not r.json().get("nextLink"):
            return docs
        r = client.get(r.json()["nextLink"])


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    runs: int = 0
    takeovers: int = 0  # the next run of a cluster is by another process than the previous one
    clusters_taken_over: int = 0
    interrupted_runs: int = 0  # runs cut short by a kill
    abandoned_runs: int = 0  # runs left unended by a live process (lease lost)
    requests: int = 0
    max_claims: int = 0  # lease owners (claims) that ran steps, for one cluster

    def fail(self, message: str) -> None:
        self.violations.append(message)


def analyse(docs: list[dict[str, Any]], requests: list[dict[str, Any]], kills: dict[int, float]) -> Findings:
    f = Findings()
    owner_cluster: dict[str, str] = {}
    runs_of: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        name = doc["key"].rsplit("/", 1)[1]
        progress = doc["openShiftCluster"]["properties"].get("install") or {}
        runs = sorted(progress.get("history") or [], key=lambda r: float(r["started"]))
        runs_of[name] = runs
        for r in runs:
            owner_cluster[r["owner"]] = name
        if progress.get("completedSteps") != INSTALL_STEPS:
            f.fail(f"{name}: completed steps {progress.get('completedSteps')}")

    by_owner_step: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in requests:
        if not e.get("leaseOwner"):
            continue
        f.requests += 1
        if e["leaseOwner"] not in owner_cluster or not e.get("step"):
            f.fail(f"the cloud saw {e['method']} {e['path']} from {e['leaseOwner']} (step {e.get('step')}), no run")
            continue
        by_owner_step[(e["leaseOwner"], e["step"])].append(e)

    for name, runs in runs_of.items():
        f.runs += len(runs)
        f.max_claims = max(f.max_claims, len({r["owner"] for r in runs}))

        def end_of(run: dict[str, Any]) -> float:
            """When the worker's run ended: recorded, else when the cloud finished the run's last request
            (a live worker gave it up: it lost its lease, or could not renew it in time) -- and no later
            than when its process was killed."""
            if run.get("ended") is not None:
                return float(run["ended"])
            hits = by_owner_step.get((run["owner"], run["step"]), [])
            last = max([float(run["started"])] + [e["ts"] + e["durationMs"] / 1000 for e in hits])
            killed = kills.get(owner_pid(run["owner"]))
            if killed is not None and killed >= float(run["started"]):
                return min(killed, last)
            return last

        taken_over = False
        for r in runs:
            if r.get("ended") is None:
                killed = kills.get(owner_pid(r["owner"]))
                if killed is not None and killed >= float(r["started"]):
                    f.interrupted_runs += 1
                else:
                    f.abandoned_runs += 1
        for r1, r2 in zip(runs, runs[1:], strict=False):
            if float(r2["started"]) < end_of(r1):
                f.fail(
                    f"{name}: {r2['step']} by {r2['owner']} started {end_of(r1) - float(r2['started']):.3f}s "
                    f"before {r1['step']} by {r1['owner']} ended"
                )
            if owner_pid(r1["owner"]) != owner_pid(r2["owner"]):
                f.takeovers += 1
                taken_over = True
        f.clusters_taken_over += taken_over
        for step in INSTALL_STEPS:
            of_step = [r for r in runs if r["step"] == step]
            done = [r for r in of_step if r.get("ended") is not None and r.get("outcome") is None]
            if len(done) > 1 or (done and of_step[-1] is not done[0]):
                f.fail(f"{name}: completed step {step} ran again: {of_step}")
        # the cloud's view: a run's requests come after it started, and before it ended -- or, for a run cut
        # short, before the next run began (a request sent just before a kill may reach the cloud after it)
        for r, after in zip(runs, [*runs[1:], None], strict=True):
            if r.get("ended") is not None:
                latest = float(r["ended"])
            else:
                latest = float(after["started"]) if after is not None else float("inf")
            for e in by_owner_step.pop((r["owner"], r["step"]), []):
                if not float(r["started"]) <= e["ts"] <= latest:
                    f.fail(f"{name}: {e['method']} {e['path']} of {r['step']} by {r['owner']} outside its run")
    for (owner, step), hits in by_owner_step.items():
        f.fail(f"{owner_cluster[owner]}: {len(hits)} requests of step {step} by {owner} with no run of that step")
    return f


def states(client: httpx.Client, list_path: str) -> Counter[str]:
    r = client.get(list_path, params={"api-version": "2025-07-25", "$top": "1000"})
    assert r.status_code == 200, r.text
    assert "nextLink" not in r.json()
    return Counter(c["properties"]["provisioningState"] for c in r.json()["value"])
