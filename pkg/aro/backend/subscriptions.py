"""Cascade deletion of a subscription set to Deleted: every terminal cluster is moved to Deleting (the
cluster backend then deletes it); if a cluster is still busy (Creating/Updating), try again later. When
every cluster is on its way out, the subscription is marked done (``deleting`` cleared)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from aro.api.cluster import ProvisioningState
from aro.backend.work import Work
from aro.database import Doc, Store, retry_on_precondition_failed
from aro.database.clusters import ClusterCodec
from aro.database.containers import OPENSHIFT_CLUSTERS

log = logging.getLogger("aro.backend.subscriptions")


class SubscriptionBackend:
    def __init__(self, store: Store, codec: ClusterCodec, retry_later_seconds: float):
        self.store = store
        self.codec = codec
        self.retry_later_seconds = retry_later_seconds

    async def handle(self, work: Work, stopping: Callable[[], bool]) -> None:
        clusters = self.store.container(OPENSHIFT_CLUSTERS.name)
        partition = work.doc["partitionKey"]
        busy = 0
        moved = 0
        token: str | None = None
        while True:
            page = await clusters.list_page(partition_key=partition, continuation=token, max_items=100)
            for doc in page.items:
                result = await retry_on_precondition_failed(functools.partial(self._move_to_deleting, doc))
                busy += result == "busy"
                moved += result == "moved"
            token = page.continuation
            if token is None:
                break
        if busy:
            log.info("subscription cascade delete: clusters busy, retrying later", extra={"busy": busy})
            await work.renew(self.retry_later_seconds)  # keep the lease: nobody retries before then
            return
        await work.end(lambda d: d.update(deleting=False, dequeues=0))
        log.info("subscription cascade delete started for every cluster", extra={"moved": moved})

    async def _move_to_deleting(self, doc: Doc) -> str:
        clusters = self.store.container(OPENSHIFT_CLUSTERS.name)
        fresh = await clusters.get(doc["partitionKey"], doc["id"])
        if fresh is None:
            return "gone"
        oc = self.codec.decode(fresh)
        state = oc.properties.provisioning_state
        if state is ProvisioningState.DELETING:
            return "deleting"
        if not state.terminal:
            return "busy"
        oc.properties.last_provisioning_state = state
        oc.properties.provisioning_state = ProvisioningState.DELETING
        updated = self.codec.encode(fresh, oc)
        updated["asyncOperationId"] = None
        updated["dequeues"] = 0
        await clusters.replace(updated)
        return "moved"
