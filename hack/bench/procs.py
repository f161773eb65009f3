"""The benchmark's processes: `aro <command>` and the bare app as subprocesses (started, waited for until
ready, stopped, killed), their CPU time and memory read from /proc, and free ports.

`aro rp` is a supervisor (pkg/aro/supervisor.py) that forks ``simulator``, ``backend`` and
``frontend.workers`` frontends; its ready line names them (``"processes": {role: pid}``). A ``Proc``
reads that line, so every per-process reading (CPU, RSS) is of the process it is about: ``Proc.cpu`` and
``Proc.memory`` answer per role (``frontend`` sums ``frontend-1``, ``frontend-2``, ...; ``supervisor`` is
the ``aro rp`` process itself). An unsupervised process (``aro frontend``, the bare app with one process)
is its own single role.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from common import HERE, MB, REPO, log

ARO = [sys.executable, "-m", "aro_cmd.main"]

# What every server of the benchmark runs with: the documented defaults except the knobs the scenarios
# are defined by (simulator on any free port, no simulated latency, no Retry-After).
BENCH_ENV = {
    "ARO_CLOUD_SIMULATOR_PORT": "0",
    "ARO_CLOUD_SIMULATOR_PROXY_PORT": "0",
    "ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0",
    "ARO_FRONTEND_RETRY_AFTER_SECONDS": "0",
}
READY = '"msg": "ready"'  # the ready line of `aro rp`'s supervisor, of an unsupervised `aro <command>`, of the bare app

_TICK = os.sysconf("SC_CLK_TCK")
Record = dict[str, Any]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (bytes) of a process, and Pss (its share of pages shared with others, e.g. the
    supervisor's imports its forked children share copy-on-write)."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key == "Pss":
                out["Pss"] = int(rest.split()[0]) * 1024
    return out


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def group(role: str) -> str:
    """frontend-2 -> frontend: the role a figure is reported under."""
    return role.split("-", 1)[0]


def line_time(rec: Record) -> float:
    """The wall-clock time (epoch seconds) of a log record's ``time`` field (UTC, milliseconds)."""
    return datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


class LogTail:
    """The complete JSON lines appended to a log file since the last call."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.partial = b""

    def records(self) -> list[Record]:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        self.offset += len(data)
        *complete, self.partial = (self.partial + data).split(b"\n")
        out = []
        for line in complete:
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
                if isinstance(rec, dict):
                    out.append(rec)
        return out


@dataclass
class Proc:
    """One `aro <command>` (or bare app) subprocess, with its log in the work directory. Ready when its
    log has the ready line (``READY``); ``healthz_url``, when set, is polled from another thread while it
    starts, for the time /healthz/ready first answered 200 (``healthz_seconds``)."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    healthz_url: str | None = None
    role: str = "self"  # the role of its one process when it forks none (`aro frontend`: frontend)
    proc: subprocess.Popen[bytes] | None = None
    spawned: float = 0.0  # wall clock, just before the spawn
    ready_seconds: float = 0.0  # spawn -> the ready line (its own timestamp)
    observed_seconds: float = 0.0  # spawn -> the bench read the ready line
    healthz_seconds: float | None = None  # spawn -> /healthz/ready 200 (when healthz_url is set)
    info: Record = field(default_factory=dict)  # the ready line
    _tail: LogTail | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def processes(self) -> dict[str, int]:
        """role -> pid of every process of this server: the supervisor's children and the supervisor
        (``supervisor``), or the one process (``role``) when it forks none."""
        children = {str(k): int(v) for k, v in (self.info.get("processes") or {}).items() if v}
        if not children:
            return {self.role: self.pid}
        return children if self.pid in children.values() else {"supervisor": self.pid, **children}

    def pids(self, role: str) -> list[int]:
        """The pids of a role (``frontend``: every frontend process)."""
        return [pid for r, pid in self.processes.items() if group(r) == role]

    def start(self, timeout: float = 60) -> Proc:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._tail = LogTail(self.log_path)
        started = time.monotonic()
        self.spawned = time.time()
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("wb"),
        )
        poller = self._poll_healthz(timeout) if self.healthz_url else None
        try:
            self.info = self.wait_for(lambda r: r.get("msg") == "ready" and "proc" not in r, timeout)
        finally:
            if poller is not None:
                poller.join()
        self.observed_seconds = time.monotonic() - started
        self.ready_seconds = line_time(self.info) - self.spawned
        return self

    def _poll_healthz(self, timeout: float) -> threading.Thread:
        def poll() -> None:
            deadline = time.monotonic() + timeout
            with httpx.Client(verify=False, timeout=2) as client:
                while time.monotonic() < deadline and self.proc is not None and self.proc.poll() is None:
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(self.healthz_url).status_code == 200:  # type: ignore[arg-type]
                            self.healthz_seconds = time.time() - self.spawned
                            return
                    time.sleep(0.01)

        t = threading.Thread(target=poll, daemon=True)
        t.start()
        return t

    def wait_for(self, match: Callable[[Record], bool], timeout: float) -> Record:
        """The first log record from now on (the log read so far is not read again) that ``match``es."""
        assert self._tail is not None and self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            for rec in self._tail.records():
                if match(rec):
                    return rec
            if self.proc.poll() is not None:
                for rec in self._tail.records():
                    if match(rec):
                        return rec
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}: {self.why()}\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no such log line after {timeout}s:\n{self.log()[-3000:]}")
            time.sleep(0.01)

    def why(self) -> str:
        """The error lines of its log, one line: '<proc>: <msg>: <last line of the traceback>; ...'."""
        out = []
        for r in self.records(lambda r: r.get("level") in ("error", "critical")):
            exc = str(r.get("exc") or "").strip().splitlines()
            out.append(": ".join(x for x in (r.get("proc"), r.get("msg"), exc[-1] if exc else "") if x))
        return "; ".join(out) or "(no error line in its log)"

    def records(self, match: Callable[[Record], bool]) -> list[Record]:
        """Every record of the whole log that ``match``es."""
        tail = LogTail(self.log_path)
        return [r for r in tail.records() if match(r)]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far, per role (``frontend``: all frontends together)."""
        out: dict[str, float] = {}
        for role, pid in self.processes.items():
            out[group(role)] = out.get(group(role), 0.0) + proc_cpu(pid)
        return out

    def memory(self) -> dict[str, dict[str, float]]:
        """Per process (role as in the ready line): rss, peak (VmHWM) and pss in MB; and ``sum`` of each."""
        out: dict[str, dict[str, float]] = {}
        total = {"rssMB": 0.0, "peakMB": 0.0, "pssMB": 0.0}
        for role, pid in self.processes.items():
            st = proc_status(pid)
            one = {
                "rssMB": round(st.get("VmRSS", 0) / MB, 1),
                "peakMB": round(st.get("VmHWM", 0) / MB, 1),
                "pssMB": round(st.get("Pss", 0) / MB, 1),
            }
            out[role] = one
            for k in total:
                total[k] += one[k]
        out["sum"] = {k: round(v, 1) for k, v in total.items()}
        return out

    def stop(self, timeout: float = 30) -> float | None:
        """SIGTERM; the seconds until the process had exited (None if it was not running). Killed (and
        None) if it does not exit within ``timeout``."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        return time.monotonic() - t

    def leftover(self) -> list[str]:
        """The roles of the processes it started that are still running (after it exited)."""
        return [r for r, pid in self.processes.items() if pid != self.pid and alive(pid) and _ours(pid)]

    def kill(self) -> None:
        """SIGKILL it, and what it started (its children die with it already, ``PR_SET_PDEATHSIG``: this is
        for a child caught in between)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            for pid in self.processes.values():
                if pid != self.pid and alive(pid) and _ours(pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)


def _ours(pid: int) -> bool:
    """A process of this benchmark (its command line names aro or the bare app): pids are not reused
    between the kill of the supervisor and this check, but the check costs nothing."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"aro_cmd" in cmdline or b"bare_app" in cmdline


