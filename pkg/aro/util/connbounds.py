"""Bounds on every connection of a uvicorn (httptools) server: how long each phase of a request may take,
how many connections may be open, how large a request head may be -- and a stop that does not wait for
idle clients.

uvicorn bounds only the keep-alive wait between requests (``timeout_keep_alive``); a connection that never
sends a request, trickles a request head byte by byte, or stops in the middle of a body is kept forever, and
httptools buffers a header of any size. ``BoundedProtocol`` (uvicorn's httptools protocol) adds:

- a fresh connection must complete its first request head within ``header_seconds`` (else it is closed);
  between requests the keep-alive wait is ``idle_seconds`` (uvicorn's own timer), and once a request's
  first byte arrives its head must be complete within ``header_seconds`` (else 408 and close);
- a body must be complete within ``body_seconds`` of its head (else 408 and close);
- a head over ``max_header_bytes`` (counted as it arrives, so nothing larger is buffered) is answered 431,
  more than ``max_headers`` header lines 400, both with an ARM error body, and the connection closed;
- a connection established while ``max_connections`` are open is closed at once;
- on stop, idle connections (and partial heads) are closed at once, a request whose body is still arriving
  is answered 503 and closed, a request the app is working on is answered and then closed (uvicorn).

``BoundedServer`` (a ``uvicorn.Server``) adds the TLS handshake timeout (``handshake_seconds``) and a short
TLS shutdown (a closed connection's descriptor is released after ``TLS_SHUTDOWN_SECONDS`` even if the peer
never answers its close_notify) by passing asyncio's ``ssl_handshake_timeout`` / ``ssl_shutdown_timeout``,
which uvicorn does not, to ``loop.create_server``; and logs asyncio's ``socket.accept() out of system
resource`` (EMFILE) once per ``ACCEPT_ERROR_LOG_SECONDS`` with the count since, never per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("aro.serve")

TLS_SHUTDOWN_SECONDS = 2.0
ACCEPT_ERROR_LOG_SECONDS = 10.0
REQUEST_LINE_ALLOWANCE = 16 * 1024  # the raw head cap is max_header_bytes plus this, for the request line
SHUTDOWN_ABORT_SECONDS = 0.25  # a connection closed at stop is aborted if its TLS close has not ended by then


@dataclass(frozen=True)
class ConnectionLimits:
    handshake_seconds: float = 10.0
    header_seconds: float = 10.0
    body_seconds: float = 30.0
    idle_seconds: float = 60.0
    max_connections: int = 2048
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100


class _Phase(Enum):
    HEAD = "head"  # waiting for or reading a request head (timer: header_seconds)
    BODY = "body"  # head complete, body arriving (timer: body_seconds)
    APP = "app"  # request complete, the app answers (no timer)
    IDLE = "idle"  # between requests (uvicorn's keep-alive timer: idle_seconds)


class _Rejected(Exception):
    """Raised from a parser callback to stop parsing a request that breaks a bound."""


def _error_response(status: int, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "content-type: application/json; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol within ``limits`` (a subclass per server sets them: ``bounded()``)."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    _phase: _Phase = _Phase.HEAD
    _timer: asyncio.TimerHandle | None = None
    _abort_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _header_bytes = 0
    _header_count = 0
    _rejection: bytes | None = None
    _stopping = False

    # --- connection ------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:  # this one included
            self._close(abort_after=SHUTDOWN_ABORT_SECONDS)
            return
        self._phase = _Phase.HEAD
        self._arm(self.limits.header_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        if self._abort_timer is not None:
            self._abort_timer.cancel()
            self._abort_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase is _Phase.IDLE:  # a new request begins: its head within header_seconds
            self._phase = _Phase.HEAD
            self._head_bytes = 0
            self._arm(self.limits.header_seconds)
        in_head = self._phase is _Phase.HEAD
        if in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still in the head after this read (at most 256 KiB: asyncio's read size): over the cap, the parser
        # holds no more of it. (A read that completes the head may carry body bytes: not counted here.)
        over = self._head_bytes > self.limits.max_header_bytes + REQUEST_LINE_ALLOWANCE
        if in_head and over and self._phase is _Phase.HEAD and not self.transport.is_closing():
            self._reject(431, "RequestHeaderFieldsTooLarge", self._too_large())

    # --- parser callbacks ------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._header_count > self.limits.max_headers:
            self._rejection = _error_response(
                400, "TooManyRequestHeaders", f"The request has more than {self.limits.max_headers} header fields."
            )
            raise _Rejected
        if self._header_bytes > self.limits.max_header_bytes:
            self._rejection = _error_response(431, "RequestHeaderFieldsTooLarge", self._too_large())
            raise _Rejected
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._phase = _Phase.BODY
        self._arm(self.limits.body_seconds)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel()
        if self.cycle is not None and self.cycle.response_complete:  # answered before its body ended
            self._phase = _Phase.IDLE
            self._arm(self.limits.idle_seconds)
        else:
            self._phase = _Phase.APP
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self._stopping and self.transport.is_closing() and self._abort_timer is None:
            self._abort_timer = self.loop.call_later(SHUTDOWN_ABORT_SECONDS, self.transport.abort)
        if self._phase is _Phase.APP:  # else the app answered before its body ended: that body's timer runs
            self._phase = _Phase.IDLE
            self._cancel()
        super().on_response_complete()  # arms uvicorn's keep-alive timer (idle_seconds)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request the parser refused: a bound's own answer, else an ARM error body."""
        rejection, self._rejection = self._rejection, None
        self.transport.write(rejection or _error_response(400, "InvalidRequest", msg))
        self._close()

    # --- stop ------------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """The server stops: nothing more is read. An idle connection or a partial head is closed now (its
        TLS close not awaited beyond ``SHUTDOWN_ABORT_SECONDS``); a body still arriving is answered 503; a
        request the app is working on is answered, then closed (uvicorn)."""
        if self._phase is _Phase.APP:
            self._stopping = True  # its answer's TLS close is not awaited either
            super().shutdown()
            return
        if self._phase is _Phase.BODY and self.cycle is not None and not self.cycle.response_started:
            message = "The service is shutting down; retry the request."
            self._fail_request(503, "ServiceUnavailable", message, abort_after=SHUTDOWN_ABORT_SECONDS)
            return
        self._close(abort_after=SHUTDOWN_ABORT_SECONDS)

    # --- helpers ---------------------------------------------------------------------------------------

    def _too_large(self) -> str:
        return f"The request's header fields are larger than the limit of {self.limits.max_header_bytes} bytes."

    def _arm(self, seconds: float) -> None:
        self._cancel()
        self._timer = self.loop.call_later(seconds, self._expired)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._phase is _Phase.HEAD and self._head_bytes:
            self._reject(408, "RequestTimeout", "The request head took too long.")
        elif self._phase in (_Phase.HEAD, _Phase.IDLE):  # never started a request: closed without a word
            self._close()
        elif self._phase is _Phase.BODY:
            self._fail_request(408, "RequestTimeout", "The request body took too long.")

    def _fail_request(self, status: int, code: str, message: str, *, abort_after: float | None = None) -> None:
        """Answer the request whose body is arriving, and tell its app task the client is gone."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            self.transport.write(_error_response(status, code, message))
            cycle.response_started = cycle.response_complete = True
            cycle.disconnected = True
            cycle.message_event.set()
        self._close(abort_after=abort_after)

    def _reject(self, status: int, code: str, message: str) -> None:
        self.transport.write(_error_response(status, code, message))
        self._close()

    def _close(self, *, abort_after: float | None = None) -> None:
        self._cancel()
        self._phase = _Phase.APP  # nothing more is timed
        self.transport.close()
        if abort_after is not None and self._abort_timer is None:
            self._abort_timer = self.loop.call_later(abort_after, self.transport.abort)


