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
    Container,
    LostLease,
    NotFound,
    PreconditionFailed,
    Store,
    StoreError,
    patch,
    retry_on_precondition_failed,
)
from aro.database.query import (
    MAX_DEPTH,
    MAX_LIKE_PARTS,
    MAX_LIMIT,
    And,
    Compare,
    Expr,
    In,
    IsNull,
    Like,
    Not,
    Or,
    Order,
    Query,
)
from tests.database.conftest import Target
from tests.database.targets import CONTAINERS, EXPIRING, ITEMS, dumps

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


@pytest.mark.parametrize("batch", [1, 8], ids=["dequeue", "dequeue_many"])
async def test_claimers_in_several_processes_claim_each_document_once(store: Store, target: Target, batch: int) -> None:
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
            str(batch),
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


LEASE = ("leaseOwner", "leaseExpires", "etag", "ts")


def without_lease(doc: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in doc.items() if k not in LEASE}


async def test_renewal_writes_the_lease_and_nothing_else(store: Store, target: Target) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/r", state="Creating", body={"text": 'é\u2028"x', "n": [0.1, 1e300, 2**70], "none": None}))
    a = await items.dequeue("A", 30)
    assert a is not None
    started = time.time()
    renewed = await items.renew_lease(a, "A", 300)
    assert renewed["leaseOwner"] == "A" and renewed["leaseExpires"] >= started + 300
    assert without_lease(renewed) == without_lease(a), "a renewal writes the lease, nothing else"
    assert await items.get(a["partitionKey"], a["id"]) == renewed, "renew_lease returns the document as stored"
    assert await items.get_by_key("/r") == renewed
    assert [d["id"] for d in (await items.list_page(prefix="/r")).items] == [a["id"]]
    assert (await items.list_page(prefix="/r")).items[0]["leaseExpires"] == renewed["leaseExpires"]
    if target.spec["kind"] == "sqlite":
        # the etag is kept: a write prepared before the renewal goes through, and keeps the renewed lease
        assert renewed["etag"] == a["etag"] and renewed["ts"] == a["ts"]
        saved = await items.replace_with_lease({**a, "step": 1}, "A")
    else:
        # Cosmos DB: a patch is a write (new _etag): the write prepared before the renewal is refused
        assert renewed["etag"] != a["etag"]
        with pytest.raises(PreconditionFailed):
            await items.replace_with_lease({**a, "step": 1}, "A")
        saved = await items.replace_with_lease({**renewed, "step": 1}, "A")
    assert saved["step"] == 1 and saved["leaseOwner"] == "A"
    assert saved["leaseExpires"] == renewed["leaseExpires"], "a lease-checked write keeps the stored lease"
    assert await items.get(a["partitionKey"], a["id"]) == saved


async def test_renewal_is_not_conditional_on_the_etag_and_returns_the_current_document(store: Store) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/u", state="Creating"))
    a = await items.dequeue("A", 30)
    assert a is not None
    other = await items.replace({**a, "tags": {"by": "frontend"}})  # a write of someone else, lease kept
    renewed = await items.renew_lease(a, "A", 300)  # with the etag from before that write
    assert renewed["tags"] == {"by": "frontend"} and renewed["leaseExpires"] > a["leaseExpires"]
    assert without_lease(renewed) == without_lease(other)
    current = await items.get(a["partitionKey"], a["id"])
    assert current == renewed, "the renewal returns the document as stored, with the etag to write against"
    saved = await items.replace_with_lease({**renewed, "step": 2}, "A")
    assert saved["tags"] == {"by": "frontend"} and saved["step"] == 2


async def test_renewal_by_another_owner_or_of_a_missing_document_fails(store: Store) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/o", state="Creating"))
    a = await items.dequeue("A", 30)
    assert a is not None
    with pytest.raises(LostLease):
        await items.renew_lease(a, "B", 300)
    with pytest.raises(LostLease):
        await items.renew_lease({**a, "leaseOwner": "B"}, "B", 300)  # the stored lease decides
    assert await items.get(a["partitionKey"], a["id"]) == a, "a refused renewal changes nothing"
    ended = await items.end_lease(a, "A")
    with pytest.raises(LostLease):
        await items.renew_lease(ended, "A", 300)  # a lease that was given up is not renewed
    await items.delete(ended)
    with pytest.raises(NotFound):
        await items.renew_lease(a, "A", 300)


