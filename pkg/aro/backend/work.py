"""One claimed document: its lease, the heartbeat that keeps it, and lease-checked writes.

All writes of one work item go through ``Work`` and are serialised by its lock, so the heartbeat and
the steps never race each other for the etag. If a renewal finds the lease gone, the work is cancelled
at once.

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
from collections.abc import AsyncIterator, Awaitable, Callable

from aro.database import Container, Doc, LostLease, NotFound, PreconditionFailed

log = logging.getLogger("aro.backend.work")


class Superseded(Exception):
    """The document now carries another operation than the one this work item was claimed for."""


class Work:
    def __init__(self, container: Container, doc: Doc, owner: str, lease_seconds: float):
        self.container = container
        self.doc = doc
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.operation_id: str | None = doc.get("asyncOperationId")  # the operation this item carries out
        self.lost = False
        self.superseded = False
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
        async def attempt(doc: Doc) -> Doc:
            return await self.container.renew_lease(doc, self.owner, self.lease_seconds)

        await self._write(attempt)

    async def _reload(self) -> None:
        doc = await self.container.get(self.doc["partitionKey"], self.doc["id"])
        if doc is None:
            raise NotFound(self.doc["id"])
        if doc.get("leaseOwner") != self.owner:
            self.lost = True
            raise LostLease(f"{self.doc['id']}: lease now held by {doc.get('leaseOwner')!r}")
        self.doc = doc
        if doc.get("asyncOperationId") != self.operation_id:
            self.superseded = True


def uncount_claim(doc: Doc) -> None:
    """A claim that is given back on purpose does not count as an attempt (``dequeues``)."""
    doc["dequeues"] = max(0, int(doc.get("dequeues") or 1) - 1)


@contextlib.asynccontextmanager
async def heartbeat(work: Work, interval: float, task: asyncio.Task[None]) -> AsyncIterator[None]:
    """Renew the lease every ``interval`` seconds while the block runs; cancel ``task`` if it is lost."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await work.renew()
            except (LostLease, NotFound) as e:
                work.lost = True
                log.warning("lease lost: cancelling work", extra={"docId": work.doc["id"], "error": str(e)})
                task.cancel()
                return
            except Superseded:
                log.info("operation superseded: giving the item back", extra={"docId": work.doc["id"]})
                task.cancel()
                return
            except Exception:  # a store hiccup: try again next beat; the lease outlives a few
                log.exception("lease renewal failed")

    beater = asyncio.create_task(beat())
    try:
        yield
    finally:
        beater.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beater
