"""The field rules of a hosted cluster (every api-version), as ARO-HCP's ``validate_cluster.go`` has them:
``validate_cluster`` checks the hub a request produced (create: after defaults) and reports every failure
at once (``aro.api.hcp.fielderrors``). Immutability is the update policy's job (PropertyChangeNotAllowed);
the rules here that look at the previous resource are the ones about how a value may change.
"""

from __future__ import annotations

from aro.api.hcp import catalog, checks
from aro.api.hcp.cluster import HcpOpenShiftCluster, HcpOpenShiftClusterProperties, PlatformProfile
from aro.api.hcp.fielderrors import FieldErrors
from aro.api.hcp.nodepool import NodePool
from aro.api.hcp.rulehelpers import channel_group, identity_type, idx, in_range, key, max_len, one_of, resource_id, tags
from aro.api.hcp.versioning import (
    MIN_CLUSTER,
    MIN_CLUSTER_VERSION,
    Version,
    cluster_upgrade_error,
    experimental,
    full_version,
    node_pool_skew_error,
    parse_any,
    parse_full,
    parse_minor,
)
from aro.api.version import ValidationContext

NETWORK_TYPES = ("OVNKubernetes", "Other")
VISIBILITIES = ("Public", "Private")
INGRESS_TYPES = ("Public", "Private", "Disabled")
OUTBOUND_TYPES = ("LoadBalancer",)
KEY_MANAGEMENT_MODES = ("CustomerManaged", "PlatformManaged")
CUSTOMER_MANAGED, PLATFORM_MANAGED = KEY_MANAGEMENT_MODES
ENCRYPTION_TYPES = ("KMS",)
KEY_VAULT_TYPES = ("KeyVault", "ManagedHSM")
REGISTRY_STATES = ("Enabled", "Disabled")
CRYPTO_RESTRICTIONS = ("None", "FIPS")
MIN_HOST_PREFIX, MAX_HOST_PREFIX = 23, 26
MAX_AUTHORIZED_CIDRS = 500
MAX_NODES_TOTAL = 500
MAX_NODE_DRAIN_TIMEOUT_MINUTES = 10080
MAX_IMAGE_DIGEST_MIRRORS, MAX_MIRRORS = 240, 255
MAX_BASE_DOMAIN_PREFIX = 15
MAX_KMS_NAME = 255
KMS_ROTATION_MIN_VERSION = "4.22"

P = "properties"
UAI = f"{P}.platform.operatorsAuthentication.userAssignedIdentities"


def validate_cluster(oc: HcpOpenShiftCluster, ctx: ValidationContext, creating: bool) -> None:
    previous = ctx.current if not creating and isinstance(ctx.current, HcpOpenShiftCluster) else None
    old = previous.properties if previous is not None else None
    errs = FieldErrors()
    p = oc.properties
    tags(errs, oc.tags)
    _version(errs, p, old, ctx)
    if p.dns.base_domain_prefix:
        max_len(errs, p.dns.base_domain_prefix, f"{P}.dns.baseDomainPrefix", MAX_BASE_DOMAIN_PREFIX)
        if not checks.DNS_LABEL.match(p.dns.base_domain_prefix):
            errs.invalid(f"{P}.dns.baseDomainPrefix", p.dns.base_domain_prefix, "must be a valid DNS RFC 1035 label")
    _network(errs, p)
    _api(errs, p)
    one_of(errs, p.ingress.type, INGRESS_TYPES, f"{P}.ingress.type")
    _platform(errs, oc, ctx)
    _identities(errs, oc)
    _autoscaling(errs, p)
    in_range(errs, p.node_drain_timeout_minutes, f"{P}.nodeDrainTimeoutMinutes", 0, MAX_NODE_DRAIN_TIMEOUT_MINUTES)
    _etcd(errs, p, old)
    _mirrors(errs, p)
    one_of(errs, p.cluster_image_registry.state, REGISTRY_STATES, f"{P}.clusterImageRegistry.state")
    one_of(errs, p.crypto_restrictions, CRYPTO_RESTRICTIONS, f"{P}.cryptoRestrictions")
    errs.raise_if_any()


