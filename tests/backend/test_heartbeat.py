"""The heartbeat: renewals keep a work item's lease; when they stop succeeding (a failing store, a renewal
that hangs) the work is cancelled while the lease it last renewed still holds, so no step runs on once
another backend may have taken the item over; a renewal that finds another operation gives the item back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from aro.backend.pool import Handler, WorkerPool
from aro.backend.work import Work, lease_limit
from aro.database import Container, Doc, StoreError
from aro.database.sqlite import SQLiteStore
from aro.env.config import BackendConfig
from tests.database.targets import CONTAINERS, ITEMS
from tests.fixtures.store import StoreWrapper

Renew = Callable[[Container, Doc, str, float], Awaitable[Doc]]


class FaultyStore(StoreWrapper):
    """The store, with ``renew`` in place of its containers' ``renew_lease`` (counting the calls)."""

    def __init__(self, store: SQLiteStore, renew: Renew) -> None:
        super().__init__(store)
        self.renew = renew
        self.renewals = 0

    def container(self, name: str) -> Container:
        inner = self.store.container(name)
        outer = self

        class Faulty:
            def __getattr__(self, attr: str) -> Any:
                return getattr(inner, attr)

            async def renew_lease(self, doc: Doc, owner: str, lease_seconds: float) -> Doc:
                outer.renewals += 1
                return await outer.renew(inner, doc, owner, lease_seconds)

        return Faulty()  # type: ignore[return-value]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = await SQLiteStore(tmp_path / "heartbeat.db", CONTAINERS).open()
    yield s
    await s.close()


LEASE, HEARTBEAT = 2.0, 0.25


def config() -> BackendConfig:
    return BackendConfig(
        workers=5, lease_seconds=LEASE, heartbeat_seconds=HEARTBEAT, poll_seconds=0.2, shutdown_seconds=0.5
    )


class Run:
    """One item, run by a pool over ``store`` with a handler that sleeps ``seconds`` and then ends it (what
    happens to the first claim is recorded; a later claim of the item just waits to be stopped)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = asyncio.Event()
        self.finished = asyncio.Event()
        self.work: Work | None = None
        self.cancelled_at: tuple[float, float] | None = None  # (monotonic, wall clock)

    async def handle(self, work: Work, stopping: Callable[[], bool]) -> None:
        if self.work is not None:
            await asyncio.sleep(60)
            return
        self.work = work
        self.started.set()
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled_at = (time.monotonic(), time.time())
            self.finished.set()
            raise
        await work.end(lambda d: d.update(state="Succeeded"))
        self.finished.set()

    async def start(self, store: Any, items: Container) -> WorkerPool:
        await items.create({"id": "1", "partitionKey": "p", "key": "k", "state": "Creating"})
        pool = WorkerPool(store, config(), [Handler(ITEMS.name, self.handle)])
        await pool.start()
        await asyncio.wait_for(self.started.wait(), 5)
        return pool


async def failing(inner: Container, doc: Doc, owner: str, lease_seconds: float) -> Doc:
    raise StoreError("store unavailable (injected)")


async def hanging(inner: Container, doc: Doc, owner: str, lease_seconds: float) -> Doc:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.mark.parametrize("renew", [failing, hanging], ids=["failing", "hanging"])
async def test_work_is_cancelled_while_its_lease_still_holds_when_renewals_stop(
    store: SQLiteStore, renew: Renew
) -> None:
    faulty = FaultyStore(store, renew)
    run = Run(60)
    items = store.container(ITEMS.name)
    pool = await run.start(faulty, items)
    await asyncio.wait_for(run.finished.wait(), LEASE * 3)  # without the limit: runs on for 60 s
    assert run.work is not None and run.cancelled_at is not None
    doc = await items.get("p", "1")
    assert doc is not None and doc["leaseOwner"] == run.work.owner, "nobody else has it (yet)"
    cancelled_mono, cancelled_wall = run.cancelled_at
    assert cancelled_wall < doc["leaseExpires"], "the work must stop before the lease it holds can run out"
    ran = cancelled_mono - run.work.renewed_at
    assert ran >= lease_limit(LEASE, HEARTBEAT) - 0.05, f"cancelled after {ran:.2f}s: before the limit"
    if renew is failing:
        assert faulty.renewals >= 3, "failed renewals are retried until the limit"
    await pool.stop()
    assert pool.stats.lost_leases == 1 and pool.stats.failed == 0
    assert run.work.lost


async def test_renewals_keep_work_running_past_the_lease(store: SQLiteStore) -> None:
    failures = 2

    async def flaky(inner: Container, doc: Doc, owner: str, lease_seconds: float) -> Doc:
        nonlocal failures
        if failures:  # a hiccup, then the store answers again
            failures -= 1
            raise StoreError("store hiccup (injected)")
        return await inner.renew_lease(doc, owner, lease_seconds)

    faulty = FaultyStore(store, flaky)
    run = Run(LEASE * 2)
    items = store.container(ITEMS.name)
    pool = await run.start(faulty, items)
    await asyncio.wait_for(run.finished.wait(), LEASE * 5)
    assert run.cancelled_at is None, "renewed work must not be cancelled"
    await pool.stop()
    assert pool.stats.lost_leases == 0 and faulty.renewals >= 6
    doc = await items.get("p", "1")
    assert doc is not None and doc["state"] == "Succeeded" and not doc.get("leaseOwner")


async def test_a_renewal_that_finds_another_operation_gives_the_item_back(store: SQLiteStore) -> None:
    run = Run(60)
    items = store.container(ITEMS.name)
    await items.create({"id": "1", "partitionKey": "p", "key": "k", "state": "Creating", "asyncOperationId": "op1"})
    pool = WorkerPool(store, config(), [Handler(ITEMS.name, run.handle)])
    await pool.start()
    await asyncio.wait_for(run.started.wait(), 5)
    doc = await items.get("p", "1")
    assert doc is not None
    await items.replace({**doc, "asyncOperationId": "op2"})  # e.g. a delete accepted meanwhile
    await asyncio.wait_for(run.finished.wait(), LEASE)  # at the next heartbeat, not after 60 s
    assert run.work is not None and not run.work.lost and run.work.superseded
    deadline = time.monotonic() + 5
    while (doc := await items.get("p", "1")) is not None and doc.get("leaseOwner") == run.work.owner:
        assert time.monotonic() < deadline, "the superseded item was not given back"
        await asyncio.sleep(0.02)
    assert doc is not None and doc["asyncOperationId"] == "op2" and doc["state"] == "Creating"
    await pool.stop()
    assert pool.stats.lost_leases == 0 and pool.stats.claimed >= 1


def test_the_limit_leaves_a_margin_and_at_least_half_the_lease() -> None:
    assert lease_limit(30, 5) == 25
    assert lease_limit(2, 0.25) == 1.75
    assert lease_limit(10, 20) == 5  # a heartbeat slower than the lease: still half of it
