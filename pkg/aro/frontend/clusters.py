"""openShiftClusters: GET / PUT / PATCH / DELETE, lists, and the credential actions.

Writes run inside ``retry_on_precondition_failed``: read, validate, write conditional on the etag read;
a concurrent write makes the attempt start over (a client ``If-Match`` is checked on every attempt, so a
real conflict reaches the client as 412).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from aro.api import errors
from aro.api.cluster import RESOURCE_TYPE, OpenShiftCluster, ProvisioningState, SystemData
from aro.api.errors import CloudError
from aro.api.version import ValidationContext
from aro.database import Conflict, Doc, NotFound, PreconditionFailed, Store, retry_on_precondition_failed
from aro.database.asyncoperations import new_operation_doc
from aro.database.clusters import ClusterCodec
from aro.database.containers import ASYNC_OPERATIONS, OPENSHIFT_CLUSTERS, partition_of
from aro.frontend.arm import (
    Arm,
    ArmRequest,
    check_resource_group,
    check_resource_name,
    json_bytes,
    new_operation_id,
    reply,
    reply_bytes,
)
from aro.frontend.paging import Pager
from aro.frontend.subscriptions import DELETE_STATES, WRITE_STATES, require_subscription

log = logging.getLogger("aro.frontend.clusters")
router = APIRouter(tags=["openShiftClusters"])

NS = "/providers/microsoft.redhatopenshift/openshiftclusters"
ITEM = "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}" + NS + "/{resourceName}"
RG_LIST = "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}" + NS
SUB_LIST = "/subscriptions/{subscriptionId}" + NS


def _store(arm: ArmRequest) -> Store:
    store: Store = arm.request.app.state.store
    return store


def _codec(arm: ArmRequest) -> ClusterCodec:
    codec: ClusterCodec = arm.request.app.state.codec
    return codec


def http_etag(doc: Doc) -> str:
    return f'"{doc["etag"]}"'


def _etag_matches(header: str, doc: Doc) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or http_etag(doc) in tags or doc["etag"] in tags or f"W/{http_etag(doc)}" in tags


def check_preconditions(request: Request, doc: Doc | None) -> None:
    """If-Match / If-None-Match per the ARM RPC table (412 PreconditionFailed)."""
    if_match = request.headers.get("if-match")
    if_none_match = request.headers.get("if-none-match")
    if if_match is not None and (doc is None or not _etag_matches(if_match, doc)):
        raise CloudError(
            412,
            errors.PRECONDITION_FAILED,
            "The condition specified by If-Match was not met: the resource has changed or does not exist.",
        )
    if if_none_match is not None and doc is not None and _etag_matches(if_none_match, doc):
        raise CloudError(
            412,
            errors.PRECONDITION_FAILED,
            "The condition specified by If-None-Match was not met: the resource already exists.",
        )


class ClusterPath:
    """The facts of an item URL, in the caller's casing."""

    def __init__(self, arm: ArmRequest):
        s = arm.segments  # subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{action}]
        self.resource_group = s[3]
        self.name = s[7]
        check_resource_group(self.resource_group)
        check_resource_name(self.name, arm.method)
        self.resource_id = "/" + "/".join(s[:8])
        self.key = self.resource_id.lower()
        self.partition = partition_of(arm.subscription_id)

    def not_found(self) -> CloudError:
        return CloudError(
            404,
            errors.RESOURCE_NOT_FOUND,
            f"The Resource '{RESOURCE_TYPE}/{self.name}' under resource group '{self.resource_group}' was not found.",
        )

    def context(self, arm: ArmRequest) -> ValidationContext:
        return arm.validation_context(self.resource_id, self.resource_group, self.name)


