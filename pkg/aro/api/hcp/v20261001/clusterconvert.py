"""2026-10-01 <-> hub conversion of hosted clusters, their create defaults and update policy.

- ``render`` returns every field the SDK reads, read-only ones included; never a backend-only field.
- ``to_internal`` writes the fields this version maps onto the (copied) hub, in place, so fields it does
  not know survive. A field the request leaves out takes this version's default (ARO-HCP's versioned
  constructor defaults), on create and on a PUT replace alike; a PATCH starts from the current values.
- ``create_defaults`` fills what depends on the request (the managed resource group's generated name);
  ``keep_on_replace`` keeps the generated values a replace left empty.
- ``POLICY``: read-only = the SDK's ``["read"]``; mutable = ``update`` visibility, except ``platform``,
  which ARO-HCP treats as immutable as a whole.
"""

from __future__ import annotations

import uuid
from typing import Any

from aro.api.external import or_empty
from aro.api.hcp import cluster as hub
from aro.api.hcp.v20261001 import clustermodels as m
from aro.api.hcp.v20261001.common import (
    identity_in,
    identity_out,
    or_default,
    provisioning_state,
    status_out,
    system_data_out,
)
from aro.api.immutable import UpdatePolicy
from aro.api.version import ValidationContext

DEFAULT_CHANNEL_GROUP = "stable"
DEFAULT_NETWORK_TYPE = "OVNKubernetes"
DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR, DEFAULT_MACHINE_CIDR = "10.128.0.0/14", "172.30.0.0/16", "10.0.0.0/16"
DEFAULT_HOST_PREFIX = 23
DEFAULT_VISIBILITY = "Public"
DEFAULT_INGRESS_TYPE = "Public"
DEFAULT_OUTBOUND_TYPE = "LoadBalancer"
DEFAULT_MAX_NODES_TOTAL = 0
DEFAULT_MAX_POD_GRACE_PERIOD_SECONDS = 600
DEFAULT_MAX_NODE_PROVISION_TIME_SECONDS = 900
DEFAULT_POD_PRIORITY_THRESHOLD = -10
DEFAULT_KEY_MANAGEMENT_MODE = "PlatformManaged"  # etcd omitted
DEFAULT_ENCRYPTION_TYPE = "KMS"
DEFAULT_KEY_VAULT_TYPE = "KeyVault"
DEFAULT_REGISTRY_STATE = "Enabled"
DEFAULT_CRYPTO_RESTRICTIONS = "None"
MANAGED_RG_PREFIX = "aro-hcp-"
MANAGED_RG_NAME_PART = 45

P = "properties"
_UAI = f"{P}.platform.operatorsAuthentication.userAssignedIdentities"
POLICY = UpdatePolicy(
    mutable=(
        "tags",
        "identity",
        f"{P}.version",
        f"{P}.api.authorizedCidrs",
        f"{P}.autoscaling",
        f"{P}.etcd.dataEncryption.customerManaged.kms.activeKey.version",
        f"{P}.imageDigestMirrors",
        f"{P}.nodeDrainTimeoutMinutes",
    ),
    read_only=(
        "id",
        "name",
        "type",
        "systemData",
        f"{P}.provisioningState",
        f"{P}.dns.baseDomain",
        f"{P}.console",
        f"{P}.api.url",
        f"{P}.platform.issuerUrl",
        f"{P}.status",
        "identity.principalId",
        "identity.tenantId",
        "identity.userAssignedIdentities[*].principalId",
        "identity.userAssignedIdentities[*].clientId",
    ),
    case_insensitive=(
        "location",
        f"{P}.platform.managedResourceGroup",
        f"{P}.platform.subnetId",
        f"{P}.platform.vnetIntegrationSubnetId",
        f"{P}.platform.networkSecurityGroupId",
        f"{_UAI}.controlPlaneOperators[*]",
        f"{_UAI}.dataPlaneOperators[*]",
        f"{_UAI}.serviceManagedIdentity",
        f"{P}.platform.containerRegistry.managedIdentity",
    ),
    maps=("tags", "identity.userAssignedIdentities", f"{_UAI}.controlPlaneOperators", f"{_UAI}.dataPlaneOperators"),
)