def parse_cluster_version(text: str, afec: bool) -> Version | None:
    """``X.Y``; with the AFEC a full version too."""
    return parse_any(text) if afec else parse_minor(text)


def _version(
    errs: FieldErrors,
    p: HcpOpenShiftClusterProperties,
    old: HcpOpenShiftClusterProperties | None,
    ctx: ValidationContext,
) -> None:
    target, channel_target = f"{P}.version.id", f"{P}.version.channelGroup"
    afec = experimental(ctx.features)
    v, channel = p.version.id, p.version.channel_group
    channel_ok = channel_group(errs, p.version, old.version if old is not None else None, ctx.features, channel_target)
    if not v:
        errs.required(target)
        return
    parsed = parse_cluster_version(v, afec)
    if parsed is None:
        reason = "must be specified as MAJOR.MINOR; the PATCH value is managed" if parse_full(v) else None
        errs.invalid(target, v, reason or "must be an OpenShift version MAJOR.MINOR")
        return
    if old is not None and old.version.id == v and old.version.channel_group == channel:
        return  # unchanged: not judged again (the catalog may have moved on)
    if parsed < MIN_CLUSTER:
        errs.invalid(target, v, f"must be at least {MIN_CLUSTER_VERSION}")
        return
    if parsed.major >= 5 and not afec:
        errs.invalid(target, v, "OpenShift v5 and above is not supported")
        return
    if old is not None:
        for start in _upgrade_starts(old):
            reason = cluster_upgrade_error(start, parsed)
            if reason is not None:
                errs.invalid(target, v, reason)
                return
        if _node_pool_skew(errs, v, parsed, ctx):
            return
    if channel_ok and ctx.catalog:
        _in_catalog(errs, v, parsed, channel, ctx)


def _upgrade_starts(old: HcpOpenShiftClusterProperties) -> list[Version]:
    """What an upgrade is judged from (ARO-HCP's admission): the version asked for before, the highest
    active control-plane version (never below it) and the lowest (at most the next minor after it)."""
    asked = parse_cluster_version(old.version.id, True)
    active = [v for v in (parse_any(a.version) for a in old.status.active_versions) if v is not None]
    return [v for v in (asked, max(active, default=None), min(active, default=None)) if v is not None]


def _node_pool_skew(errs: FieldErrors, v: str, parsed: Version, ctx: ValidationContext) -> bool:
    """Every node pool (its lowest version: asked for or running) stays within the skew of the new control
    plane version (ARO-HCP's ``admit_cluster.go``); one error per node pool, naming it."""
    failed = False
    for child in ctx.children:
        if not isinstance(child, NodePool):
            continue
        q = child.properties
        versions = [parse_any(q.version.id), *(parse_any(a.version) for a in q.status.active_versions)]
        lowest = min((x for x in versions if x is not None), default=None)
        if lowest is None:
            continue
        reason = node_pool_skew_error(lowest, parsed, parsed, experimental(ctx.features))
        if reason is not None:
            errs.invalid(f"{P}.version.id", v, f"node pool '{child.name}' at version {full_version(lowest)} {reason}")
            failed = True
    return failed


def _in_catalog(errs: FieldErrors, v: str, parsed: Version, channel: str, ctx: ValidationContext) -> None:
    now = catalog.utcnow()
    entries = [e for e in catalog.in_channel(ctx.catalog, channel) if e.available(now)]
    if parse_minor(v) is not None:
        found = any(e.parsed.line == parsed.line for e in entries)
    else:
        found = any(e.name == v for e in entries)
    if not found:
        errs.invalid(f"{P}.version.id", v, f"version is not available in channel group '{channel}'")


