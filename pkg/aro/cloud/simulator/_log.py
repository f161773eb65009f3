"""The request log: one JSON line per request in ``requests.jsonl`` plus an in-memory tail for queries.

Entries: ``{"time", "ts", "method", "path", "query", "status", "durationMs", "requestId",
"leaseOwner"?, "step"?}`` -- the last two copied from the ``x-aro-lease-owner`` / ``x-aro-step`` request
headers the backend sets, which is how tests prove that no step ran in two processes at once.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import IO, Any


class RequestLog:
    def __init__(self, path: Path, executor: Callable[[], Executor], memory: int) -> None:
        self.path = path
        self._executor_of = executor
        self._tail: deque[dict[str, Any]] = deque(maxlen=memory)
        self._file: IO[str] | None = None

    async def open(self) -> None:
        """Load the previous run's tail (a restarted simulator still answers queries) and open for append."""

        def _open() -> list[dict[str, Any]]:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            old: list[dict[str, Any]] = []
            if self.path.exists():
                with self.path.open(encoding="utf-8") as f:
                    tail: deque[str] = deque(f, maxlen=self._tail.maxlen)
                for line in tail:
                    try:
                        old.append(json.loads(line))
                    except ValueError:
                        continue  # a torn last line from a crash
            self._file = self.path.open("a", encoding="utf-8", buffering=1)
            return old

        old = await asyncio.get_running_loop().run_in_executor(self._executor_of(), _open)
        self._tail.extendleft(reversed(old))

    def append(self, entry: dict[str, Any]) -> None:
        """Record now in memory; write to the file on the database thread (in order, never blocking)."""
        self._tail.append(entry)
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        try:
            self._executor_of().submit(self._write, line)
        except RuntimeError:  # shut down: the entry stays in memory only
            pass

    def _write(self, line: str) -> None:
        if self._file is not None:
            self._file.write(line)

    async def close(self) -> None:
        def _close() -> None:
            if self._file is not None:
                self._file.close()
                self._file = None

        await asyncio.get_running_loop().run_in_executor(self._executor_of(), _close)

    def query(
        self, since: float | None = None, owner: str | None = None, step: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            e
            for e in self._tail
            if (since is None or e["ts"] >= since)
            and (owner is None or e.get("leaseOwner") == owner)
            and (step is None or e.get("step") == step)
        ]
