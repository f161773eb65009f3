"""Subprocess helper for the contract suite: claim documents until none are left and print their ids,
one per line. Usage: python -m tests.database.claimer '<store spec json>' <owner> <workers> [<batch>]
(batch 1, the default: ``dequeue``; more: ``dequeue_many`` with that many owners)."""

from __future__ import annotations

import asyncio
import json
import sys

from tests.database.targets import ITEMS, open_target


async def main(spec: str, owner: str, workers: int, batch: int) -> None:
    store = await open_target(json.loads(spec))
    items = store.container(ITEMS.name)
    claimed: list[str] = []

    async def worker(n: int) -> None:
        rounds = 0
        while True:
            rounds += 1
            if batch == 1:
                doc = await items.dequeue(f"{owner}-{n}-{rounds}", 300)
                docs = [] if doc is None else [doc]
            else:
                owners = [f"{owner}-{n}-{rounds}-{i}" for i in range(batch)]
                docs = await items.dequeue_many(owners, 300)
                assert all(d["leaseOwner"] in owners for d in docs)
            if not docs:
                return
            claimed.extend(d["id"] for d in docs)

    await asyncio.gather(*(worker(n) for n in range(workers)))
    await store.close()
    sys.stdout.write("".join(f"{i}\n" for i in claimed))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1))
