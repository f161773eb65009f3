"""The frontend's side of uniqueness claims (``aro.database.claims``): claim what a write gains, release what
an update gives up, and answer for a claim's holder whether it still holds the value (its document, decoded
by its kind, still names it) -- so a claim left behind by a crash is recognised as stale."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aro.api.kind import Claim, ResourceKind
from aro.database.claims import ClaimRefused, Claims, HolderHolds, claim_key, holder_doc_key, holder_of
from aro.database.store import Doc, StoreError
from aro.frontend.services import Services

log = logging.getLogger(__name__)


def claims_of(kind: ResourceKind[Any], hub: Any, parent_key: str) -> Sequence[Claim]:
    return kind.claims(hub, parent_key if kind.parent is not None else "")


def holder_holds(services: Services) -> HolderHolds:
    async def holds(holder: str, key: str) -> bool:
        container, doc_key, partition = holder_doc_key(holder)
        kind = services.kinds.by_container(container)
        try:
            doc = await services.store.container(container).get_by_key(doc_key, partition)
        except StoreError:  # a container this process does not serve: assume it holds
            return True
        if doc is None:
            return False
        if kind is None:
            return True
        try:
            hub = services.codec(kind).decode(doc, secrets=False)
        except Exception:
            log.warning("claim holder not decodable", extra={"docKey": doc_key})
            return True
        parent_key = doc_key.rsplit("/", 2)[0]
        return any(claim_key(c) == key for c in claims_of(kind, hub, parent_key))

    return holds


async def claim(
    services: Services, kind: ResourceKind[Any], partition: str, key: str, claims: Sequence[Claim]
) -> list[Doc]:
    """Claim the values a resource must hold alone (its 400 when another holds one); what it holds already
    counts as claimed. Returns the claim documents created for it (``Claims.undo`` them if the write fails)."""
    if not claims:
        return []
    holder = holder_of(kind.container_name, key)
    try:
        return await Claims(services.store).acquire(partition, claims, holder, holder_holds(services))
    except ClaimRefused as e:
        raise e.claim.error() from None


async def release(
    services: Services, kind: ResourceKind[Any], partition: str, key: str, claims: Sequence[Claim]
) -> None:
    """After an update's write: free the values it gave up (a failure leaves a stale claim, taken over later)."""
    if not claims:
        return
    try:
        await Claims(services.store).release(partition, claims, holder_of(kind.container_name, key))
    except StoreError as e:
        log.warning("claims not released", extra={"docKey": key, "error": str(e)})
