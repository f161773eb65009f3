"""Subscription documents: ``{id, partitionKey, key (= lower-case subscription id), deleting,
subscription: {state, registrationDate, properties}}``. ``deleting`` makes the document claimable: the
backend then deletes every resource of the subscription (cascade) and clears it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, cast

from aro.database.containers import SUBSCRIPTIONS
from aro.database.documents import SubscriptionDocument, SubscriptionView
from aro.database.store import Doc, Store


class SubscriptionState(StrEnum):
    REGISTERED = "Registered"
    UNREGISTERED = "Unregistered"
    WARNED = "Warned"
    SUSPENDED = "Suspended"
    DELETED = "Deleted"


def new_subscription_doc(subscription_id: str, state: SubscriptionState, body: dict[str, Any]) -> SubscriptionDocument:
    sid = subscription_id.lower()
    return {
        "id": sid,
        "partitionKey": sid,
        "key": sid,
        "deleting": False,
        "subscription": subscription_view(state, body),
    }


def subscription_view(state: SubscriptionState, body: dict[str, Any]) -> SubscriptionView:
    """What is kept of an ARM subscription notification (account owner PII is dropped)."""
    props = dict(body.get("properties") or {}) if isinstance(body.get("properties"), dict) else {}
    props.pop("accountOwner", None)
    out: SubscriptionView = {"state": state.value, "properties": props}
    if isinstance(body.get("registrationDate"), str):
        out["registrationDate"] = body["registrationDate"]
    return out


def registered_features(doc: SubscriptionDocument | None) -> frozenset[str]:
    """Lower-case names of the preview features (AFEC) ARM reports as registered on the subscription
    (``properties.registeredFeatures[{name, state}]`` of the subscription notification)."""
    props = (doc or {}).get("subscription", {}).get("properties") or {}
    features = props.get("registeredFeatures") if isinstance(props, dict) else None
    if not isinstance(features, list):
        return frozenset()
    return frozenset(
        str(f["name"]).lower()
        for f in features[:1000]
        if isinstance(f, dict) and isinstance(f.get("name"), str) and str(f.get("state", "")).lower() == "registered"
    )


def tenant_of(doc: SubscriptionDocument | None) -> str | None:
    """The Azure tenant the subscription belongs to (``properties.tenantId`` of ARM's notification)."""
    props = (doc or {}).get("subscription", {}).get("properties") or {}
    tenant = props.get("tenantId") if isinstance(props, dict) else None
    return tenant if isinstance(tenant, str) and tenant else None


def state_of(doc: SubscriptionDocument | None) -> SubscriptionState | None:
    if doc is None:
        return None
    return SubscriptionState(doc["subscription"]["state"])


class Subscriptions:
    """The ``subscriptions`` container, typed."""

    def __init__(self, store: Store):
        self.container = store.container(SUBSCRIPTIONS.name)

    async def get(self, subscription_id: str) -> SubscriptionDocument | None:
        sid = subscription_id.lower()
        return cast(SubscriptionDocument | None, await self.container.get(sid, sid))

    async def create(self, doc: SubscriptionDocument) -> SubscriptionDocument:
        return cast(SubscriptionDocument, await self.container.create(cast(Doc, doc)))

    async def replace(self, doc: SubscriptionDocument) -> SubscriptionDocument:
        return cast(SubscriptionDocument, await self.container.replace(cast(Doc, doc)))