def _network(errs: FieldErrors, p: HcpOpenShiftClusterProperties) -> None:
    base = f"{P}.network"
    net = p.network
    one_of(errs, net.network_type, NETWORK_TYPES, f"{base}.networkType")
    nets = {}
    for field, value in (
        ("podCidr", net.pod_cidr),
        ("serviceCidr", net.service_cidr),
        ("machineCidr", net.machine_cidr),
    ):
        if not value:
            errs.required(f"{base}.{field}")
            continue
        reason = checks.ipv4_cidr_error(value)
        if reason is not None:
            errs.invalid(f"{base}.{field}", value, reason)
            continue
        nets[field] = checks.cidr(value)
    in_range(errs, net.host_prefix, f"{base}.hostPrefix", MIN_HOST_PREFIX, MAX_HOST_PREFIX)
    for first, second in (("machineCidr", "serviceCidr"), ("machineCidr", "podCidr"), ("serviceCidr", "podCidr")):
        a, b = nets.get(first), nets.get(second)
        if a is not None and b is not None and a.overlaps(b):
            errs.invalid(f"{base}.{first}", str(a), f"{first} '{a}' and {second} '{b}' overlap")


def _api(errs: FieldErrors, p: HcpOpenShiftClusterProperties) -> None:
    base = f"{P}.api"
    one_of(errs, p.api.visibility, VISIBILITIES, f"{base}.visibility")
    cidrs = p.api.authorized_cidrs
    if cidrs is None:
        return
    target = f"{base}.authorizedCidrs"
    if not cidrs:
        errs.invalid(target, "[]", "must have at least 1 item")
    elif len(cidrs) > MAX_AUTHORIZED_CIDRS:
        errs.invalid(target, f"{len(cidrs)} items", f"must have at most {MAX_AUTHORIZED_CIDRS} items")
    for i, value in enumerate(cidrs):
        if not value:
            errs.required(idx(target, i))
        elif value.strip() != value:
            errs.invalid(idx(target, i), value, "must not contain extra whitespace")
        elif checks.ipv4_error(value) is not None and checks.ipv4_cidr_error(value) is not None:
            errs.invalid(idx(target, i), value, "must be an IPv4 address or an IPv4 CIDR")


def _platform(errs: FieldErrors, oc: HcpOpenShiftCluster, ctx: ValidationContext) -> None:
    base = f"{P}.platform"
    pl = oc.properties.platform
    sub = ctx.subscription_id
    mrg = pl.managed_resource_group
    if not mrg:
        errs.required(f"{base}.managedResourceGroup")
    elif not checks.RESOURCE_GROUP_NAME.match(mrg):
        errs.invalid(
            f"{base}.managedResourceGroup",
            mrg,
            "must be at most 90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'",
        )
    elif mrg.casefold() == ctx.resource_group.casefold():
        errs.invalid(
            f"{base}.managedResourceGroup", mrg, f"must not be the cluster's resource group '{ctx.resource_group}'"
        )

    subnet = resource_id(errs, pl.subnet_id, f"{base}.subnetId", checks.SUBNET, sub, required=True)
    _outside(errs, subnet, f"{base}.subnetId", pl.subnet_id, mrg)
    target = f"{base}.vnetIntegrationSubnetId"
    integration = resource_id(errs, pl.vnet_integration_subnet_id, target, checks.SUBNET, sub)
    _outside(errs, integration, target, pl.vnet_integration_subnet_id, mrg)
    if integration is not None and subnet is not None:
        if integration.parent != subnet.parent:
            errs.invalid(
                target, pl.vnet_integration_subnet_id, f"must belong to the same VNet as subnetId '{pl.subnet_id}'"
            )
        elif pl.vnet_integration_subnet_id.casefold() == pl.subnet_id.casefold():
            errs.invalid(target, pl.vnet_integration_subnet_id, "must be a subnet dedicated to ARO HCP, not subnetId")
    if oc.properties.api.visibility == "Private" and not pl.vnet_integration_subnet_id:
        errs.message(target, f"Missing required field '{target}': required when properties.api.visibility is Private.")
    one_of(errs, pl.outbound_type, OUTBOUND_TYPES, f"{base}.outboundType")
    nsg_target = f"{base}.networkSecurityGroupId"
    nsg = resource_id(errs, pl.network_security_group_id, nsg_target, checks.NETWORK_SECURITY_GROUP, sub, required=True)
    _outside(errs, nsg, nsg_target, pl.network_security_group_id, mrg)
    _operator_identities(errs, pl, sub)
    if pl.container_registry is not None and pl.container_registry.managed_identity:
        target = f"{base}.containerRegistry.managedIdentity"
        resource_id(errs, pl.container_registry.managed_identity, target, checks.USER_ASSIGNED_IDENTITY, sub)


