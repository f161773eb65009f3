"""What the ledger's routes share: the ledger and the caller (bearer token) as dependencies, bounded JSON
bodies and query parameters, and every answer and error in OCM's shapes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from aro.database.query import MAX_LIMIT
from aro.frontend.body import BodyError, plain_answer, read_json
from aro.frontend.services import services_of
from aro.ledger.identity import Principal
from aro.ledger.model import LedgerError
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
