"""The hub model of an ARO-HCP hosted cluster (``hcpOpenShiftClusters``).

Every field of the SDK's ``HcpOpenShiftClusterProperties`` (snake_case here, camelCase in the document),
plus what only the backend writes (``cluster_id``, ``management_namespace``, the break-glass signer, the
issued credentials, the revocation in flight). Backend-only fields are never accepted from a request and
never rendered; ``SECRET_PATHS`` are sealed at rest.
"""

from __future__ import annotations

from pydantic import Field

from aro.api.hcp.common import ManagedServiceIdentity, ResourceStatus, VersionProfile
from aro.api.power import RUNNING, hibernating
from aro.api.resource import RESOURCE_PROVIDER, Model, Resource, ResourceProperties

RESOURCE_TYPE = f"{RESOURCE_PROVIDER}/hcpOpenShiftClusters"

# The asynchronous actions' requests (the workflow names a step list for each).
REQUEST_CREDENTIAL = "RequestCredential"
REVOKE_CREDENTIALS = "RevokeCredentials"


class DnsProfile(Model):
    base_domain: str = ""  # set by the backend
    base_domain_prefix: str = ""


class NetworkProfile(Model):
    network_type: str = ""  # OVNKubernetes | Other
    pod_cidr: str = ""
    service_cidr: str = ""
    machine_cidr: str = ""
    host_prefix: int = 0


class ConsoleProfile(Model):
    url: str = ""  # set by the backend


class ApiProfile(Model):
    url: str = ""  # set by the backend
    visibility: str = ""  # Public | Private
    authorized_cidrs: list[str] | None = None  # None: not restricted


class IngressProfile(Model):
    type: str = ""  # Public | Private | Disabled


class UserAssignedIdentitiesProfile(Model):
    control_plane_operators: dict[str, str] = Field(default_factory=dict)  # operator -> UAMI resource id
    data_plane_operators: dict[str, str] = Field(default_factory=dict)  # operator -> UAMI resource id
    service_managed_identity: str = ""  # UAMI resource id


class OperatorsAuthenticationProfile(Model):
    user_assigned_identities: UserAssignedIdentitiesProfile = Field(default_factory=UserAssignedIdentitiesProfile)


class ContainerRegistryProfile(Model):
    managed_identity: str = ""  # UAMI resource id


class PlatformProfile(Model):
    managed_resource_group: str = ""  # a name, not an id
    subnet_id: str = ""
    vnet_integration_subnet_id: str = ""
    outbound_type: str = ""  # LoadBalancer
    network_security_group_id: str = ""
    operators_authentication: OperatorsAuthenticationProfile = Field(default_factory=OperatorsAuthenticationProfile)
    container_registry: ContainerRegistryProfile | None = None
    issuer_url: str = ""  # set by the backend (the cluster's OIDC issuer)


class ClusterAutoscalingProfile(Model):
    max_nodes_total: int = 0  # 0: no limit of its own
    max_pod_grace_period_seconds: int = 0
    max_node_provision_time_seconds: int = 0
    pod_priority_threshold: int = 0


class KmsKey(Model):
    name: str = ""
    version: str = ""


class KmsEncryptionProfile(Model):
    vault_name: str = ""
    visibility: str = ""  # Public | Private
    active_key: KmsKey = Field(default_factory=KmsKey)
    key_vault_type: str = ""  # KeyVault | ManagedHSM


class CustomerManagedEncryptionProfile(Model):
    encryption_type: str = ""  # KMS
    kms: KmsEncryptionProfile | None = None


class EtcdDataEncryptionProfile(Model):
    key_management_mode: str = ""  # CustomerManaged | PlatformManaged (the default when etcd is omitted)
    customer_managed: CustomerManagedEncryptionProfile | None = None


class EtcdProfile(Model):
    data_encryption: EtcdDataEncryptionProfile = Field(default_factory=EtcdDataEncryptionProfile)


class ImageDigestMirror(Model):
    source: str = ""
    mirrors: list[str] = Field(default_factory=list)


class ClusterImageRegistryProfile(Model):
    state: str = ""  # Enabled | Disabled


class SignerPKI(Model):
    """The break-glass client CA the backend signs admin credentials with (``ca_key``: secret)."""

    ca_cert: str = ""  # PEM
    ca_key: str = ""  # PEM
    revocation: str = ""  # the revokeCredentials operation this CA was made for ("" = the first one)


class CredentialIssue(Model):
    """One requestAdminCredential: the frontend records ``operation_id`` and ``csr``; the backend signs it
    (``kubeconfig`` without the private key, ``expiration_timestamp``, ``issued_at``) and marks it revoked."""

    operation_id: str = ""
    csr: str = ""  # PEM CERTIFICATE REQUEST
    kubeconfig: str = ""
    expiration_timestamp: str = ""  # RFC 3339
    issued_at: str = ""  # RFC 3339
    revoked: bool = False


