"""The backplane's HTTP API, mounted at ``/backplane`` of the frontend: backplane-api's paths and objects
(docs/backplane.md). Bearer tokens of SREs (``aro.frontend.backplane.common``), also in production (the
client-certificate check exempts ``/backplane/``); paths are case-sensitive (never lower-cased, and
``/BACKPLANE/...`` is no backplane path); errors are ``{"statusCode", "message"}`` -- also for a path or a
method no route has (404 / 405) and for a store failure (500).

- ``login``: ``GET|POST /backplane/login/{clusterId}`` -> ``{proxy_uri}``;
- ``proxy``: ``/backplane/cluster/{clusterId}/...`` -> the cluster's API, as the SRE (impersonation); a
  pure ASGI app (streaming both ways), closed with the frontend (``close_backplane_app``);
- ``console``: ``GET /backplane/cloud/console/{clusterId}``;
- ``scripts``: ``GET /backplane/script/{clusterId}``, managed jobs under ``/backplane/script/{clusterId}/job``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from aro.backplane.errors import BackplaneError
from aro.database import StoreError
from aro.frontend.backplane import console, login, scripts
from aro.frontend.backplane.common import error_response
from aro.frontend.backplane.proxy import BackplaneProxy
from aro.frontend.services import Services

log = logging.getLogger("aro.frontend.backplane")

PREFIX = "/backplane"


def create_backplane_app(services: Services) -> FastAPI:
    app = FastAPI(title="aro backplane", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    proxy = BackplaneProxy(services)
    app.state.proxy = proxy
    app.mount("/cluster", proxy)  # before the routers: /backplane/cluster/... is the proxy's alone
    for module in (login, console, scripts):
        app.include_router(module.router)

    @app.exception_handler(BackplaneError)
    async def backplane_error(request: Request, exc: BackplaneError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(BackplaneError(400, f"Invalid request: {where} {first.get('msg', '')}".strip()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            path = str(request.scope.get("aro.path", request.url.path))[:200]
            return error_response(BackplaneError(404, f"No backplane route at '{path}'"))
        if exc.status_code == 405:
            return error_response(BackplaneError(405, f"Method {request.method} is not allowed here"))
        return error_response(BackplaneError(exc.status_code, str(exc.detail)))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        log.error("store error", extra={"error": str(exc)})
        return error_response(BackplaneError(500, "Internal error"))

    return app


async def close_backplane_app(app: FastAPI) -> None:
    """Close what the app holds open (the proxy's clients of cluster APIs)."""
    proxy: BackplaneProxy | None = getattr(app.state, "proxy", None)
    if proxy is not None:
        await proxy.close()