def _system_data(request: Request, current: SystemData | None, creating: bool) -> SystemData | None:
    """Merge ARM's x-ms-arm-resource-system-data header (non-empty fields) into the stored systemData."""
    raw = request.headers.get("x-ms-arm-resource-system-data")
    if not raw:
        return current
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        return current
    if not isinstance(header, dict):
        return current
    merged = (current.model_copy() if current else SystemData()).model_dump(by_alias=True, exclude_none=True)
    for field in ("createdBy", "createdByType", "createdAt") if creating else ():
        if isinstance(header.get(field), str) and header[field]:
            merged[field] = header[field]
    for field in ("lastModifiedBy", "lastModifiedByType", "lastModifiedAt"):
        if isinstance(header.get(field), str) and header[field]:
            merged[field] = header[field]
    return SystemData.model_validate(merged)


def _refuse_if_busy(current: OpenShiftCluster, *, writing: bool) -> None:
    state = current.properties.provisioning_state
    if not state.terminal:
        raise CloudError(400, errors.REQUEST_NOT_ALLOWED, f"Request is not allowed in provisioningState '{state}'.")
    failed = current.properties.failed_provisioning_state
    if (
        writing
        and state is ProvisioningState.FAILED
        and failed in (ProvisioningState.CREATING, ProvisioningState.DELETING)
    ):
        raise CloudError(
            400,
            errors.REQUEST_NOT_ALLOWED,
            f"Request is not allowed on cluster whose creation or deletion failed ('{failed}'). Delete the cluster.",
        )


class _Writer:
    """One PUT/PATCH/DELETE: the operation document is written first, then the cluster document
    referencing it (see aro.database.asyncoperations for why); a failed request removes its operation."""

    def __init__(self, arm: ArmRequest, path: ClusterPath):
        self.arm = arm
        self.path = path
        self.clusters = _store(arm).container(OPENSHIFT_CLUSTERS.name)
        self.operations = _store(arm).container(ASYNC_OPERATIONS.name)
        self.operation_id = new_operation_id()
        self.operation: Doc | None = None

    async def ensure_operation(self, initial: ProvisioningState) -> str:
        if self.operation is not None and self.operation["asyncOperation"]["initialStatus"] != initial.value:
            await self.discard_operation()
            self.operation_id = new_operation_id()
        if self.operation is None:
            self.operation = await self.operations.create(
                new_operation_doc(
                    self.operation_id,
                    self.arm.subscription_id,
                    self.arm.config.location,
                    self.path.key,
                    initial.value,
                )
            )
        return self.operation_id

    async def discard_operation(self) -> None:
        if self.operation is not None:
            try:
                await self.operations.delete(self.operation)
            except (NotFound, PreconditionFailed):
                pass
            self.operation = None


async def _put_or_patch(arm: ArmRequest, patch: bool) -> Response:
    version = arm.version()
    path = ClusterPath(arm)
    body = await arm.json_body(required=not patch)
    if patch and body is None:
        body = {}
    await require_subscription(arm, WRITE_STATES)
    ctx = path.context(arm)
    codec = _codec(arm)
    w = _Writer(arm, path)

    async def attempt() -> tuple[int, Doc]:
        doc = await w.clusters.get_by_key(path.key, path.partition)
        if doc is None and patch:
            raise path.not_found()  # PATCH of a missing resource: 404 whatever the preconditions
        check_preconditions(arm.request, doc)
        if doc is None:
            new = version.cluster.put(body, None, ctx)
            new.id, new.name, new.type = path.resource_id, path.name, RESOURCE_TYPE
            new.properties.provisioning_state = ProvisioningState.CREATING
            new.system_data = _system_data(arm.request, None, creating=True)
            op = await w.ensure_operation(ProvisioningState.CREATING)
            fresh: Doc = {
                "id": str(uuid.uuid4()),
                "partitionKey": path.partition,
                "key": path.key,
                "asyncOperationId": op,
                "dequeues": 0,
            }
            try:
                return 201, await w.clusters.create(codec.encode(fresh, new))
            except Conflict:
                raise PreconditionFailed("created concurrently") from None
        current = codec.decode(doc)
        _refuse_if_busy(current, writing=True)
        new = version.cluster.patch(body, current, ctx) if patch else version.cluster.put(body, current, ctx)
        new.id, new.name, new.type = current.id, current.name, RESOURCE_TYPE
        new.properties.last_provisioning_state = current.properties.provisioning_state
        new.properties.failed_provisioning_state = None
        new.properties.provisioning_state = ProvisioningState.UPDATING
        new.system_data = _system_data(arm.request, current.system_data, creating=False)
        op = await w.ensure_operation(ProvisioningState.UPDATING)
        updated = codec.encode(doc, new)
        updated["asyncOperationId"] = op
        updated["dequeues"] = 0
        return 200, await w.clusters.replace(updated)

    try:
        status, doc = await retry_on_precondition_failed(attempt)
    except BaseException:
        await w.discard_operation()
        raise
    oc = codec.decode(doc)
    headers = arm.async_headers(w.operation_id, location=False)
    headers["ETag"] = http_etag(doc)
    log.info(
        "cluster write accepted",
        extra={"clusterKey": path.key, "status": status, "operationId": w.operation_id},
    )
    return reply(status, version.cluster.to_external(oc), headers)


