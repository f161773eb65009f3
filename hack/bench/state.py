"""The RP's state, read from the outside through the store's public API: ``SQLiteStore`` opened on the
data directory's ``aro.db`` next to the running server (WAL: its reads never block the server's writes).
This is the only bench module that knows the store, the layout of a cluster document and the cluster
codec; the scenarios see ``Cluster`` views and ``Counts``.

``RPState`` is a synchronous reader for the (synchronous) scenarios, with its own event loop;
``seed_clusters`` writes copies of an installed cluster with ``container.create``; ``seed_ledger`` writes the
account ledger's organizations, subscriptions, labels and accounts through the ledger's own API
(``aro.ledger``), which knows its documents.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.backend.helpers import SUB

from aro.database.containers import ALL, partition_of
from aro.database.sqlite import SQLiteStore
from aro.util.crypto import Sealer, load_or_create_key

T = TypeVar("T")
Doc = dict[str, Any]

CLUSTERS = "openShiftClusters"  # the container of the cluster documents
TERMINAL_STATES = frozenset({"Succeeded", "Failed", "Canceled"})
PAGE_SIZE = 1000  # list_page size when reading a whole subscription
SEED_IN_FLIGHT = 100  # container.create calls awaited together when seeding
LEDGER_IN_FLIGHT = 200  # subscriptions seeded together (each its reserve, then its updates, in order)
LEDGER_USERS = 10  # accounts per organization: user-0 .. user-9, the subscriptions' creators


def _store(data_dir: Path) -> SQLiteStore:
    return SQLiteStore(data_dir / "aro.db", ALL)


@dataclass(frozen=True)
class Step:
    """One run of one install step (``properties.install.history``)."""

    step: str
    owner: str  # the lease owner that ran it
    started: float
    ended: float | None


@dataclass(frozen=True)
class Cluster:
    """What the scenarios read of one cluster document."""

    name: str  # lower case: the last segment of the document key
    state: str  # provisioningState
    lease_owner: str | None
    lease_expires: float
    current_step: str | None  # the install step running now, if any
    history: tuple[Doc, ...] = field(repr=False)  # raw step records: ``steps`` parses them when asked

    @property
    def steps(self) -> tuple[Step, ...]:
        """The stored step history of the latest operation."""
        return tuple(
            Step(str(r.get("step")), str(r["owner"]), float(r["started"]), r.get("ended")) for r in self.history
        )

    @classmethod
    def of(cls, doc: Doc) -> Cluster:
        props = doc.get("openShiftCluster", {}).get("properties", {})
        install = props.get("install") or {}
        return cls(
            name=str(doc["key"]).rsplit("/", 1)[-1],
            state=str(props.get("provisioningState")),
            lease_owner=doc.get("leaseOwner") or None,
            lease_expires=float(doc.get("leaseExpires") or 0),
            current_step=install.get("currentStep") or None,
            history=tuple(install.get("history") or ()),
        )

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def leased(self, now: float) -> bool:
        return self.lease_owner is not None and self.lease_expires > now

    def span(self) -> tuple[float, float]:
        """(start of the first step, end -- or start, if it never ended -- of the last) of the install."""
        steps = self.steps
        return min(s.started for s in steps), max(s.ended or s.started for s in steps)


@dataclass(frozen=True)
class Counts:
    documents: int
    terminal: int
    leased: int  # leased now


class RPState:
    """Read-only view of one RP data directory. The store is opened on first use (the file exists once a
    server has started on it) and closed by ``close`` (or ``with``)."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._runner: asyncio.Runner | None = None
        self._store: SQLiteStore | None = None

    def __enter__(self) -> RPState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(coro)

    async def _docs(self, partition: str) -> list[Doc]:
        if self._store is None:
            self._store = await _store(self.data_dir).open()
        container = self._store.container(CLUSTERS)
        docs: list[Doc] = []
        continuation: str | None = None
        while True:
            page = await container.list_page(partition_key=partition, continuation=continuation, max_items=PAGE_SIZE)
            docs += page.items
            continuation = page.continuation
            if continuation is None:
                return docs

    def clusters(self, subscription: str = SUB) -> dict[str, Cluster]:
        """name (lower case) -> cluster, every cluster of ``subscription``."""
        docs = self._run(self._docs(partition_of(subscription)))
        return {c.name: c for c in map(Cluster.of, docs)}

    def counts(self, subscription: str = SUB) -> Counts:
        clusters = self.clusters(subscription).values()
        now = time.time()
        return Counts(
            documents=len(clusters),
            terminal=sum(c.terminal for c in clusters),
            leased=sum(c.leased(now) for c in clusters),
        )

    def close(self) -> None:
        if self._runner is None:
            return
        if self._store is not None:
            self._runner.run(self._store.close())
            self._store = None
        self._runner.close()
        self._runner = None