async def test_claims_see_a_renewed_lease(store: Store) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/s", state="Creating"))
    a = await items.dequeue("A", 1)
    assert a is not None
    await items.renew_lease(a, "A", 300)
    await asyncio.sleep(1.5)  # past the lease as claimed, within the renewed one
    assert await items.dequeue("B", 300) is None, "a renewed lease is held: not claimable"
    assert await items.dequeue_many(["B1", "B2"], 300) == []
    assert await items.list_claimable() == []


async def test_a_write_prepared_before_a_renewal_does_not_undo_it(store: Store) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/w", state="Creating"))
    a = await items.dequeue("A", 1)
    assert a is not None
    read = await items.get(a["partitionKey"], a["id"])  # e.g. the frontend, about to record something
    assert read is not None
    renewed = await items.renew_lease(a, "A", 300)
    try:
        written = await items.replace({**read, "tags": {"by": "frontend"}})
    except PreconditionFailed:  # (Cosmos DB: the renewal changed the etag) read again and write
        fresh = await items.get(a["partitionKey"], a["id"])
        assert fresh is not None
        written = await items.replace({**fresh, "tags": {"by": "frontend"}})
    assert written["leaseOwner"] == "A" and written["leaseExpires"] >= renewed["leaseExpires"]
    await asyncio.sleep(1.5)
    assert await items.dequeue("B", 300) is None, "the renewed lease still holds"
    assert (await items.get(a["partitionKey"], a["id"]))["leaseExpires"] == written["leaseExpires"]  # type: ignore[index]


async def test_dequeue_many_respects_the_limit_and_gives_each_claim_its_owner(store: Store) -> None:
    items = store.container(ITEMS.name)
    ids = {(await items.create(new(f"/b/{i}", state="Creating")))["id"] for i in range(10)}
    await items.create(new("/b/done", state="Succeeded"))  # terminal: never claimable
    first = await items.dequeue_many([f"o{i}" for i in range(4)], 300)
    assert len(first) == 4
    assert sorted(d["leaseOwner"] for d in first) == [f"o{i}" for i in range(4)], "one owner per claim"
    for doc in first:
        assert doc["dequeues"] == 1 and doc["leaseExpires"] > time.time() + 200
        assert await items.get(doc["partitionKey"], doc["id"]) == doc, "returned as stored"
    second = await items.dequeue_many([f"p{i}" for i in range(20)], 300)
    assert len(second) == 6 and {d["leaseOwner"] for d in second} <= {f"p{i}" for i in range(20)}
    assert len({d["leaseOwner"] for d in second}) == 6
    assert {d["id"] for d in first + second} == ids
    assert await items.dequeue_many(["q"], 300) == []
    assert await items.dequeue_many([], 300) == []
    with pytest.raises(ValueError):
        await items.dequeue_many(["same", "same"], 300)


async def test_dequeue_many_changes_only_the_lease_and_counts_the_claim(store: Store) -> None:
    items = store.container(ITEMS.name)
    body = {"text": 'é\u2028"\\x', "n": [0.1, 1e300, -0.0, 2**70], "none": None, "nested": {"a": [True, {}]}}
    created = await items.create(new("/j", state="Creating", body=body, dequeues=3))
    (claimed,) = await items.dequeue_many(["A"], 0.5)
    assert claimed["dequeues"] == 4 and claimed["leaseOwner"] == "A"
    assert claimed["etag"] != created["etag"], "a claim is a write: stale writers must not undo it"
    assert without_lease({**claimed, "dequeues": 3}) == without_lease(created)
    with pytest.raises(PreconditionFailed):
        await items.replace({**created, "state": "Succeeded"})
    await asyncio.sleep(0.7)  # the lease runs out: claimed again, counted again
    (again,) = await items.dequeue_many(["B", "C"], 300)
    assert again["leaseOwner"] in ("B", "C") and again["dequeues"] == 5
    assert await items.get(again["partitionKey"], again["id"]) == again
    with pytest.raises(LostLease):
        await items.renew_lease(claimed, "A", 300)
    with pytest.raises(LostLease):
        await items.replace_with_lease({**claimed, "step": 1}, "A")


