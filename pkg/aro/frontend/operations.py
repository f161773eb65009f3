"""Async-operation polling, the provider's operations list, the versions catalog and preflight."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from aro.api import errors
from aro.api.cluster import RESOURCE_PROVIDER, TERMINAL_STATES, ProvisioningState
from aro.api.errors import CloudError
from aro.api.registry import VERSIONS
from aro.database import Doc, Store
from aro.database.clusters import ClusterCodec
from aro.database.containers import ASYNC_OPERATIONS, OPENSHIFT_CLUSTERS
from aro.frontend.arm import (
    Arm,
    ArmRequest,
    check_location,
    check_operation_id,
    check_resource_group,
    invalid_api_version,
    reply,
)

router = APIRouter()

LOC = "/subscriptions/{subscriptionId}/providers/microsoft.redhatopenshift/locations/{location}"
_TERMINAL = {s.value for s in TERMINAL_STATES}


def _not_found() -> CloudError:
    return CloudError(404, errors.NOT_FOUND, "The entity was not found.")


async def _operation(arm: ArmRequest, operation_id: str) -> tuple[dict[str, Any], Doc | None]:
    """The operation as a client may see it, and the cluster document it concerns (if any).

    While the cluster document still references the operation, the initial status is reported: the
    backend writes the operation's end before it ends the cluster's lease, and the end becomes visible
    only once the cluster document shows it."""
    arm.version()
    check_location(arm.segments[5], arm.config)
    operation_id = check_operation_id(operation_id)
    store: Store = arm.request.app.state.store
    op = await store.container(ASYNC_OPERATIONS.name).get(arm.subscription_id, operation_id)
    if op is None:
        raise _not_found()
    cluster = await store.container(OPENSHIFT_CLUSTERS.name).get_by_key(op["openShiftClusterKey"], arm.subscription_id)
    view = dict(op["asyncOperation"])
    if cluster is not None and cluster.get("asyncOperationId") == op["id"]:
        view = {k: view[k] for k in ("id", "name", "startTime") if k in view} | {"status": view["initialStatus"]}
        view |= _progress(cluster, op["id"])
    elif view["status"] not in _TERMINAL:
        raise _not_found()  # never handed to a client: its cluster write did not happen
    view.pop("initialStatus", None)
    return view, cluster


def _progress(cluster: Doc, operation_id: str) -> dict[str, Any]:
    """While running: ``percentComplete`` (ARM's optional field) and ``currentStep`` (ours, non-standard:
    the backend step being run), from the progress record the backend keeps in the cluster document."""
    progress = cluster.get("openShiftCluster", {}).get("properties", {}).get("install") or {}
    if progress.get("operationId") != operation_id or not progress.get("totalSteps"):
        return {}
    out: dict[str, Any] = {
        "percentComplete": round(100 * len(progress.get("completedSteps") or []) / progress["totalSteps"])
    }
    if progress.get("currentStep"):
        out["currentStep"] = progress["currentStep"]
    return out


@router.get(LOC + "/operationsstatus/{operationId}", summary="Status of an asynchronous operation")
async def operation_status(arm: Arm, subscriptionId: str, location: str, operationId: str) -> Any:
    view, _ = await _operation(arm, operationId)
    return reply(200, view)


@router.get(LOC + "/operationresults/{operationId}", summary="Result of an asynchronous operation")
async def operation_result(arm: Arm, subscriptionId: str, location: str, operationId: str) -> Any:
    view, cluster = await _operation(arm, operationId)
    status = view["status"]
    if status not in _TERMINAL:
        return reply(202, None, {"Location": arm.self_url()} | arm.retry_after())
    if status == ProvisioningState.FAILED.value and view.get("error"):
        err = CloudError.from_body(
            500 if view["error"].get("code") == errors.INTERNAL_SERVER_ERROR else 400, view["error"]
        )
        raise err
    if cluster is None:
        return reply(204)
    codec: ClusterCodec = arm.request.app.state.codec
    return reply(200, arm.version().cluster.to_external(codec.decode(cluster)))


OPERATIONS: list[tuple[str, str, str, str]] = [
    (
        "locations/operationresults/read",
        "Location",
        "Read operation results",
        "Reads the result of an operation.",
    ),
    (
        "locations/operationsstatus/read",
        "Location",
        "Read operation status",
        "Reads the status of an operation.",
    ),
    (
        "locations/openshiftversions/read",
        "Location",
        "Read OpenShift versions",
        "Lists installable versions.",
    ),
    ("operations/read", "Operations", "Read operations", "Lists the operations of the resource provider."),
    (
        "openShiftClusters/read",
        "OpenShift cluster",
        "Read OpenShift cluster",
        "Gets or lists OpenShift clusters.",
    ),
    (
        "openShiftClusters/write",
        "OpenShift cluster",
        "Write OpenShift cluster",
        "Creates or updates a cluster.",
    ),
    (
        "openShiftClusters/delete",
        "OpenShift cluster",
        "Delete OpenShift cluster",
        "Deletes an OpenShift cluster.",
    ),
    (
        "openShiftClusters/listCredentials/action",
        "OpenShift cluster",
        "List credentials",
        "Lists the kubeadmin credentials of a cluster.",
    ),
    (
        "openShiftClusters/listAdminCredentials/action",
        "OpenShift cluster",
        "List admin credentials",
        "Lists the admin kubeconfig of a cluster.",
    ),
    (
        "register/action",
        "Resource provider",
        "Register",
        "Registers the subscription with the resource provider.",
    ),
]


@router.get("/providers/microsoft.redhatopenshift/operations", summary="Operations of the resource provider")
async def list_operations() -> Any:
    value = [
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
        for name, resource, op, desc in OPERATIONS
    ]
    return reply(200, {"value": value})


def _version_body(arm: ArmRequest, version: str) -> dict[str, Any]:
    v = arm.version()
    for entry in arm.request.app.state.catalog:
        if entry.enabled and entry.version == version:
            rid = (
                f"/subscriptions/{arm.subscription_id}/providers/{RESOURCE_PROVIDER}/locations/"
                f"{arm.config.location}/openShiftVersions/{entry.version}"
            )
            if v.version_to_external is None:
                return {"id": rid, "name": entry.version, "properties": {"version": entry.version}}
            return v.version_to_external(entry, rid)
    raise CloudError(404, errors.RESOURCE_NOT_FOUND, f"The OpenShift version '{version[:40]}' was not found.")


@router.get(LOC + "/openshiftversions", summary="List installable OpenShift versions")
async def list_versions(arm: Arm, subscriptionId: str, location: str) -> Any:
    arm.version()
    check_location(arm.segments[5], arm.config)
    value = [_version_body(arm, v.version) for v in arm.request.app.state.catalog if v.enabled]
    return reply(200, {"value": value})


@router.get(LOC + "/openshiftversions/{openShiftVersion}", summary="Get an installable OpenShift version")
async def get_version(arm: Arm, subscriptionId: str, location: str, openShiftVersion: str) -> Any:
    arm.version()
    check_location(arm.segments[5], arm.config)
    return reply(200, _version_body(arm, arm.segments[7]))


@router.post(
    "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/microsoft.redhatopenshift"
    "/deployments/{deploymentName}/preflight",
    summary="ARM deployment preflight: validate the clusters of a template without creating them",
)
async def preflight(arm: Arm, subscriptionId: str, resourceGroupName: str, deploymentName: str) -> Any:
    """As ARO: each ``Microsoft.RedHatOpenShift/openShiftClusters`` resource of the template is validated
    with its own ``apiVersion`` -- as a create, or as an update of the cluster it names if that exists.
    Always 200 ``{"status": "Succeeded"}`` or ``{"status": "Failed", "error": {...}}`` (the first error)."""
    arm.version()
    resource_group = arm.segments[3]
    check_resource_group(resource_group)
    body = await arm.json_body()
    resources = body.get("resources") if isinstance(body, dict) else None
    if not isinstance(resources, list):
        raise CloudError(400, errors.INVALID_REQUEST_CONTENT, "The preflight body must contain a 'resources' list.")
    store: Store = arm.request.app.state.store
    codec: ClusterCodec = arm.request.app.state.codec
    for resource in resources:
        if (
            not isinstance(resource, dict)
            or str(resource.get("type", "")).lower() != "microsoft.redhatopenshift/openshiftclusters"
        ):
            continue
        api_version = str(resource.get("apiVersion") or arm.api_version)
        name = str(resource.get("name", ""))
        rid = (
            f"/subscriptions/{arm.subscription_id}/resourceGroups/{resource_group}/providers/{RESOURCE_PROVIDER}"
            f"/openShiftClusters/{name}"
        )
        try:
            version = VERSIONS.get(api_version)
            if version is None:
                raise invalid_api_version(api_version)
            doc = await store.container(OPENSHIFT_CLUSTERS.name).get_by_key(rid.lower(), arm.subscription_id)
            current = codec.decode(doc) if doc is not None else None
            request = {k: v for k, v in resource.items() if k not in ("apiVersion", "dependsOn")}
            version.cluster.put(request, current, arm.validation_context(rid, resource_group, name))
        except CloudError as e:
            return reply(200, {"status": "Failed", "error": e.body()})
    return reply(200, {"status": "Succeeded"})
