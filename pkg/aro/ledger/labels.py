"""Labels of organizations and subscriptions, and the capabilities they turn on.

One label document per (owner, key), keyed ``{Organization|Subscription}:{owner id}:{label key}`` in the
owner's organization's partition, so adding a label twice -- also by two racing requests -- updates the one
document (the store's unique key decides, never a read-then-write).
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable
from typing import Any

from aro.api import capabilities
from aro.database import Conflict, Doc, NotFound, PreconditionFailed, Store, retry_on_precondition_failed
from aro.database.containers import LEDGER_LABELS
from aro.database.query import MAX_LIMIT, And, Compare, Expr, In, Query
from aro.ledger.fields import ams_time
from aro.ledger.ids import new_id
from aro.ledger.model import LABEL_KEY, MAX_LABEL_VALUE, LedgerError, OwnerType, clean_text, label_key

MAX_LABELS = 100  # per owner (AMS's label list does not page: a bounded list)
IN_CHUNK = 100  # subscriptions asked for in one query


class Labels:
    def __init__(self, store: Store) -> None:
        self.container = store.container(LEDGER_LABELS.name)

    async def list(self, owner: OwnerType, owner_id: str, organization_id: str) -> list[Doc]:
        page = await self.container.list_page(
            prefix=label_key(owner, owner_id, ""), partition_key=organization_id, max_items=MAX_LABELS
        )
        return page.items

    async def of_subscriptions(self, subscriptions: Iterable[tuple[str, str]]) -> dict[str, builtins.list[Doc]]:
        """The labels of many subscriptions, given as ``(organization id, subscription id)``: by subscription
        id, each list as ``list`` gives one subscription's (sorted by key, at most MAX_LABELS; ``[]`` for one
        without). A query per IN_CHUNK subscriptions -- in their organization's partition when they share
        one -- rather than one per subscription (an AMS list with ``fetchLabels``)."""
        wanted = set(subscriptions)
        found: dict[str, list[Doc]] = {sub_id: [] for _, sub_id in wanted}
        pairs = sorted(wanted)
        for start in range(0, len(pairs), IN_CHUNK):
            chunk = pairs[start : start + IN_CHUNK]
            organizations = {org_id for org_id, _ in chunk}
            partition = organizations.pop() if len(organizations) == 1 else None
            where = And(
                (
                    Compare(("label", "type"), "=", OwnerType.SUBSCRIPTION.value),
                    In(("label", "subscription_id"), tuple(sorted({sub_id for _, sub_id in chunk}))),
                )
            )
            bound = len(chunk) * MAX_LABELS
            for offset in range(0, bound, MAX_LIMIT):  # pages in the stores' id order, rarely more than one
                limit = min(MAX_LIMIT, bound - offset)
                docs = await self.container.query(Query(where, offset=offset, limit=limit), partition_key=partition)
                for doc in docs:
                    if (doc["partitionKey"], doc["label"]["subscription_id"]) in wanted:
                        found[doc["label"]["subscription_id"]].append(doc)
                if len(docs) < limit:
                    break
        for docs in found.values():
            docs.sort(key=lambda d: str(d["label"]["key"]))
            del docs[MAX_LABELS:]
        return found

    async def subscriptions_labelled(
        self, key: str, value: str | None, organization_id: str | None, limit: int
    ) -> set[tuple[str, str]] | None:
        """``(organization id, subscription id)`` of the subscriptions with label ``key`` (of ``value`` when
        given), in one organization or in all; None when more than ``limit`` (at most MAX_LIMIT) have it
        (AMS's ``labels`` filter of a subscription list)."""
        parts: list[Expr] = [
            Compare(("label", "type"), "=", OwnerType.SUBSCRIPTION.value),
            Compare(("label", "key"), "=", key),
        ]
        if value is not None:
            parts.append(Compare(("label", "value"), "=", value))
        where = And(tuple(parts))
        docs = await self.container.query(Query(where, limit=limit), partition_key=organization_id)
        if len(docs) == limit:  # one more? (a query answers at most MAX_LIMIT: ask for the next one alone)
            if await self.container.query(Query(where, offset=limit, limit=1), partition_key=organization_id):
                return None
        return {(d["partitionKey"], d["label"]["subscription_id"]) for d in docs}

    async def get(self, owner: OwnerType, owner_id: str, organization_id: str, key: str) -> Doc | None:
        return await self.container.get_by_key(label_key(owner, owner_id, key), organization_id)

    async def put(
        self,
        owner: OwnerType,
        owner_id: str,
        organization_id: str,
        key: str,
        value: str,
        internal: bool,
        may_change: Callable[[Doc], None] | None = None,
    ) -> tuple[Doc, bool]:
        """Add a label, or change the value of the one with this key; ``(document, created)``.
        ``may_change`` sees the label to be changed -- as the conditional write that changes it read it --
        and raises to refuse (an internal label a member may not change, even when it became one just
        now). A label deleted meanwhile is created again; one created meanwhile is changed."""
        if len(await self.list(owner, owner_id, organization_id)) >= MAX_LABELS:
            existing = await self.get(owner, owner_id, organization_id, key)
            if existing is None:
                raise LedgerError(400, f"A {owner.value.lower()} has at most {MAX_LABELS} labels")

        async def attempt() -> tuple[Doc, bool]:
            current = await self.get(owner, owner_id, organization_id, key)
            if current is None:
                try:
                    return await self.container.create(
                        self._new(owner, owner_id, organization_id, key, value, internal)
                    ), True
                except Conflict:
                    raise PreconditionFailed("created meanwhile") from None  # change it on the next attempt
            if may_change is not None:
                may_change(current)
            current["label"].update(value=value, internal=internal, updated_at=ams_time(time.time()))
            try:
                return await self.container.replace(current), False  # PreconditionFailed: changed meanwhile
            except NotFound:
                raise PreconditionFailed("deleted meanwhile") from None  # create it on the next attempt

        return await retry_on_precondition_failed(attempt)

    @staticmethod
    def _new(owner: OwnerType, owner_id: str, organization_id: str, key: str, value: str, internal: bool) -> Doc:
        now = ams_time(time.time())
        label: dict[str, Any] = {
            "id": new_id(),
            "key": key,
            "value": value,
            "internal": internal,
            "type": owner.value,
            "organization_id": organization_id,
            "created_at": now,
            "updated_at": now,
        }
        if owner is OwnerType.SUBSCRIPTION:
            label["subscription_id"] = owner_id
        return {
            "id": label["id"],
            "partitionKey": organization_id,
            "key": label_key(owner, owner_id, key),
            "label": label,
        }

    async def delete_all(self, owner: OwnerType, owner_id: str, organization_id: str) -> None:
        """Every label of an owner that goes (a page at a time, so also any beyond MAX_LABELS that racing
        adds left)."""
        while docs := await self.list(owner, owner_id, organization_id):
            for doc in docs:
                await self.delete(owner, owner_id, organization_id, doc["label"]["key"])

    async def delete(self, owner: OwnerType, owner_id: str, organization_id: str, key: str) -> bool:
        async def attempt() -> bool:
            doc = await self.get(owner, owner_id, organization_id, key)
            if doc is None:
                return False
            try:
                await self.container.delete(doc)
            except NotFound:
                return False
            return True

        return await retry_on_precondition_failed(attempt)

    async def capabilities(self, organization_id: str, subscription_id: str | None = None) -> frozenset[str]:
        """The capabilities turned on for an organization, and for one cluster's subscription its internal
        ``capability.cluster.*`` ones (labels only an SRE writes)."""
        docs = await self.list(OwnerType.ORGANIZATION, organization_id, organization_id)
        if subscription_id:
            cluster = await self.list(OwnerType.SUBSCRIPTION, subscription_id, organization_id)
            docs += [
                d for d in cluster if d["label"]["key"].startswith("capability.cluster.") and d["label"]["internal"]
            ]
        return frozenset(
            d["label"]["key"]
            for d in docs
            if d["label"]["key"].startswith("capability.") and capabilities.enabled(str(d["label"]["value"]))
        )


def check_label(body: Any) -> tuple[str, str, bool]:
    """A label as POSTed: ``{key, value, internal?}`` (400 in OCM's envelope otherwise)."""
    if not isinstance(body, dict):
        raise LedgerError(400, "The label must be a JSON object with 'key' and 'value'")
    unknown = set(body) - {"key", "value", "internal", "kind", "id", "href", "type"}
    if unknown:
        raise LedgerError(400, f"Unknown label field(s): {', '.join(sorted(unknown)[:5])}")
    key = clean_text(body.get("key"), "key", 255)
    if not LABEL_KEY.match(key):
        raise LedgerError(400, "'key' must be letters, digits, '.', '_', '/' or '-', starting with a letter or digit")
    value = clean_text(body.get("value", ""), "value", MAX_LABEL_VALUE)
    internal = body.get("internal", False)
    if not isinstance(internal, bool):
        raise LedgerError(400, "'internal' must be true or false")
    return key, value, internal
