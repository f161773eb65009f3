"""Microsoft.Authorization at any scope (``_authorization``, ``_roles``): built-in role definitions, role
assignments with Azure's errors and list filters, and the caller's effective permissions -- what ``az role`` and
``az aro create`` (``_dynamic_validators``, ``_rbac``, ``ensure_resource_permissions``) read and write. In process
over httpx's ASGI transport."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.cloud.simulator import SimulatorApp
from aro.cloud.simulator import _authorization as authorization
from tests.cloud.conftest import asgi_client, asgi_simulator

SUB = "11111111-2222-3333-4444-555555555555"
TENANT = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
RG = f"/subscriptions/{SUB}/resourceGroups/net"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/aro-vnet"
SUBNET = f"{VNET}/subnets/master"
AUTHZ = "providers/Microsoft.Authorization"
API = {"api-version": "2022-04-01"}
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
ALICE, BOB = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"


def name(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def role_id(guid: str, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/{AUTHZ}/roleDefinitions/{guid}"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[SimulatorApp]:
    async with asgi_simulator(tmp_path / "sim", token="t", tenant_id=TENANT) as a:
        yield a


client = asgi_client


@pytest.fixture
async def c(app: SimulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    """The seeded principal (the raw simulator token), with a virtual network and a subnet to assign over."""
    async with client(app) as h:
        await h.put(RG, params=API, json={"location": "eastus"})
        body = {
            "location": "eastus",
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/22"]},
                "subnets": [{"name": "master", "properties": {"addressPrefix": "10.0.0.0/23"}}],
            },
        }
        assert (await h.put(VNET, params=API, json=body)).status_code == 201
        yield h


def assignment(principal: str, role: str, **extra: Any) -> dict[str, Any]:
    return {"properties": {"principalId": principal, "roleDefinitionId": role, **extra}}


async def assign(c: httpx.AsyncClient, scope: str, n: int, principal: str, role: str) -> dict[str, Any]:
    r = await c.put(f"{scope}/{AUTHZ}/roleAssignments/{name(n)}", params=API, json=assignment(principal, role_id(role)))
    assert r.status_code == 201, r.text
    return dict(r.json())


def error(r: httpx.Response) -> tuple[int, str, str]:
    body = r.json()["error"]
    return r.status_code, body["code"], body["message"]


async def test_built_in_role_definitions_at_every_scope(c: httpx.AsyncClient) -> None:
    for scope in (f"/subscriptions/{SUB}", RG, VNET):
        r = await c.get(f"{scope}/{AUTHZ}/roleDefinitions/{NETWORK_CONTRIBUTOR}", params=API)
        assert r.status_code == 200
        got = r.json()
        assert got["id"] == role_id(NETWORK_CONTRIBUTOR) and got["name"] == NETWORK_CONTRIBUTOR
        assert got["type"] == "Microsoft.Authorization/roleDefinitions"
        assert got["properties"]["roleName"] == "Network Contributor"
        assert got["properties"]["type"] == "BuiltInRole" and got["properties"]["assignableScopes"] == ["/"]
        assert "Microsoft.Network/*" in got["properties"]["permissions"][0]["actions"]
    # at the tenant, as az aro reads the role sets' roles (get_by_id of "/providers/...")
    ccm = "a1f96423-95ce-4224-ab27-4e3dc72facd4"
    r = await c.get(f"/{AUTHZ}/roleDefinitions/{ccm}", params={"api-version": "2022-05-01-preview"})
    assert r.status_code == 200 and r.json()["id"] == f"/{AUTHZ}/roleDefinitions/{ccm}"
    assert r.json()["properties"]["roleName"] == "Azure Red Hat OpenShift Cloud Controller Manager"
    listed = await c.get(
        f"/subscriptions/{SUB}/{AUTHZ}/roleDefinitions", params={**API, "$filter": "roleName eq 'reader'"}
    )
    assert [d["name"] for d in listed.json()["value"]] == [READER]
    every = (await c.get(f"{RG}/{AUTHZ}/roleDefinitions", params=API)).json()["value"]
    assert {OWNER, READER, NETWORK_CONTRIBUTOR, "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"} <= {d["name"] for d in every}
    missing = await c.get(f"/subscriptions/{SUB}/{AUTHZ}/roleDefinitions/{name(9)}", params=API)
    assert error(missing) == (
        404,
        "RoleDefinitionDoesNotExist",
        f"The specified role definition with ID '{name(9)}' does not exist.",
    )
    bad_filter = await c.get(f"/subscriptions/{SUB}/{AUTHZ}/roleDefinitions", params={**API, "$filter": "foo"})
    assert error(bad_filter)[:2] == (400, "InvalidFilter")


async def test_the_role_set_roles_tell_az_aro_where_to_assign_them(c: httpx.AsyncClient) -> None:
    """``az aro``'s ``_determine_required_scopes_from_role_set``: an operator role with virtual network actions
    goes over the virtual network, one with only subnet actions over the subnets, as Azure's docs assign them."""

    def scopes(actions: list[str]) -> set[str]:
        out: set[str] = set()
        for a in actions:
            if a.startswith("Microsoft.Network/virtualNetworks/subnets/") and "vnet" not in out:
                out |= {"subnets"}
            elif a.startswith("Microsoft.Network/virtualNetworks/"):
                out = (out - {"subnets"}) | {"vnet"}
        return out

    expected = {
        "a1f96423-95ce-4224-ab27-4e3dc72facd4": {"subnets"},  # cloud-controller-manager
        "0336e1d3-7a87-462b-b6db-342b63f7802c": {"subnets"},  # ingress
        "0358943c-7e01-48ba-8889-02cc51d78637": {"subnets"},  # machine-api
        "4436bae4-7702-4c84-919b-c4069ff25ee2": {"subnets"},  # aro-operator
        "be7a6435-15ae-4171-8f30-4a343eff9e8f": {"vnet"},  # cloud-network-config
        "8b32b316-c2f5-4ddf-b05b-83dacd2d08b5": {"vnet"},  # image-registry
        "0d7aedc0-15fd-4a67-a412-efad370c947e": {"vnet"},  # file-csi-driver
        "5b7237c5-45e1-49d6-bc18-a1f62f400748": set(),  # disk-csi-driver
    }
    for guid, want in expected.items():
        r = await c.get(f"/{AUTHZ}/roleDefinitions/{guid}", params=API)
        assert scopes(r.json()["properties"]["permissions"][0]["actions"]) == want, guid


