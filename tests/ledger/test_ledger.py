"""The ledger over both real stores (SQLite; Cosmos DB on the local server): every transition idempotent and
race-free, and the steps safe to re-run after a crash at any line (a resumed step never makes a second
subscription)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aro.api.cluster import OpenShiftCluster
from aro.api.resource import SystemData
from aro.database import Store
from aro.database.containers import ALL, LEDGER_ACCOUNTS, LEDGER_SUBSCRIPTIONS
from aro.database.cosmos import CosmosStore
from aro.database.query import Query
from aro.database.sqlite import SQLiteStore
from aro.ledger import subscriptions as subscriptions_module
from aro.ledger.accounts import Accounts, account_id
from aro.ledger.model import CLASSIC_PLAN, LedgerError, OwnerType, Status
from aro.ledger.service import Ledger, LedgerSettings
from aro.ledger.subscriptions import ClusterRecord
from aro.steps import StepEnv, Timeouts
from aro.steps.ledger import ClusterLedger
from aro.util.crypto import Sealer

TENANT = "7f1c2d3e-0000-4000-8000-000000000001"
AZURE_SUB = "00000000-0000-4000-8000-0000000000aa"


@pytest.fixture(params=["sqlite", "cosmos"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The RP's containers on each store: SQLite, and Cosmos DB on the local server (a database per test)."""
    s: Store
    if request.param == "sqlite":
        s = await SQLiteStore(tmp_path / "aro.db", ALL).open()
    else:
        server = request.getfixturevalue("cosmos_server")
        spec = server.spec(server.new_database("ledger"))
        s = await CosmosStore(
            spec["endpoint"], ALL, database=spec["database"], key=spec["key"], ca_file=spec.get("caFile")
        ).open()
    yield s
    await s.close()


@pytest.fixture
def ledger(store: Store) -> Ledger:
    return Ledger(store, Sealer(os.urandom(32)), LedgerSettings(default_tenant_id=TENANT))


async def all_subscriptions(store: Store) -> list[dict[str, Any]]:
    return await store.container(LEDGER_SUBSCRIPTIONS.name).query(Query(limit=1000))


async def test_one_organization_per_tenant_even_when_racing(ledger: Ledger) -> None:
    orgs = await asyncio.gather(*(ledger.organizations.for_tenant(TENANT) for _ in range(8)))
    assert len({o["id"] for o in orgs}) == 1
    org = orgs[0]
    assert org["organization"]["external_id"] == TENANT and org["seeded"] is True
    assert await ledger.labels.capabilities(org["id"]) == frozenset(ledger.settings.default_capabilities)
    assert (await ledger.organizations.for_tenant(TENANT.upper()))["id"] == org["id"]


async def test_an_interrupted_seeding_is_finished_by_the_next_lookup(store: Store) -> None:
    ledger = Ledger(
        store, Sealer(os.urandom(32)), LedgerSettings(default_capabilities=("capability.a", "capability.b"))
    )
    org = await ledger.organizations.for_tenant(TENANT)
    # a crash after the organization was written, before its labels: undo the seeding
    for key in ("capability.a", "capability.b"):
        await ledger.labels.delete(*_org_label(org["id"]), key)
    await store.container("ledgerOrganizations").replace({**org, "seeded": False})
    again = await ledger.organizations.get(org["id"])
    assert again is not None and again["seeded"] is True
    assert await ledger.labels.capabilities(org["id"]) == {"capability.a", "capability.b"}


def _org_label(org_id: str) -> tuple[Any, str, str]:
    from aro.ledger.model import OwnerType

    return OwnerType.ORGANIZATION, org_id, org_id


def _record(org_id: str, sub_id: str = "2AAAAAAAAAAAAAAAAAAAAAAAAAA") -> ClusterRecord:
    return ClusterRecord(
        sub_id, org_id, "c" * 32, "demo", CLASSIC_PLAN, "/subscriptions/x/rg/demo", AZURE_SUB, "eastus"
    )


