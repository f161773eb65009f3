"""The Store contract every document store implements (embedded SQLite, Cosmos DB).

A document is a JSON object ``{id, partitionKey, key, etag, ts, ttl?, leaseOwner?, leaseExpires?,
dequeues?, ...}``. ``key`` is unique within its partition (as Cosmos unique keys are); ``etag`` changes on
every write of the document (a lease renewal is not one: see below); ``ts`` is the write time (epoch
seconds); ``ttl`` (seconds) makes a document expire.

Leases. ``dequeue``/``dequeue_many`` claim claimable documents for an owner until ``leaseExpires`` (epoch
seconds); readers see the current ``leaseOwner``/``leaseExpires`` in every document they get. A lease is
*held* by ``owner`` while the stored ``leaseOwner`` is ``owner`` -- also past ``leaseExpires``, until
another claimer takes the document over. Every lease-checked write (``replace_with_lease``, ``end_lease``,
``delete_with_lease``, ``renew_lease``) first proves the lease is held (``LostLease`` otherwise).
``renew_lease`` writes the lease and nothing else: it is not conditional on the etag (a renewal never
conflicts with a write of the body) and does not rewrite the body. Whether it changes the etag and ts is
the store's: SQLite keeps them (a write prepared before the renewal still goes through), Cosmos DB cannot
(a patch is a write: a new ``_etag``); either way it returns the document as stored after the renewal.
No write undoes a renewal it did not see: ``replace_with_lease`` keeps the stored lease as it is, and a
plain ``replace`` that keeps the stored ``leaseOwner`` keeps the later of the two ``leaseExpires`` (on
Cosmos DB both follow from the etag check).

Exceptions (all ``StoreError``):
- ``Conflict``            create of a duplicate id or key
- ``PreconditionFailed``  replace/delete with a stale etag (nothing was written)
- ``NotFound``            replace/delete of a missing document
- ``LostLease``           a lease-checked write by an owner that no longer holds the lease
- ``UnsupportedQuery``    an order the store has no index for (Cosmos DB: a container with ``order_paths``
                          serves one of them, then id), refused before it is sent
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aro.database.query import Expr, Query

Doc = dict[str, Any]
C = TypeVar("C")


class StoreError(Exception):
    pass


class Conflict(StoreError):
    pass


class PreconditionFailed(StoreError):
    pass


class NotFound(StoreError):
    pass


class LostLease(StoreError):
    pass


class UnsupportedQuery(StoreError):
    pass


@dataclass(frozen=True)
class ContainerSpec:
    """A container: its name, which documents the backend may claim, and the default TTL."""

    name: str
    # A document is claimable (work for the backend) when the value at claim_path is in claim_values.
    claim_path: tuple[str, ...] | None = None
    claim_values: frozenset[Any] = frozenset()
    default_ttl: int | None = None
    # Paths ``Container.query`` orders by. Cosmos DB serves an ORDER BY on several properties (a path,
    # then id) only from a composite index: a Cosmos container is created with one (path, id) per path.
    order_paths: tuple[tuple[str, ...], ...] = ()
    # Paths ``Container.query`` looks documents up by (equality), also across partitions: the embedded
    # store indexes each one (Cosmos DB indexes every path already).
    lookup_paths: tuple[tuple[str, ...], ...] = ()

    def claimable(self, doc: Doc) -> bool:
        if self.claim_path is None:
            return False
        value: Any = doc
        for part in self.claim_path:
            if not isinstance(value, dict):
                return False
            value = value.get(part)
        try:
            return value in self.claim_values
        except TypeError:
            return False


@dataclass(frozen=True)
class Page:
    items: list[Doc]
    continuation: str | None  # opaque; None on the last page


class Container(Protocol):
    spec: ContainerSpec

    async def get(self, partition_key: str, id: str) -> Doc | None: ...

    async def get_by_key(self, key: str, partition_key: str | None = None) -> Doc | None:
        """By unique key; across partitions when ``partition_key`` is None."""
        ...

    async def create(self, doc: Doc) -> Doc:
        """Insert; returns the stored document (with etag, ts). Duplicate id/key -> Conflict."""
        ...

    async def replace(self, doc: Doc) -> Doc:
        """Replace only if the stored etag equals ``doc["etag"]`` (else PreconditionFailed). A held lease
        that ``doc`` keeps (same ``leaseOwner``) is not shortened: see the module docstring."""
        ...

    async def delete(self, doc: Doc) -> None:
        """Delete only if the stored etag equals ``doc["etag"]``."""
        ...

    async def list_page(
        self,
        *,
        prefix: str = "",
        partition_key: str | None = None,
        continuation: str | None = None,
        max_items: int = 100,
    ) -> Page:
        """Documents whose key starts with ``prefix``, ordered by key, one page at a time."""
        ...

    async def count(self, *, prefix: str = "", partition_key: str | None = None) -> int: ...

    async def query(self, query: Query, *, partition_key: str | None = None) -> list[Doc]:
        """Live documents matching ``query.where`` (all when None), ordered by ``query.order`` then id, from
        ``query.offset``, at most ``query.limit`` (1..MAX_LIMIT; ValueError otherwise). Within
        ``partition_key`` when given, else across partitions. The semantics (nulls, types, like, order) are
        those of ``aro.database.query``; a path that is not a list of identifiers is a ValueError, raised
        before anything runs."""
        ...

    async def count_where(self, where: Expr | None, *, partition_key: str | None = None) -> int:
        """How many live documents match ``where`` (all when None), within ``partition_key`` when given."""
        ...

    async def list_claimable(self, limit: int = 100) -> list[Doc]:
        """Claimable documents whose lease is free or expired (the backend's queue)."""
        ...

    async def dequeue(self, owner: str, lease_seconds: float) -> Doc | None:
        """Atomically claim one claimable document with a free or expired lease: sets leaseOwner,
        leaseExpires = now + lease_seconds, dequeues += 1 (a new etag). None when there is no work."""
        ...

    async def dequeue_many(self, owners: Sequence[str], lease_seconds: float) -> list[Doc]:
        """Claim up to ``len(owners)`` documents in one round, as ``dequeue`` claims one: each claimed
        document is leased to an owner of its own from ``owners`` (its ``leaseOwner`` says which; the
        owners must be distinct). Each claim is atomic on its own: concurrent claimers, in this process or
        others, never claim one document twice. Fewer (or none) when there is less work, or when concurrent
        claimers won some of the candidates; in no particular order."""
        ...

    async def renew_lease(self, doc: Doc, owner: str, lease_seconds: float) -> Doc:
        """Set leaseExpires = now + lease_seconds if ``owner`` holds the lease (LostLease otherwise,
        NotFound if the document is gone), writing nothing else, whatever ``doc``'s etag. ``doc`` is the
        caller's latest copy, unmodified (as read or returned by a write). Returns the document as stored
        now: with the writes of others since ``doc`` was read, and the etag to write against next."""
        ...

    async def replace_with_lease(self, doc: Doc, owner: str) -> Doc:
        """Replace conditional on etag and on ``owner`` holding the lease (else LostLease). The stored
        lease stays as it is (``doc``'s leaseOwner/leaseExpires are not written)."""
        ...

    async def end_lease(self, doc: Doc, owner: str, not_before: float = 0.0) -> Doc:
        """Write ``doc`` (the caller has set its new state) and clear the lease, in one conditional
        write; LostLease if ``owner`` no longer holds it. A still claimable document is not claimed again
        before ``not_before`` (epoch seconds; 0: at once) -- how work is re-queued with a delay."""
        ...

    async def delete_with_lease(self, doc: Doc, owner: str) -> None: ...

    async def purge_expired(self) -> int:
        """Remove documents whose TTL has passed (they are already invisible); returns how many."""
        ...


class StoreBase(Generic[C]):
    """What every implementation shares: containers by name and the claimable-write listeners."""

    def __init__(self) -> None:
        self._containers: dict[str, C] = {}
        self._listeners: list[Callable[[str], None]] = []

    def container(self, name: str) -> C:
        try:
            return self._containers[name]
        except KeyError:
            raise StoreError(f"unknown container {name!r}") from None

    def on_claimable(self, callback: Callable[[str], None]) -> None:
        self._listeners.append(callback)

    def notify(self, container: str) -> None:
        for cb in self._listeners:
            cb(container)


class Store(Protocol):
    def container(self, name: str) -> Container: ...

    def on_claimable(self, callback: Callable[[str], None]) -> None:
        """Register ``callback(container_name)``, called after this process writes a claimable document
        (lets the backend pick up local writes at once)."""
        ...

    def notify(self, container: str) -> None:
        """Call the ``on_claimable`` callbacks as a claimable write to ``container`` would (a write another
        process made, which it said so: `aro rp`'s wake-up channel)."""
        ...

    async def close(self) -> None: ...
