"""The step runner's progress, kept in the resource's operation record (``properties.progress``) through
the operation's lease-checked saves: completed step ids, the running step, a history of runs
``{step, owner, started, ended}``, and the re-queues of the current step."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from aro.api.resource import OperationProgress, Resource, StepRun
from aro.cloud.context import set_request_context
from aro.steps import Finished, Mutation
from aro.util.clock import utc_now

H = TypeVar("H", bound=Resource)


def fresh_record(phase: str, request: str, operation_id: str | None, total: int) -> Mutation[Any]:
    """A mutation that starts a new operation record (another operation, or its first claim)."""

    def mutate(hub: Resource) -> None:
        hub.properties.progress = OperationProgress(
            phase=phase, request=request, operation_id=operation_id, total_steps=total, started_at=utc_now()
        )

    return mutate


def is_current(record: OperationProgress | None, request: str, operation_id: str | None) -> bool:
    return record is not None and (record.request, record.operation_id) == (request, operation_id)


class StepProgress(Generic[H]):
    """``aro.steps.Progress`` over a hub's operation record. ``current`` is the hub as last saved."""

    def __init__(self, current: Callable[[], H], update: Callable[[Mutation[H]], Awaitable[None]], owner: str):
        self._current = current
        self._update = update
        self.owner = owner

    def completed(self) -> Sequence[str]:
        record = self._current().properties.progress
        return record.completed_steps if record else []

    async def record(self, finished: Finished | None, starting: str | None) -> None:
        if starting is not None:
            set_request_context(self.owner, starting)

        def mutate(hub: H) -> None:
            record = hub.properties.progress
            assert record is not None
            record.current_step = starting
            if finished is not None:
                if finished.step not in record.completed_steps:
                    record.completed_steps.append(finished.step)
                record.retries, record.delayed_error = 0, None
                for run in reversed(record.history):
                    if run.step == finished.step and run.owner == self.owner and run.ended is None:
                        run.ended = finished.at
                        break
            if starting is not None:
                record.history.append(StepRun(step=starting, owner=self.owner, started=time.time()))

        await self._update(mutate)


def delayed(error: dict[str, Any], owner: str) -> Mutation[Any]:
    """A mutation recording a re-queue after a temporary error: the interrupted run ends now."""

    def mutate(hub: Resource) -> None:
        record = hub.properties.progress
        if record is None:
            return
        record.retries += 1
        record.delayed_error = error
        for run in reversed(record.history):
            if run.owner == owner and run.ended is None:
                run.ended, run.outcome = time.time(), "requeued"
                break
        record.current_step = None

    return mutate
