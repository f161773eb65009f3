"""``/backplane/cluster/{clusterId}/{path}``: the cluster's Kubernetes API, as the SRE (pure ASGI, streaming).

An SRE's kubeconfig names ``https://<rp>/backplane/cluster/{clusterId}/`` as its server and the SRE's bearer
token as its user; every request is:

1. **authenticated**: the bearer token of an SRE (``common.authenticate_sre``): 401 / 403;
2. **checked**: the cluster exists (404) and may be entered -- ``Succeeded``, not paused, not hibernating
   (400, the login's refusal: ``refuse_unless_usable(view, "login")``), on every request, so a cluster
   that becomes unusable after the login is refused from then on;
3. **forwarded** to the cluster's API server (``Targets.upstream``: mutual TLS with the backplane's
   ``system:masters`` client certificate; a classic cluster's from its admin kubeconfig, a hosted one's
   short-lived from its client CA) with the method, the raw path after ``/backplane/cluster/{clusterId}``
   (under the API's own base path), the raw query string and the body, plus ``Impersonate-User: <SRE>``
   and an ``Impersonate-Group`` per group of the SRE's token and ``system:authenticated``: the cluster API
   authorizes, audits and answers as the SRE (its RBAC decides).

Headers: from the client, ``Authorization``, ``Cookie``, every ``Impersonate-*`` and ``X-Remote-*`` header
(what would let a client choose its identity), ``Host``, ``Expect``, ``Forwarded`` / ``X-Forwarded-For``
and the hop-by-hop headers (``Connection`` and those it names, ``Keep-Alive``, ``TE``, ``Trailer``,
``Transfer-Encoding``, ``Upgrade``, ``Proxy-*``) are dropped; ``X-Forwarded-For`` is the client's address.
The SRE's groups named ``system:...`` are not impersonated (Kubernetes reserves them: a token's
``system:masters`` would be the cluster's full power), nor are names no HTTP header can carry. From the
cluster: every header but the hop-by-hop ones, ``Set-Cookie`` and ``Date`` (the server sets its own). The
proxy's HTTP client adds none of its own (no ``User-Agent``, no ``Accept-Encoding``): only ``Host`` and the
body's framing (the client's ``Content-Length``, else chunked).

Streaming: the request body goes up as it arrives and the response comes back as the API sends it,
bytes unchanged (``Content-Encoding`` passes through) -- ``kubectl get -w`` and ``kubectl logs -f`` see
each event at once; neither side is ever held whole in memory. Bounds:

- a request body of at most ``MAX_REQUEST_BODY`` (3 MiB, as the API server's own limit): 413, told by
  ``Content-Length`` before anything is sent up, or while streaming;
- one request lasts at most ``backplane.proxyMaxSeconds``: a stream still open then ends cleanly, as the
  API server ends a watch at its timeout (the client re-watches); a response not started by then is 504;
- a client that goes away cancels its upstream request at once (a watch does not outlive its client);
- at most ``MAX_IN_FLIGHT`` proxied requests in the process and ``MAX_IN_FLIGHT_PER_USER`` per SRE: 429;
- one HTTP client per (cluster, endpoint, credential), at most ``MAX_CLIENTS`` (least recently used
  out first, closed once its last request ends), each with at most ``CONNECTIONS_PER_CLIENT`` connections
  (a request that waits ``POOL_SECONDS`` for one is 503); connecting is bounded by ``CONNECT_SECONDS``,
  sending by ``WRITE_SECONDS``; reading is not (a quiet watch is not a dead one) beyond the request's bound.
  The clients are closed with the app (``close``).

Failures: an API that cannot be reached (or fails its TLS check) is 502; one that breaks off mid-response
breaks off the client's response too (the connection is closed, so the client sees it truncated).

Errors this proxy answers itself are backplane-api's ``{"statusCode", "message"}`` and, in the same
object, a Kubernetes ``Status`` (``kind``, ``apiVersion``, ``status``, ``reason``, ``code``), so that
kubectl shows the message of a refused resource request (``Error from server (Forbidden): <message>``,
``error: You must be logged in to the server (<message>)``). A refused *discovery* request (``/api``,
``/apis``: a fresh kubectl cache) is read raw by client-go, which prints its own words ("unknown", "the
server has asked for the client to provide credentials") whatever the body says; ``ocm backplane login``
shows the login route's message before kubectl is involved.

``?readonly=true`` (backplane-cli's read-only sessions): only GET, HEAD and OPTIONS pass, anything else is
403 here; the parameter itself is removed from the query the cluster sees. WebSocket requests (``kubectl
exec`` / ``attach`` / ``port-forward``) are not proxied: refused before the handshake (kubectl then tries
SPDY, which this server cannot upgrade either).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx

from aro.backplane.errors import BackplaneError
from aro.backplane.service import Backplane
from aro.backplane.target import Upstream, refuse_unless_usable
from aro.frontend.backplane.common import RESERVED_PREFIX, authenticate_sre
from aro.frontend.middleware import Message, Receive, Scope, Send, header
from aro.frontend.services import Services
from aro.ledger.identity import Principal

log = logging.getLogger("aro.frontend.backplane")

PREFIX = b"/backplane/cluster/"
MAX_REQUEST_BODY = 3 * 2**20
MAX_IN_FLIGHT = 1024
MAX_IN_FLIGHT_PER_USER = 128
MAX_CLIENTS = 64
CONNECTIONS_PER_CLIENT = 64
CONNECT_SECONDS = 10.0
WRITE_SECONDS = 30.0
POOL_SECONDS = 10.0
AUTHENTICATED = "system:authenticated"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
_REQUEST_DROPPED = _HOP_BY_HOP | {b"host", b"authorization", b"cookie", b"expect", b"forwarded", b"x-forwarded-for"}
_REQUEST_DROPPED_PREFIXES = (b"impersonate-", b"x-remote-")
_RESPONSE_DROPPED = _HOP_BY_HOP | {b"set-cookie", b"date"}
_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "RequestEntityTooLarge",
    429: "TooManyRequests",
    502: "ServiceUnavailable",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass(frozen=True)
class _Route:
    path: str


ROUTE = _Route("/backplane/cluster/{clusterId}/{path}")  # the request log's and the metrics' route label


class _TooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


class _UpstreamBroke(Exception):
    """The cluster API broke off a response already under way: the client's is broken off too."""


