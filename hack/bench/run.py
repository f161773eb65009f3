#!/usr/bin/env python3
"""`make bench`: the RP's performance figures, all measured in one run, printed as one table and written
to ``bench-results/bench.json``. Benchmarks never fail the build: a scenario that breaks is reported as
an error in the table and the run goes on.

Scenarios (every server is a real subprocess on its own data directory under bench-results/work/):

- throughput   GET cluster and PUT create (a new name per request) req/s at 32 connections against
               ``aro rp`` (backend running, step delay 0), and the same load against a bare FastAPI app
               (hack/bench/bare_app.py) served by the same ``HTTPSServer`` over the same TLS certificate;
               load from ``wrk`` when installed, else an asyncio httpx generator (the output says which).
- latency      PUT create -> first operationsstatus poll showing Succeeded (polled every ~5 ms), one
               cluster at a time, with backend pickup / install / finish split out of the stored step
               history (``openShiftCluster.properties.install.history``).
- creates      1,000 concurrent creates at step delay 0 and 1 s: wall time to all Succeeded, peak RSS
               (VmHWM) of ``aro rp``, and how many installs were in flight at once (sampled lease count
               from the store, and the overlap of the stored step histories).
- takeover     ``aro simulator`` + ``aro frontend`` + backend A with 50 installs mid-flight; SIGKILL A,
               start B; time from the kill until B has started a step of every one of the 50 clusters.
- list         10,000 clusters in one subscription, seeded straight into the embedded store with the
               store API, then listed page by page: page latency and the server's RSS growth.
- coldstart    ``aro rp`` spawn -> /healthz/ready 200, median of 5 (fresh data directory, and restart).

Usage: python hack/bench/run.py [--only throughput,latency,...] [--quick] [--profile] [--httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import ssl
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.backend.helpers import SUB, V, body, cluster_url  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = REPO / "bench-results"
WORK = RESULTS / "work"
ARO = [sys.executable, "-m", "aro_cmd.main"]
CONNECTIONS = 32
LIST_SUB = "22222222-3333-4444-5555-666666666666"

# What every server of the benchmark runs with: the documented defaults except the knobs the scenarios
# are defined by (simulator on any free port, no simulated latency, no Retry-After).
BENCH_ENV = {
    "ARO_CLOUD_SIMULATOR_PORT": "0",
    "ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0",
    "ARO_FRONTEND_RETRY_AFTER_SECONDS": "0",
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (bytes) of a process."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024
    return out


MB = 1024 * 1024
_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


# --- processes --------------------------------------------------------------------------------------


@dataclass
class Proc:
    """One `aro <command>` (or other) subprocess, with its log in the work directory."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    log_path: Path
    ready_url: str | None = None  # GET -> 200 means ready; else a '"msg": "ready"' log line
    ready_line: str = '"msg": "ready"'
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    ready_seconds: float = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60) -> Proc:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("wb"),
        )
        self.wait_ready(timeout)
        self.ready_seconds = time.monotonic() - self.started_at
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = httpx.Client(verify=False, timeout=2) if self.ready_url else None
        try:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited {self.proc.returncode}:\n{self.log()[-3000:]}")
                if client is not None:
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(self.ready_url).status_code == 200:  # type: ignore[arg-type]
                            return
                elif self.ready_line in self.log():
                    return
                time.sleep(0.01)
        finally:
            if client is not None:
                client.close()
        raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{self.log()[-3000:]}")

    def ready_info(self) -> dict[str, Any]:
        for line in self.log().splitlines():
            if '"msg": "ready"' in line:
                return dict(json.loads(line))
        return {}

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 30) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Procs:
    """Every process started by a scenario; all are killed when it ends."""

    def __init__(self) -> None:
        self.all: list[Proc] = []

    def aro(
        self,
        command: str,
        data_dir: Path,
        env: dict[str, str] | None = None,
        port: int | None = None,
        timeout: float = 60,
        start: bool = True,
    ) -> Proc:
        base = {k: v for k, v in os.environ.items() if not k.startswith("ARO_")}
        full_env = {**base, **BENCH_ENV, **(env or {})}
        cmd = [*ARO, command, "--data-dir", str(data_dir)]
        ready_url = None
        if command != "backend":
            port = port or free_port()
            cmd += ["--port", str(port)]
            if command in ("rp", "frontend"):
                ready_url = f"https://127.0.0.1:{port}/healthz/ready"
        p = Proc(
            f"aro {command}",
            cmd,
            full_env,
            data_dir.parent / f"{data_dir.name}-{command}-{len(self.all)}.log",
            ready_url,
            port=port,
        )
        self.all.append(p)
        return p.start(timeout) if start else p

    def bare(self, certs: Path) -> Proc:
        port = free_port()
        p = Proc(
            "bare FastAPI",
            [sys.executable, str(HERE / "bare_app.py"), "--port", str(port), "--certs", str(certs)],
            {k: v for k, v in os.environ.items() if not k.startswith("ARO_")},
            certs.parent / "bare.log",
            f"https://127.0.0.1:{port}/healthz",
            port=port,
        )
        self.all.append(p)
        return p.start()

    def close(self) -> None:
        for p in self.all:
            p.kill()


