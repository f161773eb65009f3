"""What a control-plane pod of the management cluster exposes at
``GET /api/v1/namespaces/{ns}/pods/{name}/proxy/metrics`` (the API server's pod proxy, as Prometheus
scrapes through it): Prometheus text for the pod's component (label ``app``), deterministic per pod.

Every family HyperShift's metrics sets select from is there, plus some only ``All`` keeps
(``go_goroutines``, ``apiserver_storage_objects``, ...), so the RP's selection can be seen."""

from __future__ import annotations

import hashlib
from typing import Any

_COMMON = (
    ("up", "gauge", "1 if the target is up.", ""),
    ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", ""),
    ("go_goroutines", "gauge", "Number of goroutines that currently exist.", ""),
)
_BY_COMPONENT: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "etcd": (
        ("etcd_server_has_leader", "gauge", "Whether or not a leader exists.", ""),
        ("etcd_mvcc_db_total_size_in_bytes", "gauge", "Total size of the underlying database.", ""),
        ("etcd_server_leader_changes_seen_total", "counter", "The number of leader changes seen.", ""),
        ("etcd_disk_wal_fsync_duration_seconds", "histogram", "The latency of WAL fsyncs.", ""),
        ("etcd_debugging_mvcc_keys_total", "gauge", "Total number of keys.", ""),
    ),
    "kube-apiserver": (
        ("apiserver_request_total", "counter", "Counter of apiserver requests.", 'verb="GET",code="200"'),
        ("apiserver_current_inflight_requests", "gauge", "Maximal number of in-flight requests.", ""),
        ("apiserver_request_duration_seconds", "histogram", "Response latency distribution.", 'verb="GET"'),
        ("apiserver_storage_objects", "gauge", "Number of stored objects.", 'resource="pods"'),
    ),
}
_DEFAULT = (("workqueue_depth", "gauge", "Current depth of workqueue.", 'name="default"'),)


def _value(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:2], "big") + 1


def metrics_text(pod: dict[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    component = str((meta.get("labels") or {}).get("app") or "")
    seed = f"{meta.get('namespace')}/{meta.get('name')}"
    lines: list[str] = []
    for name, kind, help_text, labels in (*_COMMON, *_BY_COMPONENT.get(component, _DEFAULT)):
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        value = 1 if name in ("up", "etcd_server_has_leader") else _value(seed + name)
        sel = f"{{{labels}}}" if labels else ""
        if kind == "histogram":
            inner = labels + "," if labels else ""
            lines += [f'{name}_bucket{{{inner}le="0.1"}} {value}', f'{name}_bucket{{{inner}le="+Inf"}} {value}']
            lines += [f"{name}_sum{sel} {value / 100}", f"{name}_count{sel} {value}"]
        else:
            lines.append(f"{name}{sel} {value}")
    return "\n".join(lines) + "\n"
