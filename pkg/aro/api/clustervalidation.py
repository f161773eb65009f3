"""The field rules of an OpenShift cluster (every api-version): ``validate_cluster`` checks the internal
cluster an api-version converted a request into (after create-time defaults). ``ClusterRules`` says where
api-versions legitimately differ.

Codes, targets and messages are ARO-RP's (``pkg/api/v20250725/openshiftcluster_validatestatic.go``), checked
in its order; where these rules deliberately differ from ARO-RP, ``docs/api.md`` ("Deliberate differences
from ARO-RP") lists it and ``tests/api/test_error_parity.py`` pins it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aro.api.cluster import OpenShiftCluster
from aro.api.clustercidr import check_cidr
from aro.api.clustervmsizes import MASTER, WORKER, Validity, vm_size_validity
from aro.api.errors import INVALID_CIDR_RANGE, CloudError, invalid_parameter
from aro.api.validation import check_tags, element_path, one_of
from aro.api.version import ValidationContext

MIN_WORKERS, MAX_WORKERS = 2, 50
MIN_WORKER_DISK_GB = 128
MAX_WORKER_DISK_GB = 32767  # Azure's largest managed disk (ARO-RP checks only the minimum)
MIN_OUTBOUND_IPS, MAX_OUTBOUND_IPS = 1, 20
MAX_POD_PREFIX, MAX_SERVICE_PREFIX = 18, 22
MAX_DOMAIN = 253  # a DNS name (ours: ARO-RP has no length limit)
VISIBILITIES = ("Public", "Private")
TOGGLES = ("Enabled", "Disabled")
OUTBOUND_TYPES = ("Loadbalancer", "UserDefinedRouting")
WORKER_PROFILE, INGRESS_PROFILE = "worker", "default"

# ARO-RP's pkg/api/validate regular expressions (case-insensitive, ASCII only), anchored with \Z, not $: in
# Python, $ also matches before a trailing newline.
_GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ARO = rf"^/subscriptions/(?P<sub>{_GUID})/resourceGroups/(?P<rg>[-a-z0-9_().]{{0,89}}[-a-z0-9_()])"
SUBNET_ID = re.compile(
    _ARO + r"/providers/Microsoft\.Network/virtualNetworks/(?P<vnet>[-a-z0-9_.]{2,64})/subnets/[-a-z0-9_.]{2,80}\Z",
    re.I | re.A,
)
RESOURCE_GROUP_ID = re.compile(_ARO + r"\Z", re.I | re.A)
DISK_ENCRYPTION_SET_ID = re.compile(
    _ARO + r"/providers/Microsoft\.Compute/diskEncryptionSets/[-a-z0-9_]{1,80}\Z", re.I | re.A
)
# New clusters: the first label starts with a letter and has at least two characters; an update also takes
# RFC 1123 names (digit first), which older clusters have.
_LABEL = r"([a-z0-9]|[a-z0-9][-a-z0-9]{0,61}[a-z0-9])"
DOMAIN = re.compile(rf"^[a-z][-a-z0-9]{{0,61}}[a-z0-9](\.{_LABEL})*\Z")
DOMAIN_RFC1123 = re.compile(rf"^{_LABEL}(\.{_LABEL})*\Z")
# What gofrs/uuid parses (ARO-RP's client ID rule): canonical or 32 hex digits, bare, braced or as a URN.
_UUID = r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})"
CLIENT_ID = re.compile(rf"^({_UUID}|\{{{_UUID}\}}|urn:uuid:{_UUID})\Z")


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
    _network(oc, creating)
    master_subnet = _master(oc, ctx)
    _workers(oc, creating, master_subnet)
    _ingress(oc, creating)


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def valid_pull_secret(text: str) -> bool:
    """As ARO-RP decodes it (Go's ``encoding/json`` into ``{"auths": {registry: {...}}}``): empty, ``null``, or
    a JSON object whose ``auths`` (any case, as Go matches field names), if not null, maps names to objects."""
    if not text:
        return True
    try:
        doc = json.loads(text, parse_constant=_reject_constant)  # Go refuses NaN and Infinity
    except ValueError:
        return False
    if doc is None:
        return True
    if not isinstance(doc, dict):
        return False
    for key, auths in doc.items():
        if key.casefold() != "auths" or auths is None:
            continue
        if not isinstance(auths, dict) or any(v is not None and not isinstance(v, dict) for v in auths.values()):
            return False
    return True


def _cluster_profile(oc: OpenShiftCluster, ctx: ValidationContext, creating: bool, rules: ClusterRules) -> None:
    cp = oc.properties.cluster_profile
    base = "properties.clusterProfile"
    if not valid_pull_secret(cp.pull_secret):
        raise invalid_parameter(rules.pull_secret_target, "The provided pull secret is invalid.")
    if not _valid_domain(cp.domain, ctx.rp_domain, creating):
        raise invalid_parameter(f"{base}.domain", f"The provided domain '{cp.domain}' is invalid.")
    _resource_group_id(cp.resource_group_id, ctx, f"{base}.resourceGroupId")
    one_of(cp.fips_validated_modules, TOGGLES, f"{base}.fipsValidatedModules", "value")
    if creating and ctx.versions and cp.version not in ctx.versions:
        raise invalid_parameter(f"{base}.version", f"The requested OpenShift version '{cp.version}' is invalid.")


def _valid_domain(domain: str, rp_domain: str, creating: bool) -> bool:
    """The name rule, then ARO-RP's rules for names under its own zone (``rp_domain``, e.g.
    ``eastus.aroapp.io``): not in another location's zone, and one label only."""
    if len(domain) > MAX_DOMAIN or not (DOMAIN if creating else DOMAIN_RFC1123).match(domain):
        return False
    if not rp_domain:
        return True
    _, dot, parent_zone = rp_domain.partition(".")
    if dot and domain.endswith("." + parent_zone) and not domain.endswith("." + rp_domain):
        return False
    return not (domain.endswith("." + rp_domain) and "." in domain[: -len(rp_domain) - 1])


