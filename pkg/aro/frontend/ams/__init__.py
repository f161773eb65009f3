"""The ledger's HTTP API, mounted at ``/api`` of the frontend: OCM's Account Management Service paths
(``/api/accounts_mgmt/v1/…``), the clusters' telemetry upload and (development) the token endpoint.

Unlike the ARM routes, these paths are case-sensitive (AMS ids are), authenticate with bearer tokens (also in
production, where the ARM routes take client certificates), and answer errors in OCM's envelope:
``{kind: "Error", id, href, code, reason, operation_id}``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from aro.database import StoreError
from aro.frontend.ams import accounts, labels, plans, subscriptions, telemetry
from aro.frontend.ams.common import error_response
from aro.frontend.services import Services
from aro.ledger.model import LedgerError

log = logging.getLogger("aro.frontend.ams")

PREFIX = "/api"


def create_ams_app(services: Services) -> FastAPI:
    app = FastAPI(title="aro account ledger", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    for module in (subscriptions, labels, accounts, plans, telemetry):
        app.include_router(module.router)

    @app.exception_handler(LedgerError)
    async def ledger_error(request: Request, exc: LedgerError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:])
        return error_response(request, LedgerError(400, f"Invalid request: {where} {first.get('msg', '')}".strip()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(request, LedgerError(404, f"No resource at '{request.url.path[:200]}'"))
        if exc.status_code == 405:
            return error_response(request, LedgerError(405, f"Method {request.method} is not allowed here"))
        return error_response(request, LedgerError(exc.status_code, str(exc.detail)))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        log.error("store error", extra={"error": str(exc)})
        return error_response(request, LedgerError(500, "Internal error"))

    return app
