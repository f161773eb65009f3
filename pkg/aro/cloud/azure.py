"""``cloud.mode: azure``: ``ArmCloud`` against a real (public, sovereign or private) Azure, with an
azure-identity credential, plus the optional blob store for install graphs.

Nothing here talks to Azure differently from the simulator: the same ``ArmCloud`` code runs against
``cloud.azure.armEndpoint`` with a bearer token from the credential. Pointing ``armEndpoint`` and
``authority`` at the simulator (which has an Entra-compatible token endpoint) exercises all of it::

    cloud = azure_cloud(config, sealer)     # an AzureCloud (an ArmCloud)
    ...
    await cloud.close()                     # closes the credential and the graph store too

Credential (``credential_for``), chosen by which keys are set:

- ``clientSecret`` (+ ``tenantId``, ``clientId``): ``ClientSecretCredential(tenant, client, secret,
  authority=authority)``;
- ``clientId`` alone: ``ManagedIdentityCredential(client_id=clientId)`` (a user-assigned identity);
- neither: ``DefaultAzureCredential(authority=authority)`` -- environment variables, workload identity,
  the system-assigned managed identity, the Azure CLI, in that order.

Console links (``console_link``, the SRE backplane's ``consoleLink``): the group's Azure portal page,
``{portal}/#@{tenantId}/resource/subscriptions/{sub}/resourceGroups/{rg}/overview`` -- the portal of the
cloud ``armEndpoint`` names (``portal_url_for``; public Azure's for any other endpoint), without ``@{tenantId}``
when ``tenantId`` is not set. (In ``cloud.mode: simulator`` ``ArmCloud`` mints a link to the simulator's web
console instead.)

Token scope (``arm_scope``): ``armScope`` if set; else the scope azure-mgmt-core knows for that ARM
endpoint (public, China, US Government -- whose audience is not its endpoint); else
``{armEndpoint}/.default``. Cluster API endpoints: ``https://api.{domain}.{location}.{clusterDomain}:6443``
unless ``clusterEndpointTemplate`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from azure.core.credentials_async import AsyncTokenCredential

from aro.cloud.arm import ArmCloud, AzureClusterEndpoints, ClusterEndpointStrategy
from aro.cloud.snapshots import FileSnapshotStore, SnapshotStore
from aro.env.config import AzureConfig, Config, ConfigError
from aro.util.crypto import Sealer

if TYPE_CHECKING:  # blob storage only when ``cloud.blob`` is configured (see graph_store_for)
    from aro.cloud.blob import GraphStore

__all__ = [
    "AzureCloud",
    "arm_scope",
    "azure_cloud",
    "credential_for",
    "graph_store_for",
    "portal_url_for",
    "snapshot_store_for",
]

SNAPSHOTS_DIRECTORY = "snapshots"  # under the data directory, without blob storage
_PORTALS = {  # ARM endpoint -> the Azure portal of that cloud
    "https://management.azure.com": "https://portal.azure.com",
    "https://management.usgovcloudapi.net": "https://portal.azure.us",
    "https://management.chinacloudapi.cn": "https://portal.azure.cn",
}


class AzureCloud(ArmCloud):
    """``ArmCloud`` plus what the RP process owns around it: credentials to close with it, the install
    graph store (``graph_store``; None when blob storage is not configured) and the snapshot store."""

    def __init__(
        self,
        *args: Any,
        graph_store: GraphStore | None = None,
        snapshot_store: SnapshotStore | None = None,
        owned: Sequence[AsyncTokenCredential] = (),
        portal_url: str | None = None,
        portal_tenant_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if portal_url:
            self.portal_url = portal_url
        self.portal_tenant_id = portal_tenant_id
        self.graph_store = graph_store
        self.snapshot_store = snapshot_store
        self._owned = tuple(owned)

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if self.graph_store is not None:
                await self.graph_store.close()
            if self.snapshot_store is not None:
                await self.snapshot_store.close()
            for credential in self._owned:
                await credential.close()


def credential_for(azure: AzureConfig) -> AsyncTokenCredential:
    """The RP's azure-identity (aio) credential; see the module docstring for the choice."""
    kwargs: dict[str, Any] = {"connection_verify": azure.ca_file} if azure.ca_file else {}
    if azure.client_secret:
        from azure.identity.aio import ClientSecretCredential

        assert azure.tenant_id and azure.client_id  # AzureConfig validates this
        return ClientSecretCredential(
            azure.tenant_id, azure.client_id, azure.client_secret, authority=azure.authority, **kwargs
        )
    if azure.client_id:
        from azure.identity.aio import ManagedIdentityCredential

        return ManagedIdentityCredential(client_id=azure.client_id, **kwargs)
    from azure.identity.aio import DefaultAzureCredential

    if azure.tenant_id:
        kwargs["additionally_allowed_tenants"] = [azure.tenant_id]
    return DefaultAzureCredential(authority=azure.authority, **kwargs)


