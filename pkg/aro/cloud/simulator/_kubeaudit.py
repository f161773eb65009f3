"""The audit log of the cluster APIs: every request to a cluster API, as an ``audit.k8s.io/v1`` ``Event`` (level
``Metadata``: no bodies), kept in memory -- a restart starts empty.

Bounds: per cluster a ring of the last ``SimulatorConfig.kube_audit_events`` events (stored as compact
JSON); at most ``MAX_CLUSTERS`` clusters are kept, the one audited least recently is forgotten first.

An event:

- ``auditID`` (also the answer's ``Audit-Id`` header), ``stage`` ``ResponseComplete`` -- a streamed answer
  (a watch, a followed log) is audited twice under one auditID: ``ResponseStarted`` when it starts and
  ``ResponseComplete`` when it ends;
- ``requestURI``: the path under the cluster's base path (``/api/v1/namespaces/x/pods?limit=500``);
- ``verb``: a resource request's Kubernetes verb (``get list watch create update patch delete
  deletecollection``), else the HTTP method in lower case;
- ``user``: who authenticated (``username``, ``groups``; ``{}`` when authentication failed);
  ``impersonatedUser``: who the request acted as, when ``Impersonate-User`` was honoured;
- ``sourceIPs`` (``X-Forwarded-For``'s entries, then the peer), ``userAgent``;
- ``objectRef`` (a resource request): ``resource``, ``subresource``, ``namespace``, ``name``, ``apiGroup``,
  ``apiVersion`` (empty ones left out);
- ``responseStatus``: ``code``, and a failure's ``status``, ``reason`` and ``message``;
- ``requestReceivedTimestamp``, ``stageTimestamp`` (RFC 3339, microseconds).

Served at ``GET /simulator/audit?server=<URL>[&user=<name>]`` (admin; ``_app``): ``server`` is the cluster
API's URL as a kubeconfig for it carries it (only its path counts: ``/management``,
``/hostedclusters/{ns}``, ``/clusters/{sub}/{rg}``); ``user`` keeps the events whose ``user.username`` or
``impersonatedUser.username`` is that name. The answer is an ``EventList``, oldest first.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from ._http import Request

Object = dict[str, Any]
MAX_CLUSTERS = 32


def _rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}Z"


@dataclass
class AuditEvent:
    """One request's event while it is served (the database thread fills in who and what)."""

    audit_id: str
    request_uri: str
    verb: str
    received: float
    source_ips: list[str]
    user_agent: str
    user: Object = field(default_factory=dict)
    impersonated: Object | None = None
    object_ref: Object | None = None
    long_running: bool = False  # a watch or a followed log: audited when it starts, and when it ends

    def set_object(
        self, verb: str, resource: str, namespace: str | None, name: str | None, group: str = "", subresource: str = ""
    ) -> None:
        self.verb = verb
        ref = {
            "resource": resource,
            "subresource": subresource,
            "namespace": namespace or "",
            "name": name or "",
            "apiGroup": group,
            "apiVersion": "v1",
        }
        self.object_ref = {k: v for k, v in ref.items() if v}

    def render(self, stage: str, code: int, body: Any) -> Object:
        status: Object = {"metadata": {}, "code": code}
        if code >= 400 and isinstance(body, dict) and body.get("kind") == "Status":
            status.update({k: body[k] for k in ("status", "reason", "message") if k in body})
        out: Object = {
            "level": "Metadata",
            "auditID": self.audit_id,
            "stage": stage,
            "requestURI": self.request_uri,
            "verb": self.verb,
            "user": self.user,
        }
        if self.impersonated is not None:
            out["impersonatedUser"] = self.impersonated
        out["sourceIPs"] = self.source_ips
        out["userAgent"] = self.user_agent
        if self.object_ref is not None:
            out["objectRef"] = self.object_ref
        out["responseStatus"] = status
        out["requestReceivedTimestamp"] = _rfc3339(self.received)
        out["stageTimestamp"] = _rfc3339(time.time())
        return out


def begin(req: Request, rest: list[str]) -> AuditEvent:
    """The event of a request to a cluster API (``rest``: the path under the cluster's base path)."""
    uri = "/" + "/".join(rest)
    if req.query_string:
        uri += "?" + req.query_string
    forwarded = [ip.strip() for ip in req.headers.get("x-forwarded-for", "").split(",") if ip.strip()]
    sources = forwarded + ([req.client_ip] if req.client_ip and req.client_ip not in forwarded else [])
    return AuditEvent(
        str(uuid.uuid4()),
        uri,
        req.method.lower(),
        time.time(),
        sources,
        req.headers.get("user-agent", ""),
    )


def user_info(user: str, groups: tuple[str, ...]) -> Object:
    return {"username": user, "groups": list(groups)}


class AuditLog:
    """The rings, by cluster key. Used on the event loop only."""

    def __init__(self, events_per_cluster: int, max_clusters: int = MAX_CLUSTERS) -> None:
        self.events_per_cluster = events_per_cluster
        self.max_clusters = max_clusters
        self._rings: OrderedDict[str, deque[str]] = OrderedDict()

    def record(self, cluster: str, event: AuditEvent, stage: str, code: int, body: Any = None) -> None:
        ring = self._rings.get(cluster)
        if ring is None:
            ring = self._rings[cluster] = deque(maxlen=self.events_per_cluster)
            while len(self._rings) > self.max_clusters:
                self._rings.popitem(last=False)
        else:
            self._rings.move_to_end(cluster)
        ring.append(json.dumps(event.render(stage, code, body), separators=(",", ":")))

    def query(self, cluster: str, user: str | None = None) -> Object:
        items = [json.loads(e) for e in self._rings.get(cluster, ())]
        if user:
            items = [
                e
                for e in items
                if e["user"].get("username") == user or (e.get("impersonatedUser") or {}).get("username") == user
            ]
        return {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": items}
