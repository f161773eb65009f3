"""Steps are data: ``Action`` runs once, ``Condition`` polls until true or times out.

Every step has an explicit, stable ``id`` (``"install.deploy_cluster_resources"``): it is the step's
persisted identity, unique within and across every step list (a test proves it), so renaming a function
never changes what a resumed operation believes it has done. The label shown to users (``currentStep``,
metrics, logs) is the id's last dotted part (``aro.api.resource.step_label``).

The runner records the running step in the resource's document through lease-checked ``Progress`` writes
(a step's completion is recorded together with the start of the next one, in one write), so a worker that
takes the document over after a crash resumes at the first unfinished step; every step is idempotent, so
re-running an interrupted one is safe, and a completed one is never run again.

How a step's exception counts is ``aro.steps.outcomes``' business; the runner only runs and records.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.resource import step_label

log = logging.getLogger("aro.steps")

C = TypeVar("C")

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")


def _check_id(step_id: str) -> None:
    if not _ID.match(step_id):
        raise ValueError(f"step id {step_id!r}: use dotted lower-case words, e.g. 'install.ensure_resource_group'")


@dataclass(frozen=True)
class _Identified:
    id: str

    def __post_init__(self) -> None:
        _check_id(self.id)

    @property
    def label(self) -> str:
        return step_label(self.id)


@dataclass(frozen=True)
class Action(_Identified, Generic[C]):
    fn: Callable[[C], Awaitable[None]]


@dataclass(frozen=True)
class Condition(_Identified, Generic[C]):
    fn: Callable[[C], Awaitable[bool]]
    timeout: Callable[[C], float]
    interval: Callable[[C], float]
    message: str = ""  # shown to the user on timeout


Step = Action[C] | Condition[C]


@dataclass(frozen=True)
class Finished:
    step: str  # id
    at: float  # time.time() when it returned


class Progress(Protocol):
    """Persists the runner's progress."""

    def completed(self) -> Sequence[str]: ...

    async def record(self, finished: Finished | None, starting: str | None) -> None:
        """One lease-checked write: ``finished`` is completed, ``starting`` (an id) is now running."""
        ...


class Stopping(Exception):
    """The process is shutting down: the runner stopped at a step boundary (progress is saved)."""


StepObserver = Callable[[str, float, bool], None]  # label, seconds, ok


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
        if step.id in done:
            continue
        if stopping():
            if pending is not None:
                await progress.record(pending, None)
            raise Stopping(step.id)
        await progress.record(pending, step.id)
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
                observe(step.label, elapsed, ok)
            log.info("step", extra={"step": step.id, "seconds": round(elapsed, 3), "ok": ok})
        pending = Finished(step.id, time.time())
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
                cond.message or f"Timed out after {timeout:g}s waiting for {cond.label}.",
            )
        await asyncio.sleep(min(cond.interval(ctx), max(0.0, deadline - time.monotonic())))
