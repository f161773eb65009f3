"""What a simulated cluster's telemeter-client reads and sends (the sender is ``_telemetry``): the
``aro-telemeter`` Secret, the capacity of Azure VM sizes, and the upload body. Pure functions.

**The Secret** (namespace ``openshift-monitoring`` of the cluster's own API; ``data`` values base64, as
Kubernetes stores them -- ``stringData`` folds into ``data`` on write):

| key | meaning |
|---|---|
| ``url`` | the upload URL; ``https`` with a host, else the secret is invalid |
| ``token`` | sent as ``Authorization: Bearer {token}`` |
| ``clusterID`` | the cluster's external id (the admin routes use it); without it the secret is ignored |
| ``interval`` | seconds between uploads, a positive decimal (``"60"``, ``"0.5"``); ``MIN_INTERVAL_SECONDS`` at least |
| ``ca.crt`` | optional PEM bundle verifying the upload server's certificate; absent: the system trust store |
| ``consoleURL``, ``version`` | optional; sent as ``console_url`` and ``openshift_version`` |

An invalid secret (a clusterID, but a bad url, token, interval or ``ca.crt``) is listed with the problem
as ``lastError`` and sends nothing until it is fixed.

**VM sizes.** ``vm_capacity(size)`` is (vCPUs, GiB): the D/E/F naming rules Azure follows for the common
sizes -- ``Standard_{D|E}{n}{features}_v{3,4,5,6}`` has n vCPUs and 4 GiB each (D; 2 with ``l`` in the
features, e.g. ``D4ls_v5``, ``D4pls_v5``), 8 GiB each (E); ``Standard_F{n}{features}[_v2]`` n vCPUs, 2 GiB
each -- plus the exceptions in ``_EXCEPTIONS``. Anything else (older D v2, M, L, N series...) counts as
``UNKNOWN_SIZE`` (4 vCPUs, 16 GiB).

**Usage.** ``used`` is a deterministic fraction between 25% and 45% of the total: a slow sine (period
``USAGE_PERIOD_SECONDS``) whose phase comes from the cluster id (CPU and memory apart).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

Object = dict[str, Any]
SECRET_NAMESPACE = "openshift-monitoring"
SECRET_NAME = "aro-telemeter"
MIN_INTERVAL_SECONDS = 0.05
MAX_CLUSTER_ID = 256
GIB = 1024**3
UNKNOWN_SIZE = (4, 16)
USAGE_PERIOD_SECONDS = 900.0
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"

_SIZE = re.compile(r"^(?:standard_)?(?P<family>[def])(?P<cpus>\d+)(?P<features>[a-z]*)(?:_v(?P<version>\d+))?$")
_EXCEPTIONS = {
    "standard_e64_v3": (64, 432),
    "standard_e64s_v3": (64, 432),
    "standard_e32ps_v5": (32, 208),
    "standard_e96s_v5": (96, 672),
    "standard_e96ds_v5": (96, 672),
    "standard_e96as_v5": (96, 672),
    "standard_e104is_v5": (104, 672),
}


def vm_capacity(size: str | None) -> tuple[int, int]:
    """(vCPUs, memory in GiB) of an Azure VM size (module docstring); unknown: ``UNKNOWN_SIZE``."""
    name = (size or "").strip().lower()
    if name in _EXCEPTIONS:
        return _EXCEPTIONS[name]
    m = _SIZE.match(name)
    if m is None:
        return UNKNOWN_SIZE
    family, cpus, features, version = m["family"], int(m["cpus"]), m["features"], m["version"]
    if cpus < 1:
        return UNKNOWN_SIZE
    if family == "f" and (version is None or version == "2"):
        return cpus, 2 * cpus
    if family in "de" and version is not None and 3 <= int(version) <= 6:
        per_cpu = 8 if family == "e" else 2 if "l" in features else 4
        return cpus, per_cpu * cpus
    return UNKNOWN_SIZE


@dataclass(frozen=True)
class SecretConfig:
    cluster_id: str
    url: str = ""
    token: str = ""
    interval: float | None = None
    ca: str | None = None
    console_url: str = ""
    version: str = ""
    problem: str | None = None  # why nothing is sent (an invalid secret), None when valid


def _decoded(data: Object, key: str, problems: list[str]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, ValueError):
        problems.append(f"data.{key} is not base64 of UTF-8 text")
        return None


def parse_secret(secret: Object | None) -> SecretConfig | None:
    """The sender's configuration from an ``aro-telemeter`` Secret; None without a usable ``clusterID``."""
    data = (secret or {}).get("data")
    if not isinstance(data, dict):
        return None
    problems: list[str] = []
    cluster_id = (_decoded(data, "clusterID", []) or "").strip()
    if not cluster_id or len(cluster_id) > MAX_CLUSTER_ID or any(c.isspace() or c == "/" for c in cluster_id):
        return None
    url = (_decoded(data, "url", problems) or "").strip()
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() != "https" or not parts.hostname:
            problems.append("url must be an https URL with a host")
        parts.port  # noqa: B018 -- raises on a bad port
    except ValueError:
        problems.append("url is not a valid URL")
    token = (_decoded(data, "token", problems) or "").strip()
    if not token or any(c in token for c in "\r\n\0"):
        problems.append("token is missing or not a single line")
    interval: float | None = None
    raw_interval = _decoded(data, "interval", problems)
    try:
        interval = float((raw_interval or "").strip())
        if not math.isfinite(interval) or interval <= 0:
            raise ValueError
        interval = max(interval, MIN_INTERVAL_SECONDS)
    except ValueError:
        interval = None
        problems.append("interval must be a positive number of seconds")
    ca = _decoded(data, "ca.crt", problems)
    if ca is not None:
        try:
            x509.load_pem_x509_certificates(ca.encode())
        except ValueError:
            problems.append("ca.crt holds no PEM certificate")
    return SecretConfig(
        cluster_id=cluster_id,
        url=url,
        token=token,
        interval=interval,
        ca=ca,
        console_url=(_decoded(data, "consoleURL", problems) or "").strip(),
        version=(_decoded(data, "version", problems) or "").strip(),
        problem="invalid aro-telemeter secret: " + "; ".join(problems) if problems else None,
    )


