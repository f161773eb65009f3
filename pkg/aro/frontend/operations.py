"""Async-operation polling for every operation family, the provider's operations list, the catalogs
(``locations/{location}/openShiftVersions``, ...) and deployment preflight -- all from the kinds."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.kind import CatalogKind, Kinds, OperationFamily, ResourceKind, invalid_api_version
from aro.api.resource import RESOURCE_PROVIDER, TERMINAL_STATES, ProvisioningState, step_label
from aro.api.template import template
from aro.database import Doc
from aro.database.asyncoperations import AsyncOperations, resource_of
from aro.database.subscriptions import Subscriptions, registered_features
from aro.frontend.arm import (
    Arm,
    ArmRequest,
    check_location,
    check_operation_id,
    check_resource_group,
    reply,
)
from aro.frontend.resources import validation_context

_TERMINAL = {s.value for s in TERMINAL_STATES}
_SERVER_ERRORS = {errors.INTERNAL_SERVER_ERROR, errors.OPERATION_TIMED_OUT}


def _not_found() -> CloudError:
    return CloudError(404, errors.NOT_FOUND, "The entity was not found.")


class Operation:
    """An operation as a client may see it, and the resource it concerns (if it still exists)."""

    def __init__(self, view: dict[str, Any], kind: ResourceKind[Any], request: str, resource: Doc | None):
        self.view = view
        self.kind = kind
        self.request = request
        self.resource = resource


async def _operation(arm: ArmRequest, family: OperationFamily, versions: list[str]) -> Operation:
    """While the resource document still references the operation, the initial status is reported: the
    backend writes the operation's end before it ends the resource's lease, and the end becomes visible
    only once the resource document shows it. Implicit operations (cascades) are never visible."""
    if arm.api_version not in versions:
        raise invalid_api_version(f"locations/{family.status}", arm.api_version, versions)
    check_location(arm.params["location"], arm.config)
    operation_id = check_operation_id(arm.params["operationId"])
    services = arm.services
    op = await AsyncOperations(services.store).get(arm.subscription_id, operation_id)
    if op is None or op.get("implicit"):
        raise _not_found()
    container, key = resource_of(op)
    kind = services.kinds.by_container(container)
    if kind is None or kind.operations != family:
        raise _not_found()
    resource = await services.store.container(container).get_by_key(key, arm.subscription_id)
    view: dict[str, Any] = dict(op["asyncOperation"])
    if resource is not None and resource.get("asyncOperationId") == op["id"]:
        view = {k: view[k] for k in ("id", "name", "startTime") if k in view} | {"status": view["initialStatus"]}
        view |= _progress(services.codec(kind).progress(resource), op["id"])
    elif view["status"] not in _TERMINAL:
        raise _not_found()  # never handed to a client: its resource write did not happen
    view.pop("initialStatus", None)
    return Operation(view, kind, op.get("request") or "", resource)


def _progress(record: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """While running: ``percentComplete`` (ARM's optional field) and ``currentStep`` (ours, non-standard:
    the backend step being run), from the operation record the backend keeps in the resource."""
    if record.get("operationId") != operation_id or not record.get("totalSteps"):
        return {}
    out: dict[str, Any] = {
        "percentComplete": round(100 * len(record.get("completedSteps") or []) / record["totalSteps"])
    }
    if record.get("currentStep"):
        out["currentStep"] = step_label(record["currentStep"])
    return out


def _family_routes(router: APIRouter, family: OperationFamily, versions: list[str]) -> None:
    async def status(arm: Arm, subscriptionId: str, location: str, operationId: str) -> Any:
        view = (await _operation(arm, family, versions)).view
        # while running, Retry-After paces the poller (ARM's pollers otherwise wait their own default, 30 s)
        return reply(200, view, None if view["status"] in _TERMINAL else arm.retry_after())

    async def result(arm: Arm, subscriptionId: str, location: str, operationId: str) -> Any:
        op = await _operation(arm, family, versions)
        state = op.view["status"]
        if state not in _TERMINAL:
            return reply(202, None, {"Location": arm.self_url()} | arm.retry_after())
        if state == ProvisioningState.FAILED.value and op.view.get("error"):
            error = op.view["error"]
            raise CloudError.from_body(500 if error.get("code") in _SERVER_ERRORS else 400, error)
        if op.resource is None:
            return reply(204)
        version = op.kind.version(arm.api_version)
        hub = arm.services.codec(op.kind).decode(op.resource)
        action = op.kind.async_action(arm.api_version, op.request)
        if action is not None:
            return reply(204) if action.result is None else reply(200, action.result(hub, op.view["name"]))
        return reply(200, version.resource.to_external(hub))

    router.add_api_route(
        template(family.status_route).path, status, methods=["GET"], summary="Status of an asynchronous operation"
    )
    router.add_api_route(
        template(family.result_route).path, result, methods=["GET"], summary="Result of an asynchronous operation"
    )


def _catalog_routes(router: APIRouter, catalog: CatalogKind) -> None:
    def body(arm: ArmRequest, entry: Any) -> dict[str, Any]:
        rid = catalog.resource_id(arm.subscription_id, arm.config.location, catalog.name_of(entry))
        return catalog.render(entry, rid, arm.api_version)

    async def entries(arm: ArmRequest) -> list[Any]:
        catalog.renderer(arm.api_version)  # an api-version this catalog does not serve: 400
        check_location(arm.params["location"], arm.config)
        features: frozenset[str] = frozenset()
        if catalog.visible is not None:
            features = registered_features(await Subscriptions(arm.services.store).get(arm.subscription_id))
        return [e for e in arm.services.catalogs.get(catalog.name, ()) if catalog.shows(e, features)]

    async def list_entries(arm: Arm, subscriptionId: str, location: str) -> Any:
        return reply(200, {"value": [body(arm, e) for e in await entries(arm)]})

    async def get_entry(arm: Arm, **_: str) -> Any:
        wanted = arm.params[catalog.param]
        for entry in await entries(arm):
            if catalog.name_of(entry).lower() == wanted.lower():
                return reply(200, body(arm, entry))
        raise CloudError(404, errors.RESOURCE_NOT_FOUND, catalog.missing_message(wanted[:40], arm.api_version))

    get_entry.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("arm", inspect.Parameter.KEYWORD_ONLY, annotation=Arm)]
        + [
            inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, annotation=str)
            for p in ("subscriptionId", "location", catalog.param)
        ]
    )
    path = template(catalog.route).path
    router.add_api_route(path, list_entries, methods=["GET"], summary=f"List the {catalog.title} catalog")
    router.add_api_route(path + f"/{{{catalog.param}}}", get_entry, methods=["GET"], summary=f"Get one {catalog.title}")


def provider_operations(kinds: Kinds) -> list[dict[str, Any]]:
    """``GET /providers/Microsoft.RedHatOpenShift/operations``: what every kind and route family offers."""
    entries: list[tuple[str, str, str, str]] = []
    for family in kinds.families():
        entries.append((f"locations/{family.result}/read", "Location", *family.result_display))
        entries.append((f"locations/{family.status}/read", "Location", *family.status_display))
    for catalog in kinds.catalogs:
        entries.append((f"locations/{catalog.name.lower()}/read", "Location", catalog.operation, catalog.description))
    entries.append(
        ("operations/read", "Operations", "Read operations", "Lists the operations of the resource provider.")
    )
    for kind in kinds:
        for what, verb in (("read", "Read"), ("write", "Write"), ("delete", "Delete")):
            entries.append((f"{kind.type_name}/{what}", kind.title, f"{verb} {kind.title}", kind.description(what)))
        for a in kind.actions:
            if a.listed:
                entries.append((f"{kind.type_name}/{a.name}/action", kind.title, a.operation, a.description))
    entries.append(
        ("register/action", "Resource provider", "Register", "Registers the subscription with the resource provider.")
    )
    return [
        {
            "name": f"{RESOURCE_PROVIDER}/{name}",
            "isDataAction": False,
            "display": {
                "provider": "Azure Red Hat OpenShift",
                "resource": resource,
                "operation": op,
                "description": desc,
            },
            "origin": "user,system",
        }
        for name, resource, op, desc in entries
    ]


async def preflight(arm: ArmRequest) -> Response:
    """As ARO: each resource of the template whose type is one of ours is validated with its own
    ``apiVersion`` -- as a create, or as an update of the resource it names if that exists (a child's name
    is ``parent/child``). Always 200 ``{"status": "Succeeded"}`` or ``{"status": "Failed", "error": {...}}``
    (the first error)."""
    services = arm.services
    all_versions = sorted({v for k in services.kinds for v in k.api_versions})
    if arm.api_version not in all_versions:
        raise invalid_api_version("deployments", arm.api_version, all_versions)
    resource_group = arm.params["resourceGroupName"]
    check_resource_group(resource_group)
    body = await arm.json_body()
    resources = body.get("resources") if isinstance(body, dict) else None
    if not isinstance(resources, list):
        raise CloudError(400, errors.INVALID_REQUEST_CONTENT, "The preflight body must contain a 'resources' list.")
    by_type = {k.type.lower(): k for k in services.kinds}
    for resource in resources:
        kind = by_type.get(str(resource.get("type", "")).lower()) if isinstance(resource, dict) else None
        if kind is None:
            continue
        try:
            await _preflight_one(arm, kind, resource_group, resource)
        except CloudError as e:
            return reply(200, {"status": "Failed", "error": e.body()})
    return reply(200, {"status": "Succeeded"})


async def _preflight_one(
    arm: ArmRequest, kind: ResourceKind[Any], resource_group: str, resource: dict[str, Any]
) -> None:
    version = kind.version(str(resource.get("apiVersion") or arm.api_version))
    names = str(resource.get("name", "")).split("/")
    if len(names) != len(kind.chain):
        raise CloudError(
            400, errors.INVALID_PARAMETER, f"The provided resource name '{resource.get('name')}' is invalid.", "name"
        )
    rid = f"/subscriptions/{arm.subscription_id}/resourceGroups/{resource_group}/providers/{RESOURCE_PROVIDER}"
    for k, name in zip(kind.chain, names, strict=True):
        if not k.names.valid(name):
            raise CloudError(400, errors.INVALID_PARAMETER, f"The provided resource name '{name}' is invalid.", "name")
        rid += f"/{k.name}/{name}"
    doc = await arm.services.store.container(kind.container_name).get_by_key(rid.lower(), arm.subscription_id)
    current = arm.services.codec(kind).decode(doc) if doc is not None else None
    request = {k: v for k, v in resource.items() if k not in ("apiVersion", "dependsOn")}
    request["name"] = names[-1]
    version.resource.put(request, current, validation_context(arm, kind, rid, resource_group, names[-1], None))


def router_for(kinds: Kinds) -> APIRouter:
    router = APIRouter()
    for family, versions in kinds.families().items():
        _family_routes(router, family, versions)
    operations = provider_operations(kinds)

    async def list_operations() -> Any:
        return reply(200, {"value": operations})

    router.add_api_route(
        f"/providers/{RESOURCE_PROVIDER.lower()}/operations",
        list_operations,
        methods=["GET"],
        summary="Operations of the resource provider",
    )
    for catalog in kinds.catalogs:
        _catalog_routes(router, catalog)

    async def deployment_preflight(arm: Arm, subscriptionId: str, resourceGroupName: str, deploymentName: str) -> Any:
        return await preflight(arm)

    router.add_api_route(
        "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/"
        + RESOURCE_PROVIDER.lower()
        + "/deployments/{deploymentName}/preflight",
        deployment_preflight,
        methods=["POST"],
        summary="ARM deployment preflight: validate the resources of a template without creating them",
    )
    return router
