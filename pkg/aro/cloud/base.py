"""The cloud boundary: the one small interface the install/update/delete steps call.

There is one production implementation, ``aro.cloud.arm.ArmCloud`` (azure-mgmt-resource + httpx). It talks
to Azure, or -- by endpoint and credential only -- to the built-in simulator (``aro.cloud.simulator``),
which speaks the same ARM REST protocol. The steps cannot tell the two apart.

Errors: ARM failures surface as ``aro.api.errors.CloudError`` carrying the ARM error code and message
(e.g. ``DeploymentFailed`` with the failing resource's error in ``details``); an error expected to clear by
itself (429/5xx after the SDK's retries, an unreachable endpoint) is marked ``temporary``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from aro.cloud.blob import GraphStore
    from aro.cloud.kube import KubeAPI
    from aro.cloud.snapshots import SnapshotStore


@dataclass(frozen=True)
class ResourceGroup:
    id: str
    name: str
    location: str
    managed_by: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterEndpoint:
    """Where a cluster's API server answers, and the CA (PEM) that verifies its serving certificate."""

    url: str
    ca_pem: str


class Cloud(Protocol):
    # Blob storage for the sealed install graph; None when it is not configured (the step is skipped).
    graph_store: GraphStore | None
    # Sealed snapshots (hosted clusters' etcd backups): Blob storage when configured, else the data
    # directory; None only where no store was given (the backup fails, saying so).
    snapshot_store: SnapshotStore | None
    # How the install treats the customer's network (``aro.cluster.network``): "all" -- check the vnet and
    # subnets and attach the cluster's NSG (always against Azure); "held" -- the same for the vnets the cloud
    # holds, a vnet it does not hold taken on trust; "off" (the simulator's ``cloud.simulator.networkChecks``).
    network_checks: str

    async def get_resource_group(self, subscription_id: str, name: str) -> ResourceGroup | None: ...

    async def create_resource_group(
        self, subscription_id: str, name: str, location: str, managed_by: str, tags: dict[str, str]
    ) -> ResourceGroup: ...

    async def delete_resource_group(self, subscription_id: str, name: str) -> None:
        """Delete the group and everything in it; wait until gone. Absent group: no-op."""
        ...

    async def deploy(
        self,
        subscription_id: str,
        resource_group: str,
        name: str,
        template: dict[str, Any],
        parameters: dict[str, Any],
    ) -> dict[str, Any]:
        """Incremental template deployment; waits for the LRO; returns the outputs (name -> value)."""
        ...

    async def list_resources(self, subscription_id: str, resource_group: str) -> list[dict[str, Any]]: ...

    async def get_resource(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        """One resource by id (ARM's JSON), None when absent; a collection's id (a scale set's
        ``.../virtualMachines``) answers ``{"value": [...]}`` with every page."""
        ...

    async def delete_resource(self, resource_id: str, api_version: str) -> None:
        """Delete one resource by id and wait; absent: no-op."""
        ...

    # -- hibernation: every VM and VM scale set of a resource group (all its instances), at once -----------

    async def deallocate_machines(self, subscription_id: str, resource_group: str) -> list[str]:
        """Deallocate (stop, releasing the compute) every VM and VM scale set of the group and wait for
        each; the ids acted on. Idempotent (a deallocated machine stays so); an absent group: []."""
        ...

    async def start_machines(self, subscription_id: str, resource_group: str) -> list[str]:
        """Start every VM and VM scale set of the group and wait for each; the ids acted on. Idempotent."""
        ...

    def cluster_endpoint(self, subscription_id: str, resource_group: str, domain: str) -> ClusterEndpoint:
        """The API endpoint a cluster installed into ``resource_group`` will serve on."""
        ...

    async def cluster_ready(self, endpoint: ClusterEndpoint) -> bool:
        """True once the cluster API answers /readyz with 200."""
        ...

    async def cluster_nodes(
        self, endpoint: ClusterEndpoint, cert_pem: str = "", key_pem: str = ""
    ) -> list[dict[str, Any]]:
        """The cluster's Node objects (Kubernetes JSON)."""
        ...

    def management_cluster(self) -> KubeAPI:
        """The Kubernetes API of the management cluster that runs hosted control planes (as namespaces of
        pods); CloudError when none is configured."""
        ...

    def hosted_endpoint(self, namespace: str) -> ClusterEndpoint:
        """Where the API of the hosted cluster whose control plane runs in ``namespace`` answers."""
        ...

    def cluster_api(self, endpoint: ClusterEndpoint, cert_pem: str, key_pem: str) -> KubeAPI:
        """A cluster's API, authenticated by a client certificate (closed with the cloud)."""
        ...

    async def put_resource(self, resource_id: str, api_version: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace one resource by id and wait for it."""
        ...

    async def console_link(self, subscription_id: str, resource_group: str, ttl_seconds: int) -> str:
        """A browser link to the group's cloud console (the SRE backplane's ``consoleLink``): against Azure
        its portal page; against the simulator a signed link to the simulator's web console that expires
        after ``ttl_seconds`` (1..3600)."""
        ...

    async def close(self) -> None: ...
