"""Two AMS features of the ledger, through a real `aro rp`: the plan catalog (``…/plans[/{id}]``, which every
subscription's ``plan.href`` resolves to) and ``fetchLabels`` on the subscriptions' list and get (each
subscription with its own labels, as its labels route renders them; absent or ``false``: today's answer; any
other value 400), and the ``labels`` filter. And ``Labels.of_subscriptions`` -- the one query per page behind
the list -- and ``Labels.subscriptions_labelled`` on both stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from aro.database import Doc, Store
from aro.database.query import And, Compare, In, Query
from aro.ledger import labels as labels_module
from aro.ledger.labels import Labels
from aro.ledger.model import CLASSIC_PLAN, HOSTED_PLAN, PLANS, OwnerType
from tests.conftest import RPProcess
from tests.fixtures.clusters import cli_body
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm, cluster_path
from tests.ledger.helpers import AMS, HCP_VERSION, Ocm, hcp_body, hcp_path, ocm_error, register, two_organizations
from tests.ledger.test_ledger import store  # noqa: F401  (SQLite and the local Cosmos DB server, reused)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PLAN_IDS = ["OCP", "OCP-ARO", "OCP-ARO-HCP"]


@pytest.fixture(scope="module")
def rp(start_rp: StartRP) -> RPProcess:
    return start_rp()


@pytest.fixture(scope="module")
def orgs(rp: RPProcess) -> Iterator[tuple[Ocm, Ocm, Ocm, dict[str, str]]]:
    """Two organizations (A: subscriptions a1 with three labels, a2 with none; B: b1 with one) and an SRE."""
    a, b, sre, ids = two_organizations(rp)
    for who, sub, key, value, internal in (
        (a, "a1", "team", "blue", False),  # posted out of key order
        (a, "a1", "cost-center", "42", False),
        (sre, "a1", "ops", "watch", True),
        (b, "b1", "team", "red", False),
    ):
        body = {"key": key, "value": value, "internal": internal}
        r = who.client.post(f"{AMS}/subscriptions/{ids[sub]}/labels", json=body)
        assert r.status_code == 201, r.text
    yield a, b, sre, ids
    for who in (a, b, sre):
        who.close()


def labels_route(ocm: Ocm, subscription_id: str) -> list[dict[str, Any]]:
    """A subscription's labels as its labels route renders them, sorted by key."""
    r = ocm.get(f"/subscriptions/{subscription_id}/labels")
    assert r.status_code == 200, r.text
    return sorted(r.json()["items"], key=lambda label: str(label["key"]))


# --- plans ------------------------------------------------------------------------------------------------


