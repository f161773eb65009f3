"""What every step gets: the cluster (as last persisted), the cloud, and a lease-checked save."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aro.api.cluster import OpenShiftCluster
from aro.cloud.base import Cloud, ClusterEndpoint
from aro.database.store import Container

Mutation = Callable[[OpenShiftCluster], None]


@dataclass
class Timeouts:
    condition_seconds: float = 1800.0
    poll_seconds: float = 5.0


@dataclass
class ClusterContext:
    oc: OpenShiftCluster
    cloud: Cloud
    save: Callable[[Mutation], Awaitable[OpenShiftCluster]]  # lease-checked; returns the stored cluster
    billing: Container
    cluster_doc_id: str
    timeouts: Timeouts
    tenant_id: str = ""

    async def update(self, mutate: Mutation) -> None:
        """Persist a change to the cluster (lease-checked) and refresh ``oc``."""
        self.oc = await self.save(mutate)

    # --- derived facts -----------------------------------------------------------------------------

    @property
    def subscription_id(self) -> str:
        return self.oc.id.split("/")[2]

    @property
    def managed_resource_group(self) -> tuple[str, str]:
        """(subscription, name) of the cluster's managed resource group (clusterProfile.resourceGroupId)."""
        parts = self.oc.properties.cluster_profile.resource_group_id.split("/")
        return parts[2], parts[4]

    @property
    def endpoint(self) -> ClusterEndpoint:
        sub, rg = self.managed_resource_group
        return self.cloud.cluster_endpoint(sub, rg, self.oc.properties.cluster_profile.domain)
