"""Paused reconciliation of hosted clusters and node pools (HyperShift's ``pausedUntil``, set by the admin
API): the kinds' ``Workflow.pause`` and the first step of their step lists.

- ``until``: ``true`` -> ``inf``; an RFC 3339 time still ahead -> its epoch seconds; ``false``, "", a time
  that has passed or an invalid value -> None (not paused; ``aro.api.hcp.pausing``).
- While paused, an operation other than a delete, an etcd backup or a restore waits (``aro.backend.
  operations``: the lease goes back until the pause ends, or every ``RECHECK_SECONDS`` to see it lifted
  sooner -- the admin PATCH that lifts it also wakes the operation at once); ``mark`` records
  ``ReconciliationActive=False`` (reason ``ReconciliationPaused``) on the resource.
- ``resumed(prefix, steps)`` puts ``{prefix}.reconciliation_active`` before a step list: once the steps run,
  the condition is True again (reason ``ReconciliationActive``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aro.api.hcp import pausing
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.etcdbackup import ETCD_BACKUP, ETCD_RESTORE
from aro.api.hcp.nodepool import NodePool
from aro.hcp.context import HostedContext
from aro.steps import Action, Pause, Step

RECHECK_SECONDS = 10.0
RUNS_WHILE_PAUSED = frozenset({ETCD_BACKUP, ETCD_RESTORE})

Hosted = HcpOpenShiftCluster | NodePool


def until(hub: Hosted, now: float) -> float | None:
    return pausing.paused_until(hub.properties.paused_until, now)


def mark(hub: Hosted, until: float) -> None:
    pausing.mark_paused(hub.properties.status.conditions, hub.properties.paused_until)


async def reconciliation_active(ctx: HostedContext[Any]) -> None:
    hub: Hosted = ctx.hub
    probe = hub.model_copy(deep=True)
    if not pausing.mark_active(probe.properties.status.conditions, probe.properties.paused_until):
        return

    def mutate(h: Hosted) -> None:
        pausing.mark_active(h.properties.status.conditions, h.properties.paused_until)

    await ctx.update(mutate)


def resumed(prefix: str, steps: Sequence[Step[Any]]) -> list[Step[Any]]:
    return [Action(f"{prefix}.reconciliation_active", reconciliation_active), *steps]


CLUSTER_PAUSE: Pause[HcpOpenShiftCluster] = Pause(
    until=until, mark=mark, recheck_seconds=RECHECK_SECONDS, runs_while_paused=RUNS_WHILE_PAUSED
)
NODE_POOL_PAUSE: Pause[NodePool] = Pause(until=until, mark=mark, recheck_seconds=RECHECK_SECONDS)
