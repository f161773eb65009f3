"""Delete: the operators' role assignments and the cluster's NSG on the customer's subnets, the managed
resource group (only if this cluster manages it) with everything in it -- network, DNS records, storage,
VMs -- then the platform identities' federated credentials, the install graph blob, then stamp the billing record's
deletionTime; a subscription still Reserved goes with the cluster (an Active one stays, to go Stale)."""

from __future__ import annotations

import logging

from aro.cluster import identities, network
from aro.cluster.context import ClusterContext
from aro.cluster.ledger import LEDGER
from aro.database import NotFound, patch
from aro.steps import Action, Step
from aro.util.clock import utc_now

log = logging.getLogger("aro.cluster.delete")


async def delete_resource_group(ctx: ClusterContext) -> None:
    if not ctx.oc.properties.cluster_profile.resource_group_id:
        return
    sub, rg = ctx.managed_resource_group
    group = await ctx.cloud.get_resource_group(sub, rg)
    if group is None:
        return
    if (group.managed_by or "").lower() != ctx.oc.id.lower():
        log.warning("resource group not managed by this cluster: left alone", extra={"resourceGroup": group.id})
        return
    await ctx.cloud.delete_resource_group(sub, rg)


async def delete_install_graph(ctx: ClusterContext) -> None:
    """Remove the sealed install graph blob (when blob storage is configured; absent blob: no-op)."""
    store = ctx.cloud.graph_store
    if store is not None and ctx.oc.properties.infra_id:
        await store.delete_graph(ctx.oc.properties.infra_id)


async def mark_billing_deleted(ctx: ClusterContext) -> None:
    def stamp(doc: dict[str, object]) -> None:
        billing = doc.setdefault("billing", {})
        assert isinstance(billing, dict)
        billing.setdefault("deletionTime", utc_now())

    try:
        await patch(ctx.billing, ctx.subscription_id.lower(), ctx.cluster_doc_id, stamp)
    except NotFound:
        pass  # install never reached billing


STEPS: list[Step[ClusterContext]] = [
    Action("delete.role_assignments", identities.delete_role_assignments),
    Action("delete.detach_nsgs", network.detach_nsgs),
    Action("delete.delete_resource_group", delete_resource_group),
    Action("delete.federated_credentials", identities.delete_federated_credentials),
    Action("delete.delete_install_graph", delete_install_graph),
    Action("delete.mark_billing_deleted", mark_billing_deleted),
    LEDGER.release("delete.ledger_release"),
]
