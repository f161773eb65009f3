"""The 2025-07-25 REST schema of Microsoft.RedHatOpenShift/openShiftClusters (stable).

JSON names are exactly those of the published spec (``diskSizeGB``, ``preconfiguredNSG``, ``podCidr``,
``apiserverProfile``, ...). Fields marked read-only are returned by the RP and ignored in requests (see
``updatepolicy``). These models parse requests (strictly: see ``aro.api.external``) and describe the bodies
in the OpenAPI document.
"""

from __future__ import annotations

from pydantic import Field

from aro.api.external import (
    ExternalModel,
    IdentityType,
    OutboundType,
    ProvisioningStateName,
    Toggle,
    TrackedResource,
    Visibility,
)


class ClusterProfile(ExternalModel):
    pull_secret: str | None = Field(default=None, description="Write-only: never returned.")
    domain: str | None = None
    version: str | None = None
    resource_group_id: str | None = None
    fips_validated_modules: Toggle | None = None
    oidc_issuer: str | None = Field(default=None, description="Read-only.")


class ConsoleProfile(ExternalModel):
    url: str | None = Field(default=None, description="Read-only.")


class ServicePrincipalProfile(ExternalModel):
    client_id: str | None = None
    client_secret: str | None = Field(default=None, description="Write-only: never returned.")


class PlatformWorkloadIdentity(ExternalModel):
    resource_id: str | None = None
    client_id: str | None = Field(default=None, description="Read-only.")
    object_id: str | None = Field(default=None, description="Read-only.")


class PlatformWorkloadIdentityProfile(ExternalModel):
    upgradeable_to: str | None = None
    platform_workload_identities: dict[str, PlatformWorkloadIdentity] | None = None


class ManagedOutboundIPs(ExternalModel):
    count: int | None = None


class EffectiveOutboundIP(ExternalModel):
    id: str | None = None


class LoadBalancerProfile(ExternalModel):
    managed_outbound_ips: ManagedOutboundIPs | None = None
    effective_outbound_ips: list[EffectiveOutboundIP] | None = Field(default=None, description="Read-only.")


class NetworkProfile(ExternalModel):
    pod_cidr: str | None = None
    service_cidr: str | None = None
    outbound_type: OutboundType | None = None
    preconfigured_nsg: Toggle | None = Field(default=None, alias="preconfiguredNSG")
    load_balancer_profile: LoadBalancerProfile | None = None


class MasterProfile(ExternalModel):
    vm_size: str | None = None
    subnet_id: str | None = None
    encryption_at_host: Toggle | None = None
    disk_encryption_set_id: str | None = None


class WorkerProfile(ExternalModel):
    name: str | None = None
    vm_size: str | None = None
    disk_size_gb: int | None = Field(default=None, alias="diskSizeGB")
    subnet_id: str | None = None
    count: int | None = None
    encryption_at_host: Toggle | None = None
    disk_encryption_set_id: str | None = None


class APIServerProfile(ExternalModel):
    visibility: Visibility | None = None
    url: str | None = Field(default=None, description="Read-only.")
    ip: str | None = Field(default=None, description="Read-only.")


class IngressProfile(ExternalModel):
    name: str | None = None
    visibility: Visibility | None = None
    ip: str | None = Field(default=None, description="Read-only.")


class OpenShiftClusterProperties(ExternalModel):
    provisioning_state: ProvisioningStateName | None = None
    cluster_profile: ClusterProfile | None = None
    console_profile: ConsoleProfile | None = None
    service_principal_profile: ServicePrincipalProfile | None = None
    platform_workload_identity_profile: PlatformWorkloadIdentityProfile | None = None
    network_profile: NetworkProfile | None = None
    master_profile: MasterProfile | None = None
    worker_profiles: list[WorkerProfile] | None = None
    worker_profiles_status: list[WorkerProfile] | None = Field(default=None, description="Read-only.")
    apiserver_profile: APIServerProfile | None = None
    ingress_profiles: list[IngressProfile] | None = None


class UserAssignedIdentity(ExternalModel):
    principal_id: str | None = Field(default=None, description="Read-only.")
    client_id: str | None = Field(default=None, description="Read-only.")


class ManagedServiceIdentity(ExternalModel):
    type: IdentityType | None = None
    principal_id: str | None = Field(default=None, description="Read-only.")
    tenant_id: str | None = Field(default=None, description="Read-only.")
    user_assigned_identities: dict[str, UserAssignedIdentity] | None = None


class SystemData(ExternalModel):
    created_by: str | None = None
    created_by_type: str | None = None
    created_at: str | None = None
    last_modified_by: str | None = None
    last_modified_by_type: str | None = None
    last_modified_at: str | None = None


class OpenShiftCluster(TrackedResource):
    """PUT body and GET/PUT/PATCH/list response."""

    identity: ManagedServiceIdentity | None = None
    system_data: SystemData | None = Field(default=None, description="Read-only.")
    properties: OpenShiftClusterProperties | None = None


class OpenShiftClusterUpdate(ExternalModel):
    """PATCH body (JSON merge patch; ``tags`` replaced whole)."""

    tags: dict[str, str] | None = None
    properties: OpenShiftClusterProperties | None = None
    identity: ManagedServiceIdentity | None = None
