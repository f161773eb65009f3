"""The internal (hub) model of an OpenShift cluster.

Every external api-version converts to and from this model; the store persists it (inside the cluster
document, under ``openShiftCluster``) and the backend reads and writes it. Attribute names are snake_case;
the JSON form (``dump()``) is camelCase. Unknown fields are kept (``extra="allow"``) so a document written
by a newer release survives a round trip through an older one.

The shared parts (envelope, provisioning states, the operation record) are in ``aro.api.resource``.
Secret fields (listed in ``SECRET_PATHS``) hold plaintext in memory only: the database layer encrypts them
before they are written and decrypts them after they are read. They are never rendered by converters.
"""

from __future__ import annotations

from pydantic import Field

from aro.api.power import RUNNING, hibernating
from aro.api.resource import RESOURCE_PROVIDER, OperationProgress, Resource, ResourceProperties
from aro.api.resource import Model as _Model


class UserAssignedIdentity(_Model):
    principal_id: str | None = None
    client_id: str | None = None


class ManagedServiceIdentity(_Model):
    type: str = "None"
    principal_id: str | None = None
    tenant_id: str | None = None
    user_assigned_identities: dict[str, UserAssignedIdentity] = Field(default_factory=dict)


class ClusterProfile(_Model):
    pull_secret: str = ""  # secret
    domain: str = ""
    version: str = ""
    resource_group_id: str = ""
    fips_validated_modules: str = "Disabled"
    oidc_issuer: str | None = None


class ConsoleProfile(_Model):
    url: str = ""


class ServicePrincipalProfile(_Model):
    client_id: str = ""
    client_secret: str = ""  # secret


class PlatformWorkloadIdentity(_Model):
    resource_id: str = ""
    client_id: str | None = None
    object_id: str | None = None


class PlatformWorkloadIdentityProfile(_Model):
    upgradeable_to: str | None = None
    platform_workload_identities: dict[str, PlatformWorkloadIdentity] = Field(default_factory=dict)


class ManagedOutboundIPs(_Model):
    count: int = 1


class EffectiveOutboundIP(_Model):
    id: str = ""


class LoadBalancerProfile(_Model):
    managed_outbound_ips: ManagedOutboundIPs | None = None
    effective_outbound_ips: list[EffectiveOutboundIP] = Field(default_factory=list)


class NetworkProfile(_Model):
    pod_cidr: str = ""
    service_cidr: str = ""
    outbound_type: str = "Loadbalancer"
    preconfigured_nsg: str = Field(default="Disabled", alias="preconfiguredNSG")
    load_balancer_profile: LoadBalancerProfile | None = None


class MasterProfile(_Model):
    vm_size: str = ""
    subnet_id: str = ""
    encryption_at_host: str = "Disabled"
    disk_encryption_set_id: str | None = None


class WorkerProfile(_Model):
    name: str = ""
    vm_size: str = ""
    disk_size_gb: int = Field(default=128, alias="diskSizeGB")
    subnet_id: str = ""
    count: int = 0
    encryption_at_host: str = "Disabled"
    disk_encryption_set_id: str | None = None


class APIServerProfile(_Model):
    visibility: str = "Public"
    url: str = ""
    ip: str = ""


class IngressProfile(_Model):
    name: str = ""
    visibility: str = "Public"
    ip: str = ""


class ClusterPKI(_Model):
    """The cluster's generated PKI (install assets)."""

    ca_cert: str = ""
    ca_key: str = ""  # secret
    apiserver_cert: str = ""
    apiserver_key: str = ""  # secret
    admin_client_cert: str = ""
    renewed_by: str = ""  # the admin operation that last re-issued the certificates


class OpenShiftClusterProperties(ResourceProperties):
    # The operation record is stored as ``install`` (the name ARO's documents have always used).
    progress: OperationProgress | None = Field(default=None, alias="install")

    cluster_profile: ClusterProfile = Field(default_factory=ClusterProfile)
    console_profile: ConsoleProfile = Field(default_factory=ConsoleProfile)
    service_principal_profile: ServicePrincipalProfile | None = None
    platform_workload_identity_profile: PlatformWorkloadIdentityProfile | None = None
    network_profile: NetworkProfile = Field(default_factory=NetworkProfile)
    master_profile: MasterProfile = Field(default_factory=MasterProfile)
    worker_profiles: list[WorkerProfile] = Field(default_factory=list)
    worker_profiles_status: list[WorkerProfile] = Field(default_factory=list)
    apiserver_profile: APIServerProfile = Field(default_factory=APIServerProfile)
    ingress_profiles: list[IngressProfile] = Field(default_factory=list)

    # Set by the backend; never accepted from a request.
    infra_id: str = ""
    cluster_id: str = ""  # the OpenShift cluster id (a uuid; the ledger's external_cluster_id)
    storage_suffix: str = ""
    kubeadmin_password: str = ""  # secret
    admin_kubeconfig: str = ""  # secret (PEM/YAML text)
    cluster_pki: ClusterPKI | None = None
    maintenance_task: str = ""  # an admin update's task (Everything | OperatorUpdate | CertificatesRenewal)
    # Hibernation (``aro.api.power``; admin API and backend only, never rendered by an api-version):
    power_state: str = RUNNING  # Running | Hibernating (from the admin's request until a resume started the VMs)
    requested_power_state: str = ""  # the power change an operation carries out (Running | Hibernating); ""


RESOURCE_TYPE = f"{RESOURCE_PROVIDER}/openShiftClusters"


class OpenShiftCluster(Resource):
    """The hub type of ``openShiftClusters``."""

    type: str = RESOURCE_TYPE
    identity: ManagedServiceIdentity | None = None
    properties: OpenShiftClusterProperties = Field(default_factory=OpenShiftClusterProperties)


def is_hibernating(oc: OpenShiftCluster) -> bool:
    """Whether the cluster is hibernating: from the admin's hibernate request until a resume has started
    its VMs (``properties.powerState`` other than Running). Logins and managed jobs are refused then."""
    return hibernating(oc.properties.power_state)


# JSON paths (camelCase, under the cluster object) of fields encrypted at rest and never rendered.
SECRET_PATHS: tuple[tuple[str, ...], ...] = (
    ("properties", "clusterProfile", "pullSecret"),
    ("properties", "servicePrincipalProfile", "clientSecret"),
    ("properties", "kubeadminPassword"),
    ("properties", "adminKubeconfig"),
    ("properties", "clusterPki", "caKey"),
    ("properties", "clusterPki", "apiserverKey"),
)


class OpenShiftVersion(_Model):
    """An installable OpenShift version (the versions catalog)."""

    version: str
    enabled: bool = True
    default: bool = False

    @property
    def name(self) -> str:
        return self.version
