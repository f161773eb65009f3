"""The simulator's Microsoft Graph v1.0 subset (``_graph`` over ``_directory``): the calls ``az ad`` and
``az aro create|delete`` make (``role/_msgrpah/_graph_client.py``, ``aro/_aad.py``), their errors in Graph's
envelope, the supported ``$filter`` forms (and nothing else), paging, bounds and persistence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from aro.cloud.simulator import SimulatorApp, SimulatorConfig, create_app
from aro.cloud.simulator import _directory as directory
from aro.cloud.simulator._directory import MICROSOFT_SERVICES_TENANT, RP_FIRST_PARTY_APP_ID
from tests.cloud.conftest import asgi_client

TOKEN = "graph-test-token"
TENANT = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
CLIENT_ID = "9d8c7b6a-0000-4000-8000-0000000000c1"
BASE = "https://localhost:8444"
APPS, SPS = "/v1.0/applications", "/v1.0/servicePrincipals"


def _config(tmp_path: Path) -> SimulatorConfig:
    return SimulatorConfig(tmp_path / "sim", token=TOKEN, tenant_id=TENANT, client_id=CLIENT_ID)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[SimulatorApp]:
    a = create_app(_config(tmp_path))
    try:
        yield a
    finally:
        await a.shutdown()


@pytest.fixture
async def graph(app: SimulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app, TOKEN, BASE) as c:
        yield c


async def listed(c: httpx.AsyncClient, path: str, flt: str | None = None) -> list[dict[str, Any]]:
    """Every item of a collection, following ``@odata.nextLink`` as az's GraphClient does."""
    url: str | None = path + (f"?$filter={quote(flt, safe='')}" if flt is not None else "")
    out: list[dict[str, Any]] = []
    while url:
        r = await c.get(url)
        assert r.status_code == 200, r.text
        out += r.json()["value"]
        url = r.json().get("@odata.nextLink")
    return out


