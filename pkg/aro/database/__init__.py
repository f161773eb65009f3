"""Document stores: the Store contract, the embedded SQLite store and Cosmos DB."""

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
from aro.env.config import Config, ConfigError, DatabaseMode, Mode

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
    """Open the store the configuration names: the SQLite file (created when absent) or Cosmos DB (database
    and containers created when absent in development mode, only verified in production mode)."""
    if config.database.mode is DatabaseMode.EMBEDDED:
        from aro.database.sqlite import SQLiteStore

        return await SQLiteStore(config.data_path / "aro.db", ALL).open()
    from aro.database.cosmos import CosmosStore

    cosmos = config.database.cosmos
    if not cosmos.endpoint:
        raise ConfigError("database.cosmos.endpoint: required when database.mode is cosmos")
    return await CosmosStore(
        cosmos.endpoint,
        ALL,
        database=cosmos.database,
        key=cosmos.key or None,
        verify=cosmos.verify,
        ca_file=cosmos.ca_file or None,
        create=config.mode is Mode.DEVELOPMENT,
    ).open()
