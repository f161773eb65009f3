"""The simulator's resource providers (``_providers``): ARM's shapes, the registration states per subscription
(Registering -> Registered after the step delay, persisted), and the subscription lifecycle notification
registering ``Microsoft.RedHatOpenShift`` sends the RP -- to a fake RP for the wire form and its refusals,
and to a real `aro rp` (whose front door is its hosted simulator) for the effect."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.api.registry import KINDS
from aro.cloud.simulator import FrontDoorConfig, SimulatorApp, SimulatorConfig, create_app
from aro.cloud.simulator._providers import ARO_NAMESPACE, PROVIDERS, REGIONS
from tests.cloud.test_simulator_frontdoor import FakeRP, Seen
from tests.conftest import RPProcess

TOKEN = "providers-test-token"
TENANT = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
SUB = "6a1b2c3d-0000-4000-8000-000000000001"
BASE = "https://localhost:8444"
V = "api-version=2022-12-01"
ARO = f"/subscriptions/{SUB}/providers/{ARO_NAMESPACE}"


@pytest.fixture
async def rp() -> AsyncIterator[FakeRP]:
    fake = FakeRP(reply=lambda seen: (201, [("Content-Type", "application/json")], seen.body))
    fake.server = await asyncio.start_server(fake._serve, "127.0.0.1", 0)
    try:
        yield fake
    finally:
        fake.server.close()


Make = Callable[..., SimulatorApp]


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[Make]:
    apps: list[SimulatorApp] = []

    def build(rp: FakeRP | None = None, step_delay_seconds: float = 0.0) -> SimulatorApp:
        front_door = FrontDoorConfig(endpoint=rp.url if rp else None, timeout_seconds=5)
        a = create_app(
            SimulatorConfig(
                tmp_path / "sim",
                token=TOKEN,
                tenant_id=TENANT,
                subscription_ids=(SUB,),
                step_delay_seconds=step_delay_seconds,
                front_door=front_door,
            )
        )
        apps.append(a)
        return a

    yield build
    for a in apps:
        await a.shutdown()


def client(app: SimulatorApp) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers)


async def state(c: httpx.AsyncClient, path: str = ARO) -> str:
    r = await c.get(f"{path}?{V}")
    assert r.status_code == 200, r.text
    return str(r.json()["registrationState"])


def notification(seen: Seen) -> dict[str, Any]:
    assert (seen.method, seen.target) == ("PUT", f"/subscriptions/{SUB}?api-version=2.0")
    return dict(json.loads(seen.body))


async def test_providers_in_arms_shape(make: Make) -> None:
    async with client(make()) as c:
        tenant = await c.get(f"/providers?{V}")
        one = await c.get(f"/providers/microsoft.redhatopenshift?{V}")
        sub = await c.get(f"/subscriptions/{SUB}/providers?{V}")
        locations = await c.get(f"/subscriptions/{SUB}/locations?{V}")
        unknown = await c.get(f"/subscriptions/{SUB}/providers/Contoso.Widgets?{V}")
        malformed = await c.get(f"/subscriptions/nope/providers?{V}")
        no_version = await c.get(f"/subscriptions/{SUB}/providers")
    namespaces = {p["namespace"] for p in tenant.json()["value"]}
    assert {
        ARO_NAMESPACE,
        "Microsoft.Network",
        "Microsoft.Compute",
        "Microsoft.Authorization",
        "Microsoft.ManagedIdentity",
        "Microsoft.Resources",
    } <= namespaces
    assert all("registrationState" not in p for p in tenant.json()["value"])
    aro = one.json()
    assert aro["id"] == f"/providers/{ARO_NAMESPACE}" and aro["namespace"] == ARO_NAMESPACE
    types = {t["resourceType"].lower(): t for t in aro["resourceTypes"]}
    for name in (
        "openshiftclusters",
        "hcpopenshiftclusters",
        "locations",
        "locations/operationsstatus",
        "locations/openshiftversions",
        "locations/platformworkloadidentityrolesets",
        "operations",
    ):
        assert types[name]["apiVersions"], name
    assert "East US" in types["openshiftclusters"]["locations"] and types["operations"]["locations"] == []
    states = {p["namespace"]: p["registrationState"] for p in sub.json()["value"]}
    assert states[ARO_NAMESPACE] == "NotRegistered"
    assert {s for n, s in states.items() if n != ARO_NAMESPACE} == {"Registered"}
    assert all(p["id"] == f"/subscriptions/{SUB}/providers/{p['namespace']}" for p in sub.json()["value"])
    value = locations.json()["value"]
    assert [loc["name"] for loc in value] == [r[0] for r in REGIONS]
    assert value[0]["id"] == f"/subscriptions/{SUB}/locations/eastus" and value[0]["displayName"] == "East US"
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "InvalidResourceNamespace"
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "InvalidSubscriptionId"
    assert no_version.status_code == 400 and no_version.json()["error"]["code"] == "MissingApiVersionParameter"


def test_the_rp_types_api_versions_are_what_the_rp_serves() -> None:
    listed = {t.name.lower(): set(t.api_versions) for t in PROVIDERS[ARO_NAMESPACE.lower()].resource_types}
    for kind in KINDS:
        name = kind.type.split("/", 1)[1].lower()
        assert listed.get(name) == set(kind.api_versions), name
    for catalog in KINDS.catalogs:
        assert catalog.type.split("/", 1)[1].lower() in listed, catalog.type


async def test_registering_the_rp_notifies_it_then_settles(make: Make, rp: FakeRP) -> None:
    delay = 30.0
    app = make(rp, step_delay_seconds=delay)
    now = [time.time()]
    app.providers.clock = lambda: now[0]
    async with client(app) as c:
        before = time.time()
        r = await c.post(f"{ARO}/register?{V}")
        assert r.status_code == 200, r.text
        assert r.json()["registrationState"] == "Registering" and r.json()["namespace"] == ARO_NAMESPACE
        now[0] += delay - 1
        assert await state(c) == "Registering"
        now[0] += 1
        assert await state(c) == "Registered"
        [seen] = rp.seen
        body = notification(seen)
        assert body["state"] == "Registered"
        assert body["properties"]["tenantId"] == TENANT and body["properties"]["registeredFeatures"] == []
        assert abs(email.utils.parsedate_to_datetime(body["registrationDate"]).timestamp() - before) < 60
        again = await c.post(f"{ARO}/register?{V}")  # re-registering re-sends it (ARM's feature refresh)
        assert again.json()["registrationState"] == "Registered" and len(rp.seen) == 2
        r = await c.post(f"{ARO}/unregister?{V}")
        assert r.json()["registrationState"] == "Unregistering"
        assert notification(rp.seen[2])["state"] == "Unregistered"
        now[0] += delay
        assert await state(c) == "Unregistered"
        other = await c.post(f"/subscriptions/{SUB}/providers/Microsoft.Network/register?{V}")
        assert other.json()["registrationState"] == "Registered" and len(rp.seen) == 3, "only the RP's namespace"


async def test_a_refusing_or_missing_rp_leaves_the_registration_as_it_was(make: Make, rp: FakeRP) -> None:
    error = {"error": {"code": "InvalidParameter", "message": "no", "target": "state"}}
    rp.reply = lambda seen: (400, [("Content-Type", "application/json")], json.dumps(error).encode())
    async with client(make(rp)) as c:
        r = await c.post(f"{ARO}/register?{V}")
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidParameter"
        assert await state(c) == "NotRegistered"
    gone = FakeRP()
    gone.server = await asyncio.start_server(gone._serve, "127.0.0.1", 0)
    unreachable = make(gone)
    gone.server.close()
    await gone.server.wait_closed()
    async with client(unreachable) as c:
        r = await c.post(f"{ARO}/register?{V}")
        assert r.status_code == 502 and await state(c) == "NotRegistered"


async def test_without_an_rp_registration_is_arms_alone_per_subscription_and_persists(make: Make) -> None:
    other = str(uuid.uuid4())  # not a configured subscription: registrations work for any
    async with client(make()) as c:
        assert (await c.post(f"{ARO}/register?{V}")).json()["registrationState"] == "Registered"
        assert await state(c, f"/subscriptions/{other}/providers/{ARO_NAMESPACE}") == "NotRegistered"
        r = await c.post(f"/subscriptions/{other}/providers/{ARO_NAMESPACE}/unregister?{V}")
        assert r.json()["registrationState"] == "NotRegistered", "never registered: nothing to unregister"
        missing = await c.post(f"/subscriptions/{SUB}/providers/Contoso.Widgets/register?{V}")
        assert missing.status_code == 404
    async with client(make()) as c:  # a new process over the same data directory
        assert await state(c) == "Registered"


def test_registering_the_rp_reaches_a_real_rp(rp_factory: Any) -> None:
    """`aro rp`: its hosted simulator is the RP's front door; unregistering locks the subscription's writes at
    the RP, registering opens them again. The "ready" line names who the simulator's clients are."""
    proc: RPProcess = rp_factory()
    info = proc.ready_info()
    assert (info["tenantId"], info["subscriptionId"]) == (
        "00000000-0000-0000-0000-000000000000",
        "00000000-0000-0000-0000-000000000001",
    )
    assert f"az login --service-principal -u {info['clientId']} -p aro-simulator-token --tenant" in proc.log()
    sub = str(uuid.uuid4())
    door = httpx.Client(
        base_url=str(info["simulator"]),
        verify=proc.ssl_context(),
        headers={"Authorization": "Bearer aro-simulator-token"},
        timeout=30,
    )
    with door:
        assert door.put(f"/subscriptions/{sub}/resourcegroups/rg?{V}", json={"location": "eastus"}).status_code == 201
        cluster = f"/subscriptions/{sub}/resourceGroups/rg/providers/{ARO_NAMESPACE}/openShiftClusters/c1"

        def put_cluster(client: httpx.Client) -> httpx.Response:
            return client.put(f"{cluster}?api-version=2025-07-25", json={"location": "eastus", "properties": {}})

        refused = put_cluster(door)  # ARM refuses a namespace the subscription never registered
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "MissingSubscriptionRegistration"
        registered = door.post(f"/subscriptions/{sub}/providers/{ARO_NAMESPACE}/register?{V}")
        assert registered.status_code == 200, registered.text
        opened = put_cluster(door)
        assert opened.json().get("error", {}).get("code") != "InvalidSubscriptionState", opened.text
        assert door.post(f"/subscriptions/{sub}/providers/{ARO_NAMESPACE}/unregister?{V}").status_code == 200
        with proc.client() as direct:  # the RP was told: it locks the subscription's writes itself
            locked = put_cluster(direct)
        assert locked.status_code == 400 and locked.json()["error"]["code"] == "InvalidSubscriptionState"
