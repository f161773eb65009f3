"""What a hosted cluster's admin settings do in its update (``aro.api.hcp.admin`` records them):

- ``feature_set``: a cluster with ``TechPreviewNoUpgrade`` shows condition ``TechPreviewNoUpgrade`` (True,
  reason ``FeatureSetEnabled``); the upgrade block itself is the version package's validation.
- ``desired_version`` is the release selection's (``aro.hcp.cluster.release_for``): the admin's z-stream of
  ``version.id`` instead of the newest enabled one.

The step is idempotent: it compares before it writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aro.api.hcp import featureset
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.hcp.context import HostedContext
from aro.steps import Action, Step

Ctx = HostedContext[HcpOpenShiftCluster]


async def feature_set(ctx: Ctx) -> None:
    probe = ctx.hub.model_copy(deep=True)
    if not featureset.mark(probe.properties.status.conditions, probe.properties.feature_set):
        return

    def mutate(oc: HcpOpenShiftCluster) -> None:
        featureset.mark(oc.properties.status.conditions, oc.properties.feature_set)

    await ctx.update(mutate)


def with_feature_set(prefix: str, steps: Sequence[Step[Any]]) -> list[Step[Any]]:
    return [Action(f"{prefix}.feature_set", feature_set), *steps]
