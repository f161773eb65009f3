"""Server-side printing: the ``meta.k8s.io/v1`` ``Table`` that ``kubectl get`` asks for
(``Accept: application/json;as=Table;v=v1;g=meta.k8s.io, ...``), with the columns the real API server
prints for each kind (priority 1 = shown by ``-o wide`` only). Each row carries the object's metadata as a
``PartialObjectMetadata`` (``?includeObject=Metadata``, the default), the whole object (``Object``) or
nothing (``None``): kubectl reads labels (``--show-labels``) and namespaces (``-A``) from it.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Object = dict[str, Any]
Cell = Callable[[Object, float], Any]


@dataclass(frozen=True)
class Column:
    name: str
    cell: Cell
    type: str = "string"
    priority: int = 0
    format: str = ""
    description: str = ""


def wants_table(accept: str) -> bool:
    for item in accept.split(","):
        params = {k.strip(): v.strip() for k, _, v in (p.partition("=") for p in item.split(";")[1:])}
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return True
    return False


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m" if s % 60 == 0 else f"{m}m{s % 60}s"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h" if m % 60 == 0 else f"{h}h{m % 60}m"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if h < 24 * 8:
        return f"{d}d" if h % 24 == 0 else f"{d}d{h % 24}h"
    if h < 24 * 365 * 2:
        return f"{d}d"
    y = d // 365
    if y < 8:
        return f"{y}y" if d % 365 == 0 else f"{y}y{d % 365}d"
    return f"{y}y"


def _meta(obj: Object) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def _age(obj: Object, now: float) -> str:
    created = _meta(obj).get("creationTimestamp")
    if not isinstance(created, str):
        return "<unknown>"
    try:
        ts = calendar.timegm(time.strptime(created[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return "<unknown>"
    return human_duration(now - ts)


def _name(obj: Object, now: float) -> str:
    return str(_meta(obj).get("name", ""))


def _node_status(obj: Object, now: float) -> str:
    ready = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    out = "Ready" if ready is not None and ready.get("status") == "True" else "NotReady"
    if ready is None:
        out = "Unknown"
    return out + (",SchedulingDisabled" if (obj.get("spec") or {}).get("unschedulable") else "")


def _node_roles(obj: Object, now: float) -> str:
    labels = _meta(obj).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k)
    return ",".join(r for r in roles if r) or "<none>"


def _node_address(kind: str) -> Cell:
    def cell(obj: Object, now: float) -> str:
        for a in (obj.get("status") or {}).get("addresses") or []:
            if a.get("type") == kind:
                return str(a.get("address", ""))
        return "<none>"

    return cell


def _node_info(key: str) -> Cell:
    return lambda obj, now: str(((obj.get("status") or {}).get("nodeInfo") or {}).get(key) or "<unknown>")


def _pod_ready(obj: Object, now: float) -> str:
    statuses = (obj.get("status") or {}).get("containerStatuses") or []
    total = len((obj.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def _pod_status(obj: Object, now: float) -> str:
    if _meta(obj).get("deletionTimestamp"):
        return "Terminating"
    status = obj.get("status") or {}
    return str(status.get("reason") or status.get("phase") or "Unknown")


def _pod_restarts(obj: Object, now: float) -> int:
    return sum(int(s.get("restartCount", 0)) for s in (obj.get("status") or {}).get("containerStatuses") or [])


def _count(key: str) -> Cell:
    return lambda obj, now: len(obj.get(key) or {}) + (len(obj.get("binaryData") or {}) if key == "data" else 0)


def _created(obj: Object, now: float) -> str:
    return str(_meta(obj).get("creationTimestamp") or "")


def _role_ref(obj: Object, now: float) -> str:
    ref = obj.get("roleRef") or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def _subjects(kind: str) -> Cell:
    def cell(obj: Object, now: float) -> str:
        names = []
        for s in obj.get("subjects") or []:
            if isinstance(s, dict) and s.get("kind") == kind:
                names.append(
                    f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount" else s.get("name", "")
                )
        return ", ".join(str(n) for n in names)

    return cell


_AGE = Column("Age", _age, description="CreationTimestamp is a timestamp representing the server time ...")
_NAME = Column("Name", _name, format="name", description="Name must be unique within a namespace.")


# RBAC kinds (kubectl's columns): a role, cluster-scoped or not; a binding, cluster-scoped or not
_ROLE = (
    _NAME,
    Column("Created At", _created, type="date", description="The creation time."),
)
_BINDING = (
    _NAME,
    Column("Role", _role_ref, description="The role of the binding."),
    _AGE,
    Column("Users", _subjects("User"), priority=1, description="The users of the binding."),
    Column("Groups", _subjects("Group"), priority=1, description="The groups of the binding."),
    Column("ServiceAccounts", _subjects("ServiceAccount"), priority=1, description="The service accounts."),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "nodes": (
        _NAME,
        Column("Status", _node_status, description="The status of the node"),
        Column("Roles", _node_roles, description="The roles of the node"),
        _AGE,
        Column("Version", _node_info("kubeletVersion"), description="Kubelet Version reported by the node."),
        Column("Internal-IP", _node_address("InternalIP"), priority=1, description="List of internal IPs."),
        Column("External-IP", _node_address("ExternalIP"), priority=1, description="List of external IPs."),
        Column("OS-Image", _node_info("osImage"), priority=1, description="OS Image reported by the node."),
        Column("Kernel-Version", _node_info("kernelVersion"), priority=1, description="Kernel Version."),
        Column("Container-Runtime", _node_info("containerRuntimeVersion"), priority=1, description="Runtime."),
    ),
    "namespaces": (
        _NAME,
        Column("Status", lambda o, n: str((o.get("status") or {}).get("phase", "")), description="The phase."),
        _AGE,
    ),
    "pods": (
        _NAME,
        Column("Ready", _pod_ready, description="The aggregate readiness state of this pod for accepting traffic."),
        Column("Status", _pod_status, description="The aggregate status of the containers in this pod."),
        Column("Restarts", _pod_restarts, type="string", description="The number of times the containers restarted."),
        _AGE,
        Column("IP", lambda o, n: str((o.get("status") or {}).get("podIP") or "<none>"), priority=1),
        Column("Node", lambda o, n: str((o.get("spec") or {}).get("nodeName") or "<none>"), priority=1),
        Column("Nominated Node", lambda o, n: "<none>", priority=1),
        Column("Readiness Gates", lambda o, n: "<none>", priority=1),
    ),
    "configmaps": (_NAME, Column("Data", _count("data"), type="integer", description="Number of data items."), _AGE),
    "secrets": (
        _NAME,
        Column("Type", lambda o, n: str(o.get("type", "")), description="The type of secret"),
        Column("Data", _count("data"), type="integer", description="Number of data items."),
        _AGE,
    ),
    "serviceaccounts": (
        _NAME,
        Column("Secrets", lambda o, n: len(o.get("secrets") or []), type="integer", description="Secrets."),
        _AGE,
    ),
    "roles": _ROLE,
    "clusterroles": _ROLE,
    "rolebindings": _BINDING,
    "clusterrolebindings": _BINDING,
}


def _row_object(obj: Object, include: str) -> Object | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": _meta(obj)}


def table(resource: str, items: list[Object], list_meta: Object, include: str, now: float | None = None) -> Object:
    """The Table for ``items`` (one item for a GET of one object) of ``resource``."""
    now = time.time() if now is None else now
    columns = COLUMNS[resource]
    rows = []
    for obj in items:
        row: Object = {"cells": [c.cell(obj, now) for c in columns]}
        ro = _row_object(obj, include)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [
            {"name": c.name, "type": c.type, "format": c.format, "description": c.description, "priority": c.priority}
            for c in columns
        ],
        "rows": rows,
    }
