"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task group and a stream per request).

``ARMMiddleware`` does, for every request:
- ``x-ms-request-id``: a fresh UUID on every response;
- lower-cases the path for routing, keeping the original in ``scope["aro.path"]`` (ARM paths are
  case-insensitive; the casing of the creating PUT is returned) -- except under ``/api/`` (the ledger's
  OCM paths) and ``/backplane/`` (the SRE backplane's, whose proxy forwards paths to cluster APIs as
  sent), which are case-sensitive: such a path is never lower-cased, nor is one that only lower-cases into
  them (``/BACKPLANE/...`` is no backplane path: it stays unrouted, under the client-certificate check);
- binds request id, correlation id and client request id to the log context and logs one line per request;
- counts requests by route and status for /metrics (``aro.frontend.metrics``); a client that disconnects
  before its answer (mid-body) is counted with status 499 (nginx's "client closed request") and logged as
  such, never as an unhandled error or a 500;
- refuses, with an ARM error body, what no route may see: a URL longer than ``MAX_URL`` bytes (414
  ``RequestUriTooLong``), and on ARM paths an encoded ``/`` (``%2F``) in a segment (404 ``NotFound``: the
  router would see two segments). A trailing ``/`` is not redirected (the app is built with
  ``redirect_slashes=False``): no route has one, so it is the unrouted path's ARM 404.

It never reads or buffers a body and sets no deadline: a streamed response (the backplane proxy's
watches and ``logs -f``) passes through as it is sent, however long it lasts.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import ClientDisconnect

from aro.util import log as logutil

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("aro.frontend")

CASE_SENSITIVE_PREFIX = "/api/"  # OCM's paths (the ledger): ids are case-sensitive
BACKPLANE_PREFIX = "/backplane/"  # the SRE backplane: cluster ids and the cluster API's paths
CASE_SENSITIVE_PREFIXES = (CASE_SENSITIVE_PREFIX, BACKPLANE_PREFIX)

RequestObserver = Callable[[str, str, int, float], None]  # method, route, status, seconds

CLIENT_CLOSED_REQUEST = 499  # the status a disconnected client's request is counted and logged with
MAX_URL = 8192  # bytes of path and query: ARM's own limit is lower; a longer URL is 414


async def send_json(send: Send, status: int, body: bytes) -> None:
    """A whole JSON response, from pure ASGI middleware (the app's error handler is not reached)."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str | None:
    """A request header (the first of that name), from the ASGI scope."""
    for k, v in scope.get("headers", ()):
        if k == name:
            return str(v.decode("latin-1"))
    return None


class ARMMiddleware:
    def __init__(self, app: ASGIApp, observer: RequestObserver | None = None) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        original = scope["path"]
        scope["aro.path"] = original
        scope["aro.request_id"] = request_id
        if not original.lower().startswith(CASE_SENSITIVE_PREFIXES):
            scope["path"] = original.lower()
            if "raw_path" in scope and scope["raw_path"] is not None:
                scope["raw_path"] = scope["raw_path"].lower()
        fields = {"requestId": request_id, "method": scope["method"], "path": original}
        for name, key in (
            (b"x-ms-correlation-request-id", "correlationId"),
            (b"x-ms-client-request-id", "clientRequestId"),
        ):
            value = header(scope, name)
            if value:
                fields[key] = value[:128]
        token = logutil.log_context.set(fields)
        refused = _refuse(scope)
        status = 500
        started = time.perf_counter()
        echo_client_id = (header(scope, b"x-ms-return-client-request-id") or "").lower() == "true"
        client_id = header(scope, b"x-ms-client-request-id")

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-ms-request-id", request_id.encode()))
                if echo_client_id and client_id:
                    headers.append((b"x-ms-client-request-id", client_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        started_response = False

        async def tracking_send(message: Message) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_wrapper(message)

        try:
            if refused is not None:
                await send_json(tracking_send, *refused)
            else:
                await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST
            log.info("client disconnected before the answer")
        except Exception:
            log.exception("unhandled error")
            if started_response:
                raise
            body = b'{"error":{"code":"InternalServerError","message":"Internal server error."}}'
            await send_json(tracking_send, 500, body)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", None) or "unmatched"
            if self.observer is not None:
                self.observer(scope["method"], route_path, status, elapsed)
            if route_path != "/healthz/ready":
                log.info(
                    "request",
                    extra={"status": status, "route": route_path, "durationMs": round(elapsed * 1000, 2)},
                )
            logutil.log_context.reset(token)


def _refuse(scope: Scope) -> tuple[int, bytes] | None:
    """The ARM error answering a URL no route may see (see the module docstring), else None."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    if len(raw_path) + len(scope.get("query_string", b"")) > MAX_URL:
        message = f"The request URL is longer than {MAX_URL} bytes."
        return 414, b'{"error":{"code":"RequestUriTooLong","message":"' + message.encode() + b'"}}'
    if b"%2f" in raw_path.lower() and not scope["aro.path"].lower().startswith(CASE_SENSITIVE_PREFIXES):
        message = "The requested path could not be found: a path segment holds an encoded '/' (%2F)."
        return 404, b'{"error":{"code":"NotFound","message":"' + message.encode() + b'"}}'
    return None
