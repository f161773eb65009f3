"""The backplane proxy's mechanics, against a stand-in cluster API that tells what it received: the proxy
(``aro.frontend.backplane.proxy.BackplaneProxy``) and the stand-in are both served by uvicorn over TLS (the
stand-in asks for the client certificate, as a cluster API does); the SRE's identity is a real development
token. (``test_proxy.py`` drives the real kubectl through a real RP to the simulator's cluster APIs.)

- forwarded: method, the path after the cluster's prefix under the API's own path, the raw query (minus
  ``readonly``), the body; the backplane's client certificate, the server verified for the kubeconfig's
  ``tls-server-name``; the SRE impersonated (user, groups but ``system:`` ones and unprintable ones,
  ``system:authenticated``); dropped: the client's credentials, cookies, impersonation, ``X-Remote-*``,
  hop-by-hop headers and those ``Connection`` names; back: status and headers but hop-by-hop and
  ``Set-Cookie``, the body bytes unchanged (gzip passes through);
- streamed both ways: a chunk reaches the client before the API sent the next; a 2.5 MiB upload arrives
  whole; a client that goes away ends the API's request at once;
- bounded: 413 over 3 MiB (declared: the API is never asked; streamed: cut off), 504 when the API has not
  answered within ``proxyMaxSeconds``, a stream still open then ends cleanly, 429 past the per-user bound;
- refused in the proxy: 401 / 403 (not an SRE, a ``system:`` user), dot segments, writes in a read-only
  session, an unreachable API, one that fails the TLS check or a credential that cannot be loaded (502) --
  each a backplane error that is also a Kubernetes ``Status``;
- the clients of cluster APIs: one per (cluster, credential), bounded, an evicted one closed once idle.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from aro.backplane.errors import BackplaneError
from aro.backplane.service import Backplane, BackplaneSettings
from aro.backplane.target import ClusterFacts, ClusterView, Upstream
from aro.frontend.backplane import proxy as proxy_module
from aro.frontend.backplane.proxy import BackplaneProxy, UpstreamClients
from aro.frontend.services import Services
from aro.ledger.identity import DevelopmentIssuer, Identity
from aro.util import pki
from aro.util.serve import HTTPSServer, TLSFiles
from tests.conftest import free_port

CLUSTER = "c0ffee00c0ffee00c0ffee00c0ffee00"
API_HOST = "api.bp.example.com"  # the name the stand-in's serving certificate has (not its URL's)
SRE = "sre-sam"
SRE_GROUPS = ["sre-oncall", "aro-sre", "system:masters", "bad\u00e9group"]
Scope = dict[str, Any]


async def _until(what: str, fn: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not fn():
        assert time.monotonic() < deadline, f"not within {seconds}s: {what}"
        await asyncio.sleep(0.01)


@dataclass
class StandIn:
    """A cluster API that records each request and answers: ``.../stream`` chunks put in ``chunks`` (None
    ends it), ``.../slow`` nothing until the client goes, ``.../gzip`` a gzip body with headers to drop,
    anything else the request as JSON (with its body's length and SHA-256)."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    chunks: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    async def _wait_gone(self, receive: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone.set()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        tls = (scope.get("extensions") or {}).get("tls") or {}
        record = {
            "method": scope["method"],
            "raw_path": bytes(scope["raw_path"]).decode(),
            "query": bytes(scope["query_string"]).decode(),
            "headers": [(k.decode(), v.decode("latin-1")) for k, v in scope["headers"]],
            "client_cert": tls.get("client_cert_name"),
        }
        self.seen.append(record)
        path = scope["path"]
        if path.endswith("/stream"):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            watcher = asyncio.ensure_future(self._wait_gone(receive))
            try:
                while (chunk := await self.chunks.get()) is not None:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
            finally:
                watcher.cancel()
            return
        if path.endswith("/slow"):
            await self._wait_gone(receive)
            return
        digest, size, more = hashlib.sha256(), 0, True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            digest.update(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        if path.endswith("/gzip"):
            body = gzip.compress(json.dumps({"compressed": True}).encode())
            headers = [
                (b"content-type", b"application/json"),
                (b"content-encoding", b"gzip"),
                (b"content-length", str(len(body)).encode()),
                (b"set-cookie", b"session=1"),
                (b"connection", b"x-upstream-private"),
                (b"x-upstream-private", b"1"),
                (b"x-kept", b"yes"),
            ]
            await send({"type": "http.response.start", "status": 203, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        body = json.dumps({**record, "size": size, "sha256": digest.hexdigest()}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


class _Organizations:
    async def resolve(self, id_or_tenant: str) -> dict[str, Any]:
        return {"id": id_or_tenant}


class _Targets:
    def __init__(self, upstream: Upstream) -> None:
        self.upstream_ = upstream
        self.facts = ClusterFacts("bp", "Succeeded", False, False, "eastus", "/subscriptions/s/resourceGroups/m", "")

    async def find(self, cluster_id: str) -> ClusterView:
        if cluster_id != CLUSTER:
            raise BackplaneError(404, f"Cluster {cluster_id} was not found")
        rid = "/subscriptions/s/resourcegroups/rg/providers/microsoft.redhatopenshift/openshiftclusters/bp"
        return ClusterView(CLUSTER, "ext", "org", rid, "openshiftclusters", self.facts)

    async def upstream(self, view: ClusterView) -> Upstream:
        return self.upstream_


@dataclass
class Env:
    base: str
    ctx: ssl.SSLContext
    issuer: DevelopmentIssuer
    standin: StandIn
    targets: _Targets
    backplane: Backplane
    proxy: BackplaneProxy

    def token(self, user: str = SRE, groups: list[str] | None = None) -> str:
        return self.issuer.issue(user, "org-1", SRE_GROUPS if groups is None else groups)[0]

    def client(self, token: str | None = "sre", **kw: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token() if token == 'sre' else token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base, verify=self.ctx, headers=headers, timeout=10, **kw)

    def url(self, rest: str) -> str:
        return f"/backplane/cluster/{CLUSTER}/{rest}"


def _files(directory: Path, name: str, pair: pki.KeyPair) -> tuple[str, str]:
    (directory / f"{name}.crt").write_text(pair.cert_pem)
    (directory / f"{name}.key").write_text(pair.key_pem)
    return str(directory / f"{name}.crt"), str(directory / f"{name}.key")


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    ca = pki.new_ca("test CA")
    (tmp_path / "ca.crt").write_text(ca.cert_pem)
    cluster_ca = pki.new_ca("cluster CA")  # the stand-in's client CA: the backplane's certificate chains to it
    (tmp_path / "cluster-ca.crt").write_text(cluster_ca.cert_pem)
    api = pki.issue(ca, API_HOST, dns_names=(API_HOST,))
    rp = pki.issue(ca, "localhost", dns_names=("localhost",), ip_addresses=("127.0.0.1",))
    admin = pki.issue(cluster_ca, "system:admin", organization="system:masters", server=False, client=True)

    standin = StandIn()
    api_cert, api_key = _files(tmp_path, "api", api)
    upstream_server = HTTPSServer(
        standin, "127.0.0.1", 0, TLSFiles(api_cert, api_key, str(tmp_path / "cluster-ca.crt"), require_client_cert=True)
    )
    await upstream_server.start()
    upstream = Upstream(
        url=f"https://127.0.0.1:{upstream_server.port}/clusters/sub/rg",
        ca_pem=ca.cert_pem,
        cert_pem=admin.cert_pem,
        key_pem=admin.key_pem,
        tls_server_name=API_HOST,
    )
    issuer = DevelopmentIssuer(b"k" * 32, 3600)
    identity = Identity(issuer, cast(Any, _Organizations()), ["aro-sre"])
    targets = _Targets(upstream)
    backplane = Backplane(targets=cast(Any, targets), settings=BackplaneSettings(proxy_max_seconds=30))
    proxy = BackplaneProxy(cast(Services, SimpleNamespace(identity=identity, backplane=backplane)))
    rp_cert, rp_key = _files(tmp_path, "rp", rp)
    proxy_server = HTTPSServer(proxy, "127.0.0.1", 0, TLSFiles(rp_cert, rp_key))
    await proxy_server.start()
    ctx = ssl.create_default_context(cadata=ca.cert_pem)
    try:
        yield Env(f"https://127.0.0.1:{proxy_server.port}", ctx, issuer, standin, targets, backplane, proxy)
    finally:
        standin.chunks.put_nowait(None)
        await proxy_server.stop()
        await proxy.close()
        await upstream_server.stop()


def _status(r: httpx.Response, code: int, *words: str) -> dict[str, Any]:
    """A refusal of the proxy: backplane-api's envelope and a Kubernetes Status in one object."""
    assert r.status_code == code, r.text
    body: dict[str, Any] = r.json()
    assert body["statusCode"] == body["code"] == code and body["kind"] == "Status" and body["status"] == "Failure"
    assert body["apiVersion"] == "v1" and isinstance(body["reason"], str) and body["reason"]
    for word in words:
        assert word in body["message"], body
    return body


async def _raw_get(env: Env, target: str) -> tuple[int, dict[str, Any]]:
    """GET ``target`` exactly as written (an HTTP client would remove its dot segments)."""
    host, port = env.base.removeprefix("https://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port), ssl=env.ctx, server_hostname="localhost")
    try:
        request = f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {env.token()}\r\n"
        writer.write((request + "Connection: close\r\n\r\n").encode())
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _values(record: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in record["headers"] if k == name]


async def test_forwards_the_request_as_the_sre_and_drops_what_names_another(env: Env) -> None:
    query = "labelSelector=app%3Dweb%2Ctier+in+%28a%29&readonly=false&limit=500&watch"
    async with env.client() as c:
        r = await c.get(
            env.url(f"api/v1/namespaces/kube-system/pods?{query}"),
            headers={
                "Impersonate-User": "system:admin",
                "Impersonate-Group": "system:masters",
                "Impersonate-Uid": "0",
                "Impersonate-Extra-Scopes": "all",
                "X-Remote-User": "system:admin",
                "X-Remote-Group": "system:masters",
                "Cookie": "session=stolen",
                "Connection": "keep-alive, X-Private",
                "X-Private": "hop",
                "Proxy-Authorization": "Basic eA==",
                "Forwarded": "for=1.2.3.4",
                "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io",
                "User-Agent": "kubectl/v1.32.4",
                "Accept-Encoding": "identity",
            },
        )
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["method"] == "GET"
    assert seen["raw_path"] == "/clusters/sub/rg/api/v1/namespaces/kube-system/pods"
    assert seen["query"] == "labelSelector=app%3Dweb%2Ctier+in+%28a%29&limit=500&watch"  # raw, minus readonly
    assert seen["client_cert"] == "O=system:masters,CN=system:admin"
    assert _values(seen, "impersonate-user") == [SRE]
    assert _values(seen, "impersonate-group") == ["aro-sre", "sre-oncall", "system:authenticated"]
    names = {k for k, _ in seen["headers"]}
    for dropped in ("authorization", "cookie", "impersonate-uid", "impersonate-extra-scopes", "x-remote-user",
                    "x-remote-group", "x-private", "proxy-authorization", "forwarded"):  # fmt: skip
        assert dropped not in names, dropped
    assert _values(seen, "x-forwarded-for") == ["127.0.0.1"]
    assert _values(seen, "accept") == ["application/json;as=Table;v=v1;g=meta.k8s.io"]
    assert _values(seen, "user-agent") == ["kubectl/v1.32.4"]
    assert _values(seen, "host") == [f"127.0.0.1:{env.targets.upstream_.url.split(':')[2].split('/')[0]}"]
    assert _values(seen, "accept-encoding") == ["identity"]  # the proxy's HTTP client adds none of its own


async def test_response_headers_and_bytes_pass_through_but_hop_by_hop_and_cookies(env: Env) -> None:
    async with env.client() as c:
        r = await c.get(env.url("api/v1/gzip"))
    assert r.status_code == 203
    assert r.headers["content-encoding"] == "gzip" and r.json() == {"compressed": True}  # decoded by the client
    assert r.headers["x-kept"] == "yes" and r.headers.get("x-ms-request-id") is None  # not the ARM middleware's
    for dropped in ("set-cookie", "x-upstream-private"):
        assert dropped not in r.headers, dropped


async def test_bodies_stream_up_whole_and_are_bounded(env: Env) -> None:
    payload = bytes(range(256)) * (10 * 1024)  # 2.5 MiB
    async with env.client() as c:

        async def chunks(data: bytes) -> AsyncIterator[bytes]:
            for at in range(0, len(data), 256 * 1024):
                yield data[at : at + 256 * 1024]

        r = await c.post(env.url("api/v1/namespaces/x/configmaps"), content=chunks(payload))  # chunked
        assert r.status_code == 200, r.text
        assert (r.json()["size"], r.json()["sha256"]) == (len(payload), hashlib.sha256(payload).hexdigest())
        assert _values(r.json(), "transfer-encoding") == ["chunked"]
        r = await c.put(env.url("api/v1/namespaces/x/configmaps/y"), content=payload)  # Content-Length
        assert r.status_code == 200 and r.json()["size"] == len(payload)
        assert _values(r.json(), "content-length") == [str(len(payload))]

        asked = len(env.standin.seen)
        big = b"x" * (proxy_module.MAX_REQUEST_BODY + 1)
        _status(await c.put(env.url("api/v1/namespaces/x/configmaps/y"), content=big), 413, "limit")
        assert len(env.standin.seen) == asked  # declared too large: the API was never asked
        _status(await c.post(env.url("api/v1/namespaces/x/configmaps"), content=chunks(big)), 413, "limit")


async def test_a_response_streams_chunk_by_chunk_and_a_client_that_goes_ends_it(env: Env) -> None:
    async with env.client() as c, c.stream("GET", env.url("api/v1/pods/stream?watch=true")) as r:
        assert r.status_code == 200
        received = r.aiter_raw()
        for n in range(3):  # each chunk arrives before the API sent the next one
            env.standin.chunks.put_nowait(b'{"type":"ADDED","n":%d}\n' % n)
            got = await asyncio.wait_for(received.__anext__(), 5)
            assert got == b'{"type":"ADDED","n":%d}\n' % n
        assert not env.standin.gone.is_set()
    # the client went away mid-stream: the API's request ends too (not at the deadline)
    await asyncio.wait_for(env.standin.gone.wait(), 5)
    await _until("the proxied request to be released", lambda: env.proxy.in_flight == 0)


async def test_the_request_deadline(env: Env) -> None:
    env.backplane.settings = replace(env.backplane.settings, proxy_max_seconds=1.0)
    started = time.monotonic()
    async with env.client() as c:
        _status(await c.get(env.url("api/v1/slow")), 504, "did not answer within 1s")
        assert time.monotonic() - started < 5
        await asyncio.wait_for(env.standin.gone.wait(), 5)  # and the API's request was ended

        # a stream still open at the deadline ends cleanly (as the API server ends a watch)
        async with c.stream("GET", env.url("api/v1/pods/stream?watch=true")) as r:
            env.standin.chunks.put_nowait(b"first\n")
            body = b"".join([chunk async for chunk in r.aiter_raw()])
        assert r.status_code == 200 and body == b"first\n"


async def test_refusals_in_the_proxy(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    async with env.client(token=None) as c:
        r = _status(await c.get(env.url("api")), 401, "Bearer")
        assert r["reason"] == "Unauthorized"
    async with env.client(token="garbage") as c:
        _status(await c.get(env.url("api")), 401, "not valid")
    async with env.client(token=env.token("dev", ["developers"])) as c:
        _status(await c.get(env.url("api")), 403, "dev", "not allowed")
    async with env.client(token=env.token("system:admin", ["aro-sre"])) as c:
        _status(await c.get(env.url("api")), 403, "reserved")
    async with env.client() as c:
        _status(await c.get("/backplane/cluster/0000/api"), 404, "0000")
        for path in ("api/../../other-rg/api", "api/%2e%2E/x", "./api", "api/."):
            status, body = await _raw_get(env, env.url(path))
            assert (status, body["statusCode"], body["kind"]) == (400, 400, "Status"), body
            assert "'..'" in body["message"]
        # a read-only session: reads pass, writes do not (the parameter never reaches the API)
        assert (await c.get(env.url("api/v1/pods?readonly=true"))).json()["query"] == ""
        _status(await c.post(env.url("api/v1/namespaces?readonly=true"), json={}), 403, "read-only", "POST")
        env.targets.facts = replace(env.targets.facts, hibernating=True)
        _status(await c.get(env.url("api")), 400, "hibernating", "login failed")
        env.targets.facts = replace(env.targets.facts, hibernating=False, provisioning_state="Deleting")
        _status(await c.get(env.url("api")), 400, "Deleting", "not Succeeded")
        env.targets.facts = replace(env.targets.facts, provisioning_state="Succeeded")

        # too many requests of one SRE at once
        monkeypatch.setattr(proxy_module, "MAX_IN_FLIGHT_PER_USER", 1)
        async with c.stream("GET", env.url("api/v1/pods/stream")) as held:
            assert held.status_code == 200
            r = await c.get(env.url("api"))
            _status(r, 429, "Too many")
            assert r.headers["retry-after"] == "1"
        await _until("the held request to be released", lambda: env.proxy.in_flight == 0)
        assert (await c.get(env.url("api"))).status_code == 200


async def test_an_unreachable_or_unverifiable_api_is_502(env: Env) -> None:
    closed = free_port()  # nothing listens there (and no server bound to port 0 elsewhere can take it)
    good = env.targets.upstream_
    async with env.client() as c:
        env.targets.upstream_ = replace(good, url=f"https://127.0.0.1:{closed}/clusters/x")
        _status(await c.get(env.url("api")), 502, "could not be reached", "ConnectError")
        env.targets.upstream_ = replace(good, tls_server_name="")  # the certificate does not name 127.0.0.1
        _status(await c.get(env.url("api")), 502, "could not be reached", "CERTIFICATE_VERIFY_FAILED")
        env.targets.upstream_ = replace(good, key_pem="not a key")
        _status(await c.get(env.url("api")), 502, "credential for this cluster is not usable")
        assert env.proxy.in_flight == 0
        env.targets.upstream_ = good
        assert (await c.get(env.url("api"))).status_code == 200


async def test_clients_are_kept_per_credential_bounded_and_closed_once_idle(env: Env) -> None:
    clients = UpstreamClients(size=2)
    up = env.targets.upstream_
    a = clients.acquire("a", up)
    assert clients.acquire("a", up) is a and a.users == 2
    clients.release(a)
    b = clients.acquire("b", up)
    renewed = clients.acquire("b", replace(up, cert_pem=up.cert_pem + "\n"))  # a new credential: a new client
    assert renewed is not b and len(clients) == 2
    assert a.evicted and not a.http.is_closed  # still in use (a watch): not closed under it
    clients.release(a)
    await _until("the evicted client to close", lambda: a.http.is_closed)
    clients.release(b)
    clients.release(renewed)
    await clients.close()
    assert b.http.is_closed and renewed.http.is_closed


async def test_websockets_are_refused(env: Env) -> None:
    async with env.client() as c:
        r = await c.get(
            env.url("api/v1/namespaces/x/pods/y/exec?command=sh"),
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
            },
        )
    assert r.status_code == 403
    assert not [seen for seen in env.standin.seen if "exec" in seen["raw_path"]]
