"""An admin update of a classic cluster: the maintenance task it names (``aro.api.clusteradmin``).

``renew_certificates`` issues a new API server serving certificate and a new admin client certificate
from the cluster CA, once per operation (the operation id is recorded with them, so a resumed run does not
issue them again), and a new admin kubeconfig; the deployment then hands the new certificate to the API
server (the masters' customData).

An admin update without a task (a power change: ``aro.cluster.power``, whose steps come first) passes
over every maintenance step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aro.api.cluster import OpenShiftCluster
from aro.api.clusteradmin import CERTIFICATES_RENEWAL, EVERYTHING
from aro.cluster import assets, template
from aro.cluster.common import api_ready, deploy_resources, update_cluster_data
from aro.cluster.context import ClusterContext
from aro.steps import Action, Condition, Step
from aro.util import pki


async def renew_certificates(ctx: ClusterContext) -> None:
    p = ctx.oc.properties
    if p.maintenance_task not in (EVERYTHING, CERTIFICATES_RENEWAL) or p.cluster_pki is None:
        return
    record = p.progress
    op = record.operation_id if record is not None else None
    if op and p.cluster_pki.renewed_by == op:
        return
    current = p.cluster_pki
    ca = pki.KeyPair(current.ca_cert, current.ca_key)
    api_host = f"api.{template.dns_zone(ctx.oc, ctx.oc.location)}"
    api = pki.issue(ca, api_host, dns_names=(api_host, f"api-int.{api_host.removeprefix('api.')}"))
    admin = pki.issue(ca, "system:admin", organization="system:masters", server=False, client=True, days=365)
    material = current.model_copy(
        update={
            "apiserver_cert": api.cert_pem,
            "apiserver_key": api.key_pem,
            "admin_client_cert": admin.cert_pem,
            "renewed_by": op or "",
        }
    )
    config = assets.admin_kubeconfig(ctx.oc, ctx.endpoint, api_host, material, admin.key_pem)

    def mutate(oc: OpenShiftCluster) -> None:
        oc.properties.cluster_pki = material
        oc.properties.admin_kubeconfig = config

    await ctx.update(mutate)


async def finish(ctx: ClusterContext) -> None:
    await ctx.update(lambda oc: setattr(oc.properties, "maintenance_task", ""))


def _with_task(fn: Callable[[ClusterContext], Awaitable[None]]) -> Callable[[ClusterContext], Awaitable[None]]:
    async def run(ctx: ClusterContext) -> None:
        if ctx.oc.properties.maintenance_task:
            await fn(ctx)

    return run


async def _api_ready(ctx: ClusterContext) -> bool:
    return not ctx.oc.properties.maintenance_task or await api_ready(ctx)


STEPS: list[Step[ClusterContext]] = [
    Action("maintenance.renew_certificates", renew_certificates),
    Action("maintenance.deploy_resources", _with_task(deploy_resources)),
    Condition(
        "maintenance.api_ready",
        _api_ready,
        ClusterContext.condition_timeout,
        ClusterContext.poll_interval,
        "The cluster API server did not become ready in time.",
    ),
    Action("maintenance.update_cluster_data", _with_task(update_cluster_data)),
    Action("maintenance.finish", _with_task(finish)),
]
