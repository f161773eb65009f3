"""Simulator configuration and fault injection rules.

A fault rule, as configured in code or sent to ``PUT /simulator/faults`` (a JSON list of these)::

    {"operation": "deploy",          # createResourceGroup | deleteResourceGroup | deploy | putResource
                                     # | deleteResource | clusterReady | powerAction
     "mode": "fail",                 # "fail": answer the ARM error; "hang": the LRO hangs while any hang rule lives
     "count": 1,                     # hits left; null = every time (default 1)
     "match": "storage",             # optional case-insensitive substring of the target name
     "code": "QuotaExceeded",        # optional ARM error code / message / HTTP status for "fail"
     "message": "...", "status": 400}

The ``match`` target is the resource group name (resource-group operations and ``clusterReady``), the
deployment name or any template resource name (``deploy``), or the resource id (``putResource``,
``deleteResource``, ``powerAction``: a VM's or scale set's deallocate / start / powerOff, ``_power``).
Every hit decrements ``count``; a rule at 0 is spent and ignored. A ``clusterReady`` "hang" keeps
``/readyz`` at 503 and is consumed only by probes of a cluster that would otherwise be ready; its "fail"
answers ``status`` with the message as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

OPERATIONS = frozenset(
    {
        "createResourceGroup",
        "deleteResourceGroup",
        "deploy",
        "putResource",
        "deleteResource",
        "clusterReady",
        "powerAction",
    }
)
FaultMode = Literal["fail", "hang"]

# the directory's well-known defaults (``aro rp`` prints them; env.example documents them)
DEFAULT_TENANT_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001"
DEFAULT_CLIENT_ID = "00000000-0000-0000-0000-0000000000c1"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class FaultRule:
    operation: str
    mode: FaultMode = "fail"
    count: int | None = 1
    match: str | None = None
    code: str | None = None
    message: str | None = None
    status: int = 400

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS:
            raise ValueError(f"unknown fault operation {self.operation!r}; one of {sorted(OPERATIONS)}")
        if self.mode not in ("fail", "hang"):
            raise ValueError(f"unknown fault mode {self.mode!r}; 'fail' or 'hang'")
        if self.count is not None and self.count < 0:
            raise ValueError("fault count must be >= 0 or null")
        if not 400 <= self.status <= 599:
            raise ValueError("fault status must be an HTTP error status")

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FaultRule:
        unknown = set(raw) - {"operation", "mode", "count", "match", "code", "message", "status"}
        if unknown:
            raise ValueError(f"unknown fault rule field(s) {sorted(unknown)}")
        count = raw.get("count", 1)
        return cls(
            operation=str(raw.get("operation")),
            mode=raw.get("mode", "fail"),
            count=None if count is None else int(count),
            match=None if raw.get("match") is None else str(raw["match"]),
            code=None if raw.get("code") is None else str(raw["code"]),
            message=None if raw.get("message") is None else str(raw["message"]),
            status=int(raw.get("status", 400)),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"operation": self.operation, "mode": self.mode, "count": self.count}
        for key in ("match", "code", "message"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["status"] = self.status
        return out

    def error_code(self) -> str:
        return self.code or "InjectedFault"

    def error_message(self, operation: str, target: str) -> str:
        return self.message or f"Simulated failure of {operation} on '{target}'."


class FaultSet:
    """The live rule set. Used from the event loop only (no locking needed)."""

    def __init__(self, rules: Iterable[FaultRule] = ()) -> None:
        self._rules: list[FaultRule] = list(rules)

    def replace(self, rules: Iterable[FaultRule]) -> None:
        self._rules = list(rules)

    def clear(self) -> None:
        self._rules = []

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self._rules]

    def hangs(self) -> bool:
        """Whether any live rule makes operations hang."""
        return any(r.mode == "hang" and r.count != 0 for r in self._rules)

    def _find(self, operation: str, targets: tuple[str, ...], modes: tuple[FaultMode, ...]) -> int | None:
        lowered = [t.lower() for t in targets]
        for i, rule in enumerate(self._rules):
            if rule.operation != operation or rule.count == 0 or rule.mode not in modes:
                continue
            if rule.match is not None and not any(rule.match.lower() in t for t in lowered):
                continue
            return i
        return None

    def hit(self, operation: str, *targets: str, modes: tuple[FaultMode, ...] = ("fail", "hang")) -> FaultRule | None:
        """Consume and return the first live rule for ``operation`` (in one of ``modes``) matching any of
        ``targets``."""
        i = self._find(operation, targets, modes)
        if i is None:
            return None
        rule = self._rules[i]
        if rule.count is not None:
            self._rules[i] = replace(rule, count=rule.count - 1)
        return rule

    def peek(self, operation: str, *targets: str, modes: tuple[FaultMode, ...] = ("fail", "hang")) -> FaultRule | None:
        """The rule ``hit`` would return, without consuming it (an observer such as telemetry)."""
        i = self._find(operation, targets, modes)
        return None if i is None else self._rules[i]


@dataclass(frozen=True)
class FrontDoorConfig:
    """ARM's routing of ``Microsoft.RedHatOpenShift`` to an RP (``_frontdoor``). ``endpoint``: the RP to link
    at start (``aro simulator`` alone; ``aro rp`` links its own frontend), verified with ``ca_file`` (PEM; None:
    the system trust store); ``cert_file``/``key_file``: ARM's client certificate (a production RP requires
    it). ARM's bounds: ``timeout_seconds`` per call (504 past it), request and response body sizes."""

    endpoint: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    timeout_seconds: float = 60.0
    max_request_bytes: int = 4 * 1024 * 1024
    max_response_bytes: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0 or min(self.max_request_bytes, self.max_response_bytes) < 1:
            raise ValueError("front door: timeout_seconds and the byte bounds must be > 0")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("front door: cert_file and key_file go together")


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator app needs.

    ``token``: if set, ``Authorization: Bearer <token>`` must match it; else any non-empty bearer passes.
    ``step_delay_seconds``: how long every mutating operation (and each LRO) takes.
    ``faults``: the initial rules, as ``FaultRule`` objects or their JSON form (dicts).
    ``anonymous_node_reads``: classic clusters let anonymous callers get/list nodes (the RP's backend
    lists them without credentials today); off, that is a 401 like everything but the health endpoints.
    ``kube_*``: the cluster APIs' bounds -- objects per cluster, bytes per object and per request body,
    items per list page (a larger or absent ``limit`` is capped; ``continue`` pages on), audit events kept
    per cluster.
    ``kubelet_*``: pods with one of ``kubelet_images`` run as host processes (``_kubelet``): how many at
    once, their default and maximum ``activeDeadlineSeconds``, the bytes of log each keeps.
    """

    data_directory: Path
    token: str | None = None
    step_delay_seconds: float = 0.0
    faults: Sequence[FaultRule | Mapping[str, Any]] = ()
    kubernetes_version: str = "v1.30.7"
    request_log_memory: int = 20_000
    max_body_bytes: int = 8 * 1024 * 1024
    anonymous_node_reads: bool = True
    kube_max_objects: int = 10_000
    kube_max_object_bytes: int = 1536 * 1024
    kube_max_body_bytes: int = 3 * 1024 * 1024
    kube_list_limit: int = 1000
    kube_audit_events: int = 10_000  # audit events kept per cluster API (``_kubeaudit``)
    kubelet_images: tuple[str, ...] = ("quay.io/app-sre/managed-scripts:latest",)  # pods run for real (``_kubelet``)
    kubelet_max_running: int = 16  # executed pods running at once; the rest wait Pending
    kubelet_deadline_seconds: int = 600  # an executed pod's activeDeadlineSeconds when it has none
    kubelet_max_deadline_seconds: int = 600  # ... and its cap
    kubelet_log_max_bytes: int = 10 * 1024 * 1024  # an executed pod's log; the rest is cut with a marker
    console_link_seconds: int = 900  # the web console's links (``_console``): default lifetime, 1..3600
    front_door: FrontDoorConfig = field(default_factory=FrontDoorConfig)  # ``_frontdoor``
    # the directory (``_directory``): its one tenant, the subscriptions GET /subscriptions lists (the first is
    # the default) and the seeded principal's appId, whose client secret is ``token``
    tenant_id: str = DEFAULT_TENANT_ID
    subscription_ids: tuple[str, ...] = (DEFAULT_SUBSCRIPTION_ID,)
    client_id: str = DEFAULT_CLIENT_ID

    def __post_init__(self) -> None:
        ids = (self.tenant_id, self.client_id, *self.subscription_ids)
        if not 1 <= len(self.subscription_ids) <= 100 or not all(_UUID.match(i) for i in ids):
            raise ValueError("tenant_id, client_id and 1..100 subscription_ids must be UUIDs")
        object.__setattr__(self, "subscription_ids", tuple(i.lower() for i in self.subscription_ids))
        object.__setattr__(self, "tenant_id", self.tenant_id.lower())
        object.__setattr__(self, "client_id", self.client_id.lower())
        if self.step_delay_seconds < 0:
            raise ValueError("step_delay_seconds must be >= 0")
        if not 1 <= self.console_link_seconds <= 3600:
            raise ValueError("console_link_seconds must be 1..3600")
        if min(self.kube_max_objects, self.kube_max_object_bytes, self.kube_max_body_bytes, self.kube_list_limit) < 1:
            raise ValueError("the kube_* bounds must be >= 1")
        kubelet = (self.kube_audit_events, self.kubelet_max_running, self.kubelet_deadline_seconds)
        if min(*kubelet, self.kubelet_max_deadline_seconds, self.kubelet_log_max_bytes) < 1:
            raise ValueError("kube_audit_events and the kubelet_* bounds must be >= 1")
        object.__setattr__(self, "kubelet_images", tuple(self.kubelet_images))
        rules = tuple(f if isinstance(f, FaultRule) else FaultRule.from_json(f) for f in self.faults)
        object.__setattr__(self, "faults", rules)
        object.__setattr__(self, "data_directory", Path(self.data_directory))

    def fault_rules(self) -> tuple[FaultRule, ...]:
        return tuple(f for f in self.faults if isinstance(f, FaultRule))
