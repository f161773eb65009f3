"""``GET /api/v1/namespaces/{ns}/pods/{name}/log``: a pod's log, ``text/plain``, authorized as ``get`` on
``pods/log`` (``_kube``).

- Query: ``container`` (must name the pod's container; required when it has several), ``follow``,
  ``tailLines`` (the last N lines), ``limitBytes`` (at most N bytes); ``timestamps``, ``previous`` and
  ``sinceSeconds`` are accepted and ignored. A bad number is a 400.
- A pod the kubelet executes (``_kubelet``) logs what its process wrote (stdout and stderr, interleaved); a
  pod it has not started yet has an empty log. Any other (simulated) pod's log is empty.
- ``follow=true`` streams the log as it is written, chunk by chunk, until the pod's process has ended and
  everything is sent (a pod that never runs here: until it is gone), the pod is deleted, the client leaves,
  the simulator stops, ``limitBytes`` is reached, or ``MAX_SECONDS``. Files are read off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._http import Request
from ._kubeerrors import bad_request, not_found
from ._kubelet import Kubelet, PodKey
from ._kuberesources import meta

Object = dict[str, Any]
MAX_SECONDS = 3600.0
IDLE_SECONDS = 0.25  # between looks at a pod that has no process here yet
_CHUNK = 64 * 1024
_TERMINAL = ("Succeeded", "Failed")


@dataclass(frozen=True)
class LogStart:
    """A log request, checked in the request's transaction; streamed on the event loop."""

    key: PodKey
    executed: bool
    follow: bool
    tail_lines: int | None
    limit_bytes: int | None


def _number(req: Request, name: str, minimum: int) -> int | None:
    raw = req.query.get(name.lower())
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise bad_request(f"{name}: invalid value {raw!r}: must be an integer") from None
    if value < minimum:
        raise bad_request(f"{name}: invalid value {value}: must be at least {minimum}")
    return value


def log_start(req: Request, cluster: str, pod: Object | None, namespace: str, name: str, kubelet: Kubelet) -> LogStart:
    if pod is None:
        raise not_found("pods", name)
    names = [str(c.get("name", "")) for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
    container = req.query.get("container", "")
    if container and container not in names:
        raise bad_request(f"container {container} is not valid for pod {name}")
    if not container and len(names) > 1:
        raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]")
    key = PodKey(cluster, namespace, name, str(meta(pod).get("uid", "")))
    return LogStart(
        key,
        kubelet.executes(pod),
        req.query.get("follow", "") in ("true", "1"),
        _number(req, "tailLines", 0),
        _number(req, "limitBytes", 1),
    )


def _read(path: Path, offset: int, size: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read(size)
    except FileNotFoundError:
        return b""


def _tail_offset(path: Path, lines: int) -> int:
    """Where the last ``lines`` lines of the file start."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    end = len(data) - (1 if data.endswith(b"\n") else 0)
    for _ in range(lines):
        end = data.rfind(b"\n", 0, end)
        if end < 0:
            return 0
    return end + 1 if lines else len(data)


async def stream(
    start: LogStart,
    kubelet: Kubelet,
    phase: Callable[[], Awaitable[str | None]],
    disconnected: Callable[[], Awaitable[None]],
    stopping: asyncio.Event,
) -> AsyncIterator[bytes]:
    """The log's bytes. ``phase()``: the pod's phase now (None: gone)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_SECONDS
    gone = asyncio.ensure_future(disconnected())
    path = kubelet.log_path(start.key)
    offset = 0
    if start.executed and start.tail_lines is not None:
        offset = await asyncio.to_thread(_tail_offset, path, start.tail_lines)
    sent, limit, draining = 0, start.limit_bytes, False
    try:
        while not gone.done() and not stopping.is_set() and loop.time() < deadline:
            data = await asyncio.to_thread(_read, path, offset, _CHUNK) if start.executed else b""
            if data:
                offset += len(data)
                if limit is not None:
                    data = data[: limit - sent]
                sent += len(data)
                yield data
                if limit is not None and sent >= limit:
                    return
                continue
            if not start.follow or draining:
                return
            run = kubelet.active(start.key)
            if run is not None:  # queued or running here: until it writes or ends
                await _first(run.changed(IDLE_SECONDS), gone, stopping)
                continue
            now = await phase()
            if now is None or (start.executed and now != "Pending"):
                draining = True  # gone, or ended with nothing running here: what is left, then the end
                continue
            await _first(asyncio.sleep(IDLE_SECONDS if start.executed else 1.0), gone, stopping)
    finally:
        gone.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gone


async def _first(work: Awaitable[Any], gone: asyncio.Future[Any], stopping: asyncio.Event) -> None:
    """Until ``work`` is done, the client has gone, or the simulator stops."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, gone, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for fut in (task, stop):
            fut.cancel()
