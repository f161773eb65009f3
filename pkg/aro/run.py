"""Process composition: what `aro rp`, `aro frontend` and `aro backend` start, and their shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import time

from aro.database import Store, open_store
from aro.env.config import Config, Mode
from aro.frontend.app import Readiness, create_app
from aro.util.pki import ensure_dev_serving_cert
from aro.util.serve import HTTPSServer, TLSFiles

log = logging.getLogger("aro.run")


def frontend_tls(config: Config) -> TLSFiles:
    """The configured certificates; in development mode generated into <dataDirectory>/certs."""
    tls = config.frontend.tls
    if tls.cert_file and tls.key_file:
        return TLSFiles(
            tls.cert_file, tls.key_file, tls.ca_file, require_client_cert=config.mode is Mode.PRODUCTION
        )
    files = ensure_dev_serving_cert(config.data_path / "certs")
    return TLSFiles(str(files.cert_file), str(files.key_file), str(files.ca_file))


async def wait_for_signal() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def run_rp(config: Config, *, frontend: bool = True, backend: bool = True) -> None:
    """Run the RP until SIGTERM/SIGINT, then stop cleanly: frontend first (no new work), then the
    backend (let running steps reach a boundary, release leases), then the store."""
    started = time.monotonic()
    store: Store = await open_store(config)
    readiness = Readiness(store_open=True, backend_polling=not backend)
    server: HTTPSServer | None = None
    try:
        if frontend:
            tls = frontend_tls(config)
            server = HTTPSServer(
                create_app(config, store, readiness), config.frontend.host, config.frontend.port, tls
            )
            await server.start()
        readiness.backend_polling = True
        log.info(
            "ready",
            extra={
                "listen": f"https://{config.frontend.host}:{server.port}" if server else None,
                "startSeconds": round(time.monotonic() - started, 3),
                "mode": config.mode.value,
            },
        )
        await wait_for_signal()
        log.info("shutting down")
    finally:
        if server is not None:
            await server.stop()
        await store.close()
    log.info("stopped")