def _outside(errs: FieldErrors, rid: checks.ResourceId | None, target: str, value: str, managed_rg: str) -> None:
    """Customer resources never live in the managed resource group."""
    if rid is not None and managed_rg and rid.resource_group.casefold() == managed_rg.casefold():
        errs.invalid(target, value, f"must not be in the managed resource group '{managed_rg}'")


def _operator_identities(errs: FieldErrors, pl: PlatformProfile, sub: str) -> None:
    uai = pl.operators_authentication.user_assigned_identities
    seen: dict[str, str] = {}
    entries = [
        *((key(f"{UAI}.controlPlaneOperators", n), n, v) for n, v in sorted(uai.control_plane_operators.items())),
        *((key(f"{UAI}.dataPlaneOperators", n), n, v) for n, v in sorted(uai.data_plane_operators.items())),
    ]
    if uai.service_managed_identity:
        entries.append((f"{UAI}.serviceManagedIdentity", "service", uai.service_managed_identity))
    for target, name, value in entries:
        if not name:
            errs.invalid(target, name, "the operator name must not be empty")
        rid = resource_id(errs, value, target, checks.USER_ASSIGNED_IDENTITY, sub, required=True)
        if rid is None:
            continue
        _outside(errs, rid, target, value, pl.managed_resource_group)
        folded = value.casefold()
        if folded in seen:
            errs.invalid(
                target, value, f"managed identity with resource id '{value}' must be unique within the cluster"
            )
        seen[folded] = target


def _identities(errs: FieldErrors, oc: HcpOpenShiftCluster) -> None:
    """Every identity assigned to the cluster is used exactly once by a control-plane operator or as the
    service managed identity; data-plane operators' identities are never assigned to the cluster."""
    identity = oc.identity
    assigned: dict[str, int] = {}
    if identity is not None:
        identity_type(errs, identity.type)
        for k in identity.user_assigned_identities:
            target = key("identity.userAssignedIdentities", k)
            _, reason = checks.resource_id_error(k, checks.USER_ASSIGNED_IDENTITY)
            if reason is not None:
                errs.invalid(target, k, reason)
            assigned[k.casefold()] = 0
    uai = oc.properties.platform.operators_authentication.user_assigned_identities
    used = [(key(f"{UAI}.controlPlaneOperators", n), v) for n, v in sorted(uai.control_plane_operators.items())]
    if uai.service_managed_identity:
        used.append((f"{UAI}.serviceManagedIdentity", uai.service_managed_identity))
    for target, value in used:
        if not value:
            continue
        if value.casefold() in assigned:
            assigned[value.casefold()] += 1
        else:
            errs.invalid(target, value, "identity is not assigned to this resource")
    if identity is not None:
        for k in identity.user_assigned_identities:
            count = assigned.get(k.casefold(), 0)
            if count == 0:
                errs.invalid(
                    key("identity.userAssignedIdentities", k), k, "identity is assigned to this resource but not used"
                )
            elif count > 1:
                errs.invalid(key("identity.userAssignedIdentities", k), k, "identity is used multiple times")
    for n, v in sorted(uai.data_plane_operators.items()):
        if v and v.casefold() in assigned:
            errs.invalid(
                key(f"{UAI}.dataPlaneOperators", n),
                v,
                "cannot use identity assigned to this resource by identity.userAssignedIdentities",
            )


