"""The field rules of a node pool (every api-version), as ARO-HCP's ``validate_nodepools.go`` and the static
parts of ``admit_nodepool.go`` have them. ``ctx.parent`` is the stored cluster: the node pool's version must
fit the control plane's and its subnet must be in the cluster's VNet.
"""

from __future__ import annotations

from aro.api.hcp import catalog, checks
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.fielderrors import FieldErrors
from aro.api.hcp.nodepool import NodePool, NodePoolProperties
from aro.api.hcp.rulehelpers import channel_group, identity_type, idx, in_range, key, one_of, resource_id, tags
from aro.api.hcp.versioning import (
    MIN_NODE_POOL,
    MIN_NODE_POOL_VERSION,
    Version,
    experimental,
    node_pool_skew_error,
    node_pool_upgrade_error,
    parse_any,
    parse_full,
)
from aro.api.hcp.vmsizes import enabled_vm_size
from aro.api.version import ValidationContext

MAX_NODES = 200  # without an availability zone (Azure's VMSS limit)
MAX_NODES_IN_ZONE = 500  # with one: the cluster's node limit
MIN_OS_DISK_GIB = 64
MAX_MANAGED_OS_DISK_GIB, MAX_EPHEMERAL_OS_DISK_GIB = 4095, 2040
DISK_STORAGE_ACCOUNT_TYPES = ("Premium_LRS", "StandardSSD_LRS", "Standard_LRS")
MANAGED, EPHEMERAL = "Managed", "Ephemeral"
DISK_TYPES = (MANAGED, EPHEMERAL)
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
MAX_TAINT_KEY = 316
MAX_NODE_DRAIN_TIMEOUT_MINUTES = 10080
# Label keys a node pool may not set (None: any value), or the values it may not give them.
FORBIDDEN_LABELS: dict[str, frozenset[str] | None] = {
    "node-role.kubernetes.io/master": None,
    "node-role.kubernetes.io/worker": None,
    "machine.openshift.io/cluster-api-machine-role": frozenset({"master", "infra"}),
    "machine.openshift.io/cluster-api-machine-type": frozenset({"master", "infra"}),
}

P = "properties"


def validate_node_pool(np: NodePool, ctx: ValidationContext, creating: bool) -> None:
    previous = ctx.current if not creating and isinstance(ctx.current, NodePool) else None
    old = previous.properties if previous is not None else None
    cluster = ctx.parent if isinstance(ctx.parent, HcpOpenShiftCluster) else None
    errs = FieldErrors()
    p = np.properties
    tags(errs, np.tags)
    if np.identity is not None:
        identity_type(errs, np.identity.type)
        for k in np.identity.user_assigned_identities:
            _, reason = checks.resource_id_error(k, checks.USER_ASSIGNED_IDENTITY)
            if reason is not None:
                errs.invalid(key("identity.userAssignedIdentities", k), k, reason)
    _version(errs, p, old, cluster, ctx)
    _platform(errs, p, old, cluster, ctx)
    _scale(errs, p)
    _labels(errs, p)
    _taints(errs, p)
    if p.node_drain_timeout_minutes is not None:
        in_range(errs, p.node_drain_timeout_minutes, f"{P}.nodeDrainTimeoutMinutes", 0, MAX_NODE_DRAIN_TIMEOUT_MINUTES)
    errs.raise_if_any()


def _version(
    errs: FieldErrors,
    p: NodePoolProperties,
    old: NodePoolProperties | None,
    cluster: HcpOpenShiftCluster | None,
    ctx: ValidationContext,
) -> None:
    target, channel_target = f"{P}.version.id", f"{P}.version.channelGroup"
    afec = experimental(ctx.features)
    v, channel = p.version.id, p.version.channel_group
    channel_ok = channel_group(errs, p.version, old.version if old is not None else None, ctx.features, channel_target)
    if not v:
        errs.required(target)
        return
    parsed = parse_full(v)
    if parsed is None:
        errs.invalid(target, v, "must be specified as MAJOR.MINOR.PATCH with an optional pre-release")
        return
    if old is not None and old.version.id == v and old.version.channel_group == channel:
        return  # unchanged: not judged again
    if not afec and parsed < MIN_NODE_POOL:
        errs.invalid(target, v, f"must be at least {MIN_NODE_POOL_VERSION}")
        return
    if old is not None:
        for start in _upgrade_starts(old):
            reason = node_pool_upgrade_error(start, parsed, afec)
            if reason is not None:
                errs.invalid(target, v, reason)
                return
    if cluster is not None:
        lowest, highest = control_plane_versions(cluster)
        if lowest is not None and highest is not None:
            reason = node_pool_skew_error(parsed, lowest, highest, afec)
            if reason is not None:
                errs.invalid(target, v, reason)
                return
    if channel_ok and ctx.catalog:
        entry = catalog.find(ctx.catalog, v, channel)
        if entry is None or not entry.enabled:
            errs.invalid(target, v, f"version is not available in channel group '{channel}'")


def _upgrade_starts(old: NodePoolProperties) -> list[Version]:
    """What an upgrade is judged from: the version the pool was asked for before (never down from it) and
    the lowest version its nodes run (at most +2 minors from it)."""
    asked = parse_full(old.version.id)
    active = [v for v in (parse_any(a.version) for a in old.status.active_versions) if v is not None]
    return [v for v in (asked, min(active, default=None)) if v is not None]


