"""A node pool's steps: its VM scale set in the cluster's managed resource group (instances boot with the
pool's labels, taints and kubelet version and register as nodes of the hosted cluster), then wait until
the hosted cluster's API shows the nodes Ready; delete removes the scale set and waits for the nodes to go.

Scaling is the same PUT of the scale set with another capacity: re-running it after a crash changes
nothing (the capacity is a count, not an increment), so no VM is ever duplicated. With autoScaling the
scale set carries the autoscaler's tags (``aro-autoscaling``, ``min``, ``max``) and the autoscaler owns
its capacity within those bounds.

An update first rolls the nodes whose machines run another version (or VM size) than the pool asks for
(labels and taints reach new nodes only): surge 1, unavailable 0 (``rollout.next_node_move``) -- the scale
set grows to N+1 with the new model, the new node is waited for, the oldest stale node is drained (its
pods evicted, up to ``nodeDrainTimeoutMinutes``; not cordoned: the hosted cluster's nodes are read-only)
and its instance deleted, until none is stale. Every move is decided from the scale set's instances (ARM)
and the nodes (the hosted API); during the roll the scale set carries a fixed capacity and the count the
roll keeps (tag ``aro-rollout-capacity``; an autoscaled pool keeps its count, the autoscaler holds off).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.nodepool import NodePool
from aro.hcp import rollout, status
from aro.hcp.cluster import managed_resource_group
from aro.hcp.context import HostedContext, wait
from aro.steps import Action, Step

Ctx = HostedContext[NodePool]
SCALE_SETS_API_VERSION = "2024-07-01"
NODE_POOL_LABEL = "hypershift.openshift.io/nodePool"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
ROLLOUT_TAG = "aro-rollout-capacity"  # on a scale set mid-roll: the node count the roll keeps


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


def _kubelet(node: dict[str, Any]) -> str:
    return str(((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion") or "")


async def nodes_ready(ctx: Ctx) -> bool:
    low, high = _bounds(ctx.hub)
    nodes = await pool_nodes(ctx)
    want = kubelet_version(ctx.hub.properties.version.id)
    current = [n for n in nodes if _kubelet(n) == want]
    return low <= len(nodes) <= high and len(current) == len(nodes) and all(rollout.node_ready(n) for n in nodes)


# --- rolling the nodes to a new configuration -------------------------------------------------------------


def release_of_kubelet(kubelet: str) -> str:
    """The inverse of ``kubelet_version``: v1.33.8 -> 4.20.8 ("" when it is not one)."""
    parts = kubelet.lstrip("v").split(".")
    if len(parts) < 3 or not all(p.isdigit() for p in parts[:3]):
        return ""
    major, minor, patch = (int(p) for p in parts[:3])
    return f"4.{minor - 13}.{patch}" if major == 1 else f"{major + 3}.{minor}.{patch}"


def _current(np: NodePool) -> Callable[[dict[str, Any]], bool]:
    """Whether a node runs what its instance's customData bakes in and a change needs new machines for: the
    kubelet (the version) and the platform (the VM size). Labels and taints reach new nodes only."""
    want, size = kubelet_version(np.properties.version.id), np.properties.platform.vm_size

    def current(node: dict[str, Any]) -> bool:
        labels = (node.get("metadata") or {}).get("labels") or {}
        return _kubelet(node) == want and labels.get(INSTANCE_TYPE_LABEL, size) == size

    return current


def _roll_target(np: NodePool, vmss: dict[str, Any], count: int) -> int:
    """How many nodes the roll keeps: the replicas; with autoScaling the count when the roll began (the
    surge's write records it on the scale set, so a resumed roll reads it back), within min..max."""
    p = np.properties
    if p.auto_scaling is None:
        return p.replicas
    tag = str((vmss.get("tags") or {}).get(ROLLOUT_TAG) or "")
    kept = int(tag) if tag.isdigit() else count
    return min(max(kept, p.auto_scaling.min), p.auto_scaling.max)


def surge_scale_set(np: NodePool, cluster: HcpOpenShiftCluster, target: int, capacity: int) -> dict[str, Any]:
    """The scale set during a roll: the new model at a fixed ``capacity`` (the autoscaler holds off)."""
    body = scale_set(np, cluster)
    tags = {k: v for k, v in body["tags"].items() if k not in ("aro-autoscaling", "min", "max")}
    body["tags"] = tags | {ROLLOUT_TAG: str(target)}
    body["sku"]["capacity"] = capacity
    return body


async def roll_nodes(ctx: Ctx) -> bool:
    """One move of the pool's roll (True: every instance runs the pool's configuration), decided from the
    scale set's instances (ARM) and the pool's nodes (the hosted cluster's API) as they are now."""
    cluster = await ctx.cluster()
    rid = scale_set_id(cluster, ctx.hub.properties.vmss_name)
    vmss = await ctx.cloud.get_resource(rid, SCALE_SETS_API_VERSION)
    if vmss is None:
        return True  # nothing to roll: the next step creates it
    listed = await ctx.cloud.get_resource(f"{rid}/virtualMachines", SCALE_SETS_API_VERSION) or {}
    instances = [
        rollout.Instance(int(vm["instanceId"]), str(vm["properties"]["osProfile"]["computerName"]))
        for vm in listed.get("value") or []
    ]
    nodes = {str(n["metadata"]["name"]): n for n in await pool_nodes(ctx)}
    await _observe_versions(ctx, nodes.values())
    target = _roll_target(ctx.hub, vmss, len(instances))
    move = rollout.next_node_move(instances, nodes, _current(ctx.hub), target)
    if move.kind == rollout.SURGE:
        await ctx.cloud.put_resource(
            rid, SCALE_SETS_API_VERSION, surge_scale_set(ctx.hub, cluster, target, move.capacity)
        )
    elif move.kind == rollout.RETIRE:
        assert move.instance is not None
        await drain(ctx, cluster, move.instance.node_name)
        await ctx.cloud.delete_resource(f"{rid}/virtualMachines/{move.instance.instance_id}", SCALE_SETS_API_VERSION)
    return move.kind == rollout.DONE


async def drain(ctx: Ctx, cluster: HcpOpenShiftCluster, node: str) -> None:
    """Evict the node's pods (DaemonSet pods stay) and wait up to the drain timeout (the pool's, else the
    cluster's; 0: no wait) for them to go. The node is not cordoned: the hosted cluster's nodes are derived
    from the scale set and read-only in the simulator's API."""
    api = ctx.hosted_api(cluster)
    minutes = ctx.hub.properties.node_drain_timeout_minutes
    minutes = cluster.properties.node_drain_timeout_minutes if minutes is None else minutes
    deadline = time.monotonic() + minutes * 60
    while True:
        pods = [pod for pod in await api.list("pods") if _evictable(pod, node)]
        for pod in pods:
            meta = pod["metadata"]
            if not meta.get("deletionTimestamp"):
                await api.delete("pods", str(meta["name"]), str(meta.get("namespace") or ""))
        if not pods or time.monotonic() >= deadline:
            return
        await asyncio.sleep(min(ctx.poll_interval(), max(0.0, deadline - time.monotonic())))


def _evictable(pod: dict[str, Any], node: str) -> bool:
    owners = (pod.get("metadata") or {}).get("ownerReferences") or []
    return (pod.get("spec") or {}).get("nodeName") == node and not any(o.get("kind") == "DaemonSet" for o in owners)


async def _observe_versions(ctx: Ctx, nodes: Iterable[dict[str, Any]]) -> None:
    """The versions the pool's nodes run as its active versions, and ``Progressing`` while they differ
    from the version asked for (written only when that changes)."""
    want = ctx.hub.properties.version.id
    running = sorted({release_of_kubelet(_kubelet(n)) for n in nodes} - {""}, key=_version_key)
    if not running:
        return
    s = ctx.hub.properties.status
    rolling = running != [want]
    message = f"Upgrading from {running[0]} to {want}." if rolling else ""
    active = running if want in running or not rolling else [*running, want]
    progressing = next((c for c in s.conditions if c.type == "Progressing"), None)
    shown = (progressing.status, progressing.message) if progressing is not None else None
    if [a.version for a in s.active_versions] == active and (not rolling or shown == ("True", message)):
        return

    def mutate(np: NodePool) -> None:
        q = np.properties.status
        status.set_active_versions(q, active)
        if rolling:
            status.set_condition(q.conditions, "Progressing", "True", "Upgrading", message)

    await ctx.update(mutate)


def _version_key(release: str) -> tuple[int, ...]:
    return tuple(int(p) for p in release.split("."))


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
    """Create and update (a scale, new labels for new nodes, ...) run the same steps, under their own ids;
    an update first rolls the nodes whose machines run another version."""
    roll: list[Step[Ctx]] = []
    if phase == "update":
        roll = [wait("nodepool.update.roll_nodes", roll_nodes, "The node pool's nodes did not roll.")]
    return [
        Action(f"nodepool.{phase}.ensure_scale_set_name", ensure_scale_set_name),
        *roll,
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
