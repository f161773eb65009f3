"""Prometheus metrics of one RP process, served at /metrics (text exposition format).

- ``aro_http_requests_total{method,route,status}`` and ``aro_http_request_duration_seconds{method,route}``;
  status ``499``: the client disconnected before the answer (counted there, never as a 500)
- ``aro_operations_total{kind,result}``: finished operations (kind Creating/Updating/Deleting; Succeeded/Failed)
- ``aro_operations_running{kind}``: operations being worked by this backend
- ``aro_backend_workers_busy`` / ``aro_backend_workers``: worker utilisation
- ``aro_backend_lease_losses_total``, ``aro_backend_claims_total``
- ``aro_step_duration_seconds{step,ok}``
- ``aro_operation_requeues_total{resource}``: steps re-queued after a temporary error

In the processes `aro rp` supervises, ``PROMETHEUS_MULTIPROC_DIR`` is set (the supervisor's directory of
value files, one set per process): a frontend's /metrics then adds up every process of the RP -- counters
and histograms summed, the gauges over the live processes (``livesum``).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_STEP_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "aro_http_requests", "HTTP requests by route and status", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "aro_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.operations = Counter("aro_operations", "Finished operations", ["kind", "result"], registry=r)
        self.operations_running = Gauge(
            "aro_operations_running", "Operations in progress", ["kind"], registry=r, multiprocess_mode="livesum"
        )
        self.workers = Gauge(
            "aro_backend_workers", "Configured backend workers", registry=r, multiprocess_mode="livesum"
        )
        self.workers_busy = Gauge(
            "aro_backend_workers_busy", "Backend workers running an item", registry=r, multiprocess_mode="livesum"
        )
        self.claims = Counter("aro_backend_claims", "Documents claimed by this backend", registry=r)
        self.lease_losses = Counter("aro_backend_lease_losses", "Leases lost while working", registry=r)
        self.retries = Counter(
            "aro_operation_requeues", "Steps re-queued after a temporary error", ["resource"], registry=r
        )
        self.steps = Histogram(
            "aro_step_duration_seconds",
            "Install/update/delete step durations",
            ["step", "ok"],
            buckets=_STEP_BUCKETS,
            registry=r,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_step(self, step: str, seconds: float, ok: bool) -> None:
        self.steps.labels(step, "true" if ok else "false").observe(seconds)

    def render(self) -> bytes:
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client.multiprocess import MultiProcessCollector

            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(merged))
        return bytes(generate_latest(self.registry))


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
