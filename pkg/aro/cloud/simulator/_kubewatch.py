"""Watches: ``?watch=true`` on a list path (or the legacy ``/api/v1/watch/...``) streams the changes of the
matching objects as newline-separated JSON events ``{"type": "ADDED" | "MODIFIED" | "DELETED", "object":
...}`` -- each object a one-row ``Table`` when the ``Accept`` asks for tables, as ``kubectl get -w`` does.

- Without ``resourceVersion`` (or with ``0``): every matching object first, as ADDED, then the changes.
- With one (a list's, as kubectl and informers send): the objects changed since then, as MODIFIED, then the
  changes. There is no history: a delete between that version and the watch is not replayed.
- Stored objects: the store's committed writes (a rolled-back or dry-run write is never sent), filtered by
  namespace and selectors on the object as written (an update that takes an object out of a selector is not
  sent as DELETED). Derived nodes: the node list is compared every ``POLL_SECONDS``.
- Pods turn Running when a transaction settles them: an idle pod watch settles every ``POLL_SECONDS``.
- A watch ends after ``timeoutSeconds`` (default and cap ``MAX_SECONDS``), when the client goes, when the
  simulator stops, or when it falls ``QUEUE_EVENTS`` events behind (the client lists again, as it does
  with a real API server).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._kubeselect import FieldRequirement, Requirement, fields_match, labels_match

if TYPE_CHECKING:
    from ._kubeobjects import KubeObjects
    from ._store import Store

Object = dict[str, Any]
Event = tuple[str, Object]  # (type, object)
POLL_SECONDS = 0.25
MAX_SECONDS = 1800.0
QUEUE_EVENTS = 1000


@dataclass(eq=False)
class Subscription:
    cluster: str
    resource: str
    namespace: str | None
    labels: tuple[Requirement, ...]
    fields: tuple[FieldRequirement, ...]
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_EVENTS))
    overflowed: bool = False

    def matches(self, obj: Object) -> bool:
        ns = (obj.get("metadata") or {}).get("namespace") or ""
        if self.namespace is not None and ns != self.namespace:
            return False
        return labels_match(self.labels, obj) and fields_match(self.fields, obj)


class WatchHub:
    """Fans the object store's committed writes out to the open watches (delivered on the event loop)."""

    def __init__(self, objects: KubeObjects, store: Store) -> None:
        self._lock = threading.Lock()
        self._subs: dict[tuple[str, str], set[Subscription]] = {}
        self._pending: list[tuple[str, str, Event]] = []  # this transaction's writes (database thread)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stopping = asyncio.Event()
        objects.watch(self._record)
        store.commit_hooks.append(self._committed)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    # -- database thread -----------------------------------------------------------------------------------

    def _record(self, cluster: str, resource: str, event: str, obj: Object) -> None:
        if self._subs:
            self._pending.append((cluster, resource, (event, obj)))

    def mark(self) -> int:
        return len(self._pending)

    def rollback_to(self, mark: int) -> None:
        del self._pending[mark:]

    def _committed(self, ok: bool) -> None:
        events, self._pending = self._pending, []
        if ok and events and self._loop is not None:
            self._loop.call_soon_threadsafe(self._deliver, events)

    def subscribe(self, sub: Subscription) -> None:
        """Called inside the transaction that read the watch's starting state: no later write is missed."""
        with self._lock:
            self._subs.setdefault((sub.cluster, sub.resource), set()).add(sub)

    # -- event loop ----------------------------------------------------------------------------------------

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get((sub.cluster, sub.resource), set())
            subs.discard(sub)
            if not subs:
                self._subs.pop((sub.cluster, sub.resource), None)

    def _deliver(self, events: list[tuple[str, str, Event]]) -> None:
        for cluster, resource, event in events:
            with self._lock:
                subs = list(self._subs.get((cluster, resource), ()))
            for sub in subs:
                if sub.overflowed or not sub.matches(event[1]):
                    continue
                try:
                    sub.queue.put_nowait(event)
                except asyncio.QueueFull:
                    sub.overflowed = True

    async def stream(
        self,
        initial: list[Event],
        render: Callable[[Object], Object],
        seconds: float,
        disconnected: Callable[[], Awaitable[None]],
        sub: Subscription | None = None,
        poll: Callable[[], Awaitable[list[Object]]] | None = None,
        tick: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[bytes]:
        """The event stream: ``initial``, then ``sub``'s events, or (``poll``) the differences between
        successive snapshots; ``tick`` runs whenever the watch is idle for ``POLL_SECONDS``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(seconds, MAX_SECONDS)
        gone = asyncio.ensure_future(disconnected())
        stop = asyncio.ensure_future(self.stopping.wait())
        snapshot: dict[str, Object] = {}
        if poll is not None:
            snapshot = {_key(o): o for o in await poll()}

        def line(event: Event) -> bytes:
            return json.dumps({"type": event[0], "object": render(event[1])}).encode() + b"\n"

        try:
            for event in initial:
                yield line(event)
            while loop.time() < deadline and not gone.done() and not stop.done():
                if sub is not None and sub.overflowed:
                    return
                getter = asyncio.ensure_future(sub.queue.get()) if sub is not None else None
                waiting: set[asyncio.Future[Any]] = {gone, stop} | ({getter} if getter is not None else set())
                timeout = min(POLL_SECONDS, max(0.0, deadline - loop.time()))
                done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if getter is not None and getter in done:
                    yield line(getter.result())
                    while sub is not None and not sub.queue.empty():
                        yield line(sub.queue.get_nowait())
                    continue
                if getter is not None:
                    getter.cancel()
                if poll is not None:
                    current = {_key(o): o for o in await poll()}
                    for event in _differences(snapshot, current):
                        yield line(event)
                    snapshot = current
                elif tick is not None:
                    await tick()
        finally:
            if sub is not None:
                self.unsubscribe(sub)
            for fut in (gone, stop):
                fut.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fut


def _key(obj: Object) -> str:
    m = obj.get("metadata") or {}
    return f"{m.get('namespace', '')}/{m.get('name', '')}"


def _differences(before: dict[str, Object], after: dict[str, Object]) -> list[Event]:
    out: list[Event] = [("DELETED", obj) for key, obj in before.items() if key not in after]
    for key, obj in after.items():
        if key not in before:
            out.append(("ADDED", obj))
        elif before[key] != obj:
            out.append(("MODIFIED", obj))
    return out
