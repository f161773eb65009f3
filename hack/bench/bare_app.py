"""The baseline for `make bench`: a bare FastAPI app with one trivial route, served exactly as `aro rp`
serves its frontend (``aro.util.serve.HTTPSServer`` inside ``asyncio.run``: same uvicorn settings, same
event loop, same TLS certificate files) and in as many processes: ``--workers N`` binds the socket once
and forks N processes accepting on it, as `aro rp`'s supervisor does for ``frontend.workers``.

    python hack/bench/bare_app.py --port 8443 --certs <dataDirectory>/certs [--workers N]

The one route answers any path, GET or PUT, with a small JSON object (a PUT body is read first, as a
real handler would). Once every process serves, one JSON line ``{"msg": "ready", "processes": {...}}``
goes to stderr (with one process, ``processes`` names this one). SIGTERM stops them all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aro.util.pki import ensure_dev_serving_cert
from aro.util.serve import HTTPSServer, TLSFiles

_PR_SET_PDEATHSIG = 1


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.api_route("/{path:path}", methods=["GET", "PUT"])
    async def trivial(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"ok": True})

    return app


def say(msg: str, **fields: object) -> None:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    sys.stderr.write(json.dumps({"time": stamp, "msg": msg, **fields}) + "\n")
    sys.stderr.flush()


async def serve(sock: socket.socket, tls: TLSFiles, ready_fd: int | None) -> None:
    server = HTTPSServer(create_app(), "127.0.0.1", 0, tls, sock=sock)
    await server.start()
    if ready_fd is None:
        say("ready", listen=f"https://127.0.0.1:{server.port}", processes={"bare": os.getpid()})
    else:
        os.write(ready_fd, b"r")
        os.close(ready_fd)
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
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    files = ensure_dev_serving_cert(args.certs)
    tls = TLSFiles(str(files.cert_file), str(files.key_file))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(2048)
    if args.workers == 1:
        asyncio.run(serve(sock, tls, None))
        return
    r, w = os.pipe()
    pids = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            with contextlib.suppress(OSError, AttributeError):  # die with the parent, as `aro rp`'s children
                ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            asyncio.run(serve(sock, tls, w))
            os._exit(0)
        pids.append(pid)
    os.close(w)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # for sigwait below
    got = b""
    while len(got) < args.workers:
        chunk = os.read(r, 64)
        if not chunk:
            sys.exit("bare app: a worker died while starting")
        got += chunk
    say(
        "ready",
        listen=f"https://127.0.0.1:{args.port}",
        processes={f"bare-{i + 1}": pid for i, pid in enumerate(pids)},
    )
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