async def test_reserve_is_idempotent_and_transitions_are_conditional(ledger: Ledger, store: Store) -> None:
    org = (await ledger.organizations.for_tenant(TENANT))["id"]
    subs = ledger.subscriptions
    docs = await asyncio.gather(*(subs.reserve(_record(org)) for _ in range(5)))
    assert len({d["etag"] for d in docs}) == 1 and len(await all_subscriptions(store)) == 1
    sid = docs[0]["id"]

    await subs.set_external_id(org, sid, "11111111-1111-4111-8111-111111111111")
    await subs.set_external_id(org, sid, "22222222-2222-4222-8222-222222222222")  # a retried install's
    doc = await subs.get(sid)
    assert doc is not None and doc["subscription"]["external_cluster_id"].startswith("2222")
    assert doc["key"] == "external:22222222-2222-4222-8222-222222222222"

    assert (await subs.activate(org, sid))["subscription"]["status"] == Status.ACTIVE  # type: ignore[index]
    stale = await subs.update(org, sid, lambda d: d["subscription"].update(status="Stale") or True)
    assert stale is not None
    await subs.activate(org, sid)  # past Reserved: left alone
    assert (await subs.get(sid))["subscription"]["status"] == "Stale"  # type: ignore[index]
    assert await subs.release(org, sid) is False  # not Reserved: it stays
    assert await subs.get(sid) is not None


async def test_release_deletes_only_a_reserved_subscription(ledger: Ledger) -> None:
    org = (await ledger.organizations.for_tenant(TENANT))["id"]
    doc = await ledger.subscriptions.reserve(_record(org))
    assert await ledger.subscriptions.release(org, doc["id"]) is True
    assert await ledger.subscriptions.get(doc["id"]) is None
    assert await ledger.subscriptions.release(org, doc["id"]) is False  # again: nothing to do


async def test_racing_reports_of_an_unknown_cluster_file_one_subscription(ledger: Ledger, store: Store) -> None:
    org = (await ledger.organizations.for_tenant(TENANT))["id"]
    external = "33333333-3333-4333-8333-333333333333"
    await asyncio.gather(*(ledger.subscriptions.ingest(org, external, {"health_state": "healthy"}) for _ in range(8)))
    [doc] = await all_subscriptions(store)
    assert doc["subscription"]["provenance"] == "Telemetry" and doc["subscription"]["status"] == "Active"
    assert doc["subscription"]["last_telemetry_date"] and doc["subscription"]["metrics"] == [
        {"health_state": "healthy"}
    ]

    # the cluster's own subscription learns the id later: it takes the unsubscribed one's place
    mine = await ledger.subscriptions.reserve(_record(org))
    await ledger.subscriptions.set_external_id(org, mine["id"], external)
    [only] = await all_subscriptions(store)
    assert only["id"] == mine["id"] and only["subscription"]["provenance"] == "Provisioning"


async def test_sweep_ages_silent_subscriptions_and_a_report_wins_the_race(ledger: Ledger, store: Store) -> None:
    org = (await ledger.organizations.for_tenant(TENANT))["id"]
    subs = ledger.subscriptions
    quiet = await subs.reserve(_record(org, "3QUIETAAAAAAAAAAAAAAAAAAAAA"))
    await subs.activate(org, quiet["id"])
    reserved = await subs.reserve(_record(org, "4RESERVEDAAAAAAAAAAAAAAAAAA"))
    now = time.time()
    assert await subs.sweep(now + 10, stale_after=5, archive_after=60) == (1, 0)
    assert (await subs.get(quiet["id"]))["subscription"]["status"] == "Stale"  # type: ignore[index]
    assert (await subs.get(reserved["id"]))["subscription"]["status"] == "Reserved"  # type: ignore[index]
    assert await subs.sweep(now + 100, stale_after=5, archive_after=60) == (0, 1)
    assert (await subs.get(quiet["id"]))["subscription"]["status"] == "Archived"  # type: ignore[index]

    # a report that lands between the sweep's query and its write wins: the write is conditional
    await subs.update(org, quiet["id"], lambda d: d["subscription"].update(status="Active") or True)
    container = store.container(LEDGER_SUBSCRIPTIONS.name)
    real_query = container.query

    async def query_then_report(q: Query, **kw: Any) -> list[dict[str, Any]]:
        found = await real_query(q, **kw)
        if found:
            await subs.update(org, quiet["id"], lambda d: d.update(heartbeat="9999") or True)  # a fresh report
        return found

    container.query = query_then_report  # type: ignore[method-assign]
    try:
        assert (await subs.sweep(now + 1000, stale_after=5, archive_after=60))[0] == 0
    finally:
        container.query = real_query  # type: ignore[method-assign]
    assert (await subs.get(quiet["id"]))["subscription"]["status"] == "Active"  # type: ignore[index]


