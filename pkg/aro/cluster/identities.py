"""The identities of a workload identity (managed identity) cluster at install, update and delete, as ARO-RP
handles them (``pkg/cluster``: ``platformWorkloadIdentityIDs``, ``clusterIdentityIDs``, ``createOIDC``,
``platformWorkloadIdentityRBAC``, ``federateIdentityCredentials``; delete: ``deleteRoleAssignments``,
``deleteFederatedCredentials``). Every step is a no-op for a service principal cluster.

- ``resolve_identities``: the identities must exist (GET each one; a missing platform identity fails the
  install with ``InvalidPlatformWorkloadIdentity``), match the role set of the cluster's version, and -- on
  create -- carry no federated credential but the ones this cluster would make; their client and object
  (principal) ids are recorded on the cluster.
- ``ensure_oidc_issuer``: the cluster's OIDC issuer URL, ``https://{location}.oic.aroapp.io/{tenant}/{document
  id}`` (ARO's shape: its regional OIDC front door, tenant, cluster document id) unless the cluster has one.
- ``ensure_role_assignments``: each operator identity gets its role set's role on the managed resource group
  (ARO-RP deploys these with the cluster's resources); names are deterministic (uuid5 of scope, role and
  principal, as ARO's ``guid(resourceGroup().id, role, principal)``), so a resumed step adds nothing twice.
  The roles on the customer's vnet and the cluster identity's "Azure Red Hat OpenShift Federated Credential"
  role on the platform identities are the customer's to assign (`az aro create` prints the commands), as
  with ARO-RP.
- ``federate_identities``: one federated credential per service account of each operator (issuer: the
  cluster's, subject ``system:serviceaccount:<namespace>:<name>``, audience ``openshift``), named as ARO-RP
  names them.
- delete: the role assignments above (before the resource group goes), then every federated credential on
  the platform identities with the cluster's issuer and audience ``openshift``.
"""

from __future__ import annotations

import hashlib
import string
import uuid
from typing import Any

from aro.api.cluster import OpenShiftCluster, UserAssignedIdentity
from aro.api.errors import INVALID_PARAMETER, CloudError
from aro.api.resource import ProvisioningState
from aro.api.workloadidentity import (
    INVALID_PLATFORM_WORKLOAD_IDENTITY,
    PLATFORM_WORKLOAD_IDENTITY_CONTAINS_INVALID_CREDENTIAL,
    PWI_PATH,
    check_role_set,
    mismatch,
    uses_workload_identity,
)
from aro.cluster.context import ClusterContext

IDENTITY_API = "2023-01-31"
ROLE_ASSIGNMENT_API = "2022-04-01"
AUDIENCE = "openshift"
OIDC_HOST = "{location}.oic.aroapp.io"
MAX_FEDERATED_CREDENTIAL_NAME = 120
MAX_LISTED_CREDENTIALS = 100  # Azure allows 20 per identity
_ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("7d6c4f70-2a3e-5b8e-9f51-0c1e6a4b2d93")  # ours: names stay stable
_BASE36 = string.digits + string.ascii_lowercase


# --- names -----------------------------------------------------------------------------------------------


def _base36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _BASE36[r] + out
    return out or "0"


def federated_credential_name(cluster_name: str, identity_name: str, service_account: str) -> str:
    """ARO-RP's ``GetPlatformWorkloadIdentityFederatedCredName``: ``<cluster>_<sa>`` and a base-36 SHA-224
    of ``<cluster>_<sa>-<sa>-<identity>``, at most 120 characters."""
    sa = service_account.split(":")[-1]
    key = f"{cluster_name}_{sa}"
    digest = _base36(int.from_bytes(hashlib.sha224(f"{key}-{sa}-{identity_name}".encode()).digest(), "big"))
    room = MAX_FEDERATED_CREDENTIAL_NAME - len(digest) - 1
    return f"{key[:room]}_{digest}"


def role_assignment_name(scope: str, role_definition_guid: str, principal_id: str) -> str:
    return str(uuid.uuid5(_ROLE_ASSIGNMENT_NAMESPACE, f"{scope.lower()}|{role_definition_guid.lower()}|{principal_id}"))