async def test_concurrent_batch_claimers_claim_each_document_exactly_once(store: Store) -> None:
    items = store.container(ITEMS.name)
    sem = asyncio.Semaphore(32)

    async def add(i: int) -> str:
        async with sem:
            return str((await items.create(new(f"/d/{i}", state="Creating")))["id"])

    ids = set(await asyncio.gather(*(add(i) for i in range(200))))
    claims: list[str] = []
    owners: list[str] = []

    async def claimer(n: int) -> None:
        round = 0
        while True:
            round += 1
            mine = [f"owner-{n}-{round}-{i}" for i in range(7)]
            docs = await items.dequeue_many(mine, 300)
            if not docs:
                return
            for doc in docs:
                assert doc["leaseOwner"] in mine and doc["dequeues"] == 1
                claims.append(doc["id"])
                owners.append(doc["leaseOwner"])

    await asyncio.gather(*(claimer(n) for n in range(12)))
    assert sorted(claims) == sorted(ids), "every document claimed exactly once, nothing else claimed"
    assert len(set(owners)) == len(owners), "no owner holds two leases"


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


# --- Container.query / count_where (aro.database.query) ---------------------------------------------------

# id, partition, the "f" object (missing keys are missing)
QUERY_DOCS: list[tuple[str, str, dict[str, object]]] = [
    ("a01", "p1", {"s": "apple", "n": 1, "b": True}),
    ("a02", "p1", {"s": "Apple pie", "n": 2.5, "b": False}),
    ("a03", "p2", {"s": None, "n": 3, "b": True}),  # JSON null
    ("a04", "p2", {"n": -1}),  # s and b missing
    ("a05", "p1", {"s": "a.c", "n": 10, "b": False}),
    ("a06", "p2", {"s": "abc", "n": None, "b": None}),
    ("a07", "p1", {"s": "a(b)\\c", "n": 7, "b": True}),
    ("a08", "p2", {"s": "50% off_x", "n": 7, "b": False}),
    ("a09", "p1", {"s": "École", "n": 0, "b": True}),
    ("a10", "p2", {"s": 5, "n": "7", "b": "true"}),  # other types than the rest
]
ALL_IDS = [d[0] for d in QUERY_DOCS]


async def _seed(store: Store) -> Container:
    items = store.container(ITEMS.name)
    await asyncio.gather(
        *(items.create({"id": id, "partitionKey": pk, "key": f"/q/{id}", "f": f}) for id, pk, f in QUERY_DOCS)
    )
    return items


def _f(name: str) -> tuple[str, ...]:
    return ("f", name)


async def _ids(items: Container, where: Expr | None, order: tuple[Order, ...] = ()) -> list[str]:
    return [d["id"] for d in await items.query(Query(where, order, limit=MAX_LIMIT))]


