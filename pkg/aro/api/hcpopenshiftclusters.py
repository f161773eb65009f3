"""The hosted-cluster kinds (ARO-HCP, api-version 2026-10-01): ``hcpOpenShiftClusters`` with its children
``nodePools`` and ``externalAuths``, and the location catalogs ``hcpOpenShiftVersions`` and
``hcpOperatorIdentityRoleSets``. Their operations report at ``locations/{l}/hcpOperationStatuses`` and
``hcpOperationResults`` with ARO-HCP's codes (PATCH 202 + Location).

What only these kinds do, declared here:

- **Claims** (``aro.database.claims``): a cluster's managed resource group, subnet and network security
  group are unique within the subscription; a node pool's subnet may not belong to another cluster; a
  cluster has at most one external auth. Refusals are 400 ``InvalidRequestContent`` naming the field.
- **The credential gate** (``aro.api.hcp.credentials.credential_gate``): while a revokeCredentials runs,
  requestAdminCredential and revokeCredentials are 409 with ``Retry-After: 10`` (ARO-HCP's messages).
- **Capabilities** (``aro.api.capabilities``, the ledger's organization labels): creating a cluster needs
  ``hypershift``; turning on a node pool's autoscaling ``autoscale_clusters``, an Arm64 VM size ``multiarch``.
- **The admin API** (``/admin{resourceId}``): a cluster's PATCH of ``pausedUntil``, ``featureSet`` and
  ``desiredVersion``, a node pool's of ``pausedUntil`` (``aro.api.hcp.admin``); a cluster's etcd backups
  and restores as admin actions, and the backups as an admin view (``aro.api.hcp.etcdbackup``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aro.api import capabilities
from aro.api.capabilities import Need
from aro.api.hcp import etcdbackup, v20261001
from aro.api.hcp.admin import cluster_admin_patch, node_pool_admin_patch
from aro.api.hcp.catalog import HcpVersion
from aro.api.hcp.cluster import SECRET_PATHS, HcpOpenShiftCluster
from aro.api.hcp.credentials import credential_gate
from aro.api.hcp.externalauth import ExternalAuth
from aro.api.hcp.names import CATALOG_NAMES, CLUSTER_NAMES, EXTERNAL_AUTH_NAMES, NODE_POOL_NAMES
from aro.api.hcp.nodepool import NodePool
from aro.api.hcp.versioning import channel_groups
from aro.api.hcp.vmsizes import arm64_vm_size
from aro.api.kind import ActionInfo, CatalogKind, Claim, OperationFamily, ResourceKind
from aro.api.resource import Lifecycle, ProvisioningState
from aro.api.version import AsyncAction

HCP_OPERATIONS = OperationFamily(status="hcpOperationStatuses", result="hcpOperationResults")
HCP_LIFECYCLE = Lifecycle(creating=ProvisioningState.PROVISIONING)  # ARO-HCP: Provisioning, Updating, Deleting

__all__ = [
    "CATALOG_NAMES",
    "EXTERNAL_AUTHS",
    "HCP_OPENSHIFT_CLUSTERS",
    "HCP_OPENSHIFT_VERSIONS",
    "HCP_OPERATIONS",
    "HCP_ROLE_SETS",
    "NODE_POOLS",
]


def cluster_claims(oc: HcpOpenShiftCluster, parent_key: str) -> Sequence[Claim]:
    p = oc.properties.platform
    sub = oc.id.split("/")[2] if oc.id.count("/") >= 2 else ""
    out = [
        Claim(
            "managedResourceGroup",
            f"/subscriptions/{sub}/resourceGroups/{p.managed_resource_group}",
            "properties.platform.managedResourceGroup",
            f"The managed resource group '{p.managed_resource_group}' is already used by another cluster.",
        )
    ]
    if p.subnet_id:
        out.append(
            Claim(
                "subnet",
                p.subnet_id,
                "properties.platform.subnetId",
                f"The subnet '{p.subnet_id}' is already used by another cluster.",
            )
        )
    if p.network_security_group_id:
        out.append(
            Claim(
                "networkSecurityGroup",
                p.network_security_group_id,
                "properties.platform.networkSecurityGroupId",
                f"The network security group '{p.network_security_group_id}' is already used by another cluster.",
            )
        )
    return out


def node_pool_claims(np: NodePool, parent_key: str) -> Sequence[Claim]:
    subnet = np.properties.platform.subnet_id
    if not subnet:
        return ()
    return (
        Claim(
            "subnet",
            subnet,
            "properties.platform.subnetId",
            f"The subnet '{subnet}' is already used by another cluster.",
            check_only=True,
            allowed_holders=frozenset({parent_key.lower()}),
        ),
    )


def external_auth_claims(ea: ExternalAuth, parent_key: str) -> Sequence[Claim]:
    return (
        Claim(
            "externalAuth",
            parent_key,
            "name",
            "Only one external auth is allowed per cluster: this cluster has one already.",
        ),
    )


def cluster_capabilities(new: HcpOpenShiftCluster, current: HcpOpenShiftCluster | None) -> Sequence[Need]:
    """Creating a hosted cluster needs the organization's hypershift capability (an update does not)."""
    return (Need(capabilities.HYPERSHIFT),) if current is None else ()


