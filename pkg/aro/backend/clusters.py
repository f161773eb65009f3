"""The cluster state machine (as ARO's):

- Creating -> install steps -> Succeeded | Failed (failedProvisioningState=Creating)
- Updating/AdminUpdating -> update steps -> Succeeded | Failed (failedProvisioningState=Updating),
  lastProvisioningState kept
- Deleting -> delete steps -> operation Succeeded -> cluster document removed

The async operation's terminal status is written before the cluster's lease ends (see
aro.database.asyncoperations). A document dequeued more than ``maxDequeues`` times is failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from aro.api import errors
from aro.api.cluster import InstallProgress, OpenShiftCluster, ProvisioningState, StepRun
from aro.api.errors import CloudError
from aro.backend.work import Work
from aro.cloud.base import Cloud
from aro.cloud.context import set_request_context
from aro.cluster import delete, install, update
from aro.cluster.context import ClusterContext, Mutation, Timeouts
from aro.cluster.steps import Finished, Step, Stopping, run_steps
from aro.database import Doc, LostLease, NotFound, Store, patch
from aro.database.asyncoperations import utc_now
from aro.database.clusters import ClusterCodec
from aro.database.containers import ASYNC_OPERATIONS, BILLING
from aro.util.metrics import Metrics

log = logging.getLogger("aro.backend.clusters")

STEPS: dict[ProvisioningState, Sequence[Step[ClusterContext]]] = {
    ProvisioningState.CREATING: install.STEPS,
    ProvisioningState.UPDATING: update.STEPS,
    ProvisioningState.ADMIN_UPDATING: update.STEPS,
    ProvisioningState.DELETING: delete.STEPS,
}


class ClusterBackend:
    def __init__(
        self,
        store: Store,
        codec: ClusterCodec,
        cloud: Cloud,
        max_dequeues: int,
        timeouts: Timeouts,
        metrics: Metrics | None = None,
    ):
        self.store = store
        self.codec = codec
        self.cloud = cloud
        self.max_dequeues = max_dequeues
        self.timeouts = timeouts
        self.metrics = metrics or Metrics()

    async def handle(self, work: Work, stopping: Callable[[], bool]) -> None:
        oc = self.codec.decode(work.doc)
        state = oc.properties.provisioning_state
        steps = STEPS.get(state)
        if steps is None:  # terminal already (written by another worker): just let go
            await work.end(lambda d: None)
            return
        if work.dequeues > self.max_dequeues:
            await self._finish(
                work,
                oc,
                CloudError(
                    500,
                    errors.INTERNAL_SERVER_ERROR,
                    f"The operation was attempted {work.dequeues - 1} times without completing and has failed.",
                ),
            )
            return
        phase, op_id = state.value, work.doc.get("asyncOperationId")
        progress_of = oc.properties.install
        if progress_of is None or (progress_of.phase, progress_of.operation_id) != (phase, op_id):
            oc = await self._save(work, lambda c: _reset_progress(c, phase, op_id, len(steps)))
        ctx = ClusterContext(
            oc=oc,
            cloud=self.cloud,
            save=lambda m: self._save(work, m),
            billing=self.store.container(BILLING.name),
            cluster_doc_id=work.doc["id"],
            timeouts=self.timeouts,
        )
        progress = _Progress(ctx, work.owner)
        log.info("working", extra={"state": phase, "dequeues": work.dequeues})
        running = self.metrics.operations_running.labels(phase)
        running.inc()
        try:
            await run_steps(steps, ctx, progress, stopping, self.metrics.observe_step)
        except Stopping:
            log.info("stopping at a step boundary; lease released")
            await work.end(lambda d: d.update(dequeues=max(0, int(d.get("dequeues") or 1) - 1)))
            return
        except CloudError as e:
            await self._finish(work, ctx.oc, e)
            return
        except (LostLease, NotFound):
            raise  # not ours to finish any more: the pool logs it
        except Exception:  # any other failure fails the operation, without internals in the error
            log.exception("step failed")
            await self._finish(work, ctx.oc, errors.internal_server_error())
            return
        finally:
            running.dec()
            set_request_context(None, None)
        await self._finish(work, ctx.oc, None)

    async def _save(self, work: Work, mutate: Mutation) -> OpenShiftCluster:
        written: list[OpenShiftCluster] = []

        def apply(doc: Doc) -> None:  # may run again on a 412: the last run is what was written
            oc = self.codec.decode(doc)
            mutate(oc)
            doc.update(self.codec.encode(doc, oc))
            written.append(oc)

        await work.save(apply)
        return written[-1]

    async def _finish(self, work: Work, oc: OpenShiftCluster, error: CloudError | None) -> None:
        state = oc.properties.provisioning_state
        self.metrics.operations.labels(state.value, "Succeeded" if error is None else "Failed").inc()
        op_id = work.doc.get("asyncOperationId")
        if op_id:
            await self._end_operation(work.doc["partitionKey"], op_id, error)
        if error is None and state is ProvisioningState.DELETING:
            await work.delete()
            log.info("cluster deleted")
            return

        def end(doc: Doc) -> None:
            c = self.codec.decode(doc)
            p = c.properties
            if error is None:
                p.provisioning_state = ProvisioningState.SUCCEEDED
                p.failed_provisioning_state = None
                p.last_error = None
                p.last_provisioning_state = None
                doc["dequeues"] = 0
            else:
                p.failed_provisioning_state = (
                    ProvisioningState.UPDATING if state is ProvisioningState.ADMIN_UPDATING else state
                )
                p.provisioning_state = ProvisioningState.FAILED
                p.last_error = error.body()
            doc.update(self.codec.encode(doc, c))
            doc["asyncOperationId"] = None

        await work.end(end)
        log.info(
            "operation finished",
            extra={
                "result": "Succeeded" if error is None else "Failed",
                "error": error.code if error else None,
            },
        )

    async def _end_operation(self, partition: str, op_id: str, error: CloudError | None) -> None:
        def mutate(doc: Doc) -> None:
            op: dict[str, Any] = doc["asyncOperation"]
            op["status"] = ProvisioningState.SUCCEEDED.value if error is None else ProvisioningState.FAILED.value
            op["endTime"] = utc_now()
            if error is not None:
                op["error"] = error.body()
            else:
                op.pop("error", None)

        try:
            await patch(self.store.container(ASYNC_OPERATIONS.name), partition, op_id, mutate)
        except NotFound:
            log.warning("async operation document missing (expired?)", extra={"operationId": op_id})


def _reset_progress(oc: OpenShiftCluster, phase: str, operation_id: str | None, total: int) -> None:
    oc.properties.install = InstallProgress(
        phase=phase, operation_id=operation_id, total_steps=total, started_at=utc_now()
    )


class _Progress:
    def __init__(self, ctx: ClusterContext, owner: str):
        self.ctx = ctx
        self.owner = owner

    def completed(self) -> Sequence[str]:
        install_ = self.ctx.oc.properties.install
        return install_.completed_steps if install_ else []

    async def record(self, finished: Finished | None, starting: str | None) -> None:
        if starting is not None:
            set_request_context(self.owner, starting)

        def mutate(oc: OpenShiftCluster) -> None:
            progress = oc.properties.install
            assert progress is not None
            progress.current_step = starting
            if finished is not None:
                if finished.step not in progress.completed_steps:
                    progress.completed_steps.append(finished.step)
                for run in reversed(progress.history):
                    if run.step == finished.step and run.owner == self.owner and run.ended is None:
                        run.ended = finished.at
                        break
            if starting is not None:
                progress.history.append(StepRun(step=starting, owner=self.owner, started=time.time()))

        await self.ctx.update(mutate)
