"""Organizations: one per Azure tenant (``external_id`` = the tenant id), created when first needed -- by a
cluster's reservation, a capability check or a login -- with the default capability labels.

The tenant is the document's unique key, so racing creators end with one organization; the default labels
are written after it and the organization is marked ``seeded`` only then, so a crash in between is mended
by the next look-up.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from aro.database import Conflict, Doc, PreconditionFailed, Store
from aro.database.containers import LEDGER_ORGANIZATIONS
from aro.database.query import Query
from aro.ledger.fields import ams_time
from aro.ledger.ids import new_id, valid_id
from aro.ledger.labels import Labels
from aro.ledger.model import ORGANIZATIONS_PARTITION, LedgerError, OwnerType

TENANT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def is_tenant_id(value: str) -> bool:
    return bool(TENANT.match(value))


class Organizations:
    def __init__(self, store: Store, labels: Labels, default_capabilities: Sequence[str]) -> None:
        self.container = store.container(LEDGER_ORGANIZATIONS.name)
        self.labels = labels
        self.defaults = tuple(default_capabilities)

    async def get(self, organization_id: str) -> Doc | None:
        if not valid_id(organization_id):
            return None
        doc = await self.container.get(ORGANIZATIONS_PARTITION, organization_id)
        return await self._seeded(doc) if doc is not None else None

    async def search(self, query: Query) -> tuple[list[Doc], int]:
        items = await self.container.query(query, partition_key=ORGANIZATIONS_PARTITION)
        return items, await self.container.count_where(query.where, partition_key=ORGANIZATIONS_PARTITION)

    async def for_tenant(self, tenant_id: str) -> Doc:
        """The tenant's organization, created (with the default capabilities) when it has none."""
        if not is_tenant_id(tenant_id):
            raise LedgerError(400, f"'{tenant_id[:64]}' is not an Azure tenant id")
        key = f"tenant:{tenant_id.lower()}"
        doc = await self.container.get_by_key(key, ORGANIZATIONS_PARTITION)
        if doc is None:
            now = ams_time(time.time())
            org_id = new_id()
            fresh: Doc = {
                "id": org_id,
                "partitionKey": ORGANIZATIONS_PARTITION,
                "key": key,
                "organization": {
                    "id": org_id,
                    "name": f"tenant {tenant_id.lower()}",
                    "external_id": tenant_id.lower(),
                    "created_at": now,
                    "updated_at": now,
                },
                "seeded": False,
            }
            try:
                doc = await self.container.create(fresh)
            except Conflict:  # another request created it first: that one stands
                doc = await self.container.get_by_key(key, ORGANIZATIONS_PARTITION)
                if doc is None:
                    raise LedgerError(503, "The organization is being created; try again") from None
        return await self._seeded(doc)

    async def resolve(self, id_or_tenant: str) -> Doc | None:
        """An organization by its id, or by its tenant's id (created when missing)."""
        if is_tenant_id(id_or_tenant):
            return await self.for_tenant(id_or_tenant)
        return await self.get(id_or_tenant)

    async def _seeded(self, doc: Doc) -> Doc:
        if doc.get("seeded"):
            return doc
        org_id = doc["id"]
        for capability in self.defaults:
            if await self.labels.get(OwnerType.ORGANIZATION, org_id, org_id, capability) is None:
                await self.labels.put(OwnerType.ORGANIZATION, org_id, org_id, capability, "true", internal=True)
        try:
            return await self.container.replace({**doc, "seeded": True})
        except PreconditionFailed:  # seeded by another request meanwhile
            return await self.container.get(ORGANIZATIONS_PARTITION, org_id) or doc
