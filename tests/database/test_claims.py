"""Uniqueness claims (``aro.database.claims``) on every store implementation: the store's unique key, not a
read-then-write, decides between racing claimants; a crash's leftovers are taken over only once stale and
only from a holder that no longer holds the value."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from aro.api.kind import Claim
from aro.database.claims import CLAIMS, STALE_SECONDS, ClaimRefused, Claims, claim_key, holder_of, not_named
from aro.database.store import Store

SUB = "sub1"


def subnet(value: str) -> Claim:
    return Claim("subnet", value, "properties.subnetId", f"The subnet '{value}' is taken.")


def holder(name: str) -> str:
    return holder_of("clusters", f"/subscriptions/{SUB}/resourcegroups/rg/providers/x/clusters/{name}")


class Holders:
    """Which holder holds which claim keys -- what the frontend reads off the holders' documents."""

    def __init__(self) -> None:
        self.held: dict[str, set[str]] = {}
        self.asked: list[tuple[str, str]] = []

    async def holds(self, who: str, key: str) -> bool:
        self.asked.append((who, key))
        return key in self.held.get(who, set())


async def claim_docs(store: Store) -> list[dict[str, object]]:
    return (await store.container(CLAIMS.name).list_page(partition_key=SUB, max_items=100)).items


async def test_racing_claimants_end_with_one_holder(store: Store) -> None:
    holders = Holders()
    claims = Claims(store)

    async def attempt(n: int) -> str | None:
        try:
            await claims.acquire(SUB, [subnet("/vnet/s1")], holder(f"c{n}"), holders.holds)
            return holder(f"c{n}")
        except ClaimRefused:
            return None

    winners = [w for w in await asyncio.gather(*(attempt(n) for n in range(20))) if w]
    assert len(winners) == 1, winners
    docs = await claim_docs(store)
    assert [(d["key"], d["holder"]) for d in docs] == [(claim_key(subnet("/vnet/s1")), winners[0])]


async def test_a_refusal_keeps_nothing_newly_claimed(store: Store) -> None:
    holders = Holders()
    claims = Claims(store)
    await claims.acquire(SUB, [subnet("/vnet/b")], holder("first"), holders.holds)
    holders.held[holder("first")] = {claim_key(subnet("/vnet/b"))}
    with pytest.raises(ClaimRefused) as info:
        await claims.acquire(SUB, [subnet("/vnet/a"), subnet("/VNET/B")], holder("second"), holders.holds)
    assert info.value.claim.value == "/VNET/B", "values compare case-insensitively"
    assert [d["holder"] for d in await claim_docs(store)] == [holder("first")], "the claim on /vnet/a was undone"


async def test_a_holder_reclaiming_its_values_creates_nothing(store: Store) -> None:
    holders = Holders()
    claims = Claims(store)
    first = await claims.acquire(SUB, [subnet("/vnet/a")], holder("c"), holders.holds)
    again = await claims.acquire(SUB, [subnet("/vnet/a"), subnet("/vnet/b")], holder("c"), holders.holds)
    assert len(first) == 1 and [d["key"] for d in again] == [claim_key(subnet("/vnet/b"))]
    await claims.undo(again)  # the update it was for failed: only what it added goes
    assert [d["key"] for d in await claim_docs(store)] == [claim_key(subnet("/vnet/a"))]


async def test_young_claims_are_never_taken_over(store: Store) -> None:
    """A claim younger than STALE_SECONDS may belong to a request still writing its resource."""
    holders = Holders()  # holds nothing: as a crashed or not-yet-written holder looks
    claims = Claims(store)
    await claims.acquire(SUB, [subnet("/vnet/a")], holder("slow"), holders.holds)
    with pytest.raises(ClaimRefused):
        await claims.acquire(SUB, [subnet("/vnet/a")], holder("other"), holders.holds)
    assert holders.asked == [], "a young claim is refused without asking its holder"


@pytest.mark.parametrize("still_held", [False, True], ids=["holder-gave-it-up", "holder-holds-it"])
async def test_an_old_claim_is_taken_over_only_from_a_holder_that_gave_it_up(store: Store, still_held: bool) -> None:
    """What a crash leaves: a claim document older than STALE_SECONDS (written here as the crash left it)."""
    holders = Holders()
    key = claim_key(subnet("/vnet/a"))
    if still_held:
        holders.held[holder("old")] = {key}
    await store.container(CLAIMS.name).create(
        {
            "id": str(uuid.uuid4()),
            "partitionKey": SUB,
            "key": key,
            "holder": holder("old"),
            "claimedAt": time.time() - STALE_SECONDS - 5,
        }
    )
    claims = Claims(store)
    if still_held:
        with pytest.raises(ClaimRefused):
            await claims.acquire(SUB, [subnet("/vnet/a")], holder("new"), holders.holds)
        want = holder("old")
    else:
        taken = await claims.acquire(SUB, [subnet("/vnet/a")], holder("new"), holders.holds)
        assert len(taken) == 1
        want = holder("new")
    assert holders.asked == [(holder("old"), key)]
    assert [d["holder"] for d in await claim_docs(store)] == [want]


async def test_racing_takeovers_of_a_stale_claim_end_with_one_holder(store: Store) -> None:
    holders = Holders()
    await store.container(CLAIMS.name).create(
        {
            "id": str(uuid.uuid4()),
            "partitionKey": SUB,
            "key": claim_key(subnet("/vnet/a")),
            "holder": holder("crashed"),
            "claimedAt": time.time() - STALE_SECONDS - 5,
        }
    )
    claims = Claims(store)

    async def attempt(n: int) -> bool:
        try:
            await claims.acquire(SUB, [subnet("/vnet/a")], holder(f"c{n}"), holders.holds)
            return True
        except ClaimRefused:
            return False

    assert sum(await asyncio.gather(*(attempt(n) for n in range(10)))) == 1


async def test_release_drops_only_the_holders_claims(store: Store) -> None:
    holders = Holders()
    claims = Claims(store)
    await claims.acquire(SUB, [subnet("/vnet/a")], holder("one"), holders.holds)
    await claims.acquire(SUB, [subnet("/vnet/b")], holder("two"), holders.holds)
    await claims.release(SUB, [subnet("/vnet/a"), subnet("/vnet/b")], holder("one"))
    assert [d["holder"] for d in await claim_docs(store)] == [holder("two")]


def test_not_named_is_what_an_update_gives_up_or_gains() -> None:
    old = [subnet("/vnet/a"), subnet("/vnet/b"), Claim("x", "v", "", "", check_only=True)]
    assert not_named(old, [subnet("/VNET/A"), subnet("/vnet/c")]) == [subnet("/vnet/b")]
    assert not_named([subnet("/VNET/A"), subnet("/vnet/c")], old) == [subnet("/vnet/c")]
