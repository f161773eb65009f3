"""The request bodies of ``aro hcp`` (ARO-HCP api-version 2026-10-01, the shapes the SDK
``azure-mgmt-redhatopenshifthcp`` sends) and the parsers of their options.

A cluster needs a subnet, a network security group and user-assigned managed identities: a subnet and an
NSG are named by resource id, or composed from names in the cluster's resource group; the identities are
generated in the cluster's resource group by operator name (the RP does not check that they exist).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aro.cli.common import is_resource_id, rg_resource_id, subnet_id
from aro.cli.errors import UsageError

DEFAULT_CHANNEL_GROUP = "stable"
DEFAULT_VM_SIZE = "Standard_D8s_v3"
DEFAULT_REPLICAS = 2
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
VISIBILITIES = ("Public", "Private")

UAMI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
CONTROL_PLANE_OPERATORS = (
    "cluster-api-azure",
    "control-plane",
    "cloud-controller-manager",
    "ingress",
    "disk-csi-driver",
    "file-csi-driver",
    "image-registry",
    "cloud-network-config",
)
DATA_PLANE_OPERATORS = ("disk-csi-driver", "file-csi-driver", "image-registry")


# --- option parsers --------------------------------------------------------------------------------


def parse_labels(values: Iterable[str]) -> list[dict[str, str]]:
    """``key=value`` (or ``key=``); repeat the option, or separate labels with spaces or commas. A lone
    ``""`` is no label at all (``update --label ""`` clears them)."""
    labels: dict[str, str] = {}
    for value in values:
        for item in value.replace(",", " ").split():
            key, eq, val = item.partition("=")
            if not key or not eq:
                raise UsageError(f"invalid label {item!r}: expected KEY=VALUE")
            labels[key] = val
    return [{"key": k, "value": v} for k, v in labels.items()]


def parse_taint(text: str) -> dict[str, str]:
    """``key=value:Effect`` or ``key:Effect`` (kubectl taint's syntax); Effect is NoSchedule,
    PreferNoSchedule or NoExecute."""
    head, colon, effect = text.rpartition(":")
    if not colon or not head:
        raise UsageError(f"invalid taint {text!r}: expected KEY[=VALUE]:EFFECT")
    if effect not in TAINT_EFFECTS:
        raise UsageError(f"invalid taint {text!r}: the effect must be one of {', '.join(TAINT_EFFECTS)}")
    key, _, value = head.partition("=")
    if not key:
        raise UsageError(f"invalid taint {text!r}: the key is empty")
    return {"key": key, "value": value, "effect": effect}


def parse_taints(values: Iterable[str]) -> list[dict[str, str]]:
    """Every taint of the repeated option (a lone ``""`` is none)."""
    return [parse_taint(t) for value in values for t in value.replace(",", " ").split()]


def parse_cidrs(values: Iterable[str]) -> list[str]:
    """Addresses or CIDRs: repeat the option, or separate them with spaces or commas."""
    return [c for value in values for c in value.replace(",", " ").split()]


@dataclass(frozen=True)
class Scale:
    """A node pool's size: a fixed ``replicas`` or ``autoscale`` between min and max."""

    replicas: int | None = None
    autoscale: tuple[int, int] | None = None

    def properties(self) -> dict[str, Any]:
        """The node-pool properties that set this size (and unset the other mode: a merge patch keeps what
        it does not name, and the RP refuses replicas together with autoScaling)."""
        if self.autoscale is not None:
            lo, hi = self.autoscale
            return {"replicas": 0, "autoScaling": {"min": lo, "max": hi}}
        return {"replicas": self.replicas, "autoScaling": None}


def scale_of(replicas: int | None, min_: int | None, max_: int | None, default: int | None = None) -> Scale | None:
    """``--replicas N`` or ``--min N --max M`` (exclusive; both bounds together); without either,
    ``default`` replicas (None: no size given)."""
    if (min_ is None) != (max_ is None):
        raise UsageError("--min and --max go together (autoscaling between them)")
    if min_ is not None and max_ is not None:
        if replicas is not None:
            raise UsageError("--replicas and --min/--max are exclusive: a fixed size or autoscaling")
        if max_ < min_:
            raise UsageError(f"--max ({max_}) must be at least --min ({min_})")
        return Scale(autoscale=(min_, max_))
    if replicas is not None:
        return Scale(replicas=replicas)
    return Scale(replicas=default) if default is not None else None


# --- clusters --------------------------------------------------------------------------------------


@dataclass
class ClusterOptions:
    version: str  # X.Y
    location: str | None = None  # default: the client's configured location
    channel_group: str = DEFAULT_CHANNEL_GROUP
    subnet_id: str | None = None
    vnet: str | None = None  # default: {name}-vnet in the cluster's resource group
    subnet: str = "default"
    nsg_id: str | None = None
    nsg: str | None = None  # default: {name}-nsg in the cluster's resource group
    vnet_integration_subnet: str | None = None  # a name in the vnet or a subnet id (Private API)
    managed_resource_group: str | None = None  # default: the RP's aro-hcp-{name}-{uuid}
    api_visibility: str = "Public"
    tags: dict[str, str] = field(default_factory=dict)


def identity_id(subscription: str, rg: str, name: str) -> str:
    return rg_resource_id(subscription, rg, UAMI_TYPE, name)


def operator_identities(subscription: str, rg: str, cluster: str) -> dict[str, Any]:
    """``{controlPlaneOperators, dataPlaneOperators, serviceManagedIdentity}``: one identity per operator in
    the cluster's resource group, ``{cluster}-cp-{operator}``, ``{cluster}-dp-{operator}`` and
    ``{cluster}-service`` (a data-plane operator may share a control-plane operator's name, never its
    identity)."""
    return {
        "controlPlaneOperators": {
            op: identity_id(subscription, rg, f"{cluster}-cp-{op}") for op in CONTROL_PLANE_OPERATORS
        },
        "dataPlaneOperators": {op: identity_id(subscription, rg, f"{cluster}-dp-{op}") for op in DATA_PLANE_OPERATORS},
        "serviceManagedIdentity": identity_id(subscription, rg, f"{cluster}-service"),
    }


def cluster_identity(uai: dict[str, Any]) -> dict[str, Any]:
    """The cluster's ``identity``: every control-plane identity and the service identity, once each; the
    data-plane identities never (the RP's rule)."""
    ids = [*uai["controlPlaneOperators"].values(), uai["serviceManagedIdentity"]]
    return {"type": "UserAssigned", "userAssignedIdentities": {i: {} for i in ids}}


def cluster_body(subscription: str, rg: str, name: str, location: str, o: ClusterOptions) -> dict[str, Any]:
    """The PUT body of a new hosted cluster (read-only fields excluded; the RP defaults the rest)."""
    if o.subnet_id and o.vnet:
        raise UsageError("--subnet-id and --vnet/--subnet are exclusive")
    if o.nsg_id and o.nsg:
        raise UsageError("--nsg-id and --nsg are exclusive")
    if o.api_visibility not in VISIBILITIES:
        raise UsageError(f"invalid --api-visibility {o.api_visibility!r}: use Public or Private")
    vnet = o.vnet or f"{name}-vnet"
    subnet = o.subnet_id or subnet_id(subscription, rg, vnet, o.subnet)
    if o.nsg_id and not is_resource_id(o.nsg_id):
        raise UsageError(f"invalid --nsg-id {o.nsg_id!r}: expected a resource id (or give a name with --nsg)")
    if o.subnet_id and not is_resource_id(o.subnet_id):
        raise UsageError(f"invalid --subnet-id {o.subnet_id!r}: expected a resource id (or give a name with --subnet)")
    nsg = o.nsg_id or rg_resource_id(subscription, rg, NSG_TYPE, o.nsg or f"{name}-nsg")
    uai = operator_identities(subscription, rg, name)
    platform: dict[str, Any] = {
        "subnetId": subnet,
        "networkSecurityGroupId": nsg,
        "operatorsAuthentication": {"userAssignedIdentities": uai},
    }
    if o.vnet_integration_subnet:
        integration = o.vnet_integration_subnet
        if not is_resource_id(integration):  # a name: in the cluster subnet's vnet
            integration = subnet.rsplit("/subnets/", 1)[0] + f"/subnets/{integration}"
        platform["vnetIntegrationSubnetId"] = integration
    elif o.api_visibility == "Private":
        raise UsageError("--api-visibility Private needs --vnet-integration-subnet (a subnet name or id)")
    if o.managed_resource_group:
        platform["managedResourceGroup"] = o.managed_resource_group
    body: dict[str, Any] = {
        "location": location,
        "identity": cluster_identity(uai),
        "properties": {
            "version": {"id": o.version, "channelGroup": o.channel_group},
            "api": {"visibility": o.api_visibility},
            "platform": platform,
        },
    }
    if o.tags:
        body["tags"] = dict(o.tags)
    return body


def cluster_update_body(
    *,
    tags: dict[str, str] | None = None,
    version: str | None = None,
    authorized_cidrs: list[str] | None = None,
    node_drain_timeout: int | None = None,
) -> dict[str, Any]:
    """The PATCH body (JSON merge patch) with only what changes; ``authorized_cidrs`` ``[]`` removes the
    restriction (null)."""
    body: dict[str, Any] = {}
    props: dict[str, Any] = {}
    if tags is not None:
        body["tags"] = tags
    if version is not None:
        props["version"] = {"id": version}
    if authorized_cidrs is not None:
        props["api"] = {"authorizedCidrs": authorized_cidrs or None}
    if node_drain_timeout is not None:
        props["nodeDrainTimeoutMinutes"] = node_drain_timeout
    if props:
        body["properties"] = props
    return body


# --- node pools ------------------------------------------------------------------------------------


@dataclass
class NodePoolOptions:
    version: str  # X.Y.Z
    scale: Scale
    channel_group: str = DEFAULT_CHANNEL_GROUP
    vm_size: str = DEFAULT_VM_SIZE
    subnet_id: str | None = None  # default: the cluster's subnet
    os_disk_size_gib: int | None = None
    labels: list[dict[str, str]] = field(default_factory=list)
    taints: list[dict[str, str]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)


def nodepool_body(location: str, o: NodePoolOptions) -> dict[str, Any]:
    platform: dict[str, Any] = {"vmSize": o.vm_size}
    if o.subnet_id:
        if not is_resource_id(o.subnet_id):
            raise UsageError(f"invalid --subnet-id {o.subnet_id!r}: expected a subnet resource id")
        platform["subnetId"] = o.subnet_id
    if o.os_disk_size_gib is not None:
        platform["osDisk"] = {"sizeGiB": o.os_disk_size_gib}
    props: dict[str, Any] = {"version": {"id": o.version, "channelGroup": o.channel_group}, "platform": platform}
    props.update({k: v for k, v in o.scale.properties().items() if v is not None})
    if o.labels:
        props["labels"] = o.labels
    if o.taints:
        props["taints"] = o.taints
    body: dict[str, Any] = {"location": location, "properties": props}
    if o.tags:
        body["tags"] = dict(o.tags)
    return body


def nodepool_update_body(
    *,
    scale: Scale | None = None,
    version: str | None = None,
    labels: list[dict[str, str]] | None = None,
    taints: list[dict[str, str]] | None = None,
    node_drain_timeout: int | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The PATCH body: labels and taints are arrays, so each replaces the pool's whole list."""
    body: dict[str, Any] = {}
    props: dict[str, Any] = scale.properties() if scale is not None else {}
    if version is not None:
        props["version"] = {"id": version}
    if labels is not None:
        props["labels"] = labels
    if taints is not None:
        props["taints"] = taints
    if node_drain_timeout is not None:
        props["nodeDrainTimeoutMinutes"] = node_drain_timeout
    if tags is not None:
        body["tags"] = tags
    if props:
        body["properties"] = props
    return body
