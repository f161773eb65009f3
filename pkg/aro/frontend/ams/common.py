"""What the ledger's routes share: the ledger and the caller (bearer token) as dependencies, bounded JSON
bodies and query parameters, and every answer and error in OCM's shapes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from aro.database import Doc, UnsupportedQuery
from aro.database.query import MAX_LIMIT, And, Expr, Query
from aro.frontend.body import BodyError, plain_answer, read_json
from aro.frontend.services import services_of
from aro.ledger.fields import Field
from aro.ledger.identity import Principal
from aro.ledger.model import LedgerError, list_body, project
from aro.ledger.search import SearchError, parse_order, parse_search
from aro.ledger.service import Ledger

MAX_PAGE = 1_000_000
DEFAULT_SIZE = 100
MAX_BODY_BYTES = 64 * 1024
_DIGITS = re.compile(r"^[0-9]{1,7}\Z")


def ledger_of(request: Request) -> Ledger:
    ledger = services_of(request).ledger
    if ledger is None:
        raise LedgerError(503, "The account ledger is not running in this process")
    return ledger


async def caller(request: Request) -> Principal:
    identity = services_of(request).identity
    if identity is None:
        raise LedgerError(503, "The account ledger is not running in this process")
    return await identity.principal(request.headers.get("authorization"))


LedgerDep = Annotated[Ledger, Depends(ledger_of)]
Caller = Annotated[Principal, Depends(caller)]


def answer(body: Any, status: int = 200) -> Response:
    return JSONResponse(body, status_code=status)


def error_response(request: Request, error: LedgerError) -> Response:
    return JSONResponse(error.body(str(request.scope.get("aro.request_id", ""))), status_code=error.status)


async def json_body(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    try:
        return await read_json(request, limit)
    except BodyError as e:
        raise LedgerError(*plain_answer(e)) from None


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.match(raw) or not low <= int(raw) <= high:
        raise LedgerError(400, f"Parameter '{name}' must be an integer from {low} to {high}")
    return int(raw)


def paging(request: Request) -> tuple[int, int]:
    """AMS's ``page`` (from 1) and ``size`` (default 100; 0 answers only the total)."""
    return int_param(request, "page", 1, 1, MAX_PAGE), int_param(request, "size", DEFAULT_SIZE, 0, MAX_LIMIT)


def require_sre(principal: Principal, what: str) -> None:
    if not principal.sre:
        raise LedgerError(403, f"Only an SRE may {what}")


_FIELD = re.compile(r"^[a-z_][a-z0-9_]{0,63}(\.[a-z_][a-z0-9_]{0,63}){0,4}\Z")


def fields_param(request: Request) -> list[tuple[str, ...]] | None:
    """AMS's ``fields``: a comma-separated list of (dotted) field names to answer with; None: all."""
    raw = request.query_params.get("fields")
    if not raw:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if len(names) > 50 or not all(_FIELD.match(n) for n in names):
        raise LedgerError(400, "Parameter 'fields' must be a comma-separated list of field names")
    return [tuple(n.split(".")) for n in names]


DEFAULT_ORDER = "created_at desc"
Run = Callable[[Query], Awaitable[tuple[list[Doc], int]]]
Decorate = Callable[[list[dict[str, Any]]], Awaitable[None]]


async def search_list(
    request: Request,
    kind: str,
    fields: Mapping[str, Field],
    run: Run,
    render: Callable[[Doc], dict[str, Any]],
    scope: Expr | None = None,
    decorate: Decorate | None = None,
) -> Response:
    """One AMS list: ``search`` (within ``scope``, when given), ``order``, ``page``, ``size`` and ``fields``,
    answered as ``{kind: "<kind>List", page, size, total, items}``; ``decorate`` adds to the rendered items
    before ``fields`` picks from them."""
    page, size = paging(request)
    projection = fields_param(request)
    try:
        where = parse_search(request.query_params.get("search", ""), fields)
        order = parse_order(request.query_params.get("order") or DEFAULT_ORDER, fields)
    except SearchError as e:
        raise LedgerError(400, str(e)) from None
    if scope is not None:
        where = scope if where is None else And((scope, where))
    try:
        docs, total = await run(Query(where, order, offset=(page - 1) * size, limit=max(size, 1)))
    except UnsupportedQuery as e:  # Cosmos DB: an order of several fields
        raise LedgerError(400, f"Parameter 'order' cannot be served by this store: {e}") from None
    except ValueError as e:  # a filter the store's compiler refuses (its own bounds)
        raise LedgerError(400, f"Invalid search: {e}") from None
    items = [render(d) for d in docs[:size]]
    if decorate is not None:
        await decorate(items)
    if projection is not None:
        items = [project(i, projection) for i in items]
    return answer(list_body(f"{kind}List", items, page, total))