def _name_of(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def _rg_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[4] if len(parts) > 4 else ""


def _not_found(resource_id: str) -> str:
    return (
        f"The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/{_name_of(resource_id)}' under resource "
        f"group '{_rg_of(resource_id)}' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix"
    )


def _ids(resource: dict[str, Any]) -> tuple[str, str, str]:
    """(clientId, principalId, tenantId) of an identity as ARM returns it."""
    props = resource.get("properties")
    props = props if isinstance(props, dict) else {}
    return str(props.get("clientId") or ""), str(props.get("principalId") or ""), str(props.get("tenantId") or "")


def _federated(ctx: ClusterContext, resource_id: str, service_accounts: list[str]) -> set[str]:
    identity = _name_of(resource_id)
    return {federated_credential_name(ctx.oc.name, identity, sa) for sa in service_accounts}


async def _credentials(ctx: ClusterContext, identity_id: str) -> list[dict[str, Any]]:
    listed = await ctx.cloud.get_resource(f"{identity_id}/federatedIdentityCredentials", IDENTITY_API)
    value = (listed or {}).get("value")
    return [c for c in value[:MAX_LISTED_CREDENTIALS] if isinstance(c, dict)] if isinstance(value, list) else []


# --- install ---------------------------------------------------------------------------------------------


async def resolve_identities(ctx: ClusterContext) -> None:
    """GET every identity, check it as ARO-RP's dynamic validation does, record the ids (see the module doc)."""
    oc = ctx.oc
    if not uses_workload_identity(oc):
        return
    roles = check_role_set(oc)  # the role set may have changed since the request was accepted
    pwi = oc.properties.platform_workload_identity_profile
    assert pwi is not None
    platform: dict[str, tuple[str, str]] = {}
    for name, wi in pwi.platform_workload_identities.items():
        target = f'.{PWI_PATH}.platformWorkloadIdentities["{name}"]'
        try:
            res = await ctx.cloud.get_resource(wi.resource_id, IDENTITY_API)
        except CloudError as e:
            if e.status not in (401, 403):
                raise
            raise CloudError(400, INVALID_PLATFORM_WORKLOAD_IDENTITY, e.message, target) from None
        if res is None:
            raise CloudError(400, INVALID_PLATFORM_WORKLOAD_IDENTITY, _not_found(wi.resource_id), target)
        client_id, object_id, _ = _ids(res)
        if not client_id or not object_id:
            raise CloudError(
                400, INVALID_PLATFORM_WORKLOAD_IDENTITY, f"The identity '{wi.resource_id}' has no client ID.", target
            )
        platform[name] = (client_id, object_id)
        if oc.properties.provisioning_state is ProvisioningState.CREATING:
            ours = _federated(ctx, wi.resource_id, roles.by_operator[name][0].service_accounts)
            for credential in await _credentials(ctx, wi.resource_id):
                if str(credential.get("name")) not in ours:
                    raise CloudError(
                        400,
                        PLATFORM_WORKLOAD_IDENTITY_CONTAINS_INVALID_CREDENTIAL,
                        f"Unexpected federated credential '{credential.get('name')}' found on platform workload "
                        f"identity '{wi.resource_id}' used for role '{name}'. Please ensure this identity is only "
                        "used for this cluster and does not have any existing federated identity credentials.",
                        f"{PWI_PATH}.platformWorkloadIdentities.{name}.resourceId",
                    )
    assert oc.identity is not None
    cluster_key = next(iter(oc.identity.user_assigned_identities))  # exactly one (validated)
    res = await ctx.cloud.get_resource(cluster_key, IDENTITY_API)
    if res is None:
        # ARO-RP learns of it from the MSI data plane (an internal error); a 400 names it instead.
        raise CloudError(400, INVALID_PARAMETER, _not_found(cluster_key), "identity.userAssignedIdentities")
    cluster_client, cluster_principal, tenant = _ids(res)

    def record(c: OpenShiftCluster) -> None:
        p = c.properties.platform_workload_identity_profile
        assert p is not None and c.identity is not None
        for name, (client_id, object_id) in platform.items():
            if name in p.platform_workload_identities:
                p.platform_workload_identities[name].client_id = client_id
                p.platform_workload_identities[name].object_id = object_id
        for key in c.identity.user_assigned_identities:
            if key.lower() == cluster_key.lower():
                c.identity.user_assigned_identities[key] = UserAssignedIdentity(
                    principal_id=cluster_principal or None, client_id=cluster_client or None
                )
        c.identity.tenant_id = c.identity.tenant_id or tenant or None

    await ctx.update(record)


async def ensure_oidc_issuer(ctx: ClusterContext) -> None:
    oc = ctx.oc
    if not uses_workload_identity(oc) or oc.properties.cluster_profile.oidc_issuer:
        return
    tenant = (oc.identity.tenant_id if oc.identity is not None else None) or ctx.tenant_id or "common"
    issuer = f"https://{OIDC_HOST.format(location=oc.location.lower())}/{tenant}/{ctx.cluster_doc_id}"

    def record(c: OpenShiftCluster) -> None:
        c.properties.cluster_profile.oidc_issuer = c.properties.cluster_profile.oidc_issuer or issuer

    await ctx.update(record)


def _role_assignments(ctx: ClusterContext) -> list[tuple[str, dict[str, Any]]]:
    """(id, body) of the operators' role assignments on the managed resource group."""
    oc = ctx.oc
    roles = check_role_set(oc)
    pwi = oc.properties.platform_workload_identity_profile
    assert pwi is not None
    scope = oc.properties.cluster_profile.resource_group_id
    out: list[tuple[str, dict[str, Any]]] = []
    for name, wi in pwi.platform_workload_identities.items():
        if name not in roles.by_operator:
            raise mismatch(roles)
        if not wi.object_id:
            raise CloudError(500, "InternalServerError", f"The object ID of identity '{name}' is not known.")
        for role in roles.by_operator[name]:
            guid = role.role_definition_guid
            name_ = role_assignment_name(scope, guid, wi.object_id)
            rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name_}"
            definitions = f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Authorization/roleDefinitions"
            body = {
                "properties": {
                    "roleDefinitionId": f"{definitions}/{guid}",
                    "principalId": wi.object_id,
                    "principalType": "ServicePrincipal",
                }
            }
            out.append((rid, body))
    return out


