"""Lost-update drill: many clients PATCH the tags of ONE cluster at once, each with ``If-Match``.

Every client loops: GET (etag, tags) -> PATCH ``If-Match: <etag>`` with its own id merged into the tags it
read -> on 412 re-GET and retry; on 400 RequestNotAllowed (the cluster is Updating after someone's PATCH)
wait until the cluster is terminal, then retry. The ids live in 16 tag values (``gNN: "c01r0,c17r0"``):
ARM allows 50 tags, and this keeps any number of additions within that.

What the answers prove (each check can fail; none restates the configuration):
- no two acknowledged (200) PATCHes consumed the same etag -- the signature of a lost update;
- the acknowledged tag states form one chain, each adding exactly one id to the one before, so every
  writer merged all earlier acknowledged writes; the final tags hold every acknowledged id;
- a 200 was only ever granted on an etag seen terminal, a RequestNotAllowed only on one seen non-terminal;
- no 412 was spurious: the etag a 412 refused is never seen current again after that 412 (an etag
  names one version of the document, so seeing it again would mean it was current throughout). How
  many 412s were provably superseded before the PATCH left, or while it was in flight, is reported.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import RPProcess
from tests.drills.scale import Scale, record
from tests.frontend.helpers import STABLE, TERMINAL, cli_body, cluster_path, error_of, new_sub

GROUPS = 16
BASE_TAGS = {"env": "drill"}


@dataclass(frozen=True)
class Seen:
    """One answer that showed the document's etag: a GET, or a PATCH answered 200."""

    etag: str
    state: str
    t0: float  # before the request was sent
    t1: float  # after the answer arrived


@dataclass(frozen=True)
class Patch:
    client: str
    sent: str  # the If-Match etag
    status: int
    code: str | None
    t0: float
    t1: float
    read: frozenset[str] = frozenset()  # ids in the tags the client read (and merged)
    wrote: frozenset[str] = frozenset()  # ids in the 200 answer
    etag: str | None = None  # the 200 answer's ETag


@dataclass
class Journal:
    seen: list[Seen] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    state_of: dict[str, str] = field(default_factory=dict)  # etag -> provisioningState it showed


def ids_of(tags: dict[str, str]) -> frozenset[str]:
    return frozenset(i for k, v in tags.items() if k.startswith("g") and k[1:].isdigit() for i in v.split(",") if i)


def with_id(tags: dict[str, str], me: str, slot: int) -> dict[str, str]:
    key = f"g{slot % GROUPS:02d}"
    ids = sorted({*filter(None, tags.get(key, "").split(",")), me})
    return {**tags, key: ",".join(ids)}


async def writer(
    client: httpx.AsyncClient, path: str, slot: int, rounds: int, journal: Journal, deadline: float
) -> None:
    params = {"api-version": STABLE}
    for round_ in range(rounds):
        me = f"c{slot:02d}r{round_}"
        wait_terminal = False
        while True:
            assert time.monotonic() < deadline, f"{me} did not get its PATCH through in time"
            t0 = time.monotonic()
            got = await client.get(path, params=params)
            t1 = time.monotonic()
            assert got.status_code == 200, got.text
            body = got.json()
            etag, state = got.headers["ETag"], body["properties"]["provisioningState"]
            journal.seen.append(Seen(etag, state, t0, t1))
            journal.state_of[etag] = state
            if wait_terminal and state not in TERMINAL:
                await asyncio.sleep(0.05)  # waiting for a state, with the deadline above
                continue
            tags = body.get("tags") or {}
            t0 = time.monotonic()
            r = await client.patch(
                path, params=params, json={"tags": with_id(tags, me, slot)}, headers={"If-Match": etag}
            )
            t1 = time.monotonic()
            if r.status_code == 200:
                out = r.json()
                journal.patches.append(
                    Patch(me, etag, 200, None, t0, t1, ids_of(tags), ids_of(out["tags"]), r.headers["ETag"])
                )
                journal.seen.append(Seen(r.headers["ETag"], out["properties"]["provisioningState"], t0, t1))
                journal.state_of[r.headers["ETag"]] = out["properties"]["provisioningState"]
                assert out["tags"] == with_id(tags, me, slot), "the 200 answer is not the merge that was sent"
                break
            code = error_of(r)["code"]
            journal.patches.append(Patch(me, etag, r.status_code, code, t0, t1, ids_of(tags)))
            if r.status_code == 412 and code == "PreconditionFailed":
                wait_terminal = False
            elif r.status_code == 400 and code == "RequestNotAllowed":
                wait_terminal = True
            else:
                raise AssertionError(f"unexpected answer to {me}'s PATCH: {r.status_code} {r.text}")


