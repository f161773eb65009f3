"""The 2026-10-01 REST schema of Microsoft.RedHatOpenShift/hcpOpenShiftClusters, as the SDK
``azure-mgmt-redhatopenshifthcp`` 1.0.0 reads and writes it (field names, JSON names, visibility). Read-only
fields are returned by the RP and removed from requests (``clusterconvert.POLICY``)."""

from __future__ import annotations

from pydantic import Field

from aro.api.external import ExternalModel, TrackedResource
from aro.api.hcp.v20261001.common import ManagedServiceIdentity, ResourceStatus, SystemData, enum, read_only

CHANNEL_GROUP = "stable (default) | fast; candidate | nightly with the experimental-release AFEC."


class VersionProfile(ExternalModel):
    id: str | None = Field(default=None, description="The control plane's X.Y version. Required.")
    channel_group: str | None = Field(default=None, description=CHANNEL_GROUP)


class DnsProfile(ExternalModel):
    base_domain: str | None = read_only()
    base_domain_prefix: str | None = None


class NetworkProfile(ExternalModel):
    network_type: str | None = enum("OVNKubernetes", "Other")
    pod_cidr: str | None = None
    service_cidr: str | None = None
    machine_cidr: str | None = None
    host_prefix: int | None = None


class ConsoleProfile(ExternalModel):
    url: str | None = read_only()


class ApiProfile(ExternalModel):
    url: str | None = read_only()
    visibility: str | None = enum("Public", "Private")
    authorized_cidrs: list[str] | None = None


class IngressProfile(ExternalModel):
    type: str | None = enum("Public", "Private", "Disabled")


class UserAssignedIdentitiesProfile(ExternalModel):
    control_plane_operators: dict[str, str] | None = None
    data_plane_operators: dict[str, str] | None = None
    service_managed_identity: str | None = None


class OperatorsAuthenticationProfile(ExternalModel):
    user_assigned_identities: UserAssignedIdentitiesProfile | None = None


class ContainerRegistryProfile(ExternalModel):
    managed_identity: str | None = None


class PlatformProfile(ExternalModel):
    managed_resource_group: str | None = None
    subnet_id: str | None = None
    vnet_integration_subnet_id: str | None = None
    outbound_type: str | None = enum("LoadBalancer")
    network_security_group_id: str | None = None
    operators_authentication: OperatorsAuthenticationProfile | None = None
    container_registry: ContainerRegistryProfile | None = None
    issuer_url: str | None = read_only()


class ClusterAutoscalingProfile(ExternalModel):
    max_nodes_total: int | None = None
    max_pod_grace_period_seconds: int | None = None
    max_node_provision_time_seconds: int | None = None
    pod_priority_threshold: int | None = None


class KmsKey(ExternalModel):
    name: str | None = None
    version: str | None = None


class KmsEncryptionProfile(ExternalModel):
    vault_name: str | None = None
    visibility: str | None = enum("Public", "Private")
    active_key: KmsKey | None = None
    key_vault_type: str | None = enum("KeyVault", "ManagedHSM")


class CustomerManagedEncryptionProfile(ExternalModel):
    encryption_type: str | None = enum("KMS")
    kms: KmsEncryptionProfile | None = None


class EtcdDataEncryptionProfile(ExternalModel):
    key_management_mode: str | None = enum("CustomerManaged", "PlatformManaged")
    customer_managed: CustomerManagedEncryptionProfile | None = None


class EtcdProfile(ExternalModel):
    data_encryption: EtcdDataEncryptionProfile | None = None


class ImageDigestMirror(ExternalModel):
    source: str | None = None
    mirrors: list[str] | None = None


class ClusterImageRegistryProfile(ExternalModel):
    state: str | None = enum("Enabled", "Disabled")


class HcpOpenShiftClusterProperties(ExternalModel):
    provisioning_state: str | None = read_only()
    version: VersionProfile | None = None
    dns: DnsProfile | None = None
    network: NetworkProfile | None = None
    console: ConsoleProfile | None = None
    api: ApiProfile | None = None
    ingress: IngressProfile | None = None
    platform: PlatformProfile | None = None
    autoscaling: ClusterAutoscalingProfile | None = None
    etcd: EtcdProfile | None = None
    image_digest_mirrors: list[ImageDigestMirror] | None = None
    node_drain_timeout_minutes: int | None = None
    cluster_image_registry: ClusterImageRegistryProfile | None = None
    status: ResourceStatus | None = read_only()
    crypto_restrictions: str | None = enum("None", "FIPS")


class HcpOpenShiftCluster(TrackedResource):
    """PUT body and GET/PUT/PATCH/list response."""

    identity: ManagedServiceIdentity | None = None
    system_data: SystemData | None = read_only()
    properties: HcpOpenShiftClusterProperties | None = None


class HcpOpenShiftClusterUpdate(ExternalModel):
    """PATCH body (JSON merge patch; ``tags`` replaced whole)."""

    tags: dict[str, str] | None = None
    identity: ManagedServiceIdentity | None = None
    properties: HcpOpenShiftClusterProperties | None = None


class AdminCredentialRequest(ExternalModel):
    """requestAdminCredential body."""

    certificate_signing_request: str | None = Field(
        default=None,
        description="PEM CERTIFICATE REQUEST, CN system:customer-break-glass:system-admin, O system:masters.",
    )


class AdminCredential(ExternalModel):
    """requestAdminCredential result."""

    kubeconfig: str | None = read_only()
    expiration_timestamp: str | None = read_only()
