"""A background task that runs one sweep every interval until stopped (the monitor, the ledger's sweeper):
a sweep that fails is logged and the next one runs on time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("aro.backend")


class Periodic:
    def __init__(self, name: str, interval: Callable[[], float], sweep: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self._interval = interval
        self._sweep = sweep
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"aro-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval())
            try:
                await self._sweep()
            except Exception:  # a store hiccup: the next sweep tries again
                log.exception("sweep failed", extra={"task": self.name})