def classify_412s(journal: Journal) -> Counter[str]:
    """For each 412: 'spurious' if its etag is seen current after the 412 arrived; 'before' if a newer
    etag was seen, or a 200 consumed it, before the PATCH was sent; 'in-flight' if by the time the
    412 arrived; else 'unobserved' (superseded, but nobody looked in between)."""
    reads: dict[str, list[Seen]] = {}
    for s in journal.seen:
        reads.setdefault(s.etag, []).append(s)
    consumed_by = {p.sent: p for p in journal.patches if p.status == 200}
    verdicts: Counter[str] = Counter()
    for p in journal.patches:
        if p.status != 412:
            continue
        own = reads.get(p.sent, [])
        if any(s.t0 > p.t1 for s in own):
            verdicts["spurious"] += 1
            continue
        read_end = min(s.t1 for s in own)  # the earliest answer that showed this etag
        superseded = [s.t1 for s in journal.seen if s.etag != p.sent and s.t0 > read_end]
        winner = consumed_by.get(p.sent)
        if winner is not None:
            superseded.append(winner.t1)
        first = min(superseded, default=float("inf"))
        verdicts["before" if first <= p.t0 else "in-flight" if first <= p.t1 else "unobserved"] += 1
    return verdicts


async def terminal(client: httpx.AsyncClient, path: str, deadline: float) -> httpx.Response:
    """GET until the cluster is in a terminal state (within the deadline)."""
    while True:
        got = await client.get(path, params={"api-version": STABLE})
        assert got.status_code == 200, got.text
        if got.json()["properties"]["provisioningState"] in TERMINAL:
            return got
        assert time.monotonic() < deadline, f"{path} not terminal in time: {got.json()['properties']}"
        await asyncio.sleep(0.05)


async def test_concurrent_if_match_patches_lose_no_update(rp: RPProcess, scale: Scale) -> None:
    sub = new_sub()
    path = cluster_path(sub, "rg", "contended")
    # idle connections expire before the server's 5 s keep-alive timeout: a PATCH sent on a connection the
    # server is closing at that moment would be lost in transit (and PATCH is not retried)
    limits = httpx.Limits(max_connections=scale.lost_update_clients + 4, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=rp.base_url, verify=rp.ssl_context(), timeout=60, limits=limits) as c:
        created = await c.put(path, params={"api-version": STABLE}, json=cli_body(sub, "contended", tags=BASE_TAGS))
        assert created.status_code == 201, created.text
        await terminal(c, path, time.monotonic() + 60)

        journal = Journal()
        started = time.monotonic()
        deadline = started + 60 + 3 * scale.lost_update_clients * scale.lost_update_rounds
        await asyncio.gather(
            *(
                writer(c, path, slot, scale.lost_update_rounds, journal, deadline)
                for slot in range(scale.lost_update_clients)
            )
        )
        elapsed = time.monotonic() - started
        final = await terminal(c, path, deadline)  # the last PATCH's update runs on

    ok = [p for p in journal.patches if p.status == 200]
    statuses = Counter(f"{p.status} {p.code}" if p.code else str(p.status) for p in journal.patches)
    verdicts = classify_412s(journal)
    record(
        "lost-update",
        clients=scale.lost_update_clients,
        patches_per_client=scale.lost_update_rounds,
        answers=dict(statuses),
        **{"412s (superseded before sent / in flight / not observed in between)": dict(verdicts)},
        seconds=round(elapsed, 1),
    )

    # every client got each of its additions acknowledged exactly once
    assert len(ok) == scale.lost_update_clients * scale.lost_update_rounds
    assert len({p.client for p in ok}) == len(ok)
    # no etag was consumed by two acknowledged writes
    consumed = Counter(p.sent for p in ok)
    assert max(consumed.values()) == 1, [e for e, n in consumed.items() if n > 1]
    # the acknowledged states form one chain: each adds exactly its own id to the previous one
    chain = sorted(ok, key=lambda p: len(p.wrote))
    previous: frozenset[str] = frozenset()
    for p in chain:
        assert p.wrote == previous | {p.client}, f"{p.client} wrote {sorted(p.wrote)} over {sorted(previous)}"
        assert p.read == previous, f"{p.client}'s write was granted on a stale read"
        previous = p.wrote
    # nothing acknowledged is missing at the end, and the other tags survived
    final_body: dict[str, Any] = final.json()
    assert ids_of(final_body["tags"]) == previous == {p.client for p in ok}
    assert {k: v for k, v in final_body["tags"].items() if not k.startswith("g")} == BASE_TAGS
    assert final_body["properties"]["provisioningState"] == "Succeeded"
    # 200 only on an etag seen terminal; RequestNotAllowed only on one seen non-terminal
    assert all(journal.state_of[p.sent] in TERMINAL for p in ok)
    refused = [p for p in journal.patches if p.code == "RequestNotAllowed"]
    assert all(journal.state_of[p.sent] not in TERMINAL for p in refused)
    assert verdicts["spurious"] == 0, "a 412 refused an etag that was still current"
    assert set(statuses) <= {"200", "412 PreconditionFailed", "400 RequestNotAllowed"}
