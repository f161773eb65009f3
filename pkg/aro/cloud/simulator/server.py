"""Run the simulator under uvicorn on HTTPS inside an existing asyncio loop, or standalone.

In-process (what ``aro rp`` and the tests do)::

    server = SimulatorServer(create_app(SimulatorConfig(data_dir)), cert_file=..., key_file=..., port=0)
    await server.start()        # returns once listening; server.base_url has the bound port
    ...
    await server.stop()         # returns once stopped (lifespan shutdown done, SQLite closed)

The embedded server installs no signal handlers and leaves logging configuration alone. Before serving it
tells the app where it listens and the CA of its certificate (``app.serving_at(url, ca_pem)``: the
kubeconfig of an executed pod, ``_kubelet``; ``ca_file``, else a ``ca.pem``/``ca.crt`` beside the
certificate that issued it). It asks every client for a certificate (``CERT_OPTIONAL``), trusting the
client CAs of the simulated clusters (the app's ``client_trust``, ``_clienttls``), and hands a verified one
to the app in the ASGI ``tls`` extension.
Standalone: ``main(["--data-dir", "...", "--port", "8444"])`` (wired to ``aro simulator``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509

from aro.util.connbounds import BoundedProtocol, BoundedServer, ConnectionLimits, bounded

from ._app import create_app
from ._clienttls import ClientCertProtocol, ClientTrust
from ._config import FaultRule, SimulatorConfig
from ._tls import ensure_tls


class _BoundedClientCertProtocol(ClientCertProtocol, BoundedProtocol):
    """The client-certificate protocol within connection bounds (``aro.util.connbounds``, which imports
    nothing of the RP: the one module of ``aro.util`` the simulator may import)."""


class SimulatorServer:
    def __init__(
        self,
        app: Any,
        *,
        cert_file: str | Path,
        key_file: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        graceful_shutdown_seconds: float = 2.0,
        client_trust: ClientTrust | None = None,
        ca_file: str | Path | None = None,
        limits: ConnectionLimits | None = None,
        sock: socket.socket | None = None,
    ) -> None:
        """``limits``: timeouts, connection and header caps of every connection (default: the RP's defaults).
        ``sock``: a listening socket bound already (by `aro rp`'s supervisor), else ``host``:``port`` is bound."""
        self.host = host
        self._sock = sock
        self.limits = limits or ConnectionLimits()
        self._cert_file, self._ca_file = Path(cert_file), Path(ca_file) if ca_file else None
        self._requested_port = port
        trust = client_trust if client_trust is not None else getattr(app, "client_trust", None)
        self._client_trust: ClientTrust | None = trust
        self._serving = getattr(app, "serving_certs", None)  # per-cluster serving certificates (SNI)
        self._config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=bounded(_BoundedClientCertProtocol, self.limits),
            ssl_certfile=str(cert_file),
            ssl_keyfile=str(key_file),
            ssl_cert_reqs=ssl.CERT_OPTIONAL,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=max(1, int(graceful_shutdown_seconds)),
            timeout_keep_alive=self.limits.idle_seconds,  # type: ignore[arg-type]  # a float is fine
            server_header=False,
        )
        self._server: BoundedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.servers:
            return self._requested_port
        port: int = self._server.servers[0].sockets[0].getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("simulator server already started")
        # Loading reads the certificate files and builds the SSL context: keep it off the event loop.
        await asyncio.to_thread(self._config.load)
        if self._client_trust is not None and self._config.ssl is not None:
            self._client_trust.attach(self._config.ssl)
        if self._serving is not None and self._config.ssl is not None:
            self._serving.attach(self._config.ssl)
        sock = self._bind()  # here, so a busy port is a clear error before the app starts
        serving_at = getattr(self._config.app, "serving_at", None)
        if callable(serving_at):  # where the executed pods reach the cluster APIs (``_kubelet``)
            serving_at(self._reachable_url(sock), await asyncio.to_thread(self._serving_ca))
        self._server = BoundedServer(self._config, self.limits)
        self._task = asyncio.create_task(self._serve(self._server, sock), name="aro-simulator-server")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the start-up failure
                raise RuntimeError("simulator server stopped during start-up")
            await asyncio.sleep(0.01)

    def _bind(self) -> socket.socket:
        if self._sock is not None:
            self._sock.setblocking(False)
            return self._sock
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP
        # (with proto 0, Nagle + delayed ACKs add ~40 ms to every request)
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
        except OSError as e:
            sock.close()
            raise RuntimeError(f"simulator cannot listen on {self.host}:{self._requested_port}: {e}") from e
        sock.setblocking(False)
        return sock

    def _reachable_url(self, sock: socket.socket) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"https://{host}:{sock.getsockname()[1]}"

    def _serving_ca(self) -> str:
        """The CA that issued the serving certificate: ``ca_file``, else a ``ca.pem`` / ``ca.crt`` beside the
        certificate that did issue it, else the certificate file itself (a client may trust the leaf)."""
        chain = self._cert_file.read_text()
        if self._ca_file is not None:
            return self._ca_file.read_text()
        try:
            leaf = x509.load_pem_x509_certificate(chain.encode())
        except ValueError:
            return chain
        for candidate in (self._cert_file.parent / "ca.pem", self._cert_file.parent / "ca.crt"):
            try:
                pem = candidate.read_text()
                leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(pem.encode()))
            except Exception:  # absent, unreadable, not a certificate, not the issuer
                continue
            return pem
        return chain

    @staticmethod
    async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as e:  # uvicorn exits on bind/start-up failure; never take the host down
            raise RuntimeError(f"simulator server failed to start (exit {e.code})") from None

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        stopping = getattr(self._config.app, "stopping", None)
        if callable(stopping):
            stopping()  # ends the watches, which would hold the graceful shutdown
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._task = None
            self._server = None
            self._config.loaded = False

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="aro simulator", description="Local ARM + cluster-API simulator.")
    p.add_argument("--data-dir", default=".aro-simulator", help="state, request log and generated TLS files")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8444)
    p.add_argument("--cert", help="serving certificate (PEM); generated into <data-dir>/tls when absent")
    p.add_argument("--key", help="serving key (PEM)")
    p.add_argument("--token", help="require exactly this bearer token (default: any non-empty token)")
    p.add_argument("--step-delay", type=float, default=0.0, help="seconds each mutating operation takes")
    p.add_argument("--faults", help="fault rules: a JSON list, or @file")
    return p.parse_args(argv)