def base_url(p: Proc) -> str:
    return f"https://127.0.0.1:{p.port}"


def ssl_ctx(data_dir: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(data_dir / "certs" / "ca.crt"))


# --- the embedded store, read from the outside ------------------------------------------------------


@contextlib.contextmanager
def store_reader(data_dir: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{data_dir / 'aro.db'}?mode=ro", uri=True, timeout=30, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def cluster_counts(conn: sqlite3.Connection, partition: str = SUB.lower()) -> tuple[int, int, int]:
    """(documents, terminal, leased now) of the cluster container, from the indexed columns only."""
    row = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(claimable = 0), 0), "
        "COALESCE(SUM(lease_owner IS NOT NULL AND lease_expires > ?), 0) "
        "FROM documents WHERE container='openShiftClusters' AND partition_key=?",
        (time.time(), partition),
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def cluster_docs(data_dir: Path, partition: str = SUB.lower()) -> dict[str, dict[str, Any]]:
    """name (lower case) -> cluster document."""
    with store_reader(data_dir) as conn:
        rows = conn.execute(
            "SELECT body FROM documents WHERE container='openShiftClusters' AND partition_key=?", (partition,)
        ).fetchall()
    out = {}
    for (raw,) in rows:
        doc = json.loads(raw)
        out[doc["key"].rsplit("/", 1)[-1]] = doc
    return out


def history(doc: dict[str, Any]) -> list[dict[str, Any]]:
    install = doc.get("openShiftCluster", {}).get("properties", {}).get("install") or {}
    return list(install.get("history") or [])


def state(doc: dict[str, Any]) -> str:
    return str(doc.get("openShiftCluster", {}).get("properties", {}).get("provisioningState"))


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


# --- load generation --------------------------------------------------------------------------------


@dataclass
class LoadResult:
    rps: float
    requests: int
    bad: int  # non-2xx responses and socket errors
    p50_ms: float
    p99_ms: float
    generator: str
    duration: float
    server_cpu_ms: float = float("nan")  # server CPU time (all threads) per request

    def as_dict(self) -> dict[str, Any]:
        return {
            "rps": round(self.rps, 1),
            "serverCpuMsPerRequest": round(self.server_cpu_ms, 3),
            "requests": self.requests,
            "errors": self.bad,
            "p50Ms": round(self.p50_ms, 2),
            "p99Ms": round(self.p99_ms, 2),
            "seconds": self.duration,
        }


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


PUT_LUA = r"""
-- unique cluster names per request: <prefix><thread>x<counter>
local counter = 0
local prefix = "w"
local nthreads = 0
local body_tmpl = [==[@BODY@]==]
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
function init(args)
  prefix = (args[1] or "w") .. tostring(tid or 0) .. "x"  -- tid: a global set by setup()
end
function request()
  counter = counter + 1
  local name = prefix .. counter
  local b = (body_tmpl:gsub("ZZNAMEZZ", name))
  return wrk.format("PUT", "@PATH@" .. name .. "?api-version=@V@", {["Content-Type"] = "application/json"}, b)
end
"""


