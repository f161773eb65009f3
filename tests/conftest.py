"""Shared fixtures: a real `aro rp` subprocess over HTTPS, and helpers to talk to it."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
ARO_MODULE = "aro_cmd.main"  # tests.fixtures.toy_rp: the same, serving the toy kind too
ARO = [sys.executable, "-m", ARO_MODULE]


# Test defaults: any free port for the hosted simulator, no simulated latency, fast polling.
FAST = {
    "ARO_CLOUD_SIMULATOR_PORT": "0",
    "ARO_CLOUD_SIMULATOR_PROXY_PORT": "0",
    "ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0",
    "ARO_FRONTEND_RETRY_AFTER_SECONDS": "0",
    "ARO_BACKEND_CONDITION_POLL_SECONDS": "0.05",
    "ARO_BACKEND_POLL_SECONDS": "0.2",
}


# Ports for the servers the tests start: below Linux's ephemeral range (32768-60999), where the kernel picks the
# ports of outgoing connections and of servers bound to port 0, so none of those takes a port between the moment
# it is chosen and the moment the new server binds it. Each process walks the range from a random place (each
# pytest-xdist worker in its own eighth of it, so the workers of one run do not meet), skipping ports in use.
_PORTS = range(20000, 32768)
_SLICES = 8
_next_port: list[int] = []


def free_port() -> int:
    """A loopback port nothing listens on, for a server started next (or to stand for an unreachable one)."""
    if not _next_port:
        worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
        width = len(_PORTS) // _SLICES
        _next_port.append((worker % _SLICES) * width + random.randrange(width))
    for _ in range(len(_PORTS)):
        port = _PORTS[_next_port[0] % len(_PORTS)]
        _next_port[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_PORTS}")


@dataclass
class RPProcess:
    """One `aro <command>` subprocess with its own data directory and port."""

    data_dir: Path
    port: int
    command: str = "rp"
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    log_path: Path | None = None
    ready_seconds: float = 0.0
    module: str = ARO_MODULE

    @property
    def base_url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "certs" / "ca.crt"

    def start(self, wait: bool = True, timeout: float = 30) -> RPProcess:
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-{self.command}-{self.port}.log"
        env = {**os.environ, **FAST, **self.env}
        env.pop("ARO_CONFIG", None)
        cmd = [sys.executable, "-m", self.module, self.command, "--data-dir", str(self.data_dir), *self.args]
        if self.command != "backend":
            cmd += ["--port", str(self.port)]
        started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=self.log_path.open("w"), text=True
        )
        if wait:
            self.wait_ready(timeout)
            self.ready_seconds = time.monotonic() - started
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"aro {self.command} exited {self.proc.returncode}:\n{self.log()}")
            if self.command in ("backend", "simulator", "rp"):  # rp: its supervisor says so once all are
                if '"msg": "ready"' in self.log():
                    return
            else:
                try:
                    r = httpx.get(self.base_url + "/healthz/ready", verify=False, timeout=1)
                    if r.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.02)
        raise TimeoutError(f"aro {self.command} not ready after {timeout}s:\n{self.log()}")

    def ready_info(self) -> dict[str, Any]:
        """The fields of the process's "ready" log line (listen address, simulator URL, ...)."""
        for line in self.log().splitlines():
            if '"msg": "ready"' in line:
                return dict(json.loads(line))
        raise AssertionError("no ready line in the log")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, verify=self.ssl_context(), timeout=30, **kwargs)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def rp_factory(tmp_path: Path) -> Iterator[Any]:
    """Start `aro` subprocesses; all are stopped at the end of the test."""
    procs: list[RPProcess] = []

    def start(command: str = "rp", data_dir: Path | None = None, wait: bool = True, **kw: Any) -> RPProcess:
        p = RPProcess(data_dir or tmp_path / "data", free_port(), command, **kw)
        procs.append(p)
        return p.start(wait=wait)

    yield start
    for p in procs:
        p.kill()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a pytest-xdist worker (`make test`: --dist loadfile --no-loadscope-reorder), the order in which whole
    files are handed out: the files with a test marked ``slow`` first, then by their number of tests, most
    first; so that no long file starts late and runs on alone while the other workers have nothing left to do.
    A file's tests keep their order (the sort is stable); every worker collects the same order."""
    if not hasattr(config, "workerinput"):
        return
    weight: dict[str, int] = {}
    for item in items:
        file = item.nodeid.split("::")[0]
        weight[file] = weight.get(file, 0) + (1000 if item.get_closest_marker("slow") else 1)
    items.sort(key=lambda item: -weight[item.nodeid.split("::")[0]])


# pytest-xdist (`make test` runs the suite in several worker processes): the summaries some suites print at the
# end (the local Cosmos DB server's notes, the drills' figures) are gathered in the workers, and the controller
# loads no conftest below this one; so each worker hands its part over and the controller prints them once.
def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        from tests.database import cosmos_server
        from tests.drills import scale

        output["aro_summary"] = json.dumps({"notes": cosmos_server.NOTES, "figures": scale.FIGURES}, default=str)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    from tests.database import cosmos_server
    from tests.drills import scale

    summary = json.loads(getattr(node, "workeroutput", {}).get("aro_summary", "{}"))
    cosmos_server.NOTES.extend(n for n in summary.get("notes", []) if n not in cosmos_server.NOTES)
    for drill, figures in summary.get("figures", {}).items():
        scale.FIGURES.setdefault(drill, {}).update(figures)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("dsession"):  # the xdist controller
        from tests.drills import conftest as drills  # its summary prints the Cosmos DB server's notes too

        if not config.pluginmanager.is_registered(drills):  # (it is when tests/drills was named on the command line)
            drills.pytest_terminal_summary(terminalreporter)
