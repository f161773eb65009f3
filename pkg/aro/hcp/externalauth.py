"""An external auth's steps: its issuer configuration as a config map in the cluster's control-plane
namespace (what the hosted API server's authenticator reads), then status; delete removes it."""

from __future__ import annotations

import json
from typing import Any

from aro.api.hcp.externalauth import ExternalAuth
from aro.hcp import status
from aro.hcp.context import HostedContext
from aro.steps import Action, Step

Ctx = HostedContext[ExternalAuth]


def config_map(ea: ExternalAuth, namespace: str) -> dict[str, Any]:
    p = ea.properties
    config = {
        "issuer": p.issuer.model_dump(mode="json", by_alias=True),
        "claim": p.claim.model_dump(mode="json", by_alias=True, exclude_none=True),
        "clients": [c.model_dump(mode="json", by_alias=True) for c in p.clients],
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"external-auth-{ea.name.lower()}", "namespace": namespace},
        "data": {"config.json": json.dumps(config, sort_keys=True)},
    }


async def apply_config(ctx: Ctx) -> None:
    cluster = await ctx.cluster()
    await ctx.management().apply("configmaps", config_map(ctx.hub, cluster.properties.management_namespace))

    def mutate(ea: ExternalAuth) -> None:
        status.set_condition(ea.properties.status.conditions, "Available", "True", "AsExpected", "Configured.")

    await ctx.update(mutate)


async def remove_config(ctx: Ctx) -> None:
    cluster = await ctx.cluster_or_none()
    if cluster is None or not cluster.properties.management_namespace:
        return
    name = f"external-auth-{ctx.hub.name.lower()}"
    await ctx.management().delete("configmaps", name, cluster.properties.management_namespace)


CREATE: list[Step[Ctx]] = [Action("externalauth.create.apply_config", apply_config)]
UPDATE: list[Step[Ctx]] = [Action("externalauth.update.apply_config", apply_config)]
DELETE: list[Step[Ctx]] = [Action("externalauth.delete.remove_config", remove_config)]
