"""The frontend application factory: ARM middleware, one error handler, the resource routers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from aro.api import errors
from aro.api.cluster import OpenShiftVersion
from aro.api.errors import CloudError
from aro.database import Store, StoreError
from aro.database.clusters import ClusterCodec
from aro.env.config import Config
from aro.frontend import admin, clusters, operations, subscriptions
from aro.frontend.arm import error_response, unrouted
from aro.frontend.auth import ClientCertAuth
from aro.frontend.middleware import ARMMiddleware
from aro.frontend.openapi import install_openapi
from aro.util.crypto import Sealer
from aro.util.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from aro.util.metrics import Metrics

log = logging.getLogger("aro.frontend")


@dataclass
class Readiness:
    """What must be true before /healthz/ready answers 200 (set by the process that hosts the app)."""

    store_open: bool = False
    backend_polling: bool = True  # a frontend-only process has no backend to wait for
    extra: dict[str, bool] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.store_open and self.backend_polling and all(self.extra.values())


def create_app(
    config: Config,
    store: Store,
    sealer: Sealer,
    catalog: Sequence[OpenShiftVersion],
    readiness: Readiness | None = None,
    metrics: Metrics | None = None,
) -> FastAPI:
    app = FastAPI(
        title="aro",
        version="0.1.0",
        description="ARM resource provider for managed OpenShift clusters (Microsoft.RedHatOpenShift).",
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = config
    app.state.store = store
    app.state.sealer = sealer
    app.state.codec = ClusterCodec(sealer)
    app.state.render_cache = clusters.RenderCache()
    app.state.catalog = list(catalog)
    app.state.readiness = readiness or Readiness(store_open=True)

    @app.get("/healthz/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        if app.state.readiness.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "starting"}, status_code=503)

    app.include_router(subscriptions.router)
    app.include_router(clusters.router)
    app.include_router(operations.router)
    app.include_router(admin.router)
    app.state.metrics = metrics = metrics or Metrics()

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=METRICS_CONTENT_TYPE)

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
            return error_response(unrouted(request.scope.get("aro.path", request.url.path)))
        if exc.status_code == 405:
            err = CloudError(405, errors.METHOD_NOT_ALLOWED, "The HTTP method is not allowed for this resource.")
            return error_response(err)
        return error_response(CloudError(exc.status_code, "HttpError", str(exc.detail)))

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> Response:
        log.error("store error", extra={"error": str(exc)})
        return error_response(errors.internal_server_error())

    install_openapi(app)
    app.add_middleware(ClientCertAuth, config=config)  # inside ARMMiddleware: a 403 has a request id too
    app.add_middleware(ARMMiddleware, observer=metrics.observe_request)
    return app
