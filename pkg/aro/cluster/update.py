"""Update: the identities of a workload identity cluster (``identities``), reconcile worker counts
(2019-12-31-preview scale), outbound IPs, rotated credentials and tags onto the cloud, then record the
cluster data again."""

from __future__ import annotations

from aro.cluster import identities
from aro.cluster.common import api_ready, deploy_resources, remove_surplus_resources, update_cluster_data
from aro.cluster.context import ClusterContext
from aro.steps import Action, Condition, Step


async def reconcile_tags(ctx: ClusterContext) -> None:
    """Mirror the cluster's tags onto its managed resource group (idempotent)."""
    sub, rg = ctx.managed_resource_group
    tags = {"aro-cluster": ctx.oc.name, **ctx.oc.tags}
    await ctx.cloud.create_resource_group(sub, rg, ctx.oc.location, ctx.oc.id, tags)


STEPS: list[Step[ClusterContext]] = [
    # A changed identity: its ids, its role assignments and federated credentials (ARO-RP's Update).
    Action("update.workload_identity_ids", identities.resolve_identities),
    Action("update.workload_identity_role_assignments", identities.ensure_role_assignments),
    Action("update.federate_identity_credentials", identities.federate_identities),
    Action("update.reconcile_tags", reconcile_tags),
    Action("update.deploy_resources", deploy_resources),  # new workers, outbound IPs, credentials in properties
    Action("update.remove_surplus_resources", remove_surplus_resources),
    Condition(
        "update.api_ready",
        api_ready,
        ClusterContext.condition_timeout,
        ClusterContext.poll_interval,
        "The cluster API server did not become ready in time.",
    ),
    Action("update.update_cluster_data", update_cluster_data),
]
