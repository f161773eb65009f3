"""The frontend application factory: ARM middleware, one error handler, the routers of every kind, and the
two bearer-token APIs mounted beside them: the account ledger (``/api``) and the SRE backplane
(``/backplane``). ``close_app`` closes what the app holds open (the backplane proxy's cluster clients)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.kind import Kinds
from aro.api.template import template
from aro.database import StoreError
from aro.frontend import admin, operations, resources, subscriptions
from aro.frontend.ams import PREFIX as AMS_PREFIX
from aro.frontend.ams import create_ams_app
from aro.frontend.arm import error_response, unrouted
from aro.frontend.auth import ClientCertAuth
from aro.frontend.backplane import PREFIX as BACKPLANE_PREFIX
from aro.frontend.backplane import close_backplane_app, create_backplane_app
from aro.frontend.fastpath import FastPath
from aro.frontend.middleware import ARMMiddleware
from aro.frontend.openapi import install_openapi
from aro.frontend.services import Services
from aro.util.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

log = logging.getLogger("aro.frontend")


def create_app(services: Services, *, fast_path: bool = True) -> FastAPI:
    """The frontend app. ``fast_path``: the hot GET routes are answered by ``aro.frontend.fastpath``
    (the same answers, without FastAPI's per-request machinery); off, FastAPI answers every request."""
    app = FastAPI(
        title="aro",
        version="0.1.0",
        description="ARM resource provider for managed OpenShift clusters (Microsoft.RedHatOpenShift).",
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # a trailing "/" is an ARM 404, never a 307 built from the Host header
    )
    app.state.services = services
    kinds = services.kinds
    known_types = kinds.type_segments()

    @app.get("/healthz/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        if services.readiness.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "starting"}, status_code=503)

    app.include_router(subscriptions.router)
    app.include_router(resources.router_for(kinds.resources))
    app.include_router(operations.router_for(kinds))
    app.include_router(admin.router_for(kinds))
    app.mount(AMS_PREFIX, create_ams_app(services))  # the account ledger (OCM's paths and errors)
    backplane = create_backplane_app(services)
    app.state.backplane = backplane
    app.mount(BACKPLANE_PREFIX, backplane)  # the SRE backplane (backplane-api's paths and errors)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(services.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    @app.exception_handler(CloudError)
    async def cloud_error(_: Request, exc: CloudError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        target = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return error_response(
            CloudError(
                400,
                errors.INVALID_PARAMETER,
                f"The request is invalid: {first.get('msg', 'invalid')}.",
                target,
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(unrouted(request.scope.get("aro.path", request.url.path), known_types))
        if exc.status_code == 405:
            err = CloudError(405, errors.METHOD_NOT_ALLOWED, "The HTTP method is not allowed for this resource.")
            return error_response(err)
        return error_response(CloudError(exc.status_code, "HttpError", str(exc.detail)))

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> Response:
        log.error("store error", extra={"error": str(exc)})
        return error_response(errors.internal_server_error())

    install_openapi(app, kinds, services.config.location)
    if fast_path:  # innermost: behind the client-certificate check and the ARM middleware, as the routes are
        app.add_middleware(FastPath, fastapi=app, paths=hot_paths(kinds))
    app.add_middleware(ClientCertAuth, config=services.config)  # inside ARMMiddleware: a 403 has a request id too
    app.add_middleware(ARMMiddleware, observer=services.metrics.observe_request)
    return app


def hot_paths(kinds: Kinds) -> frozenset[str]:
    """The routes of the GET fast path: one resource of every kind, and every operation family's status."""
    items = {template(kind.route).path for kind in kinds.resources}
    return frozenset(items | {template(family.status_route).path for family in kinds.families()})


async def close_app(app: FastAPI) -> None:
    """Close what the app holds open (after the server stopped serving it)."""
    backplane = getattr(app.state, "backplane", None)
    if backplane is not None:
        await close_backplane_app(backplane)
