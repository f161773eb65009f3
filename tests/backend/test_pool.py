"""The worker pool against a real SQLite store: lost leases cancel work, shutdown releases leases,
local writes wake the pool at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from aro.backend.pool import Handler, WorkerPool
from aro.backend.work import Work
from aro.database.sqlite import SQLiteStore
from aro.env.config import BackendConfig
from tests.database.targets import CONTAINERS, ITEMS


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
