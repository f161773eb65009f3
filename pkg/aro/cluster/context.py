"""What every cluster step gets: the cluster (as last persisted), the cloud, and a lease-checked save."""

from __future__ import annotations

from dataclasses import dataclass

from aro.api.cluster import OpenShiftCluster
from aro.cloud.base import Cloud, ClusterEndpoint
from aro.database.containers import BILLING
from aro.database.store import Container
from aro.steps import Mutation, Saver, StepEnv, Target, Timeouts


@dataclass
class ClusterContext:
    oc: OpenShiftCluster
    cloud: Cloud
    save: Saver[OpenShiftCluster]  # lease-checked; returns the stored cluster
    billing: Container
    cluster_doc_id: str
    timeouts: Timeouts
    env: StepEnv
    tenant_id: str = ""

    @classmethod
    def of(cls, env: StepEnv, target: Target[OpenShiftCluster]) -> ClusterContext:
        return cls(
            oc=target.hub,
            cloud=env.cloud,
            save=target.save,
            billing=env.store.container(BILLING.name),
            cluster_doc_id=target.doc_id,
            timeouts=env.timeouts,
            env=env,
        )

    async def update(self, mutate: Mutation[OpenShiftCluster]) -> None:
        """Persist a change to the cluster (lease-checked) and refresh ``oc``."""
        self.oc = await self.save(mutate)

    @property
    def hub(self) -> OpenShiftCluster:
        return self.oc

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

    def condition_timeout(self) -> float:
        return self.timeouts.condition_seconds

    def poll_interval(self) -> float:
        return self.timeouts.poll_seconds
