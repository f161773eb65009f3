"""`aro rp` as a small supervisor of processes, so that the RP uses every core: the hosted cloud simulator,
the backend, and ``frontend.workers`` frontend processes accepting on one listening socket.

Before forking, the supervisor imports the RP once (the children share those modules copy-on-write, so
none imports again), prepares what the children would otherwise race for (the data directory, the
development certificates, the secrets key, the store), binds every listening
socket (a port 0 picks a free one; the "ready" line names what was bound), and creates the wake-up channel
(a datagram socket pair: a frontend's claimable write reaches the backend's pool in milliseconds). Each
child then runs what `aro frontend`, `aro backend` or `aro simulator` runs, on the inherited sockets, and
reports ready through a pipe; the supervisor says "ready" once all have.

A child that dies is forked again (after 0.5 s, doubling to 30 s while it keeps dying within a minute of its
start); a backend's claimed items are taken over once their leases expire. One that dies before the RP was
ever ready stops the start (exit 1: its own log line says why). SIGTERM/SIGINT: the frontends and the
backend get SIGTERM together (the frontends drain while running steps reach a boundary), the simulator
after them (the steps use it while they stop); all within ``backend.shutdownSeconds`` + 1 s, SIGKILL past
that. Each child has its own process group, so a signal to the supervisor's group (a terminal's Ctrl-C) does
not reach it out of that order. A child whose supervisor dies is killed with it (``PR_SET_PDEATHSIG``
SIGKILL: a crash of the RP is a crash of all of it; leases expire and are taken over).

Logs: the children write to the supervisor's stderr, every line tagged ``"proc"`` with its role. Metrics:
they share one Prometheus multiprocess directory (``<dataDirectory>/run/metrics``), so a frontend's
/metrics counts every process.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aro.env.config import CloudMode, Config, ConfigError, DatabaseMode, Mode

log = logging.getLogger("aro.supervisor")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # (aro.util.metrics reads it; set before prometheus_client loads)
RESTART_FIRST, RESTART_MAX, HEALTHY_SECONDS = 0.5, 30.0, 60.0
START_SECONDS = 120.0  # every child ready within this, or the start fails
_PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    role: str  # its log tag: simulator, backend, frontend (frontend-2, ... with several)
    main: Callable[[Any], None]  # runs in the forked process with its ``aro.run.Inherited``
    late: bool = False  # stopped after the others (the simulator: the backend's steps use it while they stop)
    pid: int = 0
    ready_fd: int = -1
    ready: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    backoff: float = RESTART_FIRST
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    def __init__(self, config: Config, children: list[Child], inherited: Callable[[Child, int], Any]):
        """``inherited(child, ready_write_fd)``: the ``aro.run.Inherited`` a child gets."""
        self.config = config
        self.children = children
        self.inherited = inherited
        self.selector = selectors.DefaultSelector()
        self.stopping = False
        self._signal_r, self._signal_w = os.pipe()
        os.set_blocking(self._signal_w, False)
        os.set_blocking(self._signal_r, False)

    # --- the children ----------------------------------------------------------------------------

    def fork(self, child: Child) -> None:
        r, w = os.pipe()
        supervisor = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(r)
                self._become_child(supervisor)
                from aro.util import log as logutil

                logutil.set_process(child.role)
                child.main(self.inherited(child, w))
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except ConfigError as e:  # as `aro frontend|backend|simulator` answer it
                os.write(2, f"aro {child.role}: configuration error: {e}\n".encode())
                code = 2
            except BaseException:
                log.exception("process failed", extra={"proc": child.role})
            finally:
                logging.shutdown()
                os._exit(code)
        os.close(w)
        child.pid, child.ready_fd, child.ready, child.started = pid, r, False, time.monotonic()
        child.restart_at = None
        os.set_blocking(r, False)
        self.selector.register(r, selectors.EVENT_READ, child)

    def _become_child(self, supervisor: int) -> None:
        os.setpgid(0, 0)  # a terminal's Ctrl-C (or a group kill) reaches the supervisor, which stops in order
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        self.selector.close()
        for fd in (self._signal_r, self._signal_w, *(c.ready_fd for c in self.children if c.ready_fd >= 0)):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError, AttributeError):  # Linux: die with the supervisor
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != supervisor:  # it died before the line above (it may be pid 1 itself, in a container)
            os._exit(1)

    def _read_ready(self, child: Child) -> None:
        try:
            data = os.read(child.ready_fd, 65536)
        except BlockingIOError:
            return
        if data:
            with contextlib.suppress(ValueError):
                child.fields = json.loads(data.decode().splitlines()[0])
            child.ready = True
            if child.restarts:
                log.info("process ready again", extra={"proc": child.role, "pid": child.pid})
        self._close_ready(child)

    def _close_ready(self, child: Child) -> None:
        if child.ready_fd >= 0:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(child.ready_fd)
            os.close(child.ready_fd)
            child.ready_fd = -1

    def _reap(self) -> list[tuple[Child, int]]:
        gone = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            for child in self.children:
                if child.pid == pid:
                    self._close_ready(child)
                    child.pid = 0
                    gone.append((child, os.waitstatus_to_exitcode(status)))
                    _metrics_dead(pid)
        return gone

    # --- the loop --------------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: Any) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.stopping = True

    def run(self, started: float) -> int:
        signal.set_wakeup_fd(self._signal_w)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, self._on_signal)
        self.selector.register(self._signal_r, selectors.EVENT_READ, None)
        for child in self.children:
            self.fork(child)
        announced = False
        deadline = time.monotonic() + START_SECONDS
        while not self.stopping:
            now = time.monotonic()
            due = [c.restart_at for c in self.children if c.restart_at is not None]
            timeout = max(0.0, min([*due, deadline if not announced else now + 1.0]) - now)
            for key, _ in self.selector.select(timeout):
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._signal_r, 4096)
                else:
                    self._read_ready(key.data)
            for child, code in self._reap():
                if not announced:
                    log.error("process exited during start-up", extra={"proc": child.role, "exitCode": code})
                    self.stop()
                    return code if code in (1, 2) else 1
                self._schedule_restart(child, code)
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None and child.restart_at <= now and not self.stopping:
                    child.restarts += 1
                    log.info("restarting process", extra={"proc": child.role, "restarts": child.restarts})
                    self.fork(child)
            if not announced and all(c.ready for c in self.children):
                announced = True
                self._announce(started)
            elif not announced and now > deadline:
                log.error("not ready in time", extra={"waiting": [c.role for c in self.children if not c.ready]})
                self.stop()
                return 1
        log.info("shutting down")
        self.stop()
        log.info("stopped")
        return 0

    def _schedule_restart(self, child: Child, code: int) -> None:
        up = time.monotonic() - child.started
        if up >= HEALTHY_SECONDS:
            child.backoff = RESTART_FIRST
        delay = child.backoff
        child.backoff = min(RESTART_MAX, child.backoff * 2)
        child.restart_at = time.monotonic() + delay
        log.warning(
            "process exited: restarting it",
            extra={"proc": child.role, "exitCode": code, "upSeconds": round(up, 1), "restartInSeconds": delay},
        )

    def _announce(self, started: float) -> None:
        fields: dict[str, Any] = {"listen": None, "simulator": None, "proxy": None}  # None: not served
        for child in self.children:
            fields |= {k: v for k, v in child.fields.items() if v is not None and k != "startSeconds"}
        hint = fields.pop("azLogin", None)
        fields |= {
            "startSeconds": round(time.monotonic() - started, 3),
            "processes": {c.role: c.pid for c in self.children},
        }
        log.info("ready", extra=fields)
        if hint:
            log.info(hint)

    def stop(self) -> None:
        """SIGTERM the frontends and the backend, then the simulator; SIGKILL what is left at the deadline."""
        self.stopping = True
        end = time.monotonic() + self.config.backend.shutdown_seconds + 1
        early = [c for c in self.children if not c.late]
        late = [c for c in self.children if c.late]
        # the early ones bound their own stop by shutdownSeconds + 1 s (steps cancelled at + 0.5 s, then their
        # leases released): kill them only just before that, leaving the simulator (quick once idle) the rest
        self._terminate(early, end - (0.25 if late else 0))
        self._terminate(late, end)
        for child in self.children:
            self._close_ready(child)

    def _terminate(self, children: list[Child], until: float) -> None:
        for child in children:
            if child.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)
        while any(c.pid for c in children) and time.monotonic() < until:
            self._reap()
            if any(c.pid for c in children):
                with contextlib.suppress(InterruptedError):
                    self.selector.select(min(0.05, max(0.0, until - time.monotonic())))
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(self._signal_r, 4096)
        for child in children:
            if child.pid:
                log.warning("process did not stop in time: killed", extra={"proc": child.role})
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(child.pid, 0)
                _metrics_dead(child.pid)
                child.pid = 0


def _metrics_dead(pid: int) -> None:
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _write_ready(fd: int) -> Callable[[dict[str, Any]], None]:
    def ready(fields: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            os.write(fd, (json.dumps(fields, default=str) + "\n").encode())
            os.close(fd)

    return ready


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP: asyncio sets NODELAY
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _url(scheme: str, host: str, port: int) -> str:
    shown = {"0.0.0.0": "localhost", "": "localhost", "::": "localhost"}.get(host, host)
    shown = f"[{shown}]" if ":" in shown else shown
    return f"{scheme}://{shown}:{port}"


def supervise(config: Config, started: float | None = None) -> int:
    """`aro rp`: prepare, bind, fork the processes and keep them running until SIGTERM/SIGINT (exit code)."""
    started = time.monotonic() if started is None else started
    from aro.util.private import private_files

    private_files(config.data_path)
    run_dir = config.data_path / "run"
    metrics_dir = run_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(metrics_dir)

    import asyncio

    from aro import run  # the RP, imported once for every child
    from aro.util.pki import ensure_dev_serving_cert

    sim = config.cloud.simulator
    hosted = config.cloud.mode is CloudMode.SIMULATOR and not sim.endpoint
    if config.mode is Mode.DEVELOPMENT or hosted:  # the simulator serves them in any mode, children trust them
        ensure_dev_serving_cert(config.data_path / "certs")
    run.sealer_for(config)  # creates the key file once, not in two children at the same time
    if config.database.mode is DatabaseMode.EMBEDDED or config.mode is Mode.DEVELOPMENT:
        asyncio.run(_create_store(config))  # two children creating it at once: "database is locked"

    frontend_sock = _listen(config.frontend.host, config.frontend.port)
    frontend_port = frontend_sock.getsockname()[1]
    sim_sock = _listen(sim.host, sim.port) if hosted else None
    proxy_sock = _listen(sim.host, sim.proxy_port) if hosted and sim.proxy_port >= 0 else None
    wake_frontends, wake_backend = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    wake_frontends.setblocking(False)

    common = config.model_copy(deep=True)
    common.frontend.port = frontend_port  # the ledger's telemetry URL and the front door name it
    sim_url = _url("https", sim.host, sim_sock.getsockname()[1]) if sim_sock else None
    with_sim = common.model_copy(deep=True)
    if sim_url:
        with_sim.cloud.simulator.endpoint = sim_url
        if not sim.ca_file:
            with_sim.cloud.simulator.ca_file = str(config.data_path / "certs" / "ca.crt")

    def frontend_main(inherited: Any) -> None:
        asyncio.run(run.run_rp(with_sim, frontend=True, backend=False, inherited=inherited))

    def backend_main(inherited: Any) -> None:
        asyncio.run(run.run_rp(with_sim, frontend=False, backend=True, inherited=inherited))

    def simulator_main(inherited: Any) -> None:
        asyncio.run(run.run_simulator(common, inherited, frontend_port=frontend_port))

    children = [Child("backend", backend_main)]
    workers = config.frontend.workers
    children += [Child("frontend" if workers == 1 else f"frontend-{i + 1}", frontend_main) for i in range(workers)]
    if hosted:
        children.insert(0, Child("simulator", simulator_main, late=True))

    def inherited(child: Child, ready_fd: int) -> Any:
        ready = _write_ready(ready_fd)
        if child.role == "simulator":
            return run.Inherited(simulator=sim_sock, proxy=proxy_sock, ready=ready)
        if child.role == "backend":
            return run.Inherited(wake=wake_backend, ready=ready)
        return run.Inherited(frontend=frontend_sock, wake=wake_frontends, ready=ready)

    supervisor = Supervisor(config, children, inherited)
    try:
        return supervisor.run(started)
    finally:
        for s in (frontend_sock, sim_sock, proxy_sock, wake_frontends, wake_backend):
            if s is not None:
                s.close()


async def _create_store(config: Config) -> None:
    """Create the store once, before the children open it: the SQLite file (its schema, WAL mode), or in
    development mode the Cosmos database and containers."""
    from aro import run

    store = await run.open_store(config)
    await store.close()
