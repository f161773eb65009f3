"""Subscription lifecycle: ARM's ``PUT /subscriptions/{id}?api-version=2.0`` and the state gate.

| state        | allows                                  |
|--------------|-----------------------------------------|
| Registered   | everything                              |
| Warned       | GET, list, DELETE                       |
| Suspended    | GET, list, DELETE                       |
| Unregistered | GET, list                               |
| Deleted      | GET, list; the backend deletes every cluster (cascade) |

The notification is validated as ARM sends it (``aro.frontend.subscriptionbody``): a bad one is 400 and
nothing is stored. GET and list never check the state. In development mode an unknown subscription is registered on its
first write; in production it gets 400 InvalidSubscriptionState.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from aro.api import errors
from aro.api.errors import CloudError
from aro.database import Conflict, PreconditionFailed, retry_on_precondition_failed
from aro.database.documents import SubscriptionDocument
from aro.database.subscriptions import (
    Subscriptions,
    SubscriptionState,
    new_subscription_doc,
    registered_features,
    state_of,
    subscription_view,
)
from aro.env.config import Mode
from aro.frontend.arm import Arm, ArmRequest, reply
from aro.frontend.subscriptionbody import check_api_version, check_notification

log = logging.getLogger("aro.frontend.subscriptions")
router = APIRouter(tags=["subscriptions"])

__all__ = ["DELETE_STATES", "WRITE_STATES", "registered_features", "require_subscription", "router"]

WRITE_STATES = frozenset({SubscriptionState.REGISTERED})
DELETE_STATES = frozenset({SubscriptionState.REGISTERED, SubscriptionState.WARNED, SubscriptionState.SUSPENDED})


async def require_subscription(arm: ArmRequest, allowed: frozenset[SubscriptionState]) -> SubscriptionDocument:
    """Gate a write on the subscription's state (auto-registering unknown ones in development)."""
    subs = Subscriptions(arm.services.store)
    sub = arm.subscription_id
    doc = await subs.get(sub)
    if doc is None and arm.config.mode is Mode.DEVELOPMENT:
        try:
            doc = await subs.create(new_subscription_doc(sub, SubscriptionState.REGISTERED, {}))
            log.info("subscription auto-registered (development mode)", extra={"subscriptionId": sub})
        except Conflict:
            doc = await subs.get(sub)
    state = state_of(doc)
    if state is None:
        raise CloudError(
            400,
            errors.INVALID_SUBSCRIPTION_STATE,
            f"Request is not allowed in unregistered subscription '{sub}'.",
        )
    if state not in allowed:
        raise CloudError(
            400,
            errors.INVALID_SUBSCRIPTION_STATE,
            f"Request is not allowed in subscription in state '{state.value}'.",
        )
    assert doc is not None
    return doc


@router.put("/subscriptions/{subscriptionId}", summary="ARM subscription lifecycle notification")
async def put_subscription(arm: Arm, subscriptionId: str) -> Any:
    check_api_version(arm.api_version)
    state, body = check_notification(await arm.json_body())
    subs = Subscriptions(arm.services.store)
    sub = arm.subscription_id

    async def attempt() -> tuple[int, SubscriptionDocument]:
        doc = await subs.get(sub)
        if doc is None:
            new = new_subscription_doc(sub, state, body)
            new["deleting"] = state is SubscriptionState.DELETED
            try:
                return 201, await subs.create(new)
            except Conflict:
                raise PreconditionFailed("created concurrently") from None
        if state_of(doc) is SubscriptionState.DELETED and state is not SubscriptionState.DELETED:
            raise CloudError(
                400,
                errors.INVALID_SUBSCRIPTION_STATE,
                f"Request is not allowed in subscription in state '{SubscriptionState.DELETED.value}'.",
            )
        was_deleted = state_of(doc) is SubscriptionState.DELETED
        doc["subscription"] = subscription_view(state, body)
        if state is SubscriptionState.DELETED and not was_deleted:
            doc["deleting"] = True
        return 200, await subs.replace(doc)

    status, doc = await retry_on_precondition_failed(attempt)
    log.info("subscription state", extra={"subscriptionId": sub, "state": state.value})
    return reply(status, doc["subscription"])
