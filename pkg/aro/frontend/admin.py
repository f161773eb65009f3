"""The admin API (SRE view; production mode requires the admin client certificate for /admin): every
kind's documents as stored -- lease, dequeues, current operation, step progress and history -- with every
secret field removed. ``/admin/providers/microsoft.redhatopenshift/{type}`` lists a kind's documents across
subscriptions; ``/admin`` + a resource's URL shows one.

Per kind, when it declares them (``ResourceKind.admin_patch``, ``admin_actions``, ``admin_views``):

- ``PATCH /admin{resourceId}``: an admin change (pause, feature set, desired version, a maintenance task)
  run as an operation: 202 + ``Location`` + ``Azure-AsyncOperation`` (the kind's newest api-version). A
  change the kind calls record-only (its ``admin_patch`` names no request: a pause) is written to the
  stored document directly, etag-conditional, whatever the resource's state -- no operation, 200 with the
  document -- and a queued operation (e.g. one waiting on the pause) is made claimable at once;
- ``POST /admin{resourceId}/{action}``: an admin action run as an operation (a backup, a restore);
- ``GET /admin{resourceId}/{view}``: a read-only view (the backups).

And for every top-level kind, through the process's ``Inspector`` (``aro.admin.inspect``; 503 without one):
``GET /admin{resourceId}/diagnostics`` (application/gzip) and ``GET /admin{resourceId}/controlplane/metrics``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.kind import Kinds, ResourceKind
from aro.api.resource import RESOURCE_PROVIDER, Request
from aro.api.template import template
from aro.database import Doc
from aro.database.containers import BILLING, partition_of
from aro.database.subscriptions import Subscriptions
from aro.frontend.arm import Arm, ArmRequest, check_preconditions, reply
from aro.frontend.paging import Pager
from aro.frontend.resources import ResourcePath, Writer, endpoint_for, load_parent, start_action, validation_context

log = logging.getLogger("aro.frontend.admin")


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


def _versioned(arm: ArmRequest, kind: ResourceKind[Any]) -> ArmRequest:
    """Admin requests carry no api-version: operation URLs get the kind's newest."""
    return arm if arm.api_version else dataclasses.replace(arm, api_version=kind.api_versions[-1])


def _not_allowed() -> CloudError:
    return CloudError(405, errors.METHOD_NOT_ALLOWED, "The HTTP method is not allowed for this resource.")