def seed_clusters(data_dir: Path, template_id: str, subscription: str, ids: Sequence[str]) -> tuple[float, str]:
    """Write a Succeeded cluster for every resource id in ``ids`` (all in ``subscription``): copies of the
    installed cluster ``template_id``, each encoded by the cluster codec (secrets sealed to its own key),
    stored with ``container.create``, SEED_IN_FLIGHT calls at a time. Run it while no server is on the
    data directory. Returns (seconds, how)."""
    return asyncio.run(_seed(data_dir, template_id, subscription, ids))


async def _seed(data_dir: Path, template_id: str, subscription: str, ids: Sequence[str]) -> tuple[float, str]:
    # the one import of the document codec in the bench; here, so that if it moves only the list scenario
    # breaks (reported as its error), not the whole run
    from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
    from aro.database.codec import SealedCodec

    started = time.perf_counter()
    codec = SealedCodec.of(OPENSHIFT_CLUSTERS, Sealer(load_or_create_key(data_dir / "secret.key")))
    store = await _store(data_dir).open()
    try:
        clusters = store.container(CLUSTERS)
        template = await clusters.get_by_key(template_id.lower())
        assert template is not None, f"template cluster {template_id} missing"
        oc = codec.decode(template)
        assert oc.properties.provisioning_state.value == "Succeeded"
        partition = partition_of(subscription)

        def make(resource_id: str) -> Doc:
            name = resource_id.rsplit("/", 1)[-1]
            oc.id = resource_id
            oc.name = name
            oc.properties.cluster_profile.resource_group_id = f"/subscriptions/{subscription}/resourceGroups/aro-{name}"
            oc.properties.cluster_profile.domain = name + "dom"
            doc = {
                "id": str(uuid.uuid4()),
                "partitionKey": partition,
                "key": resource_id.lower(),
                "asyncOperationId": None,
                "dequeues": 0,
            }
            return codec.encode(doc, oc)

        for chunk in range(0, len(ids), SEED_IN_FLIGHT):
            docs = [make(i) for i in ids[chunk : chunk + SEED_IN_FLIGHT]]
            await asyncio.gather(*(clusters.create(d) for d in docs))
    finally:
        await store.close()
    how = f"container.create, {SEED_IN_FLIGHT} in flight, + {SealedCodec.__name__}.encode"
    return time.perf_counter() - started, how


@dataclass(frozen=True)
class LedgerSeed:
    """What ``seed_ledger`` wrote."""

    seconds: float
    how: str
    tenants: list[str]  # the organizations' Azure tenants, organization k's is tenants[k]
    organization_ids: list[str]
    subscription_ids: list[str]
    records: list[tuple[int, str, str, str]]  # per subscription: (organization k, status, plan category, name)
    statuses: dict[str, int]
    plans: dict[str, int]  # by plan category
    labelled: int  # subscriptions with labels
    labels: int  # subscription labels written
    accounts: int


def ledger_tenant(k: int) -> str:
    """The Azure tenant of the ledger scenario's organization ``k``."""
    return f"{k:08x}-1ed9-4000-8000-{k:012x}"


def seed_ledger(data_dir: Path, n: int, organizations: int) -> LedgerSeed:
    """Seed the account ledger of a stopped RP's data directory through ``aro.ledger``: ``organizations``
    organizations (one per tenant, ``ledger_tenant(k)``, each with the default capability labels), LEDGER_USERS
    accounts in each, and ``n`` subscriptions spread over them, named ``cluster-00042``:

    - status by i % 10: 0-6 ``Active`` (reserve, set_external_id, activate), 7-8 ``Reserved`` (reserve only),
      9 ``Stale`` (active, then ``update`` to Stale);
    - organization (i // 10) % organizations: each block of ten, all statuses, goes to one organization;
    - plan OCP-ARO-HCP (hosted) for one of each ten, else OCP-ARO, and labels ``team`` and ``env``
      (``Labels.put``) on another one of each ten: each slot moves with the block, across the statuses;
    - creator ``user-{i % LEDGER_USERS}`` (recorded as an account, as the reserve step does).

    LEDGER_IN_FLIGHT subscriptions at a time. Run it while no server is on the data directory."""
    return asyncio.run(_seed_ledger(data_dir, n, organizations))


