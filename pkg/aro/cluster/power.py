"""Hibernation of a classic cluster (``aro.api.power``): the admin's powerState runs as an AdminUpdate
whose first steps stop or start every VM of the cluster's managed resource group (masters and workers;
the API server stops with the masters), ahead of the maintenance task's steps (which pass when the admin
update carries no task).

- ``hibernation.deallocate_vms``: when ``requestedPowerState`` is Hibernating (``powerState`` already is,
  since the PATCH), every VM and scale set of the group is deallocated (``Cloud.deallocate_machines``);
- ``hibernation.start_vms``: when it is Running, every one is started, and only then ``powerState``
  becomes Running (one lease-checked write after the starts) -- so until a resume has started the VMs the
  cluster counts as hibernating, whatever line a crash interrupts;
- ``hibernation.api_ready`` / ``hibernation.nodes_ready`` (a resume only): the API server answers and every
  node is Ready again;
- ``hibernation.finish``: ``requestedPowerState`` is cleared (a failed power change keeps it, so the
  admin's retry -- the same request, accepted after a failure -- or the next update carries it out again).

Every step is idempotent: deallocating a deallocated VM or starting a running one changes nothing, and the
writes compare before they write.

A customer update of a hibernating cluster (``while_hibernating``) deploys as usual (Azure updates a
deallocated VM without starting it), passes over what needs the stopped API server, and ends by
deallocating whatever VM the deployment created or started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from aro.api.cluster import OpenShiftCluster, is_hibernating
from aro.api.power import HIBERNATING, RUNNING
from aro.cluster.common import api_ready
from aro.cluster.context import ClusterContext
from aro.steps import Action, Condition, Step
from aro.util import kubeconfig


def _requested(ctx: ClusterContext) -> str:
    return ctx.oc.properties.requested_power_state


async def deallocate_vms(ctx: ClusterContext) -> None:
    if _requested(ctx) != HIBERNATING:
        return
    sub, rg = ctx.managed_resource_group
    await ctx.cloud.deallocate_machines(sub, rg)


async def start_vms(ctx: ClusterContext) -> None:
    if _requested(ctx) != RUNNING:
        return
    sub, rg = ctx.managed_resource_group
    await ctx.cloud.start_machines(sub, rg)
    if ctx.oc.properties.power_state != RUNNING:
        await ctx.update(lambda oc: setattr(oc.properties, "power_state", RUNNING))


async def resumed_api_ready(ctx: ClusterContext) -> bool:
    return _requested(ctx) != RUNNING or await api_ready(ctx)


def node_ready(node: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


async def resumed_nodes_ready(ctx: ClusterContext) -> bool:
    if _requested(ctx) != RUNNING:
        return True
    credentials = kubeconfig.client_credentials(ctx.oc.properties.admin_kubeconfig)
    nodes = await ctx.cloud.cluster_nodes(ctx.endpoint, *credentials)
    return bool(nodes) and all(node_ready(n) for n in nodes)


async def finish(ctx: ClusterContext) -> None:
    if _requested(ctx):
        await ctx.update(lambda oc: setattr(oc.properties, "requested_power_state", ""))


STEPS: list[Step[ClusterContext]] = [
    Action("hibernation.deallocate_vms", deallocate_vms),
    Action("hibernation.start_vms", start_vms),
    Condition(
        "hibernation.api_ready",
        resumed_api_ready,
        ClusterContext.condition_timeout,
        ClusterContext.poll_interval,
        "The cluster API server did not become ready again after the resume.",
    ),
    Condition(
        "hibernation.nodes_ready",
        resumed_nodes_ready,
        ClusterContext.condition_timeout,
        ClusterContext.poll_interval,
        "The cluster's nodes did not become Ready again after the resume.",
    ),
    Action("hibernation.finish", finish),
]


# --- other operations on a hibernating cluster ---------------------------------------------------------


def stays_stopped(oc: OpenShiftCluster) -> bool:
    """Hibernating, and no resume is under way."""
    return is_hibernating(oc) and oc.properties.requested_power_state != RUNNING


async def keep_hibernating(ctx: ClusterContext) -> None:
    """Deallocate every VM again while the cluster hibernates (an update may have created or started one)."""
    if stays_stopped(ctx.oc):
        sub, rg = ctx.managed_resource_group
        await ctx.cloud.deallocate_machines(sub, rg)


def _skipped(step: Step[ClusterContext]) -> Step[ClusterContext]:
    """The step, passing at once (same id) while the cluster hibernates."""
    if isinstance(step, Action):
        act: Callable[[ClusterContext], Awaitable[None]] = step.fn

        async def run(ctx: ClusterContext) -> None:
            if not stays_stopped(ctx.oc):
                await act(ctx)

        return Action(step.id, run)
    check: Callable[[ClusterContext], Awaitable[bool]] = step.fn

    async def poll(ctx: ClusterContext) -> bool:
        return stays_stopped(ctx.oc) or await check(ctx)

    return Condition(step.id, poll, step.timeout, step.interval, step.message)


def while_hibernating(
    prefix: str,
    steps: Sequence[Step[ClusterContext]],
    needs_api: Collection[Callable[[ClusterContext], Awaitable[None]]] = (),
) -> list[Step[ClusterContext]]:
    """``steps`` made to run on a hibernating cluster too: its conditions (they wait for the cluster's API)
    and the actions in ``needs_api`` pass at once while it hibernates, and ``{prefix}.keep_hibernating``
    deallocates at the end whatever VM the steps created or started."""
    out = [_skipped(s) if isinstance(s, Condition) or s.fn in needs_api else s for s in steps]
    return [*out, Action(f"{prefix}.keep_hibernating", keep_hibernating)]
