"""Accounts and organizations as AMS lists them, through a real `aro rp`: every caller is recorded as an
account of its organization, ``current_account`` and a subscription's ``creator.href`` resolve, the seed's
"find a user's organization" search works, and another organization's accounts stay out of sight."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.conftest import RPProcess
from tests.fixtures.clusters import cli_body
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm, cluster_path
from tests.ledger.helpers import Ocm, ocm_error, register


@pytest.fixture(scope="module")
def rp(start_rp: StartRP) -> RPProcess:
    return start_rp()


@pytest.fixture(scope="module")
def people(rp: RPProcess) -> dict[str, Ocm]:
    """alice and bob@example.com in one organization, carol in another, sam an SRE in a third."""
    shared, carols = str(uuid.uuid4()), str(uuid.uuid4())
    return {
        "alice": Ocm(rp, "alice", shared),
        "bob": Ocm(rp, "bob@example.com", shared),
        "carol": Ocm(rp, "carol", carols),
        "sam": Ocm(rp, "sam", str(uuid.uuid4()), groups=("aro-sre",)),
    }


def _list(ocm: Ocm, path: str, **params: Any) -> dict[str, Any]:
    r = ocm.get(path, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["size"] == len(body["items"]), body
    return dict(body)


def test_current_account_is_a_recorded_account(people: dict[str, Ocm]) -> None:
    for ocm in people.values():
        me = ocm.get("/current_account").json()
        assert me["organization"]["id"] == ocm.organization_id and me["created_at"], me
        r = ocm.get(f"/accounts/{me['id']}")
        assert r.status_code == 200, r.text
        account = r.json()
        assert account["kind"] == "Account" and account["href"] == f"/api/accounts_mgmt/v1/accounts/{me['id']}"
        assert account["username"] == me["username"] and account["organization"]["id"] == ocm.organization_id
    bob = people["bob"].get("/current_account").json()
    assert bob["email"] == "bob@example.com"
    assert "email" not in people["alice"].get("/current_account").json()


def test_find_a_users_organization_by_search(people: dict[str, Ocm]) -> None:
    # the seed's way of finding the organization to label: search the accounts by user name
    found = _list(people["sam"], "/accounts", search="username = 'alice'")
    assert [i["organization"]["id"] for i in found["items"]] == [people["alice"].organization_id]
    mine = _list(people["alice"], "/accounts", order="username asc")
    assert mine["kind"] == "AccountList" and [i["username"] for i in mine["items"]] == ["alice", "bob@example.com"]
    assert _list(people["alice"], "/accounts", search="username like 'bob%'")["total"] == 1
    assert _list(people["alice"], "/accounts", search="email is not null", fields="username")["items"] == [
        {
            "id": mine["items"][1]["id"],
            "kind": "Account",
            "href": mine["items"][1]["href"],
            "username": "bob@example.com",
        }
    ]
    org = people["alice"].organization_id
    assert _list(people["sam"], "/accounts", search=f"organization.id = '{org}'")["total"] == 2


def test_another_organizations_accounts_are_out_of_sight(people: dict[str, Ocm]) -> None:
    carol = people["carol"].get("/current_account").json()["id"]
    assert _list(people["alice"], "/accounts", search="username = 'carol'")["total"] == 0
    ocm_error(people["alice"].get(f"/accounts/{carol}"), 404, "Account")
    assert people["sam"].get(f"/accounts/{carol}").status_code == 200
    ocm_error(people["alice"].get("/accounts", search="password = 'x'"), 400, "position")
    ocm_error(people["alice"].get("/accounts", order="username sideways"), 400)


def test_organizations_list(people: dict[str, Ocm]) -> None:
    alice = people["alice"]
    mine = _list(alice, "/organizations")
    assert mine["kind"] == "OrganizationList" and mine["total"] == 1
    assert mine["items"][0]["id"] == alice.organization_id
    assert _list(alice, "/organizations", search=f"id = '{people['carol'].organization_id}'")["total"] == 0
    tenant = mine["items"][0]["external_id"]
    seen = _list(people["sam"], "/organizations", search=f"external_id = '{tenant}'", fields="name")
    assert seen["total"] == 1 and seen["items"][0]["name"] == f"tenant {tenant}"
    assert _list(people["sam"], "/organizations", search="name ilike 'TENANT%'", size="0")["total"] >= 3
    ocm_error(alice.get("/organizations", search="name = "), 400, "position")


def test_a_clusters_creator_links_to_its_account(rp: RPProcess, people: dict[str, Ocm]) -> None:
    sub = str(uuid.uuid4())
    path = cluster_path(sub, "rg", "made-by-dana")
    with Arm(rp) as arm, Ocm(rp, "sre", str(uuid.uuid4()), groups=("aro-sre",)) as sre:
        tenant = register(arm.client, sub)
        created = {"createdBy": "dana@example.com", "createdByType": "User", "createdAt": "2026-12-07T00:00:00Z"}
        r = arm.put(path, cli_body(sub, "made-by-dana"), headers={"x-ms-arm-resource-system-data": json.dumps(created)})
        assert r.status_code == 201, r.text
        [item] = sre.wait(f"cloud_account_id = '{sub}'", lambda items: len(items) == 1, "the reservation")
        creator = item["creator"]
        assert creator["username"] == "dana@example.com", item
        account = sre.get(creator["href"].removeprefix("/api/accounts_mgmt/v1"))
        assert account.status_code == 200, account.text
        assert account.json()["organization"]["id"] == item["organization_id"]
        # dana, logging in to her tenant's organization, is that same account
        with Ocm(rp, "dana@example.com", tenant) as dana:
            assert dana.get("/current_account").json()["id"] == creator["id"]
            assert _list(dana, "/accounts")["total"] == 1
        arm.wait(path, {"Succeeded"})
