"""The field rules of an OpenShift cluster (every api-version): ``validate_cluster`` checks the internal
cluster an api-version converted a request into (after create-time defaults). ``ClusterRules`` says where
api-versions legitimately differ."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

from aro.api.cluster import OpenShiftCluster
from aro.api.errors import INVALID_CIDR_RANGE, CloudError, invalid_parameter
from aro.api.validation import check_tags, cidr, element_path, one_of
from aro.api.version import ValidationContext

MIN_WORKERS, MAX_WORKERS = 2, 50
MIN_WORKER_DISK_GB = 128
MIN_OUTBOUND_IPS, MAX_OUTBOUND_IPS = 1, 20
MAX_POD_PREFIX, MAX_SERVICE_PREFIX = 18, 22
RESERVED_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("100.64.0.0/16", "169.254.169.0/29", "100.88.0.0/16"))
VISIBILITIES = ("Public", "Private")
TOGGLES = ("Enabled", "Disabled")
OUTBOUND_TYPES = ("Loadbalancer", "UserDefinedRouting")
WORKER_PROFILE, INGRESS_PROFILE = "worker", "default"

# Anchored with \Z, not $: in Python, $ also matches before a trailing newline ("abc\n" would pass); no
# whitespace or control characters inside the segments of an ARM id.
_ARM = r"^/subscriptions/(?P<sub>[^/\s]+)/resourceGroups/(?P<rg>[^/\s]+)"
SUBNET_ID = re.compile(
    _ARM + r"/providers/Microsoft\.Network/virtualNetworks/(?P<vnet>[^/\s]+)/subnets/(?P<subnet>[^/\s]+)\Z", re.I
)
RESOURCE_GROUP_ID = re.compile(_ARM + r"\Z", re.I)
DISK_ENCRYPTION_SET_ID = re.compile(_ARM + r"/providers/Microsoft\.Compute/diskEncryptionSets/[^/\s]+\Z", re.I)
USER_ASSIGNED_IDENTITY_ID = re.compile(
    _ARM + r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/\s]+\Z", re.I
)
RESOURCE_GROUP_NAME = re.compile(r"^[-\w().]{0,89}[-\w()]\Z")  # ARM: <= 90 chars, not ending in "."
DOMAIN = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*\Z")
SEMVER = re.compile(r"^\d+\.\d+\.\d+\Z")


@dataclass(frozen=True)
class ClusterRules:
    """Where api-versions legitimately differ in the shared rules."""

    pull_secret_target: str = "properties.clusterProfile.pullSecret"
    # Exactly one of a service principal or platform workload identities (2019-12-31-preview: optional).
    require_credentials: bool = True


def validate_cluster(oc: OpenShiftCluster, ctx: ValidationContext, *, creating: bool, rules: ClusterRules) -> None:
    """Every field rule, on the internal cluster a request produced (create: after defaults)."""
    check_tags(oc.tags)
    _cluster_profile(oc, ctx, creating, rules)
    _credentials(oc, creating, rules)
    _network(oc)
    master_subnet = _master(oc, ctx)
    _workers(oc, ctx, creating, master_subnet)
    _ingress(oc, creating)


def _cluster_profile(oc: OpenShiftCluster, ctx: ValidationContext, creating: bool, rules: ClusterRules) -> None:
    cp = oc.properties.cluster_profile
    base = "properties.clusterProfile"
    if cp.pull_secret:
        try:
            parsed = json.loads(cp.pull_secret)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise invalid_parameter(rules.pull_secret_target, "The provided pull secret is invalid.")
    if not DOMAIN.match(cp.domain) or len(cp.domain) > 253:
        raise invalid_parameter(f"{base}.domain", f"The provided domain '{cp.domain}' is invalid.")
    _resource_group_id(cp.resource_group_id, ctx, f"{base}.resourceGroupId")
    one_of(cp.fips_validated_modules, TOGGLES, f"{base}.fipsValidatedModules", "FIPS validated modules")
    if creating and ctx.versions and cp.version not in ctx.versions:
        raise invalid_parameter(f"{base}.version", f"The requested OpenShift version '{cp.version}' is invalid.")


def _resource_group_id(value: str, ctx: ValidationContext, target: str) -> None:
    m = RESOURCE_GROUP_ID.match(value)
    if not m or not RESOURCE_GROUP_NAME.match(m["rg"]):
        raise invalid_parameter(target, f"The provided resource group '{value}' is invalid.")
    if m["sub"].casefold() != ctx.subscription_id.casefold():
        raise invalid_parameter(
            target,
            f"The provided resource group '{value}' is invalid: must be in same subscription as cluster.",
        )
    if m["rg"].casefold() == ctx.resource_group.casefold():
        raise invalid_parameter(
            target,
            f"The provided resource group '{value}' is invalid: must be different from resourceGroup of "
            "the OpenShift cluster object.",
        )


def _credentials(oc: OpenShiftCluster, creating: bool, rules: ClusterRules) -> None:
    props = oc.properties
    sp, pwi = props.service_principal_profile, props.platform_workload_identity_profile
    sp_path, pwi_path = "properties.servicePrincipalProfile", "properties.platformWorkloadIdentityProfile"
    if sp is not None and pwi is not None:
        raise invalid_parameter(
            sp_path, "Cannot specify both servicePrincipalProfile and platformWorkloadIdentityProfile."
        )
    # Create only: a cluster made by a lenient version without credentials may still be updated.
    if sp is None and pwi is None and creating and rules.require_credentials:
        raise invalid_parameter(
            sp_path, "Either servicePrincipalProfile or platformWorkloadIdentityProfile must be provided."
        )
    if sp is not None:
        if not sp.client_id:
            raise invalid_parameter(f"{sp_path}.clientId", "The provided service principal client ID is invalid.")
        if not sp.client_secret:
            raise invalid_parameter(
                f"{sp_path}.clientSecret", "The provided service principal client secret is invalid."
            )
    identity = oc.identity
    has_identity = identity is not None and (identity.type != "None" or bool(identity.user_assigned_identities))
    if pwi is None:
        if has_identity:
            raise invalid_parameter("identity", "The cluster identity may only be set on workload identity clusters.")
        return
    if identity is None or identity.type != "UserAssigned" or len(identity.user_assigned_identities) != 1:
        raise invalid_parameter(
            "identity",
            "A workload identity cluster needs identity.type 'UserAssigned' and exactly one user-assigned identity.",
        )
    for key in identity.user_assigned_identities:
        if not USER_ASSIGNED_IDENTITY_ID.match(key):
            raise invalid_parameter(
                "identity.userAssignedIdentities", f"The provided user-assigned identity '{key}' is invalid."
            )
    if pwi.upgradeable_to and not SEMVER.match(pwi.upgradeable_to):
        raise invalid_parameter(
            f"{pwi_path}.upgradeableTo", f"The provided upgradeableTo '{pwi.upgradeable_to}' is invalid."
        )
    if not pwi.platform_workload_identities:
        raise invalid_parameter(
            f"{pwi_path}.platformWorkloadIdentities", "At least one platform workload identity is required."
        )
    for name, wi in pwi.platform_workload_identities.items():
        if not USER_ASSIGNED_IDENTITY_ID.match(wi.resource_id):
            raise invalid_parameter(
                f"{pwi_path}.platformWorkloadIdentities['{name}'].resourceId",
                f"The provided resource ID '{wi.resource_id}' is invalid.",
            )


def _network(oc: OpenShiftCluster) -> None:
    props = oc.properties
    net = props.network_profile
    base = "properties.networkProfile"
    pod = cidr(net.pod_cidr, f"{base}.podCidr", "pod", MAX_POD_PREFIX, RESERVED_RANGES)
    service = cidr(net.service_cidr, f"{base}.serviceCidr", "service", MAX_SERVICE_PREFIX, RESERVED_RANGES)
    if pod.overlaps(service):
        raise CloudError(
            400,
            INVALID_CIDR_RANGE,
            f"The provided service CIDR '{net.service_cidr}' is invalid: must not overlap the pod CIDR "
            f"'{net.pod_cidr}'.",
            f"{base}.serviceCidr",
        )
    one_of(net.outbound_type, OUTBOUND_TYPES, f"{base}.outboundType", "outbound type")
    one_of(net.preconfigured_nsg, TOGGLES, f"{base}.preconfiguredNSG", "preconfigured NSG setting")
    one_of(
        props.apiserver_profile.visibility,
        VISIBILITIES,
        "properties.apiserverProfile.visibility",
        "visibility",
    )
    lb = net.load_balancer_profile
    outbound = lb.managed_outbound_ips if lb is not None else None
    outbound_path = f"{base}.loadBalancerProfile.managedOutboundIps"
    if net.outbound_type == "UserDefinedRouting":
        if outbound is not None:
            raise invalid_parameter(
                outbound_path, "managedOutboundIps can only be set when outboundType is Loadbalancer."
            )
        if props.apiserver_profile.visibility != "Private":
            raise invalid_parameter(
                "properties.apiserverProfile.visibility",
                "UserDefinedRouting requires a Private API server visibility.",
            )
        for i, ing in enumerate(props.ingress_profiles):
            if ing.visibility != "Private":
                raise invalid_parameter(
                    element_path("properties.ingressProfiles", ing.name, i) + ".visibility",
                    "UserDefinedRouting requires Private ingress visibility.",
                )
    elif outbound is not None and not MIN_OUTBOUND_IPS <= outbound.count <= MAX_OUTBOUND_IPS:
        raise invalid_parameter(
            f"{outbound_path}.count",
            f"The provided managedOutboundIps.count {outbound.count} is invalid: it must be between "
            f"{MIN_OUTBOUND_IPS} and {MAX_OUTBOUND_IPS}.",
        )


def _subnet(value: str, ctx: ValidationContext, target: str, what: str) -> re.Match[str]:
    m = SUBNET_ID.match(value)
    if not m:
        raise invalid_parameter(target, f"The provided {what} VM subnet '{value}' is invalid.")
    if m["sub"].casefold() != ctx.subscription_id.casefold():
        raise invalid_parameter(
            target,
            f"The provided {what} VM subnet '{value}' is invalid: must be in same subscription as cluster.",
        )
    return m


def _disk_encryption_set(value: str | None, target: str) -> None:
    if value and not DISK_ENCRYPTION_SET_ID.match(value):
        raise invalid_parameter(target, f"The provided disk encryption set '{value}' is invalid.")


def _master(oc: OpenShiftCluster, ctx: ValidationContext) -> re.Match[str]:
    mp = oc.properties.master_profile
    base = "properties.masterProfile"
    if not mp.vm_size:
        raise invalid_parameter(f"{base}.vmSize", "The provided master VM size is invalid.")
    m = _subnet(mp.subnet_id, ctx, f"{base}.subnetId", "master")
    one_of(mp.encryption_at_host, TOGGLES, f"{base}.encryptionAtHost", "encryption at host setting")
    _disk_encryption_set(mp.disk_encryption_set_id, f"{base}.diskEncryptionSetId")
    return m


def _workers(oc: OpenShiftCluster, ctx: ValidationContext, creating: bool, master: re.Match[str]) -> None:
    props = oc.properties
    profiles = props.worker_profiles
    if creating and (len(profiles) != 1 or profiles[0].name != WORKER_PROFILE):
        raise invalid_parameter(
            "properties.workerProfiles",
            f"There must be exactly one worker profile, named '{WORKER_PROFILE}'.",
        )
    for i, wp in enumerate(profiles):
        base = element_path("properties.workerProfiles", wp.name, i)
        if not wp.vm_size:
            raise invalid_parameter(f"{base}.vmSize", "The provided worker VM size is invalid.")
        m = _subnet(wp.subnet_id, ctx, f"{base}.subnetId", "worker")
        if m["sub"].casefold() != master["sub"].casefold() or any(
            m[k].casefold() != master[k].casefold() for k in ("rg", "vnet")
        ):
            raise invalid_parameter(
                f"{base}.subnetId",
                f"The provided worker VM subnet '{wp.subnet_id}' is invalid: must be in the same vnet as "
                "master VM subnet.",
            )
        if m["subnet"].casefold() == master["subnet"].casefold():
            raise invalid_parameter(
                f"{base}.subnetId",
                f"The provided worker VM subnet '{wp.subnet_id}' is invalid: must be different to master VM subnet.",
            )
        if not MIN_WORKERS <= wp.count <= MAX_WORKERS:
            raise invalid_parameter(
                f"{base}.count",
                f"The provided worker count {wp.count} is invalid: it must be between {MIN_WORKERS} and {MAX_WORKERS}.",
            )
        if wp.disk_size_gb < MIN_WORKER_DISK_GB:
            raise invalid_parameter(
                f"{base}.diskSizeGB",
                f"The provided worker disk size '{wp.disk_size_gb}' is invalid: it must be at least "
                f"{MIN_WORKER_DISK_GB} GB.",
            )
        one_of(wp.encryption_at_host, TOGGLES, f"{base}.encryptionAtHost", "encryption at host setting")
        _disk_encryption_set(wp.disk_encryption_set_id, f"{base}.diskEncryptionSetId")
        if (wp.disk_encryption_set_id or "").casefold() != (
            props.master_profile.disk_encryption_set_id or ""
        ).casefold():
            raise invalid_parameter(
                f"{base}.diskEncryptionSetId",
                "The provided worker disk encryption set must be the same as the master disk encryption set.",
            )


def _ingress(oc: OpenShiftCluster, creating: bool) -> None:
    profiles = oc.properties.ingress_profiles
    if creating and (len(profiles) != 1 or profiles[0].name != INGRESS_PROFILE):
        raise invalid_parameter(
            "properties.ingressProfiles",
            f"There must be exactly one ingress profile, named '{INGRESS_PROFILE}'.",
        )
    for i, ing in enumerate(profiles):
        target = element_path("properties.ingressProfiles", ing.name, i) + ".visibility"
        one_of(ing.visibility, VISIBILITIES, target, "visibility")