def bounded(protocol: type[BoundedProtocol], limits: ConnectionLimits) -> type[BoundedProtocol]:
    """``protocol`` with these limits (uvicorn instantiates the class it is given per connection)."""
    return type(protocol.__name__, (protocol,), {"limits": limits})


class BoundedServer(uvicorn.Server):
    """A uvicorn server for an embedding process: no signal capture (the host owns signals), the TLS
    handshake and shutdown timeouts, rate-limited accept errors."""

    def __init__(self, config: uvicorn.Config, limits: ConnectionLimits) -> None:
        super().__init__(config)
        self.limits = limits

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        install_accept_error_log(loop)
        # uvicorn calls loop.create_server without asyncio's TLS timeouts: shadow the bound method for the
        # duration of its start-up (an instance attribute; deleted after).
        tls = {"ssl_handshake_timeout": self.limits.handshake_seconds, "ssl_shutdown_timeout": TLS_SHUTDOWN_SECONDS}
        loop.create_server = functools.partial(loop.create_server, **tls)  # type: ignore[method-assign]
        try:
            await super().startup(sockets)
        finally:
            del loop.create_server


class _AcceptErrorLog:
    """An event-loop exception handler: asyncio's accept error (it retries the accept after a second, per
    listening socket) is logged once per interval with the count since; anything else goes on as before."""

    MESSAGE = "socket.accept() out of system resource"

    def __init__(self, previous: Any) -> None:
        self.previous = previous
        self.suppressed = 0
        self.last = -ACCEPT_ERROR_LOG_SECONDS

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != self.MESSAGE:
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self.last < ACCEPT_ERROR_LOG_SECONDS:
            self.suppressed += 1
            return
        exc = context.get("exception")
        log.error(
            "cannot accept connections: out of system resources (open files, memory)",
            extra={"error": str(exc) if exc else None, "suppressedSince": self.suppressed},
        )
        self.last, self.suppressed = now, 0


def install_accept_error_log(loop: asyncio.AbstractEventLoop) -> None:
    """Once per loop."""
    if not isinstance(loop.get_exception_handler(), _AcceptErrorLog):
        loop.set_exception_handler(_AcceptErrorLog(loop.get_exception_handler()))