S, N, B = _f("s"), _f("n"), _f("b")
FILTER_CASES: list[tuple[str, Expr, list[str]]] = [
    # comparisons, on strings (code point order), numbers (int and float) and booleans
    ("str =", Compare(S, "=", "apple"), ["a01"]),
    ("str !=", Compare(S, "!=", "apple"), ["a02", "a05", "a06", "a07", "a08", "a09"]),
    ("str <", Compare(S, "<", "b"), ["a01", "a02", "a05", "a06", "a07", "a08"]),
    ("str <=", Compare(S, "<=", "abc"), ["a02", "a05", "a06", "a07", "a08"]),
    ("str >", Compare(S, ">", "abc"), ["a01", "a09"]),
    ("str >=", Compare(S, ">=", "b"), ["a09"]),
    ("num =", Compare(N, "=", 7), ["a07", "a08"]),
    ("num !=", Compare(N, "!=", 7), ["a01", "a02", "a03", "a04", "a05", "a09"]),
    ("num <", Compare(N, "<", 2.5), ["a01", "a04", "a09"]),
    ("num <=", Compare(N, "<=", 2.5), ["a01", "a02", "a04", "a09"]),
    ("num >", Compare(N, ">", 3), ["a05", "a07", "a08"]),
    ("num >=", Compare(N, ">=", 3), ["a03", "a05", "a07", "a08"]),
    ("bool = true", Compare(B, "=", True), ["a01", "a03", "a07", "a09"]),
    ("bool = false", Compare(B, "=", False), ["a02", "a05", "a08"]),
    ("bool != true", Compare(B, "!=", True), ["a02", "a05", "a08"]),
    ("string literal is not a number", Compare(N, "=", "7"), ["a10"]),
    ("top-level path", Compare(("partitionKey",), "=", "p2"), ["a03", "a04", "a06", "a08", "a10"]),
    # nulls (missing and JSON null) stay unmatched under Not; IsNull finds them
    ("not = skips nulls", Not(Compare(S, "=", "apple")), ["a02", "a05", "a06", "a07", "a08", "a09"]),
    ("not > skips nulls", Not(Compare(N, ">", 3)), ["a01", "a02", "a03", "a04", "a09"]),
    ("not bool skips nulls", Not(Compare(B, "=", True)), ["a02", "a05", "a08"]),
    ("is null", IsNull(S), ["a03", "a04"]),
    ("is null (JSON null)", IsNull(N), ["a06"]),
    ("not is null", Not(IsNull(S)), ["a01", "a02", "a05", "a06", "a07", "a08", "a09", "a10"]),
    ("not not", Not(Not(Compare(S, "=", "apple"))), ["a01"]),
    # in
    ("in", In(S, ("apple", "abc", "zzz")), ["a01", "a06"]),
    ("in numbers", In(N, (7, 1)), ["a01", "a07", "a08"]),
    ("not in skips nulls", Not(In(S, ("apple", "abc"))), ["a02", "a05", "a07", "a08", "a09"]),
    ("in of several types", In(N, (1, "7")), ["a01", "a10"]),
    ("not in of several types", Not(In(N, (1, "7"))), []),
    # like: % and _, everything else literal, whole value, case folding
    ("like prefix", Like(S, "a%"), ["a01", "a05", "a06", "a07"]),
    ("ilike prefix", Like(S, "a%", case_insensitive=True), ["a01", "a02", "a05", "a06", "a07"]),
    ("like _", Like(S, "a_c"), ["a05", "a06"]),
    ("like . is literal", Like(S, "a.c"), ["a05"]),
    ("like ( ) are literal, \\\\ a backslash", Like(S, "a(b)\\\\c"), ["a07"]),
    ("like backslash then c", Like(S, "%\\\\c"), ["a07"]),
    ("like \\ escapes any character", Like(S, "a(b)\\c"), []),
    ("like \\% is a literal %", Like(S, "50\\%%"), ["a08"]),
    ("like \\_ is a literal _", Like(S, "%off\\_%"), ["a08"]),
    ("like \\_ is not any character", Like(S, "a\\_c"), []),
    ("like % inside", Like(S, "50%"), ["a08"]),
    ("like several %", Like(S, "%0%f%"), ["a08"]),
    ("like whole value", Like(S, "appl"), []),
    ("like non-ASCII, case-sensitive", Like(S, "école"), []),
    ("ilike non-ASCII", Like(S, "ÉCOLE", case_insensitive=True), ["a09"]),
    ("like matches strings only", Like(S, "%"), ["a01", "a02", "a05", "a06", "a07", "a08", "a09"]),
    ("like on a number-holding path", Like(N, "7"), ["a10"]),
    ("not like skips nulls", Not(Like(S, "a%")), ["a02", "a08", "a09"]),
    # and / or / not nesting
    ("and", And((Compare(B, "=", True), Like(S, "a%"))), ["a01", "a07"]),
    ("or", Or((Compare(N, "=", -1), IsNull(N), Compare(S, "=", "abc"))), ["a04", "a06"]),
    ("not and", Not(And((Compare(B, "=", True), Compare(N, "<", 5)))), ["a02", "a05", "a07", "a08"]),
    ("not or", Not(Or((Compare(S, "=", "apple"), Compare(N, "=", 7)))), ["a02", "a05", "a09"]),
    (
        "nested",
        Or((And((Compare(B, "=", False), Not(Compare(N, ">", 5)))), And((IsNull(S), Compare(N, "=", 3))))),
        ["a02", "a03"],
    ),
]


