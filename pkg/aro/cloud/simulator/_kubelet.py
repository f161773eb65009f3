"""The kubelet: pods whose container image is in ``SimulatorConfig.kubelet_images`` (the managed-scripts image)
run for real, as processes on the simulator's host; every other pod keeps the simulated Pending -> Running
(``_kubeobjects``).

What runs: the pod's one container's ``command`` + ``args``, where ``command[0]`` is ``bash`` or ``python3`` in
any directory, resolved with ``shutil.which`` on ``PATH_VALUE`` (the host's ``/bin/bash``, ``/usr/bin/python3``:
never the simulator's own interpreter) -- once, whatever the ``restartPolicy``. Anything else -- another
command, more containers, init containers, a volume that is not a ConfigMap, Secret or emptyDir, a bad env
entry -- fails the pod at once (phase ``Failed``, a reason and a message saying why). A ConfigMap, Secret or
service account that does not exist yet is waited for (``WAIT_SECONDS``), then the pod fails
``CreateContainerConfigError``.

Its sandbox: a private (0700) directory under ``<data>/kubelet/pods`` -- its cwd and ``HOME`` -- holding each
volume (``volumes/<name>``; files 0444 when every mount of it is readOnly; a mount's ``subPath`` is a path
inside it), with every ``volumeMounts`` path prefix of an argument rewritten into it, and ``kubeconfig``
(0600): the pod's cluster API as the simulator serves it (``serving_at``: the listening URL -- else the last
request's -- plus the cluster's base path, ``_kubeclusters.base_path``; the serving CA) and the token of the
pod's service account (an existing ``kubernetes.io/service-account-token`` secret of it, else a new one), so
``kubectl`` inside acts as the service account and the cluster API enforces its RBAC. Environment: the pod's
``env`` (``value``, or ``valueFrom`` a ConfigMap key, a Secret key, or the pod's name, namespace, uid or
service account) over ``KUBECONFIG``, ``HOME``, ``PATH=/usr/local/bin:/usr/bin:/bin`` and ``LANG=C.UTF-8`` --
nothing of the simulator's own environment.

Limits: a session (process group) of its own; ``activeDeadlineSeconds`` (``kubelet_deadline_seconds`` when
unset, at most ``kubelet_max_deadline_seconds``) from its start, then SIGTERM to the group and SIGKILL after
the grace period (``terminationGracePeriodSeconds``, at most ``GRACE_CAP_SECONDS``); memory: the container's
``limits.memory`` (else ``DEFAULT_MEMORY``; at most ``MAX_MEMORY``) as RLIMIT_DATA -- not RLIMIT_AS: Go
binaries such as kubectl reserve much more address space than they use and die at start under an
address-space limit of a few hundred MiB ("failed to reserve page summary memory"), while RLIMIT_DATA counts
only what is mapped writable, so kubectl runs under 512Mi and a script allocating past the limit fails
(python3: MemoryError); cpu: RLIMIT_CPU of ceil(cores x deadline) seconds (``limits.cpu``, else one core);
RLIMIT_FSIZE ``MAX_FILE_BYTES`` per file it writes; RLIMIT_NOFILE ``MAX_FILES``; no core dumps. At most
``kubelet_max_running`` pods run at once; the others stay Pending until a slot frees.

Status, written through the store (watchers see each step): Pending -> Running (``startTime``,
``state.running.startedAt``; written just before the process starts, so a stored Running pod is the start
record) -> Succeeded (exit 0) or Failed, with ``state.terminated`` {exitCode (128 + the signal when killed),
reason ``Completed | Error | DeadlineExceeded``, startedAt, finishedAt}. stdout and stderr, interleaved, are
the pod's log (``<data>/kubelet/logs``; at most ``kubelet_log_max_bytes``, then ``TRUNCATED`` and the rest is
dropped), served by ``_kubelogs``.

Deleting the pod (or its namespace, or its cluster) stops its process -- SIGTERM to the group, SIGKILL after
the grace period -- and removes its log and directory. Shutdown (``shutdown``) kills every process group and
removes their directories; at the next start every executed pod still stored Running is Failed ``NodeLost``
(its process died with the node), Pending ones are queued again. Processes and pipes are asyncio's; every
database access is a ``Store.run`` transaction; files are written off the event loop. A simulator killed
outright cannot reap its pods' processes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import hashlib
import json
import math
import os
import re
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._kubeclusters import base_path
from ._kubeerrors import KubeError
from ._kuberesources import RESOURCES, SA_NAME_ANNOTATION, SA_TOKEN_TYPE, iso_seconds, meta, run_pod

if TYPE_CHECKING:
    from ._config import SimulatorConfig
    from ._kubeobjects import KubeObjects
    from ._store import Store

Object = dict[str, Any]
PATH_VALUE = "/usr/local/bin:/usr/bin:/bin"
INTERPRETERS = ("bash", "python3")
GRACE_CAP_SECONDS = 5.0
WAIT_SECONDS = 10.0  # for a missing ConfigMap, Secret or service account
DEFAULT_MEMORY = 1 << 30
MAX_MEMORY = 4 << 30
MAX_FILE_BYTES = 64 << 20
MAX_FILES = 1024
TRUNCATED = "\n[log truncated: the pod wrote more than {} bytes]\n"
_CHUNK = 64 * 1024
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([-+]?[0-9]+))?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_SUFFIXES = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_SUFFIXES.update({s + "i": float(2 ** (10 * (i + 1))) for i, s in enumerate(("K", "M", "G", "T", "P", "E"))})
_FIELDS = {
    "metadata.name": lambda pod: meta(pod).get("name"),
    "metadata.namespace": lambda pod: meta(pod).get("namespace"),
    "metadata.uid": lambda pod: meta(pod).get("uid"),
    "spec.serviceAccountName": lambda pod: (pod.get("spec") or {}).get("serviceAccountName"),
    "spec.nodeName": lambda pod: (pod.get("spec") or {}).get("nodeName"),
}


def quantity(value: Any) -> float | None:
    """A Kubernetes quantity (``500m``, ``512Mi``, ``1e9``, ``2``) as a number; None when it is not one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _QUANTITY.match(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        return None
    number = float(match.group(1)) * 10.0 ** int(match.group(2) or 0)
    return number * _SUFFIXES[match.group(3) or ""]


@dataclass(frozen=True)
class PodKey:
    cluster: str
    namespace: str
    name: str
    uid: str


class PodFailed(Exception):
    """The pod cannot run (``retry``: not yet -- something it needs may still be created)."""

    def __init__(self, reason: str, message: str, retry: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry = retry


@dataclass
class Materials:
    """What one pod's process needs, read from the store."""

    argv: list[str]  # the resolved interpreter, then the arguments (mount paths not rewritten yet)
    env: dict[str, str]
    volumes: dict[str, dict[str, bytes]]  # volume -> relative file path -> content
    read_only: set[str]  # volumes every mount of which is readOnly
    mounts: list[tuple[str, str, str]]  # (mountPath, volume, subPath)
    server: str
    ca_pem: str
    token: str
    namespace: str
    deadline: float
    grace: float
    memory: int
    cpu_seconds: int


@dataclass(eq=False)
class PodRun:
    """One executed pod in this process: queued, preparing, or running."""

    key: PodKey
    log_path: Path
    task: asyncio.Task[None] | None = None
    process: asyncio.subprocess.Process | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    deleted: bool = False  # the pod is gone: remove its log too
    shutting_down: bool = False  # the simulator stops: no status write (the next start says NodeLost)
    finished: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def changed(self, seconds: float) -> None:
        """Until the log grows or the run ends, at most ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)


def _killpg(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _apply_limits(limits: list[tuple[int, int, int]]) -> None:  # in the child, between fork and exec
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))


def _write_all(f: Any, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[f.write(view) :]


def _remove_tree(path: Path) -> None:
    def writable(fn: Any, p: str, exc: Any) -> None:  # a read-only volume's files: make them removable, retry
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), 0o700)
            fn(p)

    shutil.rmtree(path, onerror=writable)


def _remove_file(path: Path) -> None:
    path.unlink(missing_ok=True)


def _safe_relative(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") for p in parts)


class Kubelet:
    def __init__(self, store: Store, objects: KubeObjects, config: SimulatorConfig) -> None:
        self.store = store
        self.objects = objects
        self.config = config
        self.images = frozenset(config.kubelet_images)
        self.root = config.data_directory / "kubelet"
        self.runs: dict[PodKey, PodRun] = {}
        self.server_url: str | None = None  # where the simulator listens (``serving_at``)
        self.ca_pem = ""
        self.seen_url: str | None = None  # else: the base URL of the last cluster API request
        self._pending: list[tuple[str, str, Object]] = []  # this transaction's (cluster, event, pod) (database thread)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(config.kubelet_max_running)
        self._stopping = False
        self._chores: set[asyncio.Task[Any]] = set()
        objects.executes = self.executes
        objects.watch(self._record)
        objects.purge_hooks.append(self._purged)
        store.commit_hooks.append(self._committed)

    def executes(self, pod: Object) -> bool:
        containers = (pod.get("spec") or {}).get("containers")
        return isinstance(containers, list) and any(
            isinstance(c, dict) and c.get("image") in self.images for c in containers
        )

    def serving_at(self, url: str, ca_pem: str) -> None:
        self.server_url, self.ca_pem = url.rstrip("/"), ca_pem

    def log_path(self, key: PodKey) -> Path:
        cluster = hashlib.sha256(key.cluster.encode()).hexdigest()[:16]
        pod = hashlib.sha256(f"{key.namespace}/{key.name}/{key.uid}".encode()).hexdigest()[:32]
        return self.root / "logs" / cluster / f"{pod}.log"

    def active(self, key: PodKey) -> PodRun | None:
        return self.runs.get(key)

    # -- the store's writes (database thread), delivered on commit ------------------------------------------

    def _record(self, cluster: str, resource: str, event: str, obj: Object) -> None:
        if resource == "pods" and event in ("ADDED", "DELETED") and self.executes(obj):
            self._pending.append((cluster, event, obj))

    def _purged(self, cluster: str) -> None:
        self._pending.append((cluster, "PURGED", {}))

    def mark(self) -> int:
        return len(self._pending)

    def rollback_to(self, mark: int) -> None:
        del self._pending[mark:]

    def _committed(self, ok: bool) -> None:
        events, self._pending = self._pending, []
        if ok and events and self._loop is not None and not self._stopping:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the simulator has stopped
                self._loop.call_soon_threadsafe(self._deliver, events)

    def _deliver(self, events: list[tuple[str, str, Object]]) -> None:
        for cluster, event, pod in events:
            if event == "PURGED":
                for run in [r for k, r in self.runs.items() if k.cluster == cluster]:
                    self._stop(run, deleted=True)
                digest = hashlib.sha256(cluster.encode()).hexdigest()[:16]
                self._chore(asyncio.to_thread(shutil.rmtree, self.root / "logs" / digest, True))
                continue
            m = meta(pod)
            key = PodKey(cluster, str(m.get("namespace", "")), str(m.get("name", "")), str(m.get("uid", "")))
            if event == "ADDED":
                self._start(key)
            elif key in self.runs:
                self._stop(self.runs[key], deleted=True)
            else:
                self._chore(asyncio.to_thread(_remove_file, self.log_path(key)))

    def _chore(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    # -- lifecycle (event loop) ------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Bind to the loop, forget stale sandboxes, mark the pods whose process died NodeLost, queue the rest."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._slots = asyncio.Semaphore(self.config.kubelet_max_running)
        await asyncio.to_thread(shutil.rmtree, self.root / "pods", True)
        for key in await self.store.run(self._recover, time.time()):
            self._start(key)

    async def shutdown(self) -> None:
        """Kill every process group now, wait for their runs to end (their directories go with them)."""
        self._stopping = True
        for run in list(self.runs.values()):
            run.shutting_down = True
            run.stop.set()
            if run.process is not None and run.process.returncode is None:
                _killpg(run.process.pid, signal.SIGKILL)
        tasks = [r.task for r in self.runs.values() if r.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        if self._chores:
            await asyncio.wait(list(self._chores), timeout=10)

    def _start(self, key: PodKey) -> None:
        if self._stopping or key in self.runs or self._loop is None:
            return
        run = PodRun(key, self.log_path(key))
        self.runs[key] = run
        run.task = asyncio.create_task(self._run(run), name=f"kubelet {key.namespace}/{key.name}")

    def _stop(self, run: PodRun, deleted: bool) -> None:
        run.deleted = run.deleted or deleted
        run.stop.set()

    async def _stopped_within(self, run: PodRun, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.stop.wait(), seconds)
        return run.stop.is_set()

    async def _acquire(self, run: PodRun) -> bool:
        """A slot, unless the run is stopped first."""
        getter = asyncio.ensure_future(self._slots.acquire())
        stopper = asyncio.ensure_future(run.stop.wait())
        await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if getter.done() and not getter.cancelled():
            if run.stop.is_set():
                self._slots.release()
                return False
            return True
        getter.cancel()
        return False

    async def _run(self, run: PodRun) -> None:
        key, acquired, sandbox = run.key, False, None
        try:
            acquired = await self._acquire(run)
            if not acquired:
                return
            materials = await self._prepare(run)
            if materials is None:
                return
            sandbox = await asyncio.to_thread(self._materialize, key, materials)
            started = time.time()
            if run.stop.is_set() or not await self.store.run(self._mark_running, key, started):
                return
            await self._execute(run, materials, sandbox, started)
        except PodFailed as e:
            if not run.stop.is_set():
                await self.store.run(self._fail, key, e.reason, e.message)
        except Exception as e:  # a bug or the host (a full disk): the pod fails, saying so
            if not run.stop.is_set():
                await self.store.run(self._fail, key, "InternalError", f"{type(e).__name__}: {e}")
        finally:
            if acquired:
                self._slots.release()
            if sandbox is not None:
                await asyncio.to_thread(_remove_tree, sandbox)
            if run.deleted:
                await asyncio.to_thread(_remove_file, run.log_path)
            run.finished = True
            self.runs.pop(key, None)
            run.notify()

    async def _prepare(self, run: PodRun) -> Materials | None:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                materials: Materials | None = await self.store.run(self._materials, run.key)
                return materials
            except PodFailed as e:
                if not e.retry or time.monotonic() >= deadline:
                    raise
            if await self._stopped_within(run, 0.25):
                return None

    # -- the process -------------------------------------------------------------------------------------------

    def _argv(self, m: Materials, sandbox: Path) -> list[str]:
        mounts = sorted(m.mounts, key=lambda mount: len(mount[0]), reverse=True)
        out = [m.argv[0]]
        for arg in m.argv[1:]:
            for path, volume, sub in mounts:
                prefix = path.rstrip("/") or "/"
                if arg == prefix or arg.startswith(prefix.rstrip("/") + "/"):
                    target = sandbox / "volumes" / volume
                    arg = str(target / sub if sub else target) + arg[len(prefix.rstrip("/")) :]
                    break
            out.append(arg)
        return out

    @staticmethod
    def _limits(m: Materials) -> list[tuple[int, int, int]]:
        wanted = (
            (resource.RLIMIT_DATA, m.memory, m.memory),
            (resource.RLIMIT_CPU, m.cpu_seconds, m.cpu_seconds + 1),  # SIGXCPU at the soft limit, SIGKILL after
            (resource.RLIMIT_FSIZE, MAX_FILE_BYTES, MAX_FILE_BYTES),
            (resource.RLIMIT_NOFILE, MAX_FILES, MAX_FILES),
            (resource.RLIMIT_CORE, 0, 0),
        )
        out = []
        for which, soft, hard in wanted:
            _, current = resource.getrlimit(which)
            if current != resource.RLIM_INFINITY:
                soft, hard = min(soft, current), min(hard, current)
            out.append((which, soft, hard))
        return out

    async def _execute(self, run: PodRun, m: Materials, sandbox: Path, started: float) -> None:
        env = {
            "PATH": PATH_VALUE,
            "LANG": "C.UTF-8",
            "HOME": str(sandbox),
            "KUBECONFIG": str(sandbox / "kubeconfig"),
            **m.env,
        }
        await asyncio.to_thread(run.log_path.parent.mkdir, 0o700, True, True)
        log = await asyncio.to_thread(open, run.log_path, "ab", 0)
        reason, code = "", -1
        try:
            try:
                proc = await asyncio.create_subprocess_exec(
                    *self._argv(m, sandbox),
                    cwd=sandbox,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=functools.partial(_apply_limits, self._limits(m)),
                )
            except OSError as e:
                await asyncio.to_thread(_write_all, log, f"cannot start the container: {e}\n".encode())
                code = 128
            else:
                run.process = proc
                assert proc.stdout is not None
                pump = asyncio.create_task(self._pump(run, proc.stdout, log))
                waiter = asyncio.ensure_future(proc.wait())
                stopper = asyncio.ensure_future(run.stop.wait())
                done, _ = await asyncio.wait(
                    {waiter, stopper}, timeout=max(0.0, m.deadline), return_when=asyncio.FIRST_COMPLETED
                )
                stopper.cancel()
                if waiter not in done:
                    reason = "" if run.stop.is_set() else "DeadlineExceeded"
                    await self._terminate(proc, waiter, 0.0 if run.shutting_down else m.grace)
                _killpg(proc.pid, signal.SIGKILL)  # whatever the script left behind in its group
                try:
                    await asyncio.wait_for(pump, 5)
                except TimeoutError:  # a grandchild that left the group holds the pipe
                    pump.cancel()
                code = proc.returncode if proc.returncode is not None else -signal.SIGKILL
        finally:
            await asyncio.to_thread(log.close)
        if not run.stop.is_set():
            await self.store.run(self._terminated, run.key, started, time.time(), code, reason, m.deadline)

    async def _terminate(self, proc: asyncio.subprocess.Process, waiter: asyncio.Future[int], grace: float) -> None:
        _killpg(proc.pid, signal.SIGTERM)
        if grace > 0:
            done, _ = await asyncio.wait({waiter}, timeout=grace)
            if done:
                return
        _killpg(proc.pid, signal.SIGKILL)
        await waiter

    async def _pump(self, run: PodRun, stream: asyncio.StreamReader, log: Any) -> None:
        cap, written = self.config.kubelet_log_max_bytes, 0
        while chunk := await stream.read(_CHUNK):
            if written >= cap:
                continue  # drained, not kept
            if written + len(chunk) > cap:
                chunk = chunk[: cap - written] + TRUNCATED.format(cap).encode()
                written = cap
            else:
                written += len(chunk)
            await asyncio.to_thread(_write_all, log, chunk)
            run.notify()

    def _materialize(self, key: PodKey, m: Materials) -> Path:
        """The pod's private directory (a worker thread)."""
        pods = self.root / "pods"
        pods.mkdir(parents=True, exist_ok=True, mode=0o700)
        sandbox = Path(tempfile.mkdtemp(prefix=f"{key.namespace}.{key.name}."[:80], dir=pods))  # 0700
        for volume, files in m.volumes.items():
            root = sandbox / "volumes" / volume
            root.mkdir(parents=True, mode=0o700)
            for relative, content in files.items():
                path = root / relative
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                path.write_bytes(content)
                path.chmod(0o444 if volume in m.read_only else 0o644)
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "cluster", "cluster": {"server": m.server}}],
            "users": [{"name": "pod", "user": {"token": m.token}}],
            "contexts": [{"name": "pod", "context": {"cluster": "cluster", "user": "pod", "namespace": m.namespace}}],
            "current-context": "pod",
        }
        if m.ca_pem:
            kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(  # type: ignore[index]
                m.ca_pem.encode()
            ).decode()
        fd = os.open(sandbox / "kubeconfig", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(kubeconfig, f)
        return sandbox

    # -- the store (database thread) ---------------------------------------------------------------------------

    def _pod(self, key: PodKey) -> Object | None:
        pod = self.objects.get(key.cluster, "pods", key.namespace, key.name)
        return pod if pod is not None and meta(pod).get("uid") == key.uid else None

    def _recover(self, now: float) -> list[PodKey]:
        queued: list[PodKey] = []
        rows = self.objects.db.execute(
            "SELECT cluster, namespace, name, body FROM kube_objects WHERE resource = 'pods'"
            " AND json_extract(body, '$.status.phase') IN ('Pending', 'Running')"
        ).fetchall()
        for row in rows:
            pod = json.loads(row["body"])
            if not self.executes(pod):
                continue
            key = PodKey(str(row["cluster"]), str(row["namespace"]), str(row["name"]), str(meta(pod).get("uid", "")))
            if (pod.get("status") or {}).get("phase") == "Running":
                message = "the node restarted (the simulator stopped) while the pod ran: its process is gone"
                self._write_failed(key, pod, "NodeLost", message, 137, "ContainerStatusUnknown", now)
            else:
                queued.append(key)
        return queued

    def _mark_running(self, key: PodKey, started: float) -> bool:
        pod = self._pod(key)
        if pod is None or (pod.get("status") or {}).get("phase") != "Pending":
            return False
        run_pod(pod, started)
        return self.objects.set_pod_status(key.cluster, key.namespace, key.name, key.uid, pod["status"]) is not None

    def _fail(self, key: PodKey, reason: str, message: str) -> None:
        pod = self._pod(key)
        if pod is not None and (pod.get("status") or {}).get("phase") in ("Pending", "Running"):
            self._write_failed(key, pod, reason, message, 128, reason, time.time())

    def _write_failed(
        self, key: PodKey, pod: Object, reason: str, message: str, exit_code: int, container_reason: str, now: float
    ) -> None:
        status = dict(pod.get("status") or {})
        started = status.get("startTime") or iso_seconds(now)
        status.update(
            {
                "phase": "Failed",
                "reason": reason,
                "message": message,
                "startTime": started,
                "conditions": self._ended("PodFailed", now),
            }
        )
        status["containerStatuses"] = self._container(
            pod, exit_code, container_reason, started, iso_seconds(now), message
        )
        self.objects.set_pod_status(key.cluster, key.namespace, key.name, key.uid, status)

    def _terminated(
        self, key: PodKey, started: float, finished: float, code: int, reason: str, deadline: float
    ) -> None:
        pod = self._pod(key)
        if pod is None:
            return
        exit_code = code if code >= 0 else 128 - code
        status = dict(pod.get("status") or {})
        status.pop("reason", None)
        status.pop("message", None)
        if reason == "DeadlineExceeded":
            phase, container_reason = "Failed", "DeadlineExceeded"
            status["reason"] = "DeadlineExceeded"
            status["message"] = f"Pod was active on the node longer than the specified deadline ({deadline:g}s)"
        elif exit_code == 0:
            phase, container_reason = "Succeeded", "Completed"
        else:
            phase, container_reason = "Failed", "Error"
        status["phase"] = phase
        status["conditions"] = self._ended("PodCompleted" if phase == "Succeeded" else "PodFailed", finished)
        status["containerStatuses"] = self._container(
            pod, exit_code, container_reason, iso_seconds(started), iso_seconds(finished), ""
        )
        self.objects.set_pod_status(key.cluster, key.namespace, key.name, key.uid, status)

    @staticmethod
    def _ended(why: str, now: float) -> list[Object]:
        at = iso_seconds(now)
        out: list[Object] = [
            {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": at}
            for t in ("Initialized", "PodScheduled")
        ]
        out += [
            {"type": t, "status": "False", "reason": why, "lastProbeTime": None, "lastTransitionTime": at}
            for t in ("Ready", "ContainersReady")
        ]
        return out

    @staticmethod
    def _container(pod: Object, exit_code: int, reason: str, started: str, finished: str, message: str) -> list[Object]:
        out = []
        for c in (pod.get("spec") or {}).get("containers") or []:
            if not isinstance(c, dict):
                continue
            terminated: Object = {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": finished}
            if message:
                terminated["message"] = message
            out.append(
                {
                    "name": c.get("name", ""),
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": False,
                    "started": False,
                    "restartCount": 0,
                    "state": {"terminated": terminated},
                }
            )
        return out

    def _materials(self, key: PodKey) -> Materials | None:
        """What the pod needs to run (None: it is gone, or no longer Pending); PodFailed when it cannot run."""
        pod = self._pod(key)
        if pod is None or (pod.get("status") or {}).get("phase") != "Pending":
            return None
        spec = pod.get("spec") or {}
        containers = spec.get("containers") or []
        if len(containers) != 1 or spec.get("initContainers"):
            raise PodFailed("UnsupportedPod", "an executed pod has exactly one container and no init containers")
        container = containers[0]
        command = container.get("command")
        args = container.get("args") or []
        if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in [*command, *args]):
            raise PodFailed("UnsupportedCommand", "the container needs a command: bash or python3 and its arguments")
        interpreter = os.path.basename(command[0])
        found = shutil.which(interpreter, path=PATH_VALUE) if interpreter in INTERPRETERS else None
        if found is None:
            raise PodFailed(
                "UnsupportedCommand",
                f"command {command[0]!r} is not supported: the script runs with bash or python3"
                + ("" if interpreter not in INTERPRETERS else f" (no {interpreter} on {PATH_VALUE})"),
            )
        try:
            env = self._env(key, pod, container)
            volumes, read_only, mounts = self._volumes(key, spec, container)
            token = self._token(key, str(spec.get("serviceAccountName") or "default"))
        except KubeError as e:
            raise PodFailed("CreateContainerConfigError", e.message) from None
        deadline = spec.get("activeDeadlineSeconds")
        seconds = deadline if isinstance(deadline, int) and deadline > 0 else self.config.kubelet_deadline_seconds
        seconds = min(seconds, self.config.kubelet_max_deadline_seconds)
        grace = spec.get("terminationGracePeriodSeconds")
        limits = (container.get("resources") or {}).get("limits") or {}
        memory = quantity(limits.get("memory")) if limits.get("memory") is not None else None
        cores = quantity(limits.get("cpu")) if limits.get("cpu") is not None else None
        base = self.server_url or self.seen_url or "https://127.0.0.1"
        return Materials(
            argv=[found, *command[1:], *args],
            env=env,
            volumes=volumes,
            read_only=read_only,
            mounts=mounts,
            server=base + base_path(key.cluster),
            ca_pem=self.ca_pem,
            token=token,
            namespace=key.namespace,
            deadline=float(seconds),
            grace=min(float(grace), GRACE_CAP_SECONDS) if isinstance(grace, int) and grace >= 0 else GRACE_CAP_SECONDS,
            memory=int(min(memory, MAX_MEMORY)) if memory and memory > 0 else DEFAULT_MEMORY,
            cpu_seconds=max(1, math.ceil((cores if cores and cores > 0 else 1.0) * seconds)),
        )

    def _key_of(self, key: PodKey, kind: str, ref: Any) -> str | None:
        """``configMapKeyRef`` / ``secretKeyRef``: the value (None: optional and missing)."""
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not isinstance(ref.get("key"), str):
            raise PodFailed("CreateContainerConfigError", f"a {kind} key reference needs a name and a key")
        plural = "configmaps" if kind == "configmap" else "secrets"
        obj = self.objects.get(key.cluster, plural, key.namespace, ref["name"])
        data = (obj or {}).get("data") or {}
        if ref["key"] not in data:
            if ref.get("optional"):
                return None
            missing = (
                f'{kind} "{ref["name"]}" not found'
                if obj is None
                else f'{kind} "{ref["name"]}" has no key {ref["key"]!r}'
            )
            raise PodFailed("CreateContainerConfigError", missing, retry=True)
        value = data[ref["key"]]
        if plural == "secrets":
            try:
                return base64.b64decode(value).decode(errors="replace")
            except (binascii.Error, ValueError):
                return ""
        return str(value)

    def _env(self, key: PodKey, pod: Object, container: Object) -> dict[str, str]:
        out: dict[str, str] = {}
        entries = container.get("env") or []
        if not isinstance(entries, list):
            raise PodFailed("CreateContainerConfigError", "env must be a list")
        for entry in entries:
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not _ENV_NAME.match(name):
                raise PodFailed("CreateContainerConfigError", f"invalid environment variable name {name!r}")
            value: str | None
            source = entry.get("valueFrom")
            if isinstance(source, dict):
                if "fieldRef" in source:
                    path = (source.get("fieldRef") or {}).get("fieldPath")
                    if path not in _FIELDS:
                        raise PodFailed("CreateContainerConfigError", f"unsupported fieldRef {path!r}")
                    value = str(_FIELDS[path](pod) or "")
                elif "configMapKeyRef" in source:
                    value = self._key_of(key, "configmap", source["configMapKeyRef"])
                elif "secretKeyRef" in source:
                    value = self._key_of(key, "secret", source["secretKeyRef"])
                else:
                    raise PodFailed("CreateContainerConfigError", f"unsupported valueFrom of {name}")
            else:
                raw = entry.get("value", "")
                value = raw if isinstance(raw, str) else json.dumps(raw)
            if value is None:
                continue
            if "\x00" in value:
                raise PodFailed("CreateContainerConfigError", f"environment variable {name} holds a NUL byte")
            out[name] = value
        return out

    def _volumes(
        self, key: PodKey, spec: Object, container: Object
    ) -> tuple[dict[str, dict[str, bytes]], set[str], list[tuple[str, str, str]]]:
        declared = {v.get("name"): v for v in spec.get("volumes") or [] if isinstance(v, dict)}
        mounts: list[tuple[str, str, str]] = []
        writable: set[str] = set()
        for mount in container.get("volumeMounts") or []:
            if not isinstance(mount, dict) or mount.get("name") not in declared:
                raise PodFailed("CreateContainerConfigError", f"volume mount {mount!r} names no volume of the pod")
            path, sub = mount.get("mountPath"), mount.get("subPath") or ""
            if not isinstance(path, str) or not path.startswith("/") or (sub and not _safe_relative(str(sub))):
                raise PodFailed("CreateContainerConfigError", f"invalid mountPath or subPath in {mount!r}")
            mounts.append((path, str(mount["name"]), str(sub)))
            if not mount.get("readOnly"):
                writable.add(str(mount["name"]))
        volumes: dict[str, dict[str, bytes]] = {}
        for name in {m[1] for m in mounts}:
            volumes[name] = self._volume(key, declared[name])
        return volumes, set(volumes) - writable, mounts

    def _volume(self, key: PodKey, volume: Object) -> dict[str, bytes]:
        name = volume.get("name")
        if "emptyDir" in volume:
            return {}
        if "configMap" in volume:
            source, plural, kind = volume.get("configMap") or {}, "configmaps", "configmap"
            ref = source.get("name")
        elif "secret" in volume:
            source, plural, kind = volume.get("secret") or {}, "secrets", "secret"
            ref = source.get("secretName")
        else:
            raise PodFailed(
                "UnsupportedVolume", f"volume {name!r}: only configMap, secret and emptyDir volumes are supported"
            )
        obj = self.objects.get(key.cluster, plural, key.namespace, str(ref))
        if obj is None:
            if source.get("optional"):
                return {}
            raise PodFailed("CreateContainerConfigError", f'{kind} "{ref}" not found', retry=True)
        data: dict[str, bytes] = {}
        for k, v in (obj.get("data") or {}).items():
            if plural == "configmaps":
                data[k] = str(v).encode()
            else:
                data[k] = base64.b64decode(str(v))
        for k, v in (obj.get("binaryData") or {}).items():
            data[k] = base64.b64decode(str(v))
        items = source.get("items")
        if isinstance(items, list) and items:
            chosen: dict[str, bytes] = {}
            for item in items:
                if not isinstance(item, dict) or item.get("key") not in data:
                    raise PodFailed("CreateContainerConfigError", f"{kind} {ref!r} has no key {item!r}", retry=True)
                chosen[str(item.get("path") or item["key"])] = data[item["key"]]
            data = chosen
        for relative in data:
            if not _safe_relative(relative):
                raise PodFailed("CreateContainerConfigError", f"invalid file name {relative!r} in volume {name!r}")
        return data

    def _token(self, key: PodKey, account: str) -> str:
        if not self.objects.exists(key.cluster, "serviceaccounts", key.namespace, account):
            raise PodFailed("CreateContainerConfigError", f'serviceaccount "{account}" not found', retry=True)
        for secret in self.objects.iterate(key.cluster, "secrets", key.namespace, None):
            annotations = meta(secret).get("annotations") or {}
            token = (secret.get("data") or {}).get("token")
            if secret.get("type") == SA_TOKEN_TYPE and annotations.get(SA_NAME_ANNOTATION) == account and token:
                return base64.b64decode(token).decode()
        body = {
            "metadata": {"generateName": f"{account[:200]}-token-", "annotations": {SA_NAME_ANNOTATION: account}},
            "type": SA_TOKEN_TYPE,
        }
        created = self.objects.create(key.cluster, RESOURCES["secrets"], key.namespace, body)
        return base64.b64decode(created["data"]["token"]).decode()
