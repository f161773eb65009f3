"""Metrics sets of hosted control planes (HyperShift's ``METRICS_SET``): which of the control plane's
metrics are exposed. ``Telemetry`` (the default, the smallest) ⊂ ``SRE`` ⊂ ``All`` (everything).

``select(text, metrics_set)`` filters Prometheus text exposition: a sample is kept when its metric family
is in the set (a histogram's ``_bucket``/``_sum``/``_count`` belong to their family), with its ``# HELP``
and ``# TYPE`` lines.
"""

from __future__ import annotations

from enum import StrEnum


class MetricsSet(StrEnum):
    TELEMETRY = "Telemetry"
    SRE = "SRE"
    ALL = "All"

    @classmethod
    def parse(cls, value: str) -> MetricsSet:
        """Case-insensitive, as HyperShift matches it; ValueError otherwise."""
        for m in cls:
            if m.value.lower() == value.strip().lower():
                return m
        raise ValueError(f"unknown metrics set {value!r}: one of Telemetry, SRE, All")


TELEMETRY = frozenset(
    {
        "apiserver_request_total",
        "apiserver_current_inflight_requests",
        "etcd_server_has_leader",
        "etcd_mvcc_db_total_size_in_bytes",
        "up",
    }
)
SRE = TELEMETRY | frozenset(
    {
        "apiserver_request_duration_seconds",
        "etcd_disk_wal_fsync_duration_seconds",
        "etcd_server_leader_changes_seen_total",
        "workqueue_depth",
        "process_resident_memory_bytes",
    }
)
_FAMILIES = {MetricsSet.TELEMETRY: TELEMETRY, MetricsSet.SRE: SRE}
_SUFFIXES = ("_bucket", "_sum", "_count")


def family(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def select(text: str, metrics_set: MetricsSet) -> str:
    if metrics_set is MetricsSet.ALL:
        return text
    allowed = _FAMILIES[metrics_set]
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[2] in allowed:
                out.append(line)
            continue
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in allowed or family(name) in allowed:
            out.append(line)
    return "\n".join(out) + ("\n" if out else "")
