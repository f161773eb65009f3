"""Load generation: ``wrk`` when installed (GET, and PUT creates with a new cluster name per request from
a Lua script), else an asyncio httpx generator with the same shape (32 clients, one connection each);
``LoadResult`` is what either measured, with the server's CPU per request per process role (``procs.Proc.cpu``:
the headline is the role that served the requests, e.g. `aro rp`'s frontend). ``submit`` PUTs one create per
given name from 32 clients."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import CONNECTIONS, pct
from procs import Proc
from tests.backend.helpers import V, body, cluster_url
from tests.fixtures.clusters import client_id_for


@dataclass
class LoadResult:
    rps: float
    requests: int
    bad: int  # non-2xx responses and socket errors
    p50_ms: float
    p99_ms: float
    generator: str
    duration: float
    server_cpu_ms: float = float("nan")  # CPU time (all threads) per request of the role serving them
    cpu_ms: dict[str, float] = field(default_factory=dict)  # the same, per role (``procs.Proc.cpu``)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rps": round(self.rps, 1),
            "serverCpuMsPerRequest": round(self.server_cpu_ms, 3),
            "cpuMsPerRequestByProcess": {k: round(v, 3) for k, v in self.cpu_ms.items()},
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
-- unique cluster names per request: <prefix><thread>x<counter>; a client id of its own per request too
local counter = 0
local prefix = "w"
local tag = 0
local nthreads = 0
local body_tmpl = [==[@BODY@]==]
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
function init(args)
  prefix = (args[1] or "w") .. tostring(tid or 0) .. "x"  -- tid: a global set by setup()
  tag = string.byte(args[1] or "w") * 256 + (tid or 0)
end
function request()
  counter = counter + 1
  local name = prefix .. counter
  local client = string.format("a3d9f0b1-%04x-4000-8000-%012d", tag, counter)
  local b = (body_tmpl:gsub("ZZNAMEZZ", name):gsub("ZZCLIENTZZ", client))
  return wrk.format("PUT", "@PATH@" .. name .. "?api-version=@V@", {["Content-Type"] = "application/json"}, b)
end
"""


def put_body_bytes(name: str, client_id: str | None = None) -> bytes:
    """A create body for cluster ``name``. What ARO keeps unique in a subscription -- the domain (and so the
    cluster resource group), the service principal's client id, the subnets -- is unique per whole name
    (the tests' ``body`` derives them from its first 8 characters, which load names share)."""
    domain = name + "dom"
    b = body(name)
    props = b["properties"]
    props["clusterProfile"]["domain"] = domain
    for profile, prefix in ((props["masterProfile"], "master"), *((w, "worker") for w in props["workerProfiles"])):
        profile["subnetId"] = profile["subnetId"].rsplit("/", 1)[0] + f"/{prefix}-{domain}"
    props["servicePrincipalProfile"]["clientId"] = client_id or client_id_for(domain)
    return json.dumps(b).encode()


class LoadGen:
    def __init__(self, force_httpx: bool, workdir: Path):
        self.wrk = None if force_httpx else shutil.which("wrk")
        self.workdir = workdir
        self.name = "wrk" if self.wrk else "httpx (asyncio, 32 clients)"
        if self.wrk:
            out = subprocess.run([self.wrk, "--version"], capture_output=True, text=True).stdout
            self.name = (out.splitlines() or ["wrk"])[0].split(" Copyright")[0].strip() + " (-t2)"

    def get(self, url: str, seconds: float, server: Proc | None = None, role: str = "") -> LoadResult:
        """GET ``url`` for ``seconds``; ``server``'s CPU per request is measured, ``role``'s the headline."""
        return self._measured(server, role, lambda: self._get(url, seconds))

    def put(self, root: str, prefix: str, seconds: float, server: Proc | None = None, role: str = "") -> LoadResult:
        """PUT <root>/<unique name> with a valid create body; ``root`` ends with '/'. CPU as for ``get``;
        for `aro rp` the backend's and the simulator's are the installs the PUTs started."""
        return self._measured(server, role, lambda: self._put(root, prefix, seconds))

    def _measured(self, server: Proc | None, role: str, run: Callable[[], LoadResult]) -> LoadResult:
        before = server.cpu() if server else {}
        res = run()
        if server and res.requests:
            after = server.cpu()
            res.cpu_ms = {k: (after[k] - before.get(k, 0.0)) * 1000 / res.requests for k in after}
            res.server_cpu_ms = res.cpu_ms.get(role, float("nan")) if role else sum(res.cpu_ms.values())
        return res

    def _get(self, url: str, seconds: float) -> LoadResult:
        if self.wrk:
            return self._wrk([url], seconds)
        return asyncio.run(self._httpx(url, "GET", None, seconds))

    def _put(self, root: str, prefix: str, seconds: float) -> LoadResult:
        if self.wrk:
            path = "/" + root.split("/", 3)[3]
            body_json = put_body_bytes("ZZNAMEZZ", client_id="ZZCLIENTZZ").decode()
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