@pytest.mark.parametrize(("where", "want"), [c[1:] for c in FILTER_CASES], ids=[c[0] for c in FILTER_CASES])
async def test_query_filter_semantics(store: Store, where: Expr, want: list[str]) -> None:
    items = await _seed(store)
    assert await _ids(items, where) == want  # no order given: by id
    assert await items.count_where(where) == len(want)


ORDER_CASES: list[tuple[str, tuple[Order, ...], list[str]]] = [
    # missing, then JSON null, then other types (numbers before strings), then strings by code point
    ("asc, nulls first", (Order(S),), ["a04", "a03", "a10", "a08", "a02", "a07", "a05", "a06", "a01", "a09"]),
    ("desc, nulls last", (Order(S, True),), ["a09", "a01", "a06", "a05", "a07", "a02", "a08", "a10", "a03", "a04"]),
    ("asc, ties by id", (Order(N),), ["a06", "a04", "a09", "a01", "a02", "a03", "a07", "a08", "a05", "a10"]),
    ("desc, ties desc", (Order(N, True),), ["a10", "a05", "a08", "a07", "a03", "a02", "a01", "a09", "a04", "a06"]),
    ("booleans", (Order(B),), ["a04", "a06", "a02", "a05", "a08", "a01", "a03", "a07", "a09", "a10"]),
    (
        "two orders",
        (Order(B, True), Order(N)),
        ["a10", "a09", "a01", "a03", "a07", "a02", "a08", "a05", "a06", "a04"],
    ),
    ("by id", (), ALL_IDS),
]


@pytest.mark.parametrize(("order", "want"), [c[1:] for c in ORDER_CASES], ids=[c[0] for c in ORDER_CASES])
async def test_query_order(store: Store, order: tuple[Order, ...], want: list[str]) -> None:
    items = await _seed(store)
    assert await _ids(items, None, order=order) == want
    # the same order holds under a filter and across offset/limit
    paged = [d["id"] for o in range(0, 10, 3) for d in await items.query(Query(None, order, offset=o, limit=3))]
    assert paged == want


@pytest.mark.parametrize("partition", ["p1", None], ids=["one-partition", "cross-partition"])
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
async def test_query_pages_over_ties_return_each_document_once(
    store: Store, partition: str | None, descending: bool
) -> None:
    items = store.container(ITEMS.name)
    docs = [
        {"id": f"t{i:03d}", "partitionKey": "p1" if i % 3 else "p2", "key": f"/t/{i}", "g": "same" if i % 4 else 1}
        for i in range(41)
    ]
    await asyncio.gather(*(items.create(d) for d in docs))
    want = [d["id"] for d in docs if partition is None or d["partitionKey"] == partition]
    numbers = [d["id"] for d in docs if d["g"] == 1 and d["id"] in want]
    strings = [d["id"] for d in docs if d["g"] == "same" and d["id"] in want]
    want = list(reversed(strings)) + list(reversed(numbers)) if descending else numbers + strings
    seen: list[str] = []
    for offset in range(0, len(want) + 5, 4):
        page = await items.query(Query(None, (Order(("g",), descending),), offset, 4), partition_key=partition)
        assert len(page) <= 4
        seen += [d["id"] for d in page]
    assert seen == want, "pages over ties must be stable: every document exactly once, in one order"
    assert await items.count_where(None, partition_key=partition) == len(want)


async def test_query_partition_key_restricts(store: Store) -> None:
    items = await _seed(store)
    p1 = [id for id, pk, _ in QUERY_DOCS if pk == "p1"]
    assert [d["id"] for d in await items.query(Query(), partition_key="p1")] == p1
    assert [d["id"] for d in await items.query(Query(Compare(B, "=", True)), partition_key="p2")] == ["a03"]
    assert await items.count_where(None, partition_key="p2") == 5
    assert await items.count_where(Compare(B, "=", True), partition_key="p1") == 3
    assert await items.query(Query(), partition_key="nope") == []
    assert await items.count_where(None) == len(QUERY_DOCS)


