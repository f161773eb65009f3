"""The scenarios: each starts its own servers on a fresh data directory under bench-results/work/, drives
them, and returns its figures as a dict (see run.py's docstring for what each one measures)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import CONNECTIONS, MB, WORK, log, pct
from loadgen import LoadGen, put_body_bytes, submit
from procs import Procs, base_url, proc_cpu, proc_status, ssl_ctx
from profiler import Profiler
from state import RPState, seed_clusters
from tests.backend.helpers import V, body, cluster_url

SCENARIOS = ["throughput", "latency", "creates0", "creates1", "takeover", "list", "coldstart"]
LIST_SUB = "22222222-3333-4444-5555-666666666666"


@dataclass
class Bench:
    quick: bool
    loadgen: LoadGen
    profiler: Profiler

    def run(self, name: str) -> dict[str, Any]:
        """Run the scenario ``name`` (one of SCENARIOS)."""
        steps: dict[str, Callable[[], dict[str, Any]]] = {
            "throughput": self.throughput,
            "latency": self.latency,
            "creates0": lambda: self.creates(0.0, profile=True),
            "creates1": lambda: self.creates(1.0),
            "takeover": self.takeover,
            "list": self.list,
            "coldstart": self.coldstart,
        }
        return steps[name]()

    def dir(self, name: str) -> Path:
        d = WORK / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d / "data"

    # --- throughput ---------------------------------------------------------------------------------

    def throughput(self) -> dict[str, Any]:
        seconds = 5 if self.quick else 8
        data = self.dir("throughput")
        procs = Procs()
        try:
            rp = procs.aro("rp", data)
            with httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=30) as c:
                create_and_wait(c, "getme")
                assert c.get(cluster_url("getme"), params={"api-version": V}).status_code == 200
            bare = procs.bare(data / "certs")
            get_aro = f"{base_url(rp)}{cluster_url('getme')}?api-version={V}"
            get_bare = f"{base_url(bare)}{cluster_url('getme')}?api-version={V}"
            log(f"throughput: GET, {CONNECTIONS} connections, {seconds}s each ({self.loadgen.name})")
            self.loadgen.get(get_aro, 1)  # warm-up
            self.loadgen.get(get_bare, 1)
            with self.profiler.record("get", rp.pid):
                g_aro = self.loadgen.get(get_aro, seconds, rp.pid)
            g_bare = self.loadgen.get(get_bare, seconds, bare.pid)
            log(f"throughput: PUT create, {CONNECTIONS} connections, {seconds}s each")
            root = cluster_url("x")[:-1]
            p_bare = self.loadgen.put(f"{base_url(bare)}{root}", "b", seconds, bare.pid)
            with self.profiler.record("put", rp.pid):
                p_aro = self.loadgen.put(f"{base_url(rp)}{root}", "p", seconds, rp.pid)
            rss = proc_status(rp.pid)
            with RPState(data) as rp_state:
                counts = rp_state.counts()
            rp.kill()  # its backend would go on installing what the PUTs created
            # the frontend's own cost, without a backend competing for the process
            fe_data = data.parent / "frontend-only"
            fe = procs.aro("frontend", fe_data)
            p_fe = self.loadgen.put(f"{base_url(fe)}{root}", "f", seconds, fe.pid)
            return {
                "loadGenerator": self.loadgen.name,
                "connections": CONNECTIONS,
                "get": {"aro": g_aro.as_dict(), "bare": g_bare.as_dict(), "ratio": round(g_aro.rps / g_bare.rps, 3)},
                "put": {
                    "aro": p_aro.as_dict(),
                    "bare": p_bare.as_dict(),
                    "ratio": round(p_aro.rps / p_bare.rps, 3),
                    "clustersCreated": counts.documents - 1,
                    "installsFinishedDuringLoad": counts.terminal - 1,
                    "rpRssAfterMB": round(rss.get("VmRSS", 0) / MB, 1),
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
        procs = Procs()
        try:
            rp = procs.aro("rp", data)
            log(f"latency: {n} creates one at a time, operationsstatus polled every 5 ms")
            sent: dict[str, float] = {}
            accepted: dict[str, float] = {}
            done: dict[str, float] = {}
            polls: list[int] = []
            cpu0 = 0.0
            with (
                self.profiler.record("latency", rp.pid),
                httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=30) as c,
            ):
                for i in range(-3, n):  # three warm-ups, not counted
                    if i == 0:
                        cpu0 = proc_cpu(rp.pid)
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
            cpu_per_create = (proc_cpu(rp.pid) - cpu0) * 1000 / n
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
                "serverCpuMsPerCreate": round(cpu_per_create, 1),  # PUT + install + the polls, all threads
            }
        finally:
            procs.close()

    # --- 1,000 concurrent creates -------------------------------------------------------------------

    def creates(self, delay: float, profile: bool = False) -> dict[str, Any]:
        n = 200 if self.quick else 1000
        workers = max(n, 200)
        tag = f"creates-delay{delay:g}"
        data = self.dir(tag)
        procs = Procs()
        try:
            rp = procs.aro(
                "rp",
                data,
                env={"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": str(delay), "ARO_BACKEND_WORKERS": str(workers)},
            )
            rss_ready = proc_status(rp.pid).get("VmRSS", 0)
            log(f"creates: {n} concurrent creates at step delay {delay:g}s (backend.workers={workers})")
            names = [f"c{i:04d}" for i in range(n)]
            sent: dict[str, float] = {}
            leased_max = 0
            recording = self.profiler.record(tag, rp.pid) if profile else contextlib.nullcontext()
            with recording, RPState(data) as rp_state:
                cpu0 = proc_cpu(rp.pid)
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
            cpu = proc_cpu(rp.pid) - cpu0
            st = proc_status(rp.pid)
            with RPState(data) as rp_state:
                clusters = rp_state.clusters()
            states: dict[str, int] = {}
            intervals, pickup, install = [], [], []
            for name in names:
                cluster = clusters[name]
                states[cluster.state] = states.get(cluster.state, 0) + 1
                first, last = cluster.span()
                intervals.append((first, last))
                pickup.append(first - sent[name])
                install.append(last - first)
            all_at_once = max(s for s, _ in intervals) < min(e for _, e in intervals)
            return {
                "clusters": n,
                "stepDelaySeconds": delay,
                "backendWorkers": workers,
                "wallSeconds": round(wall, 2),
                "putSubmitSeconds": round(put_seconds, 2),
                "installsPerSecond": round(n / wall, 1),
                "serverCpuMsPerCreate": round(cpu * 1000 / n, 1),
                "serverCpuUtilisation": round(cpu / wall, 2),  # cores busy on average
                "states": states,
                "peakRssMB": round(st.get("VmHWM", 0) / MB, 1),
                "rssAtReadyMB": round(rss_ready / MB, 1),
                "maxLeasedSampled": leased_max,
                "maxInFlightFromHistory": max_overlap(intervals),
                "allInFlightAtOnce": all_at_once,
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
        procs = Procs()
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
            sent: dict[str, float] = {}
            _, bad = asyncio.run(submit(base_url(fe), ssl_ctx(data), names, sent))
            if bad:
                raise RuntimeError(f"{bad} PUTs failed")
            a_owner = f"-{a.pid}-"
            deadline = time.monotonic() + 60
            while True:  # every install leased by A and inside a step
                mid = [
                    c
                    for c in rp_state.clusters().values()
                    if a_owner in str(c.lease_owner) and c.state == "Creating" and c.current_step
                ]
                if len(mid) == n:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {len(mid)}/{n} installs mid-flight on A")
                time.sleep(0.05)
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

    # --- list ---------------------------------------------------------------------------------------

    def list(self) -> dict[str, Any]:
        n = 2000 if self.quick else 10000
        data = self.dir("list")
        procs = Procs()
        try:
            rp = procs.aro("rp", data)
            with httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=30) as c:
                create_and_wait(c, "template")
            rp.stop()
            log(f"list: seeding {n} Succeeded clusters into subscription {LIST_SUB} with the store API")
            ids = [cluster_url(f"list{i:05d}", rg=f"rg{i % 10}", sub=LIST_SUB) for i in range(n)]
            seeded, how = seed_clusters(data, cluster_url("template"), LIST_SUB, ids)
            rp = procs.aro("rp", data)
            with (
                self.profiler.record("list", rp.pid),
                httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=60) as c,
            ):
                url = f"/subscriptions/{LIST_SUB}/providers/Microsoft.RedHatOpenShift/openShiftClusters"
                c.get(url, params={"api-version": V, "$top": "10"})  # warm-up
                rss_before = proc_status(rp.pid).get("VmRSS", 0)
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
                st = proc_status(rp.pid)
            return {
                "clusters": n,
                "seededWith": f"{how} (copies of a cluster installed through the RP), before `aro rp` started",
                "seedSeconds": round(seeded, 2),
                "walks": walks,
                "rssBeforeMB": round(rss_before / MB, 1),
                "rssAfterMB": round(st.get("VmRSS", 0) / MB, 1),
                "rssGrowthMB": round((st.get("VmHWM", 0) - rss_before) / MB, 1),
            }
        finally:
            procs.close()

    # --- cold start ---------------------------------------------------------------------------------

    def coldstart(self) -> dict[str, Any]:
        runs = 3 if self.quick else 5
        base = self.dir("coldstart").parent
        fresh, restart = [], []
        log(f"coldstart: aro rp spawn -> /healthz/ready, {runs}x fresh data directory, {runs}x restart")
        for i in range(runs):
            procs = Procs()
            try:
                p = procs.aro("rp", base / f"data{i}")
                fresh.append(p.ready_seconds)
                p.stop()
                p = procs.aro("rp", base / f"data{i}")
                restart.append(p.ready_seconds)
                p.stop()
            finally:
                procs.close()
        return {
            "runs": runs,
            "freshMedianSeconds": round(statistics.median(fresh), 3),
            "restartMedianSeconds": round(statistics.median(restart), 3),
            "fresh": [round(x, 3) for x in fresh],
            "restart": [round(x, 3) for x in restart],
        }


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


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best
