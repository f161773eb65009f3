"""Document stores: the Store contract, the embedded SQLite store and (later) Cosmos DB."""

from __future__ import annotations

from aro.database.containers import ALL
from aro.database.retry import patch, patch_with_lease, retry_on_precondition_failed
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
)
from aro.env.config import Config, DatabaseMode

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
    "open_store",
    "patch",
    "patch_with_lease",
    "retry_on_precondition_failed",
]


async def open_store(config: Config) -> Store:
    """Open the store the configuration names (creating the file/containers when absent)."""
    if config.database.mode is DatabaseMode.EMBEDDED:
        from aro.database.sqlite import SQLiteStore

        return await SQLiteStore(config.data_path / "aro.db", ALL).open()
    raise NotImplementedError("database.mode cosmos is not available yet")