async def test_query_returns_whole_documents_and_respects_limit(store: Store) -> None:
    items = await _seed(store)
    first = await items.query(Query(Compare(S, "=", "apple")))
    assert len(first) == 1 and first[0]["f"] == {"s": "apple", "n": 1, "b": True} and first[0]["etag"]
    assert [d["id"] for d in await items.query(Query(limit=2))] == ["a01", "a02"]
    assert [d["id"] for d in await items.query(Query(offset=8, limit=5))] == ["a09", "a10"]
    assert await items.query(Query(offset=10)) == []


async def test_query_hides_expired_documents(store: Store) -> None:
    expiring = store.container(EXPIRING.name)
    short = await expiring.create({**new("/x/short", v="x"), "ttl": 1})
    kept = await expiring.create(new("/x/kept", v="x"))
    where = Compare(("v",), "=", "x")
    assert {d["id"] for d in await expiring.query(Query(where))} == {short["id"], kept["id"]}
    deadline = time.monotonic() + 10
    while await expiring.get("sub1", short["id"]) is not None:  # waits for the TTL to pass
        assert time.monotonic() < deadline, "document did not expire"
        await asyncio.sleep(0.1)
    assert [d["id"] for d in await expiring.query(Query(where))] == [kept["id"]]
    assert [d["id"] for d in await expiring.query(Query())] == [kept["id"]]
    assert await expiring.count_where(where) == 1
    assert await expiring.count_where(None) == 1


async def test_query_like_is_linear_on_hostile_patterns(store: Store) -> None:
    items = store.container(ITEMS.name)
    await items.create(new("/long", s="a" * 800))
    await items.create(new("/match", s="xa-ab-b"))
    hostile = Like(("s",), "%a%a%a%b")  # a backtracking regex takes seconds on "aaa...a" (and more per "%a")
    started = time.monotonic()
    assert await items.query(Query(hostile)) == []
    assert await items.count_where(hostile) == 0
    assert time.monotonic() - started < 3
    assert [d["key"] for d in await items.query(Query(Like(("s",), "%a%a%b")))] == ["/match"]


async def test_query_like_with_many_wildcards(store: Store) -> None:
    """Every ``%`` but the outer ones is a numbered group of the regular expression: up to MAX_LIKE_PARTS
    parts match as they should (back-references past \\9 included); more are refused, not misread."""
    items = store.container(ITEMS.name)
    await items.create(new("/long", s="a" * 120))
    most = "%a" * (MAX_LIKE_PARTS - 2) + "%"
    assert len(most.split("%")) == MAX_LIKE_PARTS
    assert [d["key"] for d in await items.query(Query(Like(("s",), most)))] == ["/long"]
    assert await items.count_where(Like(("s",), "%a" * 40 + "%b")) == 0
    with pytest.raises(ValueError, match="at most"):
        await items.query(Query(Like(("s",), most + "a%")))


async def test_query_deeply_nested_filter(store: Store) -> None:
    items = await _seed(store)
    where: Expr = Compare(S, "=", "apple")
    for i in range(10):  # or/and alternating: every level is a parenthesis in the query text
        where = Or((where, Compare(S, "=", f"none{i}"))) if i % 2 else And((where, Not(IsNull(S))))
    started = time.monotonic()
    assert await _ids(items, where) == ["a01"]
    assert await _ids(items, Not(where)) == ["a02", "a05", "a06", "a07", "a08", "a09"]
    assert time.monotonic() - started < 10  # (the local Cosmos server's parser needed memoizing for this)

    for levels, ok in ((MAX_DEPTH, True), (MAX_DEPTH + 1, False)):  # SQLite's parser takes 26
        where = Compare(S, "=", "apple")
        for i in range(levels):
            where = Or((where, Compare(S, "=", f"none{i}"))) if i % 2 else And((where, Not(IsNull(S))))
        if ok:
            assert await _ids(items, Not(where)) == ["a02", "a05", "a06", "a07", "a08", "a09"]
        else:
            with pytest.raises(ValueError, match="nested more than"):
                await items.count_where(where)