async def test_role_assignments_are_written_read_and_refused_as_azure_does(c: httpx.AsyncClient) -> None:
    url = f"{VNET}/{AUTHZ}/roleAssignments/{name(1)}"
    # az sends "roleDefinition/" (singular) from `az aro create`: Azure takes it and answers the canonical id
    body = assignment(ALICE, f"/subscriptions/{SUB}/{AUTHZ}/roleDefinition/{NETWORK_CONTRIBUTOR}")
    r = await c.put(url, params=API, json={"properties": {**body["properties"], "principalType": "ServicePrincipal"}})
    assert r.status_code == 201
    made = r.json()
    assert (made["id"], made["name"], made["type"]) == (url, name(1), "Microsoft.Authorization/roleAssignments")
    props = made["properties"]
    assert props["roleDefinitionId"] == role_id(NETWORK_CONTRIBUTOR)
    assert (props["principalId"], props["principalType"], props["scope"]) == (ALICE, "ServicePrincipal", VNET)
    assert props["condition"] is None and props["createdOn"] and props["createdBy"] == props["updatedBy"]
    assert (await c.get(url, params=API)).json() == made
    again = await c.put(
        url, params=API, json={"properties": {**body["properties"], "principalType": "ServicePrincipal"}}
    )
    assert (again.status_code, again.json()) == (200, made)  # the same assignment: idempotent

    twin = await c.put(f"{VNET}/{AUTHZ}/roleAssignments/{name(2)}", params=API, json=body)
    assert error(twin) == (
        409,
        "RoleAssignmentExists",
        f"The role assignment already exists. The ID of the existing role assignment is {name(1).replace('-', '')}.",
    )
    changed = await c.put(url, params=API, json=assignment(BOB, role_id(NETWORK_CONTRIBUTOR)))
    assert error(changed) == (
        400,
        "RoleAssignmentUpdateNotPermitted",
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
    )
    cases = [
        (f"{VNET}/{AUTHZ}/roleAssignments/not-a-guid", assignment(BOB, role_id(READER)), "InvalidRoleAssignmentId"),
        (f"{VNET}/{AUTHZ}/roleAssignments/{name(3)}", assignment("bob", role_id(READER)), "InvalidPrincipalId"),
        (f"{VNET}/{AUTHZ}/roleAssignments/{name(3)}", assignment(BOB, role_id(name(7))), "RoleDefinitionDoesNotExist"),
        (f"{VNET}/{AUTHZ}/roleAssignments/{name(3)}", assignment(BOB, "Reader"), "RoleDefinitionDoesNotExist"),
        (f"{VNET}/{AUTHZ}/roleAssignments/{name(3)}", {}, "InvalidRequestContent"),
    ]
    for target, payload, code in cases:
        assert error(await c.put(target, params=API, json=payload))[:2] == (400, code), code
    gone_rg = f"/subscriptions/{SUB}/resourceGroups/nowhere/{AUTHZ}/roleAssignments/{name(4)}"
    assert error(await c.put(gone_rg, params=API, json=assignment(BOB, role_id(READER))))[:2] == (
        404,
        "ResourceGroupNotFound",
    )
    gone_subnet = f"{VNET}/subnets/nope/{AUTHZ}/roleAssignments/{name(4)}"
    assert error(await c.put(gone_subnet, params=API, json=assignment(BOB, role_id(READER))))[:2] == (
        404,
        "ResourceNotFound",
    )

    deleted = await c.delete(url, params=API)
    assert (deleted.status_code, deleted.json()) == (200, made)
    assert (await c.delete(url, params=API)).status_code == 204
    assert error(await c.get(url, params=API)) == (
        404,
        "RoleAssignmentNotFound",
        f"The role assignment '{name(1)}' is not found.",
    )


