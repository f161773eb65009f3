"""The customer's network at install, as ARO-RP treats it: its dynamic validation of the vnet and subnets
(``pkg/validate/dynamic``: ``ValidateVnet``, ``ValidateSubnets``), its ``attachNSGs`` install step, and on
delete its detaching of the cluster's NSG (``disconnectSecurityGroup``) so that the subnets can serve again.

The checks, first failure wins, in ARO-RP's codes, targets and words:

1. each vnet of the cluster's subnets exists (``InvalidLinkedVNet``: "The vnet '...' could not be found.")
   and is in the cluster's location;
2. each subnet exists ("The provided subnet '...' could not be found."); a route table or NAT gateway it
   names exists (``InvalidLinkedRouteTable`` / ``InvalidLinkedNatGateway``);
3. the subnets' prefixes, the pod CIDR and the service CIDR do not overlap;
4. with ``preconfiguredNSG: Enabled`` every subnet has an NSG; otherwise none has one other than the
   cluster's own ``<infraId>-nsg`` -- which is what refuses a subnet another cluster uses, since the
   install attaches that NSG to its subnets; each subnet is ``Succeeded`` and ``/27`` or larger.

ARO-RP also checks, with CheckAccess, what the cluster's identities may do on these resources; that is not
modelled here. ``Cloud.network_checks`` (the simulator's ``cloud.simulator.networkChecks``): "all" checks
as above; "held" takes a vnet the cloud does not hold on trust -- its subnets are neither checked nor given
the NSG -- and checks the others; "off" skips everything.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from aro.api.cluster import OpenShiftCluster
from aro.api.errors import CloudError
from aro.cluster.context import ClusterContext

NETWORK_API = "2024-05-01"
INVALID_LINKED_VNET = "InvalidLinkedVNet"
INVALID_LINKED_ROUTE_TABLE = "InvalidLinkedRouteTable"
INVALID_LINKED_NAT_GATEWAY = "InvalidLinkedNatGateway"
MIN_SUBNET_PREFIX = 27  # a subnet must be /27 or larger
MAX_PREFIXES = 16  # addressPrefixes read per subnet (Azure allows a handful)
NSG_SUFFIX = "-nsg"  # ARO-RP's architecture v2: one NSG for every subnet

MSG_NSG_ATTACHED = "The provided subnet '{}' is invalid: must not have a network security group attached."
MSG_NSG_NOT_PROPERLY_ATTACHED = (
    "When the enable-preconfigured-nsg option is specified, both the master and worker subnets should have "
    "network security groups (NSG) attached to them before starting the cluster installation."
)


@dataclass(frozen=True)
class Subnet:
    id: str  # as the cluster names it
    path: str  # where, e.g. properties.workerProfiles[0].subnetId

    @property
    def vnet_id(self) -> str:
        return self.id.rsplit("/", 2)[0]


def cluster_subnets(oc: OpenShiftCluster) -> list[Subnet]:
    """The master subnet and the worker profiles' subnets (ARO-RP's paths), each once (case-insensitive)."""
    p = oc.properties
    candidates = [Subnet(p.master_profile.subnet_id, "properties.masterProfile.subnetId")]
    candidates += [
        Subnet(w.subnet_id, f"properties.workerProfiles[{i}].subnetId")
        for i, w in enumerate(p.worker_profiles)
        if w.subnet_id
    ]
    seen: set[str] = set()
    out: list[Subnet] = []
    for s in candidates:
        if s.id.lower() not in seen:
            seen.add(s.id.lower())
            out.append(s)
    return out


def nsg_id(oc: OpenShiftCluster) -> str:
    """The cluster's NSG (deployed with its resources): ``<resourceGroupId>/.../<infraId>-nsg``."""
    rg = oc.properties.cluster_profile.resource_group_id
    return f"{rg}/providers/Microsoft.Network/networkSecurityGroups/{oc.properties.infra_id or 'aro'}{NSG_SUFFIX}"


def _vnet_error(message: str, target: str | None = None) -> CloudError:
    return CloudError(400, INVALID_LINKED_VNET, message, target)


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    props = resource.get("properties")
    return props if isinstance(props, dict) else {}


def _ref(props: dict[str, Any], key: str) -> str:
    ref = props.get(key)
    return str(ref.get("id") or "") if isinstance(ref, dict) else ""


def prefixes(subnet: dict[str, Any]) -> list[str]:
    """``addressPrefix``, else ``addressPrefixes`` (bounded), as ARO-RP reads them."""
    props = _props(subnet)
    if isinstance(props.get("addressPrefix"), str):
        return [props["addressPrefix"]]
    listed = props.get("addressPrefixes")
    return [str(p) for p in listed[:MAX_PREFIXES]] if isinstance(listed, list) else []


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise _vnet_error(f"The provided CIDR '{text[:100]}' is invalid.") from None


def check_no_overlap(cidrs: list[str]) -> None:
    """go-cidr's ``VerifyNoOverlap`` as ARO-RP calls it: the first pair found names the error."""
    nets = [_network(c) for c in cidrs]
    for i, s in enumerate(nets):
        for j, other in enumerate(nets):
            if i != j and other.version == s.version and (other[0] in s or other[-1] in s):
                raise _vnet_error(f"The provided CIDRs must not overlap: '{other} overlaps with {s}'.")


async def _get(ctx: ClusterContext, resource_id: str) -> dict[str, Any] | None:
    return await ctx.cloud.get_resource(resource_id, NETWORK_API)


def _trusting(ctx: ClusterContext) -> bool:
    """Whether a network the cloud does not hold is taken on trust ("held"), not an error ("all")."""
    return ctx.cloud.network_checks == "held"


