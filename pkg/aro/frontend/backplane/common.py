"""What the backplane's routes share: the caller (a bearer token of an SRE), the process's ``Backplane``,
bounded JSON bodies, and errors in backplane-api's shape ``{"statusCode", "message"}``.

The caller: 401 without a valid bearer token (the ledger's reason), 403 when its user is in none of
``ledger.sreGroups``, and 403 for a user name Kubernetes reserves (``system:...``): the proxy makes the
cluster API impersonate the caller, and ``system:`` identities (``system:admin``, ``system:masters``'
members) are the cluster's own, never an SRE's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from aro.backplane.errors import BackplaneError
from aro.backplane.service import Backplane
from aro.frontend.body import BodyError, plain_answer, read_json
from aro.frontend.services import Services, services_of
from aro.ledger.identity import Principal
from aro.ledger.model import LedgerError

MAX_BODY_BYTES = 64 * 1024
RESERVED_PREFIX = "system:"  # Kubernetes' reserved user and group names


def backplane_of(request: Request) -> Backplane:
    backplane = services_of(request).backplane
    if backplane is None:
        raise BackplaneError(503, "The backplane is not running in this process")
    return backplane


async def authenticate_sre(services: Services, authorization: str | None) -> Principal:
    """The caller, who must be an SRE (``ledger.sreGroups``): 401 without a valid token, else 403."""
    identity = services.identity
    if identity is None or services.backplane is None:
        raise BackplaneError(503, "The backplane is not running in this process")
    try:
        principal = await identity.principal(authorization)
    except LedgerError as e:
        raise BackplaneError(e.status, e.reason) from None
    if not principal.sre:
        raise BackplaneError(403, f"User {principal.username} is not allowed to use the backplane")
    if principal.username.startswith(RESERVED_PREFIX):
        raise BackplaneError(403, f"User {principal.username} is a reserved Kubernetes identity: not an SRE's")
    return principal


async def sre_of(request: Request) -> Principal:
    return await authenticate_sre(services_of(request), request.headers.get("authorization"))


BackplaneDep = Annotated[Backplane, Depends(backplane_of)]
Sre = Annotated[Principal, Depends(sre_of)]


def answer(body: Any, status: int = 200) -> Response:
    return JSONResponse(body, status_code=status)


def error_response(error: BackplaneError) -> Response:
    return JSONResponse(error.body(), status_code=error.status)


async def json_body(request: Request, limit: int = MAX_BODY_BYTES) -> Any:
    try:
        return await read_json(request, limit)
    except BodyError as e:
        raise BackplaneError(*plain_answer(e)) from None
