"""The ``openShiftClusters`` kind (ARO's classic clusters) and its versions catalog.

Where ARO differs from the shared defaults (ARO-HCP's 409 rules), the cluster keeps ARO's answers: a write
while an operation runs is 400 ``RequestNotAllowed``, as are an update after a failed create or delete
("Delete the cluster") and the credential actions while the cluster is being created or deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

from aro.api import clusteradmin, v20191231preview, v20250725, workloadidentity
from aro.api.cluster import SECRET_PATHS, OpenShiftCluster
from aro.api.errors import DUPLICATE_RESOURCE_GROUP, REQUEST_NOT_ALLOWED, CloudError
from aro.api.kind import ActionInfo, CatalogKind, Claim, ResourceKind
from aro.api.resource import RESOURCE_PROVIDER, ProvisioningState, Request, Resource

_BROKEN = (ProvisioningState.CREATING, ProvisioningState.DELETING)
DUPLICATE_CLIENT_ID = "DuplicateClientID"
INVALID_LINKED_VNET = "InvalidLinkedVNet"  # ARO-RP's code for a subnet it cannot use


def cluster_gate(current: Resource, request: str) -> None:
    p = current.properties
    state = p.provisioning_state
    if not state.terminal:
        raise CloudError(400, REQUEST_NOT_ALLOWED, f"Request is not allowed in provisioningState '{state}'.")
    if request != Request.DELETE and state is ProvisioningState.FAILED and p.failed_provisioning_state in _BROKEN:
        raise CloudError(
            400,
            REQUEST_NOT_ALLOWED,
            f"Request is not allowed on cluster whose creation or deletion failed ('{p.failed_provisioning_state}'). "
            "Delete the cluster.",
        )


def credentials_gate(current: Resource, request: str) -> None:
    p = current.properties
    state, failed = p.provisioning_state, p.failed_provisioning_state
    if state in _BROKEN or (state is ProvisioningState.FAILED and failed in _BROKEN):
        shown = f"{state}" + (f" ({failed})" if state is ProvisioningState.FAILED else "")
        raise CloudError(400, REQUEST_NOT_ALLOWED, f"Request is not allowed in provisioningState '{shown}'.")


def cluster_claims(oc: Resource, parent_key: str) -> Sequence[Claim]:
    """What ARO keeps unique per subscription, refused at PUT (ARO-RP's unique keys, with its codes, messages
    and empty targets): the managed resource group (``DuplicateResourceGroup``), the service principal's client id or
    the workload identity cluster's identity (``DuplicateClientID``). And, refused at PUT here where ARO
    refuses only at install (the subnet then carries another cluster's NSG): each subnet, shared with the
    hosted clusters' claims, so no two clusters of either kind share one."""
    if not isinstance(oc, OpenShiftCluster):
        return ()
    p = oc.properties
    out: list[Claim] = []
    rg_id = p.cluster_profile.resource_group_id
    if rg_id:
        out.append(
            Claim(
                "clusterResourceGroup",
                rg_id,
                "",
                f"The provided resource group '{rg_id[:300]}' already contains a cluster.",
                code=DUPLICATE_RESOURCE_GROUP,
            )
        )
    sp = p.service_principal_profile
    if sp is not None and sp.client_id:
        out.append(
            Claim(
                "clientId",
                sp.client_id,
                "",
                f"The provided service principal with client ID '{sp.client_id[:300]}' is already in use by a cluster.",
                code=DUPLICATE_CLIENT_ID,
            )
        )
    if workloadidentity.uses_workload_identity(oc) and oc.identity is not None:
        for key in oc.identity.user_assigned_identities:
            out.append(
                Claim(
                    "clusterIdentity",
                    key,
                    "",
                    f"The provided user assigned identity '{key[:300]}' is already in use by a cluster.",
                    code=DUPLICATE_CLIENT_ID,
                )
            )
    subnets = [("properties.masterProfile.subnetId", p.master_profile.subnet_id)]
    subnets += [(f"properties.workerProfiles['{w.name}'].subnetId", w.subnet_id) for w in p.worker_profiles]
    seen: set[str] = set()
    for target, subnet in subnets:
        if subnet and subnet.lower() not in seen:
            seen.add(subnet.lower())
            out.append(
                Claim(
                    "subnet",
                    subnet,
                    target,
                    f"The provided subnet '{subnet[:400]}' is already in use by another cluster.",
                    code=INVALID_LINKED_VNET,
                )
            )
    return out


OPENSHIFT_CLUSTERS: ResourceKind[OpenShiftCluster] = ResourceKind(
    name="openShiftClusters",
    hub=OpenShiftCluster,
    versions=(v20191231preview.VERSION, v20250725.VERSION),
    document_field="openShiftCluster",
    title="OpenShift cluster",
    secret_paths=SECRET_PATHS,
    versions_catalog="openShiftVersions",
    gate=cluster_gate,
    admin_patch=clusteradmin.admin_patch,
    claims=cluster_claims,
    action_gate=credentials_gate,
    actions=(
        ActionInfo("listCredentials", "List credentials", "Lists the kubeadmin credentials of a cluster."),
        ActionInfo("listAdminCredentials", "List admin credentials", "Lists the admin kubeconfig of a cluster."),
        ActionInfo("credentials", listed=False),  # 2019-12-31-preview's name for listCredentials
    ),
    display={
        "read": "Gets or lists OpenShift clusters.",
        "write": "Creates or updates a cluster.",
        "delete": "Deletes an OpenShift cluster.",
    },
)

OPENSHIFT_VERSIONS = CatalogKind(
    name="openShiftVersions",
    param="openShiftVersion",
    renderers={
        v20250725.API_VERSION: v20250725.render_openshift_version,
        v20191231preview.API_VERSION: None,
    },
    title="OpenShift version",
    operation="Read OpenShift versions",
    description="Lists installable versions.",
)


def _missing_role_set(name: str, api_version: str) -> str:
    return (
        f"The Resource platformWorkloadIdentityRoleSet with version '{name}' was not found in the namespace "
        f"'{RESOURCE_PROVIDER}' for api version '{api_version}'."
    )


# ARO-RP answers an unknown version with 400 ResourceNotFound; we keep its words with ARM's 404.
PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS = CatalogKind(
    name="platformWorkloadIdentityRoleSets",
    param="openShiftMinorVersion",
    renderers={v20250725.API_VERSION: v20250725.render_role_set},
    title="platform workload identity role set",
    operation="Read platform workload identity role sets",
    description="Lists the roles the platform workload identities of a cluster need, per OpenShift minor version.",
    visible=lambda entry, features: True,
    missing=_missing_role_set,
)
