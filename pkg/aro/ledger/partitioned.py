"""What the ledger's per-organization containers share (subscriptions, accounts): documents partitioned by
their organization's id, each holding its AMS object under one field whose ``id`` is the document's."""

from __future__ import annotations

from aro.database import Doc, Store
from aro.database.query import Compare, Query
from aro.database.store import ContainerSpec
from aro.ledger.ids import valid_id


class ByOrganization:
    def __init__(self, store: Store, spec: ContainerSpec, field: str) -> None:
        self.container = store.container(spec.name)
        self.field = field  # "subscription", "account": its "id" is a lookup path of the container

    async def get(self, id: str, organization_id: str | None = None) -> Doc | None:
        """By id; in one organization when given, else wherever it is."""
        if not valid_id(id):
            return None
        if organization_id is not None:
            return await self.container.get(organization_id, id)
        found = await self.container.query(Query(Compare((self.field, "id"), "=", id), limit=1))
        return found[0] if found else None

    async def search(self, query: Query, organization_id: str | None) -> tuple[list[Doc], int]:
        """A page and the total: in one organization's partition when given, else across all."""
        items = await self.container.query(query, partition_key=organization_id)
        total = await self.container.count_where(query.where, partition_key=organization_id)
        return items, total