@dataclass(frozen=True)
class ClusterFacts:
    """What the cluster API shows at upload time (read in one store transaction)."""

    nodes: int
    masters: int
    sizes: tuple[str, ...]  # each node's instance type ("" when unknown)
    ready: bool  # before the clusterReady faults (those live on the event loop)
    region: str
    fault_target: str  # what a clusterReady fault's ``match`` is compared with, as ``/readyz`` does


def node_facts(nodes: list[Object], masters: int) -> tuple[int, int, tuple[str, ...]]:
    sizes = tuple(str(((n.get("metadata") or {}).get("labels") or {}).get(INSTANCE_TYPE_LABEL) or "") for n in nodes)
    return len(nodes), masters, sizes


def usage_fraction(cluster_id: str, what: str, now: float) -> float:
    """Deterministic, between 0.25 and 0.45: a slow sine whose phase comes from the cluster id."""
    phase = int(hashlib.sha256(f"{cluster_id}/{what}".encode()).hexdigest()[:8], 16) / 2**32
    return 0.35 + 0.10 * math.sin(2 * math.pi * (now / USAGE_PERIOD_SECONDS + phase))


def payload(config: SecretConfig, facts: ClusterFacts, ready: bool, now: float, timestamp: str) -> Object:
    """The upload body."""
    capacities = [vm_capacity(size) for size in facts.sizes]
    cpus = sum(c for c, _ in capacities)
    memory = sum(g for _, g in capacities) * GIB
    return {
        "cluster_id": config.cluster_id,
        "timestamp": timestamp,
        "health_state": "healthy" if ready else "unhealthy",
        "state": "ready" if ready else "not_ready",
        "openshift_version": config.version,
        "console_url": config.console_url,
        "cloud_provider": "azure",
        "region": facts.region,
        "nodes": {"total": facts.nodes, "master": facts.masters, "compute": facts.nodes - facts.masters},
        "cpu": {"used": round(cpus * usage_fraction(config.cluster_id, "cpu", now), 2), "total": cpus},
        "memory": {"used": int(memory * usage_fraction(config.cluster_id, "memory", now)), "total": memory},
        "critical_alerts_firing": 0,
        "operators_condition_failing": 0,
    }
