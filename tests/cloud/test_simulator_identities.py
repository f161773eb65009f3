"""Microsoft.ManagedIdentity (``_identities``): user-assigned identities whose principal and client ids are made
once and kept, and their federated identity credentials, validated as Azure does -- what ``az identity`` and
``az aro create --enable-managed-identity`` write and the RP reads with a generic ARM GET. In process over httpx's
ASGI transport, and over HTTPS with the RP's own ARM client (azure-mgmt-resource)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.cloud.arm import ArmCloud
from aro.cloud.simulator import SimulatorApp
from aro.cloud.simulator import _identities as identities
from tests.cloud.conftest import asgi_client, asgi_simulator

from .conftest import SUB as HTTPS_SUB

SUB = "11111111-2222-3333-4444-555555555555"
TENANT = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
RG = f"/subscriptions/{SUB}/resourceGroups/ids"
MSI = "providers/Microsoft.ManagedIdentity/userAssignedIdentities"
API = {"api-version": "2024-11-30"}
ISSUER = "https://oidc.example.com/3f2a9c1e"
SA = "system:serviceaccount:openshift-ingress-operator:ingress-operator"
AUDIENCE = "openshift"


def identity(name: str, rg: str = "ids") -> str:
    """The id Azure answers: ``resourcegroups`` in lower case, as the managed identity RP writes it."""
    return f"/subscriptions/{SUB}/resourcegroups/{rg}/{MSI}/{name}"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[SimulatorApp]:
    async with asgi_simulator(tmp_path / "sim", token="t", tenant_id=TENANT) as a:
        yield a


@pytest.fixture
async def c(app: SimulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as h:
        await h.put(RG, params=API, json={"location": "eastus"})
        yield h


def error(r: httpx.Response) -> tuple[int, str, str]:
    body = r.json()["error"]
    return r.status_code, body["code"], body["message"]


def fic(issuer: Any = ISSUER, subject: Any = SA, audiences: Any = (AUDIENCE,)) -> dict[str, Any]:
    props = {"issuer": issuer, "subject": subject, "audiences": list(audiences) if audiences is not None else None}
    return {"properties": {k: v for k, v in props.items() if v is not None}}


async def test_an_identity_keeps_its_ids(c: httpx.AsyncClient) -> None:
    url = f"{RG}/{MSI}/aro-cluster"
    r = await c.put(url, params=API, json={"location": "East US"})
    assert r.status_code == 201
    made = r.json()
    assert (made["id"], made["name"], made["type"]) == (
        identity("aro-cluster"),
        "aro-cluster",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
    )
    assert (made["location"], made["tags"]) == ("eastus", {})
    props = made["properties"]
    assert props["tenantId"] == TENANT and props["isolationScope"] == "None"
    assert props["principalId"] != props["clientId"] and len(props["principalId"]) == 36

    again = await c.put(
        url, params=API, json={"location": "eastus", "tags": {"a": "b"}, "properties": {"principalId": "x"}}
    )
    assert again.status_code == 200
    assert again.json()["properties"] == props and again.json()["tags"] == {"a": "b"}  # the ids are the RP's
    assert (await c.get(url, params=API)).json() == again.json()

    await c.put(f"{RG}/{MSI}/ingress", params=API, json={"location": "eastus"})
    listed = (await c.get(f"{RG}/{MSI}", params=API)).json()["value"]
    assert [i["name"] for i in listed] == ["aro-cluster", "ingress"]
    everywhere = (await c.get(f"/subscriptions/{SUB}/{MSI}", params=API)).json()["value"]
    assert [i["id"] for i in everywhere] == [identity("aro-cluster"), identity("ingress")]
    in_group = (await c.get(f"{RG}/resources", params=API)).json()["value"]
    assert {r["name"] for r in in_group} == {"aro-cluster", "ingress"}

    assert (await c.delete(url, params=API)).status_code == 200
    assert (await c.delete(url, params=API)).status_code == 204
    assert error(await c.get(url, params=API)) == (
        404,
        "ResourceNotFound",
        "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/aro-cluster' under resource group 'ids' "
        "was not found.",
    )
    recreated = (await c.put(url, params=API, json={"location": "eastus"})).json()
    assert recreated["properties"]["principalId"] != props["principalId"]  # a new identity is a new principal


async def test_identity_bodies_are_checked(c: httpx.AsyncClient) -> None:
    assert error(await c.put(f"{RG}/{MSI}/ok-name", params=API, json={}))[:2] == (400, "LocationRequired")
    assert error(await c.put(f"{RG}/{MSI}/a", params=API, json={"location": "eastus"}))[:2] == (
        400,
        "InvalidResourceName",
    )
    bad = {"location": "eastus", "properties": {"isolationScope": "Everywhere"}}
    assert error(await c.put(f"{RG}/{MSI}/ok-name", params=API, json=bad))[:2] == (400, "BadRequest")
    nowhere = f"/subscriptions/{SUB}/resourceGroups/nowhere/{MSI}/ok-name"
    assert error(await c.put(nowhere, params=API, json={"location": "eastus"}))[:2] == (404, "ResourceGroupNotFound")
    assert (await c.get(f"{RG}/{MSI}", params=API)).json()["value"] == []  # nothing was made


async def test_federated_credentials(c: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{RG}/{MSI}/ingress"
    creds = f"{url}/federatedIdentityCredentials"
    missing = await c.put(f"{creds}/ingress-sa", params=API, json=fic())
    assert error(missing)[:2] == (404, "ParentResourceNotFound")
    await c.put(url, params=API, json={"location": "eastus"})

    r = await c.put(f"{creds}/ingress-sa", params=API, json=fic())
    assert r.status_code == 201
    assert r.json() == {
        "id": f"{identity('ingress')}/federatedIdentityCredentials/ingress-sa",
        "name": "ingress-sa",
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        "properties": {"issuer": ISSUER, "subject": SA, "audiences": [AUDIENCE]},
    }
    updated = await c.put(f"{creds}/ingress-sa", params=API, json=fic(subject=SA + "-2"))
    assert updated.status_code == 200 and updated.json()["properties"]["subject"] == SA + "-2"
    assert (await c.get(f"{creds}/INGRESS-SA", params=API)).json() == updated.json()

    required = (
        "The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and "
        "'audience'."
    )
    cases = [
        (fic(issuer=None), "BadRequest", required),
        (fic(subject=""), "BadRequest", required),
        (fic(audiences=None), "BadRequest", required),
        (fic(audiences=()), "InvalidFederatedIdentityCredentialsAudienceLength",
         "Federated identity credentials must have exactly 1 audience."),
        (fic(audiences=("a", "b")), "InvalidFederatedIdentityCredentialsAudienceLength",
         "Federated identity credentials must have exactly 1 audience."),
        (fic(issuer="http://oidc.example.com/x"), "BadRequest",
         "The request format was unexpected: the issuer 'http://oidc.example.com/x' must be an https URL."),
        (fic(subject=SA + "-2"), "BadRequest",
         "The federated identity credential 'ingress-sa' of this identity has the same issuer and subject; the "
         "combination must be unique."),
        (fic(subject="s" * (identities.MAX_TEXT + 1)), "BadRequest",
         f"The issuer and the subject are at most {identities.MAX_TEXT} characters long."),
    ]  # fmt: skip
    for body, code, message in cases:
        assert error(await c.put(f"{creds}/other", params=API, json=body)) == (400, code, message)
    assert error(await c.put(f"{creds}/x", params=API, json=fic(subject="y")))[:2] == (400, "BadRequest")  # name

    monkeypatch.setattr(identities, "MAX_CREDENTIALS", 3)
    for i in range(2):
        assert (await c.put(f"{creds}/more-{i}", params=API, json=fic(subject=f"s{i}"))).status_code == 201
    full = await c.put(f"{creds}/one-too-many", params=API, json=fic(subject="s9"))
    assert error(full) == (400, "BadRequest", "An identity holds at most 3 federated identity credentials.")
    listed = (await c.get(creds, params=API)).json()["value"]
    assert [f["name"] for f in listed] == ["ingress-sa", "more-0", "more-1"]

    assert (await c.delete(f"{creds}/more-0", params=API)).status_code == 200
    assert (await c.delete(f"{creds}/more-0", params=API)).status_code == 204
    assert (await c.get(f"{creds}/more-0", params=API)).status_code == 404
    # the credentials go with their identity
    await c.delete(url, params=API)
    await c.put(url, params=API, json={"location": "eastus"})
    assert (await c.get(creds, params=API)).json()["value"] == []


async def test_an_identity_a_template_deploys_gets_its_ids(c: httpx.AsyncClient) -> None:
    resource = {
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "name": "from-template",
        "location": "eastus",
    }
    dep = f"{RG}/providers/Microsoft.Resources/deployments/ids"
    r = await c.put(
        dep, params=API, json={"properties": {"mode": "Incremental", "template": {"resources": [resource]}}}
    )
    assert r.status_code == 201
    got = (await c.get(f"{RG}/{MSI}/from-template", params=API)).json()
    assert got["properties"]["tenantId"] == TENANT and got["properties"]["principalId"]
    assert (await c.get(f"{RG}/{MSI}/from-template", params=API)).json() == got  # made once


async def test_the_rps_generic_arm_client_reads_and_writes_them(cloud: ArmCloud) -> None:
    """The RP needs nothing special: ``ArmCloud.get_resource`` / ``put_resource`` (azure-mgmt-resource)."""
    await cloud.create_resource_group(HTTPS_SUB, "ids", "eastus", "", {})
    rid = f"/subscriptions/{HTTPS_SUB}/resourceGroups/ids/{MSI}/cluster"
    made = await cloud.put_resource(rid, "2023-01-31", {"location": "eastus"})
    assert made["properties"]["principalId"] and made["id"].lower() == rid.lower()
    got = await cloud.get_resource(rid, "2023-01-31")
    assert got is not None and got["properties"]["clientId"] == made["properties"]["clientId"]
    cred = await cloud.put_resource(f"{rid}/federatedIdentityCredentials/cred", "2023-01-31", fic())
    assert cred["properties"]["audiences"] == [AUDIENCE]
    assert await cloud.get_resource(f"{rid}/federatedIdentityCredentials/nope", "2023-01-31") is None
