"""Steps are data: ``Action`` runs once, ``Condition`` polls until true or times out.

The runner records the running step in the cluster document through lease-checked ``Progress`` writes
(a step's completion is recorded together with the start of the next one, in one write), so a worker
that takes the document over after a crash resumes at the first unfinished step; every step is
idempotent, so re-running an interrupted one is safe, and a completed one is never run again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from aro.api import errors
from aro.api.errors import CloudError

log = logging.getLogger("aro.cluster.steps")

C = TypeVar("C")


@dataclass(frozen=True)
class Action(Generic[C]):
    fn: Callable[[C], Awaitable[None]]

    @property
    def name(self) -> str:
        return self.fn.__name__


@dataclass(frozen=True)
class Condition(Generic[C]):
    fn: Callable[[C], Awaitable[bool]]
    timeout: Callable[[C], float]
    interval: Callable[[C], float]
    message: str = ""  # shown to the user on timeout

    @property
    def name(self) -> str:
        return self.fn.__name__


Step = Action[C] | Condition[C]


@dataclass(frozen=True)
class Finished:
    step: str
    at: float  # time.time() when it returned


class Progress(Protocol):
    """Persists the runner's progress."""

    def completed(self) -> Sequence[str]: ...

    async def record(self, finished: Finished | None, starting: str | None) -> None:
        """One lease-checked write: ``finished`` is completed, ``starting`` is now running."""
        ...


class Stopping(Exception):
    """The process is shutting down: the runner stopped at a step boundary (progress is saved)."""


StepObserver = Callable[[str, float, bool], None]  # name, seconds, ok


async def run_steps(
    steps: Sequence[Step[C]],
    ctx: C,
    progress: Progress,
    stopping: Callable[[], bool] = lambda: False,
    observe: StepObserver | None = None,
) -> None:
    done = set(progress.completed())
    pending: Finished | None = None  # completed, recorded with the next write (one write per step)
    for step in steps:
        if step.name in done:
            continue
        if stopping():
            if pending is not None:
                await progress.record(pending, None)
            raise Stopping(step.name)
        await progress.record(pending, step.name)
        pending = None
        started = time.monotonic()
        ok = False
        try:
            if isinstance(step, Action):
                await step.fn(ctx)
            else:
                await _poll(step, ctx)
            ok = True
        finally:
            elapsed = time.monotonic() - started
            if observe is not None:
                observe(step.name, elapsed, ok)
            log.info("step", extra={"step": step.name, "seconds": round(elapsed, 3), "ok": ok})
        pending = Finished(step.name, time.time())
    if pending is not None:
        await progress.record(pending, None)


async def _poll(cond: Condition[C], ctx: C) -> None:
    timeout = cond.timeout(ctx)
    deadline = time.monotonic() + timeout
    while not await cond.fn(ctx):
        if time.monotonic() >= deadline:
            raise CloudError(
                500,
                errors.DEPLOYMENT_FAILED,
                cond.message or f"Timed out after {timeout:g}s waiting for {cond.name}.",
            )
        await asyncio.sleep(min(cond.interval(ctx), max(0.0, deadline - time.monotonic())))