def _resource_group_id(value: str, ctx: ValidationContext, target: str) -> None:
    m = RESOURCE_GROUP_ID.match(value)
    if not m:
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
    sp_path = "properties.servicePrincipalProfile"
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
        if not CLIENT_ID.match(sp.client_id):
            raise invalid_parameter(f"{sp_path}.clientId", f"The provided client ID '{sp.client_id}' is invalid.")
        if not sp.client_secret:
            raise invalid_parameter(f"{sp_path}.clientSecret", "The provided client secret is invalid.")
    # the cluster identity and the platform workload identities: ``aro.api.workloadidentity`` (ARO-RP's rules)


def _network(oc: OpenShiftCluster, creating: bool) -> None:
    props = oc.properties
    net = props.network_profile
    base = "properties.networkProfile"
    pod = check_cidr(net.pod_cidr, "podCidr", "pod", MAX_POD_PREFIX, parent=base, creating=creating)
    service = check_cidr(net.service_cidr, "serviceCidr", "service", MAX_SERVICE_PREFIX, parent=base, creating=creating)
    if pod.overlaps(service):  # ours: ARO-RP finds this only while installing
        raise CloudError(
            400,
            INVALID_CIDR_RANGE,
            f"The provided service CIDR '{net.service_cidr}' is invalid: must not overlap the pod CIDR "
            f"'{net.pod_cidr}'.",
            f"{base}.serviceCidr",
        )
    if net.outbound_type not in OUTBOUND_TYPES:
        raise invalid_parameter(
            f"{base}.outboundType",
            f"The provided outboundType '{net.outbound_type}' is invalid: must be UserDefinedRouting or Loadbalancer.",
        )
    udr = net.outbound_type == "UserDefinedRouting"
    public = props.apiserver_profile.visibility != "Private" or any(
        ing.visibility != "Private" for ing in props.ingress_profiles
    )
    if udr and public:
        raise invalid_parameter(
            f"{base}.outboundType",
            f"The provided outboundType '{net.outbound_type}' is invalid: cannot use UserDefinedRouting if either "
            "API Server Visibility or Ingress Visibility is public.",
        )
    lb = net.load_balancer_profile
    if udr and lb is not None:
        raise invalid_parameter(
            f"{base}.loadBalancerProfile",
            "The provided loadBalancerProfile is invalid: cannot use a loadBalancerProfile if outboundType is "
            "UserDefinedRouting.",
        )
    outbound = lb.managed_outbound_ips if lb is not None else None
    if outbound is not None and not MIN_OUTBOUND_IPS <= outbound.count <= MAX_OUTBOUND_IPS:
        raise invalid_parameter(
            f"{base}.loadBalancerProfile.managedOutboundIps.count",
            f"The provided managedOutboundIps.count {outbound.count} is invalid: managedOutboundIps.count must be "
            f"in the range of {MIN_OUTBOUND_IPS} to {MAX_OUTBOUND_IPS} (inclusive).",
        )
    one_of(net.preconfigured_nsg, TOGGLES, f"{base}.preconfiguredNSG", "value")  # ours: not an ARO-RP rule


def _vm_size(size: str, role: str, version: str, target: str) -> None:
    validity = vm_size_validity(size, role, version)
    if validity is Validity.NOT_FOR_ROLE:
        raise invalid_parameter(target, f"The provided VM size '{size}' is invalid for the '{role}' role.")
    if validity is Validity.NOT_IN_VERSION:
        raise invalid_parameter(
            target, f"The provided {role} VM size '{size}' is invalid for the chosen OpenShift version."
        )


