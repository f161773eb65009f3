"""Hibernation of a hosted cluster (``aro.api.power``): the admin's powerState runs as an Update whose last
steps stop or start every VM of the cluster -- its node pools' scale sets in the managed resource group;
the control plane keeps running on the management cluster.

- ``hcp.update.hibernate``: when ``requestedPowerState`` is Hibernating (``powerState`` already is, since
  the PATCH), every scale set of the managed resource group is deallocated (``Cloud.deallocate_machines``);
- ``hcp.update.resume``: when it is Running, every one is started, and only then ``powerState`` becomes
  Running (one lease-checked write after the starts: a crash at any line leaves the cluster hibernating
  until a resume has started its VMs);
- ``hcp.update.resumed_nodes_ready`` (a resume only): every node of the hosted cluster is Ready again;
- ``hcp.update.power_finish``: ``requestedPowerState`` is cleared (a failed change keeps it: the admin's
  retry, or the cluster's next update, carries it out again).

Node pools of a hibernating cluster (``node_pool_steps``): a created or scaled pool's scale set is
deallocated right after it is written (``nodepool.{create,update}.keep_hibernating``) and its nodes are not
waited for; a change that needs new machines (version, VM size) cannot roll while the nodes are stopped:
the update fails with 409 ``Conflict`` saying to resume the cluster first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.cluster import HcpOpenShiftCluster, is_hibernating
from aro.api.hcp.nodepool import NodePool
from aro.api.power import HIBERNATING, RUNNING
from aro.hcp import nodepool, rollout
from aro.hcp.cluster import managed_resource_group
from aro.hcp.context import HostedContext, wait
from aro.steps import Action, Condition, Step

Ctx = HostedContext[HcpOpenShiftCluster]
PoolCtx = HostedContext[NodePool]


def stays_stopped(oc: HcpOpenShiftCluster) -> bool:
    """Hibernating, and no resume is under way."""
    return is_hibernating(oc) and oc.properties.requested_power_state != RUNNING


async def hibernate(ctx: Ctx) -> None:
    if ctx.hub.properties.requested_power_state != HIBERNATING:
        return
    sub, rg = managed_resource_group(ctx.hub)
    await ctx.cloud.deallocate_machines(sub, rg)


async def resume(ctx: Ctx) -> None:
    if ctx.hub.properties.requested_power_state != RUNNING:
        return
    sub, rg = managed_resource_group(ctx.hub)
    await ctx.cloud.start_machines(sub, rg)
    if ctx.hub.properties.power_state != RUNNING:
        await ctx.update(lambda oc: setattr(oc.properties, "power_state", RUNNING))


async def resumed_nodes_ready(ctx: Ctx) -> bool:
    if ctx.hub.properties.requested_power_state != RUNNING:
        return True
    nodes = await ctx.hosted_api(ctx.hub).list("nodes")
    return all(rollout.node_ready(n) for n in nodes)


async def finish(ctx: Ctx) -> None:
    if ctx.hub.properties.requested_power_state:
        await ctx.update(lambda oc: setattr(oc.properties, "requested_power_state", ""))


CLUSTER_STEPS: list[Step[Ctx]] = [
    Action("hcp.update.hibernate", hibernate),
    Action("hcp.update.resume", resume),
    wait("hcp.update.resumed_nodes_ready", resumed_nodes_ready, "The node pools' nodes did not become Ready again."),
    Action("hcp.update.power_finish", finish),
]


# --- node pools of a hibernating cluster ------------------------------------------------------------------


async def keep_pool_hibernating(ctx: PoolCtx) -> None:
    """While the cluster hibernates, its VMs stay deallocated: a pool's new or scaled scale set too."""
    cluster = await ctx.cluster()
    if stays_stopped(cluster):
        sub, rg = managed_resource_group(cluster)
        await ctx.cloud.deallocate_machines(sub, rg)


async def pool_nodes_ready(ctx: PoolCtx) -> bool:
    return stays_stopped(await ctx.cluster()) or await nodepool.nodes_ready(ctx)


async def roll_pool_nodes(ctx: PoolCtx) -> bool:
    if not stays_stopped(await ctx.cluster()):
        return await nodepool.roll_nodes(ctx)
    current = nodepool._current(ctx.hub)
    if all(current(n) for n in await nodepool.pool_nodes(ctx)):
        return True  # nothing to roll
    raise CloudError(
        409,
        errors.CONFLICT,
        "The node pool's nodes cannot roll to a new version or VM size while the cluster is hibernating: "
        "resume the cluster first, then update the node pool again.",
    )


def node_pool_steps(steps: Sequence[Step[PoolCtx]]) -> list[Step[PoolCtx]]:
    """A node pool's create or update list made hibernation-aware (same step ids, one more step)."""
    out: list[Step[PoolCtx]] = []
    for step in steps:
        if isinstance(step, Condition) and step.fn in (nodepool.nodes_ready, nodepool.roll_nodes):
            fn: Any = pool_nodes_ready if step.fn is nodepool.nodes_ready else roll_pool_nodes
            out.append(Condition(step.id, fn, step.timeout, step.interval, step.message))
            continue
        out.append(step)
        if isinstance(step, Action) and step.fn is nodepool.apply_scale_set:
            prefix = step.id.rsplit(".", 1)[0]
            out.append(Action(f"{prefix}.keep_hibernating", keep_pool_hibernating))
    return out