@router.put(ITEM, summary="Create or replace an OpenShift cluster")
async def put_cluster(arm: Arm, subscriptionId: str, resourceGroupName: str, resourceName: str) -> Any:
    return await _put_or_patch(arm, patch=False)


@router.patch(ITEM, summary="Update an OpenShift cluster (JSON merge patch)")
async def patch_cluster(arm: Arm, subscriptionId: str, resourceGroupName: str, resourceName: str) -> Any:
    return await _put_or_patch(arm, patch=True)


@router.get(ITEM, summary="Get an OpenShift cluster")
async def get_cluster(arm: Arm, subscriptionId: str, resourceGroupName: str, resourceName: str) -> Any:
    version = arm.version()
    path = ClusterPath(arm)
    doc = await _store(arm).container(OPENSHIFT_CLUSTERS.name).get_by_key(path.key, path.partition)
    if doc is None:
        raise path.not_found()
    cache: RenderCache = arm.request.app.state.render_cache
    body = cache.get(doc["key"], doc["etag"], arm.api_version)
    if body is None:
        body = json_bytes(version.cluster.to_external(_codec(arm).decode(doc, secrets=False)))
        cache.put(doc["key"], doc["etag"], arm.api_version, body)
    return reply_bytes(200, body, {"ETag": http_etag(doc)})


