"""The simulator's front door (``_frontdoor``) against a tiny fake RP: the header mechanics an RP cannot show
(what ARM strips, replaces and adds on the way in; hop-by-hop headers and a compressed body on the way out),
the bounds (an oversized answer, an RP that never answers) and the subscription notification's wire form.
What a real RP can show -- systemData, async URLs, paging, 401 before forwarding, an unreachable RP -- is in
tests/frontend/test_front_door.py, end to end."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.cloud.simulator import FrontDoorConfig, SimulatorApp, SimulatorConfig, create_app
from aro.cloud.simulator._errors import ArmError
from aro.cloud.simulator._frontdoor import Caller, namespace_of, routed

TOKEN = "front-door-test-token"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "8a4b1a3e-0000-4000-8000-00000000c0de"
SUB = "11111111-2222-3333-4444-555555555555"
PUBLIC = "https://frontdoor.test"
CLUSTERS = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.RedHatOpenShift/openShiftClusters"
V = "api-version=2025-07-25"


@dataclass
class Seen:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name]
        assert len(values) <= 1, (name, values)
        return values[0] if values else None


Reply = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class FakeRP:
    """A plain HTTP/1.1 server that records every request and answers with ``reply`` (None: never answers)."""

    reply: Callable[[Seen], Reply | None] = lambda seen: (200, [("Content-Type", "application/json")], b"{}")
    seen: list[Seen] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [(k.strip().lower(), v.strip()) for k, _, v in (x.partition(":") for x in lines[1:] if x)]
                length = int(dict(headers).get("content-length", "0"))
                seen = Seen(method, target, headers, await reader.readexactly(length))
                self.seen.append(seen)
                answer = self.reply(seen)
                if answer is None:
                    await asyncio.Event().wait()  # hangs until the connection is torn down
                    return
                status, out, body = answer
                lines_out = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in out), f"Content-Length: {len(body)}"]
                writer.write(("\r\n".join(lines_out) + "\r\n\r\n").encode("latin-1") + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def rp() -> AsyncIterator[FakeRP]:
    fake = FakeRP()
    fake.server = await asyncio.start_server(fake._serve, "127.0.0.1", 0)
    try:
        yield fake
    finally:
        fake.server.close()


def _app(tmp_path: Path, rp: FakeRP | None, **front_door: Any) -> SimulatorApp:
    config = FrontDoorConfig(endpoint=rp.url if rp else None, **front_door)
    return create_app(SimulatorConfig(tmp_path / "sim", token=TOKEN, front_door=config))


@pytest.fixture
async def app(tmp_path: Path, rp: FakeRP) -> AsyncIterator[SimulatorApp]:
    a = _app(tmp_path, rp)
    try:
        yield a
    finally:
        await a.shutdown()


def _client(app: SimulatorApp, token: str | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=transport, base_url=PUBLIC, headers=headers)


def _token(app: SimulatorApp) -> str:
    return app.tokens.issue(TENANT, CLIENT_ID, "https://management.azure.com", f"{PUBLIC}/{TENANT}/v2.0")


async def _prepare(c: httpx.AsyncClient, rp: FakeRP, *, rg: bool = True) -> None:
    """What ARM wants before it calls the RP: the subscription registered (which notifies the RP), the group."""
    r = await c.post(f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/register?api-version=2021-04-01")
    assert r.status_code == 200, r.text
    if rg:
        r = await c.put(f"/subscriptions/{SUB}/resourcegroups/rg?api-version=2022-09-01", json={"location": "eastus"})
        assert r.status_code in (200, 201), r.text
    assert [(s.method, s.target) for s in rp.seen] == [("PUT", f"/subscriptions/{SUB}?api-version=2.0")]
    rp.seen.clear()


async def test_what_the_rp_receives_is_what_arm_sends(app: SimulatorApp, rp: FakeRP) -> None:
    token = _token(app)
    async with _client(app, token) as c:
        await _prepare(c, rp)
        forged = {
            "x-ms-arm-resource-system-data": json.dumps({"createdBy": "mallory", "createdByType": "User"}),
            "x-ms-client-tenant-id": "00000000-0000-0000-0000-00000000bad0",
            "x-ms-client-principal-name": "mallory@example.com",
            "x-ms-home-tenant-id": "00000000-0000-0000-0000-00000000bad0",
            "referer": "https://evil.example/",
            "x-ms-client-request-id": "c0ffee00-0000-4000-8000-000000000001",
            "x-ms-correlation-request-id": "c0ffee00-0000-4000-8000-000000000002",
            "accept-language": "en-US",
            "connection": "keep-alive, x-hop",
            "x-hop": "not for the next hop",
        }
        started = datetime.now().astimezone()
        r = await c.put(f"{CLUSTERS}/My%20Cluster?{V}&$filter=a%20b", json={"location": "eastus"}, headers=forged)
    assert r.status_code == 200, r.text
    [seen] = rp.seen
    assert (seen.method, seen.target) == ("PUT", f"{CLUSTERS}/My%20Cluster?{V}&$filter=a%20b")
    assert json.loads(seen.body) == {"location": "eastus"}
    assert seen.header("referer") == f"{PUBLIC}{CLUSTERS}/My%20Cluster?{V}&$filter=a%20b"
    assert seen.header("authorization") is None and seen.header("x-hop") is None
    assert seen.header("accept-language") == "en-US"
    assert seen.header("x-ms-client-request-id") == forged["x-ms-client-request-id"]
    assert seen.header("x-ms-correlation-request-id") == forged["x-ms-correlation-request-id"]
    claims = app.tokens.claims(token)
    assert claims is not None
    assert seen.header("x-ms-client-tenant-id") == TENANT and seen.header("x-ms-home-tenant-id") == TENANT
    assert seen.header("x-ms-client-app-id") == CLIENT_ID
    assert seen.header("x-ms-client-principal-name") == CLIENT_ID
    assert seen.header("x-ms-client-object-id") == claims["oid"]
    assert seen.header("x-ms-client-principal-id") is None  # a service principal has none (RPC)
    assert seen.header("x-ms-client-audience") == "https://management.azure.com"
    assert seen.header("x-ms-client-issuer") == f"{PUBLIC}/{TENANT}/v2.0"
    assert seen.header("x-ms-client-ip-address") == "203.0.113.7"
    system = json.loads(seen.header("x-ms-arm-resource-system-data") or "{}")
    assert {k: system[k] for k in ("createdBy", "createdByType", "lastModifiedBy", "lastModifiedByType")} == {
        "createdBy": CLIENT_ID,
        "createdByType": "Application",
        "lastModifiedBy": CLIENT_ID,
        "lastModifiedByType": "Application",
    }
    assert system["createdAt"] == system["lastModifiedAt"] and system["createdAt"].endswith("Z")
    assert abs((datetime.fromisoformat(system["createdAt"]) - started).total_seconds()) < 60


async def test_reads_carry_no_system_data_and_a_new_correlation_id(app: SimulatorApp, rp: FakeRP) -> None:
    async with _client(app, _token(app)) as c:
        await _prepare(c, rp)
        r = await c.get(f"{CLUSTERS}?{V}")
    [seen] = rp.seen
    assert seen.header("x-ms-arm-resource-system-data") is None
    correlation = seen.header("x-ms-correlation-request-id")
    assert correlation and r.headers["x-ms-correlation-request-id"] == correlation


async def test_the_static_token_carries_no_identity(app: SimulatorApp, rp: FakeRP) -> None:
    async with _client(app, TOKEN) as c:
        await _prepare(c, rp)
        await c.patch(f"{CLUSTERS}/c1?{V}", json={"tags": {}})
    [seen] = rp.seen
    assert not [k for k, _ in seen.headers if k.startswith("x-ms-client-") and k != "x-ms-client-ip-address"]
    assert set(json.loads(seen.header("x-ms-arm-resource-system-data") or "{}")) == {"createdAt", "lastModifiedAt"}


async def test_the_answer_passes_back_unchanged_but_for_hop_by_hop_headers(app: SimulatorApp, rp: FakeRP) -> None:
    compressed = gzip.compress(json.dumps({"value": [], "nextLink": f"{PUBLIC}/next"}).encode())
    rp.reply = lambda seen: (
        201,
        [
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
            ("Azure-AsyncOperation", f"{PUBLIC}/op?{V}"),
            ("Location", f"{PUBLIC}/result?{V}"),
            ("Retry-After", "7"),
            ("x-ms-request-id", "rp-request-id"),
            ("Connection", "keep-alive, x-rp-hop"),
            ("Keep-Alive", "timeout=5"),
            ("x-rp-hop", "1"),
            ("Vary", "Accept"),
            ("Vary", "Accept-Encoding"),
        ],
        compressed,
    )
    async with _client(app, _token(app)) as c:
        await _prepare(c, rp)
        r = await c.put(f"{CLUSTERS}/c1?{V}", json={}, headers={"x-ms-client-request-id": "abc"})
    assert r.status_code == 201
    assert r.headers["content-encoding"] == "gzip" and r.json()["nextLink"] == f"{PUBLIC}/next"  # httpx inflates
    assert r.headers["azure-asyncoperation"] == f"{PUBLIC}/op?{V}"
    assert (r.headers["location"], r.headers["retry-after"]) == (f"{PUBLIC}/result?{V}", "7")
    assert r.headers.get_list("x-ms-request-id") == ["rp-request-id"]  # the RP's, not a second one
    assert r.headers["vary"] == "Accept, Accept-Encoding"
    assert "keep-alive" not in r.headers and "x-rp-hop" not in r.headers
    assert r.headers.get_list("x-ms-client-request-id") == ["abc"]


async def test_an_answer_over_the_bound_is_a_bad_gateway(tmp_path: Path, rp: FakeRP) -> None:
    app = _app(tmp_path, rp, max_response_bytes=1024)
    try:
        async with _client(app, _token(app)) as c:
            await _prepare(c, rp, rg=False)
            rp.reply = lambda seen: (200, [("Content-Type", "application/json")], b'"' + b"x" * 2048 + b'"')
            r = await c.get(f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/openShiftClusters?{V}")
    finally:
        await app.shutdown()
    assert r.status_code == 502 and r.json()["error"]["code"] == "BadGateway", r.text


async def test_an_rp_that_never_answers_is_a_gateway_timeout(tmp_path: Path, rp: FakeRP) -> None:
    app = _app(tmp_path, rp, timeout_seconds=0.5)
    rp.reply = lambda seen: None
    started = time.monotonic()
    try:
        async with _client(app, _token(app)) as c:
            r = await c.get(f"/providers/Microsoft.RedHatOpenShift/operations?{V}")
    finally:
        await app.shutdown()
    assert 0.5 <= time.monotonic() - started < 5
    assert r.status_code == 504
    assert r.json() == {
        "error": {
            "code": "GatewayTimeout",
            "message": "The gateway did not receive a response from 'Microsoft.RedHatOpenShift' within the "
            "specified time period.",
        }
    }


async def test_a_body_over_arms_limit_is_413_and_never_forwarded(tmp_path: Path, rp: FakeRP) -> None:
    app = _app(tmp_path, rp, max_request_bytes=1000)
    try:
        async with _client(app, _token(app)) as c:
            await _prepare(c, rp)
            r = await c.put(f"{CLUSTERS}/c1?{V}", content=b"{" + b" " * 1000 + b"}")
    finally:
        await app.shutdown()
    assert r.status_code == 413 and rp.seen == []


async def test_arm_refuses_an_unregistered_subscription_and_a_missing_group(app: SimulatorApp, rp: FakeRP) -> None:
    async with _client(app, _token(app)) as c:
        r = await c.get(f"{CLUSTERS}?{V}")
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "MissingSubscriptionRegistration" and "Microsoft.RedHatOpenShift" in error["message"]
        detail = {"code": error["code"], "target": "Microsoft.RedHatOpenShift", "message": error["message"]}
        assert error["details"] == [detail]
        await _prepare(c, rp, rg=False)
        r = await c.put(f"/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.RedHatOpenShift/x/y?{V}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceGroupNotFound", r.text
    assert rp.seen == []


async def test_subscription_notification(app: SimulatorApp, rp: FakeRP) -> None:
    body = {"state": "Registered", "properties": {"tenantId": TENANT}}
    rp.reply = lambda seen: (201, [("Content-Type", "application/json")], seen.body)
    await app.front_door.notify_subscription(SUB, body)
    [seen] = rp.seen
    assert (seen.method, seen.target) == ("PUT", f"/subscriptions/{SUB}?api-version=2.0")
    assert json.loads(seen.body) == body and seen.header("content-type") == "application/json"
    assert seen.header("x-ms-correlation-request-id")

    error = {"error": {"code": "InvalidSubscriptionState", "message": "no", "target": "state"}}
    rp.reply = lambda seen: (400, [("Content-Type", "application/json")], json.dumps(error).encode())
    with pytest.raises(ArmError) as refused:
        await app.front_door.notify_subscription(SUB, {"state": "Registered"})
    assert (refused.value.status, refused.value.code, refused.value.message) == (400, "InvalidSubscriptionState", "no")

    rp.reply = lambda seen: (202, [], b"")  # ARM retries anything but 200/201/204
    with pytest.raises(ArmError):
        await app.front_door.notify_subscription(SUB, {"state": "Registered"})


async def test_no_linked_rp(tmp_path: Path) -> None:
    app = _app(tmp_path, None)
    try:
        await app.front_door.notify_subscription(SUB, {"state": "Registered"})  # nothing to notify
        async with _client(app, _token(app)) as c:
            r = await c.get(f"/providers/Microsoft.RedHatOpenShift/operations?{V}")
    finally:
        await app.shutdown()
    assert r.status_code == 400 and r.json()["error"]["code"] == "NoRegisteredProviderFound", r.text


@pytest.mark.parametrize(
    ("path", "forwarded"),
    [
        (f"{CLUSTERS}/c1", True),
        (f"{CLUSTERS}/c1/listCredentials", True),
        (f"{CLUSTERS}/providers/listCredentials", True),  # a cluster named "providers"
        (CLUSTERS, True),
        (f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/openShiftClusters", True),
        (f"/subscriptions/{SUB}/providers/microsoft.redhatopenshift/locations/eastus/operationsstatus/x", True),
        (f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/locations/eastus/openshiftversions", True),
        ("/providers/Microsoft.RedHatOpenShift/operations", True),
        # ARM's own provider routes
        (f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift", False),
        (f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/register", False),
        (f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/unregister", False),
        ("/providers/Microsoft.RedHatOpenShift", False),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.RedHatOpenShift", False),
        # other namespaces, also as extensions of a cluster
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v", False),
        (f"{CLUSTERS}/c1/providers/Microsoft.Insights/diagnosticSettings/d", False),
        (
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/vms/v/providers/"
            "Microsoft.RedHatOpenShift/x/y",
            True,
        ),
        (f"/subscriptions/{SUB}/resourceGroups/rg", False),
        (f"/subscriptions/{SUB}", False),
    ],
)
def test_routing(path: str, forwarded: bool) -> None:
    lsegs = [s.lower() for s in path.split("/") if s]
    assert routed(lsegs) is forwarded, (path, namespace_of(lsegs))


def test_callers_from_claims() -> None:
    user = Caller.of({"tid": TENANT, "oid": "o1", "appid": "a1", "upn": "ann@contoso.com"})
    assert (user.name, user.kind) == ("ann@contoso.com", "User")
    assert user.headers()["x-ms-client-principal-id"] == "o1"
    identity = Caller.of({"tid": TENANT, "oid": "o2", "appid": "a2", "xms_mirid": "/subscriptions/s/..."})
    assert (identity.name, identity.kind) == ("a2", "ManagedIdentity")
    assert "x-ms-client-principal-id" not in identity.headers()
    assert Caller.of(None).headers() == {} and Caller.of(None).name is None