# Starts of `aro rp` that failed, each retried once (on the same data directory): bench.json and the notes
# name them, so that a flaky start is seen rather than hidden or fatal to a scenario.
START_FAILURES: list[dict[str, Any]] = []


class Procs:
    """Every process started by a scenario; all are killed when it ends. ``env``: set for every `aro`."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.all: list[Proc] = []
        self.env = env or {}

    def aro(
        self,
        command: str,
        data_dir: Path,
        env: dict[str, str] | None = None,
        port: int | None = None,
        timeout: float = 60,
        start: bool = True,
        healthz: bool = False,
        args: tuple[str, ...] = (),
        retry: bool = True,
    ) -> Proc:
        """``healthz``: also time /healthz/ready (``Proc.healthz_seconds``). ``retry``: an `aro rp` that exits
        while starting is recorded in START_FAILURES and started again once."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("ARO_")}
        full_env = {**base, **BENCH_ENV, **self.env, **(env or {})}
        cmd = [*ARO, command, "--data-dir", str(data_dir), *args]
        if command != "backend":
            port = port or free_port()
            cmd += ["--port", str(port)]
        p = Proc(
            f"aro {command}",
            cmd,
            full_env,
            data_dir.parent / f"{data_dir.name}-{command}-{len(self.all)}.log",
            port=port,
            healthz_url=f"https://127.0.0.1:{port}/healthz/ready" if healthz else None,
            role=command,
        )
        self.all.append(p)
        if not start:
            return p
        try:
            return p.start(timeout)
        except RuntimeError as e:  # it exited while starting
            if command != "rp" or not retry:
                raise
            START_FAILURES.append({"command": cmd[2:], "why": p.why(), "log": str(p.log_path)})
            log(f"aro rp did not start ({p.why()}): starting it again once, on the same data directory")
            p.kill()
            again = dataclasses.replace(p, proc=None, log_path=p.log_path.with_suffix(".retry.log"))
            self.all.append(again)
            try:
                return again.start(timeout)
            except RuntimeError:
                raise e from None

    def bare(self, certs: Path, workers: int = 1) -> Proc:
        """The bare app, in ``workers`` processes accepting on one socket (as `aro rp`'s frontends)."""
        port = free_port()
        p = Proc(
            "bare FastAPI",
            [
                sys.executable,
                str(HERE / "bare_app.py"),
                "--port",
                str(port),
                "--certs",
                str(certs),
                "--workers",
                str(workers),
            ],
            {k: v for k, v in os.environ.items() if not k.startswith("ARO_")},
            certs.parent / f"bare-{len(self.all)}.log",
            port=port,
            role="bare",
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
