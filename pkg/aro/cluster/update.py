"""Update: reconcile worker counts (2019-12-31-preview scale), outbound IPs, rotated credentials and
tags onto the cloud, then record the cluster data again."""

from __future__ import annotations

from aro.cluster.common import api_ready, deploy_resources, remove_surplus_resources, update_cluster_data
from aro.cluster.context import ClusterContext
from aro.cluster.steps import Action, Condition, Step


async def reconcile_tags(ctx: ClusterContext) -> None:
    """Mirror the cluster's tags onto its managed resource group (idempotent)."""
    sub, rg = ctx.managed_resource_group
    tags = {"aro-cluster": ctx.oc.name, **ctx.oc.tags}
    await ctx.cloud.create_resource_group(sub, rg, ctx.oc.location, ctx.oc.id, tags)


def _timeout(ctx: ClusterContext) -> float:
    return ctx.timeouts.condition_seconds


def _poll(ctx: ClusterContext) -> float:
    return ctx.timeouts.poll_seconds


STEPS: list[Step[ClusterContext]] = [
    Action(reconcile_tags),
    Action(deploy_resources),  # new workers, outbound IPs, credentials in resource properties
    Action(remove_surplus_resources),
    Condition(api_ready, _timeout, _poll, "The cluster API server did not become ready in time."),
    Action(update_cluster_data),
]