def arm_scope(azure: AzureConfig) -> str:
    if azure.arm_scope:
        return azure.arm_scope
    from azure.core import AzureClouds
    from azure.mgmt.core.tools import get_arm_endpoints

    endpoint = azure.arm_endpoint.rstrip("/").lower()
    for cloud in AzureClouds:
        known = get_arm_endpoints(cloud)
        if str(known["resource_manager"]).rstrip("/").lower() == endpoint:
            return str(known["credential_scopes"][0])
    return f"{azure.arm_endpoint.rstrip('/')}/.default"


def portal_url_for(arm_endpoint: str) -> str:
    """The Azure portal of the cloud whose ARM endpoint this is (public Azure's when unknown)."""
    return _PORTALS.get(arm_endpoint.rstrip("/").lower(), _PORTALS["https://management.azure.com"])


def _cluster_endpoints(config: Config) -> ClusterEndpointStrategy | str:
    azure = config.cloud.azure
    if azure.cluster_endpoint_template:
        return azure.cluster_endpoint_template
    return AzureClusterEndpoints(config.location, azure.cluster_domain)


def graph_store_for(
    config: Config, sealer: Sealer, credential: AsyncTokenCredential | None = None
) -> GraphStore | None:
    """The install-graph store of ``cloud.blob``, or None when it is not configured. Without a key or a
    connection string it authenticates with ``credential`` (default: ``DefaultAzureCredential``)."""
    blob = config.cloud.blob
    if not blob.configured:
        return None
    from aro.cloud.blob import GraphStore

    try:
        return GraphStore.from_config(blob, sealer, credential, config.cloud.azure.ca_file)
    except ValueError as e:
        raise ConfigError(f"cloud.blob: {e}") from None


def snapshot_store_for(config: Config, sealer: Sealer, credential: AsyncTokenCredential | None = None) -> SnapshotStore:
    """The snapshot store: blob storage of ``cloud.blob`` when configured, else
    ``{dataDirectory}/snapshots`` (the embedded default)."""
    blob = config.cloud.blob
    if not blob.configured:
        return FileSnapshotStore(config.data_path / SNAPSHOTS_DIRECTORY, sealer)
    from aro.cloud.blob import BlobSnapshotStore

    try:
        return BlobSnapshotStore.from_config(blob, sealer, credential, config.cloud.azure.ca_file)
    except ValueError as e:
        raise ConfigError(f"cloud.blob: {e}") from None


def azure_cloud(config: Config, sealer: Sealer) -> AzureCloud:
    """The cloud for ``cloud.mode: azure``."""
    azure = config.cloud.azure
    if not azure.arm_endpoint.startswith("https://"):
        raise ConfigError(f"cloud.azure.armEndpoint: must be an https URL (got {azure.arm_endpoint!r})")
    try:
        credential = credential_for(azure)
    except ValueError as e:  # e.g. a malformed tenant id or authority
        raise ConfigError(f"cloud.azure: {e}") from None
    return AzureCloud(
        azure.arm_endpoint,
        credential,
        azure.ca_file,
        _cluster_endpoints(config),
        credential_scopes=[arm_scope(azure)],
        retry_total=config.cloud.retry_total,
        retry_backoff_factor=config.cloud.retry_backoff_factor,
        authorization_retry_seconds=azure.authorization_retry_seconds,
        authorization_retry_interval=azure.authorization_retry_interval_seconds,
        management_url=config.cloud.management_cluster_url,
        graph_store=graph_store_for(config, sealer, credential),
        snapshot_store=snapshot_store_for(config, sealer, credential),
        owned=[credential],
        portal_url=portal_url_for(azure.arm_endpoint),
        portal_tenant_id=azure.tenant_id,
    )
