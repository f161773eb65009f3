"""The frontend application factory."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from aro.database import Store
from aro.env.config import Config


@dataclass
class Readiness:
    """What must be true before /healthz/ready answers 200 (set by the process that hosts the app)."""

    store_open: bool = False
    backend_polling: bool = True  # a frontend-only process has no backend to wait for
    extra: dict[str, bool] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.store_open and self.backend_polling and all(self.extra.values())


def create_app(config: Config, store: Store, readiness: Readiness | None = None) -> FastAPI:
    app = FastAPI(title="aro", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.config = config
    app.state.store = store
    app.state.readiness = readiness or Readiness(store_open=True)

    @app.get("/healthz/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        if app.state.readiness.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "starting"}, status_code=503)

    return app