def _faults(spec: str | None) -> tuple[FaultRule, ...]:
    if not spec:
        return ()
    text = Path(spec[1:]).read_text() if spec.startswith("@") else spec
    return tuple(FaultRule.from_json(r) for r in json.loads(text))


async def _serve_forever(args: argparse.Namespace) -> None:
    data_dir: Path = args.data_dir
    if args.cert and args.key:
        cert, key, ca = Path(args.cert), Path(args.key), None
    else:
        tls = await asyncio.to_thread(ensure_tls, data_dir / "tls")
        cert, key, ca = tls.cert_file, tls.key_file, tls.ca_file
    config = SimulatorConfig(
        data_dir, token=args.token, step_delay_seconds=args.step_delay, faults=_faults(args.faults)
    )
    server = SimulatorServer(create_app(config), cert_file=cert, key_file=key, host=args.host, port=args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    print(f"aro simulator listening on {server.base_url}" + (f" (CA {ca})" if ca else ""), flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``aro simulator``: serve until SIGINT/SIGTERM."""
    args = _parse_args(argv)
    args.data_dir = Path(args.data_dir).resolve()
    try:
        asyncio.run(_serve_forever(args))
    except (RuntimeError, OSError, ValueError) as e:
        print(f"aro simulator: {e}", file=sys.stderr)
        return 1
    return 0
