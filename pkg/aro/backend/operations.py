"""The operation backend, for any kind: a claimed resource document in, a finished operation out.

``OperationBackend(workflow, ...)`` handles one claimed document of ``workflow.kind``:

1. Decode the hub; a terminal document is just let go. Read the resource's operation (its
   ``asyncOperationId``): its ``request`` picks the step list (a document without one -- written before
   operations named their request -- falls back to its provisioning state).
2. Fail the operation if the document was claimed more than ``maxDequeues`` times (a crash loop) or its
   deadline (operation start + the request's deadline) has passed.
3. A child whose parent is gone or being deleted is an orphan (a write that raced its parent's delete):
   its delete steps run instead and the operation fails with 409 Conflict.
4. Start a fresh operation record unless this operation's is there (a resumed run keeps its progress),
   build the kind's step context and run the step list, bounded by the deadline. A parent's delete runs
   the cascade first (children moved to deleting with implicit operations, then waited for) and checks
   once more before its document goes.
5. The outcome (``aro.steps.outcomes``): success -> Succeeded (a delete removes the document); a
   temporary error -> the work is re-queued after a backoff (or the error's delay) while the deadline
   allows, the operation still running; a permanent error or a bug -> Failed with the error. Shutdown
   releases the lease at a step boundary; a lost lease abandons the work.

The operation's terminal status is always written before the resource's lease ends (see
``aro.database.asyncoperations``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.kind import Kinds
from aro.api.resource import ProvisioningState, Request, Resource
from aro.backend.cascade import Cascades
from aro.backend.progress import StepProgress, delayed, fresh_record, is_current
from aro.backend.work import Superseded, Work
from aro.cloud.context import set_request_context
from aro.database import Doc, LostLease, NotFound, Store, StoreError
from aro.database.asyncoperations import AsyncOperations
from aro.database.claims import Claims, holder_of
from aro.database.codec import SealedCodec
from aro.database.documents import OperationDocument
from aro.env.config import BackendConfig
from aro.steps import Action, Mutation, Step, StepEnv, Stopping, Target, TemporaryError, Workflow, classify, run_steps
from aro.util.clock import epoch_of
from aro.util.metrics import Metrics

log = logging.getLogger("aro.backend.operations")

H = TypeVar("H", bound=Resource)
C = TypeVar("C")


@dataclass(frozen=True)
class OperationSettings:
    max_dequeues: int = 5
    deadlines: Mapping[str, float] = field(
        default_factory=lambda: {Request.CREATE: 3600.0, Request.UPDATE: 3600.0, Request.DELETE: 43200.0}
    )
    action_deadline: float = 3600.0  # requests of actions
    retry_seconds: float = 5.0  # first delay after a temporary error; doubles per re-queue of a step
    retry_max_seconds: float = 300.0
    cascade_poll_seconds: float = 1.0  # how often a parent's delete looks at its children again

    @classmethod
    def of(cls, b: BackendConfig) -> OperationSettings:
        return cls(
            max_dequeues=b.max_dequeues,
            deadlines={
                Request.CREATE: b.create_deadline_seconds,
                Request.UPDATE: b.update_deadline_seconds,
                Request.DELETE: b.delete_deadline_seconds,
            },
            action_deadline=b.update_deadline_seconds,
            retry_seconds=b.retry_seconds,
            retry_max_seconds=b.retry_max_seconds,
            cascade_poll_seconds=b.condition_poll_seconds,
        )

    def deadline(self, request: str) -> float:
        return self.deadlines.get(request, self.action_deadline)

    def backoff(self, retries: int) -> float:
        return float(min(self.retry_max_seconds, self.retry_seconds * 2 ** min(retries, 32)))


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} hour" + ("" if seconds == 3600 else "s")
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} minute" + ("" if seconds == 60 else "s")
    return f"{seconds:g} seconds"


class OperationBackend(Generic[H, C]):
    def __init__(
        self,
        workflow: Workflow[H, C],
        kinds: Kinds,
        store: Store,
        env: StepEnv,
        codecs: dict[str, SealedCodec[Any]],
        settings: OperationSettings,
        location: str,
        metrics: Metrics | None = None,
    ):
        self.workflow = workflow
        self.kind = workflow.kind
        self.store = store
        self.env = env
        self.codec: SealedCodec[H] = codecs[self.kind.container_name]
        self.parent_codec = codecs[self.kind.parent.container_name] if self.kind.parent is not None else None
        self.has_children = bool(kinds.children(self.kind))
        self.cascades = Cascades(store, kinds, codecs, location)
        self.operations = AsyncOperations(store)
        self.settings = settings
        self.metrics = metrics or Metrics()

    # --- the step lists ---------------------------------------------------------------------------------

    def steps_for(self, request: str, key: str, partition: str) -> Sequence[Step[C]] | None:
        """The step list of ``request``; a parent's delete is wrapped in the cascade of its children."""
        steps = self.workflow.steps.get(request)
        if steps is None or request != Request.DELETE or not self.has_children:
            return steps

        async def children_gone(_: C) -> None:
            tally = await self.cascades.children(self.kind, key, partition)
            if tally.remaining:
                raise TemporaryError(
                    f"Waiting for {tally.remaining} child resource(s) to be deleted "
                    f"({tally.busy} busy with another operation, {tally.blocking} to be deleted by the client).",
                    delay=self.settings.cascade_poll_seconds,
                )

        prefix = self.kind.name.lower()
        return [
            Action(f"{prefix}.delete_children", children_gone),
            *steps,
            Action(f"{prefix}.children_gone", children_gone),  # a child written while the delete ran
        ]

    # --- one claimed document ---------------------------------------------------------------------------

    async def handle(self, work: Work, stopping: Callable[[], bool]) -> None:
        try:
            await self._handle(work, stopping)
        except (Superseded, asyncio.CancelledError):
            if work.superseded:  # another request took the resource over: this operation ends Canceled
                await self._canceled(work)
            raise

    async def _canceled(self, work: Work) -> None:
        if work.operation_id:
            error = CloudError(
                409, "OperationCanceled", "The operation was canceled: another request on the resource replaced it."
            )
            await self.operations.end(
                work.doc["partitionKey"], work.operation_id, ProvisioningState.CANCELED.value, error.body()
            )
            log.info("operation superseded: canceled", extra={"operationId": work.operation_id})

    async def _handle(self, work: Work, stopping: Callable[[], bool]) -> None:
        hub = self.codec.decode(work.doc)
        state = hub.properties.provisioning_state
        if state.terminal:  # finished already (written by another worker): just let go
            await work.end(lambda d: None)
            return
        partition = work.doc["partitionKey"]
        op_id: str | None = work.doc.get("asyncOperationId")
        op = await self.operations.get(partition, op_id) if op_id else None
        request = (op or {}).get("request") or self.kind.lifecycle.request_of(state) or ""

        if await self._paused(work, hub, request, op_id, state.value):
            return
        if work.dequeues > self.settings.max_dequeues:
            message = f"The operation was attempted {work.dequeues - 1} times without completing and has failed."
            await self._finish(work, request, CloudError(500, errors.INTERNAL_SERVER_ERROR, message))
            return
        deadline = self._deadline(op, hub, request)
        if time.time() >= deadline:
            await self._finish(work, request, self._timed_out(request, hub, op_id))
            return
        orphaned = await self._orphaned(work.doc) if request != Request.DELETE else None
        if orphaned is not None:
            request = Request.DELETE
        steps = self.steps_for(request, work.doc["key"], partition)
        if steps is None:
            message = f"The resource provider has no steps for a {request!r} operation of {self.kind.type}."
            await self._finish(work, request, CloudError(500, errors.INTERNAL_SERVER_ERROR, message))
            return

        if not is_current(hub.properties.progress, request, op_id):
            hub = await self._save(work, fresh_record(state.value, request, op_id, len(steps)))
        target = Target(hub=hub, save=lambda m: self._save(work, m), doc_id=work.doc["id"], partition=partition)
        ctx = self.workflow.context(self.env, target)
        latest: list[H] = [hub]

        async def update(mutate: Mutation[H]) -> None:
            latest[0] = await self._save(work, mutate)

        progress = StepProgress(lambda: latest[0], update, work.owner)
        log.info("working", extra={"state": state.value, "request": request, "dequeues": work.dequeues})
        running = self.metrics.operations_running.labels(state.value)
        running.inc()
        loop = asyncio.get_running_loop()
        scope = asyncio.timeout_at(loop.time() + max(0.0, deadline - time.time()))
        try:
            async with scope:
                await run_steps(steps, ctx, progress, stopping, self.metrics.observe_step)
        except Stopping:
            log.info("stopping at a step boundary; lease released")
            await work.release()
            return
        except (LostLease, NotFound, Superseded):
            raise  # not ours to finish any more: the pool logs it (and gives a superseded item back)
        except Exception as exc:
            if scope.expired():
                await self._finish(work, request, self._timed_out(request, latest[0], op_id))
                return
            outcome = classify(exc)
            if outcome.bug:
                log.exception("step failed")
            if outcome.temporary:
                await self._requeue(work, request, outcome.error, outcome.delay, deadline)
                return
            await self._finish(work, request, outcome.error)
            return
        finally:
            running.dec()
            set_request_context(None, None)
        await self._finish(work, request, orphaned, remove=orphaned is not None)

    # --- helpers ----------------------------------------------------------------------------------------

    def _deadline(self, op: OperationDocument | None, hub: H, request: str) -> float:
        started = epoch_of(op["asyncOperation"]["startTime"]) if op is not None else None
        record = hub.properties.progress
        if started is None and record is not None and record.started_at:
            started = epoch_of(record.started_at)
        paused = record.paused_seconds if record is not None and record.request == request else 0.0
        return (started or time.time()) + self.settings.deadline(request) + paused

    async def _paused(self, work: Work, hub: H, request: str, op_id: str | None, phase: str) -> bool:
        """A paused resource's operation (not a delete) waits: the lease goes back until the pause ends or
        the next re-check; the time waited does not count against the deadline."""
        pause = self.workflow.pause
        if pause is None or request == Request.DELETE or request in pause.runs_while_paused:
            return False
        now = time.time()
        until = pause.until(hub, now)
        record = hub.properties.progress
        if until is None or until <= now:
            if record is not None and record.paused_since is not None:
                waited = max(0.0, now - record.paused_since)

                def resumed(h: H) -> None:
                    r = h.properties.progress
                    if r is not None and r.paused_since is not None:
                        r.paused_seconds += waited
                        r.paused_since = None

                await self._save(work, resumed)
            return False

        def mutate(doc: Doc) -> None:
            h = self.codec.decode(doc)
            if not is_current(h.properties.progress, request, op_id):
                fresh_record(phase, request, op_id, len(self.workflow.steps.get(request) or ()))(h)
            r = h.properties.progress
            assert r is not None
            if r.paused_since is None:
                r.paused_since = now
            pause.mark(h, until)
            doc.update(self.codec.encode(doc, h))

        await work.release(min(until, now + pause.recheck_seconds), mutate)
        log.info("paused: reconciliation waits", extra={"request": request, "pausedUntil": until})
        return True

    def _timed_out(self, request: str, hub: H | None = None, op_id: str | None = None) -> CloudError:
        """OperationTimedOut; naming the temporary error that kept the operation re-queued, if one did
        (whether the deadline passes in the re-queue, while the item waits, or inside the next run)."""
        message = (
            f"The {request.lower()} operation did not complete within its deadline of "
            f"{_duration(self.settings.deadline(request))} and has failed."
        )
        record = hub.properties.progress if hub is not None else None
        last = record.delayed_error if record is not None and is_current(record, request, op_id) else None
        if last and last.get("code"):
            message += f" The last error was {last['code']}: {last.get('message', '')}"
        return CloudError(500, errors.OPERATION_TIMED_OUT, message)

    async def _orphaned(self, doc: Doc) -> CloudError | None:
        """For a child: a Conflict error when its parent is gone or being deleted (else None)."""
        parent = self.kind.parent
        if parent is None or self.parent_codec is None:
            return None
        parent_key = doc["key"].rsplit("/", 2)[0]
        found = await self.store.container(parent.container_name).get_by_key(parent_key, doc["partitionKey"])
        if found is not None and self.parent_codec.state(found) != parent.lifecycle.deleting.value:
            return None
        return CloudError(
            409,
            errors.CONFLICT,
            f"The parent resource was deleted while this {self.kind.title} was being written; it has been removed.",
        )

    async def _release_claims(self, doc: Doc) -> None:
        """After the delete: the values the resource held are free (a failure leaves a stale claim, which
        the next claimant takes over)."""
        key = doc["key"]
        claims = self.kind.claims(
            self.codec.decode(doc, secrets=False), key.rsplit("/", 2)[0] if self.kind.parent else ""
        )
        try:
            await Claims(self.store).release(doc["partitionKey"], claims, holder_of(self.kind.container_name, key))
        except StoreError as e:
            log.warning("claims not released", extra={"error": str(e)})

    async def _save(self, work: Work, mutate: Mutation[H]) -> H:
        written: list[H] = []

        def apply(doc: Doc) -> None:  # may run again on a 412: the last run is what was written
            hub = self.codec.decode(doc)
            mutate(hub)
            doc.update(self.codec.encode(doc, hub))
            written.append(hub)

        await work.save(apply)
        return written[-1]

    async def _requeue(self, work: Work, request: str, error: CloudError, delay: float | None, deadline: float) -> None:
        retries = int(self.codec.progress(work.doc).get("retries") or 0)
        wait = delay if delay is not None else self.settings.backoff(retries)
        not_before = time.time() + wait
        if not_before >= deadline:
            timed_out = self._timed_out(request)
            timed_out.message += f" The last error was {error.code}: {error.message}"
            await self._finish(work, request, timed_out)
            return

        def mutate(doc: Doc) -> None:
            hub = self.codec.decode(doc)
            delayed(error.body(), work.owner)(hub)
            doc.update(self.codec.encode(doc, hub))

        await work.release(not_before, mutate)
        self.metrics.retries.labels(self.kind.name).inc()
        log.warning(
            "temporary error: re-queued",
            extra={
                "error": error.code,
                "errorMessage": error.message,
                "retryInSeconds": round(wait, 3),
                "retries": retries,
            },
        )

    async def _finish(self, work: Work, request: str, error: CloudError | None, *, remove: bool = False) -> None:
        """End the operation (first), then the resource: Succeeded or Failed; a successful delete removes
        it (``remove``: an orphan's delete, whose operation ends Failed with the Conflict, too)."""
        state = self.codec.state(work.doc) or ""
        self.metrics.operations.labels(state, "Succeeded" if error is None else "Failed").inc()
        op_id = work.operation_id  # the one this item was claimed for (a superseded item's end never lands)
        if op_id:
            status = ProvisioningState.SUCCEEDED if error is None else ProvisioningState.FAILED
            await self.operations.end(work.doc["partitionKey"], op_id, status.value, error.body() if error else None)
        if request == Request.DELETE and (error is None or remove):
            await work.delete()
            await self._release_claims(work.doc)
            log.info("resource deleted", extra={"kind": self.kind.name})
            return

        def end(doc: Doc) -> None:
            hub = self.codec.decode(doc)
            self.kind.lifecycle.finish(hub, error.body() if error else None)
            doc.update(self.codec.encode(doc, hub))
            if error is None:
                doc["dequeues"] = 0
            doc["asyncOperationId"] = None

        await work.end(end)
        log.info(
            "operation finished",
            extra={"result": "Succeeded" if error is None else "Failed", "error": error.code if error else None},
        )
