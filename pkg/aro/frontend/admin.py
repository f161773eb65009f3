"""The admin API (SRE view; production mode requires the admin client certificate for /admin): every
kind's documents as stored -- lease, dequeues, current operation, step progress and history -- with every
secret field removed. ``/admin/providers/microsoft.redhatopenshift/{type}`` lists a kind's documents across
subscriptions; ``/admin`` + a resource's URL shows one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.kind import Kinds, ResourceKind
from aro.api.resource import RESOURCE_PROVIDER
from aro.api.template import template
from aro.database.containers import partition_of
from aro.frontend.arm import ArmRequest, reply
from aro.frontend.paging import Pager
from aro.frontend.resources import ResourcePath, endpoint_for


async def list_all(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    pager = Pager(arm, scope=f"admin|{kind.container_name}")
    container = arm.services.store.container(kind.container_name)
    page = await container.list_page(continuation=pager.continuation, max_items=pager.page_size)
    codec = arm.services.codec(kind)
    return reply(200, pager.body([codec.redacted(d) for d in page.items], page.continuation))


async def get_one(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    path = ResourcePath(kind, arm)
    doc = await arm.services.store.container(kind.container_name).get_by_key(
        path.key, partition_of(arm.subscription_id)
    )
    if doc is None:
        raise CloudError(404, errors.RESOURCE_NOT_FOUND, f"The {kind.title} '{path.name}' was not found.")
    return reply(200, arm.services.codec(kind).redacted(doc))


def router_for(kinds: Kinds) -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["admin"])
    for kind in kinds:
        every = template(f"/providers/{RESOURCE_PROVIDER}/{kind.type_name}")
        router.add_api_route(
            every.path,
            endpoint_for(list_all, kind, every.params),
            methods=["GET"],
            summary=f"Admin: every {kind.title} document",
        )
        one = template(kind.route)
        router.add_api_route(
            one.path,
            endpoint_for(get_one, kind, one.params),
            methods=["GET"],
            summary=f"Admin: one {kind.title} document",
        )
    return router
