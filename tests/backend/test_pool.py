"""The worker pool against a real SQLite store: lost leases cancel work, shutdown releases leases,
local writes wake the pool at once, claims come in batches."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from aro.backend.pool import CLAIM_BATCH, Handler, WorkerPool
from aro.backend.work import Work
from aro.database import Container, Doc
from aro.database.sqlite import SQLiteStore
from aro.env.config import BackendConfig
from tests.database.targets import CONTAINERS, ITEMS
from tests.fixtures.store import StoreWrapper


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = await SQLiteStore(tmp_path / "pool.db", CONTAINERS).open()
    yield s
    await s.close()


def config(**kw: float) -> BackendConfig:
    base = {"workers": 10, "lease_seconds": 2.0, "heartbeat_seconds": 0.1, "poll_seconds": 5.0, "shutdown_seconds": 1.0}
    return BackendConfig(**{**base, **kw})  # type: ignore[arg-type]


async def test_local_write_wakes_the_pool_at_once(store: SQLiteStore) -> None:
    done = asyncio.Event()

    async def handle(work: Work, stopping: Callable[[], bool]) -> None:
        await work.end(lambda d: d.update(state="Succeeded"))
        done.set()

    pool = WorkerPool(store, config(poll_seconds=30), [Handler(ITEMS.name, handle)])
    await pool.start()
    await pool.polling.wait()
    started = time.monotonic()
    await store.container(ITEMS.name).create({"id": "1", "partitionKey": "p", "key": "k", "state": "Creating"})
    await asyncio.wait_for(done.wait(), 5)
    assert time.monotonic() - started < 1, "picked up by the 30 s poll rather than the wake-up"
    await pool.stop()


async def test_lost_lease_cancels_the_work(store: SQLiteStore) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def handle(work: Work, stopping: Callable[[], bool]) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    items = store.container(ITEMS.name)
    await items.create({"id": "1", "partitionKey": "p", "key": "k", "state": "Creating"})
    pool = WorkerPool(store, config(), [Handler(ITEMS.name, handle)])
    await pool.start()
    await asyncio.wait_for(started.wait(), 5)
    doc = await items.get("p", "1")
    assert doc is not None
    await items.replace({**doc, "leaseOwner": "someone-else"})  # the lease is taken away
    await asyncio.wait_for(cancelled.wait(), 2)  # within a heartbeat or two
    await pool.stop()
    assert pool.stats.lost_leases == 1


async def test_shutdown_lets_steps_finish_then_releases_the_rest(store: SQLiteStore) -> None:
    polite_done = asyncio.Event()

    async def handle(work: Work, stopping: Callable[[], bool]) -> None:
        if work.doc["key"] == "polite":  # reaches a step boundary and gives the item back
            while not stopping():  # noqa: ASYNC110 - the pool's stopping flag is a plain callable
                await asyncio.sleep(0.01)
            await work.end(lambda d: None)
            polite_done.set()
            return
        await asyncio.sleep(60)  # stuck: cancelled after shutdown_seconds

    items = store.container(ITEMS.name)
    for key in ("polite", "stuck"):
        await items.create({"id": key, "partitionKey": "p", "key": key, "state": "Creating"})
    pool = WorkerPool(store, config(shutdown_seconds=0.3), [Handler(ITEMS.name, handle)])
    await pool.start()
    while pool.stats.running < 2:  # noqa: ASYNC110 - polling a counter of the pool under test
        await asyncio.sleep(0.01)
    await pool.stop()
    assert polite_done.is_set()
    for key in ("polite", "stuck"):
        doc = await items.get("p", key)
        assert doc is not None and not doc.get("leaseOwner"), f"{key}: lease not released"
        assert doc["state"] == "Creating"
    claimed = await items.dequeue("next", 10)
    assert claimed is not None, "released work is claimable again at once"


class CountingStore(StoreWrapper):
    """The store, counting the claim round trips of its containers (and how many owners each offered)."""

    def __init__(self, store: SQLiteStore) -> None:
        super().__init__(store)
        self.batches: list[int] = []

    def container(self, name: str) -> Container:
        inner = self.store.container(name)
        outer = self

        class Counting:
            def __getattr__(self, attr: str) -> Any:
                return getattr(inner, attr)

            async def dequeue(self, owner: str, lease_seconds: float) -> Doc | None:
                outer.batches.append(1)
                return await inner.dequeue(owner, lease_seconds)

            async def dequeue_many(self, owners: Sequence[str], lease_seconds: float) -> list[Doc]:
                outer.batches.append(len(owners))
                return await inner.dequeue_many(owners, lease_seconds)

        return Counting()  # type: ignore[return-value]


async def test_claims_come_in_batches_up_to_the_free_workers(store: SQLiteStore) -> None:
    release = asyncio.Event()
    running: list[Work] = []

    async def handle(work: Work, stopping: Callable[[], bool]) -> None:
        running.append(work)
        await release.wait()
        await work.end(lambda d: d.update(state="Succeeded"))

    items = store.container(ITEMS.name)
    for i in range(400):
        await items.create({"id": str(i), "partitionKey": "p", "key": f"k{i}", "state": "Creating"})
    counting = CountingStore(store)
    pool = WorkerPool(counting, config(workers=300, poll_seconds=30), [Handler(ITEMS.name, handle)])
    started = time.monotonic()
    await pool.start()
    while len(running) < 300:
        assert time.monotonic() - started < 10, f"only {len(running)} of 300 running"
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    assert len(running) == 300 and pool.stats.running == 300, "no more than backend.workers at once"
    # 300 claims in ceil(300 / CLAIM_BATCH) round trips, none asking for more than the free workers
    assert len(counting.batches) == -(-300 // CLAIM_BATCH), counting.batches
    assert max(counting.batches) == CLAIM_BATCH and sum(counting.batches) == 300
    owners = [w.owner for w in running]
    assert len(set(owners)) == 300, "every claim has a lease owner of its own"
    prefix = re.escape(f"{socket.gethostname()}-{os.getpid()}-")
    assert all(re.fullmatch(prefix + "[0-9a-f]{6}-[0-9a-f]{8}", o) for o in owners), owners[:3]
    for work in running:
        doc = await items.get("p", work.doc["id"])
        assert doc is not None and doc["leaseOwner"] == work.owner
    release.set()
    deadline = time.monotonic() + 30
    while sum(1 for d in (await items.list_page(max_items=500)).items if d["state"] == "Succeeded") < 400:
        assert time.monotonic() < deadline, "the rest was not claimed as workers freed up"
        await asyncio.sleep(0.05)
    await pool.stop()
    assert pool.stats.claimed == 400 and pool.stats.lost_leases == 0
