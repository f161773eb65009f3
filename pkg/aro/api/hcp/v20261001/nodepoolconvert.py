"""2026-10-01 <-> hub conversion of node pools, their create defaults and update policy (see
``clusterconvert`` for the contract). ``platform`` and ``autoRepair`` are immutable; the version, the scale,
labels, taints and the drain timeout may change."""

from __future__ import annotations

from typing import Any

from aro.api.external import or_empty
from aro.api.hcp import nodepool as hub
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.v20261001 import nodepoolmodels as m
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
DEFAULT_OS_DISK_GIB = 64
DEFAULT_DISK_STORAGE_ACCOUNT_TYPE = "Premium_LRS"
DEFAULT_DISK_TYPE = "Managed"
DEFAULT_AUTO_REPAIR = True

P = "properties"
POLICY = UpdatePolicy(
    mutable=(
        "tags",
        "identity",
        f"{P}.version",
        f"{P}.replicas",
        f"{P}.autoScaling",
        f"{P}.labels",
        f"{P}.taints",
        f"{P}.nodeDrainTimeoutMinutes",
    ),
    read_only=(
        "id",
        "name",
        "type",
        "systemData",
        f"{P}.provisioningState",
        f"{P}.status",
        "identity.principalId",
        "identity.tenantId",
        "identity.userAssignedIdentities[*].principalId",
        "identity.userAssignedIdentities[*].clientId",
    ),
    case_insensitive=(
        "location",
        f"{P}.platform.subnetId",
        f"{P}.platform.vmSize",
        f"{P}.platform.osDisk.encryptionSetId",
    ),
    maps=("tags", "identity.userAssignedIdentities"),
)


def render(np: hub.NodePool, secrets: bool) -> dict[str, Any]:
    p, pl = np.properties, np.properties.platform
    auto = p.auto_scaling
    return {
        "id": np.id,
        "name": np.name,
        "type": np.type,
        "location": np.location,
        "tags": dict(np.tags) or None,
        "systemData": system_data_out(np.system_data),
        "identity": identity_out(np.identity),
        "properties": {
            "provisioningState": provisioning_state(p.provisioning_state),
            "version": {"id": p.version.id, "channelGroup": p.version.channel_group},
            "platform": {
                "subnetId": pl.subnet_id,
                "vmSize": pl.vm_size,
                "enableEncryptionAtHost": pl.enable_encryption_at_host,
                "osDisk": {
                    "sizeGiB": pl.os_disk.size_gib,
                    "diskStorageAccountType": pl.os_disk.disk_storage_account_type,
                    "encryptionSetId": pl.os_disk.encryption_set_id,
                    "diskType": pl.os_disk.disk_type,
                },
                "availabilityZone": pl.availability_zone,
            },
            "replicas": p.replicas,
            "autoRepair": p.auto_repair,
            "autoScaling": {"min": auto.min, "max": auto.max} if auto is not None else None,
            "labels": [{"key": label.key, "value": label.value} for label in p.labels] or None,
            "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in p.taints] or None,
            "nodeDrainTimeoutMinutes": p.node_drain_timeout_minutes,
            "status": status_out(p.status),
        },
    }


def to_internal(ext: m.NodePool, np: hub.NodePool) -> None:
    np.identity = identity_in(ext.identity, np.identity)
    p_in, p = ext.properties or m.NodePoolProperties(), np.properties
    v = p_in.version or m.NodePoolVersionProfile()
    p.version.id = or_empty(v.id)
    p.version.channel_group = or_default(v.channel_group, DEFAULT_CHANNEL_GROUP)

    pl_in, pl = p_in.platform or m.NodePoolPlatformProfile(), p.platform
    pl.subnet_id = or_empty(pl_in.subnet_id)
    pl.vm_size = or_empty(pl_in.vm_size)
    pl.enable_encryption_at_host = or_default(pl_in.enable_encryption_at_host, False)
    pl.availability_zone = or_empty(pl_in.availability_zone)
    disk_in, disk = pl_in.os_disk or m.OsDiskProfile(), pl.os_disk
    disk.size_gib = or_default(disk_in.size_gib, DEFAULT_OS_DISK_GIB)
    disk.disk_storage_account_type = or_default(disk_in.disk_storage_account_type, DEFAULT_DISK_STORAGE_ACCOUNT_TYPE)
    disk.encryption_set_id = or_empty(disk_in.encryption_set_id)
    disk.disk_type = or_default(disk_in.disk_type, DEFAULT_DISK_TYPE)

    p.replicas = or_default(p_in.replicas, 0)
    p.auto_repair = or_default(p_in.auto_repair, DEFAULT_AUTO_REPAIR)
    auto = p_in.auto_scaling
    p.auto_scaling = (
        None if auto is None else hub.NodePoolAutoScaling(min=or_default(auto.min, 0), max=or_default(auto.max, 0))
    )
    p.labels = [hub.Label(key=or_empty(label.key), value=or_empty(label.value)) for label in p_in.labels or []]
    p.taints = [
        hub.Taint(key=or_empty(t.key), value=or_empty(t.value), effect=or_empty(t.effect)) for t in p_in.taints or []
    ]
    p.node_drain_timeout_minutes = p_in.node_drain_timeout_minutes


def create_defaults(np: hub.NodePool, ctx: ValidationContext) -> None:
    """The subnet defaults to the cluster's."""
    pl = np.properties.platform
    if not pl.subnet_id and isinstance(ctx.parent, HcpOpenShiftCluster):
        pl.subnet_id = ctx.parent.properties.platform.subnet_id


def keep_on_replace(new: hub.NodePool, current: hub.NodePool) -> None:
    if not new.properties.platform.subnet_id:
        new.properties.platform.subnet_id = current.properties.platform.subnet_id


def replace_base(np: hub.NodePool) -> dict[str, Any]:
    return {}
