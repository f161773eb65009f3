"""Load generation: ``wrk`` when installed (GET, and PUT creates with a new cluster name per request from
a Lua script), else an asyncio httpx generator with the same shape (32 clients, one connection each);
``LoadResult`` is what either measured. ``submit`` PUTs one create per given name from 32 clients."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import CONNECTIONS, pct
from procs import proc_cpu
from tests.backend.helpers import V, body, cluster_url


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
