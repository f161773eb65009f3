"""Subscription documents: ``{id, partitionKey, key (= lower-case subscription id), deleting,
subscription: {state, registrationDate, properties}}``. ``deleting`` makes the document claimable: the
backend then deletes every cluster of the subscription (cascade) and clears it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from aro.database.store import Doc


class SubscriptionState(StrEnum):
    REGISTERED = "Registered"
    UNREGISTERED = "Unregistered"
    WARNED = "Warned"
    SUSPENDED = "Suspended"
    DELETED = "Deleted"


def new_subscription_doc(subscription_id: str, state: SubscriptionState, body: dict[str, Any]) -> Doc:
    sid = subscription_id.lower()
    return {
        "id": sid,
        "partitionKey": sid,
        "key": sid,
        "deleting": False,
        "subscription": subscription_view(state, body),
    }


def subscription_view(state: SubscriptionState, body: dict[str, Any]) -> dict[str, Any]:
    """What is kept of an ARM subscription notification (account owner PII is dropped)."""
    props = dict(body.get("properties") or {}) if isinstance(body.get("properties"), dict) else {}
    props.pop("accountOwner", None)
    out: dict[str, Any] = {"state": state.value, "properties": props}
    if isinstance(body.get("registrationDate"), str):
        out["registrationDate"] = body["registrationDate"]
    return out


def state_of(doc: Doc | None) -> SubscriptionState | None:
    if doc is None:
        return None
    return SubscriptionState(doc["subscription"]["state"])