def render(oc: hub.HcpOpenShiftCluster, secrets: bool) -> dict[str, Any]:
    """The cluster as clients see it (``secrets`` is moot: nothing a client may read is secret)."""
    p = oc.properties
    return {
        "id": oc.id,
        "name": oc.name,
        "type": oc.type,
        "location": oc.location,
        "tags": dict(oc.tags) or None,
        "systemData": system_data_out(oc.system_data),
        "identity": identity_out(oc.identity),
        "properties": {
            "provisioningState": provisioning_state(p.provisioning_state),
            "version": {"id": p.version.id, "channelGroup": p.version.channel_group},
            "dns": {"baseDomain": p.dns.base_domain, "baseDomainPrefix": p.dns.base_domain_prefix},
            "network": {
                "networkType": p.network.network_type,
                "podCidr": p.network.pod_cidr,
                "serviceCidr": p.network.service_cidr,
                "machineCidr": p.network.machine_cidr,
                "hostPrefix": p.network.host_prefix,
            },
            "console": {"url": p.console.url},
            "api": {
                "url": p.api.url,
                "visibility": p.api.visibility,
                "authorizedCidrs": list(p.api.authorized_cidrs) if p.api.authorized_cidrs is not None else None,
            },
            "ingress": {"type": p.ingress.type},
            "platform": _platform_out(p.platform),
            "autoscaling": {
                "maxNodesTotal": p.autoscaling.max_nodes_total,
                "maxPodGracePeriodSeconds": p.autoscaling.max_pod_grace_period_seconds,
                "maxNodeProvisionTimeSeconds": p.autoscaling.max_node_provision_time_seconds,
                "podPriorityThreshold": p.autoscaling.pod_priority_threshold,
            },
            "etcd": {"dataEncryption": _data_encryption_out(p.etcd.data_encryption)},
            "imageDigestMirrors": [{"source": d.source, "mirrors": list(d.mirrors)} for d in p.image_digest_mirrors]
            or None,
            "nodeDrainTimeoutMinutes": p.node_drain_timeout_minutes,
            "clusterImageRegistry": {"state": p.cluster_image_registry.state},
            "status": status_out(p.status),
            "cryptoRestrictions": p.crypto_restrictions,
        },
    }


def _platform_out(pl: hub.PlatformProfile) -> dict[str, Any]:
    uai = pl.operators_authentication.user_assigned_identities
    registry = pl.container_registry
    return {
        "managedResourceGroup": pl.managed_resource_group,
        "subnetId": pl.subnet_id,
        "vnetIntegrationSubnetId": pl.vnet_integration_subnet_id,
        "outboundType": pl.outbound_type,
        "networkSecurityGroupId": pl.network_security_group_id,
        "operatorsAuthentication": {
            "userAssignedIdentities": {
                "controlPlaneOperators": dict(uai.control_plane_operators),
                "dataPlaneOperators": dict(uai.data_plane_operators),
                "serviceManagedIdentity": uai.service_managed_identity,
            }
        },
        "containerRegistry": {"managedIdentity": registry.managed_identity} if registry is not None else None,
        "issuerUrl": pl.issuer_url,
    }


def _data_encryption_out(de: hub.EtcdDataEncryptionProfile) -> dict[str, Any]:
    cm = de.customer_managed
    cm_out: dict[str, Any] | None = None
    if cm is not None:
        kms = cm.kms
        cm_out = {
            "encryptionType": cm.encryption_type,
            "kms": None
            if kms is None
            else {
                "vaultName": kms.vault_name,
                "visibility": kms.visibility,
                "activeKey": {"name": kms.active_key.name, "version": kms.active_key.version},
                "keyVaultType": kms.key_vault_type,
            },
        }
    return {"keyManagementMode": de.key_management_mode, "customerManaged": cm_out}


def to_internal(ext: m.HcpOpenShiftCluster, oc: hub.HcpOpenShiftCluster) -> None:
    oc.identity = identity_in(ext.identity, oc.identity)
    p_in, p = ext.properties or m.HcpOpenShiftClusterProperties(), oc.properties

    v = p_in.version or m.VersionProfile()
    p.version.id = or_empty(v.id)
    p.version.channel_group = or_default(v.channel_group, DEFAULT_CHANNEL_GROUP)
    p.dns.base_domain_prefix = or_empty((p_in.dns or m.DnsProfile()).base_domain_prefix)

    net_in, net = p_in.network or m.NetworkProfile(), p.network
    net.network_type = or_default(net_in.network_type, DEFAULT_NETWORK_TYPE)
    net.pod_cidr = or_default(net_in.pod_cidr, DEFAULT_POD_CIDR)
    net.service_cidr = or_default(net_in.service_cidr, DEFAULT_SERVICE_CIDR)
    net.machine_cidr = or_default(net_in.machine_cidr, DEFAULT_MACHINE_CIDR)
    net.host_prefix = or_default(net_in.host_prefix, DEFAULT_HOST_PREFIX)

    api_in = p_in.api or m.ApiProfile()
    p.api.visibility = or_default(api_in.visibility, DEFAULT_VISIBILITY)
    p.api.authorized_cidrs = list(api_in.authorized_cidrs) if api_in.authorized_cidrs is not None else None
    p.ingress.type = or_default((p_in.ingress or m.IngressProfile()).type, DEFAULT_INGRESS_TYPE)

    _platform_in(p_in.platform or m.PlatformProfile(), p.platform)

    a_in, a = p_in.autoscaling or m.ClusterAutoscalingProfile(), p.autoscaling
    a.max_nodes_total = or_default(a_in.max_nodes_total, DEFAULT_MAX_NODES_TOTAL)
    a.max_pod_grace_period_seconds = or_default(a_in.max_pod_grace_period_seconds, DEFAULT_MAX_POD_GRACE_PERIOD_SECONDS)
    a.max_node_provision_time_seconds = or_default(
        a_in.max_node_provision_time_seconds, DEFAULT_MAX_NODE_PROVISION_TIME_SECONDS
    )
    a.pod_priority_threshold = or_default(a_in.pod_priority_threshold, DEFAULT_POD_PRIORITY_THRESHOLD)

    _data_encryption_in((p_in.etcd or m.EtcdProfile()).data_encryption, p.etcd.data_encryption)
    p.image_digest_mirrors = [
        hub.ImageDigestMirror(source=or_empty(d.source), mirrors=list(d.mirrors or []))
        for d in p_in.image_digest_mirrors or []
    ]
    p.node_drain_timeout_minutes = or_default(p_in.node_drain_timeout_minutes, 0)
    state = (p_in.cluster_image_registry or m.ClusterImageRegistryProfile()).state
    p.cluster_image_registry.state = or_default(state, DEFAULT_REGISTRY_STATE)
    p.crypto_restrictions = or_default(p_in.crypto_restrictions, DEFAULT_CRYPTO_RESTRICTIONS)


