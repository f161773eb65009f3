"""Subprocess helper for the contract suite: claim documents until none are left and print their ids,
one per line. Usage: python -m tests.database.claimer '<store spec json>' <owner> <workers>"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.database.targets import ITEMS, open_target


async def main(spec: str, owner: str, workers: int) -> None:
    store = await open_target(json.loads(spec))
    items = store.container(ITEMS.name)
    claimed: list[str] = []

    async def worker(n: int) -> None:
        while True:
            doc = await items.dequeue(f"{owner}-{n}", 300)
            if doc is None:
                return
            claimed.append(doc["id"])

    await asyncio.gather(*(worker(n) for n in range(workers)))
    await store.close()
    sys.stdout.write("".join(f"{i}\n" for i in claimed))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
