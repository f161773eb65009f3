"""The Store contract, run unchanged against every implementation (see conftest.IMPLEMENTATIONS).

Each case names the property it proves; each fails if that property is broken."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from aro.database import (
    Conflict,
    LostLease,
    NotFound,
    PreconditionFailed,
    Store,
    patch,
    retry_on_precondition_failed,
)
from tests.database.conftest import Target
from tests.database.targets import EXPIRING, ITEMS, dumps

REPO = Path(__file__).resolve().parents[2]


def new(key: str, pk: str = "sub1", **fields: object) -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "partitionKey": pk, "key": key, **fields}


async def test_create_get_replace_delete(store: Store) -> None:
    items = store.container(ITEMS.name)
    created = await items.create(new("/a", value=1))
    assert created["etag"] and created["ts"] > 0
    got = await items.get("sub1", created["id"])
    assert got is not None and got["value"] == 1 and got["etag"] == created["etag"]
    assert (await items.get_by_key("/a"))["id"] == created["id"]  # type: ignore[index]
    assert (await items.get_by_key("/a", "sub1"))["id"] == created["id"]  # type: ignore[index]
    assert await items.get_by_key("/a", "other") is None

    got["value"] = 2
    replaced = await items.replace(got)
    assert replaced["etag"] != created["etag"], "every write must produce a new etag"
    assert (await items.get("sub1", created["id"]))["value"] == 2  # type: ignore[index]

    await items.delete(replaced)
    assert await items.get("sub1", created["id"]) is None
    with pytest.raises(NotFound):
        await items.replace(replaced)


async def test_stale_etag_is_refused_and_changes_nothing(store: Store) -> None:
    items = store.container(ITEMS.name)
    first = await items.create(new("/a", value=1))
    second = await items.replace({**first, "value": 2})
    with pytest.raises(PreconditionFailed):
        await items.replace({**first, "value": 3})
    with pytest.raises(PreconditionFailed):
        await items.delete(first)
    now = await items.get("sub1", first["id"])
    assert now == second, "a refused write must leave the document exactly as it was"


async def test_duplicate_key_or_id_is_a_conflict(store: Store) -> None:
    items = store.container(ITEMS.name)
    doc = await items.create(new("/dup", value=1))
    with pytest.raises(Conflict):
        await items.create(new("/dup", value=2))
    with pytest.raises(Conflict):
        await items.create({**new("/other"), "id": doc["id"]})
    # the same key in another partition is a different document (unique keys are per partition)
    await items.create(new("/dup", pk="sub2"))
    assert (await items.get("sub1", doc["id"]))["value"] == 1  # type: ignore[index]
    assert await items.count(prefix="/dup") == 2


@pytest.mark.parametrize("partition", ["sub1", None], ids=["one-partition", "cross-partition"])
async def test_paging_returns_each_document_exactly_once(store: Store, partition: str | None) -> None:
    items = store.container(ITEMS.name)
    want = set()
    sem = asyncio.Semaphore(32)

    async def add(i: int) -> None:
        pk = "sub1" if partition or i % 2 == 0 else "sub2"
        async with sem:
            doc = await items.create(new(f"/p/{i:05d}", pk=pk))
        if partition is None or pk == partition:
            want.add(doc["id"])

    await asyncio.gather(*(add(i) for i in range(1050)))
    await items.create(new("/q/outside-prefix"))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = await items.list_page(prefix="/p/", partition_key=partition, continuation=token, max_items=100)
        assert len(page.items) <= 100
        seen += [d["id"] for d in page.items]
        pages += 1
        token = page.continuation
        if token is None:
            break
    assert len(seen) == len(set(seen)), "a document was returned twice"
    assert set(seen) == want
    assert pages == -(-len(want) // 100)
    assert await items.count(prefix="/p/", partition_key=partition) == len(want)


async def test_concurrent_claimers_claim_each_document_exactly_once(store: Store) -> None:
    items = store.container(ITEMS.name)
    ids = {(await items.create(new(f"/c/{i}", state="Creating")))["id"] for i in range(200)}
    await items.create(new("/c/done", state="Succeeded"))  # terminal: never claimable
    claims: list[str] = []

    async def claimer(n: int) -> None:
        while (doc := await items.dequeue(f"owner-{n}", 300)) is not None:
            assert doc["leaseOwner"] == f"owner-{n}" and doc["dequeues"] == 1
            claims.append(doc["id"])

    await asyncio.gather(*(claimer(n) for n in range(20)))
    assert sorted(claims) == sorted(ids), "every document claimed exactly once, nothing else claimed"


async def test_claimers_in_several_processes_claim_each_document_once(store: Store, target: Target) -> None:
    items = store.container(ITEMS.name)
    ids = {(await items.create(new(f"/m/{i}", state="Deleting")))["id"] for i in range(200)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.database.claimer",
            dumps(target.spec),
            f"proc{n}",
            "5",
            cwd=REPO,
            stdout=subprocess.PIPE,
        )
        for n in range(3)
    ]
    claims: list[str] = []
    for p in procs:
        out, _ = await asyncio.wait_for(p.communicate(), timeout=120)
        assert p.returncode == 0
        claims += out.decode().split()
    assert sorted(claims) == sorted(ids)


async def test_lease_of_a_cannot_be_renewed_or_ended_by_b(store: Store) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/l", state="Creating"))
    a = await items.dequeue("A", 300)
    assert a is not None
    assert await items.dequeue("B", 300) is None, "a held lease must not be claimable"
    with pytest.raises(LostLease):
        await items.renew_lease(a, "B", 300)
    with pytest.raises(LostLease):
        await items.end_lease({**a, "state": "Succeeded"}, "B")
    with pytest.raises(LostLease):
        await items.replace_with_lease({**a, "value": 1}, "B")
    with pytest.raises(LostLease):
        await items.delete_with_lease(a, "B")
    current = await items.get(a["partitionKey"], a["id"])
    assert current == a, "B's refused writes changed nothing"
    renewed = await items.renew_lease(a, "A", 300)
    assert renewed["leaseExpires"] >= a["leaseExpires"]
    ended = await items.end_lease({**renewed, "state": "Succeeded"}, "A")
    assert not ended.get("leaseOwner") and ended["state"] == "Succeeded"
    assert await items.dequeue("B", 300) is None, "a terminal document is not work"


async def test_expired_lease_is_taken_over_and_old_owner_loses_it(store: Store) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/t", state="Creating"))
    a = await items.dequeue("A", 0.3)
    assert a is not None
    assert await items.dequeue("B", 300) is None
    deadline = time.monotonic() + 10
    b = None
    while b is None and time.monotonic() < deadline:  # waits for the lease to run out, not for a race
        await asyncio.sleep(0.05)
        b = await items.dequeue("B", 300)
    assert b is not None and b["leaseOwner"] == "B" and b["dequeues"] == 2
    with pytest.raises(LostLease):
        await items.replace_with_lease({**a, "value": "from A"}, "A")
    with pytest.raises(LostLease):
        await items.renew_lease(a, "A", 300)
    with pytest.raises(LostLease):
        await items.end_lease({**a, "state": "Succeeded"}, "A")
    assert (await items.get(b["partitionKey"], b["id"])) == b


async def test_lease_checked_write_with_stale_etag_is_precondition_failed(store: Store) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/e", state="Creating"))
    a = await items.dequeue("A", 300)
    assert a is not None
    fresh = await items.replace_with_lease({**a, "step": 1}, "A")
    with pytest.raises(PreconditionFailed):
        await items.replace_with_lease({**a, "step": 2}, "A")
    assert (await items.get(a["partitionKey"], a["id"]))["step"] == 1  # type: ignore[index]
    assert fresh["leaseOwner"] == "A"


async def test_concurrent_increments_through_retry_end_exact(store: Store) -> None:
    items = store.container(ITEMS.name)
    doc = await items.create(new("/counter", n=0))

    def incr(d: dict[str, object]) -> None:
        d["n"] = int(d["n"]) + 1  # type: ignore[call-overload]

    await asyncio.gather(*(patch(items, "sub1", doc["id"], incr) for _ in range(64)))
    assert (await items.get("sub1", doc["id"]))["n"] == 64  # type: ignore[index]


async def test_retry_on_precondition_failed_is_bounded() -> None:
    calls = 0

    async def always_stale() -> None:
        nonlocal calls
        calls += 1
        raise PreconditionFailed("stale")

    with pytest.raises(PreconditionFailed):
        await retry_on_precondition_failed(always_stale, attempts=4, base_delay=0.001)
    assert calls == 4


async def test_ttl_documents_expire(store: Store) -> None:
    expiring = store.container(EXPIRING.name)
    short = await expiring.create({**new("/ttl/short"), "ttl": 1})
    default = await expiring.create(new("/ttl/default"))  # container default: one hour
    assert await expiring.get("sub1", short["id"]) is not None
    deadline = time.monotonic() + 10
    while await expiring.get("sub1", short["id"]) is not None:  # waits for the TTL to pass
        assert time.monotonic() < deadline, "document did not expire"
        await asyncio.sleep(0.1)
    assert await expiring.get_by_key("/ttl/short") is None
    assert [d["id"] for d in (await expiring.list_page(prefix="/ttl/")).items] == [default["id"]]
    await expiring.purge_expired()
    assert await expiring.count(prefix="/ttl/") == 1
    # the key of an expired document can be used again
    await expiring.create({**new("/ttl/short"), "ttl": 60})


async def test_claimable_write_notifies_listeners(store: Store) -> None:
    seen: list[str] = []
    store.on_claimable(seen.append)
    items = store.container(ITEMS.name)
    await items.create(new("/n1", state="Succeeded"))
    assert seen == []
    await items.create(new("/n2", state="Creating"))
    assert seen == [ITEMS.name]