def control_plane_versions(cluster: HcpOpenShiftCluster) -> tuple[Version | None, Version | None]:
    """The lowest and highest versions the control plane runs (its active versions; before the backend
    reports any, the version it was asked for)."""
    active = [parse_any(a.version) for a in cluster.properties.status.active_versions]
    versions = [v for v in active if v is not None] or [
        v for v in (parse_any(cluster.properties.version.id),) if v is not None
    ]
    if not versions:
        return None, None
    return min(versions), max(versions)


def _platform(
    errs: FieldErrors,
    p: NodePoolProperties,
    old: NodePoolProperties | None,
    cluster: HcpOpenShiftCluster | None,
    ctx: ValidationContext,
) -> None:
    base, pl = f"{P}.platform", p.platform
    subnet = resource_id(errs, pl.subnet_id, f"{base}.subnetId", checks.SUBNET, ctx.subscription_id, required=True)
    changed = old is None or old.platform.subnet_id.casefold() != pl.subnet_id.casefold()
    cluster_subnet = checks.parse_resource_id(cluster.properties.platform.subnet_id) if cluster is not None else None
    if subnet is not None and cluster_subnet is not None and changed and subnet.parent != cluster_subnet.parent:
        errs.invalid(f"{base}.subnetId", pl.subnet_id, "must belong to the same VNet as the parent cluster's subnetId")
    if not pl.vm_size:
        errs.required(f"{base}.vmSize")
    elif enabled_vm_size(pl.vm_size) is None:
        errs.invalid(f"{base}.vmSize", pl.vm_size, "not an enabled VM size for node pools")
    disk, target = pl.os_disk, f"{base}.osDisk"
    one_of(errs, disk.disk_type, DISK_TYPES, f"{target}.diskType")
    one_of(errs, disk.disk_storage_account_type, DISK_STORAGE_ACCOUNT_TYPES, f"{target}.diskStorageAccountType")
    limit = MAX_EPHEMERAL_OS_DISK_GIB if disk.disk_type == EPHEMERAL else MAX_MANAGED_OS_DISK_GIB
    in_range(errs, disk.size_gib, f"{target}.sizeGiB", MIN_OS_DISK_GIB, limit)
    des = resource_id(
        errs, disk.encryption_set_id, f"{target}.encryptionSetId", checks.DISK_ENCRYPTION_SET, ctx.subscription_id
    )
    if des is not None and (
        len(des.name) > checks.MAX_DISK_ENCRYPTION_SET_NAME or not checks.DISK_ENCRYPTION_SET_NAME.match(des.name)
    ):
        errs.invalid(
            f"{target}.encryptionSetId",
            disk.encryption_set_id,
            "the disk encryption set name must be at most 80 alphanumeric characters, '_' or '-'",
        )
    if disk.disk_type == EPHEMERAL and not p.auto_repair:
        errs.invalid(f"{P}.autoRepair", p.auto_repair, "must be true when platform.osDisk.diskType is Ephemeral")


def _scale(errs: FieldErrors, p: NodePoolProperties) -> None:
    cap = MAX_NODES_IN_ZONE if p.platform.availability_zone else MAX_NODES
    in_range(errs, p.replicas, f"{P}.replicas", 0, cap)
    auto = p.auto_scaling
    if auto is None:
        return
    if p.replicas > 0:
        errs.invalid(f"{P}.replicas", p.replicas, "cannot specify replicas when autoScaling is enabled")
    before = len(errs.errors)
    in_range(errs, auto.min, f"{P}.autoScaling.min", 0, cap)
    in_range(errs, auto.max, f"{P}.autoScaling.max", 0, cap)
    if len(errs.errors) == before and auto.max < auto.min:
        errs.invalid(f"{P}.autoScaling.max", auto.max, f"must be greater than or equal to min ({auto.min})")


def _labels(errs: FieldErrors, p: NodePoolProperties) -> None:
    seen: set[str] = set()
    for i, label in enumerate(p.labels):
        target = idx(f"{P}.labels", i)
        reason = checks.qualified_name_error(label.key)
        if reason is not None:
            errs.invalid(f"{target}.key", label.key, reason)
        elif label.key in seen:
            errs.invalid(f"{target}.key", label.key, "duplicate label key")
        seen.add(label.key)
        reason = checks.label_value_error(label.value)
        if reason is not None:
            errs.invalid(f"{target}.value", label.value, reason)
        if label.key in FORBIDDEN_LABELS:
            values = FORBIDDEN_LABELS[label.key]
            if values is None:
                errs.invalid(f"{target}.key", label.key, "label key is not allowed on node pools")
            elif label.value in values:
                errs.invalid(f"{target}.value", label.value, "label value is not allowed for this label key")


def _taints(errs: FieldErrors, p: NodePoolProperties) -> None:
    for i, taint in enumerate(p.taints):
        target = idx(f"{P}.taints", i)
        if not taint.key:
            errs.required(f"{target}.key")
        elif len(taint.key) > MAX_TAINT_KEY:
            errs.invalid(f"{target}.key", taint.key, f"must be no more than {MAX_TAINT_KEY} characters")
        else:
            reason = checks.qualified_name_error(taint.key)
            if reason is not None:
                errs.invalid(f"{target}.key", taint.key, reason)
        reason = checks.label_value_error(taint.value)
        if reason is not None:
            errs.invalid(f"{target}.value", taint.value, reason)
        one_of(errs, taint.effect, TAINT_EFFECTS, f"{target}.effect")
