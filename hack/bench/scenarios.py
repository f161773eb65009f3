"""The scenarios: each starts its own servers on a fresh data directory under bench-results/work/, drives
them, and returns its figures as a dict (see run.py's docstring for what each one measures).

`aro rp` is a supervisor of processes: per-process figures come from the pids its ready line names
(``procs.Proc.cpu`` / ``Proc.memory``, per role: ``frontend``, ``backend``, ``simulator``, ``supervisor``)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import shutil
import signal
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import CONNECTIONS, MB, WORK, log, pct
from loadgen import LoadGen, LoadResult, put_body_bytes, submit
from procs import Proc, Procs, alive, base_url, line_time, proc_status, ssl_ctx
from profiler import Profiler
from state import LEDGER_USERS, RPState, ledger_tenant, seed_clusters, seed_ledger
from tests.backend.helpers import V, body, cluster_url

SCENARIOS = ["throughput", "latency", "creates0", "creates1", "takeover", "restart", "list", "ledger", "coldstart"]
LIST_SUB = "22222222-3333-4444-5555-666666666666"
AMS = "/api/accounts_mgmt/v1"
LEDGER_ORGANIZATIONS = 100


@dataclass
class Bench:
    quick: bool
    loadgen: LoadGen
    profiler: Profiler
    frontend_workers: int = 1  # `aro rp`'s frontend.workers, and the bare app's processes

    def run(self, name: str) -> dict[str, Any]:
        """Run the scenario ``name`` (one of SCENARIOS)."""
        steps: dict[str, Callable[[], dict[str, Any]]] = {
            "throughput": self.throughput,
            "latency": self.latency,
            "creates0": lambda: self.creates(0.0, profile=True),
            "creates1": lambda: self.creates(1.0),
            "takeover": self.takeover,
            "restart": self.restart,
            "list": self.list,
            "ledger": self.ledger,
            "coldstart": self.coldstart,
        }
        return steps[name]()

    def procs(self) -> Procs:
        return Procs({"ARO_FRONTEND_WORKERS": str(self.frontend_workers)})

    def dir(self, name: str) -> Path:
        d = WORK / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d / "data"

    # --- throughput ---------------------------------------------------------------------------------

    def throughput(self) -> dict[str, Any]:
        seconds = 5 if self.quick else 8
        rounds = 1 if self.quick else 2  # GET: aro, bare[, bare, aro] (ABBA: drift of the machine's load cancels)
        workers = self.frontend_workers
        data = self.dir("throughput")
        procs = self.procs()
        try:
            rp = procs.aro("rp", data)
            with httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=30) as c:
                create_and_wait(c, "getme")
                assert c.get(cluster_url("getme"), params={"api-version": V}).status_code == 200
            bare = procs.bare(data / "certs", workers)
            frontend_pid = rp.pids("frontend")[0]
            get_aro = f"{base_url(rp)}{cluster_url('getme')}?api-version={V}"
            get_bare = f"{base_url(bare)}{cluster_url('getme')}?api-version={V}"
            log(
                f"throughput: GET, {CONNECTIONS} connections, {seconds}s x {rounds} each ({self.loadgen.name}); "
                f"aro rp with {workers} frontend process(es), bare app in {workers}"
            )
            self.loadgen.get(get_aro, 1)  # warm-up
            self.loadgen.get(get_bare, 1)
            g_aro: list[LoadResult] = []
            g_bare: list[LoadResult] = []
            for i in range(rounds):
                order = ("aro", "bare") if i % 2 == 0 else ("bare", "aro")
                for which in order:
                    if which == "aro":
                        with self.profiler.record("get" if i == 0 else f"get{i}", frontend_pid):
                            g_aro.append(self.loadgen.get(get_aro, seconds, rp, "frontend"))
                    else:
                        g_bare.append(self.loadgen.get(get_bare, seconds, bare, "bare"))
            # PUT: the bare app first, then aro rp (the installs its PUTs start would compete with the bare app)
            log(f"throughput: PUT create, {CONNECTIONS} connections, {seconds}s each")
            root = cluster_url("x")[:-1]
            p_bare = self.loadgen.put(f"{base_url(bare)}{root}", "b", seconds, bare, "bare")
            with self.profiler.record("put", frontend_pid):
                p_aro = self.loadgen.put(f"{base_url(rp)}{root}", "p", seconds, rp, "frontend")
            memory = rp.memory()
            with RPState(data) as rp_state:
                counts = rp_state.counts()
            rp.kill()  # its backend would go on installing what the PUTs created
            # `aro frontend` alone: the frontend without a backend and a simulator competing for the cores
            fe_data = data.parent / "frontend-only"
            fe = procs.aro("frontend", fe_data)
            p_fe = self.loadgen.put(f"{base_url(fe)}{root}", "f", seconds, fe, "frontend")
            get_aro_all, get_bare_all = combine(g_aro), combine(g_bare)
            return {
                "loadGenerator": self.loadgen.name,
                "connections": CONNECTIONS,
                "frontendProcesses": workers,
                "bareProcesses": workers,
                "get": {
                    "aro": get_aro_all.as_dict(),
                    "bare": get_bare_all.as_dict(),
                    "ratio": round(get_aro_all.rps / get_bare_all.rps, 3),
                    "rounds": rounds,
                    "aroRpsPerRound": [round(r.rps, 1) for r in g_aro],
                    "bareRpsPerRound": [round(r.rps, 1) for r in g_bare],
                },
                "put": {
                    "aro": p_aro.as_dict(),
                    "bare": p_bare.as_dict(),
                    "ratio": round(p_aro.rps / p_bare.rps, 3),
                    "clustersCreated": counts.documents - 1,
                    "installsFinishedDuringLoad": counts.terminal - 1,
                    "memoryAfterMB": memory,
                    "frontendOnly": p_fe.as_dict(),
                    "frontendOnlyRatio": round(p_fe.rps / p_bare.rps, 3),
                },
            }
        finally:
            procs.close()

    # --- latency ------------------------------------------------------------------------------------

    def latency(self) -> dict[str, Any]:
        n = 50 if self.quick else 200
        data = self.dir("latency")
        procs = self.procs()
        try:
            rp = procs.aro("rp", data)
            log(f"latency: {n} creates one at a time, operationsstatus polled every 5 ms")
            sent: dict[str, float] = {}
            accepted: dict[str, float] = {}
            done: dict[str, float] = {}
            polls: list[int] = []
            cpu0: dict[str, float] = {}
            with (
                self.profiler.record("latency", rp.pids("backend")[0]),
                httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=30) as c,
            ):
                for i in range(-3, n):  # three warm-ups, not counted
                    if i == 0:
                        cpu0 = rp.cpu()
                    name = f"lat{i + 3:04d}" if i >= 0 else f"warm{-i}"
                    content = put_body_bytes(name)
                    t0 = time.time()
                    r = c.put(
                        cluster_url(name),
                        params={"api-version": V},
                        content=content,
                        headers={"content-type": "application/json"},
                    )
                    t1 = time.time()
                    assert r.status_code == 201, r.text
                    url = r.headers["azure-asyncoperation"]
                    k = 0
                    while True:
                        k += 1
                        status = c.get(url).json()["status"]
                        if status in ("Succeeded", "Failed", "Canceled"):
                            break
                        time.sleep(0.005)
                        if time.time() - t0 > 60:
                            raise TimeoutError(f"{name} not finished after 60s")
                    t2 = time.time()
                    if status != "Succeeded":
                        raise RuntimeError(f"{name}: operation {status}")
                    if i >= 0:
                        sent[name], accepted[name], done[name] = t0, t1, t2
                        polls.append(k)
            cpu = cpu_since(rp, cpu0)
            with RPState(data) as rp_state:
                clusters = rp_state.clusters()
            total = [(done[k] - sent[k]) * 1000 for k in sent]
            put_ms = [(accepted[k] - sent[k]) * 1000 for k in sent]
            pickup, install, finish = [], [], []
            for k in sent:
                first, last = clusters[k].span()
                pickup.append((first - sent[k]) * 1000)
                install.append((last - first) * 1000)
                finish.append((done[k] - last) * 1000)
            return {
                "clusters": n,
                "putToSucceededMs": {"p50": round(pct(total, 50), 1), "p99": round(pct(total, 99), 1)},
                "putResponseMs": {"p50": round(pct(put_ms, 50), 1), "p99": round(pct(put_ms, 99), 1)},
                "backendPickupMs": {"p50": round(pct(pickup, 50), 1), "p99": round(pct(pickup, 99), 1)},
                "installStepsMs": {"p50": round(pct(install, 50), 1), "p99": round(pct(install, 99), 1)},
                "lastStepEndToObservedMs": {"p50": round(pct(finish, 50), 1), "p99": round(pct(finish, 99), 1)},
                "pollsPerOperation": {"p50": pct(polls, 50), "max": max(polls)},
                # PUT + install + the polls, every process of `aro rp`, all threads
                "serverCpuMsPerCreate": round(sum(cpu.values()) * 1000 / n, 1),
                "cpuMsPerCreateByProcess": {k: round(v * 1000 / n, 1) for k, v in cpu.items()},
            }
        finally:
            procs.close()

    # --- 1,000 concurrent creates -------------------------------------------------------------------

    def creates(self, delay: float, profile: bool = False) -> dict[str, Any]:
        n = 200 if self.quick else 1000
        workers = max(n, 200)
        tag = f"creates-delay{delay:g}"
        data = self.dir(tag)
        procs = self.procs()
        try:
            rp = procs.aro(
                "rp",
                data,
                env={"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": str(delay), "ARO_BACKEND_WORKERS": str(workers)},
            )
            memory_ready = rp.memory()
            backend_pid = rp.pids("backend")[0]
            log(f"creates: {n} concurrent creates at step delay {delay:g}s (one backend process, workers={workers})")
            names = [f"c{i:04d}" for i in range(n)]
            sent: dict[str, float] = {}
            leased_max = 0
            recording = self.profiler.record(tag, backend_pid) if profile else contextlib.nullcontext()
            with recording, RPState(data) as rp_state:
                cpu0 = rp.cpu()
                start = time.time()
                put_seconds, bad = asyncio.run(submit(base_url(rp), ssl_ctx(data), names, sent))
                if bad:
                    raise RuntimeError(f"{bad} PUTs failed")
                deadline = time.monotonic() + (600 if not self.quick else 300)
                while True:
                    read_started = time.monotonic()
                    counts = rp_state.counts()
                    read_seconds = time.monotonic() - read_started
                    leased_max = max(leased_max, counts.leased)
                    if counts.documents >= n and counts.terminal >= n:
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"only {counts.terminal}/{n} finished")
                    # reading every document costs ~0.1 ms each (json.loads of the bodies): keep this reader
                    # to ~1/4 of a core so it does not compete with the RP (0.1 s apart up to ~250 documents)
                    time.sleep(max(0.1, 3 * read_seconds))
                wall = time.time() - start
            cpu = cpu_since(rp, cpu0)
            memory = rp.memory()
            restarts = rp.records(lambda r: r.get("msg") == "restarting process")
            with RPState(data) as rp_state:
                clusters = rp_state.clusters()
            states: dict[str, int] = {}
            intervals, pickup, install = [], [], []
            owners: set[str] = set()
            for name in names:
                cluster = clusters[name]
                states[cluster.state] = states.get(cluster.state, 0) + 1
                first, last = cluster.span()
                intervals.append((first, last))
                pickup.append(first - sent[name])
                install.append(last - first)
                owners |= {owner_pid(s.owner) for s in cluster.steps}
            all_at_once = max(s for s, _ in intervals) < min(e for _, e in intervals)
            total_cpu = sum(cpu.values())
            return {
                "clusters": n,
                "stepDelaySeconds": delay,
                "backendWorkers": workers,
                "wallSeconds": round(wall, 2),
                "putSubmitSeconds": round(put_seconds, 2),
                "installsPerSecond": round(n / wall, 1),
                "serverCpuMsPerCreate": round(total_cpu * 1000 / n, 1),  # every process of `aro rp`
                "cpuMsPerCreateByProcess": {k: round(v * 1000 / n, 1) for k, v in cpu.items()},
                "serverCpuUtilisation": round(total_cpu / wall, 2),  # cores busy on average
                "cpuUtilisationByProcess": {k: round(v / wall, 2) for k, v in cpu.items()},
                "states": states,
                "succeeded": states.get("Succeeded", 0),
                "backendPeakRssMB": memory["backend"]["peakMB"],  # VmHWM of the one backend process
                "memoryMB": memory,  # per process at the end (rss, peak = VmHWM, pss) and their sums
                "memoryAtReadyMB": memory_ready,
                "maxLeasedSampled": leased_max,
                "maxInFlightFromHistory": max_overlap(intervals),
                "allInFlightAtOnce": all_at_once,
                "stepOwnerPids": sorted(owners),  # the processes that ran the steps: the one backend
                "backendPid": backend_pid,
                "backendRestarts": len(restarts),
                "pickupSeconds": {"p50": round(pct(pickup, 50), 3), "p99": round(pct(pickup, 99), 3)},
                "installSeconds": {"p50": round(pct(install, 50), 3), "max": round(max(install), 3)},
            }
        finally:
            procs.close()

    # --- takeover -----------------------------------------------------------------------------------

    def takeover(self) -> dict[str, Any]:
        n = 50
        ttl = 5.0
        delay = 2.0
        data = self.dir("takeover")
        procs = self.procs()
        rp_state = RPState(data)  # opened on first use
        try:
            sim = procs.aro("simulator", data, env={"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": str(delay)})
            fe = procs.aro("frontend", data)
            backend_env = {
                "ARO_CLOUD_SIMULATOR_ENDPOINT": base_url(sim),
                "ARO_BACKEND_LEASE_SECONDS": str(ttl),
            }
            a = procs.aro("backend", data, env=backend_env)
            log(f"takeover: {n} installs on backend A (step delay {delay:g}s, lease TTL {ttl:g}s), then SIGKILL A")
            names = [f"t{i:03d}" for i in range(n)]
            a_owner = f"-{a.pid}-"
            mid_flight(base_url(fe), data, names, rp_state, lambda owner: a_owner in str(owner), "on A")
            a.kill()
            killed = time.time()
            procs.aro("backend", data, env=backend_env)
            b_ready = time.time() - killed
            deadline = time.monotonic() + ttl + 60
            resumed: dict[str, float] = {}
            while len(resumed) < n:
                for name, c in rp_state.clusters().items():
                    starts = [s.started for s in c.steps if a_owner not in s.owner]
                    if starts:
                        resumed[name] = min(starts)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"B resumed only {len(resumed)}/{n}")
                time.sleep(0.05)
            after = [resumed[k] - killed for k in names]
            return {
                "clusters": n,
                "leaseSeconds": ttl,
                "heartbeatSeconds": round(ttl / 6, 3),
                "pollSeconds": backend_defaults().poll_seconds,
                "stepDelaySeconds": delay,
                "backendBReadySeconds": round(b_ready, 2),
                "allResumedSeconds": round(max(after), 2),
                "firstResumedSeconds": round(min(after), 2),
                "p50ResumedSeconds": round(pct(after, 50), 2),
                "goalSeconds": ttl + 1,
            }
        finally:
            rp_state.close()
            procs.close()

    # --- restart of the backend child ---------------------------------------------------------------

    def restart(self) -> dict[str, Any]:
        n = 20 if self.quick else 50
        ttl = 3.0
        delay = 0.5
        data = self.dir("restart")
        procs = self.procs()
        rp_state = RPState(data)  # opened on first use
        env = {"ARO_BACKEND_LEASE_SECONDS": str(ttl), "ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": str(delay)}
        try:
            rp = procs.aro("rp", data, env=env)
            old_pid = rp.pids("backend")[0]
            frontend_pids = rp.pids("frontend")
            log(f"restart: {n} installs in `aro rp` (step delay {delay:g}s, lease {ttl:g}s), then SIGKILL the backend")
            names = [f"r{i:03d}" for i in range(n)]
            owned = lambda owner: owner_pid(owner) == str(old_pid)  # noqa: E731
            mid = mid_flight(base_url(rp), data, names, rp_state, owned, "in the backend")
            steps_done = sum(len([s for s in c.steps if s.ended]) for c in mid)
            os.kill(old_pid, signal.SIGKILL)
            killed = time.time()
            again = rp.wait_for(lambda r: r.get("msg") == "process ready again" and r.get("proc") == "backend", 60)
            restart_seconds = line_time(again) - killed
            new_pid = str(again.get("pid"))
            deadline = time.monotonic() + ttl + 120
            resumed: dict[str, float] = {}
            finished: dict[str, float] = {}  # when the bench saw it terminal (Succeeded, or not)
            while len(finished) < n:
                now = time.time()
                for name, c in rp_state.clusters().items():
                    starts = [s.started for s in c.steps if owner_pid(s.owner) == new_pid]
                    if starts and name not in resumed:
                        resumed[name] = min(starts)
                    if c.terminal and name not in finished:
                        finished[name] = now
                if time.monotonic() > deadline:
                    raise TimeoutError(f"after the restart: {len(resumed)}/{n} resumed, {len(finished)}/{n} finished")
                time.sleep(0.05)
            clusters = rp_state.clusters()
            exited = rp.records(
                lambda r: r.get("msg") == "process exited: restarting it" and r.get("proc") == "backend"
            )
            after = [resumed[k] - killed for k in names if k in resumed]
            others_kept = rp.pids("frontend") == frontend_pids and all(alive(p) for p in frontend_pids)
            # SIGTERM with installs in flight (not a goal: the idle figure is coldstart's)
            more = [f"s{i:03d}" for i in range(n)]
            asyncio.run(submit(base_url(rp), ssl_ctx(data), more, {}))
            deadline = time.monotonic() + 60
            while sum(c.state == "Creating" and bool(c.current_step) for c in rp_state.clusters().values()) < n:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            stop_busy = rp.stop()
            return {
                "clusters": n,
                "leaseSeconds": ttl,
                "stepDelaySeconds": delay,
                "stepsFinishedBeforeKill": steps_done,
                "oldBackendPid": old_pid,
                "newBackendPid": int(new_pid) if new_pid.isdigit() else new_pid,
                "exitLogged": [
                    {"exitCode": r.get("exitCode"), "restartInSeconds": r.get("restartInSeconds")} for r in exited
                ],
                "readyAgainSeconds": round(restart_seconds, 3),
                "resumedByNewBackend": len(after),
                "firstResumedSeconds": round(min(after), 2) if after else None,
                "allResumedSeconds": round(max(after), 2) if after else None,
                "allFinishedSeconds": round(max(finished.values()) - killed, 2),  # all terminal (Succeeded or not)
                "succeeded": sum(clusters[k].state == "Succeeded" for k in names),
                "states": dict(collections.Counter(clusters[k].state for k in names)),
                "frontendsUntouched": others_kept,
                "stopWithInstallsInFlightSeconds": None if stop_busy is None else round(stop_busy, 3),
                "installsInFlightAtStop": n,
            }
        finally:
            rp_state.close()
            procs.close()

    # --- list ---------------------------------------------------------------------------------------

    def list(self) -> dict[str, Any]:
        n = 2000 if self.quick else 10000
        data = self.dir("list")
        procs = self.procs()
        try:
            rp = procs.aro("rp", data)
            with httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=30) as c:
                create_and_wait(c, "template")
            rp.stop()
            log(f"list: seeding {n} Succeeded clusters into subscription {LIST_SUB} with the store API")
            ids = [cluster_url(f"list{i:05d}", rg=f"rg{i % 10}", sub=LIST_SUB) for i in range(n)]
            seeded, how = seed_clusters(data, cluster_url("template"), LIST_SUB, ids)
            rp = procs.aro("rp", data)
            frontends = rp.pids("frontend")  # the processes serving the lists
            with (
                self.profiler.record("list", frontends[0]),
                httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=60) as c,
            ):
                url = f"/subscriptions/{LIST_SUB}/providers/Microsoft.RedHatOpenShift/openShiftClusters"
                c.get(url, params={"api-version": V, "$top": "10"})  # warm-up
                rss_before = sum(proc_status(p).get("VmRSS", 0) for p in frontends)
                walks = {}
                for top, max_pages in (("100", None), ("1000", None), (None, 200)):
                    lat, items, pages = walk(c, url, top, max_pages)
                    walks[f"top{top or 'Default'}"] = {
                        "pages": pages,
                        "items": items,
                        "pageP50Ms": round(pct(lat, 50), 1),
                        "pageP99Ms": round(pct(lat, 99), 1),
                        "walkSeconds": round(sum(lat) / 1000, 2),
                    }
                    if top == "100" and items != n:
                        raise RuntimeError(f"listed {items} of {n} clusters")
                st = [proc_status(p) for p in frontends]
            return {
                "clusters": n,
                "seededWith": f"{how} (copies of a cluster installed through the RP), before `aro rp` started",
                "seedSeconds": round(seeded, 2),
                "walks": walks,
                **frontend_memory(rss_before, st),
                "memoryAfterMB": rp.memory(),
            }
        finally:
            procs.close()

    # --- ledger -------------------------------------------------------------------------------------

    def ledger(self) -> dict[str, Any]:
        n = 2000 if self.quick else 10000
        requests = 50 if self.quick else 200
        orgs = LEDGER_ORGANIZATIONS
        data = self.dir("ledger")
        procs = self.procs()
        try:
            procs.aro("rp", data).stop()  # the data directory as an RP leaves it: certificates, key, store
            log(f"ledger: seeding {n} subscriptions in {orgs} organizations through aro.ledger's API")
            seed = seed_ledger(data, n, orgs)
            log(f"ledger: seeded in {seed.seconds:.1f}s: {seed.statuses}, plans {seed.plans}, {seed.labels} labels")
            rp = procs.aro("rp", data)
            frontends = rp.pids("frontend")
            member_tenant = ledger_tenant(0)
            member_user = f"user-{LEDGER_USERS - 3}"  # user-7: an account of every organization
            with (
                self.profiler.record("ledger", frontends[0]),
                httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=60) as member,
                httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=60) as sre,
            ):
                for c, who in (
                    (member, {"username": member_user, "organization": member_tenant, "groups": []}),
                    (sre, {"username": "sre-bench", "organization": member_tenant, "groups": ["aro-sre"]}),
                ):
                    r = c.post("/api/auth/token", json=who)
                    assert r.status_code == 200, r.text[:500]
                    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
                rng = random.Random(7)
                ids = seed.subscription_ids
                recs = seed.records
                aro_not_hosted = sum(s in ("Stale", "Reserved") and p == "ARO" for _, s, p, _ in recs)
                # (figure, client, path ({id}: a random subscription of the seed), params, expected total)
                queries: list[tuple[str, httpx.Client, str, dict[str, str], int | None]] = [
                    (
                        "memberActive",
                        member,
                        "/subscriptions",
                        {"search": "status = 'Active'", "size": "100"},
                        sum(k == 0 and s == "Active" for k, s, _, _ in recs),
                    ),
                    (
                        "sreDisplayNameLike",
                        sre,
                        "/subscriptions",
                        {"search": "display_name like 'cluster-0004%'", "size": "100"},
                        sum(name.startswith("cluster-0004") for *_, name in recs),
                    ),
                    (
                        "sreStatusInPlanOrderPage3",
                        sre,
                        "/subscriptions",
                        {
                            "search": "status in ('Stale','Reserved') and plan.category = 'ARO'",
                            "order": "display_name asc",
                            "size": "100",
                            "page": "3",
                        },
                        aro_not_hosted,
                    ),
                    ("sreFetchLabels", sre, "/subscriptions", {"size": "100", "fetchLabels": "true"}, n),
                    ("sreGetById", sre, "/subscriptions/{id}", {}, None),
                    (
                        "sreAccountsByUsername",
                        sre,
                        "/accounts",
                        {"search": f"username = '{member_user}'"},
                        orgs,
                    ),
                    ("sreOrganizations", sre, "/organizations", {"size": "100"}, orgs),
                ]
                for _, c, path, params, _ in queries:  # warm-up: imports, caches, the first connection
                    for _ in range(3):
                        assert c.get(AMS + path.format(id=ids[0]), params=params).status_code == 200
                rss_before = sum(proc_status(p).get("VmRSS", 0) for p in frontends)
                figures: dict[str, Any] = {}
                for name, c, path, params, expected in queries:
                    lat: list[float] = []
                    cpu0 = rp.cpu().get("frontend", 0.0)
                    page: dict[str, Any] = {}
                    for _ in range(requests):
                        url = AMS + path.format(id=rng.choice(ids))
                        t = time.perf_counter()
                        r = c.get(url, params=params)
                        lat.append((time.perf_counter() - t) * 1000)
                        assert r.status_code == 200, f"{name}: {r.status_code} {r.text[:300]}"
                        page = r.json()
                    cpu = rp.cpu().get("frontend", 0.0) - cpu0
                    one: dict[str, Any] = {
                        "request": f"GET {AMS}{path}" + (f"?{httpx.QueryParams(params)}" if params else ""),
                        "requests": requests,
                        "p50Ms": round(pct(lat, 50), 1),
                        "p99Ms": round(pct(lat, 99), 1),
                        "maxMs": round(max(lat), 1),
                        "frontendCpuMsPerRequest": round(cpu * 1000 / requests, 2),
                        "bytes": len(r.content),
                    }
                    if "total" in page:
                        one |= {"total": page["total"], "expectedTotal": expected, "items": len(page["items"])}
                        if name == "sreFetchLabels":
                            one["itemsWithLabels"] = sum(bool(i.get("labels")) for i in page["items"])
                    figures[name] = one
                    log(f"ledger: {name}: p50 {one['p50Ms']} ms, p99 {one['p99Ms']} ms, total {one.get('total')}")
                st = [proc_status(p) for p in frontends]
            mismatched = [k for k, v in figures.items() if "total" in v and v["total"] != v["expectedTotal"]]
            return {
                "subscriptions": n,
                "organizations": orgs,
                "seededWith": f"{seed.how}, before `aro rp` started",
                "seedSeconds": round(seed.seconds, 2),
                "statuses": seed.statuses,
                "plans": seed.plans,
                "subscriptionsWithLabels": seed.labelled,
                "accounts": seed.accounts,
                "requestsEach": requests,
                "queries": figures,
                "totalsMismatched": mismatched,
                **frontend_memory(rss_before, st),
                "memoryAfterMB": rp.memory(),
            }
        finally:
            procs.close()

    # --- cold start and stop ------------------------------------------------------------------------

    def coldstart(self) -> dict[str, Any]:
        runs = 3 if self.quick else 5
        base = self.dir("coldstart").parent
        fresh: list[Proc] = []
        again: list[Proc] = []
        stops: list[float | None] = []
        stops_again: list[float | None] = []
        leftover: list[str] = []
        log(
            f"coldstart: aro rp spawn -> the supervisor's ready line (and /healthz/ready), then SIGTERM -> exit; "
            f"{runs}x on a fresh data directory, {runs}x again on it"
        )
        failed: list[str] = []  # starts that exited instead of getting ready (not retried: counted)
        i = 0
        while len(again) < runs and i < runs + 3:
            procs = self.procs()
            try:
                for into, stop_into in ((fresh, stops), (again, stops_again)):
                    p = procs.aro("rp", base / f"data{i}", healthz=True, retry=False)
                    into.append(p)
                    stop_into.append(p.stop(timeout=15))
                    leftover += p.leftover()
            except RuntimeError as e:
                failed.append(str(e).splitlines()[0])
                log(f"coldstart: a start failed: {failed[-1]}")
                del fresh[len(again) :]  # a pair counts whole
                del stops[len(again) :]
            finally:
                procs.close()
                i += 1
        if len(again) < runs:
            raise RuntimeError(f"{len(failed)} starts failed: {failed[-1]}")

        def med(values: list[float | None]) -> float | None:
            known = [v for v in values if v is not None]
            return round(statistics.median(known), 3) if len(known) == len(values) and known else None

        def figures(ps: list[Proc], stop: list[float | None]) -> dict[str, Any]:
            return {
                "readyMedianSeconds": med([p.ready_seconds for p in ps]),
                "healthzReadyMedianSeconds": med([p.healthz_seconds for p in ps]),
                "supervisorStartMedianSeconds": med([p.info.get("startSeconds") for p in ps]),
                "sigtermToExitMedianSeconds": med(stop),
                "ready": [round(p.ready_seconds, 3) for p in ps],
                "healthzReady": [None if p.healthz_seconds is None else round(p.healthz_seconds, 3) for p in ps],
                "sigtermToExit": [None if x is None else round(x, 3) for x in stop],
            }

        return {
            "runs": runs,
            "fresh": figures(fresh, stops),
            "existingDataDirectory": figures(again, stops_again),
            "processesLeftAfterExit": leftover,
            "startFailures": failed,
        }


def mid_flight(url: str, data: Path, names: list[str], rp_state: Any, owned: Any, where: str) -> list[Any]:
    """PUT a create of every name, then wait (60 s at most) until each install is leased by ``owned`` (lease
    owner -> bool) and inside a step; returns those clusters."""
    _, bad = asyncio.run(submit(url, ssl_ctx(data), names, {}))
    if bad:
        raise RuntimeError(f"{bad} PUTs failed")
    deadline = time.monotonic() + 60
    while True:
        mid = [
            c for c in rp_state.clusters().values() if owned(c.lease_owner) and c.state == "Creating" and c.current_step
        ]
        if len(mid) == len(names):
            return mid
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(mid)}/{len(names)} installs mid-flight {where}")
        time.sleep(0.05)


def backend_defaults() -> Any:
    from aro.env.config import BackendConfig

    return BackendConfig()


def create_and_wait(c: httpx.Client, name: str) -> None:
    """Create one cluster and wait for its operation to succeed."""
    r = c.put(cluster_url(name), params={"api-version": V}, json=body(name))
    assert r.status_code == 201, r.text
    wait_op(c, r.headers["azure-asyncoperation"], 60)


def wait_op(c: httpx.Client, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = c.get(url).json()["status"]
        if status == "Succeeded":
            return
        if status in ("Failed", "Canceled"):
            raise RuntimeError(f"operation {status}")
        time.sleep(0.02)
    raise TimeoutError("operation did not finish")


def walk(c: httpx.Client, url: str, top: str | None, max_pages: int | None) -> tuple[list[float], int, int]:
    params = {"api-version": V} | ({"$top": top} if top else {})
    next_url: str | None = url
    lat: list[float] = []
    items = 0
    while next_url and (max_pages is None or len(lat) < max_pages):
        t = time.perf_counter()
        r = c.get(next_url, params=params if next_url == url else None)
        lat.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text[:500]
        page = r.json()
        items += len(page["value"])
        next_url = page.get("nextLink")
    return lat, items, len(lat)


def frontend_memory(rss_before: float, after: list[dict[str, Any]]) -> dict[str, float]:
    """The frontends' RSS before a scenario's requests, after them, and its growth (to the high-water mark)."""
    return {
        "frontendRssBeforeMB": round(rss_before / MB, 1),
        "frontendRssAfterMB": round(sum(x.get("VmRSS", 0) for x in after) / MB, 1),
        "frontendRssGrowthMB": round((sum(x.get("VmHWM", 0) for x in after) - rss_before) / MB, 1),
    }


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def combine(results: list[LoadResult]) -> LoadResult:
    """Rounds of one load as one: mean req/s, CPU per request over every request, p50 mean, p99 max."""
    if len(results) == 1:
        return results[0]
    n = sum(r.requests for r in results)
    roles = {k for r in results for k in r.cpu_ms}
    cpu = {k: sum(r.cpu_ms.get(k, 0.0) * r.requests for r in results) / n for k in roles} if n else {}
    out = LoadResult(
        statistics.mean(r.rps for r in results),
        n,
        sum(r.bad for r in results),
        statistics.mean(r.p50_ms for r in results),
        max(r.p99_ms for r in results),
        results[0].generator,
        sum(r.duration for r in results),
    )
    out.cpu_ms = cpu
    out.server_cpu_ms = sum(r.server_cpu_ms * r.requests for r in results) / n if n else float("nan")
    return out


def cpu_since(p: Proc, before: dict[str, float]) -> dict[str, float]:
    """CPU seconds per role since ``before`` (``Proc.cpu``)."""
    return {k: v - before.get(k, 0.0) for k, v in p.cpu().items()}


def owner_pid(owner: str | None) -> str:
    """The pid in a lease owner / step owner (``<host>-<pid>-<pool>-<worker>``)."""
    parts = str(owner).rsplit("-", 3)
    return parts[1] if len(parts) == 4 else ""