class ControlPlanePod(Model):
    """One pod of the control plane on the management cluster, as the backend last saw it."""

    name: str = ""
    phase: str = ""  # Pending | Running | ...
    release: str = ""  # X.Y.Z


class EtcdBackup(Model):
    """One etcd backup (an admin action): where its snapshot is, when it was taken."""

    id: str = ""  # the backup operation's id
    snapshot_url: str = ""
    created_at: str = ""  # RFC 3339
    objects: int = 0  # how many API objects the snapshot holds


class EtcdRestore(Model):
    """One etcd restore (an admin action): the frontend records the request, the backend its outcome."""

    id: str = ""  # the restore operation's id
    snapshot_url: str = ""
    requested_at: str = ""  # RFC 3339
    restored_at: str = ""  # RFC 3339, once done
    created: int = 0  # API objects created, replaced and deleted to match the snapshot
    replaced: int = 0
    deleted: int = 0


class HcpOpenShiftClusterProperties(ResourceProperties):
    version: VersionProfile = Field(default_factory=VersionProfile)
    dns: DnsProfile = Field(default_factory=DnsProfile)
    network: NetworkProfile = Field(default_factory=NetworkProfile)
    console: ConsoleProfile = Field(default_factory=ConsoleProfile)
    api: ApiProfile = Field(default_factory=ApiProfile)
    ingress: IngressProfile = Field(default_factory=IngressProfile)
    platform: PlatformProfile = Field(default_factory=PlatformProfile)
    autoscaling: ClusterAutoscalingProfile = Field(default_factory=ClusterAutoscalingProfile)
    etcd: EtcdProfile = Field(default_factory=EtcdProfile)
    image_digest_mirrors: list[ImageDigestMirror] = Field(default_factory=list)
    node_drain_timeout_minutes: int = 0
    cluster_image_registry: ClusterImageRegistryProfile = Field(default_factory=ClusterImageRegistryProfile)
    crypto_restrictions: str = ""  # None | FIPS
    status: ResourceStatus = Field(default_factory=ResourceStatus)  # set by the backend

    # Set by the backend; never accepted from a request, never rendered.
    cluster_id: str = ""  # the OpenShift cluster id (a uuid)
    management_namespace: str = ""
    signer: SignerPKI | None = None  # secret
    credentials: list[CredentialIssue] = Field(default_factory=list)  # secret
    revocation_operation_id: str | None = None  # a revokeCredentials in flight
    desired_release: str = ""  # X.Y.Z the control plane is being moved to (newest enabled of version.id)
    release: str = ""  # X.Y.Z the control plane runs
    control_plane: list[ControlPlanePod] = Field(default_factory=list)  # as last observed (the admin view)

    # Set by the admin API (day 2); never accepted from a public request, never rendered.
    paused_until: str = ""  # HyperShift's pausedUntil: "true", "false", an RFC 3339 time; "" = not paused
    feature_set: str = ""  # "" (Default) | TechPreviewNoUpgrade (irreversible)
    desired_version: str = ""  # an admin-chosen X.Y.Z (a z-stream) instead of the newest of version.id
    backups: list[EtcdBackup] = Field(default_factory=list)  # etcd backups taken (newest last)
    restores: list[EtcdRestore] = Field(default_factory=list)  # etcd restores requested (newest last)
    # Hibernation (``aro.api.power``): the node pools' VMs stopped; the control plane keeps running.
    power_state: str = RUNNING  # Running | Hibernating (from the admin's request until a resume started the VMs)
    requested_power_state: str = ""  # the power change an operation carries out (Running | Hibernating); ""


class HcpOpenShiftCluster(Resource):
    """The hub type of ``hcpOpenShiftClusters``."""

    type: str = RESOURCE_TYPE
    identity: ManagedServiceIdentity | None = None
    properties: HcpOpenShiftClusterProperties = Field(default_factory=HcpOpenShiftClusterProperties)


def is_hibernating(oc: HcpOpenShiftCluster) -> bool:
    """Whether the hosted cluster is hibernating: from the admin's hibernate request until a resume has
    started its node pools' VMs (``properties.powerState`` other than Running). Logins and managed jobs
    are refused then."""
    return hibernating(oc.properties.power_state)


# JSON paths (camelCase, under the cluster object) of fields sealed at rest and never rendered.
SECRET_PATHS: tuple[tuple[str, ...], ...] = (("properties", "signer"), ("properties", "credentials"))
