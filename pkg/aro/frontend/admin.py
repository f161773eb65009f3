"""The admin API (SRE view; production mode requires the admin client certificate for /admin):
cluster documents as stored -- lease, dequeues, current operation, step progress and history --
with every secret field removed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from aro.api import errors
from aro.api.errors import CloudError
from aro.database import Store
from aro.database.clusters import redacted
from aro.database.containers import OPENSHIFT_CLUSTERS, partition_of
from aro.frontend.arm import Arm, reply
from aro.frontend.paging import Pager

router = APIRouter(prefix="/admin", tags=["admin"])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@router.get("/providers/microsoft.redhatopenshift/openshiftclusters", summary="Admin: every cluster document")
async def list_all(arm: Arm) -> Any:
    pager = Pager(arm, scope="admin")
    page = (
        await _store(arm.request)
        .container(OPENSHIFT_CLUSTERS.name)
        .list_page(continuation=pager.continuation, max_items=pager.page_size)
    )
    body: dict[str, Any] = {"value": [redacted(d) for d in page.items]}
    if page.continuation:
        body["nextLink"] = pager.next_link(page.continuation)
    return reply(200, body)


@router.get(
    "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/microsoft.redhatopenshift"
    "/openshiftclusters/{resourceName}",
    summary="Admin: one cluster document",
)
async def get_one(arm: Arm, subscriptionId: str, resourceGroupName: str, resourceName: str) -> Any:
    key = "/" + "/".join(arm.segments[1:9]).lower()
    doc = await _store(arm.request).container(OPENSHIFT_CLUSTERS.name).get_by_key(key, partition_of(subscriptionId))
    if doc is None:
        raise CloudError(404, errors.RESOURCE_NOT_FOUND, f"The cluster '{arm.segments[8]}' was not found.")
    return reply(200, redacted(doc))
