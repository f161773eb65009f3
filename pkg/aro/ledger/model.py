"""The ledger's documents and the AMS objects they render to.

Containers (every document ``{id, partitionKey, key, ...}``; ``key`` unique within the partition):

- ``ledgerOrganizations``: partition ``organizations``; ``key`` = ``tenant:{tenant id}`` -- one organization
  per Azure tenant is a store constraint. ``{organization: {id, name, external_id, created_at, updated_at},
  seeded}`` (``seeded``: the default capability labels exist).
- ``ledgerSubscriptions``: partition = the organization id; ``key`` = ``external:{external_cluster_id}`` once
  the cluster's OpenShift id is known, else ``id:{id}`` -- an external cluster id names at most one
  subscription of an organization, also a store constraint. ``{subscription: {<the AMS object>},
  heartbeat, resource}``: ``heartbeat`` (the later of the last telemetry and the activation) is what Stale
  and Archived are measured from; ``resource`` the cluster's ARM id (lower-case) it follows.
- ``ledgerLabels``: partition = the owner's organization id; ``key`` = ``{Organization|Subscription}:{owner
  id}:{label key}``. ``{label: {<the AMS object>}}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from aro.database.store import Doc

BASE = "/api/accounts_mgmt/v1"

ORGANIZATIONS_PARTITION = "organizations"


class Status(StrEnum):
    """AMS's subscription statuses (``Deprovisioned`` and ``Disconnected`` are set by an SRE only)."""

    RESERVED = "Reserved"
    ACTIVE = "Active"
    STALE = "Stale"
    ARCHIVED = "Archived"
    DEPROVISIONED = "Deprovisioned"
    DISCONNECTED = "Disconnected"


class Provenance(StrEnum):
    PROVISIONING = "Provisioning"  # reserved by the RP when a cluster is created
    TELEMETRY = "Telemetry"  # created by telemetry of a cluster the ledger did not know: a bug indication


@dataclass(frozen=True)
class Plan:
    type: str
    category: str
    name: str = ""  # human readable: in the catalog (``…/plans``), not in a subscription's link

    @property
    def id(self) -> str:
        return f"{self.type}-{self.category}" if self.category else self.type

    def render(self) -> dict[str, str]:
        """The link a subscription carries: ``{id, kind, href, type, category?}``."""
        body = {"id": self.id, "kind": "Plan", "href": f"{BASE}/plans/{self.id}", "type": self.type}
        if self.category:
            body["category"] = self.category
        return body

    def render_full(self) -> dict[str, str]:
        """The plan as ``…/plans/{id}`` serves it: the link and the name."""
        return {**self.render(), "name": self.name}


CLASSIC_PLAN = Plan("OCP", "ARO", "OpenShift Container Platform on Azure Red Hat OpenShift")
HOSTED_PLAN = Plan("OCP", "ARO-HCP", "OpenShift Container Platform on Azure Red Hat OpenShift, hosted control planes")
UNSUBSCRIBED_PLAN = Plan("OCP", "", "OpenShift Container Platform")
# every plan a subscription can link to, by id in id order: what ``…/plans`` serves
PLANS: Mapping[str, Plan] = MappingProxyType(
    {p.id: p for p in sorted((CLASSIC_PLAN, HOSTED_PLAN, UNSUBSCRIBED_PLAN), key=lambda p: p.id)}
)


class LedgerError(Exception):
    """An error in OCM's envelope: ``{kind: "Error", id, href, code, reason, operation_id}``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def body(self, operation_id: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Error",
            "id": str(self.status),
            "href": f"{BASE}/errors/{self.status}",
            "code": f"ACCT-MGMT-{self.status}",
            "reason": self.reason,
        }
        if operation_id:
            out["operation_id"] = operation_id
        return out


def not_found(what: str, id: str) -> LedgerError:
    return LedgerError(404, f"{what} with id '{id[:64]}' not found")


# --- subscriptions ---------------------------------------------------------------------------------------


def subscription_key(sub: dict[str, Any]) -> str:
    external = sub.get("external_cluster_id")
    return f"external:{external}" if external else f"id:{sub['id']}"


def href(kind: str, id: str) -> str:
    return f"{BASE}/{kind}/{id}"


def render_subscription(doc: Doc) -> dict[str, Any]:
    sub = doc["subscription"]
    body: dict[str, Any] = {"id": sub["id"], "kind": "Subscription", "href": href("subscriptions", sub["id"])}
    body.update((k, v) for k, v in sub.items() if v is not None and k != "id")
    return body


def project(body: dict[str, Any], fields: list[tuple[str, ...]]) -> dict[str, Any]:
    """AMS's ``fields`` parameter: only the named (dotted) fields, and always ``id``, ``kind`` and ``href``."""
    out: dict[str, Any] = {k: body[k] for k in ("id", "kind", "href") if k in body}
    for path in fields:
        src: Any = body
        for part in path:
            src = src.get(part) if isinstance(src, dict) else None
        if src is None:
            continue
        dst = out
        for part in path[:-1]:
            dst = dst.setdefault(part, {})
        dst[path[-1]] = src
    return out


# --- organizations and labels ------------------------------------------------------------------------------


def render_organization(doc: Doc) -> dict[str, Any]:
    org = doc["organization"]
    return {"id": org["id"], "kind": "Organization", "href": href("organizations", org["id"]), **org}


LABEL_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}\Z")
MAX_LABEL_VALUE = 1024


class OwnerType(StrEnum):
    ORGANIZATION = "Organization"
    SUBSCRIPTION = "Subscription"

    @property
    def segment(self) -> str:
        return "organizations" if self is OwnerType.ORGANIZATION else "subscriptions"


def label_key(owner: OwnerType, owner_id: str, key: str) -> str:
    return f"{owner.value}:{owner_id}:{key}"


def render_label(doc: Doc) -> dict[str, Any]:
    label = doc["label"]
    owner = OwnerType(label["type"])
    owner_id = label["organization_id"] if owner is OwnerType.ORGANIZATION else label["subscription_id"]
    return {"kind": "Label", "href": f"{href(owner.segment, owner_id)}/labels/{label['key']}", **label}


def list_body(kind: str, items: list[dict[str, Any]], page: int, total: int) -> dict[str, Any]:
    return {"kind": kind, "page": page, "size": len(items), "total": total, "items": items}


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean_text(value: Any, what: str, limit: int) -> str:
    """A user-supplied string: a string, at most ``limit`` characters, no control or bidi-override
    characters (400 otherwise)."""
    if not isinstance(value, str):
        raise LedgerError(400, f"'{what}' must be a string")
    if len(value) > limit:
        raise LedgerError(400, f"'{what}' is longer than {limit} characters")
    if _CONTROL.search(value):
        raise LedgerError(400, f"'{what}' must not contain control characters")
    return value