@pytest.mark.parametrize(
    "query",
    [
        Query(limit=0),
        Query(limit=MAX_LIMIT + 1),
        Query(offset=-1),
        Query(Compare(("f", "s-x"), "=", "a")),
        Query(Compare(('s"]) OR true OR (c["s',), "=", "a")),
        Query(Compare(("s') IS NULL OR ('",), "=", "a")),
        Query(Compare((), "=", "a")),
        Query(Like(("1s",), "a")),
        Query(In(("s",), ())),
        Query(Compare(("s",), "=", None)),  # type: ignore[arg-type]
        Query(Compare(("s",), "=", float("nan"))),
        Query(Not(IsNull(("a", "b c")))),
        Query(
            None,
            (
                Order(
                    ("f", "n;"),
                ),
            ),
        ),
    ],
    ids=[
        "limit 0",
        "limit too big",
        "negative offset",
        "dash",
        "cosmos injection",
        "sqlite injection",
        "empty path",
        "digit first",
        "empty in",
        "null literal",
        "nan literal",
        "nested",
        "order",
    ],
)
async def test_invalid_query_is_refused_before_it_runs(store: Store, query: Query) -> None:
    items = store.container(ITEMS.name)
    assert await items.query(Query(limit=MAX_LIMIT)) == []
    await store.close()  # a query that got as far as the store would fail differently now
    with pytest.raises(Exception) as running:
        await items.query(Query())
    assert not isinstance(running.value, ValueError)
    with pytest.raises(ValueError):
        await items.query(query)
    if query.where is not None:
        with pytest.raises(ValueError):
            await items.count_where(query.where)


async def test_sqlite_lookups_use_their_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded store looks a document up by a lookup path (``ContainerSpec.lookup_paths``) through its
    expression index, not by scanning the container: the plan of every statement a lookup runs says so,
    while a filter on another path scans (the control)."""
    import sqlite3

    from aro.database import sqlite

    statements: list[str] = []
    read_only = sqlite.SQLiteStore._read_only

    def traced(self: sqlite.SQLiteStore, timeout: float) -> sqlite3.Connection:
        conn = read_only(self, timeout)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite.SQLiteStore, "_read_only", traced)
    store = await sqlite.SQLiteStore(tmp_path / "plan.db", CONTAINERS).open()
    explain = sqlite3.connect(tmp_path / "plan.db")
    try:
        items = await _seed(store)

        def plans() -> list[str]:
            out = [
                " / ".join(str(r[-1]) for r in explain.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
                for sql in statements
                if sql.startswith("SELECT") and "FROM documents" in sql
            ]
            statements.clear()
            return out

        assert [d["id"] for d in await items.query(Query(Compare(S, "=", "apple")))] == ["a01"]
        assert await items.count_where(And((Compare(B, "=", True), In(S, ("abc", "apple"))))) == 1
        lookups = plans()
        assert len(lookups) == 2 and all("USING INDEX documents_lookup_items_f_s" in p for p in lookups), lookups
        assert [d["id"] for d in await items.query(Query(Compare(N, "=", 10)))] == ["a05"]
        scans = plans()
        assert len(scans) == 1 and "documents_lookup" not in scans[0], scans
    finally:
        explain.close()
        await store.close()


async def test_sqlite_filter_queries_run_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``query`` and ``count_where`` may scan a whole container: they run on the store's scan threads, so
    the event loop (and the writer thread) go on meanwhile. ``aro_like``, called by SQLite for each row of a
    ``Like``, records the thread it runs on."""
    import threading

    from aro.database import sqlite

    threads: set[str] = set()
    like = sqlite.aro_like

    def recording(value: object, regex: object, flags: object) -> int | None:
        threads.add(threading.current_thread().name)
        return like(value, regex, flags)

    monkeypatch.setattr(sqlite, "aro_like", recording)
    store = await sqlite.SQLiteStore(tmp_path / "scan.db", CONTAINERS).open()
    try:
        items = await _seed(store)
        assert [d["id"] for d in await items.query(Query(Like(S, "a%")))] == ["a01", "a05", "a06", "a07"]
        assert await items.count_where(Like(S, "%c")) == 3  # a.c, abc, a(b)\\c
        assert threads and all(t.startswith("aro-sqlite-scan") for t in threads), threads
    finally:
        await store.close()
    with pytest.raises(StoreError):
        await items.count_where(None)
