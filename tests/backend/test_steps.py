"""Steps' persisted identities, and the runner: explicit ids, unique within and across every step list
of every registered kind (the framework's cascade steps included); resume at the first unfinished step;
outcomes of what a step raises."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from aro.api.errors import CloudError
from aro.backend.operations import OperationBackend, OperationSettings
from aro.database.codec import codecs_for
from aro.database.containers import containers_for
from aro.database.sqlite import SQLiteStore
from aro.kinds import registry
from aro.steps import Action, Condition, Finished, StepEnv, TemporaryError, Timeouts, classify, run_steps
from aro.util.crypto import Sealer
from tests.fixtures.toy import WORKFLOW as TOY_WORKFLOW


async def test_step_ids_are_unique_within_and_across_every_step_list(tmp_path: Path) -> None:
    served = registry()
    kinds = served.kinds.extended([TOY_WORKFLOW.kind])  # the toy kind: a child, so its parent's delete cascades
    workflows = [*served.workflows, TOY_WORKFLOW]
    store = await SQLiteStore(tmp_path / "aro.db", containers_for(kinds)).open()
    try:
        codecs = codecs_for(kinds, Sealer(b"k" * 32))
        env = StepEnv(store, None, Timeouts())  # type: ignore[arg-type]  # (no step runs here)
        lists: list[tuple[str, Sequence[Any]]] = []
        for w in workflows:
            backend = OperationBackend(w, kinds, store, env, codecs, OperationSettings(), "eastus")
            for request in w.steps:
                steps = backend.steps_for(request, "/subscriptions/s/x", "s")
                assert steps is not None
                lists.append((f"{w.kind.name}/{request}", steps))
    finally:
        await store.close()
    assert any("delete_children" in s.id for _, steps in lists for s in steps), "the cascade steps are included"
    seen = Counter(s.id for _, steps in lists for s in steps)
    assert [i for i, n in seen.items() if n > 1] == [], f"step ids repeated: {lists}"
    assert len(lists) >= 7


@pytest.mark.parametrize("bad", ["ensure_resource_group", "Install.x", "install.", "install..x", "install.x-y", ""])
def test_a_step_id_is_explicit_and_dotted(bad: str) -> None:
    async def fn(ctx: object) -> None: ...

    with pytest.raises(ValueError, match="step id"):
        Action(bad, fn)


class Recorder:
    def __init__(self, done: Sequence[str] = ()):
        self.done = list(done)
        self.writes: list[tuple[str | None, str | None]] = []

    def completed(self) -> Sequence[str]:
        return self.done

    async def record(self, finished: Finished | None, starting: str | None) -> None:
        self.writes.append((finished.step if finished else None, starting))
        if finished is not None:
            self.done.append(finished.step)


async def test_the_runner_resumes_at_the_first_unfinished_step_and_labels_by_the_last_part() -> None:
    ran: list[str] = []
    observed: list[str] = []

    def step(name: str) -> Action[None]:
        async def fn(ctx: None) -> None:
            ran.append(name)

        return Action(f"test.{name}", fn)

    async def ready(ctx: None) -> bool:
        ran.append("ready")
        return True

    steps = [step("a"), step("b"), Condition("test.ready", ready, lambda c: 1.0, lambda c: 0.01), step("c")]
    progress = Recorder(done=["test.a"])
    await run_steps(steps, None, progress, observe=lambda label, s, ok: observed.append(label))
    assert ran == ["b", "ready", "c"]
    assert progress.writes == [(None, "test.b"), ("test.b", "test.ready"), ("test.ready", "test.c"), ("test.c", None)]
    assert observed == ["b", "ready", "c"]


async def test_a_condition_that_never_holds_fails_with_its_message() -> None:
    async def never(ctx: None) -> bool:
        return False

    steps = [Condition("test.wait", never, lambda c: 0.05, lambda c: 0.01, "It never came.")]
    with pytest.raises(CloudError) as e:
        await run_steps(steps, None, Recorder())
    assert (e.value.code, e.value.message, e.value.temporary) == ("DeploymentFailed", "It never came.", False)


@pytest.mark.parametrize(
    ("exc", "temporary", "code", "delay"),
    [
        (TemporaryError("not yet", delay=3.0), True, "RetryableError", 3.0),
        (CloudError(503, "ServiceUnavailable", "x", temporary=True), True, "ServiceUnavailable", None),
        (CloudError(429, "TooManyRequests", "x", temporary=True), True, "TooManyRequests", None),
        (TimeoutError(), True, "GatewayTimeout", None),
        (CloudError(400, "QuotaExceeded", "x"), False, "QuotaExceeded", None),
        (CloudError(500, "DeploymentFailed", "timed out waiting"), False, "DeploymentFailed", None),
        (KeyError("internal detail"), False, "InternalServerError", None),
    ],
)
def test_outcomes(exc: Exception, temporary: bool, code: str, delay: float | None) -> None:
    outcome = classify(exc)
    assert (outcome.temporary, outcome.error.code, outcome.delay) == (temporary, code, delay)
    assert "internal detail" not in outcome.error.message
