"""Store implementations the contract suite runs against, and how to open them (also from a
subprocess, for the multi-process cases)."""

from __future__ import annotations

import json
from typing import Any

from aro.database.claims import CLAIMS
from aro.database.store import ContainerSpec, Store

ITEMS = ContainerSpec(
    "items",
    claim_path=("state",),
    claim_values=frozenset({"Creating", "Deleting"}),
    lookup_paths=(("f", "s"),),  # the query cases on "f.s" go through the embedded store's lookup index
)
EXPIRING = ContainerSpec("expiring", default_ttl=3600)
CONTAINERS = (ITEMS, EXPIRING, CLAIMS)


async def open_target(spec: dict[str, Any]) -> Store:
    """Open a Store from a JSON-able description, e.g. {"kind": "sqlite", "path": "/tmp/x.db"} or
    {"kind": "cosmos", "endpoint": ..., "key": ..., "database": ..., "caFile": ...}."""
    if spec["kind"] == "sqlite":
        from aro.database.sqlite import SQLiteStore

        return await SQLiteStore(spec["path"], CONTAINERS).open()
    if spec["kind"] == "cosmos":
        from aro.database.cosmos import CosmosStore

        return await CosmosStore(
            spec["endpoint"],
            CONTAINERS,
            database=spec["database"],
            key=spec["key"],
            ca_file=spec.get("caFile"),
            create=True,
        ).open()
    raise ValueError(f"unknown store kind {spec['kind']!r}")


def dumps(spec: dict[str, Any]) -> str:
    return json.dumps(spec)
