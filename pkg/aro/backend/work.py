"""One claimed document: its lease, the heartbeat that keeps it, and lease-checked writes.

All writes of one work item go through ``Work`` and are serialised by its lock, so the heartbeat and
the steps never race each other for the etag. A renewal writes the lease only (not the document's body,
and without an etag condition) and adopts the document as stored, so it notices the writes of others as a
reload does. If a renewal finds the lease gone, the work is cancelled at once; so it is when no renewal
has succeeded for longer than ``lease_limit`` (the store failing, the event loop starved): the lease may
run out before the next, and another backend take the item over, so the work must not go on.

A work item carries out one operation (the document's ``asyncOperationId`` when it was claimed). When a
reload finds another operation there -- a delete accepted while a hosted cluster's create ran (ARO-HCP
allows it) -- the item is *superseded*: no write of the old operation goes through any more (``Superseded``;
otherwise its end would report the new operation done and overwrite its state), and the pool gives the
item back at once (``give_back``), so the new operation is claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aro.database import Container, Doc, LostLease, NotFound, PreconditionFailed

log = logging.getLogger("aro.backend.work")


class Superseded(Exception):
    """The document now carries another operation than the one this work item was claimed for."""


class Work:
    def __init__(
        self, container: Container, doc: Doc, owner: str, lease_seconds: float, *, leased_at: float | None = None
    ):
        self.container = container
        self.doc = doc
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.operation_id: str | None = doc.get("asyncOperationId")  # the operation this item carries out
        self.lost = False
        self.superseded = False
        # time.monotonic() when the lease was last taken or renewed: when that request was sent (the store
        # set the expiry later), so the lease lasts at least until renewed_at + lease_seconds
        self.renewed_at = time.monotonic() if leased_at is None else leased_at
        self._lock = asyncio.Lock()

    @property
    def dequeues(self) -> int:
        return int(self.doc.get("dequeues") or 0)

    async def _write(self, attempt: Callable[[Doc], Awaitable[Doc | None]], *, superseded_ok: bool = False) -> Doc:
        """Run one conditional write on a copy of the latest document; on a stale etag reload (LostLease
        if the lease is gone) and try again. The written document becomes the latest. Once the item is
        superseded only a ``superseded_ok`` write (giving it back) goes through."""
        async with self._lock:
            for _ in range(10):
                if self.superseded and not superseded_ok:
                    raise Superseded(f"{self.doc['id']}: operation {self.operation_id} was superseded")
                try:
                    written = await attempt(dict(self.doc))
                except PreconditionFailed:
                    await self._reload()
                    continue
                if written is not None:
                    self.doc = written
                return self.doc
            raise PreconditionFailed("too many concurrent writes")

    async def save(self, mutate: Callable[[Doc], None]) -> Doc:
        """Apply ``mutate`` and write, conditional on the etag and on our lease (LostLease otherwise)."""

        async def attempt(new: Doc) -> Doc:
            mutate(new)
            return await self.container.replace_with_lease(new, self.owner)

        return await self._write(attempt)

    async def end(self, mutate: Callable[[Doc], None], not_before: float = 0.0, *, superseded_ok: bool = False) -> Doc:
        """Final write: apply ``mutate`` and clear the lease in the same conditional write; a document left
        claimable is not claimed again before ``not_before`` (epoch seconds)."""

        async def attempt(new: Doc) -> Doc:
            mutate(new)
            return await self.container.end_lease(new, self.owner, not_before)

        return await self._write(attempt, superseded_ok=superseded_ok)

    async def release(self, not_before: float = 0.0, mutate: Callable[[Doc], None] | None = None) -> Doc:
        """Give the item back unfinished (shutdown, a re-queue), after applying ``mutate``: the lease is
        cleared and this claim is not counted against ``maxDequeues``."""

        def apply(doc: Doc) -> None:
            if mutate is not None:
                mutate(doc)
            uncount_claim(doc)

        return await self.end(apply, not_before)

    async def give_back(self) -> Doc:
        """Clear the lease at once, changing nothing else (shutdown, or a superseded operation: the
        document's own operation is claimed next); the claim does not count against ``maxDequeues``."""
        return await self.end(uncount_claim, superseded_ok=True)

    async def delete(self) -> None:
        async def attempt(doc: Doc) -> None:
            await self.container.delete_with_lease(doc, self.owner)

        await self._write(attempt)

    async def renew(self) -> None:
        """Extend the lease (LostLease/NotFound if it is gone; Superseded if the document, as the renewal
        returns it, carries another operation now)."""
        started = time.monotonic()
        async with self._lock:
            if not self.superseded:
                try:
                    doc = await self.container.renew_lease(self.doc, self.owner, self.lease_seconds)
                except LostLease:
                    self.lost = True
                    raise
                self.renewed_at = started
                self._adopt(doc)
            if self.superseded:
                raise Superseded(f"{self.doc['id']}: operation {self.operation_id} was superseded")

    async def _reload(self) -> None:
        doc = await self.container.get(self.doc["partitionKey"], self.doc["id"])
        if doc is None:
            raise NotFound(self.doc["id"])
        if doc.get("leaseOwner") != self.owner:
            self.lost = True
            raise LostLease(f"{self.doc['id']}: lease now held by {doc.get('leaseOwner')!r}")
        self._adopt(doc)

    def _adopt(self, doc: Doc) -> None:
        """``doc`` (read or returned by the store, ours) is the latest."""
        self.doc = doc
        if doc.get("asyncOperationId") != self.operation_id:
            self.superseded = True


def uncount_claim(doc: Doc) -> None:
    """A claim that is given back on purpose does not count as an attempt (``dequeues``)."""
    doc["dequeues"] = max(0, int(doc.get("dequeues") or 1) - 1)


def lease_limit(lease_seconds: float, interval: float) -> float:
    """How long after its last successful renewal (or its claim) a work item may go on: the lease minus a
    safety margin of one heartbeat interval (what a renewal may take), and at least half the lease."""
    return lease_seconds - min(interval, lease_seconds / 2)


@contextlib.asynccontextmanager
async def heartbeat(work: Work, interval: float, task: asyncio.Task[None]) -> AsyncIterator[None]:
    """Renew the lease every ``interval`` seconds while the block runs. Cancel ``task`` (``work.lost``) if
    the lease is lost, or once no renewal has succeeded for ``lease_limit`` seconds (monotonic clock): a
    renewal still pending then is abandoned, failed ones are retried every ``interval`` until then."""
    limit = lease_limit(work.lease_seconds, interval)
    every = min(interval, limit / 2)  # (a heartbeat slower than half the lease still renews in time)
    doc_id = work.doc["id"]

    def lose(message: str, error: object) -> None:
        work.lost = True
        log.warning(message, extra={"docId": doc_id, "error": str(error)})
        task.cancel()

    async def beat() -> None:
        attempted = work.renewed_at
        while True:
            deadline = work.renewed_at + limit
            await asyncio.sleep(max(0.0, min(attempted + every, deadline) - time.monotonic()))
            attempted = time.monotonic()
            remaining = work.renewed_at + limit - attempted
            if remaining <= 0:
                since = attempted - work.renewed_at
                lose("lease not renewed in time: cancelling work", f"no renewal for {since:.1f}s")
                return
            try:
                async with asyncio.timeout(remaining):
                    await work.renew()
            except (LostLease, NotFound) as e:
                lose("lease lost: cancelling work", e)
                return
            except Superseded:
                log.info("operation superseded: giving the item back", extra={"docId": doc_id})
                task.cancel()
                return
            except TimeoutError:  # the limit passed while renewing: cancelled at the top of the loop
                log.warning("lease renewal timed out", extra={"docId": doc_id})
            except Exception:  # a store hiccup: try again after interval, while the limit allows
                log.exception("lease renewal failed")

    beater = asyncio.create_task(beat())
    try:
        yield
    finally:
        beater.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beater