async def test_lists_at_above_and_below_a_scope(app: SimulatorApp, c: httpx.AsyncClient) -> None:
    await assign(c, f"/subscriptions/{SUB}", 1, ALICE, READER)
    await assign(c, RG, 2, BOB, READER)
    await assign(c, VNET, 3, ALICE, NETWORK_CONTRIBUTOR)
    await assign(c, SUBNET, 4, BOB, NETWORK_CONTRIBUTOR)
    other_rg = f"/subscriptions/{SUB}/resourceGroups/other"
    await c.put(other_rg, params=API, json={"location": "eastus"})
    await assign(c, other_rg, 5, ALICE, READER)
    owner = app.arm.authorization.default_principal

    async def listed(scope: str, filter_: str | None = None) -> list[tuple[str, str]]:
        params = {**API, **({"$filter": filter_} if filter_ else {})}
        r = await c.get(f"{scope}/{AUTHZ}/roleAssignments", params=params)
        assert r.status_code == 200, r.text
        return sorted((a["properties"]["scope"], a["properties"]["principalId"]) for a in r.json()["value"])

    sub = f"/subscriptions/{SUB}"
    implicit = (sub, owner)  # the seeded principal is Owner of every subscription
    assert await listed(VNET) == sorted([(sub, ALICE), (RG, BOB), (VNET, ALICE), (SUBNET, BOB), implicit])
    assert await listed(VNET, "atScope()") == sorted([(sub, ALICE), (RG, BOB), (VNET, ALICE), implicit])
    assert await listed(VNET, f"principalId eq '{BOB}'") == [(RG, BOB), (SUBNET, BOB)]
    assert await listed(VNET, f"atScope() and assignedTo('{BOB}')") == [(RG, BOB)]
    assert len(await listed(sub)) == 6  # the subscription's list holds everything in it
    with_owner = (await c.get(f"{sub}/{AUTHZ}/roleAssignments", params=API)).json()["value"]
    mine = [a for a in with_owner if a["properties"]["principalId"] == owner]
    assert [a["properties"]["roleDefinitionId"] for a in mine] == [role_id(OWNER)]
    assert error(await c.get(f"{VNET}/{AUTHZ}/roleAssignments", params={**API, "$filter": "x eq 1"}))[:2] == (
        400,
        "InvalidFilter",
    )


