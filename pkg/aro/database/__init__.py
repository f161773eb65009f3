"""Document stores: the Store contract, the embedded SQLite store and Cosmos DB."""

from __future__ import annotations

from aro.database.retry import patch, retry_on_precondition_failed
from aro.database.store import (
    Conflict,
    Container,
    ContainerSpec,
    Doc,
    LostLease,
    NotFound,
    Page,
    PreconditionFailed,
    Store,
    StoreError,
    UnsupportedQuery,
)

__all__ = [
    "Conflict",
    "Container",
    "ContainerSpec",
    "Doc",
    "LostLease",
    "NotFound",
    "Page",
    "PreconditionFailed",
    "Store",
    "StoreError",
    "UnsupportedQuery",
    "patch",
    "retry_on_precondition_failed",
]
