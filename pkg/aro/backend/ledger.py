"""The ledger's sweeper: subscriptions whose clusters stopped sending telemetry go ``Stale`` after
``ledger.staleAfterSeconds`` and ``Archived`` after ``ledger.archiveAfterSeconds`` (AMS's refresh).

It runs in every backend process every ``ledger.sweepSeconds``; each move is conditional on the etag read,
so several backends sweeping at once move a subscription once, and a report that arrives meanwhile wins.
A sweep that fails (a store hiccup) is logged and retried at the next interval.
"""

from __future__ import annotations

import logging
import time

from aro.backend.periodic import Periodic
from aro.ledger.service import Ledger

log = logging.getLogger("aro.backend.ledger")


class LedgerSweeper:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._periodic = Periodic("ledger-sweeper", lambda: ledger.settings.sweep_seconds, self.sweep)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def sweep(self) -> tuple[int, int]:
        s = self.ledger.settings
        staled, archived = await self.ledger.subscriptions.sweep(
            time.time(), s.stale_after_seconds, s.archive_after_seconds
        )
        if staled or archived:
            log.info("subscriptions aged", extra={"stale": staled, "archived": archived})
        return staled, archived
