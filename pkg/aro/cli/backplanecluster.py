"""Which cluster an `aro backplane` argument names, as backplane-cli asks OCM -- here the account ledger's
subscriptions (``GET /api/accounts_mgmt/v1/subscriptions?search=...``).

An argument is, in this order: a cluster id (the ledger's ``cluster_id``, the backplane's ``clusterId``), an
external cluster id (OpenShift's), a display name (exact), else a part of a display name (``display_name like
'%arg%'``; an argument with ``%`` is the pattern itself, as ``ocm backplane login %test%``). Exactly one
cluster must match: none, or several, is an error listing the candidates (id, name, external id, status).
Subscriptions Archived or Deprovisioned, and those without a cluster id, are never candidates.

``find_cluster`` takes the search as a function (``Search``): the CLI passes the ledger's; tests a list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from aro.cli.errors import CliError, UsageError
from aro.cli.ocm import AMS, Ocm, settings_for
from aro.cli.ocmconfig import OcmConfig

GONE = ("Archived", "Deprovisioned")
PAGE_SIZE = 100
MAX_KEY = 256
ALIVE = "status not in ('Archived', 'Deprovisioned')"

# (search text, page size) -> (items, total)
Search = Callable[[str, int], tuple[list[dict[str, Any]], int]]


@dataclass(frozen=True)
class Cluster:
    """A ledger subscription, as the backplane commands use it."""

    id: str  # cluster_id: the backplane's clusterId
    name: str  # display_name
    external_id: str
    status: str
    console_url: str
    region: str
    subscription_id: str

    @classmethod
    def of(cls, sub: dict[str, Any]) -> Cluster:
        def text(key: str) -> str:
            value = sub.get(key)
            return value if isinstance(value, str) else ""

        return cls(
            text("cluster_id"),
            text("display_name"),
            text("external_cluster_id"),
            text("status"),
            text("console_url"),
            text("region_id"),
            text("id"),
        )


def quote(value: str) -> str:
    """A search string literal: single-quoted, a quote doubled."""
    return "'" + value.replace("'", "''") + "'"


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY or any(not c.isprintable() for c in key):
        raise UsageError(f"invalid cluster {key[:80]!r}: give a cluster id, an external id or a name")
    return key


def exact_search(key: str) -> str:
    q = quote(key)
    return f"(cluster_id = {q} or external_cluster_id = {q} or display_name = {q}) and {ALIVE}"


def name_search(key: str) -> str:
    pattern = key if "%" in key else f"%{key}%"
    return f"display_name like {quote(pattern)} and {ALIVE}"


def id_search(cluster_id: str) -> str:
    return f"cluster_id = {quote(cluster_id)}"


def _candidates(items: list[dict[str, Any]]) -> list[Cluster]:
    return [c for c in map(Cluster.of, items) if c.id and c.status not in GONE]


def table(clusters: Sequence[Cluster]) -> str:
    """The candidates, one a line (under a header), for the error's hint."""
    rows = [("ID", "NAME", "EXTERNAL ID", "STATUS")] + [
        (c.id, c.name, c.external_id or "-", c.status) for c in clusters
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _ambiguous(key: str, how: str, clusters: list[Cluster], total: int) -> CliError:
    more = f" (and {total - len(clusters)} more)" if total > len(clusters) else ""
    return CliError(
        f"{total} clusters {how} {key!r}: name one by its id{more}",
        table(clusters),
    )


def find_cluster(key: str, search: Search) -> Cluster:
    """The one cluster ``key`` names (CliError: none, or several -- listed)."""
    key = check_key(key)
    items, _ = search(exact_search(key), PAGE_SIZE)
    exact = _candidates(items)
    for field in ("id", "external_id", "name"):
        matches = [c for c in exact if getattr(c, field) == key]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            what = {"id": "have the id", "external_id": "have the external id", "name": "are named"}[field]
            raise _ambiguous(key, what, matches, len(matches))
    items, total = search(name_search(key), PAGE_SIZE)
    found = _candidates(items)
    if len(found) == 1 and total <= 1:
        return found[0]
    if not found:
        raise CliError(
            f"no cluster has the id, external id or name {key!r}",
            "see them with: aro ocm get subscriptions -p search=\"status = 'Active'\"",
        )
    raise _ambiguous(key, "have a name like", found, max(total, len(found)))


def find_by_id(cluster_id: str, search: Search) -> Cluster:
    """The cluster of a backplane cluster id (from the kubeconfig), whatever its status."""
    items, _ = search(id_search(cluster_id), 10)
    found = [c for c in map(Cluster.of, items) if c.id == cluster_id]
    if not found:
        raise CliError(f"the ledger has no cluster with the id {cluster_id!r}")
    alive = [c for c in found if c.status not in GONE]
    return (alive or found)[0]


# --- the ledger's search ---------------------------------------------------------------------------------


class Ledger:
    """The account ledger's subscriptions, with the OCM config's token (``aro ocm``'s client)."""

    def __init__(self, config: OcmConfig | None, token: str, transport: httpx.BaseTransport | None = None) -> None:
        self.ocm = Ocm(settings_for(None, None, config), token, transport)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ocm.__exit__(*exc)

    def search(self, text: str, size: int) -> tuple[list[dict[str, Any]], int]:
        response = self.ocm.request("GET", f"{AMS}/subscriptions", [("search", text), ("size", str(size))])
        try:
            page = response.json()
        except ValueError:
            page = None
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise CliError(f"the RP answered GET {AMS}/subscriptions with a body that is not a list")
        items = [i for i in page["items"] if isinstance(i, dict)]
        total = page.get("total")
        return items, total if isinstance(total, int) else len(items)
