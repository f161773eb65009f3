"""Subscriptions: the record of one cluster from its reservation to its archive, as AMS keeps it.

Lifecycle (each transition an etag-conditional write; each idempotent):

- ``reserve``: the cluster was created -- ``Reserved`` with the id the caller persisted first (a resumed
  step finds the document instead of creating a second one).
- ``set_external_id``: the install generated the OpenShift cluster id; a later one overwrites a stale one.
  The id becomes the document's key, so two subscriptions of an organization never share one.
- ``set_console_url``, ``activate`` (``Reserved`` -> ``Active``; any other status is left alone).
- ``release``: the cluster was deleted -- a ``Reserved`` subscription is deleted; any other is left as it
  is: its owner keeps seeing it, its telemetry stops, and ``sweep`` makes it ``Stale``, then ``Archived``.
- ``ingest``: telemetry sets ``metrics`` and ``last_telemetry_date``; it brings a ``Stale`` or ``Archived``
  subscription back to ``Active``; for an unknown cluster it creates an ``Active`` subscription with
  provenance ``Telemetry`` (AMS: "this should be a bug indication").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aro.database import Conflict, Doc, NotFound, PreconditionFailed, Store, retry_on_precondition_failed
from aro.database.containers import LEDGER_SUBSCRIPTIONS
from aro.database.query import And, Compare, Expr, Query
from aro.ledger.accounts import account_link
from aro.ledger.fields import ams_time
from aro.ledger.ids import new_id
from aro.ledger.model import (
    UNSUBSCRIBED_PLAN,
    LedgerError,
    Plan,
    Provenance,
    Status,
    subscription_key,
)
from aro.ledger.partitioned import ByOrganization

SWEEP_BATCH = 200
MAX_UNSUBSCRIBED = 1000  # an organization's live subscriptions filed by telemetry of unknown clusters (a bound)


@dataclass(frozen=True)
class ClusterRecord:
    """What a reservation records of a cluster."""

    subscription_id: str  # the ledger subscription's id (persisted by the caller first)
    organization_id: str
    cluster_id: str  # the RP's cluster id (opaque)
    display_name: str
    plan: Plan
    resource_id: str  # the cluster's ARM id
    azure_subscription_id: str
    region: str
    creator: str = ""  # systemData.createdBy


class Subscriptions(ByOrganization):
    def __init__(self, store: Store) -> None:
        super().__init__(store, LEDGER_SUBSCRIPTIONS, "subscription")

    # --- the cluster's lifecycle -----------------------------------------------------------------------

    async def reserve(self, record: ClusterRecord) -> Doc:
        existing = await self.container.get(record.organization_id, record.subscription_id)
        if existing is not None:
            return existing
        now = ams_time(time.time())
        sub: dict[str, Any] = {
            "id": record.subscription_id,
            "plan": record.plan.render(),
            "cluster_id": record.cluster_id,
            "external_cluster_id": None,
            "organization_id": record.organization_id,
            "display_name": record.display_name,
            "status": Status.RESERVED.value,
            "console_url": None,
            "metrics": [],
            "last_telemetry_date": None,
            "created_at": now,
            "updated_at": now,
            "managed": True,
            "cloud_provider_id": "azure",
            "cloud_account_id": record.azure_subscription_id,
            "region_id": record.region,
            "provenance": Provenance.PROVISIONING.value,
            "support_level": "Premium",
            "creator": account_link(record.organization_id, record.creator) if record.creator else None,
        }
        doc: Doc = {
            "id": record.subscription_id,
            "partitionKey": record.organization_id,
            "key": subscription_key(sub),
            "subscription": sub,
            "heartbeat": None,
            "resource": record.resource_id.lower(),
        }
        try:
            return await self.container.create(doc)
        except Conflict:  # created before a crash, or by a racing step: that one stands
            found = await self.container.get(record.organization_id, record.subscription_id)
            if found is None:
                raise
            return found

    async def update(self, organization_id: str, subscription_id: str, mutate: Callable[[Doc], bool]) -> Doc | None:
        """Apply ``mutate`` (False: nothing to write) etag-conditionally, re-reading on a race; None when
        the subscription does not exist."""

        async def attempt() -> Doc | None:
            doc = await self.container.get(organization_id, subscription_id)
            if doc is None:
                return None
            if not mutate(doc):
                return doc
            doc["subscription"]["updated_at"] = ams_time(time.time())
            doc["key"] = subscription_key(doc["subscription"])
            try:
                return await self.container.replace(doc)
            except NotFound:
                return None

        return await retry_on_precondition_failed(attempt)

    async def set_external_id(self, organization_id: str, subscription_id: str, external_id: str) -> Doc | None:
        def mutate(doc: Doc) -> bool:
            if doc["subscription"].get("external_cluster_id") == external_id:
                return False
            doc["subscription"]["external_cluster_id"] = external_id  # overwrites a stale one
            return True

        try:
            return await self.update(organization_id, subscription_id, mutate)
        except Conflict:
            # an unsubscribed subscription (created by telemetry) holds the id: ours replaces it
            holder = await self.container.get_by_key(f"external:{external_id}", organization_id)
            if holder is None or holder["subscription"].get("provenance") != Provenance.TELEMETRY:
                raise LedgerError(409, f"Another subscription has external cluster id '{external_id}'") from None
            try:
                await self.container.delete(holder)
            except (NotFound, PreconditionFailed):
                pass
            return await self.update(organization_id, subscription_id, mutate)

    async def set_console_url(self, organization_id: str, subscription_id: str, url: str) -> Doc | None:
        def mutate(doc: Doc) -> bool:
            if doc["subscription"].get("console_url") == url:
                return False
            doc["subscription"]["console_url"] = url
            return True

        return await self.update(organization_id, subscription_id, mutate)

    async def activate(self, organization_id: str, subscription_id: str) -> Doc | None:
        def mutate(doc: Doc) -> bool:
            if doc["subscription"]["status"] != Status.RESERVED:
                return False  # Active already, or the telemetry's business now
            doc["subscription"]["status"] = Status.ACTIVE.value
            doc["heartbeat"] = ams_time(time.time())
            return True

        return await self.update(organization_id, subscription_id, mutate)

    async def release(self, organization_id: str, subscription_id: str) -> bool:
        """The cluster is gone: delete its subscription if it is still ``Reserved`` (True when deleted)."""
        return await self._delete_if(
            organization_id, subscription_id, lambda d: d["subscription"]["status"] == Status.RESERVED
        )

    async def delete(self, organization_id: str, subscription_id: str) -> bool:
        """Remove a subscription whatever its status (an SRE's clean-up)."""
        return await self._delete_if(organization_id, subscription_id, lambda d: True)

    async def _delete_if(self, organization_id: str, subscription_id: str, wanted: Callable[[Doc], bool]) -> bool:
        async def attempt() -> bool:
            doc = await self.container.get(organization_id, subscription_id)
            if doc is None or not wanted(doc):
                return False
            try:
                await self.container.delete(doc)  # conditional on the etag read
            except NotFound:
                return False
            return True

        return await retry_on_precondition_failed(attempt)

    # --- telemetry -----------------------------------------------------------------------------------

    async def ingest(self, organization_id: str, external_id: str, metrics: dict[str, Any]) -> Doc:
        """One cluster's telemetry report (``metrics`` in AMS's shape)."""
        key = f"external:{external_id}"

        async def attempt() -> Doc:
            doc = await self.container.get_by_key(key, organization_id)
            if doc is None:
                doc = await self._unsubscribed(organization_id, external_id, metrics)
                if doc is None:
                    raise PreconditionFailed("created by a racing report: update that one")
            now = ams_time(time.time())
            sub = doc["subscription"]
            sub.update(metrics=[metrics], last_telemetry_date=now, updated_at=now)
            if sub["status"] in (Status.STALE, Status.ARCHIVED):
                sub["status"] = Status.ACTIVE.value
            doc["heartbeat"] = now
            try:
                return await self.container.replace(doc)
            except NotFound:
                raise PreconditionFailed("deleted meanwhile") from None

        try:
            return await retry_on_precondition_failed(attempt)
        except PreconditionFailed:
            raise LedgerError(503, "The subscription is changing too often; send the report again") from None

    async def _unsubscribed(self, organization_id: str, external_id: str, metrics: dict[str, Any]) -> Doc | None:
        now = ams_time(time.time())
        sub_id = new_id()
        sub: dict[str, Any] = {
            "id": sub_id,
            "plan": UNSUBSCRIBED_PLAN.render(),
            "cluster_id": None,
            "external_cluster_id": external_id,
            "organization_id": organization_id,
            "display_name": external_id,
            "status": Status.ACTIVE.value,
            "console_url": metrics.get("console_url") or None,
            "metrics": [],
            "last_telemetry_date": None,
            "created_at": now,
            "updated_at": now,
            "managed": False,
            "cloud_provider_id": metrics.get("cloud_provider") or None,
            "provenance": Provenance.TELEMETRY.value,
            "support_level": "None",
        }
        doc: Doc = {
            "id": sub_id,
            "partitionKey": organization_id,
            "key": subscription_key(sub),
            "subscription": sub,
            "heartbeat": now,  # it ages from now even if the report's own write never comes (a crash)
        }
        unsubscribed = And(
            (
                Compare(("subscription", "provenance"), "=", Provenance.TELEMETRY.value),
                Compare(("subscription", "status"), "!=", Status.ARCHIVED.value),
            )
        )
        if await self.container.count_where(unsubscribed, partition_key=organization_id) >= MAX_UNSUBSCRIBED:
            raise LedgerError(
                429, f"The organization has {MAX_UNSUBSCRIBED} clusters the ledger did not know reporting already"
            )
        try:
            return await self.container.create(doc)
        except Conflict:
            return None

    # --- Stale and Archived --------------------------------------------------------------------------

    async def sweep(self, now: float, stale_after: float, archive_after: float) -> tuple[int, int]:
        """Subscriptions whose telemetry stopped: ``Active`` -> ``Stale`` after ``stale_after`` seconds,
        ``Stale`` -> ``Archived`` after ``archive_after`` (a batch of each per call); returns the counts."""
        staled = await self._age(Status.ACTIVE, Status.STALE, ams_time(now - stale_after))
        archived = await self._age(Status.STALE, Status.ARCHIVED, ams_time(now - archive_after))
        return staled, archived

    async def _age(self, old: Status, new: Status, cutoff: str) -> int:
        where: Expr = And((Compare(("subscription", "status"), "=", old.value), Compare(("heartbeat",), "<", cutoff)))
        moved = 0
        for doc in await self.container.query(Query(where, limit=SWEEP_BATCH)):
            sub = doc["subscription"]
            if sub["status"] != old or not doc.get("heartbeat") or doc["heartbeat"] >= cutoff:
                continue
            sub["status"] = new.value
            sub["updated_at"] = ams_time(time.time())
            try:
                await self.container.replace(doc)  # conditional on the etag read: a report meanwhile wins
            except (PreconditionFailed, NotFound):
                continue
            moved += 1
        return moved
