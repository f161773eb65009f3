"""The 2019-12-31-preview REST schema (the early ARO RP, January 2020).

A tracked resource whose ``properties`` carry a write-only ``pullSecret`` (base64 of the pull secret text)
next to the profiles. Everything but ``location`` may be omitted on create (see ``aro.api.defaults``).
"""

from __future__ import annotations

from pydantic import Field

from aro.api.external import ExternalModel, ProvisioningStateName, TrackedResource, Visibility


class ClusterProfile(ExternalModel):
    domain: str | None = None
    version: str | None = None
    resource_group_id: str | None = None


class ConsoleProfile(ExternalModel):
    url: str | None = Field(default=None, description="Read-only.")


class ServicePrincipalProfile(ExternalModel):
    client_id: str | None = None
    client_secret: str | None = Field(default=None, description="Write-only: never returned.")


class NetworkProfile(ExternalModel):
    pod_cidr: str | None = None
    service_cidr: str | None = None


class MasterProfile(ExternalModel):
    vm_size: str | None = None
    subnet_id: str | None = None


class WorkerProfile(ExternalModel):
    name: str | None = None
    vm_size: str | None = None
    disk_size_gb: int | None = Field(default=None, alias="diskSizeGB")
    subnet_id: str | None = None
    count: int | None = None


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
    pull_secret: str | None = Field(
        default=None, description="Write-only: base64 of the pull secret (a docker config JSON)."
    )
    cluster_profile: ClusterProfile | None = None
    console_profile: ConsoleProfile | None = None
    service_principal_profile: ServicePrincipalProfile | None = None
    network_profile: NetworkProfile | None = None
    master_profile: MasterProfile | None = None
    worker_profiles: list[WorkerProfile] | None = None
    apiserver_profile: APIServerProfile | None = None
    ingress_profiles: list[IngressProfile] | None = None


class OpenShiftCluster(TrackedResource):
    """PUT body and GET/PUT/PATCH/list response."""

    properties: OpenShiftClusterProperties | None = None
