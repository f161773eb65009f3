"""One module registers the routes of every resource kind from its descriptor: GET / PUT / PATCH / DELETE
of an item, the list under its parent (top level: by resource group and by subscription), and its POST
actions.

Writes run inside ``retry_on_precondition_failed``: read, check the gates, validate through the
api-version, write conditional on the etag read; a concurrent write makes the attempt start over (a client
``If-Match`` is checked on every attempt, so a real conflict reaches the client as 412). The operation
document is written first, then the resource referencing it (see ``aro.database.asyncoperations``); a
request that fails removes its operation.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.kind import Cascade, ResourceKind
from aro.api.resource import RESOURCE_PROVIDER, ProvisioningState, Request, Resource
from aro.api.template import template
from aro.api.version import ActionRenderer, AsyncAction, ValidationContext
from aro.database import Conflict, Doc, PreconditionFailed, retry_on_precondition_failed
from aro.database.asyncoperations import AsyncOperations, new_operation
from aro.database.claims import Claims, not_named
from aro.database.codec import SealedCodec
from aro.database.containers import partition_of
from aro.database.documents import OperationDocument, ResourceDocument, SubscriptionDocument
from aro.frontend.arm import (
    Arm,
    ArmRequest,
    check_preconditions,
    check_resource_group,
    http_etag,
    json_bytes,
    new_operation_id,
    reply,
    reply_bytes,
    system_data,
)
from aro.frontend.capabilities import require_capabilities
from aro.frontend.claiming import claim, claims_of, release
from aro.frontend.paging import Pager
from aro.frontend.subscriptions import DELETE_STATES, WRITE_STATES, registered_features, require_subscription

log = logging.getLogger("aro.frontend.resources")

KindHandler = Callable[[ArmRequest, ResourceKind[Any]], Awaitable[Response]]


# --- where a request points -------------------------------------------------------------------------------


def parent_not_found(kind: ResourceKind[Any], name: str) -> CloudError:
    return CloudError(
        404,
        errors.PARENT_RESOURCE_NOT_FOUND,
        f"Can not perform requested operation on nested resource. Parent resource '{name[:100]}' of type "
        f"'{kind.type}' not found.",
    )


class ResourcePath:
    """The facts of an item URL (``item=False``: of a collection, the parent's URL), in the caller's casing."""

    def __init__(self, kind: ResourceKind[Any], arm: ArmRequest, *, item: bool = True):
        self.kind = kind
        self.resource_group = arm.params["resourceGroupName"]
        check_resource_group(self.resource_group)
        self.subscription_id = arm.subscription_id
        self.partition = partition_of(arm.subscription_id)
        for ancestor in kind.chain[:-1]:
            if not ancestor.names.valid(arm.params[ancestor.param]):  # it cannot exist
                raise parent_not_found(ancestor, arm.params[ancestor.param])
        self.name = arm.params[kind.param] if item else ""
        if item:
            check_name(kind, self.name, arm.method)
        of = kind if item else kind.parent
        self.resource_id = ""
        if of is not None:  # the casing of the request (of the creating PUT, for what is stored)
            t = template(of.route)
            matched = t.match(arm.path)
            self.resource_id = matched[1] if matched is not None else t.fill(arm.params)
        self.key = self.resource_id.lower()
        self.parent_key = self.key.rsplit("/", 2)[0] if item and kind.parent is not None else self.key

    def not_found(self) -> CloudError:
        return CloudError(
            404,
            errors.RESOURCE_NOT_FOUND,
            f"The Resource '{self.kind.type}/{self.name}' under resource group '{self.resource_group}' was not found.",
        )


def check_name(kind: ResourceKind[Any], value: str, method: str) -> None:
    """A name that fails the kind's rule: 400 InvalidResourceName on PUT/PATCH, else 404 (it cannot exist)."""
    if kind.names.valid(value):
        return
    if method in ("PUT", "PATCH"):
        raise CloudError(
            400,
            "InvalidResourceName",
            f"The resource name '{value[:100]}' is invalid: {kind.names.description}.",
        )
    raise CloudError(404, errors.RESOURCE_NOT_FOUND, f"The Resource '{kind.type}/{value[:100]}' was not found.")


def validation_context(
    arm: ArmRequest,
    kind: ResourceKind[Any],
    resource_id: str,
    resource_group: str,
    name: str,
    parent: Resource | None,
    subscription: SubscriptionDocument | None = None,
) -> ValidationContext:
    """What api-version validation needs to know about a resource named by this request."""
    catalog = arm.services.catalogs.get(kind.versions_catalog, ()) if kind.versions_catalog else ()
    return ValidationContext(
        resource_id=resource_id,
        subscription_id=arm.subscription_id,
        resource_group=resource_group,
        name=name,
        location=arm.config.location,
        rp_domain=f"{arm.config.location}.{arm.config.cloud.azure.cluster_domain}",
        versions=tuple(v.name for v in catalog if v.enabled),
        default_version=next((v.name for v in catalog if v.default), ""),
        resource_type=kind.type,
        parent=parent,
        features=registered_features(subscription),
        catalog=tuple(catalog),
    )


async def load_parent(arm: ArmRequest, path: ResourcePath, request: str | None) -> Resource | None:
    """A child's parent as stored (404 ParentResourceNotFound if missing); with ``request``, the parent's
    state must allow that request on its children (the kind's parent gate, e.g. 409 while deleting)."""
    parent = path.kind.parent
    if parent is None:
        return None
    doc = await arm.services.store.container(parent.container_name).get_by_key(path.parent_key, path.partition)
    if doc is None:
        raise parent_not_found(parent, arm.params[parent.param])
    hub: Resource = arm.services.codec(parent).decode(doc, secrets=False)
    if request is not None:
        path.kind.parent_gate(hub, request)
    return hub


MAX_CHILDREN = 500  # what an update's validation sees of a parent's children (ARO-HCP: ≤ 500 node pools)


async def load_children(arm: ArmRequest, kind: ResourceKind[Any], path: ResourcePath) -> list[Resource]:
    """A parent's children as stored (every child kind, at most ``MAX_CHILDREN``), for rules that span
    them (a cluster's version against its node pools')."""
    out: list[Resource] = []
    for child in arm.services.kinds.children(kind):
        page = await arm.services.store.container(child.container_name).list_page(
            prefix=path.key + "/", partition_key=path.partition, max_items=MAX_CHILDREN - len(out)
        )
        codec = arm.services.codec(child)
        out += [codec.decode(d, secrets=False) for d in page.items]
        if len(out) >= MAX_CHILDREN:
            break
    return out


# --- writes -----------------------------------------------------------------------------------------------


class Writer:
    """One write of one resource: its operation document (written first), the resource document after."""

    def __init__(self, arm: ArmRequest, path: ResourcePath):
        self.arm = arm
        self.path = path
        self.kind = path.kind
        self.codec: SealedCodec[Any] = arm.services.codec(path.kind)
        self.resources = arm.services.store.container(path.kind.container_name)
        self.operations = AsyncOperations(arm.services.store)
        self.operation_id = new_operation_id()
        self.operation: OperationDocument | None = None

    async def ensure_operation(self, request: str, initial: ProvisioningState) -> str:
        if self.operation is not None and self.operation["request"] != request:
            await self.discard_operation()
            self.operation_id = new_operation_id()
        if self.operation is None:
            self.operation = await self.operations.create(
                new_operation(
                    self.operation_id,
                    subscription_id=self.arm.subscription_id,
                    location=self.arm.config.location,
                    status_segment=self.kind.operations.status,
                    resource_key=self.path.key,
                    container=self.kind.container_name,
                    request=request,
                    initial_status=initial.value,
                )
            )
        return self.operation_id

    async def discard_operation(self) -> None:
        if self.operation is not None:
            await self.operations.discard(self.operation)
            self.operation = None

    async def begin(self, doc: Doc, hub: Resource, request: str) -> Doc:
        """Move ``hub`` (decoded from ``doc``) into ``request``'s operation and write it."""
        self.kind.lifecycle.begin(hub, request)
        op = await self.ensure_operation(request, hub.properties.provisioning_state)
        updated = self.codec.encode(doc, hub)
        updated["asyncOperationId"] = op
        updated["dequeues"] = 0
        return await self.resources.replace(updated)

    async def run(self, attempt: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await retry_on_precondition_failed(attempt)
        except BaseException:
            await self.discard_operation()
            raise


async def put_or_patch(arm: ArmRequest, kind: ResourceKind[Any], patch: bool) -> Response:
    version = kind.version(arm.api_version)
    path = ResourcePath(kind, arm)
    body = await arm.json_body(required=not patch)
    if patch and body is None:
        body = {}
    system_data(arm.request, None, creating=True)  # a bad systemData header: 400 before anything is written
    subscription = await require_subscription(arm, WRITE_STATES)
    w = Writer(arm, path)
    services = arm.services

    async def attempt() -> tuple[int, Doc, Resource]:
        doc = await w.resources.get_by_key(path.key, path.partition)
        if doc is None and patch:
            raise path.not_found()  # PATCH of a missing resource: 404 whatever the preconditions
        check_preconditions(arm.request, doc)
        request = Request.CREATE if doc is None else Request.UPDATE
        parent = await load_parent(arm, path, request)
        ctx = validation_context(arm, kind, path.resource_id, path.resource_group, path.name, parent, subscription)
        if doc is None:
            new = version.resource.put(body, None, ctx)
            new.id, new.name, new.type = path.resource_id, path.name, kind.type
            kind.lifecycle.begin(new, Request.CREATE)
            new.system_data = system_data(arm.request, None, creating=True)
            await require_capabilities(arm, kind, new, None, parent)
            taken = await claim(services, kind, path.partition, path.key, claims_of(kind, new, path.parent_key))
            op = await w.ensure_operation(Request.CREATE, new.properties.provisioning_state)
            fresh: ResourceDocument = {
                "id": str(uuid.uuid4()),
                "partitionKey": path.partition,
                "key": path.key,
                "asyncOperationId": op,
                "dequeues": 0,
            }
            try:
                try:
                    return 201, await w.resources.create(w.codec.encode(fresh, new)), new
                except Conflict:
                    raise PreconditionFailed("created concurrently") from None
            except BaseException:
                await Claims(services.store).undo(taken)
                raise
        current = w.codec.decode(doc)
        kind.gate(current, Request.UPDATE)
        ctx = dataclasses.replace(ctx, children=await load_children(arm, kind, path))
        new = version.resource.patch(body, current, ctx) if patch else version.resource.put(body, current, ctx)
        new.id, new.name, new.type = current.id, current.name, kind.type
        new.system_data = system_data(arm.request, current.system_data, creating=False)
        await require_capabilities(arm, kind, new, current, parent)
        held, wanted = claims_of(kind, current, path.parent_key), claims_of(kind, new, path.parent_key)
        taken = await claim(services, kind, path.partition, path.key, not_named(wanted, held))
        try:
            written = await w.begin(doc, new, Request.UPDATE)
        except BaseException:
            await Claims(services.store).undo(taken)
            raise
        await release(services, kind, path.partition, path.key, not_named(held, wanted))
        return kind.patch_status if patch else 200, written, new

    status, doc, written_hub = await w.run(attempt)
    headers = arm.async_headers(kind.operations, w.operation_id, location=status == 202)
    headers["ETag"] = http_etag(doc)
    log.info("write accepted", extra={"docKey": path.key, "status": status, "operationId": w.operation_id})
    # rendered from the hub just written (the version renders no secrets), not decoded back from ``doc``:
    # the same body as a GET of ``doc`` (tests/frontend/test_fastpath.py), without a load of the hub JSON
    return reply(status, version.resource.to_external(written_hub), headers)


async def delete(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    kind.version(arm.api_version)
    path = ResourcePath(kind, arm)
    await arm.json_body(required=False)
    await require_subscription(arm, DELETE_STATES)
    w = Writer(arm, path)
    blocking = [k for k in arm.services.kinds.children(kind) if k.cascade is Cascade.BLOCK]

    async def attempt() -> Doc | None:
        doc = await w.resources.get_by_key(path.key, path.partition)
        check_preconditions(arm.request, doc)  # If-Match on a missing resource: 412 (RFC 7232), not 204
        if doc is None:
            return None
        parent = kind.parent
        if parent is not None:  # a missing parent: the child is an orphan, and may go
            found = await arm.services.store.container(parent.container_name).get_by_key(
                path.parent_key, path.partition
            )
            if found is not None:
                kind.parent_gate(arm.services.codec(parent).decode(found, secrets=False), Request.DELETE)
        current = w.codec.decode(doc)
        kind.gate(current, Request.DELETE)
        for child in blocking:
            if await arm.services.store.container(child.container_name).count(
                prefix=f"{path.key}/{child.name.lower()}/", partition_key=path.partition
            ):
                raise CloudError(
                    409, errors.CONFLICT, f"The resource has {child.title} child resources: delete them first."
                )
        return await w.begin(doc, current, Request.DELETE)

    doc = await w.run(attempt)
    if doc is None:
        return reply(204)
    log.info("delete accepted", extra={"docKey": path.key, "operationId": w.operation_id})
    return reply(202, None, arm.async_headers(kind.operations, w.operation_id, location=True))


async def get(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    version = kind.version(arm.api_version)
    path = ResourcePath(kind, arm)
    doc = await arm.services.store.container(kind.container_name).get_by_key(path.key, path.partition)
    if doc is None:
        raise path.not_found()
    cache = arm.services.render_cache
    body = cache.get(doc["key"], doc["etag"], arm.api_version)
    if body is None:
        body = json_bytes(version.resource.to_external(arm.services.codec(kind).decode(doc, secrets=False)))
        cache.put(doc["key"], doc["etag"], arm.api_version, body)
    return reply_bytes(200, body, {"ETag": http_etag(doc)})


async def list_page(arm: ArmRequest, kind: ResourceKind[Any], prefix: str) -> Response:
    version = kind.version(arm.api_version)
    pager = Pager(arm, prefix)
    codec = arm.services.codec(kind)
    page = await arm.services.store.container(kind.container_name).list_page(
        prefix=prefix,
        partition_key=partition_of(arm.subscription_id),
        continuation=pager.continuation,
        max_items=pager.page_size,
    )
    items = [version.resource.to_external(codec.decode(d, secrets=False)) for d in page.items]
    return reply(200, pager.body(items, page.continuation))


async def list_collection(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    """A top-level kind's list in one resource group, or a child kind's list under its parent."""
    kind.version(arm.api_version)
    path = ResourcePath(kind, arm, item=False)
    if kind.parent is None:
        group = f"/subscriptions/{arm.subscription_id}/resourcegroups/{path.resource_group}"
        prefix = f"{group}/providers/{RESOURCE_PROVIDER}/{kind.name}/"
    else:
        await load_parent(arm, path, None)
        prefix = f"{path.key}/{kind.name}/"
    return await list_page(arm, kind, prefix.lower())


async def list_subscription(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    return await list_page(arm, kind, f"/subscriptions/{arm.subscription_id}/")


async def action(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    version = kind.version(arm.api_version)
    path = ResourcePath(kind, arm)
    name = arm.params["action"]
    entry: ActionRenderer[Any] | AsyncAction[Any] | None = version.actions.get(name.lower())
    if entry is None:
        known = name.lower() in kind.action_names()
        raise CloudError(
            400 if known else 404,
            errors.INVALID_RESOURCE_TYPE if known else errors.NOT_FOUND,
            f"The action '{name[:64]}' is not supported for api version '{arm.api_version}'.",
        )
    body = await arm.json_body(required=False)
    await require_subscription(arm, WRITE_STATES)
    if isinstance(entry, AsyncAction):
        return await start_action(arm, path, entry, body)
    doc = await arm.services.store.container(kind.container_name).get_by_key(path.key, path.partition)
    if doc is None:
        raise path.not_found()
    hub = arm.services.codec(kind).decode(doc)
    kind.action_gate(hub, name.lower())
    log.info("action", extra={"docKey": path.key, "action": name.lower()})
    return reply(200, entry(hub))


async def start_action(arm: ArmRequest, path: ResourcePath, entry: AsyncAction[Any], body: Any) -> Response:
    """An action that runs as an operation (request ``entry.request``): 202 + Location + Azure-AsyncOperation.
    ``entry.accept`` checks the body and records it on the resource, written with the operation."""
    w = Writer(arm, path)

    async def attempt() -> Doc:
        doc = await w.resources.get_by_key(path.key, path.partition)
        if doc is None:
            raise path.not_found()
        check_preconditions(arm.request, doc)
        await load_parent(arm, path, entry.request)
        current = w.codec.decode(doc)
        path.kind.action_gate(current, entry.request)
        if entry.accept is not None:
            entry.accept(current, body, w.operation_id)
        return await w.begin(doc, current, entry.request)

    await w.run(attempt)
    log.info("action accepted", extra={"docKey": path.key, "request": entry.request, "operationId": w.operation_id})
    return reply(202, None, arm.async_headers(path.kind.operations, w.operation_id, location=True))


# --- registration -----------------------------------------------------------------------------------------


def endpoint_for(handler: KindHandler, kind: ResourceKind[Any], params: Sequence[str]) -> Any:
    """A FastAPI endpoint for ``handler`` on ``kind``, declaring the route's parameters (for the OpenAPI
    document; the handler reads them by name, in their original casing, from ``ArmRequest.params``)."""

    async def endpoint(arm: Arm, **_: str) -> Response:
        return await handler(arm, kind)

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("arm", inspect.Parameter.KEYWORD_ONLY, annotation=Arm)]
        + [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=str) for p in params]
    )
    endpoint.__name__ = f"{handler.__name__}_{kind.name}"
    return endpoint


def router_for(kinds: Sequence[ResourceKind[Any]]) -> APIRouter:
    router = APIRouter()
    for kind in kinds:
        _add_routes(router, kind)
    return router


def _add_routes(router: APIRouter, kind: ResourceKind[Any]) -> None:
    tags: list[str | Enum] = [kind.type_name]

    def add(route: str, method: str, handler: KindHandler, summary: str) -> None:
        t = template(route)
        router.add_api_route(
            t.path, endpoint_for(handler, kind, t.params), methods=[method], summary=summary, tags=tags
        )

    add(kind.route, "PUT", put, f"Create or replace {kind.a_title}")
    add(kind.route, "PATCH", patch, f"Update {kind.a_title} (JSON merge patch)")
    add(kind.route, "GET", get, f"Get {kind.a_title}")
    add(kind.route, "DELETE", delete, f"Delete {kind.a_title}")
    where = "in a resource group" if kind.parent is None else f"of {kind.parent.a_title}"
    add(kind.collection_route, "GET", list_collection, f"List {kind.title} resources {where}")
    if kind.subscription_route is not None:
        add(kind.subscription_route, "GET", list_subscription, f"List {kind.title} resources in a subscription")
    if kind.action_names():
        listed = ", ".join(a.name for a in kind.actions) or "actions"
        add(kind.route + "/{action}", "POST", action, f"{kind.title} actions: {listed}")


async def put(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    return await put_or_patch(arm, kind, patch=False)


async def patch(arm: ArmRequest, kind: ResourceKind[Any]) -> Response:
    return await put_or_patch(arm, kind, patch=True)
