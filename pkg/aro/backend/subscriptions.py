"""Cascade deletion of a subscription set to Deleted: every top-level resource of every kind is moved to
its deleting state with an implicit operation (its backend then deletes it, and its children); a
resource still busy with another operation is tried again after ``backend.retryLaterSeconds``. When every
resource is on its way out, the subscription is marked done (``deleting`` cleared)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aro.backend.cascade import Cascades
from aro.backend.work import Work

log = logging.getLogger("aro.backend.subscriptions")


class SubscriptionBackend:
    def __init__(self, cascades: Cascades, retry_later_seconds: float):
        self.cascades = cascades
        self.retry_later_seconds = retry_later_seconds

    async def handle(self, work: Work, stopping: Callable[[], bool]) -> None:
        tally = await self.cascades.subscription(work.doc["partitionKey"])
        if tally.busy:
            log.info("subscription cascade delete: resources busy, retrying later", extra={"busy": tally.busy})
            await work.end(lambda d: None, not_before=time.time() + self.retry_later_seconds)
            return
        await work.end(lambda d: d.update(deleting=False, dequeues=0))
        log.info("subscription cascade delete started for every resource", extra={"moved": tally.moved})
