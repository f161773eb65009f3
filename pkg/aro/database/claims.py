"""Uniqueness across resources as a store constraint: a *claim* document per unique value.

A kind declares what must be unique within a subscription (``ResourceKind.claims``: ARO-HCP's managed
resource group, subnet and network security group of a cluster; one external auth per cluster). Before a
resource document is created, the frontend creates one claim document per value, ``key`` =
``{scope}:{value}`` (lower-case) in the subscription's partition; the store's unique key makes two racing
creates end with one winner, never a read-then-write.

A claim names its holder (the resource document key). An update claims the values the resource gains
before its document is written and releases those it gave up after; a delete releases them all (the
backend, after the delete). A claim whose holder does not hold it any more -- the document is gone or no
longer names the value: a crash between the claim and the resource write, or before a release -- is
*stale*: it is taken over, by an etag-conditional replace, once it is older than ``STALE_SECONDS`` (younger
ones may belong to a request still in flight). Whether a holder holds a value is the caller's to say
(``HolderHolds``: the frontend decodes the holder and asks its kind).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aro.api.kind import Claim
from aro.database.store import (
    Conflict,
    Container,
    ContainerSpec,
    Doc,
    NotFound,
    PreconditionFailed,
    Store,
    StoreError,
)

CLAIMS = ContainerSpec("claims")
STALE_SECONDS = 60.0

HolderHolds = Callable[[str, str], Awaitable[bool]]
"""``(holder, claim key) -> whether that resource still holds the value`` (a store error: assume it does)."""


def claim_key(claim: Claim) -> str:
    return f"{claim.scope}:{claim.value}".lower()


def holder_of(container: str, key: str) -> str:
    """A holder names the resource document: ``{container}|{key}``."""
    return f"{container}|{key}".lower()


def holder_doc_key(holder: str) -> tuple[str, str, str]:
    """``holder`` -> (container, document key, partition)."""
    container, _, key = holder.partition("|")
    return container, key, key.split("/")[2] if key.count("/") >= 2 else ""


def holder_exists(store: Store) -> HolderHolds:
    """The coarse answer, for callers that cannot decode a holder: it holds what it claimed while it exists."""

    async def exists(holder: str, key: str) -> bool:
        container, doc_key, partition = holder_doc_key(holder)
        try:
            return await store.container(container).get_by_key(doc_key, partition) is not None
        except StoreError:  # a container this process does not serve: assume it lives
            return True

    return exists


def not_named(claims: Sequence[Claim], by: Sequence[Claim]) -> list[Claim]:
    """The claims of ``claims`` whose value ``by`` does not name: an update gains ``not_named(new, old)``
    (claimed before its write) and gives up ``not_named(old, new)`` (released after it)."""
    named = {claim_key(c) for c in by}
    return [c for c in claims if not c.check_only and claim_key(c) not in named]


class ClaimRefused(Exception):
    def __init__(self, claim: Claim) -> None:
        super().__init__(claim.message)
        self.claim = claim


@dataclass
class Claims:
    store: Store

    def _container(self) -> Container:
        return self.store.container(CLAIMS.name)

    async def holder(self, partition: str, claim: Claim) -> str | None:
        doc = await self._container().get_by_key(claim_key(claim), partition)
        return None if doc is None else str(doc.get("holder") or "")

    async def acquire(self, partition: str, claims: Sequence[Claim], holder: str, holds: HolderHolds) -> list[Doc]:
        """Claim every value for ``holder`` and return the claim documents created (or taken over) for it;
        values ``holder`` holds already count as claimed. If another live resource holds one,
        ``ClaimRefused`` is raised and nothing newly claimed is kept."""
        taken: list[Doc] = []
        try:
            for claim in claims:
                if claim.check_only:
                    current = await self.holder(partition, claim)
                    if (
                        current
                        and current.partition("|")[2] not in claim.allowed_holders
                        and await holds(current, claim_key(claim))
                    ):
                        raise ClaimRefused(claim)
                    continue
                doc = await self._take(partition, claim, holder, holds)
                if doc is None:
                    raise ClaimRefused(claim)
                if doc.pop("new", False):
                    taken.append(doc)
        except BaseException:
            await self.undo(taken)
            raise
        return taken

    async def _take(self, partition: str, claim: Claim, holder: str, holds: HolderHolds) -> Doc | None:
        key = claim_key(claim)
        fresh: Doc = {"id": str(uuid.uuid4()), "partitionKey": partition, "key": key, "holder": holder.lower()}
        for _ in range(3):
            try:
                created = await self._container().create({**fresh, "claimedAt": time.time()})
                return {**created, "new": True}
            except Conflict:
                pass
            current = await self._container().get_by_key(key, partition)
            if current is None:
                continue  # released meanwhile
            if current.get("holder") == holder.lower():
                return current
            young = time.time() - float(current.get("claimedAt") or 0) < STALE_SECONDS
            if young or await holds(current["holder"], key):
                return None
            try:  # stale: take it over, conditional on the etag read
                replaced = await self._container().replace(
                    {**current, "holder": holder.lower(), "claimedAt": time.time()}
                )
                return {**replaced, "new": True}
            except (PreconditionFailed, NotFound):
                continue
        return None

    async def undo(self, taken: list[Doc]) -> None:
        """Drop claim documents ``acquire`` returned (the request they were for failed)."""
        for doc in taken:
            try:
                await self._container().delete(doc)
            except (PreconditionFailed, NotFound):
                pass

    async def release(self, partition: str, claims: Sequence[Claim], holder: str) -> None:
        """Drop the claims ``holder`` holds (after its resource was deleted); others' are left alone."""
        for claim in claims:
            if claim.check_only:
                continue
            doc = await self._container().get_by_key(claim_key(claim), partition)
            if doc is None or doc.get("holder") != holder.lower():
                continue
            try:
                await self._container().delete(doc)
            except (PreconditionFailed, NotFound):
                pass