def test_plan_catalog(rp: RPProcess, orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, b, _, _ = orgs
    body = a.get("/plans").json()
    assert (body["kind"], body["page"], body["size"], body["total"]) == ("PlanList", 1, 3, 3), body
    assert [p["id"] for p in body["items"]] == PLAN_IDS
    for plan in body["items"]:
        assert set(plan) <= {"id", "kind", "href", "type", "category", "name"}, plan
        assert plan["kind"] == "Plan" and plan["href"] == f"{AMS}/plans/{plan['id']}" and plan["type"] == "OCP"
        assert plan["id"] == "-".join(filter(None, (plan["type"], plan.get("category"))))
        assert isinstance(plan["name"], str) and plan["name"].startswith("OpenShift Container Platform")
        r = b.get(f"/plans/{plan['id']}")  # any organization reads the same catalog
        assert r.status_code == 200 and r.json() == plan, r.text
    assert "category" not in body["items"][0] and body["items"][1]["category"] == "ARO"
    assert body["items"][2]["category"] == "ARO-HCP"

    second = a.get("/plans", page=2, size=1).json()
    assert (second["page"], second["size"], second["total"]) == (2, 1, 3) and second["items"] == [body["items"][1]]
    assert a.get("/plans", size=2, page=2).json()["items"] == body["items"][2:]
    assert a.get("/plans", size=0).json() == {"kind": "PlanList", "page": 1, "size": 0, "total": 3, "items": []}
    assert a.get("/plans", page=4, size=1).json()["items"] == []
    ocm_error(a.get("/plans", page="0"), 400, "page")
    ocm_error(a.get("/plans", size="1001"), 400, "size")
    with rp.client() as anonymous:
        ocm_error(anonymous.get(f"{AMS}/plans"), 401)
        ocm_error(anonymous.get(f"{AMS}/plans/OCP"), 401)


def test_unknown_plan_is_an_ocm_404(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, _, _ = orgs
    for unknown in ("OCP-ARO-X", "ocp-aro", "OSD"):  # ids are case-sensitive, as AMS's
        ocm_error(a.get(f"/plans/{unknown}"), 404, "Plan", unknown)
    ocm_error(a.client.post(f"{AMS}/plans", json={}), 405)


def test_every_subscriptions_plan_href_resolves(rp: RPProcess, orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    """Subscriptions of all three plans -- a classic and a hosted cluster's (reserved by the backend's first
    step), and the telemetry-filed ones -- link to plans the catalog serves, with the same id, type and
    category; and the link itself is as it was (no name)."""
    _, _, sre, ids = orgs
    sub = str(uuid.uuid4())
    with Arm(rp) as arm:
        tenant = register(arm.client, sub)
        assert arm.put(cluster_path(sub, "rg", "classic1"), cli_body(sub, "classic1")).status_code == 201
        hosted = arm.put(hcp_path(sub, "rg", "hosted1"), hcp_body(sub, "rg", "hosted1"), version=HCP_VERSION)
        assert hosted.status_code == 201, hosted.text
    with Ocm(rp, "carol", tenant) as owner:
        clusters = owner.wait(f"cloud_account_id = '{sub}'", lambda items: len(items) == 2, "two subscriptions")
    filed = sre.subscriptions(f"id in ('{ids['a1']}', '{ids['a2']}', '{ids['b1']}')")["items"]
    links = {i["id"]: i["plan"] for i in clusters + filed}
    assert {p["id"] for p in links.values()} == set(PLAN_IDS)
    assert {i["plan"]["id"] for i in clusters} == {CLASSIC_PLAN.id, HOSTED_PLAN.id}
    for subscription_id, link in links.items():
        assert set(link) <= {"id", "kind", "href", "type", "category"}, (subscription_id, link)
        assert link == PLANS[link["id"]].render()
        r = sre.client.get(link["href"])
        assert r.status_code == 200, (subscription_id, r.text)
        plan = r.json()
        assert (plan["id"], plan["type"], plan.get("category")) == (link["id"], link["type"], link.get("category"))
        assert {k: v for k, v in plan.items() if k != "name"} == link


# --- fetchLabels -------------------------------------------------------------------------------------------


def test_fetch_labels_on_the_list(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, b, sre, ids = orgs
    a1 = labels_route(a, ids["a1"])
    assert [label["key"] for label in a1] == ["cost-center", "ops", "team"]
    b1 = labels_route(b, ids["b1"])
    assert [(label["key"], label["value"]) for label in b1] == [("team", "red")]

    mine = a.subscriptions(fetchLabels="true", order="id")["items"]
    assert {i["id"]: i["labels"] for i in mine} == {ids["a1"]: a1, ids["a2"]: []}
    assert b.subscriptions(fetchLabels="true")["items"][0]["labels"] == b1

    # an SRE's page spans both organizations: each subscription gets its own labels, none of another's
    everyone = sre.subscriptions(f"id in ('{ids['a1']}', '{ids['a2']}', '{ids['b1']}')", fetchLabels="true")
    by_id = {i["id"]: i for i in everyone["items"]}
    assert {id: i["labels"] for id, i in by_id.items()} == {ids["a1"]: a1, ids["a2"]: [], ids["b1"]: b1}
    for id, item in by_id.items():
        for label in item["labels"]:
            assert label["type"] == "Subscription" and label["subscription_id"] == id
            assert label["organization_id"] == item["organization_id"]

    # paging: the labels of the page's subscription
    ordered = sorted([ids["a1"], ids["a2"]])
    second = a.subscriptions(fetchLabels="true", order="id", size=1, page=2)["items"]
    assert [(i["id"], i["labels"]) for i in second] == [(ordered[1], {ids["a1"]: a1, ids["a2"]: []}[ordered[1]])]
    assert a.subscriptions(fetchLabels="true", size=0)["items"] == []


def test_fetch_labels_on_get(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, b, sre, ids = orgs
    assert a.get(f"/subscriptions/{ids['a1']}", fetchLabels="true").json()["labels"] == labels_route(a, ids["a1"])
    assert a.get(f"/subscriptions/{ids['a2']}", fetchLabels="true").json()["labels"] == []
    b1 = sre.get(f"/subscriptions/{ids['b1']}", fetchLabels="true").json()
    assert b1["labels"] == labels_route(b, ids["b1"]) and b1["organization_id"] == b.organization_id
    ocm_error(b.get(f"/subscriptions/{ids['a1']}", fetchLabels="true"), 404)  # still another organization's


def test_fetch_labels_false_is_todays_answer(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, b, _, ids = orgs
    for who, path in ((a, "/subscriptions"), (b, "/subscriptions"), (a, f"/subscriptions/{ids['a1']}")):
        plain = who.get(path)
        assert plain.status_code == 200 and "labels" not in plain.text, plain.text
        assert who.get(path, fetchLabels="false").content == plain.content


def test_fetch_labels_takes_only_true_or_false(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, _, ids = orgs
    for bad in ("yes", "TRUE", "1", ""):
        ocm_error(a.get("/subscriptions", fetchLabels=bad), 400, "fetchLabels", "true or false")
        ocm_error(a.get(f"/subscriptions/{ids['a1']}", fetchLabels=bad), 400, "fetchLabels")


def test_fetch_labels_with_fields(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, _, _, ids = orgs
    a1 = labels_route(a, ids["a1"])
    items = a.subscriptions(fetchLabels="true", fields="id,labels", order="id")["items"]
    assert all(set(i) == {"id", "kind", "href", "labels"} for i in items), items
    assert {i["id"]: i["labels"] for i in items} == {ids["a1"]: a1, ids["a2"]: []}
    assert all("labels" not in i for i in a.subscriptions(fetchLabels="true", fields="status")["items"])
    one = a.get(f"/subscriptions/{ids['a1']}", fetchLabels="true", fields="labels").json()
    assert one == {"id": ids["a1"], "kind": "Subscription", "href": f"{AMS}/subscriptions/{ids['a1']}", "labels": a1}


# --- the labels filter -----------------------------------------------------------------------------------


def _ids(ocm: Ocm, **params: Any) -> set[str]:
    r = ocm.get("/subscriptions", **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"]), body
    return {i["id"] for i in body["items"]}


def test_labels_filter(orgs: tuple[Ocm, Ocm, Ocm, dict[str, str]]) -> None:
    a, b, sre, ids = orgs
    assert _ids(a, labels="team=blue") == {ids["a1"]}
    assert _ids(a, labels="team") == {ids["a1"]}  # a bare key: any value; B's team=red is not A's to see
    assert _ids(a, labels="team=red") == set()
    assert _ids(b, labels="team") == {ids["b1"]}
    assert _ids(sre, labels="team") == {ids["a1"], ids["b1"]}
    assert _ids(sre, labels="team=blue,cost-center=42") == {ids["a1"]}  # every one of them
    assert _ids(sre, labels="team=blue,ops=nope") == set()
    assert _ids(sre, labels="team", search=f"organization_id = '{b.organization_id}'") == {ids["b1"]}
    r = sre.get("/subscriptions", labels="team", size="0")
    assert r.json()["total"] == 2 and r.json()["items"] == []
    for bad in ("=blue", "team=blue,,x", ",".join(f"k{i}" for i in range(11)), "té=1"):
        ocm_error(sre.get("/subscriptions", labels=bad), 400, "labels")


# --- Labels.of_subscriptions on both stores --------------------------------------------------------------


async def test_labels_of_many_subscriptions(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """One query for a page of subscriptions across organizations, each subscription's labels as ``list``
    gives them; in chunks of IN_CHUNK, each chunk's labels paged (here made small to show it)."""
    labels = Labels(store)
    s1, s2, s3, other = "1" * 27, "2" * 27, "3" * 27, "4" * 27
    for owner, org, key in (
        (s1, "org-a", "zone"),
        (s1, "org-a", "app"),
        (s1, "org-a", "team"),
        (s3, "org-b", "team"),
        (s3, "org-b", "cost"),
        (other, "org-a", "team"),  # a subscription not asked for
        (s1, "org-b", "stray"),  # the id under another organization: not the asked (org-a, s1)
    ):
        await labels.put(OwnerType.SUBSCRIPTION, owner, org, key, f"{key}-value", False)
    await labels.put(OwnerType.ORGANIZATION, "org-a", "org-a", "capability.x", "true", True)

    queries: list[tuple[Query, str | None]] = []
    query = labels.container.query

    async def counted(q: Query, *, partition_key: str | None = None) -> list[Doc]:
        queries.append((q, partition_key))
        return await query(q, partition_key=partition_key)

    monkeypatch.setattr(labels.container, "query", counted)
    asked = [("org-a", s1), ("org-a", s2), ("org-b", s3)]
    want = {
        s1: await labels.list(OwnerType.SUBSCRIPTION, s1, "org-a"),
        s2: [],
        s3: await labels.list(OwnerType.SUBSCRIPTION, s3, "org-b"),
    }
    assert [d["label"]["key"] for d in want[s1]] == ["app", "team", "zone"]
    assert [d["label"]["key"] for d in want[s3]] == ["cost", "team"]

    assert await labels.of_subscriptions(asked) == want
    assert len(queries) == 1 and queries[0][1] is None  # two organizations: across partitions
    assert await labels.of_subscriptions([]) == {} and len(queries) == 1

    queries.clear()
    assert await labels.of_subscriptions(asked[:2]) == {s1: want[s1], s2: []}
    assert [pk for _, pk in queries] == ["org-a"]  # one organization: its partition

    # chunks of two subscriptions, pages of two labels: the same answer
    monkeypatch.setattr(labels_module, "IN_CHUNK", 2)
    monkeypatch.setattr(labels_module, "MAX_LIMIT", 2)
    queries.clear()
    assert await labels.of_subscriptions(asked) == want
    for q, _ in queries:
        assert isinstance(q.where, And) and q.limit <= 2
        assert Compare(("label", "type"), "=", "Subscription") in q.where.items
        [chunk] = [e for e in q.where.items if isinstance(e, In)]
        assert len(chunk.values) <= 2
    assert {pk for _, pk in queries} == {"org-a", "org-b"} and len(queries) > 2


async def test_subscriptions_labelled_is_bounded(store: Store) -> None:  # noqa: F811
    labels = Labels(store)
    for owner, org, value in (("1" * 27, "org-a", "x"), ("2" * 27, "org-a", "y"), ("3" * 27, "org-b", "x")):
        await labels.put(OwnerType.SUBSCRIPTION, owner, org, "tier", value, False)
    await labels.put(OwnerType.ORGANIZATION, "org-a", "org-a", "tier", "x", False)  # not a subscription's
    assert await labels.subscriptions_labelled("tier", None, None, 3) == {
        ("org-a", "1" * 27),
        ("org-a", "2" * 27),
        ("org-b", "3" * 27),
    }
    assert await labels.subscriptions_labelled("tier", None, None, 2) is None  # more than the limit
    assert await labels.subscriptions_labelled("tier", "x", "org-a", 1) == {("org-a", "1" * 27)}
    assert await labels.subscriptions_labelled("tier", "z", None, 1) == set()