def graph_error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and set(error["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert r.headers["request-id"] == error["innerError"]["request-id"]
    return str(error["message"])


async def test_a_bearer_token_is_required(app: SimulatorApp) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        assert "empty" in graph_error(await c.get(APPS), 401, "InvalidAuthenticationToken")
        r = await c.get(APPS, headers={"Authorization": "Bearer forged.jwt.token"})
        graph_error(r, 401, "InvalidAuthenticationToken")


async def test_the_seeded_principals(graph: httpx.AsyncClient) -> None:
    """``az ad sp show --id f1dd0a37-…``: the ARO RP's first-party service principal, and the configured one."""
    [fp] = await listed(graph, SPS, f"servicePrincipalNames/any(c:c eq '{RP_FIRST_PARTY_APP_ID}')")
    assert (fp["appId"], fp["displayName"]) == (RP_FIRST_PARTY_APP_ID, "Azure Red Hat OpenShift RP")
    assert fp["appOwnerOrganizationId"] == MICROSOFT_SERVICES_TENANT and fp["servicePrincipalType"] == "Application"
    assert await listed(graph, SPS, f"appId eq '{RP_FIRST_PARTY_APP_ID.upper()}'") == [fp]
    got = await graph.get(f"{SPS}/{fp['id']}")
    assert got.status_code == 200 and got.json()["@odata.context"] == f"{BASE}/v1.0/$metadata#servicePrincipals/$entity"
    assert await listed(graph, APPS, f"appId eq '{RP_FIRST_PARTY_APP_ID}'") == [], "Microsoft's application"
    [own] = await listed(graph, APPS, f"appId eq '{CLIENT_ID}'")
    [own_sp] = await listed(graph, SPS, f"appId eq '{CLIENT_ID}'")
    assert own_sp["appOwnerOrganizationId"] == TENANT and own_sp["appDisplayName"] == own["displayName"]


async def test_what_az_aro_create_and_delete_do(graph: httpx.AsyncClient) -> None:
    """AADManager: create an application, add a password, look the application and its service principal up
    by appId, create the service principal; delete the application (its service principal goes with it)."""
    r = await graph.post(APPS, json={"displayName": "aro-abc123"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["@odata.context"] == f"{BASE}/v1.0/$metadata#applications/$entity"
    app_id, object_id = created["appId"], created["id"]
    assert created["displayName"] == "aro-abc123" and created["passwordCredentials"] == []
    r = await graph.post(f"{APPS}/{object_id}/addPassword", json={})
    assert r.status_code == 200, r.text
    cred = r.json()
    assert len(cred["secretText"]) == 40 and cred["hint"] == cred["secretText"][:3] and cred["endDateTime"]
    shown = (await graph.get(f"{APPS}/{object_id}")).json()["passwordCredentials"]
    assert [c["keyId"] for c in shown] == [cred["keyId"]] and shown[0]["secretText"] is None, "shown once"
    assert [a["id"] for a in await listed(graph, APPS, f"appId eq '{app_id}'")] == [object_id]
    assert await listed(graph, SPS, f"appId eq '{app_id}'") == []
    r = await graph.post(SPS, json={"appId": app_id})
    assert r.status_code == 201, r.text
    sp = r.json()
    assert (sp["appId"], sp["servicePrincipalNames"], sp["appOwnerOrganizationId"]) == (app_id, [app_id], TENANT)
    assert [s["id"] for s in await listed(graph, SPS, f"appId eq '{app_id}'")] == [sp["id"]]
    again = await graph.post(SPS, json={"appId": app_id, "accountEnabled": True})
    graph_error(again, 409, "Request_MultipleObjectsWithSameKeyValue")
    assert (await graph.delete(f"{APPS}/{object_id}")).status_code == 204
    graph_error(await graph.get(f"{APPS}/{object_id}"), 404, "Request_ResourceNotFound")
    graph_error(await graph.get(f"{SPS}/{sp['id']}"), 404, "Request_ResourceNotFound")
    graph_error(await graph.delete(f"{APPS}/{object_id}"), 404, "Request_ResourceNotFound")


async def test_get_by_ids_names_the_principals_of_role_assignments(graph: httpx.AsyncClient) -> None:
    """``az role assignment list`` resolves principal ids with ``directoryObjects/getByIds``: the objects found,
    typed; unknown ids and types not asked for are left out; a bad body is a 400."""
    [fp] = await listed(graph, SPS, f"appId eq '{RP_FIRST_PARTY_APP_ID}'")
    [own] = await listed(graph, APPS, f"appId eq '{CLIENT_ID}'")
    unknown = "0b5e7a53-0000-4000-8000-000000000000"
    url = "/v1.0/directoryObjects/getByIds"
    r = await graph.post(url, json={"ids": [fp["id"], unknown, own["id"]], "types": ["servicePrincipal"]})
    assert r.status_code == 200, r.text
    assert [(o["@odata.type"], o["id"]) for o in r.json()["value"]] == [("#microsoft.graph.servicePrincipal", fp["id"])]
    r = await graph.post(url, json={"ids": [own["id"].upper()]})
    assert [(o["@odata.type"], o["appId"]) for o in r.json()["value"]] == [("#microsoft.graph.application", CLIENT_ID)]
    graph_error(await graph.post(url, json={"ids": "x"}), 400, "Request_BadRequest")
    graph_error(await graph.post(url, json={"ids": [unknown] * 1001}), 400, "Request_BadRequest")
    graph_error(await graph.get(url), 405, "Request_BadRequest")


async def test_service_principals_need_an_application(graph: httpx.AsyncClient) -> None:
    missing = "1b2c3d4e-0000-4000-8000-00000000beef"
    msg = graph_error(await graph.post(SPS, json={"appId": missing}), 400, "Request_BadRequest")
    assert missing in msg
    # a first-party service principal, deleted, can be created again (any tenant may hold it)
    [fp] = await listed(graph, SPS, f"appId eq '{RP_FIRST_PARTY_APP_ID}'")
    assert (await graph.delete(f"{SPS}/{fp['id']}")).status_code == 204
    assert await listed(graph, SPS, f"appId eq '{RP_FIRST_PARTY_APP_ID}'") == []
    r = await graph.post(SPS, json={"appId": RP_FIRST_PARTY_APP_ID})
    assert r.status_code == 201 and r.json()["appOwnerOrganizationId"] == MICROSOFT_SERVICES_TENANT


async def test_filters_take_exactly_the_supported_forms(graph: httpx.AsyncClient) -> None:
    for name in ("Alpha one", "alpha two", "beta", "O'Brien"):
        assert (await graph.post(APPS, json={"displayName": name})).status_code == 201
    uri = (await graph.post(APPS, json={"displayName": "with-uri", "identifierUris": ["api://h17"]})).json()
    await graph.post(SPS, json={"appId": uri["appId"]})

    async def names(path: str, flt: str) -> list[str]:
        return sorted(a["displayName"] for a in await listed(graph, path, flt))

    assert await names(APPS, "startswith(displayName,'ALPHA')") == ["Alpha one", "alpha two"]
    assert await names(APPS, "displayName eq 'beta'") == ["beta"]
    assert await names(APPS, "displayName eq 'O''Brien'") == ["O'Brien"]
    assert await names(APPS, "startswith(displayName,'a') and displayName eq 'alpha two'") == ["alpha two"]
    assert await names(APPS, "startswith(displayName,'%')") == [], "LIKE wildcards are literal"
    assert await names(APPS, "identifierUris/any(s:s eq 'API://h17')") == ["with-uri"]
    assert await names(SPS, "servicePrincipalNames/any(x:x eq 'api://h17')") == ["with-uri"]
    for path, flt in (
        (APPS, "appId ne 'x'"),
        (APPS, "displayName eq 'a' or displayName eq 'b'"),
        (APPS, "servicePrincipalNames/any(c:c eq 'x')"),  # a service principal's property
        (SPS, "identifierUris/any(c:c eq 'x')"),  # an application's
        (APPS, "identifierUris/any(s:t eq 'x')"),
        (APPS, "displayName eq 'unterminated"),
        (APPS, "appId eq 'x' and"),
        (APPS, " and ".join(["appId eq 'x'"] * 9)),
        (APPS, ""),
    ):
        r = await graph.get(path, params={"$filter": flt})
        graph_error(r, 400, "Request_UnsupportedQuery")
    for option in ("$select=id", "$orderby=displayName", "$top=0", "$top=1000", "$top=x"):
        graph_error(await graph.get(f"{APPS}?{option}"), 400, "Request_UnsupportedQuery")
    graph_error(await graph.get(f"{APPS}?$skiptoken=abc"), 400, "Request_BadRequest")


async def test_lists_page_with_next_links(graph: httpx.AsyncClient) -> None:
    made = [(await graph.post(APPS, json={"displayName": f"page-{i}"})).json()["id"] for i in range(5)]
    first = await graph.get(APPS, params={"$filter": "startswith(displayName,'page-')", "$top": "2"})
    body = first.json()
    assert len(body["value"]) == 2 and body["@odata.nextLink"].startswith(f"{BASE}/v1.0/applications?")
    flt = quote("startswith(displayName,'page-')", safe="")
    every = await listed(graph, f"{APPS}?$top=2&$filter={flt}")
    assert [a["id"] for a in every] == made
    last = await graph.get(APPS, params={"$filter": "startswith(displayName,'page-')", "$top": "5"})
    assert "@odata.nextLink" not in last.json()


async def test_bad_bodies_change_nothing(graph: httpx.AsyncClient) -> None:
    before = len(await listed(graph, APPS))
    for body, code in (
        ({}, "Request_BadRequest"),
        ({"displayName": ""}, "Request_BadRequest"),
        ({"displayName": "x" * 257}, "Request_BadRequest"),
        ({"displayName": "x", "color": "blue"}, "Request_BadRequest"),
        ({"displayName": "x", "identifierUris": "api://x"}, "Request_BadRequest"),
        ({"displayName": "x", "identifierUris": [1]}, "Request_BadRequest"),
        ({"displayName": "x", "tags": ["t"] * 101}, "Request_BadRequest"),
        ({"displayName": "x", "signInAudience": "Everyone"}, "Request_BadRequest"),
    ):
        graph_error(await graph.post(APPS, json=body), 400, code)
    r = await graph.post(APPS, content=b"{not json", headers={"Content-Type": "application/json"})
    graph_error(r, 400, "BadRequest")
    r = await graph.post(APPS, json={"displayName": "big", "notes": "n" * (64 * 1024)})
    graph_error(r, 413, "Request_EntityTooLarge")
    graph_error(await graph.post(SPS, json={"appId": "not-a-guid"}), 400, "Request_BadRequest")
    graph_error(await graph.get(f"{APPS}/not-a-guid"), 400, "Request_BadRequest")
    graph_error(await graph.get("/v1.0/users"), 400, "BadRequest")
    graph_error(await graph.put(APPS, json={}), 405, "Request_BadRequest")
    assert len(await listed(graph, APPS)) == before


async def test_updates_reach_the_service_principal(graph: httpx.AsyncClient) -> None:
    created = (await graph.post(APPS, json={"displayName": "before", "identifierUris": ["api://one"]})).json()
    sp = (await graph.post(SPS, json={"appId": created["appId"]})).json()
    assert sp["servicePrincipalNames"] == [created["appId"], "api://one"]
    patch = {"displayName": "after", "identifierUris": ["api://two"]}
    assert (await graph.patch(f"{APPS}/{created['id']}", json=patch)).status_code == 204
    got = (await graph.get(f"{APPS}/{created['id']}")).json()
    assert (got["displayName"], got["identifierUris"], got["appId"]) == ("after", ["api://two"], created["appId"])
    sp = (await graph.get(f"{SPS}/{sp['id']}")).json()
    assert sp["appDisplayName"] == "after" and sp["servicePrincipalNames"] == [created["appId"], "api://two"]
    graph_error(await graph.patch(f"{APPS}/{created['id']}", json={"appId": "x"}), 400, "Request_BadRequest")
    assert (await graph.patch(f"{SPS}/{sp['id']}", json={"accountEnabled": False})).status_code == 204
    assert (await graph.get(f"{SPS}/{sp['id']}")).json()["accountEnabled"] is False


async def test_password_credentials_are_bounded(graph: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(directory, "MAX_PASSWORDS", 3)
    object_id = (await graph.post(APPS, json={"displayName": "pw"})).json()["id"]
    url = f"{APPS}/{object_id}/addPassword"
    named = await graph.post(
        url, json={"passwordCredential": {"displayName": "ci", "endDateTime": "2099-01-01T00:00:00Z"}}
    )
    assert named.status_code == 200 and named.json()["endDateTime"] == "2099-01-01T00:00:00Z"
    assert named.json()["displayName"] == "ci"
    past = {"passwordCredential": {"endDateTime": "2001-01-01T00:00:00Z"}}
    graph_error(await graph.post(url, json=past), 400, "Request_BadRequest")
    graph_error(await graph.post(url, json={"passwordCredential": {"secretText": "mine"}}), 400, "Request_BadRequest")
    for _ in range(2):
        assert (await graph.post(url, json={})).status_code == 200
    graph_error(await graph.post(url, json={}), 400, "Request_BadRequest")
    remove = f"{APPS}/{object_id}/removePassword"
    graph_error(
        await graph.post(remove, json={"keyId": "5c4b3a29-0000-4000-8000-000000000000"}), 400, "Request_BadRequest"
    )
    assert (await graph.post(remove, json={"keyId": named.json()["keyId"]})).status_code == 204
    assert len((await graph.get(f"{APPS}/{object_id}")).json()["passwordCredentials"]) == 2
    graph_error(await graph.post(f"{SPS}/{object_id}/addPassword", json={}), 400, "BadRequest")


async def test_the_directory_is_bounded(graph: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    count = len(await listed(graph, APPS)) + len(await listed(graph, SPS))
    monkeypatch.setattr(directory, "MAX_OBJECTS", count + 1)
    assert (await graph.post(APPS, json={"displayName": "last"})).status_code == 201
    graph_error(await graph.post(APPS, json={"displayName": "one too many"}), 400, "Directory_QuotaExceeded")


async def test_state_persists_across_restarts(tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    first = create_app(_config(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url=BASE, headers=headers) as c:
        created = (await c.post(APPS, json={"displayName": "kept"})).json()
        await c.post(f"{APPS}/{created['id']}/addPassword", json={})
    await first.shutdown()
    second = create_app(_config(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url=BASE, headers=headers) as c:
        got = (await c.get(f"{APPS}/{created['id']}")).json()
    await second.shutdown()
    assert got["displayName"] == "kept" and len(got["passwordCredentials"]) == 1