def put_body_bytes(name: str) -> bytes:
    b = body(name)
    b["properties"]["clusterProfile"]["domain"] = name + "dom"
    return json.dumps(b).encode()


class LoadGen:
    def __init__(self, force_httpx: bool, workdir: Path):
        self.wrk = None if force_httpx else shutil.which("wrk")
        self.workdir = workdir
        self.name = "wrk" if self.wrk else "httpx (asyncio, 32 clients)"
        if self.wrk:
            out = subprocess.run([self.wrk, "--version"], capture_output=True, text=True).stdout
            self.name = (out.splitlines() or ["wrk"])[0].split(" Copyright")[0].strip() + " (-t2)"

    def get(self, url: str, seconds: float, pid: int | None = None) -> LoadResult:
        cpu = proc_cpu(pid) if pid else 0.0
        if self.wrk:
            res = self._wrk([url], seconds)
        else:
            res = asyncio.run(self._httpx(url, "GET", None, seconds))
        if pid and res.requests:
            res.server_cpu_ms = (proc_cpu(pid) - cpu) * 1000 / res.requests
        return res

    def put(self, root: str, prefix: str, seconds: float, pid: int | None = None) -> LoadResult:
        """PUT <root>/<unique name> with a valid create body; ``root`` ends with '/'. The server CPU per
        request of ``pid`` counts all its work during the run (for ``aro rp``: installs too)."""
        cpu = proc_cpu(pid) if pid else 0.0
        res = self._put(root, prefix, seconds)
        if pid and res.requests:
            res.server_cpu_ms = (proc_cpu(pid) - cpu) * 1000 / res.requests
        return res

    def _put(self, root: str, prefix: str, seconds: float) -> LoadResult:
        if self.wrk:
            path = "/" + root.split("/", 3)[3]
            body_json = put_body_bytes("ZZNAMEZZ").decode()
            script = PUT_LUA.replace("@BODY@", body_json).replace("@PATH@", path).replace("@V@", V)
            lua = self.workdir / "put.lua"
            lua.write_text(script)
            base = "/".join(root.split("/", 3)[:3])
            return self._wrk(["-s", str(lua), base, "--", prefix], seconds)
        return asyncio.run(self._httpx(root, "PUT", prefix, seconds))

    def _wrk(self, args: list[str], seconds: float) -> LoadResult:
        assert self.wrk
        cmd = [self.wrk, "-t2", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s", *args]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        bad = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
        p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
        p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
        return LoadResult(
            rps,
            n,
            bad,
            _ms(p50.group(1)) if p50 else float("nan"),
            _ms(p99.group(1)) if p99 else float("nan"),
            self.name,
            seconds,
        )

    async def _httpx(self, url: str, method: str, prefix: str | None, seconds: float) -> LoadResult:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        latencies: list[float] = []
        bad = 0
        start = time.perf_counter()
        end = start + seconds

        async def worker(i: int) -> None:
            nonlocal bad
            limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
            async with httpx.AsyncClient(verify=ctx, limits=limits, timeout=30) as c:
                n = 0
                while time.perf_counter() < end:
                    n += 1
                    t = time.perf_counter()
                    try:
                        if method == "GET":
                            r = await c.get(url)
                        else:
                            name = f"{prefix}{i}x{n}"
                            r = await c.put(
                                f"{url}{name}",
                                params={"api-version": V},
                                content=put_body_bytes(name),
                                headers={"content-type": "application/json"},
                            )
                        if r.status_code >= 400:
                            bad += 1
                    except httpx.HTTPError:
                        bad += 1
                    latencies.append((time.perf_counter() - t) * 1000)

        await asyncio.gather(*(worker(i) for i in range(CONNECTIONS)))
        elapsed = time.perf_counter() - start
        return LoadResult(
            len(latencies) / elapsed, len(latencies), bad, pct(latencies, 50), pct(latencies, 99), self.name, seconds
        )


# --- profiling (optional) ---------------------------------------------------------------------------


class Profiler:
    """py-spy record on a pid while a block runs; writes collapsed stacks and a top-functions summary."""

    def __init__(self, enabled: bool):
        self.exe = shutil.which("py-spy") or (shutil.which("py-spy", path=str(Path(sys.executable).parent)))
        self.enabled = enabled and self.exe is not None
        if enabled and not self.exe:
            log("--profile: py-spy not found (pip install py-spy); profiling skipped")
        self.outputs: dict[str, str] = {}

    @contextlib.contextmanager
    def record(self, name: str, pid: int) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        raw = RESULTS / f"profile-{name}.txt"
        svg = RESULTS / f"profile-{name}.svg"
        cmd = [self.exe, "record", "--pid", str(pid), "--rate", "200", "--nonblocking", "--threads"]
        procs = [
            subprocess.Popen(
                [*cmd, "--format", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        ]
        time.sleep(0.5)
        try:
            yield
        finally:
            for p in procs:
                p.send_signal(signal.SIGINT)
            for p in procs:
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
            if raw.exists():
                summary = summarize_profile(raw)
                (RESULTS / f"profile-{name}.top.txt").write_text(summary)
                self.outputs[name] = str(raw)
                with contextlib.suppress(Exception):
                    flamegraph(raw, svg)
            else:
                log(f"profile {name}: py-spy wrote nothing: {(procs[0].stderr.read() or b'').decode()[-500:]}")  # type: ignore[union-attr]


def flamegraph(raw: Path, svg: Path) -> None:
    """Optional: render with `flamegraph.pl` when it is on PATH (py-spy's raw format is collapsed stacks)."""
    tool = shutil.which("flamegraph.pl") or shutil.which("inferno-flamegraph")
    if tool:
        with svg.open("wb") as out:
            subprocess.run([tool, str(raw)], stdout=out, check=False)


def summarize_profile(raw: Path, top: int = 40) -> str:
    """Top frames by self and by inclusive samples (main thread and all threads) from collapsed stacks."""
    self_n: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    threads: dict[str, int] = {}
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        threads[frames[0]] = threads.get(frames[0], 0) + n
        frames = [re.sub(r":\d+\)$", ")", f) for f in frames[1:]]  # drop line numbers
        if frames:
            self_n[frames[-1]] = self_n.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    out = [f"samples: {total}", "", "by thread:"]
    out += [f"  {n / total:6.1%}  {t}" for t, n in sorted(threads.items(), key=lambda x: -x[1])]
    out += ["", f"top {top} self:"]
    out += [f"  {n / total:6.1%}  {f}" for f, n in sorted(self_n.items(), key=lambda x: -x[1])[:top]]
    out += ["", f"top {top} inclusive:"]
    out += [f"  {n / total:6.1%}  {f}" for f, n in sorted(incl.items(), key=lambda x: -x[1])[:top]]
    return "\n".join(out) + "\n"


# --- scenarios --------------------------------------------------------------------------------------


@dataclass
class Bench:
    quick: bool
    loadgen: LoadGen
    profiler: Profiler
    results: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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
                r = c.put(cluster_url("getme"), params={"api-version": V}, json=body("getme"))
                assert r.status_code == 201, r.text
                wait_op(c, r.headers["azure-asyncoperation"], 60)
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
            with store_reader(data) as conn:
                docs, terminal, _ = cluster_counts(conn)
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
                    "clustersCreated": docs - 1,
                    "installsFinishedDuringLoad": terminal - 1,
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
            docs = cluster_docs(data)
            total = [(done[k] - sent[k]) * 1000 for k in sent]
            put_ms = [(accepted[k] - sent[k]) * 1000 for k in sent]
            pickup, install, finish = [], [], []
            for k in sent:
                h = history(docs[k])
                first = min(r["started"] for r in h)
                last = max(r.get("ended") or r["started"] for r in h)
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
            with recording, store_reader_later(data) as reader:
                cpu0 = proc_cpu(rp.pid)
                start = time.time()
                put_seconds, bad = asyncio.run(submit(base_url(rp), ssl_ctx(data), names, sent))
                if bad:
                    raise RuntimeError(f"{bad} PUTs failed")
                deadline = time.monotonic() + (600 if not self.quick else 300)
                while True:
                    docs_n, terminal, leased = cluster_counts(reader())
                    leased_max = max(leased_max, leased)
                    if docs_n >= n and terminal >= n:
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"only {terminal}/{n} finished")
                    time.sleep(0.1)
                wall = time.time() - start
            cpu = proc_cpu(rp.pid) - cpu0
            st = proc_status(rp.pid)
            docs = cluster_docs(data)
            states: dict[str, int] = {}
            intervals, pickup, install = [], [], []
            for name in names:
                d = docs[name]
                states[state(d)] = states.get(state(d), 0) + 1
                h = history(d)
                first = min(r["started"] for r in h)
                last = max(r.get("ended") or r["started"] for r in h)
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
                docs = cluster_docs(data)
                mid = [
                    d
                    for d in docs.values()
                    if a_owner in str(d.get("leaseOwner"))
                    and state(d) == "Creating"
                    and (d["openShiftCluster"]["properties"].get("install") or {}).get("currentStep")
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
                for name, d in cluster_docs(data).items():
                    starts = [r["started"] for r in history(d) if a_owner not in r["owner"]]
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
            procs.close()

    # --- list ---------------------------------------------------------------------------------------

    def list(self) -> dict[str, Any]:
        n = 2000 if self.quick else 10000
        data = self.dir("list")
        procs = Procs()
        try:
            rp = procs.aro("rp", data)
            with httpx.Client(base_url=base_url(rp), verify=ssl_ctx(data), timeout=30) as c:
                r = c.put(cluster_url("template"), params={"api-version": V}, json=body("template"))
                assert r.status_code == 201, r.text
                wait_op(c, r.headers["azure-asyncoperation"], 60)
            rp.stop()
            log(f"list: seeding {n} Succeeded clusters into subscription {LIST_SUB} with the store API")
            seeded, how = asyncio.run(seed(data, n))
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


@contextlib.contextmanager
def store_reader_later(data: Path) -> Iterator[Callable[[], sqlite3.Connection]]:
    """A read-only connection opened on first use (the store file exists once the RP has started)."""
    conn: sqlite3.Connection | None = None

    def get() -> sqlite3.Connection:
        nonlocal conn
        if conn is None:
            conn = sqlite3.connect(f"file:{data / 'aro.db'}?mode=ro", uri=True, timeout=30, isolation_level=None)
        return conn

    try:
        yield get
    finally:
        if conn is not None:
            conn.close()


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


async def submit(base: str, ctx: ssl.SSLContext, names: list[str], sent: dict[str, float]) -> tuple[float, int]:
    """PUT a create for every name from 32 concurrent clients; returns (seconds, failures)."""
    queue = list(reversed(names))
    bad = 0
    start = time.perf_counter()

    async def worker() -> None:
        nonlocal bad
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, verify=ctx, limits=limits, timeout=120) as c:
            while queue:
                name = queue.pop()
                sent[name] = time.time()
                r = await c.put(
                    cluster_url(name),
                    params={"api-version": V},
                    content=put_body_bytes(name),
                    headers={"content-type": "application/json"},
                )
                if r.status_code != 201:
                    bad += 1

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return time.perf_counter() - start, bad


async def seed(data: Path, n: int) -> tuple[float, str]:
    """Write ``n`` Succeeded clusters into LIST_SUB: copies of the installed 'template' cluster, each
    encoded by ClusterCodec (secrets sealed to its own key). Rows go in 500 per transaction through
    ``SQLiteStore.write`` and the container's own row encoding; if that internal API is gone, one
    ``container.create`` per document. Returns (seconds, how)."""
    from aro.database.clusters import ClusterCodec
    from aro.database.containers import ALL, OPENSHIFT_CLUSTERS
    from aro.database.sqlite import SQLiteStore
    from aro.util.crypto import Sealer, load_or_create_key

    started = time.perf_counter()
    codec = ClusterCodec(Sealer(load_or_create_key(data / "secret.key")))
    store = await SQLiteStore(data / "aro.db", ALL).open()
    try:
        clusters = store.container(OPENSHIFT_CLUSTERS.name)
        template = await clusters.get_by_key(cluster_url("template").lower(), SUB.lower())
        assert template is not None, "template cluster missing"
        oc = codec.decode(template)
        assert oc.properties.provisioning_state.value == "Succeeded"

        def make(i: int) -> dict[str, Any]:
            name = f"list{i:05d}"
            oc.id = cluster_url(name, rg=f"rg{i % 10}", sub=LIST_SUB)
            oc.name = name
            oc.properties.cluster_profile.resource_group_id = f"/subscriptions/{LIST_SUB}/resourceGroups/aro-{name}"
            oc.properties.cluster_profile.domain = name + "dom"
            doc = {
                "id": str(uuid.uuid4()),
                "partitionKey": LIST_SUB.lower(),
                "key": oc.id.lower(),
                "asyncOperationId": None,
                "dequeues": 0,
            }
            return codec.encode(doc, oc)

        stamp = getattr(clusters, "_stamp", None)
        if stamp is not None:
            how = "SQLiteStore.write (500 rows per transaction) + ClusterCodec.encode"
            for chunk in range(0, n, 500):
                docs = [make(i) for i in range(chunk, min(n, chunk + 500))]

                def insert(conn: sqlite3.Connection, docs: list[dict[str, Any]] = docs) -> None:
                    now = time.time()
                    rows = [stamp(dict(d), now) for d in docs]
                    conn.executemany(f"INSERT INTO documents VALUES ({','.join('?' * len(rows[0]))})", rows)

                await store.write(insert)
        else:
            how = "container.create + ClusterCodec.encode"
            for i in range(n):
                await clusters.create(make(i))
    finally:
        await store.close()
    return time.perf_counter() - started, how


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


# --- report -----------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem = ""
    with contextlib.suppress(OSError):
        mem = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("model name"))
    return {
        "cores": os.cpu_count(),
        "cpu": cpu.split(":", 1)[-1].strip(),
        "memTotalMB": int(mem.split()[1]) // 1024 if mem else None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadAverageAtStart": [round(x, 2) for x in os.getloadavg()],
    }


def get(d: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, goal, measured, met?) for the table."""
    out: list[tuple[str, str, str, str]] = []

    def add(label: str, goal: str, value: Any, fmt: str, ok: Callable[[Any], bool] | None = None) -> None:
        if value is None:
            out.append((label, goal, "-", "-"))
            return
        met = "-" if ok is None else ("yes" if ok(value) else "NO")
        out.append((label, goal, fmt.format(value), met))

    def err(section: str) -> bool:
        if isinstance(res.get(section), dict) and "error" in res[section]:
            out.append((f"{section}: ERROR", "", res[section]["error"][:60], "-"))
            return True
        return section not in res

    if not err("throughput"):
        t = res["throughput"]
        add("GET cluster req/s, aro rp", "", get(t, "get.aro.rps"), "{:,.0f}")
        add("GET req/s, bare FastAPI", "", get(t, "get.bare.rps"), "{:,.0f}")
        add("GET ratio aro/bare", ">= 0.50", get(t, "get.ratio"), "{:.2f}", lambda v: v >= 0.5)
        add("GET p50 / p99 ms, aro rp", "", f"{get(t, 'get.aro.p50Ms')} / {get(t, 'get.aro.p99Ms')}", "{}")
        add("PUT create req/s, aro rp", "", get(t, "put.aro.rps"), "{:,.0f}")
        add("PUT req/s, bare FastAPI", "", get(t, "put.bare.rps"), "{:,.0f}")
        add("PUT ratio aro/bare", ">= 0.25", get(t, "put.ratio"), "{:.2f}", lambda v: v >= 0.25)
        add("PUT p50 / p99 ms, aro rp", "", f"{get(t, 'put.aro.p50Ms')} / {get(t, 'put.aro.p99Ms')}", "{}")
        add("  PUT req/s, `aro frontend` alone", "", get(t, "put.frontendOnly.rps"), "{:,.0f}")
        add("  PUT ratio, frontend alone/bare", "", get(t, "put.frontendOnlyRatio"), "{:.2f}")
        add(
            "server CPU ms/req GET aro/bare",
            "",
            f"{get(t, 'get.aro.serverCpuMsPerRequest')} / {get(t, 'get.bare.serverCpuMsPerRequest')}",
            "{}",
        )
        add(
            "server CPU ms/req PUT rp/frontend/bare",
            "",
            f"{get(t, 'put.aro.serverCpuMsPerRequest')} / {get(t, 'put.frontendOnly.serverCpuMsPerRequest')}"
            f" / {get(t, 'put.bare.serverCpuMsPerRequest')}",
            "{}",
        )
        add("load errors (GET/PUT aro)", "0", f"{get(t, 'get.aro.errors')}/{get(t, 'put.aro.errors')}", "{}")
    if not err("latency"):
        lat = res["latency"]
        add("PUT->Succeeded p50 ms", "<= 150", get(lat, "putToSucceededMs.p50"), "{:.1f}", lambda v: v <= 150)
        add("PUT->Succeeded p99 ms", "<= 500", get(lat, "putToSucceededMs.p99"), "{:.1f}", lambda v: v <= 500)
        add(
            "  PUT response p50/p99 ms",
            "",
            f"{get(lat, 'putResponseMs.p50')} / {get(lat, 'putResponseMs.p99')}",
            "{}",
        )
        add(
            "  backend pickup p50/p99 ms",
            "",
            f"{get(lat, 'backendPickupMs.p50')} / {get(lat, 'backendPickupMs.p99')}",
            "{}",
        )
        add("  server CPU ms per create (PUT+install)", "", get(lat, "serverCpuMsPerCreate"), "{}")
        add(
            "  install steps p50/p99 ms",
            "",
            f"{get(lat, 'installStepsMs.p50')} / {get(lat, 'installStepsMs.p99')}",
            "{}",
        )
    for key, label in (("creates0", "delay 0"), ("creates1", "delay 1s")):
        if err(key):
            continue
        c = res[key]
        n = c["clusters"]
        if key == "creates0":
            add(f"{n} creates {label}: wall s", "<= 60", c["wallSeconds"], "{:.1f}", lambda v: v <= 60)
            add("  server CPU ms per create", "", c.get("serverCpuMsPerCreate"), "{}")
            add(f"{n} creates {label}: peak RSS MB", "<= 400", c["peakRssMB"], "{:.0f}", lambda v: v <= 400)
        else:
            add(f"{n} creates {label}: wall s", "", c["wallSeconds"], "{:.1f}")
            add(
                f"{n} creates {label}: max in flight",
                f"= {n}",
                c["maxInFlightFromHistory"],
                "{}",
                lambda v, n=n: v >= n,
            )
            add("  (sampled leases max)", "", c["maxLeasedSampled"], "{}")
            add(f"{n} creates {label}: peak RSS MB", "", c["peakRssMB"], "{:.0f}")
        bad = {k: v for k, v in c["states"].items() if k != "Succeeded"}
        if bad:
            out.append((f"  {label}: not Succeeded", "0", json.dumps(bad), "NO"))
    if not err("takeover"):
        t = res["takeover"]
        add(
            f"takeover of {t['clusters']} leases (TTL {t['leaseSeconds']:g}s)",
            f"<= {t['goalSeconds']:g} s",
            t["allResumedSeconds"],
            "{:.2f}",
            lambda v: v <= t["goalSeconds"],
        )
    if not err("list"):
        lst = res["list"]
        add(f"list {lst['clusters']:,}: page p50 ms $top=100", "", get(lst, "walks.top100.pageP50Ms"), "{}")
        add("  page p50 ms $top=1000", "", get(lst, "walks.top1000.pageP50Ms"), "{}")
        add("  page p50 ms default size (10)", "", get(lst, "walks.topDefault.pageP50Ms"), "{}")
        add("  server RSS growth MB", "", lst["rssGrowthMB"], "{}")
    if not err("coldstart"):
        cs = res["coldstart"]
        add("cold start to ready s (median of 5)", "", cs["freshMedianSeconds"], "{:.2f}")
        add("  restart on existing data dir s", "", cs["restartMedianSeconds"], "{:.2f}")
    return out


def table(res: dict[str, Any]) -> str:
    data = [("figure", "goal", "measured", "met?"), *rows(res)]
    widths = [max(len(r[i]) for r in data) for i in range(4)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [line]
    for i, r in enumerate(data):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if i == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


SCENARIOS = ["throughput", "latency", "creates0", "creates1", "takeover", "list", "coldstart"]


def main() -> int:
    parser = argparse.ArgumentParser(description="aro benchmarks (see the module docstring)")
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ",".join(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test of the harness)")
    parser.add_argument("--httpx", action="store_true", help="use the httpx load generator even if wrk is present")
    parser.add_argument("--profile", action="store_true", help="py-spy the RP under PUT load and 1,000 creates")
    parser.add_argument("--keep", action="store_true", help="keep bench-results/work (data dirs, logs)")
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s] or SCENARIOS
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    RESULTS.mkdir(exist_ok=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    loadgen = LoadGen(args.httpx, WORK)
    why = "" if loadgen.wrk else (" (forced by --httpx)" if args.httpx else " (wrk not installed)")
    log(f"load generator: {loadgen.name}{why}")
    bench = Bench(args.quick, loadgen, Profiler(args.profile))
    started = time.time()
    results: dict[str, Any] = {}
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "throughput": bench.throughput,
        "latency": bench.latency,
        "creates0": lambda: bench.creates(0.0, profile=True),
        "creates1": lambda: bench.creates(1.0),
        "takeover": bench.takeover,
        "list": bench.list,
        "coldstart": bench.coldstart,
    }
    info = machine()
    for name in SCENARIOS:
        if name not in only:
            continue
        t = time.monotonic()
        try:
            results[name] = steps[name]()
        except Exception as e:  # a benchmark never fails the build
            traceback.print_exc()
            results[name] = {"error": f"{type(e).__name__}: {e}"}
        results.setdefault(name, {})["scenarioSeconds"] = round(time.monotonic() - t, 1)
        log(f"{name}: done in {time.monotonic() - t:.1f}s")
    info["loadAverageAtEnd"] = [round(x, 2) for x in os.getloadavg()]
    out = {
        "generatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "totalSeconds": round(time.time() - started, 1),
        "machine": info,
        "loadGenerator": loadgen.name + why,
        "quick": args.quick,
        "profiled": bool(bench.profiler.enabled),
        "profiles": bench.profiler.outputs,
        "results": results,
        "table": [dict(zip(("figure", "goal", "measured", "met"), r, strict=True)) for r in rows(results)],
    }
    (RESULTS / "bench.json").write_text(json.dumps(out, indent=2) + "\n")
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    print()
    print(
        f"aro bench: {info['cores']} cores, Python {info['python']}, load generator {loadgen.name}{why}, "
        f"{CONNECTIONS} connections; load average {info['loadAverageAtStart']} at start, "
        f"{info['loadAverageAtEnd']} at end"
    )
    print(table(results))
    print("notes:")
    print("- every server is a real `aro` subprocess over HTTPS on its own data directory (embedded SQLite store)")
    print("- the bare app is hack/bench/bare_app.py served by aro.util.serve.HTTPSServer with the RP's certificate")
    if "creates1" in results and "backendWorkers" in results["creates1"]:
        print(
            f"- creates run with backend.workers={results['creates1']['backendWorkers']} "
            "(the default, 200, caps installs in flight at 200)"
        )
    if "takeover" in results and "leaseSeconds" in results["takeover"]:
        t = results["takeover"]
        print(
            f"- takeover: lease TTL {t['leaseSeconds']:g}s, heartbeat {t['heartbeatSeconds']:g}s, backend poll "
            f"{t['pollSeconds']:g}s; B was ready {t['backendBReadySeconds']:g}s after the kill"
        )
    if "list" in results and "seededWith" in results["list"]:
        print(f"- list: the clusters were written directly into the embedded store ({results['list']['seededWith']})")
    if bench.profiler.enabled:
        print("- profiled run: py-spy was attached, figures of the profiled scenarios are pessimistic")
    print(f"results: {RESULTS / 'bench.json'}  ({out['totalSeconds']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
