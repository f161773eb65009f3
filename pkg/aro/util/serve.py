"""Serve an ASGI app over HTTPS with uvicorn inside the running event loop.

Signals are handled by the caller (``aro rp`` stops frontend, backend and simulator in order), so the
uvicorn server's own signal capture is disabled. Every connection is bounded (``aro.util.connbounds``:
timeouts, a connection cap, header caps, a stop that does not wait for idle clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from dataclasses import dataclass
from typing import Any

import uvicorn
from cryptography import x509

from aro.util.connbounds import BoundedProtocol, BoundedServer, ConnectionLimits, bounded


@dataclass(frozen=True)
class TLSFiles:
    cert_file: str
    key_file: str
    ca_file: str | None = None  # when set, client certificates chaining to it are required
    require_client_cert: bool = False


class TLSInfoProtocol(BoundedProtocol):
    """uvicorn's httptools protocol, adding the ASGI TLS extension to every request's scope:
    ``scope["extensions"]["tls"] = {"client_cert_name", "client_cert_issuer", "client_cert_der",
    "tls_version"}`` (the subject and issuer as RFC 4514 strings, and the DER bytes, of a client certificate
    verified against the client CA; None without one). The simulator's server adds the same keys
    (``aro.cloud.simulator._clienttls``: it imports nothing of the RP)."""

    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._tls = _tls_info(transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            self.scope["extensions"] = {"tls": self._tls}  # type: ignore[dict-item]


def _tls_info(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    sslobj = transport.get_extra_info("ssl_object")
    if sslobj is None:
        return None
    info: dict[str, Any] = {
        "client_cert_name": None,
        "client_cert_issuer": None,
        "client_cert_der": None,
        "tls_version": sslobj.version(),
    }
    der = sslobj.getpeercert(binary_form=True)
    if der:
        info["client_cert_der"] = der
        cert = x509.load_der_x509_certificate(der)
        info["client_cert_name"] = cert.subject.rfc4514_string()
        info["client_cert_issuer"] = cert.issuer.rfc4514_string()
    return info


class HTTPSServer:
    """``drain_seconds``: on stop, how long requests the app is working on get to finish (then they are
    cancelled); idle connections are closed at once."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        tls: TLSFiles,
        *,
        log_level: str = "warning",
        limits: ConnectionLimits | None = None,
        drain_seconds: float = 10.0,
        sock: socket.socket | None = None,
    ):
        """``sock``: a listening socket bound already (`aro rp`'s supervisor binds it, and every frontend
        process it starts accepts on it); else ``host``:``port`` is bound at start."""
        self.limits = limits or ConnectionLimits()
        self._sock = sock
        self.drain_seconds = drain_seconds
        kwargs: dict[str, Any] = {"http": bounded(TLSInfoProtocol, self.limits)}
        if tls.require_client_cert:
            # OPTIONAL, not REQUIRED: a certificate, when sent, must chain to the client CA (else the
            # handshake fails); a request without one reaches the app, which answers 403 Forbidden.
            kwargs |= {"ssl_ca_certs": tls.ca_file, "ssl_cert_reqs": ssl.CERT_OPTIONAL}
        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            ssl_certfile=tls.cert_file,
            ssl_keyfile=tls.key_file,
            log_config=None,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=drain_seconds,  # type: ignore[arg-type]  # a float is fine (asyncio.timeout)
            timeout_keep_alive=self.limits.idle_seconds,  # type: ignore[arg-type]
            server_header=False,
            **kwargs,
        )
        self.server = BoundedServer(self.config, self.limits)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        for server in self.server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self.config.port

    def _bind(self) -> socket.socket:
        """Bind here rather than in uvicorn, so that a bind error is a plain OSError for the caller."""
        if self._sock is not None:
            return self._sock
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP: asyncio sets NODELAY
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.config.port))
        except OSError as e:
            sock.close()
            raise OSError(e.errno, f"cannot listen on {self.config.host}:{self.config.port}: {e.strerror}") from None
        sock.set_inheritable(True)
        return sock

    async def start(self) -> None:
        self.config.load()
        self.config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2  # type: ignore[union-attr]
        sock = self._bind()
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]))
        while not self.server.started:
            if self._task.done():
                self._task.result()  # bind errors surface here
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Returns within ``drain_seconds`` + 1 s: past the drain uvicorn cancels what is left; past that
        second, the serving task itself."""
        if self._task is None:
            return
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.drain_seconds + 1)
        except TimeoutError:
            self.server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