async def ensure_role_assignments(ctx: ClusterContext) -> None:
    if not uses_workload_identity(ctx.oc):
        return
    for rid, body in _role_assignments(ctx):
        if await ctx.cloud.get_resource(rid, ROLE_ASSIGNMENT_API) is not None:
            continue
        try:
            await ctx.cloud.put_resource(rid, ROLE_ASSIGNMENT_API, body)
        except CloudError as e:
            if e.code != "RoleAssignmentExists":  # the same grant under another name: already there
                raise


async def federate_identities(ctx: ClusterContext) -> None:
    oc = ctx.oc
    if not uses_workload_identity(oc):
        return
    issuer = oc.properties.cluster_profile.oidc_issuer
    if not issuer:
        raise CloudError(500, "InternalServerError", "The cluster has no OIDC issuer.")
    roles = check_role_set(oc)
    pwi = oc.properties.platform_workload_identity_profile
    assert pwi is not None
    for name, wi in pwi.platform_workload_identities.items():
        if name not in roles.by_operator:
            raise mismatch(roles)
        for sa in roles.by_operator[name][0].service_accounts:
            cred = federated_credential_name(oc.name, _name_of(wi.resource_id), sa)
            body = {"properties": {"issuer": issuer, "subject": sa, "audiences": [AUDIENCE]}}
            await ctx.cloud.put_resource(f"{wi.resource_id}/federatedIdentityCredentials/{cred}", IDENTITY_API, body)


# --- delete ----------------------------------------------------------------------------------------------


async def delete_role_assignments(ctx: ClusterContext) -> None:
    """The operators' role assignments on the managed resource group (absent ones: nothing to do)."""
    oc = ctx.oc
    pwi = oc.properties.platform_workload_identity_profile
    if not uses_workload_identity(oc) or pwi is None or not oc.properties.cluster_profile.resource_group_id:
        return
    if any(not wi.object_id for wi in pwi.platform_workload_identities.values()):
        return  # the install stopped before it knew them, so before it assigned any role
    try:
        assignments = _role_assignments(ctx)
    except CloudError:
        return  # no role set for the version any more: nothing this release assigned
    for rid, _ in assignments:
        await ctx.cloud.delete_resource(rid, ROLE_ASSIGNMENT_API)


async def delete_federated_credentials(ctx: ClusterContext) -> None:
    """Every federated credential on the platform identities made for this cluster (its issuer, audience
    ``openshift``); identities that are gone are skipped."""
    oc = ctx.oc
    pwi = oc.properties.platform_workload_identity_profile
    issuer = oc.properties.cluster_profile.oidc_issuer
    if not uses_workload_identity(oc) or pwi is None or not issuer:
        return
    for wi in pwi.platform_workload_identities.values():
        for credential in await _credentials(ctx, wi.resource_id):
            props = credential.get("properties")
            props = props if isinstance(props, dict) else {}
            if props.get("audiences") == [AUDIENCE] and props.get("issuer") == issuer:
                await ctx.cloud.delete_resource(
                    f"{wi.resource_id}/federatedIdentityCredentials/{credential.get('name')}", IDENTITY_API
                )