async def patch_one(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    apply = kind.admin_patch
    if apply is None:
        raise _not_allowed()
    arm = _versioned(arm, kind)
    path = ResourcePath(kind, arm)
    body = await arm.json_body(required=True)
    subscription = await Subscriptions(arm.services.store).get(arm.subscription_id)  # its features; no gate
    w = Writer(arm, path)

    async def attempt() -> tuple[int, Doc]:
        doc = await w.resources.get_by_key(path.key, path.partition)
        if doc is None:
            raise path.not_found()
        check_preconditions(arm.request, doc)
        before = w.codec.decode(doc)
        parent = await load_parent(arm, path, None)
        ctx = validation_context(arm, kind, path.resource_id, path.resource_group, path.name, parent, subscription)
        current = w.codec.decode(doc)
        request = apply(current, body, dataclasses.replace(ctx, current=before))
        if request is None:  # record-only: no operation; a queued one looks again at once
            updated = w.codec.encode(doc, current)
            if not updated.get("leaseOwner"):
                updated["leaseExpires"] = 0
            return 200, await w.resources.replace(updated)
        kind.gate(before, Request.UPDATE)
        return 202, await w.begin(doc, current, request)

    status, doc = await w.run(attempt)
    if status == 200:
        log.info("admin update recorded", extra={"docKey": path.key})
        return reply(200, arm.services.codec(kind).redacted(doc))
    log.info("admin update accepted", extra={"docKey": path.key, "operationId": w.operation_id})
    headers = arm.async_headers(kind.operations, w.operation_id, location=True)
    return reply(202, arm.services.codec(kind).redacted(doc), headers)


async def admin_action(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    name = arm.params["adminName"].lower()
    entry = kind.admin_actions.get(name)
    if entry is None:
        raise CloudError(404, errors.NOT_FOUND, f"The admin action '{name[:64]}' is not supported for {kind.type}.")
    arm = _versioned(arm, kind)
    body = await arm.json_body(required=False)
    return await start_action(arm, ResourcePath(kind, arm), entry, body)


async def admin_view(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    name = arm.params["adminName"].lower()
    view = kind.admin_views.get(name)
    if view is None:
        raise CloudError(404, errors.NOT_FOUND, f"The admin view '{name[:64]}' is not supported for {kind.type}.")
    path = ResourcePath(kind, arm)
    doc = await arm.services.store.container(kind.container_name).get_by_key(path.key, path.partition)
    if doc is None:
        raise path.not_found()
    return reply(200, view(arm.services.codec(kind).decode(doc, secrets=False)))


async def _inspected(arm: ArmRequest, kind: ResourceKind[Any]) -> Doc:
    if arm.services.inspector is None:
        raise CloudError(503, "ServiceUnavailable", "This process cannot inspect clusters (no cloud configured).")
    path = ResourcePath(kind, arm)
    doc = await arm.services.store.container(kind.container_name).get_by_key(path.key, path.partition)
    if doc is None:
        raise path.not_found()
    return doc


async def diagnostics(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    doc = await _inspected(arm, kind)
    assert arm.services.inspector is not None
    archive = await arm.services.inspector.diagnostics(kind, doc)
    name = doc["key"].rsplit("/", 1)[-1]
    headers = {"Content-Disposition": f'attachment; filename="{name}-diagnostics.tar.gz"'}
    return Response(archive, media_type="application/gzip", headers=headers)


async def control_plane_metrics(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    doc = await _inspected(arm, kind)
    assert arm.services.inspector is not None
    text = await arm.services.inspector.control_plane_metrics(kind, doc)
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


async def list_billing(arm: ArmRequest) -> Response:
    """Every billing document (a cluster's billing record: creation and deletion times), paged."""
    pager = Pager(arm, scope="admin|billing")
    page = await arm.services.store.container(BILLING.name).list_page(
        continuation=pager.continuation, max_items=pager.page_size
    )
    return reply(200, pager.body(page.items, page.continuation))


def router_for(kinds: Kinds) -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["admin"])

    async def billing(arm: Arm) -> Response:
        return await list_billing(arm)

    router.add_api_route(
        template(f"/providers/{RESOURCE_PROVIDER}/billing").path,
        billing,
        methods=["GET"],
        summary="Admin: every billing document",
    )
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
        if kind.admin_patch is not None:
            router.add_api_route(
                one.path,
                endpoint_for(patch_one, kind, one.params),
                methods=["PATCH"],
                summary=f"Admin: update {kind.a_title} (an operation)",
            )
        if kind.parent is None:  # (registered before the views: "diagnostics" is not a view name)
            for suffix, handler, what, media in (
                ("/diagnostics", diagnostics, "diagnostics (tar.gz, secrets removed)", "application/gzip"),
                (
                    "/controlplane/metrics",
                    control_plane_metrics,
                    "control-plane metrics (Prometheus text)",
                    "text/plain",
                ),
            ):
                router.add_api_route(
                    one.path + suffix,
                    endpoint_for(handler, kind, one.params),
                    methods=["GET"],
                    summary=f"Admin: {what} of {kind.a_title}",
                    response_class=Response,
                    responses={200: {"content": {media: {"schema": {"type": "string", "format": "binary"}}}}},
                )
        named = template(kind.route + "/{adminName}")
        if kind.admin_actions:
            router.add_api_route(
                named.path,
                endpoint_for(admin_action, kind, named.params),
                methods=["POST"],
                summary=f"Admin: an action on {kind.a_title} ({', '.join(sorted(kind.admin_actions))})",
            )
        if kind.admin_views:
            router.add_api_route(
                named.path,
                endpoint_for(admin_view, kind, named.params),
                methods=["GET"],
                summary=f"Admin: a view of {kind.a_title} ({', '.join(sorted(kind.admin_views))})",
            )
    return router