async def _seed_ledger(data_dir: Path, n: int, organizations: int) -> LedgerSeed:
    # here, as the codec in _seed: if the ledger's API moves only the ledger scenario breaks
    from aro.ledger.ids import new_id
    from aro.ledger.model import CLASSIC_PLAN, HOSTED_PLAN, OwnerType, Status
    from aro.ledger.service import Ledger, LedgerSettings
    from aro.ledger.subscriptions import ClusterRecord

    started = time.perf_counter()
    rng = random.Random(42)
    store = await _store(data_dir).open()
    try:
        ledger = Ledger(store, Sealer(load_or_create_key(data_dir / "secret.key")), LedgerSettings())
        tenants = [ledger_tenant(k) for k in range(organizations)]
        orgs = [(await ledger.organizations.for_tenant(t))["id"] for t in tenants]
        accounts = [(org, f"user-{u}") for org in orgs for u in range(LEDGER_USERS)]
        for chunk in range(0, len(accounts), LEDGER_IN_FLIGHT):
            await asyncio.gather(*(ledger.accounts.record(o, u) for o, u in accounts[chunk : chunk + LEDGER_IN_FLIGHT]))
        subs = ledger.subscriptions
        statuses: dict[str, int] = {}
        plans: dict[str, int] = {}
        labels = 0
        records: list[tuple[int, str, str, str]] = [(0, "", "", "")] * n

        async def one(i: int, sub_id: str) -> None:
            nonlocal labels
            block = i // 10
            k = block % organizations
            org, azure_sub = orgs[k], str(uuid.UUID(int=rng.getrandbits(128), version=4))
            name = f"cluster-{i:05d}"
            plan = HOSTED_PLAN if (i + block) % 10 == 0 else CLASSIC_PLAN
            kind = "hcpOpenShiftClusters" if plan is HOSTED_PLAN else "openShiftClusters"
            await subs.reserve(
                ClusterRecord(
                    subscription_id=sub_id,
                    organization_id=org,
                    cluster_id=uuid.UUID(int=rng.getrandbits(128)).hex,
                    display_name=name,
                    plan=plan,
                    resource_id=f"/subscriptions/{azure_sub}/resourceGroups/rg-{name}/providers/"
                    f"Microsoft.RedHatOpenShift/{kind}/{name}",
                    azure_subscription_id=azure_sub,
                    region=("eastus", "westeurope", "australiaeast")[i % 3],
                    creator=f"user-{i % LEDGER_USERS}",
                )
            )
            status = Status.RESERVED
            if i % 10 not in (7, 8):
                await subs.set_external_id(org, sub_id, str(uuid.UUID(int=rng.getrandbits(128), version=4)))
                await subs.activate(org, sub_id)
                status = Status.ACTIVE
            if i % 10 == 9:

                def stale(doc: Doc) -> bool:
                    doc["subscription"]["status"] = Status.STALE.value
                    return True

                await subs.update(org, sub_id, stale)
                status = Status.STALE
            if (i + 3 * block) % 10 == 5:
                await ledger.labels.put(OwnerType.SUBSCRIPTION, sub_id, org, "team", f"team-{i % 7}", internal=False)
                await ledger.labels.put(OwnerType.SUBSCRIPTION, sub_id, org, "env", "prod", internal=False)
                labels += 2
            statuses[status.value] = statuses.get(status.value, 0) + 1
            plans[plan.category] = plans.get(plan.category, 0) + 1
            records[i] = (k, status.value, plan.category, name)

        ids = [new_id() for _ in range(n)]
        for chunk in range(0, n, LEDGER_IN_FLIGHT):
            await asyncio.gather(*(one(i, ids[i]) for i in range(chunk, min(n, chunk + LEDGER_IN_FLIGHT))))
    finally:
        await store.close()
    how = (
        f"aro.ledger: Organizations.for_tenant, Accounts.record, Subscriptions.reserve / set_external_id / activate "
        f"/ update, Labels.put; {LEDGER_IN_FLIGHT} subscriptions in flight"
    )
    return LedgerSeed(
        seconds=time.perf_counter() - started,
        how=how,
        tenants=tenants,
        organization_ids=orgs,
        subscription_ids=ids,
        records=records,
        statuses=statuses,
        plans=plans,
        labelled=labels // 2,
        labels=labels,
        accounts=len(accounts),
    )