def _platform_in(ext: m.PlatformProfile, pl: hub.PlatformProfile) -> None:
    pl.managed_resource_group = or_empty(ext.managed_resource_group)
    pl.subnet_id = or_empty(ext.subnet_id)
    pl.vnet_integration_subnet_id = or_empty(ext.vnet_integration_subnet_id)
    pl.outbound_type = or_default(ext.outbound_type, DEFAULT_OUTBOUND_TYPE)
    pl.network_security_group_id = or_empty(ext.network_security_group_id)
    uai_in = (ext.operators_authentication or m.OperatorsAuthenticationProfile()).user_assigned_identities
    uai_in = uai_in or m.UserAssignedIdentitiesProfile()
    uai = pl.operators_authentication.user_assigned_identities
    uai.control_plane_operators = dict(uai_in.control_plane_operators or {})
    uai.data_plane_operators = dict(uai_in.data_plane_operators or {})
    uai.service_managed_identity = or_empty(uai_in.service_managed_identity)
    registry = ext.container_registry
    pl.container_registry = (
        None if registry is None else hub.ContainerRegistryProfile(managed_identity=or_empty(registry.managed_identity))
    )


def _data_encryption_in(ext: m.EtcdDataEncryptionProfile | None, de: hub.EtcdDataEncryptionProfile) -> None:
    if ext is None:
        de.key_management_mode, de.customer_managed = DEFAULT_KEY_MANAGEMENT_MODE, None
        return
    de.key_management_mode = or_empty(ext.key_management_mode)
    cm_in = ext.customer_managed
    if cm_in is None:
        de.customer_managed = None
        return
    cm = de.customer_managed or hub.CustomerManagedEncryptionProfile()
    cm.encryption_type = or_default(cm_in.encryption_type, DEFAULT_ENCRYPTION_TYPE)
    kms_in = cm_in.kms
    if kms_in is None:
        cm.kms = None
    else:
        kms = cm.kms or hub.KmsEncryptionProfile()
        kms.vault_name = or_empty(kms_in.vault_name)
        kms.visibility = or_empty(kms_in.visibility)
        key = kms_in.active_key or m.KmsKey()
        kms.active_key.name, kms.active_key.version = or_empty(key.name), or_empty(key.version)
        kms.key_vault_type = or_default(kms_in.key_vault_type, DEFAULT_KEY_VAULT_TYPE)
        cm.kms = kms
    de.customer_managed = cm


def managed_resource_group(name: str) -> str:
    """ARO-HCP's generated name: ``aro-hcp-`` + the cluster name (up to 45 characters) + ``-`` + a uuid."""
    return f"{MANAGED_RG_PREFIX}{name[:MANAGED_RG_NAME_PART]}-{uuid.uuid4()}"


def create_defaults(oc: hub.HcpOpenShiftCluster, ctx: ValidationContext) -> None:
    pl = oc.properties.platform
    if not pl.managed_resource_group:
        pl.managed_resource_group = managed_resource_group(ctx.name)


def keep_on_replace(new: hub.HcpOpenShiftCluster, current: hub.HcpOpenShiftCluster) -> None:
    """On update: generated values a replace left empty stay as they are (so that re-sending the create
    body is no change)."""
    n, c = new.properties, current.properties
    if not n.platform.managed_resource_group:
        n.platform.managed_resource_group = c.platform.managed_resource_group
    if not n.dns.base_domain_prefix:
        n.dns.base_domain_prefix = c.dns.base_domain_prefix


def replace_base(oc: hub.HcpOpenShiftCluster) -> dict[str, Any]:
    """A PUT replace starts from nothing: no field of this version is write-only."""
    return {}
