"""The hub model of a hosted cluster's node pool (``hcpOpenShiftClusters/nodePools``): every field of the
SDK's ``NodePoolProperties`` plus the backend's ``vmss_name``."""

from __future__ import annotations

from pydantic import Field

from aro.api.hcp.common import ManagedServiceIdentity, ResourceStatus, VersionProfile
from aro.api.resource import RESOURCE_PROVIDER, Model, Resource, ResourceProperties

RESOURCE_TYPE = f"{RESOURCE_PROVIDER}/hcpOpenShiftClusters/nodePools"


class OsDiskProfile(Model):
    size_gib: int = Field(default=0, alias="sizeGiB")
    disk_storage_account_type: str = ""  # Premium_LRS | StandardSSD_LRS | Standard_LRS
    encryption_set_id: str = ""  # a Microsoft.Compute/diskEncryptionSets id
    disk_type: str = ""  # Managed | Ephemeral


class NodePoolPlatformProfile(Model):
    subnet_id: str = ""  # defaults to the cluster's subnet
    vm_size: str = ""
    enable_encryption_at_host: bool = False
    os_disk: OsDiskProfile = Field(default_factory=OsDiskProfile)
    availability_zone: str = ""


class NodePoolAutoScaling(Model):
    min: int = 0
    max: int = 0


class Label(Model):
    key: str = ""
    value: str = ""


class Taint(Model):
    key: str = ""
    value: str = ""
    effect: str = ""  # NoSchedule | PreferNoSchedule | NoExecute


class NodePoolProperties(ResourceProperties):
    version: VersionProfile = Field(default_factory=VersionProfile)  # id "X.Y.Z"
    platform: NodePoolPlatformProfile = Field(default_factory=NodePoolPlatformProfile)
    replicas: int = 0  # used when auto_scaling is None
    auto_repair: bool = True
    auto_scaling: NodePoolAutoScaling | None = None
    labels: list[Label] = Field(default_factory=list)
    taints: list[Taint] = Field(default_factory=list)
    node_drain_timeout_minutes: int | None = None  # None: the cluster's value
    status: ResourceStatus = Field(default_factory=ResourceStatus)  # set by the backend

    # Set by the backend; never accepted from a request, never rendered.
    vmss_name: str = ""
    # Set by the admin API (day 2): HyperShift's pausedUntil ("true", "false", RFC 3339; "" = not paused).
    paused_until: str = ""


class NodePool(Resource):
    """The hub type of ``nodePools``."""

    type: str = RESOURCE_TYPE
    identity: ManagedServiceIdentity | None = None
    properties: NodePoolProperties = Field(default_factory=NodePoolProperties)