def _autoscaling(errs: FieldErrors, p: HcpOpenShiftClusterProperties) -> None:
    base, a = f"{P}.autoscaling", p.autoscaling
    in_range(errs, a.max_nodes_total, f"{base}.maxNodesTotal", 0, MAX_NODES_TOTAL)
    in_range(errs, a.max_pod_grace_period_seconds, f"{base}.maxPodGracePeriodSeconds", 1)
    in_range(errs, a.max_node_provision_time_seconds, f"{base}.maxNodeProvisionTimeSeconds", 1)


def _etcd(errs: FieldErrors, p: HcpOpenShiftClusterProperties, old: HcpOpenShiftClusterProperties | None) -> None:
    base = f"{P}.etcd.dataEncryption"
    de = p.etcd.data_encryption
    one_of(errs, de.key_management_mode, KEY_MANAGEMENT_MODES, f"{base}.keyManagementMode")
    cm = de.customer_managed
    if de.key_management_mode == CUSTOMER_MANAGED and cm is None:
        errs.required(f"{base}.customerManaged")
    if de.key_management_mode == PLATFORM_MANAGED and cm is not None:
        errs.invalid(f"{base}.customerManaged", "{...}", "may only be set when keyManagementMode is CustomerManaged")
        return
    if cm is None:
        return
    base = f"{base}.customerManaged"
    one_of(errs, cm.encryption_type, ENCRYPTION_TYPES, f"{base}.encryptionType")
    if cm.kms is None:
        if cm.encryption_type == "KMS":
            errs.required(f"{base}.kms")
        return
    base, kms = f"{base}.kms", cm.kms
    one_of(errs, kms.visibility, VISIBILITIES, f"{base}.visibility")
    one_of(errs, kms.key_vault_type, KEY_VAULT_TYPES, f"{base}.keyVaultType", required=False)
    for target, value in (
        (f"{base}.vaultName", kms.vault_name),
        (f"{base}.activeKey.name", kms.active_key.name),
        (f"{base}.activeKey.version", kms.active_key.version),
    ):
        if not value:
            errs.required(target)
        else:
            max_len(errs, value, target, MAX_KMS_NAME)
    old_cm = old.etcd.data_encryption.customer_managed if old is not None else None
    old_kms = old_cm.kms if old_cm is not None else None
    if old_kms is not None and old_kms.active_key.version != kms.active_key.version:
        current = parse_any(old.version.id) if old is not None else None
        if current is None or current < Version(4, 22):
            errs.invalid(
                f"{base}.activeKey.version",
                kms.active_key.version,
                f"key rotation requires a control plane version of {KMS_ROTATION_MIN_VERSION} or later",
            )


def _mirrors(errs: FieldErrors, p: HcpOpenShiftClusterProperties) -> None:
    base = f"{P}.imageDigestMirrors"
    if len(p.image_digest_mirrors) > MAX_IMAGE_DIGEST_MIRRORS:
        errs.invalid(
            base, f"{len(p.image_digest_mirrors)} items", f"must have at most {MAX_IMAGE_DIGEST_MIRRORS} items"
        )
    for i, m in enumerate(p.image_digest_mirrors):
        target = f"{idx(base, i)}.source"
        if not m.source:
            errs.required(target)
        else:
            reason = checks.image_registry_error(m.source)
            if reason is None and not checks.MIRROR_SOURCE.match(m.source):
                reason = "must be a valid source image registry"
            if reason is not None:
                errs.invalid(target, m.source, reason)
        target = f"{idx(base, i)}.mirrors"
        if not m.mirrors:
            errs.invalid(target, "[]", "must have at least 1 item")
        elif len(m.mirrors) > MAX_MIRRORS:
            errs.invalid(target, f"{len(m.mirrors)} items", f"must have at most {MAX_MIRRORS} items")
        for j, mirror in enumerate(m.mirrors):
            reason = checks.image_registry_error(mirror)
            if reason is None and not checks.MIRROR.match(mirror):
                reason = "must be a valid mirrored image registry"
            if reason is not None:
                errs.invalid(idx(target, j), mirror, reason)