class RenderCache:
    """Rendered GET bodies by (document key, etag, api-version). The etag changes on every write of the
    document, so an entry can never be stale; pollers of a cluster (SDKs, the CLI) skip decode + render.
    Bounded (least recently used out first); secrets are never rendered, so never cached."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def get(self, key: str, etag: str, api_version: str) -> bytes | None:
        k = (key + "|" + api_version, etag)
        body = self._items.get(k)
        if body is not None:
            self._items.move_to_end(k)
        return body

    def put(self, key: str, etag: str, api_version: str, body: bytes) -> None:
        self._items[(key + "|" + api_version, etag)] = body
        if len(self._items) > self.size:
            self._items.popitem(last=False)


@router.delete(ITEM, summary="Delete an OpenShift cluster")
async def delete_cluster(arm: Arm, subscriptionId: str, resourceGroupName: str, resourceName: str) -> Any:
    arm.version()
    path = ClusterPath(arm)
    await arm.json_body(required=False)
    await require_subscription(arm, DELETE_STATES)
    codec = _codec(arm)
    w = _Writer(arm, path)

    async def attempt() -> Doc | None:
        doc = await w.clusters.get_by_key(path.key, path.partition)
        if doc is None:
            return None
        check_preconditions(arm.request, doc)
        current = codec.decode(doc)
        _refuse_if_busy(current, writing=False)
        current.properties.last_provisioning_state = current.properties.provisioning_state
        current.properties.provisioning_state = ProvisioningState.DELETING
        op = await w.ensure_operation(ProvisioningState.DELETING)
        updated = codec.encode(doc, current)
        updated["asyncOperationId"] = op
        updated["dequeues"] = 0
        return await w.clusters.replace(updated)

    try:
        doc = await retry_on_precondition_failed(attempt)
    except BaseException:
        await w.discard_operation()
        raise
    if doc is None:
        return reply(204)
    log.info("cluster delete accepted", extra={"clusterKey": path.key, "operationId": w.operation_id})
    return reply(202, None, arm.async_headers(w.operation_id, location=True))


async def _list(arm: ArmRequest, prefix: str) -> Response:
    version = arm.version()
    pager = Pager(arm, prefix)
    codec = _codec(arm)
    container = _store(arm).container(OPENSHIFT_CLUSTERS.name)
    page = await container.list_page(
        prefix=prefix,
        partition_key=partition_of(arm.subscription_id),
        continuation=pager.continuation,
        max_items=pager.page_size,
    )
    body: dict[str, Any] = {"value": [version.cluster.to_external(codec.decode(d, secrets=False)) for d in page.items]}
    if page.continuation:
        body["nextLink"] = pager.next_link(page.continuation)
    return reply(200, body)


@router.get(RG_LIST, summary="List OpenShift clusters in a resource group")
async def list_by_resource_group(arm: Arm, subscriptionId: str, resourceGroupName: str) -> Any:
    check_resource_group(arm.segments[3])
    return await _list(arm, f"/subscriptions/{arm.subscription_id}/resourcegroups/{arm.segments[3].lower()}{NS}/")


@router.get(SUB_LIST, summary="List OpenShift clusters in a subscription")
async def list_by_subscription(arm: Arm, subscriptionId: str) -> Any:
    return await _list(arm, f"/subscriptions/{arm.subscription_id}/")


@router.post(ITEM + "/{action}", summary="Cluster actions: listCredentials, listAdminCredentials, credentials")
async def cluster_action(arm: Arm, subscriptionId: str, resourceGroupName: str, resourceName: str, action: str) -> Any:
    version = arm.version()
    path = ClusterPath(arm)
    render = version.actions.get(action.lower())
    if render is None:
        raise CloudError(
            404 if action.lower() not in _ALL_ACTIONS else 400,
            errors.NOT_FOUND if action.lower() not in _ALL_ACTIONS else errors.INVALID_RESOURCE_TYPE,
            f"The action '{arm.segments[8]}' is not supported for api version '{arm.api_version}'.",
        )
    await arm.json_body(required=False)
    await require_subscription(arm, WRITE_STATES)
    doc = await _store(arm).container(OPENSHIFT_CLUSTERS.name).get_by_key(path.key, path.partition)
    if doc is None:
        raise path.not_found()
    oc = _codec(arm).decode(doc)
    state, failed = oc.properties.provisioning_state, oc.properties.failed_provisioning_state
    if state in (ProvisioningState.CREATING, ProvisioningState.DELETING) or (
        state is ProvisioningState.FAILED and failed in (ProvisioningState.CREATING, ProvisioningState.DELETING)
    ):
        shown = f"{state}" + (f" ({failed})" if state is ProvisioningState.FAILED else "")
        raise CloudError(400, errors.REQUEST_NOT_ALLOWED, f"Request is not allowed in provisioningState '{shown}'.")
    log.info("credentials listed", extra={"clusterKey": path.key, "action": action.lower()})
    return reply(200, render(oc))


def _all_actions() -> frozenset[str]:
    from aro.api.registry import VERSIONS

    names: set[str] = set()
    for v in VERSIONS.values():
        names |= set(v.actions)
    return frozenset(names)


_ALL_ACTIONS = _all_actions()
