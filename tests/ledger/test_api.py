"""The ledger's API as AMS serves it, through a real `aro rp`: tokens, organization scoping (another
organization's token sees none of its subscriptions), search / order / paging / fields, PATCH and DELETE
rules, labels, and every error in OCM's envelope with nothing changed."""

from __future__ import annotations

import pytest

from tests.conftest import RPProcess
from tests.frontend.conftest import StartRP
from tests.ledger.helpers import AMS, Ocm, ocm_error, report, two_organizations

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def rp(start_rp: StartRP) -> RPProcess:
    return start_rp()


@pytest.fixture(scope="module")
def orgs(rp: RPProcess) -> tuple[Ocm, Ocm, Ocm, dict[str, str]]:
    """Two organizations with subscriptions of their own (A: two, B: one) and an SRE."""
    return two_organizations(rp)


def test_tokens_are_required_and_checked(rp: RPProcess) -> None:
    with rp.client() as c:
        ocm_error(c.get(AMS + "/subscriptions"), 401, "Authorization")
        ocm_error(c.get(AMS + "/subscriptions", headers={"Authorization": "Bearer not.a.jwt"}), 401, "not valid")
        ocm_error(c.get(AMS + "/current_account", headers={"Authorization": "Basic eDp5"}), 401)
        ocm_error(c.post("/api/auth/token", json={"username": "bad user"}), 400, "username")
        ocm_error(c.post("/api/auth/token", json={"username": "x", "groups": "sre"}), 400, "groups")
        ocm_error(c.post("/api/auth/token", json={"username": "x", "organization": "NoSuchOrg1"}), 404, "not found")
        ocm_error(c.post("/api/auth/token", content=b"{", headers={"content-type": "application/json"}), 400, "JSON")
        ocm_error(c.post("/api/auth/token", content=b"x=1", headers={"content-type": "text/plain"}), 415)