async def test_permissions_are_the_callers_roles_at_and_above_the_scope(
    app: SimulatorApp, c: httpx.AsyncClient
) -> None:
    """What ``az aro create``'s ``validate_resource`` reads (``permissions.list_for_resource``, api 2015-07-01,
    with an empty parent path: a double slash)."""
    owner = await c.get(
        f"{RG}/providers/Microsoft.Network//virtualNetworks/aro-vnet/{AUTHZ}/permissions",
        params={"api-version": "2015-07-01"},
    )
    assert owner.json() == {"value": [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]}

    token = app.tokens.issue(TENANT, name(42), "https://sim", f"https://sim/{TENANT}/v2.0", object_id=ALICE)
    async with client(app, token) as alice:

        async def actions(scope: str) -> list[list[str]]:
            r = await alice.get(f"{scope}/{AUTHZ}/permissions", params=API)
            assert r.status_code == 200, r.text
            return [p["actions"] for p in r.json()["value"]]

        assert await actions(VNET) == []  # nothing assigned: nothing allowed
        await assign(c, VNET, 1, ALICE, NETWORK_CONTRIBUTOR)
        await assign(c, VNET, 2, BOB, READER)  # someone else's
        network = [a for a in (await actions(VNET))[0]]
        assert "Microsoft.Network/*" in network and await actions(SUBNET) == [network]  # inherited below
        assert await actions(RG) == []  # not above
        await assign(c, RG, 3, ALICE, READER)
        assert sorted(await actions(SUBNET)) == sorted([network, ["*/read"]])
        granted = (await alice.get(f"{VNET}/{AUTHZ}/permissions", params=API)).json()["value"]

    def can_do(action: str) -> bool:  # az aro's ``can_do_action``
        for perm in granted:
            if any(re.match("(?i)^" + re.escape(a).replace(r"\*", ".*") + "$", action) for a in perm["actions"]):
                if not any(
                    re.match("(?i)^" + re.escape(n).replace(r"\*", ".*") + "$", action) for n in perm["notActions"]
                ):
                    return True
        return False

    assert can_do("Microsoft.Network/virtualNetworks/subnets/join/action")
    assert not can_do("Microsoft.Compute/virtualMachines/write")


async def test_assignments_go_with_their_scope(c: httpx.AsyncClient) -> None:
    await assign(c, SUBNET, 1, ALICE, READER)
    await assign(c, VNET, 2, ALICE, READER)
    await assign(c, RG, 3, ALICE, READER)
    r = await c.delete(f"{VNET}/subnets/master", params=API)
    assert r.status_code == 200
    assert (await c.get(f"{SUBNET}/{AUTHZ}/roleAssignments/{name(1)}", params=API)).status_code == 404
    assert (await c.get(f"{VNET}/{AUTHZ}/roleAssignments/{name(2)}", params=API)).status_code == 200
    await c.delete(VNET, params=API)
    assert (await c.get(f"{VNET}/{AUTHZ}/roleAssignments/{name(2)}", params=API)).status_code == 404
    assert (await c.get(f"{RG}/{AUTHZ}/roleAssignments/{name(3)}", params=API)).status_code == 200


async def test_bounds_and_scopes(c: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authorization, "MAX_PER_SUBSCRIPTION", 2)
    await assign(c, RG, 1, ALICE, READER)
    await assign(c, RG, 2, BOB, READER)
    r = await c.put(f"{RG}/{AUTHZ}/roleAssignments/{name(3)}", params=API, json=assignment(ALICE, role_id(OWNER)))
    assert error(r)[:2] == (400, "RoleAssignmentLimitExceeded")
    long = assignment(ALICE, role_id(OWNER), description="x" * (authorization.MAX_TEXT + 1))
    assert error(await c.put(f"{RG}/{AUTHZ}/roleAssignments/{name(4)}", params=API, json=long))[:2] == (
        400,
        "InvalidRequestContent",
    )
    bad_scope = f"/subscriptions/not-a-sub/{AUTHZ}/roleAssignments"
    assert error(await c.get(bad_scope, params=API))[:2] == (400, "InvalidScope")
    assert authorization.ancestors(SUBNET.lower()) == [
        f"/subscriptions/{SUB}",
        RG.lower(),
        VNET.lower(),
        SUBNET.lower(),
    ]
