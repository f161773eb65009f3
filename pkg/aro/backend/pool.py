"""The worker pool: claim work with ``dequeue_many``, run each item under a heartbeat, stop gracefully.

Wake-up is immediate for claimable writes made in this process (the store's ``on_claimable`` hook) and
within ``backend.pollSeconds`` for writes of other processes. At most ``backend.workers`` items run at
once. A claim round takes up to ``CLAIM_BATCH`` documents per store round trip (no more than there are
free workers), again and again while it gets full batches; each claimed item gets its own lease owner id
(``<host>-<pid>-<pool id>-<claim id>``), so two items can never share a lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aro.backend.work import Superseded, Work, heartbeat
from aro.database import LostLease, Store
from aro.env.config import BackendConfig
from aro.util import log as logutil
from aro.util.metrics import Metrics

log = logging.getLogger("aro.backend")

# Most documents claimed in one store round trip: SQLite claims them in one transaction (which holds the
# write lock meanwhile), Cosmos DB with as many concurrent conditional writes.
CLAIM_BATCH = 64

Handle = Callable[[Work, Callable[[], bool]], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    container: str
    handle: Handle  # (work, stopping) -> None; ends or releases the lease itself


@dataclass
class PoolStats:
    running: int = 0
    claimed: int = 0
    lost_leases: int = 0
    failed: int = 0


class WorkerPool:
    def __init__(self, store: Store, config: BackendConfig, handlers: list[Handler], metrics: Metrics | None = None):
        self.store = store
        self.metrics = metrics or Metrics()
        self.metrics.workers.set(config.workers)
        self.metrics.workers_busy.set_function(lambda: self.stats.running)
        self.config = config
        self.handlers = handlers
        self.identity = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stats = PoolStats()
        self._wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self.polling = asyncio.Event()  # set once the first poll has run (readiness)
        store.on_claimable(lambda _container: self._wake.set())

    def stopping(self) -> bool:
        return self._stopping

    async def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name="aro-backend-dispatch")

    async def _dispatch(self) -> None:
        while not self._stopping:
            self._wake.clear()
            claimed = await self._claim_round()
            self.polling.set()
            if self._stopping:
                return
            if self.stats.running >= self.config.workers:
                self._slot_freed.clear()
                await self._slot_freed.wait()
            elif not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)

    async def _claim_round(self) -> int:
        claimed = 0
        for handler in self.handlers:
            container = self.store.container(handler.container)
            while not self._stopping:
                free = self.config.workers - self.stats.running
                if free <= 0:
                    break
                owners = [f"{self.identity}-{uuid.uuid4().hex[:8]}" for _ in range(min(free, CLAIM_BATCH))]
                leased_at = time.monotonic()  # (before the claims: their leases last at least from here)
                try:
                    docs = await container.dequeue_many(owners, self.config.lease_seconds)
                except Exception:
                    log.exception("dequeue failed")
                    return claimed
                for doc in docs:
                    claimed += 1
                    self.stats.claimed += 1
                    self.metrics.claims.inc()
                    work = Work(container, doc, doc["leaseOwner"], self.config.lease_seconds, leased_at=leased_at)
                    self._spawn(handler, work)
                if len(docs) < len(owners):  # no more work for now (or others won the rest)
                    break
        return claimed

    def _spawn(self, handler: Handler, work: Work) -> None:
        self.stats.running += 1

        async def run() -> None:
            logutil.bind(docKey=str(work.doc.get("key")), leaseOwner=work.owner, container=handler.container)
            me = asyncio.current_task()
            assert me is not None
            try:
                async with heartbeat(work, self.config.heartbeat, me):
                    await handler.handle(work, self.stopping)
            except asyncio.CancelledError:
                if work.lost:
                    self.stats.lost_leases += 1
                    self.metrics.lease_losses.inc()
                    log.warning("work cancelled: lease lost")
                else:
                    await self._release(work)
                    if not work.superseded:  # (superseded: cancelled by its heartbeat; the new operation goes next)
                        raise
            except Superseded:
                log.info("operation superseded: item given back")
                await self._release(work)
            except LostLease:
                self.stats.lost_leases += 1
                self.metrics.lease_losses.inc()
                log.warning("work abandoned: lease lost")
            except Exception:
                self.stats.failed += 1
                log.exception("work failed unexpectedly; the lease will expire and the item be retried")

        task = asyncio.create_task(run())
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self.stats.running -= 1
            self._slot_freed.set()

        task.add_done_callback(done)

    async def _release(self, work: Work) -> None:
        """Give an unfinished item back at once (shutdown, superseded): lease cleared, dequeue not counted."""

        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(work.give_back()), 5)

    async def stop(self) -> None:
        """Stop claiming; let running items reach a step boundary within backend.shutdownSeconds;
        then cancel what is left, releasing its leases."""
        self._stopping = True
        self._wake.set()
        self._slot_freed.set()
        if self._dispatcher is not None:
            await self._dispatcher
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.config.shutdown_seconds)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending, timeout=10)
        log.info("backend stopped", extra={"claimed": self.stats.claimed})