async def test_an_unknown_clusters_subscription_ages_even_if_its_report_never_lands(
    ledger: Ledger, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The subscription a report of an unknown cluster files carries its heartbeat from the start: a crash
    between its creation and the report's write leaves one that still goes Stale. And an organization has at
    most MAX_UNSUBSCRIBED live ones: past that a report is refused (429), nothing filed."""
    org = (await ledger.organizations.for_tenant(TENANT))["id"]
    subs = ledger.subscriptions
    await subs._unsubscribed(org, "55555555-5555-4555-8555-555555555555", {})  # ... and the process dies
    assert await subs.sweep(time.time() + 10, stale_after=5, archive_after=60) == (1, 0)

    monkeypatch.setattr(subscriptions_module, "MAX_UNSUBSCRIBED", 2)
    await subs.ingest(org, "66666666-6666-4666-8666-666666666666", {})
    with pytest.raises(LedgerError) as refused:
        await subs.ingest(org, "77777777-7777-4777-8777-777777777777", {})
    assert refused.value.status == 429 and len(await all_subscriptions(store)) == 2
    await subs.ingest(org, "66666666-6666-4666-8666-666666666666", {})  # a known one still reports


# --- the steps ---------------------------------------------------------------------------------------------


@dataclass
class Ctx:
    """A step context as the backend builds one: the hub as persisted, a lease-checked save (here: kept in
    memory; ``crash_after_save`` raises once the save is done, as a worker killed right after it)."""

    hub: OpenShiftCluster
    env: StepEnv
    saves: int = 0
    crash_after_save: bool = False

    async def update(self, mutate: Any) -> None:
        new = self.hub.copy_deep()
        mutate(new)
        self.hub = new
        self.saves += 1
        if self.crash_after_save:
            self.crash_after_save = False
            raise ConnectionError("killed after the save")


async def test_a_resumed_reserve_never_makes_a_second_subscription(ledger: Ledger, store: Store) -> None:
    steps = ClusterLedger(CLASSIC_PLAN, lambda h: h.properties.cluster_id, lambda h: "", lambda h: "", _no_api)
    reserve = steps.reserve("test.ledger_reserve").fn
    hub = OpenShiftCluster(
        id=f"/subscriptions/{AZURE_SUB}/resourceGroups/rg/providers/Microsoft.RedHatOpenShift/openShiftClusters/demo",
        name="demo",
        location="eastus",
        system_data=SystemData(created_by="alice@example.com"),
    )
    ctx = Ctx(hub, StepEnv(store, None, Timeouts(), ledger=ledger), crash_after_save=True)  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await reserve(ctx)  # the ids are persisted, then the worker dies before the subscription is written
    assert await all_subscriptions(store) == []
    ref = ctx.hub.properties.ledger
    assert ref is not None and ref.subscription_id

    await reserve(ctx)  # the takeover runs the step again
    await reserve(ctx)  # and once more (a crash after the write, before the step was recorded as done)
    [doc] = await all_subscriptions(store)
    assert doc["id"] == ref.subscription_id and ctx.saves == 1
    sub = doc["subscription"]
    assert sub["status"] == "Reserved" and sub["display_name"] == "demo" and sub["cluster_id"] == ref.cluster_id
    assert sub["creator"]["username"] == "alice@example.com" and sub["cloud_account_id"] == AZURE_SUB
    org = await ledger.organizations.for_tenant(TENANT)
    assert sub["organization_id"] == org["id"] == ref.organization_id  # the default tenant's (not registered)
    creator = await ledger.accounts.get(sub["creator"]["id"], org["id"])  # the creator link resolves
    assert creator is not None and creator["account"]["username"] == "alice@example.com"

    # every other step is a no-op before reserve, and none runs without a ledger
    bare = Ctx(hub, StepEnv(store, None, Timeouts()))  # type: ignore[arg-type]
    for step in (steps.reserve("a.b"), steps.activate("a.c"), steps.release("a.d"), steps.record_console("a.e")):
        await step.fn(bare)
    assert bare.saves == 0 and len(await all_subscriptions(store)) == 1


async def test_an_account_is_recorded_once_however_many_first_sights_race(ledger: Ledger, store: Store) -> None:
    org = (await ledger.organizations.for_tenant(TENANT))["id"]
    other = (await ledger.organizations.for_tenant("7f1c2d3e-0000-4000-8000-000000000002"))["id"]
    processes = [Accounts(store) for _ in range(10)]  # each with a cache of its own, as separate frontends
    await asyncio.gather(*(a.record(org, "alice@example.com") for a in processes for _ in range(2)))
    await processes[0].record(other, "alice@example.com")  # the same user name in another organization
    await processes[0].record(org, "bad\x00name")  # not a user name: not recorded
    docs = await store.container(LEDGER_ACCOUNTS.name).query(Query(limit=100))
    assert sorted((d["partitionKey"], d["account"]["username"]) for d in docs) == sorted(
        [(org, "alice@example.com"), (other, "alice@example.com")]
    )
    mine = await ledger.accounts.get(account_id(org, "alice@example.com"))
    assert mine is not None and mine["account"]["organization"]["id"] == org
    assert mine["account"]["email"] == "alice@example.com"
    assert account_id(org, "alice@example.com") != account_id(other, "alice@example.com")
    assert await ledger.accounts.get(account_id(org, "alice@example.com"), other) is None


async def _no_api(ctx: Any) -> Any:
    raise AssertionError("no cluster API in this test")


async def test_a_label_write_checks_the_label_it_changes(ledger: Ledger, store: Store) -> None:
    """The authorization of a label write runs on the label as the conditional write reads it: one that an SRE
    made internal between a member's check and the member's write is refused, and nothing is changed; a
    label deleted meanwhile is created again (not a 500)."""
    org = (await ledger.organizations.for_tenant(TENANT))["id"]
    sub = (await ledger.subscriptions.reserve(_record(org)))["id"]
    labels, kind = ledger.labels, OwnerType.SUBSCRIPTION
    await labels.put(kind, sub, org, "team", "blue", internal=False)

    def member(current: dict[str, Any]) -> None:
        if current["label"]["internal"]:
            raise LedgerError(403, "Only an SRE may change an internal label")

    replace = labels.container.replace
    meddled: list[str] = []

    async def sre_first(doc: dict[str, Any]) -> dict[str, Any]:  # the SRE's write lands in the window
        if not meddled:
            meddled.append("internal")
            await labels.put(kind, sub, org, "team", "sre-value", internal=True)
        return await replace(doc)

    labels.container.replace = sre_first  # type: ignore[method-assign]
    try:
        with pytest.raises(LedgerError) as refused:
            await labels.put(kind, sub, org, "team", "member-value", internal=False, may_change=member)
    finally:
        del labels.container.replace  # type: ignore[method-assign]
    assert refused.value.status == 403 and meddled == ["internal"]
    kept = await labels.get(kind, sub, org, "team")
    assert kept is not None and (kept["label"]["value"], kept["label"]["internal"]) == ("sre-value", True)

    async def deleted_first(doc: dict[str, Any]) -> dict[str, Any]:
        if "deleted" not in meddled:
            meddled.append("deleted")
            await labels.delete(kind, sub, org, "team")
        return await replace(doc)

    labels.container.replace = deleted_first  # type: ignore[method-assign]
    try:
        doc, created = await labels.put(kind, sub, org, "team", "again", internal=True)
    finally:
        del labels.container.replace  # type: ignore[method-assign]
    assert created and doc["label"]["value"] == "again" and "deleted" in meddled


async def test_only_internal_cluster_labels_are_capabilities(ledger: Ledger) -> None:
    org = (await ledger.organizations.for_tenant(TENANT))["id"]
    for capability in list(await ledger.labels.capabilities(org)):
        await ledger.labels.delete(OwnerType.ORGANIZATION, org, org, capability)
    sub = (await ledger.subscriptions.reserve(_record(org)))["id"]
    autoscale = "capability.cluster.autoscale_clusters"
    await ledger.labels.put(OwnerType.SUBSCRIPTION, sub, org, autoscale, "true", internal=False)
    assert await ledger.labels.capabilities(org, sub) == frozenset()  # a member's label: no capability
    await ledger.labels.put(OwnerType.SUBSCRIPTION, sub, org, autoscale, "true", internal=True)
    assert await ledger.labels.capabilities(org, sub) == frozenset({autoscale})


async def test_a_released_subscription_takes_its_labels(ledger: Ledger, store: Store) -> None:
    steps = ClusterLedger(CLASSIC_PLAN, lambda h: "", lambda h: "", lambda h: "", _no_api)
    hub = OpenShiftCluster(
        id=f"/subscriptions/{AZURE_SUB}/resourceGroups/rg/providers/Microsoft.RedHatOpenShift/openShiftClusters/gone",
        name="gone",
        location="eastus",
    )
    ctx = Ctx(hub, StepEnv(store, None, Timeouts(), ledger=ledger))  # type: ignore[arg-type]
    await steps.reserve("t.reserve").fn(ctx)
    ref = ctx.hub.properties.ledger
    assert ref is not None
    for key in ("a", "b"):
        await ledger.labels.put(OwnerType.SUBSCRIPTION, ref.subscription_id, ref.organization_id, key, "x", False)
    await ledger.subscriptions.release(ref.organization_id, ref.subscription_id)  # a crash after this line...
    await steps.release("t.release").fn(ctx)  # ...and the step runs again
    assert await ledger.labels.list(OwnerType.SUBSCRIPTION, ref.subscription_id, ref.organization_id) == []
