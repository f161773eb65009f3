"""Telemetry: the token a cluster sends its reports with, and a report as the ledger reads it.

Each installed cluster holds (Secret ``aro-telemeter`` in ``openshift-monitoring``, written by the RP's
install) the upload URL, its OpenShift cluster id, the interval and a token. The token names the cluster's
organization and is an HMAC under a key derived from the RP's secret key (``Sealer.derive``): every RP
process can check it, and it is the same for every cluster of an organization (as a pull secret's
``cloud.openshift.com`` token is an account's, not a cluster's), which is how telemetry of a cluster the
ledger does not know can still be filed under an organization.

A report (``POST /api/telemetry/v1/upload``, JSON, at most 64 KiB)::

    {"cluster_id", "timestamp", "health_state", "state", "openshift_version", "console_url",
     "cloud_provider", "region", "nodes": {"total", "master", "compute"}, "cpu": {"used", "total"},
     "memory": {"used", "total"} (bytes), "critical_alerts_firing", "operators_condition_failing"}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from typing import Any

from aro.ledger.fields import ams_time
from aro.ledger.ids import valid_id
from aro.ledger.model import LedgerError, clean_text
from aro.util.crypto import Sealer

SECRET_NAMESPACE = "openshift-monitoring"
SECRET_NAME = "aro-telemeter"
UPLOAD_PATH = "/api/telemetry/v1/upload"
MAX_REPORT_BYTES = 64 * 1024

_PREFIX = "aro-telemetry.v1."
_CLUSTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}\Z")


class TelemetryTokens:
    def __init__(self, sealer: Sealer) -> None:
        self._key = sealer.derive("telemetry-token")

    def _mac(self, organization_id: str) -> str:
        digest = hmac.new(self._key, organization_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, organization_id: str) -> str:
        return f"{_PREFIX}{organization_id}.{self._mac(organization_id)}"

    def organization(self, token: str) -> str:
        """The organization a token was issued for (401 in OCM's envelope when it is not one of ours)."""
        if not token.startswith(_PREFIX) or len(token) > 256:
            raise LedgerError(401, "The telemetry token is not valid")
        org_id, _, mac = token[len(_PREFIX) :].partition(".")
        if not valid_id(org_id) or not hmac.compare_digest(mac.encode(), self._mac(org_id).encode()):
            raise LedgerError(401, "The telemetry token is not valid")
        return org_id


def valid_cluster_id(value: str) -> bool:
    return bool(_CLUSTER_ID.match(value))


def _number(report: dict[str, Any], *path: str) -> float:
    value: Any = report
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LedgerError(400, f"'{'.'.join(path)}' must be a number")
    if not 0 <= value <= 1e18:
        raise LedgerError(400, f"'{'.'.join(path)}' is out of range")
    return value


def _text(report: dict[str, Any], name: str, limit: int = 256) -> str:
    value = report.get(name, "")
    return "" if value is None else clean_text(value, name, limit)


def _https(url: str) -> str:
    """A console URL as a cluster reports it: an https URL, else nothing (as a PATCH would refuse it)."""
    return url if url.startswith("https://") else ""


def parse_report(report: Any, now: float) -> tuple[str, dict[str, Any]]:
    """``(external cluster id, metrics as AMS renders them)`` (400 in OCM's envelope on a bad report)."""
    if not isinstance(report, dict):
        raise LedgerError(400, "The telemetry report must be a JSON object")
    cluster_id = _text(report, "cluster_id", 64)
    if not valid_cluster_id(cluster_id):
        raise LedgerError(400, "'cluster_id' must be the cluster's OpenShift id")
    health = _text(report, "health_state", 32) or "unknown"
    stamp = ams_time(now)

    def resource(name: str, unit: str) -> dict[str, Any]:
        return {
            "updated_timestamp": stamp,
            "used": {"value": _number(report, name, "used"), "unit": unit},
            "total": {"value": _number(report, name, "total"), "unit": unit},
        }

    nodes = {k: int(_number(report, "nodes", k)) for k in ("total", "master", "compute")}
    metrics = {
        "health_state": health,
        "query_timestamp": stamp,
        "memory": resource("memory", "B"),
        "cpu": resource("cpu", ""),
        "nodes": nodes,
        "state": _text(report, "state", 32),
        "openshift_version": _text(report, "openshift_version", 64),
        "console_url": _https(_text(report, "console_url", 512)),
        "cloud_provider": _text(report, "cloud_provider", 32),
        "region": _text(report, "region", 64),
        "critical_alerts_firing": int(_number(report, "critical_alerts_firing")),
        "operators_condition_failing": int(_number(report, "operators_condition_failing")),
    }
    return cluster_id, metrics
