"""The baseline for `make bench`: a bare FastAPI app with one trivial route, served exactly as `aro rp`
serves its frontend (``aro.util.serve.HTTPSServer`` inside ``asyncio.run``: same uvicorn settings, same
event loop, same TLS certificate files).

    python hack/bench/bare_app.py --port 8443 --certs <dataDirectory>/certs

The one route answers any path, GET or PUT, with a small JSON object (a PUT body is read first, as a
real handler would).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aro.util.pki import ensure_dev_serving_cert
from aro.util.serve import HTTPSServer, TLSFiles


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.api_route("/{path:path}", methods=["GET", "PUT"])
    async def trivial(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"ok": True})

    return app


async def serve(port: int, certs: Path) -> None:
    files = ensure_dev_serving_cert(certs)
    server = HTTPSServer(create_app(), "127.0.0.1", port, TLSFiles(str(files.cert_file), str(files.key_file)))
    await server.start()
    print(f"ready https://127.0.0.1:{server.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certs", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.certs))


if __name__ == "__main__":
    main()
