"""The 2026-10-01 REST schema of Microsoft.RedHatOpenShift/hcpOpenShiftClusters/nodePools, as the SDK
``azure-mgmt-redhatopenshifthcp`` 1.0.0 reads and writes it."""

from __future__ import annotations

from pydantic import Field

from aro.api.external import ExternalModel, TrackedResource
from aro.api.hcp.v20261001.common import ManagedServiceIdentity, ResourceStatus, SystemData, enum, read_only


class NodePoolVersionProfile(ExternalModel):
    id: str | None = Field(default=None, description="The node pool's X.Y.Z version. Required.")
    channel_group: str | None = Field(default=None, description="stable (default) | fast.")


class OsDiskProfile(ExternalModel):
    size_gib: int | None = Field(default=None, alias="sizeGiB")
    disk_storage_account_type: str | None = enum("Premium_LRS", "StandardSSD_LRS", "Standard_LRS")
    encryption_set_id: str | None = None
    disk_type: str | None = enum("Managed", "Ephemeral")


class NodePoolPlatformProfile(ExternalModel):
    subnet_id: str | None = None
    vm_size: str | None = None
    enable_encryption_at_host: bool | None = None
    os_disk: OsDiskProfile | None = None
    availability_zone: str | None = None


class NodePoolAutoScaling(ExternalModel):
    min: int | None = None
    max: int | None = None


class Label(ExternalModel):
    key: str | None = None
    value: str | None = None


class Taint(ExternalModel):
    key: str | None = None
    value: str | None = None
    effect: str | None = enum("NoSchedule", "PreferNoSchedule", "NoExecute")


class NodePoolProperties(ExternalModel):
    provisioning_state: str | None = read_only()
    version: NodePoolVersionProfile | None = None
    platform: NodePoolPlatformProfile | None = None
    replicas: int | None = None
    auto_repair: bool | None = None
    auto_scaling: NodePoolAutoScaling | None = None
    labels: list[Label] | None = None
    taints: list[Taint] | None = None
    node_drain_timeout_minutes: int | None = None
    status: ResourceStatus | None = read_only()


class NodePool(TrackedResource):
    """PUT body and GET/PUT/PATCH/list response."""

    identity: ManagedServiceIdentity | None = None
    system_data: SystemData | None = read_only()
    properties: NodePoolProperties | None = None


class NodePoolUpdate(ExternalModel):
    """PATCH body (JSON merge patch; ``tags`` replaced whole)."""

    tags: dict[str, str] | None = None
    identity: ManagedServiceIdentity | None = None
    properties: NodePoolProperties | None = None
