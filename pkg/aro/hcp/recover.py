"""Repairing a hosted control plane between operations (seed 8.1, an etcd member failure).

``check`` (the workflow's monitor, ``aro.backend.monitor``) looks at the control plane's pods on the
management cluster; an etcd member that is not Running starts a ``Recover`` operation. Its steps record
``EtcdAvailable=False`` (reason ``EtcdMemberFailed``, naming the members), replace each failed member with a
fresh pod at the cluster's release (a member already replaced is left alone: the step reruns safely), wait
until every member runs, and record ``EtcdAvailable=True`` again.
"""

from __future__ import annotations

from typing import Any

from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.hcp import controlplane, status
from aro.hcp.context import HostedContext, wait
from aro.steps import Action, Step, StepEnv

Ctx = HostedContext[HcpOpenShiftCluster]
RECOVER = "Recover"
ETCD = "etcd"


def _failed_members(pods: list[dict[str, Any]]) -> list[str]:
    members = {f"{ETCD}-{i}" for c, n in controlplane.COMPONENTS if c == ETCD for i in range(n)}
    seen = {p["metadata"]["name"]: (p.get("status") or {}).get("phase") for p in pods}
    return sorted(m for m in members if seen.get(m) in ("Failed", "Unknown", None))


async def check(env: StepEnv, oc: HcpOpenShiftCluster) -> str | None:
    ns = oc.properties.management_namespace
    if not ns or not oc.properties.release:
        return None
    pods = await env.cloud.management_cluster().list("pods", ns)
    return RECOVER if _failed_members(pods) else None


async def mark_degraded(ctx: Ctx) -> None:
    failed = _failed_members(await ctx.management().list("pods", ctx.hub.properties.management_namespace))
    if not failed:
        return
    message = f"etcd member(s) {', '.join(failed)} failed; replacing them."

    def mutate(oc: HcpOpenShiftCluster) -> None:
        status.set_condition(oc.properties.status.conditions, "EtcdAvailable", "False", "EtcdMemberFailed", message)
        status.set_condition(oc.properties.status.conditions, "Degraded", "True", "EtcdMemberFailed", message)

    await ctx.update(mutate)


async def replace_members(ctx: Ctx) -> None:
    p = ctx.hub.properties
    mc = ctx.management()
    failed = set(_failed_members(await mc.list("pods", p.management_namespace)))
    for pod in controlplane.pods(p.management_namespace, p.release or p.desired_release):
        name = pod["metadata"]["name"]
        if name in failed:
            await mc.delete("pods", name, p.management_namespace)
            await mc.apply("pods", pod)


async def members_running(ctx: Ctx) -> bool:
    pods = await ctx.management().list("pods", ctx.hub.properties.management_namespace)
    etcd = [p for p in pods if p["metadata"]["name"].startswith(f"{ETCD}-")]
    return (
        bool(etcd)
        and not _failed_members(pods)
        and all((p.get("status") or {}).get("phase") == "Running" for p in etcd)
    )


async def mark_available(ctx: Ctx) -> None:
    def mutate(oc: HcpOpenShiftCluster) -> None:
        conditions = oc.properties.status.conditions
        status.set_condition(
            conditions, "EtcdAvailable", "True", "EtcdQuorumAvailable", "Every etcd member is running."
        )
        status.set_condition(conditions, "Degraded", "False", "AsExpected", "")

    await ctx.update(mutate)


STEPS: list[Step[Ctx]] = [
    Action("hcp.recover.mark_degraded", mark_degraded),
    Action("hcp.recover.replace_members", replace_members),
    wait("hcp.recover.members_running", members_running, "The etcd members did not come back."),
    Action("hcp.recover.mark_available", mark_available),
]
