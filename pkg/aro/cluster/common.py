"""Steps shared by install and update."""

from __future__ import annotations

from typing import Any

from aro.api.cluster import EffectiveOutboundIP, OpenShiftCluster, WorkerProfile
from aro.cluster import template
from aro.cluster.context import ClusterContext
from aro.util import kubeconfig

VM_API = "2024-07-01"


def _location(ctx: ClusterContext) -> str:
    return ctx.oc.location


async def deploy_resources(ctx: ClusterContext) -> None:
    """Deploy (or re-deploy, incrementally) the cluster's template, without the bootstrap node."""
    sub, rg = ctx.managed_resource_group
    await ctx.cloud.deploy(sub, rg, "cluster", template.build(ctx.oc, _location(ctx), bootstrap=False), {})


async def api_ready(ctx: ClusterContext) -> bool:
    return await ctx.cloud.cluster_ready(ctx.endpoint)


async def remove_surplus_resources(ctx: ClusterContext) -> None:
    """Delete worker VMs and outbound IPs beyond the wanted counts (scale-in)."""
    sub, rg = ctx.managed_resource_group
    infra = ctx.oc.properties.infra_id
    wanted_vms = set(template.worker_vm_names(ctx.oc))
    wanted_ips = {r["name"] for r in template.outbound_ips(ctx.oc)}
    for res in await ctx.cloud.list_resources(sub, rg):
        rtype, name = str(res.get("type", "")).lower(), str(res.get("name", ""))
        surplus_vm = (
            rtype == "microsoft.compute/virtualmachines"
            and res.get("tags", {}).get("aro-role") == "worker"
            and name not in wanted_vms
        )
        surplus_ip = (
            rtype == "microsoft.network/publicipaddresses"
            and name.startswith(f"{infra}-outbound-pip-")
            and name not in wanted_ips
        )
        if surplus_vm or surplus_ip:
            await ctx.cloud.delete_resource(str(res["id"]), VM_API if surplus_vm else "2024-05-01")


async def update_cluster_data(ctx: ClusterContext) -> None:
    """Record what the cluster now is: API and console URLs, IPs, worker status, outbound IPs."""
    sub, rg = ctx.managed_resource_group
    resources = await ctx.cloud.list_resources(sub, rg)
    nodes = await ctx.cloud.cluster_nodes(
        ctx.endpoint, *kubeconfig.client_credentials(ctx.oc.properties.admin_kubeconfig)
    )
    endpoint = ctx.endpoint
    location = _location(ctx)
    zone = template.dns_zone(ctx.oc, location)
    by_name = {str(r.get("name")): r for r in resources}
    infra = ctx.oc.properties.infra_id

    def ip_of(name: str) -> str:
        res: dict[str, Any] = by_name.get(name) or {}
        return str((res.get("properties") or {}).get("ipAddress", ""))

    outbound = sorted(str(r["id"]) for r in resources if str(r.get("name", "")).startswith(f"{infra}-outbound-pip-"))
    ready_workers = [
        n for n in nodes if "node-role.kubernetes.io/worker" in (n.get("metadata", {}).get("labels") or {})
    ] or [n for n in nodes if "master" not in str(n.get("metadata", {}).get("name", ""))]

    def mutate(oc: OpenShiftCluster) -> None:
        p = oc.properties
        p.apiserver_profile.url = endpoint.url
        p.apiserver_profile.ip = ip_of(f"{infra}-pip-v4")
        p.console_profile.url = f"https://console-openshift-console.apps.{zone}/"
        for ingress in p.ingress_profiles:
            ingress.ip = ip_of(f"{infra}-default-v4")
        p.worker_profiles_status = [
            WorkerProfile(
                name=f"{wp.name}-{i}",
                vm_size=wp.vm_size,
                disk_size_gb=wp.disk_size_gb,
                subnet_id=wp.subnet_id,
                count=1,
                encryption_at_host=wp.encryption_at_host,
            )
            for wp in p.worker_profiles
            for i in range(sum(1 for n in ready_workers if f"-{wp.name}-" in str(n["metadata"]["name"])))
        ]
        if p.network_profile.load_balancer_profile is not None:
            p.network_profile.load_balancer_profile.effective_outbound_ips = [
                EffectiveOutboundIP(id=i) for i in outbound
            ]

    await ctx.update(mutate)
