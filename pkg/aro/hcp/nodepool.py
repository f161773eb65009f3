"""A node pool's steps: its VM scale set in the cluster's managed resource group (instances boot with the
pool's labels, taints and kubelet version and register as nodes of the hosted cluster), then wait until
the hosted cluster's API shows the nodes Ready; delete removes the scale set and waits for the nodes to go.

Scaling is the same PUT of the scale set with another capacity: re-running it after a crash changes
nothing (the capacity is a count, not an increment), so no VM is ever duplicated. With autoScaling the
scale set carries the autoscaler's tags (``aro-autoscaling``, ``min``, ``max``) and the autoscaler owns
its capacity within those bounds.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.nodepool import NodePool
from aro.hcp import status
from aro.hcp.cluster import managed_resource_group
from aro.hcp.context import HostedContext, wait
from aro.steps import Action, Step

Ctx = HostedContext[NodePool]
SCALE_SETS_API_VERSION = "2024-07-01"
NODE_POOL_LABEL = "hypershift.openshift.io/nodePool"


def kubelet_version(release: str) -> str:
    """OpenShift 4.Y.Z runs Kubernetes 1.(Y+13): 4.20.8 -> v1.33.8."""
    parts = [int(p) for p in release.split(".")[:3]]
    major, minor, patch = (parts + [0, 0, 0])[:3]
    return f"v1.{minor + 13}.{patch}" if major == 4 else f"v{major - 3}.{minor}.{patch}"


def scale_set_id(cluster: HcpOpenShiftCluster, vmss_name: str) -> str:
    sub, rg = managed_resource_group(cluster)
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss_name}"


def node_config(np: NodePool) -> dict[str, Any]:
    """What an instance's kubelet registers with (the scale set's customData)."""
    p = np.properties
    labels = {label.key: label.value for label in p.labels}
    labels |= {NODE_POOL_LABEL: np.name, "node-role.kubernetes.io/worker": ""}
    taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in p.taints]
    return {"node": {"labels": labels, "taints": taints, "kubeletVersion": kubelet_version(p.version.id)}}


def scale_set(np: NodePool, cluster: HcpOpenShiftCluster) -> dict[str, Any]:
    p = np.properties
    custom = base64.b64encode(json.dumps(node_config(np), sort_keys=True).encode()).decode()
    tags = {"aro-hcp-cluster": cluster.name, "aro-hcp-nodepool": np.name}
    capacity = p.replicas
    if p.auto_scaling is not None:
        tags |= {"aro-autoscaling": "enabled", "min": str(p.auto_scaling.min), "max": str(p.auto_scaling.max)}
        capacity = p.auto_scaling.min
    body: dict[str, Any] = {
        "location": np.location or cluster.location,
        "tags": tags,
        "sku": {"name": p.platform.vm_size, "tier": "Standard", "capacity": capacity},
        "properties": {
            "orchestrationMode": "Uniform",
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {
                "osProfile": {"computerNamePrefix": np.name.lower()[:9], "customData": custom},
                "storageProfile": {
                    "osDisk": {
                        "createOption": "FromImage",
                        "diskSizeGB": p.platform.os_disk.size_gib,
                        "managedDisk": {"storageAccountType": p.platform.os_disk.disk_storage_account_type},
                    }
                },
                "networkProfile": {
                    "networkInterfaceConfigurations": [
                        {
                            "name": "nic",
                            "properties": {
                                "primary": True,
                                "ipConfigurations": [
                                    {"name": "ipconfig", "properties": {"subnet": {"id": p.platform.subnet_id}}}
                                ],
                            },
                        }
                    ]
                },
            },
        },
    }
    if p.platform.availability_zone:
        body["zones"] = [p.platform.availability_zone]
    return body


async def ensure_scale_set_name(ctx: Ctx) -> None:
    if ctx.hub.properties.vmss_name:
        return
    name = ctx.hub.name.lower()
    await ctx.update(lambda np: setattr(np.properties, "vmss_name", np.properties.vmss_name or name))


async def apply_scale_set(ctx: Ctx) -> None:
    cluster = await ctx.cluster()
    rid = scale_set_id(cluster, ctx.hub.properties.vmss_name)
    await ctx.cloud.put_resource(rid, SCALE_SETS_API_VERSION, scale_set(ctx.hub, cluster))


def _bounds(np: NodePool) -> tuple[int, int]:
    p = np.properties
    return (p.auto_scaling.min, p.auto_scaling.max) if p.auto_scaling is not None else (p.replicas, p.replicas)


async def pool_nodes(ctx: Ctx) -> list[dict[str, Any]]:
    cluster = await ctx.cluster()
    return await ctx.hosted_api(cluster).list("nodes", label_selector=f"{NODE_POOL_LABEL}={ctx.hub.name}")


def _ready(node: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


async def nodes_ready(ctx: Ctx) -> bool:
    low, high = _bounds(ctx.hub)
    nodes = await pool_nodes(ctx)
    want = kubelet_version(ctx.hub.properties.version.id)
    current = [n for n in nodes if (n.get("status") or {}).get("nodeInfo", {}).get("kubeletVersion") == want]
    return low <= len(nodes) <= high and len(current) == len(nodes) and all(_ready(n) for n in nodes)


async def record_status(ctx: Ctx) -> None:
    nodes = await pool_nodes(ctx)
    version = ctx.hub.properties.version.id

    def mutate(np: NodePool) -> None:
        s = np.properties.status
        status.set_active_versions(s, [version])
        status.set_condition(s.conditions, "Available", "True", "AsExpected", f"{len(nodes)} node(s) ready.")
        status.set_condition(s.conditions, "Progressing", "False", "AsExpected", "")
        status.set_condition(s.conditions, "Degraded", "False", "AsExpected", "")

    await ctx.update(mutate)


async def delete_scale_set(ctx: Ctx) -> None:
    cluster = await ctx.cluster_or_none()
    if not ctx.hub.properties.vmss_name or cluster is None:
        return  # never created, or the cluster (and its managed resource group) is gone
    await ctx.cloud.delete_resource(scale_set_id(cluster, ctx.hub.properties.vmss_name), SCALE_SETS_API_VERSION)


async def nodes_gone(ctx: Ctx) -> bool:
    if not ctx.hub.properties.vmss_name or await ctx.cluster_or_none() is None:
        return True
    return not await pool_nodes(ctx)


def apply_steps(phase: str) -> list[Step[Ctx]]:
    """Create and update (a scale, new labels for new nodes, ...) run the same steps, under their own ids."""
    return [
        Action(f"nodepool.{phase}.ensure_scale_set_name", ensure_scale_set_name),
        Action(f"nodepool.{phase}.apply_scale_set", apply_scale_set),
        wait(f"nodepool.{phase}.nodes_ready", nodes_ready, "The node pool's nodes did not become ready."),
        Action(f"nodepool.{phase}.record_status", record_status),
    ]


CREATE = apply_steps("create")
UPDATE = apply_steps("update")
DELETE: list[Step[Ctx]] = [
    Action("nodepool.delete.delete_scale_set", delete_scale_set),
    wait("nodepool.delete.nodes_gone", nodes_gone, "The node pool's nodes were not removed."),
]
