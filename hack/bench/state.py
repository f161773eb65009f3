"""The RP's state, read from the outside through the store's public API: ``SQLiteStore`` opened on the
data directory's ``aro.db`` next to the running server (WAL: its reads never block the server's writes).
This is the only bench module that knows the store, the layout of a cluster document and the cluster
codec; the scenarios see ``Cluster`` views and ``Counts``.

``RPState`` is a synchronous reader for the (synchronous) scenarios, with its own event loop;
``seed_clusters`` writes copies of an installed cluster with ``container.create``.
"""

from __future__ import annotations

import asyncio
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