def status_body(error: BackplaneError) -> bytes:
    """backplane-api's error object, which is also a Kubernetes ``Status`` (kubectl shows its message)."""
    return json.dumps(
        {
            "statusCode": error.status,
            "message": error.message,
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "reason": _REASONS.get(error.status, "InternalError"),
            "code": error.status,
        }
    ).encode()


async def _send_error(send: Send, error: BackplaneError) -> None:
    body = status_body(error)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if error.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="aro backplane"'))
    if error.status == 429:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header_safe(value: str) -> bool:
    return bool(value) and all(" " <= c <= "~" for c in value)


def split_target(scope: Scope) -> tuple[str, bytes]:
    """(cluster id, the raw path after it -- "/" at least) of a request under the proxy's mount point (its
    ``root_path``; ``PREFIX`` when served alone): 404 outside it, 400 for a path with dot segments (the
    upstream URL must stay under the cluster's API)."""
    mounted = str(scope.get("root_path") or "").encode("latin-1")
    prefix = mounted + b"/" if mounted else PREFIX
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    raw = bytes(raw).split(b"?", 1)[0]
    if not raw.startswith(prefix):
        raise BackplaneError(404, "Not a backplane cluster path: /backplane/cluster/{clusterId}/...")
    cluster_raw, slash, rest = raw[len(prefix) :].partition(b"/")
    cluster_id = unquote(cluster_raw.decode("latin-1"))
    if not cluster_id:
        raise BackplaneError(404, "The cluster id is missing: /backplane/cluster/{clusterId}/...")
    path = b"/" + rest
    for segment in path.split(b"/"):
        if unquote(segment.decode("latin-1")) in (".", ".."):
            raise BackplaneError(400, "The path must not have '.' or '..' segments")
    return cluster_id, path


def split_readonly(query: bytes) -> tuple[bytes, bool]:
    """The query without its ``readonly`` parameters (every other byte kept), and whether one was true."""
    kept: list[bytes] = []
    readonly = False
    for part in query.split(b"&") if query else []:
        name, _, value = part.partition(b"=")
        if unquote(name.decode("latin-1")) == "readonly":
            readonly = readonly or unquote(value.decode("latin-1")).lower() in ("true", "1", "yes")
            continue
        kept.append(part)
    return b"&".join(kept), readonly


