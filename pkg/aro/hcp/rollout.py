"""Rolling a hosted cluster to a new release one piece at a time, each next move decided from what is
observed now (pure functions: the steps in ``cluster`` and ``nodepool`` do the I/O).

- **Control plane**: the pods in component order; the first one not Running at the target release is
  created (missing), replaced (another release: deleted, then created at the target) or waited for
  (starting, terminating). One replica moves at a time; pods already at the target are never touched, so
  a roll resumed after a crash goes on where it stopped.
- **Node pool** (surge 1, unavailable 0): while an instance runs a stale configuration, the scale set is
  grown to ``target + 1`` with the new model, the new node is waited for (Ready), then the oldest stale
  instance is retired (drained, deleted) and its node waited out. Capacity is an absolute count and the
  surge is recognised by the instances there are, so a rerun never adds a second surge instance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DONE, WAIT, CREATE, REPLACE, SURGE, RETIRE = "done", "wait", "create", "replace", "surge", "retire"

Object = dict[str, Any]


@dataclass(frozen=True)
class PodMove:
    kind: str  # DONE | WAIT | CREATE | REPLACE
    name: str = ""


def next_pod_move(names: Sequence[str], pods: Mapping[str, Object], release: str, annotation: str) -> PodMove:
    """The control plane's next move towards ``release`` (``annotation`` names a pod's release)."""
    for name in names:
        pod = pods.get(name)
        if pod is None:
            return PodMove(CREATE, name)
        meta = pod.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            return PodMove(WAIT, name)
        if (meta.get("annotations") or {}).get(annotation) != release:
            return PodMove(REPLACE, name)
        if (pod.get("status") or {}).get("phase") != "Running":
            return PodMove(WAIT, name)
    return PodMove(DONE)


@dataclass(frozen=True)
class Instance:
    """A scale set instance as ARM lists it."""

    instance_id: int
    node_name: str  # its computer name: the node it registers as


@dataclass(frozen=True)
class NodeMove:
    kind: str  # DONE | WAIT | SURGE | RETIRE
    capacity: int = 0  # SURGE: the scale set's capacity
    instance: Instance | None = None  # RETIRE: the instance to drain and delete
    reason: str = ""  # WAIT: what is awaited


def node_ready(node: Object) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def next_node_move(
    instances: Sequence[Instance],
    nodes: Mapping[str, Object],
    current: Callable[[Object], bool],
    target: int,
) -> NodeMove:
    """The node pool's next move: ``nodes`` are the pool's nodes by name, ``current(node)`` tells whether
    a node runs the wanted configuration, ``target`` is how many nodes the pool keeps."""
    names = {i.node_name for i in instances}
    leaving = sorted(n for n in nodes if n not in names)
    if leaving:
        return NodeMove(WAIT, reason=f"node {leaving[0]} to leave the cluster")
    for i in instances:
        node = nodes.get(i.node_name)
        if node is None or not node_ready(node):
            return NodeMove(WAIT, reason=f"instance {i.instance_id} to become a Ready node")
    stale = sorted((i for i in instances if not current(nodes[i.node_name])), key=lambda i: i.instance_id)
    if not stale:
        return NodeMove(DONE)
    if len(instances) <= target:
        return NodeMove(SURGE, capacity=target + 1)
    return NodeMove(RETIRE, instance=stale[0])
