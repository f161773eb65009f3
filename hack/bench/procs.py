"""The benchmark's processes: `aro <command>` and the bare app as subprocesses (started, waited for until
ready, stopped, killed), their CPU time and RSS read from /proc, and free ports."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import HERE, REPO

ARO = [sys.executable, "-m", "aro_cmd.main"]

# What every server of the benchmark runs with: the documented defaults except the knobs the scenarios
# are defined by (simulator on any free port, no simulated latency, no Retry-After).
BENCH_ENV = {
    "ARO_CLOUD_SIMULATOR_PORT": "0",
    "ARO_CLOUD_SIMULATOR_PROXY_PORT": "0",
    "ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0",
    "ARO_FRONTEND_RETRY_AFTER_SECONDS": "0",
}

_TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (bytes) of a process."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024
    return out


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


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