async def validate_network(ctx: ClusterContext) -> None:
    """ARO-RP's ``ValidateVnet`` and, on create, ``ValidateSubnets`` (see the module doc)."""
    if ctx.cloud.network_checks == "off":
        return
    oc = ctx.oc
    subnets = cluster_subnets(oc)
    vnets: dict[str, dict[str, Any]] = {}
    trusted: set[str] = set()
    for s in subnets:
        if s.vnet_id.lower() in vnets or s.vnet_id.lower() in trusted:
            continue
        vnet = await _get(ctx, s.vnet_id)
        if vnet is None and _trusting(ctx):
            trusted.add(s.vnet_id.lower())
            continue
        if vnet is None:
            raise _vnet_error(f"The vnet '{s.vnet_id}' could not be found.")
        location = str(vnet.get("location") or "")
        if location.replace(" ", "").lower() != oc.location.replace(" ", "").lower():
            raise _vnet_error(f"The vnet location '{location}' must match the cluster location '{oc.location}'.")
        vnets[s.vnet_id.lower()] = vnet
    subnets = [s for s in subnets if s.vnet_id.lower() not in trusted]
    if not subnets:
        return
    found: dict[str, dict[str, Any]] = {}
    for s in subnets:
        subnet = await _get(ctx, s.id)
        if subnet is None:
            raise _vnet_error(f"The provided subnet '{s.id}' could not be found.")
        found[s.id.lower()] = subnet
    for key, code, what in (
        ("routeTable", INVALID_LINKED_ROUTE_TABLE, "route table"),
        ("natGateway", INVALID_LINKED_NAT_GATEWAY, "nat gateway"),
    ):
        for s in subnets:
            linked = _ref(_props(found[s.id.lower()]), key)
            if linked and await _get(ctx, linked) is None:
                raise CloudError(400, code, f"The {what} '{linked}' could not be found.")
    cidrs = [p for s in subnets for p in prefixes(found[s.id.lower()])]
    check_no_overlap([*cidrs, oc.properties.network_profile.pod_cidr, oc.properties.network_profile.service_cidr])
    _check_subnets(oc, subnets, found)


def _check_subnets(oc: OpenShiftCluster, subnets: list[Subnet], found: dict[str, dict[str, Any]]) -> None:
    preconfigured = oc.properties.network_profile.preconfigured_nsg == "Enabled"
    if preconfigured and not all(_ref(_props(found[s.id.lower()]), "networkSecurityGroup") for s in subnets):
        raise _vnet_error(MSG_NSG_NOT_PROPERLY_ATTACHED)
    ours = nsg_id(oc).lower()
    for s in subnets:
        props = _props(found[s.id.lower()])
        attached = _ref(props, "networkSecurityGroup")
        if attached and not preconfigured and attached.lower() != ours:
            raise _vnet_error(MSG_NSG_ATTACHED.format(s.id), s.path)
        if props.get("provisioningState") != "Succeeded":
            raise _vnet_error(f"The provided subnet '{s.id}' is not in a Succeeded state", s.path)
        for prefix in prefixes(found[s.id.lower()]):
            if _network(prefix).prefixlen > MIN_SUBNET_PREFIX:
                raise _vnet_error(f"The provided subnet '{s.id}' is invalid: must be /27 or larger.", s.path)


async def attach_nsgs(ctx: ClusterContext) -> None:
    """ARO-RP's ``attachNSGs``: the cluster's NSG on the master subnet and the first worker profile's subnet
    (unless ``preconfiguredNSG`` is Enabled). Idempotent: a subnet that has it already is left alone; one that
    has another NSG (attached since validation) fails the install with ARO-RP's error."""
    oc = ctx.oc
    if ctx.cloud.network_checks == "off" or oc.properties.network_profile.preconfigured_nsg == "Enabled":
        return
    ours = nsg_id(oc)
    targets = [oc.properties.master_profile.subnet_id]
    if oc.properties.worker_profiles:
        targets.append(oc.properties.worker_profiles[0].subnet_id)
    for subnet_id in dict.fromkeys(targets):
        subnet = await _get(ctx, subnet_id)
        if subnet is None and _trusting(ctx):
            continue  # a network the cloud does not hold (taken on trust at validation)
        if subnet is None:
            raise _vnet_error(f"The provided subnet '{subnet_id}' could not be found.")
        props = _props(subnet)
        attached = _ref(props, "networkSecurityGroup")
        if attached.lower() == ours.lower():
            continue
        if attached:
            raise _vnet_error(MSG_NSG_ATTACHED.format(subnet_id))
        await ctx.cloud.put_resource(
            subnet_id, NETWORK_API, {"properties": {**props, "networkSecurityGroup": {"id": ours}}}
        )


async def detach_nsgs(ctx: ClusterContext) -> None:
    """On delete, before the managed resource group goes: take the cluster's NSG off the subnets that carry
    it (ARO-RP's ``disconnectSecurityGroup``), so that they can serve another cluster. Absent subnets and
    subnets with another NSG are left alone."""
    oc = ctx.oc
    if ctx.cloud.network_checks == "off" or not oc.properties.infra_id:
        return
    ours = nsg_id(oc).lower()
    for s in cluster_subnets(oc):
        subnet = await _get(ctx, s.id)
        if subnet is None:
            continue
        props = _props(subnet)
        if _ref(props, "networkSecurityGroup").lower() != ours:
            continue
        rest = {k: v for k, v in props.items() if k != "networkSecurityGroup"}
        await ctx.cloud.put_resource(s.id, NETWORK_API, {"properties": rest})
