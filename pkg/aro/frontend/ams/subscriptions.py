"""``/api/accounts_mgmt/v1/subscriptions``: search, get, patch and delete, as AMS serves them.

The list takes ``search`` (AMS's filter language, ``aro.ledger.search``), ``order`` (``field [asc|desc], …``),
``page`` (from 1), ``size`` (default 100, at most 1000; 0: only the total) and ``fields``; it answers
``{kind: "SubscriptionList", page, size, total, items}``. A caller sees its own organization's
subscriptions; an SRE sees every organization's. A subscription of another organization is 404 to others.
With ``fetchLabels=true`` the list and the get add to each subscription its ``labels`` (as its labels route
renders them, sorted by key); the list fetches them for the whole page at once. ``labels=KEY=VALUE,KEY``
keeps the subscriptions that have every one of those labels (a bare key: with any value).

PATCH takes ``display_name`` from the organization; an SRE may also set ``status``, ``console_url``,
``external_cluster_id`` and ``support_level``. DELETE is an SRE's (its labels go with it).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from aro.database import Conflict, Doc
from aro.database.query import MAX_LIMIT, And, Expr, In, Query
from aro.frontend.ams.common import Caller, LedgerDep, answer, fields_param, json_body, require_sre, search_list
from aro.ledger.fields import SUBSCRIPTION_FIELDS, ams_time
from aro.ledger.identity import Principal
from aro.ledger.model import (
    LABEL_KEY,
    MAX_LABEL_VALUE,
    LedgerError,
    OwnerType,
    Status,
    clean_text,
    not_found,
    project,
    render_label,
    render_subscription,
)
from aro.ledger.service import Ledger
from aro.ledger.telemetry import valid_cluster_id

router = APIRouter()
BASE = "/accounts_mgmt/v1/subscriptions"
SUPPORT_LEVELS = ("Eval", "Standard", "Premium", "Self-Support", "None")
MAX_LABEL_FILTERS = 10


def _fetch_labels(request: Request) -> bool:
    """AMS's ``fetchLabels``: whether each subscription carries its labels (absent: no)."""
    raw = request.query_params.get("fetchLabels")
    if raw is None or raw == "false":
        return False
    if raw == "true":
        return True
    raise LedgerError(400, "Parameter 'fetchLabels' must be true or false")


def _labels_param(request: Request) -> list[tuple[str, str | None]]:
    """AMS's ``labels``: ``KEY=VALUE`` (or a bare ``KEY``: any value), comma-separated, all of them wanted."""
    raw = request.query_params.get("labels")
    if not raw:
        return []
    out: list[tuple[str, str | None]] = []
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not LABEL_KEY.match(key) or len(value) > MAX_LABEL_VALUE:
            raise LedgerError(400, "Parameter 'labels' must be a comma-separated list of KEY=VALUE or KEY")
        out.append((key, value if sep else None))
    if len(out) > MAX_LABEL_FILTERS:
        raise LedgerError(400, f"Parameter 'labels' takes at most {MAX_LABEL_FILTERS} labels")
    return out


async def _labelled(ledger: Ledger, wanted: list[tuple[str, str | None]], scope: str | None) -> Expr | None:
    """The subscriptions with every wanted label, as a filter on their ids; None when there are none."""
    matched: set[tuple[str, str]] | None = None
    for key, value in wanted:
        found = await ledger.labels.subscriptions_labelled(key, value, scope, MAX_LIMIT)
        if found is None:
            raise LedgerError(400, f"More than {MAX_LIMIT} subscriptions have label '{key}': narrow it with a value")
        matched = found if matched is None else matched & found
        if not matched:
            return None
    assert matched is not None
    return In(("subscription", "id"), tuple(sorted(sub_id for _, sub_id in matched)))


@router.get(BASE, summary="Search subscriptions")
async def list_subscriptions(request: Request, ledger: LedgerDep, principal: Caller) -> Response:
    fetch_labels = _fetch_labels(request)
    wanted = _labels_param(request)
    scope = None if principal.sre else principal.organization_id

    async def run(query: Query) -> tuple[list[Doc], int]:
        if wanted:
            ids = await _labelled(ledger, wanted, scope)
            if ids is None:
                return [], 0
            query = dataclasses.replace(query, where=ids if query.where is None else And((ids, query.where)))
        return await ledger.subscriptions.search(query, scope)

    async def with_labels(items: list[dict[str, Any]]) -> None:
        labels = await ledger.labels.of_subscriptions((i["organization_id"], i["id"]) for i in items)
        for item in items:
            item["labels"] = [render_label(label) for label in labels[item["id"]]]

    decorate = with_labels if fetch_labels else None
    return await search_list(request, "Subscription", SUBSCRIPTION_FIELDS, run, render_subscription, None, decorate)


