"""The acceptance table of AMS searches: each ``search`` (and ``order``) goes through ``parse_search`` /
``parse_order`` and ``Container.query`` on BOTH stores -- SQLite, and Cosmos DB on the local Cosmos-protocol
server -- over the same subscription documents, and must give exactly the listed ids in the listed order
(so both stores give the same), page after page; an invalid search fails with its position before any
query. The stores come from tests/database's ``target`` fixture (sqlite and cosmos), opened here with the
ledger's own container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aro.database import Container, ContainerSpec, Store, StoreError
from aro.database.cosmos import CosmosStore
from aro.database.query import Query
from aro.database.sqlite import SQLiteStore
from aro.ledger.fields import SUBSCRIPTION_FIELDS
from aro.ledger.search import SearchError, parse_order, parse_search
from tests.database import cosmos_server as local_cosmos
from tests.database.conftest import Target, cosmos_server, target  # noqa: F401  (the fixtures, reused)

# the ledger's subscriptions container, with the composite indexes Cosmos DB needs to order by each field
LEDGER = ContainerSpec("ledgerSearch", order_paths=tuple(f.path for f in SUBSCRIPTION_FIELDS.values()))


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_ = _Missing()  # a field the document does not have (None: JSON null)
# id, organization, status, plan id, external_cluster_id, display_name, managed, creator, created_at
ROWS: list[tuple[str, str, str, str, Any, str, Any, Any, str]] = [
    ("s01", "org-a", "Active", "OCP-ARO-HCP", "e01", "prod-east", True, "alice", "2026-01-10T08:00:00.000000Z"),
    ("s02", "org-a", "Active", "OCP-ARO", "e02", "prod-west", True, "bob", "2026-02-01T00:00:00.000000Z"),
    ("s03", "org-a", "Stale", "OCP-ARO-HCP", None, "staging", True, "alice", "2026-03-01T00:00:00.000000Z"),
    ("s04", "org-a", "Reserved", "OCP-ARO-HCP", _, "abc", False, "carol", "2026-03-05T12:30:00.000000Z"),
    ("s05", "org-b", "Archived", "OCP-ARO", "e05", "o'brien", True, "dave", "2026-01-20T10:00:00.000000Z"),
    ("s06", "org-b", "Active", "OCP-ARO-HCP", "e06", "Prod-Central", False, "alice", "2026-04-01T09:15:00.123456Z"),
    ("s07", "org-b", "Stale", "OCP-ARO", "e07", "aXc", True, "erin", "2026-02-28T23:59:59.999999Z"),
    ("s08", "org-b", "Reserved", "OCP-ARO-HCP", None, "Équipe-Nord", False, "bob", "2026-03-01T00:00:00.000001Z"),
    ("s09", "org-c", "Active", "OCP-ARO", "e09", "test (1)", True, "frank", "2026-05-01T00:00:00.000000Z"),
    ("s10", "org-c", "Deprovisioned", "OCP-ARO-HCP", "e10", "a_c", False, "alice", "2025-12-31T23:00:00.000000Z"),
    ("s11", "org-c", "Active", "OCP-ARO-HCP", "e11", "production", True, "gina", "2026-03-02T00:00:00.000000Z"),
    ("s12", "org-a", "Stale", "OCP", _, "équipe-sud", _, _, "2026-02-15T00:00:00.000000Z"),
]


def subscription_doc(row: tuple[str, str, str, str, Any, str, Any, Any, str]) -> dict[str, Any]:
    id, org, status, plan_id, external, name, managed, creator, created = row
    plan_type, _dash, category = plan_id.partition("-")
    sub: dict[str, Any] = {
        "id": id,
        "kind": "Subscription",
        "href": f"/api/accounts_mgmt/v1/subscriptions/{id}",
        "organization_id": org,
        "status": status,
        "plan": {"id": plan_id, "kind": "Plan", "type": plan_type, **({"category": category} if category else {})},
        "cluster_id": f"cluster-{id}",
        "display_name": name,
        "created_at": created,
        "updated_at": created,
    }
    if external is not _:
        sub["external_cluster_id"] = external
    if managed is not _:
        sub["managed"] = managed
    if creator is not _:
        sub["creator"] = {"id": f"u-{creator}", "username": creator}
    key = f"external:{external}" if isinstance(external, str) else f"id:{id}"
    return {"id": id, "partitionKey": org, "key": key, "subscription": sub, "heartbeat": 0}


ALL = [r[0] for r in ROWS]


def ids(*numbers: int) -> list[str]:
    return [f"s{n:02d}" for n in numbers]


@dataclass(frozen=True)
class Case:
    search: str
    want: list[str] | int  # the ids, in order; or the position of the SearchError
    order: str = ""
    org: str | None = None  # the partition (an organization's own view); None: across organizations


CASES: list[Case] = [
    Case("status = 'Active'", ids(1, 2, 6, 9, 11)),
    Case("status != 'Active'", ids(3, 4, 5, 7, 8, 10, 12)),
    Case("status <> 'Reserved'", ids(1, 2, 3, 5, 6, 7, 9, 10, 11, 12)),
    Case("plan.id = 'OCP-ARO-HCP'", ids(1, 3, 4, 6, 8, 10, 11)),
    Case("plan.category is null", ids(12)),
    Case("display_name like 'prod%'", ids(1, 2, 11)),
    Case("display_name ilike 'PROD%'", ids(1, 2, 6, 11)),
    Case("display_name like 'a_c'", ids(4, 7, 10)),
    Case("display_name like 'test (_)'", ids(9)),
    Case("display_name like '%Nord'", ids(8)),
    Case("display_name ilike 'équipe%'", ids(8, 12)),
    Case("display_name = 'Équipe-Nord'", ids(8)),
    Case("display_name = 'o''brien'", ids(5)),
    Case("status in ('Active', 'Stale')", ids(1, 2, 3, 6, 7, 9, 11, 12)),
    Case("status not in ('Archived')", ids(1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12)),
    Case("status not like 'A%'", ids(3, 4, 7, 8, 10, 12)),
    Case("external_cluster_id is null", ids(3, 4, 8, 12)),
    Case("external_cluster_id is not null", ids(1, 2, 5, 6, 7, 9, 10, 11)),
    Case("external_cluster_id in ('e01', 'e05', 'nope')", ids(1, 5)),
    Case("external_cluster_id != 'e01'", ids(2, 5, 6, 7, 9, 10, 11)),  # nulls match neither = nor !=
    Case("managed = 't'", ids(1, 2, 3, 5, 7, 9, 11)),
    Case("managed = false", ids(4, 6, 8, 10)),
    Case("not managed = 't'", ids(4, 6, 8, 10)),  # s12 has no managed: not false either
    Case("created_at > '2026-03-01'", ids(3, 4, 6, 8, 9, 11)),
    Case("created_at >= '2026-03-01T00:00:00Z'", ids(3, 4, 6, 8, 9, 11)),
    Case("created_at > '2026-03-01T00:00:00Z'", ids(4, 6, 8, 9, 11)),
    Case("created_at > '2026-03-01T01:00:00+01:00'", ids(4, 6, 8, 9, 11)),
    Case("created_at < '2026-01-20'", ids(1, 10)),
    Case("created_at like '2026-03%'", ids(3, 4, 8, 11)),
    Case("(status = 'Active' or status = 'Stale') and managed = 't'", ids(1, 2, 3, 7, 9, 11)),
    Case("not (status = 'Active')", ids(3, 4, 5, 7, 8, 10, 12)),
    Case("creator.username = 'alice'", ids(1, 3, 6, 10)),
    Case("status = 'Active' and creator.username != 'alice'", ids(2, 9, 11)),
    Case(
        "((plan.id = 'OCP-ARO' and (status = 'Active' or status = 'Archived')) or (display_name like '%Nord'))",
        ids(2, 5, 8, 9),
    ),
    Case("status = 'Active' AND managed = 'F' OR status = 'Stale'", ids(3, 6, 7, 12)),
    Case("NOT (status = 'Stale' OR status = 'Reserved') AND plan.id Like 'OCP-ARO%'", ids(1, 2, 5, 6, 9, 10, 11)),
    # order and paging
    Case("", ids(9, 6, 4, 11, 8, 3, 7, 12, 2, 5, 1, 10), order="created_at desc"),
    Case("", ids(10, 1, 5, 2, 12, 7, 3, 8, 11, 4, 6, 9), order="created_at asc"),
    Case("", ids(6, 7, 10, 4, 5, 1, 2, 11, 3, 9, 8, 12), order="display_name"),  # code point order
    Case("", ids(11, 9, 7, 5, 3, 2, 1, 10, 8, 6, 4, 12), order="managed desc"),  # ties by id desc, null last
    Case("", ids(12, 4, 6, 8, 10, 1, 2, 3, 5, 7, 9, 11), order="managed"),  # null first, ties by id
    Case("", ids(4, 12, 3, 8, 1, 2, 5, 6, 7, 9, 10, 11), order="external_cluster_id"),  # missing, null, values
    Case("status in ('Active', 'Stale')", ids(1, 2, 12, 7, 3, 11, 6, 9), order="created_at"),
    Case("managed = 't'", ids(11, 9, 7, 5, 2, 3, 1), order="creator.username desc"),
    # an organization's own view (a partition)
    Case("status = 'Active'", ids(1, 2), org="org-a"),
    Case("", ids(4, 3, 12, 2, 1), order="created_at desc", org="org-a"),
    Case("managed = false", ids(6, 8), org="org-b"),
    Case("", [], org="org-none"),
    # invalid: the error's position
    Case("status = ", 9),
    Case("status = 'x", 9),
    Case("foo = 'x'", 0),
    Case("status === 'x'", 8),
    Case("(status = 'x'", 13),
    Case("status in ()", 11),
    Case("managed = 'maybe'", 10),
    Case("status = 1", 9),
    Case("status 'x'", 7),
    Case("status = 'Active' garbage", 18),
    Case("status = 'Active')", 17),
    Case("status = 'Active'", 0, order="nope desc"),
]


async def open_ledger(spec: dict[str, Any]) -> Store:
    """A store of ``spec`` (a tests.database target) holding the ledger container."""
    if spec["kind"] == "sqlite":
        return await SQLiteStore(spec["path"], [LEDGER]).open()
    return await CosmosStore(
        spec["endpoint"], [LEDGER], database=spec["database"], key=spec["key"], ca_file=spec.get("caFile")
    ).open()


async def seed(store: Store) -> Container:
    container = store.container(LEDGER.name)
    for row in ROWS:
        await container.create(subscription_doc(row))
    return container


@pytest.fixture
async def ledger(target: Target) -> AsyncIterator[Container]:  # noqa: F811
    store = await open_ledger(target.spec)
    try:
        yield await seed(store)
    finally:
        await store.close()


async def run(container: Container, case: Case, limit: int = 100, offset: int = 0) -> list[str]:
    where = parse_search(case.search, SUBSCRIPTION_FIELDS)
    order = parse_order(case.order, SUBSCRIPTION_FIELDS)
    docs = await container.query(Query(where, order, offset, limit), partition_key=case.org)
    return [d["id"] for d in docs]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.search or '-'} | {c.order or '-'} | {c.org or '*'}" for c in CASES])
async def test_search(ledger: Container, case: Case) -> None:
    if isinstance(case.want, int):
        with pytest.raises(SearchError) as e:
            await run(ledger, case)
        assert e.value.position == case.want
        return
    assert await run(ledger, case) == case.want
    where = parse_search(case.search, SUBSCRIPTION_FIELDS)
    assert await ledger.count_where(where, partition_key=case.org) == len(case.want)
    # page after page (size 5, as ?page=&size= does): the same documents in the same order, each once
    pages = [await run(ledger, case, limit=5, offset=offset) for offset in range(0, 15, 5)]
    assert [id for page in pages for id in page] == case.want


async def test_both_stores_agree(cosmos_server: local_cosmos.CosmosServer, tmp_path: Path) -> None:  # noqa: F811
    """Beyond the table: every orderable field in both directions, under a few searches, page by page, gives
    the same ids from both stores (their orders are not written out here: the stores are compared)."""
    sqlite = await open_ledger({"kind": "sqlite", "path": str(tmp_path / "ledger.db")})
    cosmos = await open_ledger(cosmos_server.spec(cosmos_server.new_database("ledger")))
    try:
        a, b = await seed(sqlite), await seed(cosmos)
        searches = ["", "status != 'Active'", "not (managed = 't' and created_at < '2026-03-01')"]
        orders = [f"{name} {way}" for name in SUBSCRIPTION_FIELDS for way in ("asc", "desc")]
        for search in searches:
            for order in orders:
                case = Case(search, [], order)
                for offset in (0, 4, 8):
                    got = await run(a, case, 4, offset), await run(b, case, 4, offset)
                    assert got[0] == got[1], f"{search!r} ordered by {order!r}, offset {offset}"
    finally:
        await sqlite.close()
        await cosmos.close()


async def test_cosmos_orders_are_served_by_the_composite_indexes(
    cosmos_server: local_cosmos.CosmosServer,  # noqa: F811
) -> None:
    """On Cosmos DB an order is served only by a composite index (path, id): the ledger container is created
    with one per field (``order_paths``), serving both directions; an order it has no index for is refused,
    by real Cosmos DB as by the local server (SQLite serves any: a multi-field AMS ``order`` needs more
    indexes than one per field before Cosmos DB can serve it)."""
    store = await open_ledger(cosmos_server.spec(cosmos_server.new_database("ledger")))
    try:
        container = await seed(store)
        assert len(await run(container, Case("", [], "display_name desc"))) == len(ROWS)
        with pytest.raises(StoreError, match="composite index"):
            await run(container, Case("", [], "status, created_at desc"))
    finally:
        await store.close()