def forwarded_headers(scope: Scope, principal: Principal) -> list[tuple[bytes, bytes]]:
    """The client's headers as the cluster API gets them: identity, cookies and hop-by-hop headers
    dropped, the SRE's impersonation added."""
    raw: list[tuple[bytes, bytes]] = [(bytes(k).lower(), bytes(v)) for k, v in scope.get("headers", ())]
    named = {
        token.strip().lower().encode("latin-1")
        for k, v in raw
        if k == b"connection"
        for token in v.decode("latin-1").split(",")
    }
    out = [
        (k, v)
        for k, v in raw
        if k not in _REQUEST_DROPPED and k not in named and not k.startswith(_REQUEST_DROPPED_PREFIXES)
    ]
    if not _header_safe(principal.username):
        raise BackplaneError(403, "The user name cannot be impersonated (it is not printable ASCII)")
    out.append((b"impersonate-user", principal.username.encode("ascii")))
    for group in sorted(principal.groups):
        if _header_safe(group) and not group.startswith(RESERVED_PREFIX):
            out.append((b"impersonate-group", group.encode("ascii")))
    out.append((b"impersonate-group", AUTHENTICATED.encode()))
    client = scope.get("client")
    if client:
        out.append((b"x-forwarded-for", str(client[0]).encode("latin-1")))
    return out


def response_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    raw = response.headers.raw
    named = {
        token.strip().lower().encode("latin-1")
        for k, v in raw
        if k.lower() == b"connection"
        for token in v.decode("latin-1").split(",")
    }
    return [(k.lower(), v) for k, v in raw if k.lower() not in _RESPONSE_DROPPED and k.lower() not in named]


@dataclass
class _Client:
    http: httpx.AsyncClient
    users: int = 0
    evicted: bool = False