async def _visible(ledger: Ledger, principal: Principal, subscription_id: str) -> Doc:
    scope = None if principal.sre else principal.organization_id
    doc = await ledger.subscriptions.get(subscription_id, scope)
    if doc is None:
        raise not_found("Subscription", subscription_id)
    return doc


@router.get(BASE + "/{subscription_id}", summary="Get a subscription")
async def get_subscription(subscription_id: str, request: Request, ledger: LedgerDep, principal: Caller) -> Response:
    doc = await _visible(ledger, principal, subscription_id)
    body = render_subscription(doc)
    fields = fields_param(request)
    if _fetch_labels(request):
        labels = await ledger.labels.list(OwnerType.SUBSCRIPTION, subscription_id, doc["partitionKey"])
        body["labels"] = [render_label(label) for label in labels]
    return answer(project(body, fields) if fields is not None else body)


def _patch(body: Any, sre: bool) -> dict[str, Any]:
    """The fields a PATCH sets, checked (400/403 in OCM's envelope)."""
    if not isinstance(body, dict):
        raise LedgerError(400, "The request body must be a JSON object")
    mine = {"display_name"}
    theirs = {"status", "console_url", "external_cluster_id", "support_level"}
    unknown = set(body) - mine - theirs
    if unknown:
        raise LedgerError(400, f"Field(s) {', '.join(sorted(unknown)[:5])} cannot be changed")
    if not sre and set(body) & theirs:
        raise LedgerError(403, f"Only an SRE may change {', '.join(sorted(set(body) & theirs))}")
    out: dict[str, Any] = {}
    if "display_name" in body:
        out["display_name"] = clean_text(body["display_name"], "display_name", 256)
    if "status" in body:
        if body["status"] not in [s.value for s in Status]:
            raise LedgerError(400, f"'status' must be one of {', '.join(s.value for s in Status)}")
        out["status"] = body["status"]
    if "console_url" in body:
        url = clean_text(body["console_url"], "console_url", 512)
        if not url.startswith("https://"):
            raise LedgerError(400, "'console_url' must be an https URL")
        out["console_url"] = url
    if "external_cluster_id" in body:
        external = clean_text(body["external_cluster_id"], "external_cluster_id", 64)
        if not valid_cluster_id(external):
            raise LedgerError(400, "'external_cluster_id' must be an OpenShift cluster id")
        out["external_cluster_id"] = external
    if "support_level" in body:
        if body["support_level"] not in SUPPORT_LEVELS:
            raise LedgerError(400, f"'support_level' must be one of {', '.join(SUPPORT_LEVELS)}")
        out["support_level"] = body["support_level"]
    return out


@router.patch(BASE + "/{subscription_id}", summary="Change a subscription")
async def patch_subscription(subscription_id: str, request: Request, ledger: LedgerDep, principal: Caller) -> Response:
    doc = await _visible(ledger, principal, subscription_id)
    changes = _patch(await json_body(request), principal.sre)

    def mutate(current: Doc) -> bool:
        sub = current["subscription"]
        if all(sub.get(k) == v for k, v in changes.items()):
            return False
        if "status" in changes and sub.get("status") != changes["status"]:
            current["heartbeat"] = ams_time(time.time())  # Stale and Archived are measured from the change
        sub.update(changes)
        return True

    try:
        updated = await ledger.subscriptions.update(doc["partitionKey"], subscription_id, mutate)
    except Conflict:
        raise LedgerError(409, "Another subscription of the organization has that external_cluster_id") from None
    if updated is None:
        raise not_found("Subscription", subscription_id)
    return answer(render_subscription(updated))


@router.delete(BASE + "/{subscription_id}", summary="Delete a subscription")
async def delete_subscription(subscription_id: str, request: Request, ledger: LedgerDep, principal: Caller) -> Response:
    doc = await _visible(ledger, principal, subscription_id)
    require_sre(principal, "delete a subscription")
    org_id = doc["partitionKey"]
    await ledger.labels.delete_all(OwnerType.SUBSCRIPTION, subscription_id, org_id)
    await ledger.subscriptions.delete(org_id, subscription_id)
    return Response(status_code=204)