def node_pool_capabilities(new: NodePool, current: NodePool | None) -> Sequence[Need]:
    """Autoscaling a pool needs autoscale_clusters, an Arm64 VM size multiarch -- when the write turns
    them on (a pool that already has them keeps them)."""
    needs: list[Need] = []
    if new.properties.auto_scaling is not None and (current is None or current.properties.auto_scaling is None):
        needs.append(Need(capabilities.AUTOSCALE_CLUSTERS, "properties.autoScaling"))
    size = new.properties.platform.vm_size
    if arm64_vm_size(size) and (current is None or not arm64_vm_size(current.properties.platform.vm_size)):
        needs.append(Need(capabilities.MULTIARCH, "properties.platform.vmSize"))
    return needs


HCP_OPENSHIFT_CLUSTERS: ResourceKind[HcpOpenShiftCluster] = ResourceKind(
    name="hcpOpenShiftClusters",
    hub=HcpOpenShiftCluster,
    versions=(v20261001.CLUSTER,),
    document_field="hcpOpenShiftCluster",
    title="hosted OpenShift cluster",
    secret_paths=SECRET_PATHS,
    param="hcpOpenShiftClusterName",
    names=CLUSTER_NAMES,
    action_gate=credential_gate,
    operations=HCP_OPERATIONS,
    lifecycle=HCP_LIFECYCLE,
    patch_status=202,
    versions_catalog="hcpOpenShiftVersions",
    claims=cluster_claims,
    capabilities=cluster_capabilities,
    actions=(
        ActionInfo(
            "requestAdminCredential",
            "Request admin credential",
            "Requests a break-glass admin credential (a kubeconfig, valid 24 hours) for a CSR.",
        ),
        ActionInfo("revokeCredentials", "Revoke credentials", "Revokes every break-glass credential issued so far."),
    ),
    admin_patch=cluster_admin_patch,
    admin_actions={
        "etcdbackups": AsyncAction(
            etcdbackup.ETCD_BACKUP, result=etcdbackup.backup_result, accept=etcdbackup.accept_backup
        ),
        "etcdrestore": AsyncAction(
            etcdbackup.ETCD_RESTORE, result=etcdbackup.restore_result, accept=etcdbackup.accept_restore
        ),
    },
    admin_views={"etcdbackups": etcdbackup.backups_view},
    display={
        "read": "Gets or lists hosted OpenShift clusters.",
        "write": "Creates or updates a hosted OpenShift cluster.",
        "delete": "Deletes a hosted OpenShift cluster.",
    },
)

NODE_POOLS: ResourceKind[NodePool] = ResourceKind(
    name="nodePools",
    hub=NodePool,
    versions=(v20261001.NODE_POOL,),
    document_field="nodePool",
    title="node pool",
    param="nodePoolName",
    parent=HCP_OPENSHIFT_CLUSTERS,
    container="hcpNodePools",
    names=NODE_POOL_NAMES,
    operations=HCP_OPERATIONS,
    lifecycle=HCP_LIFECYCLE,
    patch_status=202,
    versions_catalog="hcpOpenShiftVersions",
    claims=node_pool_claims,
    capabilities=node_pool_capabilities,
    admin_patch=node_pool_admin_patch,
)

EXTERNAL_AUTHS: ResourceKind[ExternalAuth] = ResourceKind(
    name="externalAuths",
    hub=ExternalAuth,
    versions=(v20261001.EXTERNAL_AUTH,),
    document_field="externalAuth",
    title="external auth",
    param="externalAuthName",
    parent=HCP_OPENSHIFT_CLUSTERS,
    container="hcpExternalAuths",
    names=EXTERNAL_AUTH_NAMES,
    operations=HCP_OPERATIONS,
    lifecycle=HCP_LIFECYCLE,
    patch_status=202,
    tracked=False,
    claims=external_auth_claims,
)


def _visible_version(entry: Any, features: frozenset[str]) -> bool:
    return isinstance(entry, HcpVersion) and entry.channel_group in channel_groups(features)


HCP_OPENSHIFT_VERSIONS = CatalogKind(
    name="hcpOpenShiftVersions",
    param="hcpOpenShiftVersionName",
    renderers={v20261001.API_VERSION: v20261001.render_version},
    title="hosted OpenShift version",
    operation="Read hosted OpenShift versions",
    description="Lists the OpenShift versions of hosted clusters.",
    visible=_visible_version,
    entry_name=lambda e: str(e.resource_name),
)

HCP_ROLE_SETS = CatalogKind(
    name="hcpOperatorIdentityRoleSets",
    param="hcpOperatorIdentityRoleSetName",
    renderers={v20261001.API_VERSION: v20261001.render_role_set},
    title="operator identity role set",
    operation="Read operator identity role sets",
    description="Lists the role definitions the operators of hosted clusters need.",
    visible=lambda entry, features: True,
)
