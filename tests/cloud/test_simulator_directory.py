"""The simulator's "who": cloud metadata (``_metadata``), the tenant and subscriptions (``_directory``) and
the token endpoint's principals (``_token``) -- what ``az cloud register``, ``az login --service-principal`` and
``az account show`` read. In process (httpx's ASGI transport) where the shapes are the point; over HTTPS with
a real MSAL client (azure-identity's sync ``ClientSecretCredential``) where the login is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential

from aro.cloud.simulator import SimulatorApp, SimulatorConfig, TlsFiles, create_app
from aro.cloud.simulator import _config as simconfig
from aro.cloud.simulator._directory import RP_FIRST_PARTY_APP_ID
from aro.env.config import SimulatorConfig as EnvSimulatorConfig

from .conftest import Simulator

TOKEN = "directory-test-token"
TENANT = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
SUBS = ("6a1b2c3d-0000-4000-8000-000000000001", "6a1b2c3d-0000-4000-8000-000000000002")
CLIENT_ID = "9d8c7b6a-0000-4000-8000-0000000000c1"
BASE = "https://127.0.0.1:23456"  # any port: every URL follows the caller's Host


def client(app: SimulatorApp, token: str | None = TOKEN, base: str = BASE) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base, headers=headers)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[SimulatorApp]:
    a = create_app(
        SimulatorConfig(tmp_path / "sim", token=TOKEN, tenant_id=TENANT, subscription_ids=SUBS, client_id=CLIENT_ID)
    )
    try:
        yield a
    finally:
        await a.shutdown()


async def token_for(c: httpx.AsyncClient, client_id: str, secret: str, tenant: str = TENANT) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return await c.post(f"/{tenant}/oauth2/v2.0/token", data={**form, "scope": f"{BASE}//.default"})


# -- metadata -----------------------------------------------------------------------------------------------


async def test_metadata_names_the_simulator_at_the_callers_address(app: SimulatorApp) -> None:
    """What ``azure.cli.core.cloud._arm_to_cli_mapper`` reads (api-version 2022-09-01: one cloud), anonymous."""
    for base in (BASE, "https://localhost:8444"):
        async with client(app, token=None, base=base) as c:
            r = await c.get("/metadata/endpoints", params={"api-version": "2022-09-01"})
        assert r.status_code == 200, r.text
        cloud = r.json()
        root = f"{base}/"
        assert cloud["name"] and isinstance(cloud["suffixes"], dict)
        assert cloud["resourceManager"] == cloud["microsoftGraphResourceId"] == root
        assert cloud["authentication"]["loginEndpoint"] == root
        assert cloud["authentication"]["audiences"][0] == root


async def test_metadata_shape_follows_the_api_version(app: SimulatorApp) -> None:
    async with client(app, token=None) as c:
        single = (await c.get("/metadata/endpoints?api-version=2022-09-01")).json()
        for version in ("2019-05-01", "2020-06-01"):
            r = await c.get(f"/metadata/endpoints?api-version={version}")
            assert r.status_code == 200 and r.json() == [single]
        old = (await c.get("/metadata/endpoints?api-version=2015-01-01")).json()
        assert old == {
            "galleryEndpoint": f"{BASE}/",
            "graphEndpoint": f"{BASE}/",
            "portalEndpoint": f"{BASE}/",
            "authentication": {"loginEndpoint": f"{BASE}/", "audiences": [f"{BASE}/"]},
        }
        missing = await c.get("/metadata/endpoints")
        assert (missing.status_code, missing.json()["error"]["code"]) == (400, "MissingApiVersionParameter")
        bad = await c.get("/metadata/endpoints?api-version=2099-01-01")
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")
        assert "2022-09-01" in bad.json()["error"]["message"]
        post = await c.post("/metadata/endpoints?api-version=2022-09-01")
        assert post.status_code == 405


# -- tenants and subscriptions ------------------------------------------------------------------------------


async def test_tenants_and_subscriptions_are_the_configured_ones(app: SimulatorApp) -> None:
    async with client(app) as c:
        tenants = await c.get("/tenants?api-version=2022-12-01")
        subs = await c.get("/subscriptions?api-version=2022-12-01")
        one = await c.get(f"/subscriptions/{SUBS[1].upper()}?api-version=2022-12-01")
    assert tenants.status_code == 200
    [tenant] = tenants.json()["value"]
    assert (tenant["id"], tenant["tenantId"]) == (f"/tenants/{TENANT}", TENANT)
    assert subs.status_code == 200
    value = subs.json()["value"]
    assert [s["subscriptionId"] for s in value] == list(SUBS), "the default first"
    for s in value:
        assert s["id"] == f"/subscriptions/{s['subscriptionId']}"
        assert (s["tenantId"], s["state"]) == (TENANT, "Enabled") and s["displayName"]
    assert one.status_code == 200 and one.json() == value[1]


async def test_subscription_errors_are_arms(app: SimulatorApp) -> None:
    other = "6a1b2c3d-0000-4000-8000-0000000000ff"
    async with client(app) as c:
        unknown = await c.get(f"/subscriptions/{other}?api-version=2022-12-01")
        malformed = await c.get("/subscriptions/not-a-guid?api-version=2022-12-01")
        put = await c.put(f"/subscriptions/{SUBS[0]}?api-version=2022-12-01", json={})
        async with client(app, token=None) as nobody:
            anonymous = await nobody.get("/subscriptions?api-version=2022-12-01")
        no_version = await c.get("/tenants")
        # only the listing is limited: any subscription id keeps working for ARM's resource routes
        rg = await c.put(
            f"/subscriptions/{other}/resourcegroups/rg1?api-version=2022-09-01", json={"location": "eastus"}
        )
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {
        "code": "SubscriptionNotFound",
        "message": f"The subscription '{other}' could not be found.",
    }
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (400, "InvalidSubscriptionId")
    assert put.status_code == 405
    assert anonymous.status_code == 401
    assert (no_version.status_code, no_version.json()["error"]["code"]) == (400, "MissingApiVersionParameter")
    assert rg.status_code == 201, rg.text


def test_directory_configuration_is_checked_and_the_env_defaults_are_the_simulators(tmp_path: Path) -> None:
    for bad in ({"tenant_id": "x"}, {"client_id": ""}, {"subscription_ids": ()}, {"subscription_ids": ("a",)}):
        with pytest.raises(ValueError, match="UUID"):
            SimulatorConfig(tmp_path, **bad)  # type: ignore[arg-type]
    env = EnvSimulatorConfig()
    assert (env.tenant_id, env.subscription_id, env.client_id) == (
        simconfig.DEFAULT_TENANT_ID,
        simconfig.DEFAULT_SUBSCRIPTION_ID,
        simconfig.DEFAULT_CLIENT_ID,
    )
    with pytest.raises(ValueError, match="tenant"):
        EnvSimulatorConfig(tenant_id="not-a-guid")
    upper = SimulatorConfig(tmp_path, tenant_id=TENANT.upper(), subscription_ids=(SUBS[0].upper(),))
    assert (upper.tenant_id, upper.subscription_ids) == (TENANT, (SUBS[0],))


# -- the token endpoint's principals ------------------------------------------------------------------------


async def _sp_id(c: httpx.AsyncClient, app_id: str) -> str:
    r = await c.get("/v1.0/servicePrincipals", params={"$filter": f"appId eq '{app_id}'"})
    [sp] = r.json()["value"]
    return str(sp["id"])


async def test_tokens_carry_the_service_principals_object_id(app: SimulatorApp) -> None:
    async with client(app) as c:
        seeded = await token_for(c, CLIENT_ID, TOKEN)
        other = await token_for(c, "0a0b0c0d-0000-4000-8000-000000000abc", TOKEN, tenant="organizations")
        again = await token_for(c, "0a0b0c0d-0000-4000-8000-000000000abc", TOKEN, tenant="organizations")
        sp_id = await _sp_id(c, CLIENT_ID)
    assert seeded.status_code == 200, seeded.text
    claims = app.tokens.claims(seeded.json()["access_token"])
    assert claims is not None
    assert (claims["oid"], claims["sub"], claims["appid"], claims["tid"]) == (sp_id, sp_id, CLIENT_ID, TENANT)
    assert claims["idtyp"] == "app"
    # a client id the directory does not hold, with the simulator's own secret: a stable derived object id,
    # and the directory's tenant for "organizations"
    first, second = (app.tokens.claims(r.json()["access_token"]) for r in (other, again))
    assert first is not None and second is not None
    assert first["oid"] == second["oid"] != sp_id and first["tid"] == TENANT


async def test_a_password_added_through_graph_logs_its_application_in(app: SimulatorApp) -> None:
    async with client(app) as c:
        created = (await c.post("/v1.0/applications", json={"displayName": "pw-app"})).json()
        app_id, object_id = created["appId"], created["id"]
        secret = (await c.post(f"/v1.0/applications/{object_id}/addPassword", json={})).json()["secretText"]
        no_sp = await token_for(c, app_id, secret)
        sp = (await c.post("/v1.0/servicePrincipals", json={"appId": app_id})).json()
        ok = await token_for(c, app_id, secret)
        wrong_app = await token_for(c, CLIENT_ID, secret)
        wrong_tenant = await token_for(c, app_id, secret, tenant="0f0f0f0f-0000-4000-8000-000000000000")
        bearer = ok.json()["access_token"]
        arm = await c.get("/subscriptions?api-version=2022-12-01", headers={"Authorization": f"Bearer {bearer}"})
        key_id = (await c.get(f"/v1.0/applications/{object_id}")).json()["passwordCredentials"][0]["keyId"]
        await c.post(f"/v1.0/applications/{object_id}/removePassword", json={"keyId": key_id})
        removed = await token_for(c, app_id, secret)
    assert no_sp.status_code == 401 and "AADSTS7000229" in no_sp.json()["error_description"]
    assert ok.status_code == 200, ok.text
    claims = app.tokens.claims(bearer)
    assert claims is not None and (claims["appid"], claims["oid"], claims["tid"]) == (app_id, sp["id"], TENANT)
    assert arm.status_code == 200, "the issued token is good at ARM"
    assert wrong_app.status_code == 401 and wrong_app.json()["error"] == "invalid_client"
    assert "AADSTS7000215" in wrong_app.json()["error_description"]
    assert wrong_tenant.status_code == 400 and wrong_tenant.json()["error"] == "unauthorized_client"
    assert "AADSTS700016" in wrong_tenant.json()["error_description"]
    assert removed.status_code == 401 and "AADSTS7000215" in removed.json()["error_description"]


async def test_the_seeded_principals_are_stable_across_restarts(tmp_path: Path) -> None:
    config = SimulatorConfig(tmp_path / "sim", token=TOKEN, tenant_id=TENANT, client_id=CLIENT_ID)
    seen: list[tuple[str, str, str]] = []
    for _ in range(2):
        a = create_app(config)
        async with client(a) as c:
            apps = (await c.get("/v1.0/applications", params={"$filter": f"appId eq '{CLIENT_ID}'"})).json()["value"]
            seen.append((apps[0]["id"], await _sp_id(c, CLIENT_ID), await _sp_id(c, RP_FIRST_PARTY_APP_ID)))
            assert len(apps) == 1
        await a.shutdown()
    assert seen[0] == seen[1]
    elsewhere = create_app(SimulatorConfig(tmp_path / "other", token=TOKEN, tenant_id=TENANT, client_id=CLIENT_ID))
    async with client(elsewhere) as c:
        assert await _sp_id(c, CLIENT_ID) == seen[0][1], "the same ids in another data directory"
    await elsewhere.shutdown()


async def test_msal_logs_in_with_an_added_password_over_https(sim: Simulator, tls: TlsFiles) -> None:
    """The Azure CLI's login path: MSAL reads the OpenID metadata (instance discovery off, as
    AZURE_CORE_INSTANCE_DISCOVERY=false does for ``az``) and posts the client credentials."""
    assert sim.admin is not None
    created = (await sim.admin.post("/v1.0/applications", json={"displayName": "msal-app"})).json()
    secret = (await sim.admin.post(f"/v1.0/applications/{created['id']}/addPassword", json={})).json()["secretText"]
    await sim.admin.post("/v1.0/servicePrincipals", json={"appId": created["appId"]})
    tenant = simconfig.DEFAULT_TENANT_ID

    def login(password: str) -> Any:
        cred = ClientSecretCredential(
            tenant,
            created["appId"],
            password,
            authority=sim.base_url,
            connection_verify=str(tls.ca_file),
            disable_instance_discovery=True,
        )
        return cred.get_token(f"{sim.base_url}//.default")

    token = await asyncio.to_thread(login, secret)
    meta = (await sim.admin.get(f"/{tenant}/v2.0/.well-known/openid-configuration")).json()
    assert meta["authorization_endpoint"] and meta["token_endpoint"].endswith(f"/{tenant}/oauth2/v2.0/token")
    r = await sim.admin.get("/subscriptions?api-version=2022-12-01", headers={"Authorization": f"Bearer {token.token}"})
    assert r.status_code == 200 and r.json()["value"][0]["subscriptionId"] == simconfig.DEFAULT_SUBSCRIPTION_ID
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        await asyncio.to_thread(login, secret[::-1])