class UpstreamClients:
    """One ``httpx.AsyncClient`` per (cluster, upstream fingerprint): bounded, least recently used out
    first; an evicted client is closed once its last request ends (a watch is never cut by eviction)."""

    def __init__(self, size: int = MAX_CLIENTS) -> None:
        self.size = size
        self._clients: OrderedDict[tuple[str, str], _Client] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._clients)

    def acquire(self, resource_id: str, upstream: Upstream) -> _Client:
        key = (resource_id, upstream.fingerprint)
        client = self._clients.get(key)
        if client is None:
            http = httpx.AsyncClient(
                verify=upstream.ssl_context(),
                timeout=httpx.Timeout(connect=CONNECT_SECONDS, read=None, write=WRITE_SECONDS, pool=POOL_SECONDS),
                limits=httpx.Limits(
                    max_connections=CONNECTIONS_PER_CLIENT, max_keepalive_connections=16, keepalive_expiry=30
                ),
                follow_redirects=False,
            )
            client = self._clients[key] = _Client(http)
            while len(self._clients) > self.size:
                _, oldest = self._clients.popitem(last=False)
                oldest.evicted = True
                if oldest.users == 0:
                    self._close(oldest)
        else:
            self._clients.move_to_end(key)
        client.users += 1
        return client

    def release(self, client: _Client) -> None:
        client.users -= 1
        if client.evicted and client.users == 0:
            self._close(client)

    def _close(self, client: _Client) -> None:
        task = asyncio.ensure_future(client.http.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.http.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


class BackplaneProxy:
    """The pure ASGI app mounted at ``/backplane/cluster`` (see the module docstring)."""

    def __init__(self, services: Services, max_body: int = MAX_REQUEST_BODY) -> None:
        self.services = services
        self.max_body = max_body
        self.clients = UpstreamClients()
        self.in_flight = 0
        self.by_user: Counter[str] = Counter()

    async def close(self) -> None:
        await self.clients.close()

    def _backplane(self) -> Backplane:
        backplane = self.services.backplane
        if backplane is None:
            raise BackplaneError(503, "The backplane is not running in this process")
        return backplane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # refused before the handshake (the server answers 403): exec, attach and port-forward are not proxied
            await send({"type": "websocket.close", "code": 1008, "reason": "not proxied by the backplane"})
            return
        if scope["type"] != "http":
            return
        scope["route"] = ROUTE
        try:
            cluster_id, path = split_target(scope)
            principal = await authenticate_sre(self.services, header(scope, b"authorization"))
            backplane = self._backplane()
            query, readonly = split_readonly(bytes(scope.get("query_string") or b""))
            method = str(scope["method"]).upper()
            if readonly and method not in READ_METHODS:
                raise BackplaneError(403, f"This is a read-only backplane session: {method} is not allowed")
            declared = header(scope, b"content-length")
            if declared is not None and declared.strip().isdigit() and int(declared.strip()) > self.max_body:
                raise BackplaneError(413, f"The request body is larger than the limit of {self.max_body} bytes")
            headers = forwarded_headers(scope, principal)
            if self.in_flight >= MAX_IN_FLIGHT or self.by_user[principal.username] >= MAX_IN_FLIGHT_PER_USER:
                raise BackplaneError(429, "Too many backplane requests in flight; retry shortly")
            view = await backplane.targets.find(cluster_id)
            refuse_unless_usable(view, "login")
            upstream = await backplane.targets.upstream(view)
        except BackplaneError as e:
            await _send_error(send, e)
            return
        try:
            client = self.clients.acquire(view.resource_id, upstream)
        except (ssl.SSLError, ValueError, OSError) as e:  # a credential the TLS layer cannot load
            log.error("unusable cluster credential", extra={"cluster": cluster_id, "error": type(e).__name__})
            await _send_error(send, BackplaneError(502, "The backplane's credential for this cluster is not usable"))
            return
        self.in_flight += 1
        self.by_user[principal.username] += 1
        try:
            await self._forward(
                scope,
                receive,
                send,
                client,
                upstream,
                method,
                path,
                query,
                headers,
                backplane.settings.proxy_max_seconds,
            )
        finally:
            self.clients.release(client)
            self.in_flight -= 1
            self.by_user[principal.username] -= 1
            if self.by_user[principal.username] <= 0:
                del self.by_user[principal.username]

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        client: _Client,
        upstream: Upstream,
        method: str,
        path: bytes,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        max_seconds: float,
    ) -> None:
        body_done = asyncio.Event()
        state = {"responded": False, "finished": False}
        has_body = any(k.lower() == b"transfer-encoding" for k, _ in scope.get("headers", ())) or (
            (header(scope, b"content-length") or "0").strip() not in ("", "0")
        )

        async def body() -> Any:
            size = 0
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    raise _TooLarge
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    break
            body_done.set()

        if not has_body:
            body_done.set()
        base = httpx.URL(upstream.url)
        raw_path = base.raw_path.split(b"?", 1)[0].rstrip(b"/") + path + (b"?" + query if query else b"")
        request = httpx.Request(
            method,
            base.copy_with(raw_path=raw_path),
            headers=headers,
            content=body() if has_body else None,
            extensions={"sni_hostname": upstream.tls_server_name} if upstream.tls_server_name else {},
        )

        async def finish() -> None:
            state["finished"] = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def exchange() -> None:
            try:
                async with asyncio.timeout(max_seconds):
                    response = await client.http.send(request, stream=True)
                    try:
                        await send(
                            {
                                "type": "http.response.start",
                                "status": response.status_code,
                                "headers": response_headers(response),
                            }
                        )
                        state["responded"] = True
                        async for chunk in response.aiter_raw():
                            await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    finally:
                        await response.aclose()
            except TimeoutError:
                if not state["responded"]:
                    await _send_error(
                        send, BackplaneError(504, f"The cluster API did not answer within {max_seconds:g}s")
                    )
                    return
            except _TooLarge:
                if state["responded"]:
                    raise _UpstreamBroke from None
                await _send_error(
                    send, BackplaneError(413, f"The request body is larger than the limit of {self.max_body} bytes")
                )
                return
            except httpx.PoolTimeout:
                if state["responded"]:
                    raise _UpstreamBroke from None
                await _send_error(send, BackplaneError(503, "Too many requests to this cluster's API in flight"))
                return
            except httpx.HTTPError as e:
                if state["responded"]:
                    log.warning("upstream broke off", extra={"error": f"{type(e).__name__}: {e}"[:300]})
                    raise _UpstreamBroke from None
                log.warning("upstream unreachable", extra={"error": f"{type(e).__name__}: {e}"[:300]})
                await _send_error(
                    send, BackplaneError(502, f"The cluster API could not be reached: {type(e).__name__}: {e}"[:500])
                )
                return
            await finish()

        async def disconnected() -> None:
            await body_done.wait()
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return

        work = asyncio.ensure_future(exchange())
        watcher = asyncio.ensure_future(disconnected())
        try:
            done, _ = await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if work not in done and not state["finished"]:
                work.cancel()  # the client went away: so does its upstream request
            with contextlib.suppress(asyncio.CancelledError, _ClientGone):
                await work
        finally:
            for task in (work, watcher):
                if not task.done():
                    task.cancel()
            await asyncio.wait({work, watcher})