def _master(oc: OpenShiftCluster, ctx: ValidationContext) -> re.Match[str]:
    """The master profile, then the API server's visibility (ARO-RP's order); returns the subnet's match."""
    props = oc.properties
    mp = props.master_profile
    base = "properties.masterProfile"
    _vm_size(mp.vm_size, MASTER, props.cluster_profile.version, f"{base}.vmSize")
    m = SUBNET_ID.match(mp.subnet_id)
    if not m:
        raise invalid_parameter(f"{base}.subnetId", f"The provided master VM subnet '{mp.subnet_id}' is invalid.")
    # Ours: case-insensitive (ARO-RP compares with the lower-cased URL's subscription).
    if m["sub"].casefold() != ctx.subscription_id.casefold():
        raise invalid_parameter(
            f"{base}.subnetId",
            f"The provided master VM subnet '{mp.subnet_id}' is invalid: must be in same subscription as cluster.",
        )
    one_of(mp.encryption_at_host, TOGGLES, f"{base}.encryptionAtHost", "value")
    des = mp.disk_encryption_set_id
    if des:
        d = DISK_ENCRYPTION_SET_ID.match(des)
        if not d:
            raise invalid_parameter(
                f"{base}.diskEncryptionSetId", f"The provided master disk encryption set '{des}' is invalid."
            )
        if d["sub"].casefold() != ctx.subscription_id.casefold():
            raise invalid_parameter(
                f"{base}.diskEncryptionSetId",
                f"The provided master disk encryption set '{des}' is invalid: must be in same subscription as cluster.",
            )
    one_of(props.apiserver_profile.visibility, VISIBILITIES, "properties.apiserverProfile.visibility", "visibility")
    return m


def _workers(oc: OpenShiftCluster, creating: bool, master: re.Match[str]) -> None:
    """On create, ARO-RP's worker rules; on update only the count bounds (2019-12-31-preview scales by PATCH)."""
    props = oc.properties
    profiles = props.worker_profiles
    if not creating:
        for i, wp in enumerate(profiles):
            _worker_count(wp.count, element_path("properties.workerProfiles", wp.name, i))
        return
    if len(profiles) != 1:
        raise invalid_parameter("properties.workerProfiles", "There should be exactly one worker profile.")
    wp, mp = profiles[0], props.master_profile
    base = f"properties.workerProfiles['{wp.name}']"
    if wp.name != WORKER_PROFILE:
        raise invalid_parameter(f"{base}.name", f"The provided worker name '{wp.name}' is invalid.")
    _vm_size(wp.vm_size, WORKER, props.cluster_profile.version, f"{base}.vmSize")
    if not MIN_WORKER_DISK_GB <= wp.disk_size_gb <= MAX_WORKER_DISK_GB:
        raise invalid_parameter(f"{base}.diskSizeGB", f"The provided worker disk size '{wp.disk_size_gb}' is invalid.")
    m = SUBNET_ID.match(wp.subnet_id)
    if not m:
        raise invalid_parameter(f"{base}.subnetId", f"The provided worker VM subnet '{wp.subnet_id}' is invalid.")
    one_of(wp.encryption_at_host, TOGGLES, f"{base}.encryptionAtHost", "value")
    vnet_end, master_vnet_end = m.end("vnet"), master.end("vnet")
    if wp.subnet_id[:vnet_end].casefold() != mp.subnet_id[:master_vnet_end].casefold():
        raise invalid_parameter(
            f"{base}.subnetId",
            f"The provided worker VM subnet '{wp.subnet_id}' is invalid: must be in the same vnet as master VM "
            f"subnet '{mp.subnet_id}'.",
        )
    if wp.subnet_id.casefold() == mp.subnet_id.casefold():
        raise invalid_parameter(
            f"{base}.subnetId",
            f"The provided worker VM subnet '{wp.subnet_id}' is invalid: must be different to master VM subnet "
            f"'{mp.subnet_id}'.",
        )
    _worker_count(wp.count, base)
    worker_des, master_des = wp.disk_encryption_set_id or "", mp.disk_encryption_set_id or ""
    if worker_des.casefold() != master_des.casefold():
        raise invalid_parameter(
            f"{base}.diskEncryptionSetId",  # ARO-RP names subnetId here (a slip): ours names the field
            f"The provided worker disk encryption set '{worker_des}' is invalid: must be the same as master disk "
            f"encryption set '{master_des}'.",
        )


def _worker_count(count: int, base: str) -> None:
    if not MIN_WORKERS <= count <= MAX_WORKERS:
        raise invalid_parameter(f"{base}.count", f"The provided worker count '{count}' is invalid.")


def _ingress(oc: OpenShiftCluster, creating: bool) -> None:
    profiles = oc.properties.ingress_profiles
    if creating:
        if len(profiles) != 1:
            raise invalid_parameter("properties.ingressProfiles", "There should be exactly one ingress profile.")
        if profiles[0].name != INGRESS_PROFILE:
            raise invalid_parameter(
                f"properties.ingressProfiles['{profiles[0].name}'].name",
                f"The provided ingress name '{profiles[0].name}' is invalid.",
            )
    for i, ing in enumerate(profiles):
        target = element_path("properties.ingressProfiles", ing.name, i) + ".visibility"
        one_of(ing.visibility, VISIBILITIES, target, "visibility")