def test_current_account(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, _, _ = orgs
    me = a.get("/current_account").json()
    assert me["kind"] == "Account" and me["username"] == "alice" and me["href"] == f"{AMS}/accounts/{me['id']}"
    assert me["organization"]["id"] == a.organization_id and me["organization"]["kind"] == "Organization"


def test_an_organization_sees_only_its_own(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, b, sre, ids = orgs
    assert {i["id"] for i in a.subscriptions()["items"]} == {ids["a1"], ids["a2"]}
    assert {i["id"] for i in b.subscriptions()["items"]} == {ids["b1"]}
    assert b.subscriptions(f"id = '{ids['a1']}'")["total"] == 0
    ocm_error(b.get(f"/subscriptions/{ids['a1']}"), 404, ids["a1"])
    ocm_error(b.client.patch(f"{AMS}/subscriptions/{ids['a1']}", json={"display_name": "x"}), 404)
    ocm_error(b.get(f"/subscriptions/{ids['a1']}/labels"), 404)
    ocm_error(b.get(f"/organizations/{a.organization_id}"), 404)
    ocm_error(b.get(f"/organizations/{a.organization_id}/labels"), 404)
    everything = {i["id"] for i in sre.subscriptions(f"id in ('{ids['a1']}', '{ids['a2']}', '{ids['b1']}')")["items"]}
    assert everything == set(ids.values())
    assert sre.get(f"/organizations/{a.organization_id}").status_code == 200


def test_search_order_paging_fields(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, _, ids = orgs
    r = a.get("/subscriptions", search="status = ", size=1)
    body = ocm_error(r, 400, "position")
    assert "search" in body["reason"].lower()
    ocm_error(a.get("/subscriptions", search="colour = 'red'"), 400, "colour", "position 0")
    ocm_error(a.get("/subscriptions", order="colour desc"), 400, "colour")
    for bad in ({"page": "0"}, {"size": "1001"}, {"size": "x"}, {"page": "²"}):
        ocm_error(a.get("/subscriptions", **bad), 400, next(iter(bad)))
    ocm_error(a.get("/subscriptions", fields="id;drop"), 400, "fields")

    ordered = [i["id"] for i in a.subscriptions(order="id asc")["items"]]
    assert ordered == sorted([ids["a1"], ids["a2"]])
    assert [i["id"] for i in a.subscriptions(order="id desc")["items"]] == ordered[::-1]
    page1, page2 = a.subscriptions(order="id", size=1, page=1), a.subscriptions(order="id", size=1, page=2)
    assert (page1["page"], page1["size"], page1["total"]) == (1, 1, 2) and page2["page"] == 2
    assert [page1["items"][0]["id"], page2["items"][0]["id"]] == ordered
    assert a.subscriptions(size=0) == {"kind": "SubscriptionList", "page": 1, "size": 0, "total": 2, "items": []}
    assert a.subscriptions(page=3, size=1)["items"] == []
    projected = a.subscriptions(fields="status,plan.id", order="id")["items"][0]
    assert set(projected) == {"id", "kind", "href", "status", "plan"} and set(projected["plan"]) == {"id"}


def test_patch_rules(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, sre, ids = orgs
    url = f"{AMS}/subscriptions/{ids['a1']}"
    r = a.client.patch(url, json={"display_name": "renamed"})
    assert r.status_code == 200 and r.json()["display_name"] == "renamed", r.text
    before = a.get(f"/subscriptions/{ids['a1']}").json()
    ocm_error(a.client.patch(url, json={"status": "Archived"}), 403, "SRE")
    ocm_error(a.client.patch(url, json={"plan": {"id": "x"}}), 400, "plan")
    ocm_error(a.client.patch(url, json={"display_name": 7}), 400, "display_name")
    ocm_error(a.client.patch(url, json={"display_name": "a\u202eb"}), 400, "control")
    ocm_error(a.client.patch(url, json=[1]), 400)
    ocm_error(a.client.patch(url, content=b"x" * (65 * 1024), headers={"content-type": "application/json"}), 413)
    ocm_error(sre.client.patch(url, json={"status": "Sleepy"}), 400, "status")
    assert a.get(f"/subscriptions/{ids['a1']}").json() == before  # refused: nothing changed
    r = sre.client.patch(url, json={"status": "Disconnected", "support_level": "Standard"})
    assert r.status_code == 200 and r.json()["status"] == "Disconnected" and r.json()["support_level"] == "Standard"


def test_delete_is_an_sres(rp: RPProcess, orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, sre, _ = orgs
    external = report(rp, a.organization_id)
    [item] = a.subscriptions(f"external_cluster_id = '{external}'")["items"]
    ocm_error(a.client.delete(f"{AMS}/subscriptions/{item['id']}"), 403, "SRE")
    assert (
        a.client.post(f"{AMS}/subscriptions/{item['id']}/labels", json={"key": "team", "value": "x"}).status_code == 201
    )
    assert sre.client.delete(f"{AMS}/subscriptions/{item['id']}").status_code == 204
    ocm_error(a.get(f"/subscriptions/{item['id']}"), 404)
    ocm_error(sre.get(f"/subscriptions/{item['id']}/labels/team"), 404)


def test_subscription_labels(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, sre, ids = orgs
    base = f"{AMS}/subscriptions/{ids['a2']}/labels"
    r = a.client.post(base, json={"key": "cost-center", "value": "42"})
    assert r.status_code == 201, r.text
    label = r.json()
    assert label["kind"] == "Label" and label["type"] == "Subscription" and label["subscription_id"] == ids["a2"]
    assert label["href"] == f"{base}/cost-center" and label["internal"] is False
    r = a.client.post(base, json={"key": "cost-center", "value": "43"})
    assert r.status_code == 200 and r.json()["value"] == "43" and r.json()["id"] == label["id"]
    ocm_error(a.client.post(base, json={"key": "ops", "value": "x", "internal": True}), 403, "internal")
    autoscale = {"key": "capability.cluster.autoscale_clusters", "value": "true"}  # a cluster's capability
    ocm_error(a.client.post(base, json=autoscale), 403, "Only an SRE may change a capability label")
    assert sre.client.post(base, json={**autoscale, "internal": True}).status_code == 201
    ocm_error(a.client.delete(f"{base}/{autoscale['key']}"), 403)
    assert sre.client.delete(f"{base}/{autoscale['key']}").status_code == 204
    ocm_error(a.client.post(base, json={"key": "-bad key", "value": "x"}), 400, "key")
    ocm_error(a.client.post(base, json={"key": "k", "value": "x", "color": "red"}), 400, "color")
    assert sre.client.post(base, json={"key": "ops", "value": "x", "internal": True}).status_code == 201
    ocm_error(a.client.delete(f"{base}/ops"), 403, "internal")
    listed = a.client.get(base).json()
    assert listed["kind"] == "LabelList" and {i["key"] for i in listed["items"]} == {"cost-center", "ops"}
    assert a.client.get(f"{base}/cost-center").json()["value"] == "43"
    assert a.client.delete(f"{base}/cost-center").status_code == 204
    ocm_error(a.client.get(f"{base}/cost-center"), 404, "cost-center")
    ocm_error(a.client.delete(f"{base}/cost-center"), 404)


def test_paths_are_case_sensitive_and_unknown_ones_are_ocm_errors(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, _, ids = orgs
    assert a.get(f"/subscriptions/{ids['a1']}").status_code == 200
    changed = ids["a1"].swapcase()
    ocm_error(a.get(f"/subscriptions/{changed}"), 404)
    ocm_error(a.get("/nothing-here"), 404, "No resource")
    ocm_error(a.client.put(f"{AMS}/subscriptions/{ids['a1']}", json={}), 405, "PUT")


def test_deep_searches_are_answered_or_refused_never_500(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    _, _, sre, _ = orgs

    def nested(levels: int) -> str:
        return "id = 'a' or id = 'b' and (" * levels + "id = 'c'" + ")" * levels

    for path in ("/subscriptions", "/organizations", "/accounts"):
        r = sre.get(path, search=nested(12))  # each parenthesis here is an Or and an And: 24 levels
        assert r.status_code == 200 and r.json()["total"] == 0, r.text
        r = sre.get(path, search="(" * 32 + "not " * 32 + "id = 'c'" + ")" * 32)  # flattened: no levels
        assert r.status_code == 200, r.text
        ocm_error(sre.get(path, search=nested(13)), 400, "Invalid search: filter nested more than 24 and/or levels")
        ocm_error(sre.get(path, search=nested(65)), 400, "nested more than 64 levels deep", "position")
