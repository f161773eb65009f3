"""Async-operation documents (container ``asyncOperations``, 7-day TTL), partitioned by subscription:
``{id: operationId, partitionKey, key, resourceKey, container, request, implicit, asyncOperation: {id, name,
status, initialStatus, startTime, endTime?, error?}}``. ``resourceKey`` and ``container`` name the resource
(and so its kind) the operation works on.

The frontend writes the operation *before* the resource document that references it (through the
resource's ``asyncOperationId``), so a resource is never in a non-terminal state without its operation;
an operation the resource never came to reference (a crash or a lost race in between) is never handed to
a client and expires with its TTL. The backend writes the operation's terminal status *before* it ends the
resource's lease, and the status route reports the initial status while the resource document still
references the operation -- so a client never sees Succeeded before the resource shows it.

*Implicit* operations are the ones the backend starts itself (the deletes of children when their parent
is deleted, of every resource of a deleted subscription): same document, never visible to clients.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from aro.api.resource import RESOURCE_PROVIDER
from aro.database.containers import ASYNC_OPERATIONS
from aro.database.documents import OperationDocument
from aro.database.retry import patch
from aro.database.store import Doc, NotFound, PreconditionFailed, Store
from aro.util.clock import utc_now

log = logging.getLogger("aro.database.asyncoperations")


def new_operation(
    operation_id: str,
    *,
    subscription_id: str,
    location: str,
    status_segment: str,
    resource_key: str,
    container: str,
    request: str,
    initial_status: str,
    implicit: bool = False,
) -> OperationDocument:
    sub = subscription_id.lower()
    return {
        "id": operation_id,
        "partitionKey": sub,
        "key": operation_id,
        "resourceKey": resource_key,
        "container": container,
        "request": request,
        "implicit": implicit,
        "asyncOperation": {
            "id": f"/subscriptions/{sub}/providers/{RESOURCE_PROVIDER}/locations/{location}"
            f"/{status_segment}/{operation_id}",
            "name": operation_id,
            "status": initial_status,
            "initialStatus": initial_status,
            "startTime": utc_now(),
        },
    }


class AsyncOperations:
    """The ``asyncOperations`` container, typed."""

    def __init__(self, store: Store):
        self.container = store.container(ASYNC_OPERATIONS.name)

    async def get(self, partition: str, operation_id: str) -> OperationDocument | None:
        return cast(OperationDocument | None, await self.container.get(partition, operation_id))

    async def create(self, op: OperationDocument) -> OperationDocument:
        return cast(OperationDocument, await self.container.create(cast(Doc, op)))

    async def discard(self, op: OperationDocument) -> None:
        """Remove an operation no resource came to reference (a failed request); gone already: fine."""
        try:
            await self.container.delete(cast(Doc, op))
        except (NotFound, PreconditionFailed):
            pass

    async def end(self, partition: str, operation_id: str, status: str, error: dict[str, Any] | None) -> None:
        """Write the terminal ``status`` (and ``error``) of an operation."""

        def mutate(doc: Doc) -> None:
            view: dict[str, Any] = doc["asyncOperation"]
            view["status"] = status
            view["endTime"] = utc_now()
            if error is not None:
                view["error"] = error
            else:
                view.pop("error", None)

        try:
            await patch(self.container, partition, operation_id, mutate)
        except NotFound:
            log.warning("async operation document missing (expired?)", extra={"operationId": operation_id})


def resource_of(op: OperationDocument) -> tuple[str, str]:
    """(container, resource key) the operation works on. Operations written before they named their
    resource (at most 7 days old: their TTL) belong to a cluster (``openShiftClusterKey``)."""
    legacy = dict(op).get("openShiftClusterKey")
    if not op.get("resourceKey") and isinstance(legacy, str):
        return "openShiftClusters", legacy
    return op.get("container") or "", op.get("resourceKey") or ""
