"""The backend's side of managed jobs (``aro.backplane.jobs``): one claim of a job document is one short pass
of its state machine on the cluster API (``Targets.upstream``: the backplane's ``system:masters``
certificate), then the lease is given back with a ``not_before`` -- a job waiting for its pod pins no
worker, and a thousand running jobs cost a thousand short polls, not a thousand workers.

The passes, by the document's ``phase`` (every write lease-checked through ``Work``):

- ``create``: the cluster must be usable (``refuse_unless_usable``); the namespace
  ``openshift-backplane-managed-scripts`` if absent, then the job's ServiceAccount, its roles and bindings
  (exactly the script's ``rbac``), the ConfigMap holding the script, each create-or-replace under its
  deterministic name (``aro.backplane.jobs``); the Pod is created only when it is not there (a
  pass that ran before the crash may have made it). Then ``follow``.
- ``follow``: the pod's phase is the job's status (Pending, Running, Unknown); Succeeded or Failed decide
  the ``outcome``; a pod that is gone decides Failed ("deleted before it finished"). Polled every
  ``poll_seconds(age)``: 0.5 s for a young job, up to 5 s.
- ``finish`` (an outcome decided -- saved first, so a resumed pass never runs the script again): the pod's
  log (at most the job's ``maxLogBytes``) is copied into log documents (unless the job is being deleted),
  then every object of the job is deleted on the cluster (the pod first: the kubelet kills the script),
  then one final write ends the job: status, ``end``, not ``active`` any more, ``ttl``.

What ends a job besides its pod: a DELETE (``kill``: Killed -- or the script's own status if it had
already ended -- logs dropped); the cluster gone (Failed; nothing left to delete); the cluster not usable
when the job starts (Failed with backplane-cli's message); an object the cluster API refuses (a role in a
namespace that does not exist: Failed with the API's message); the RP's own deadline (the pod's
``activeDeadlineSeconds`` plus ``PENDING_GRACE_SECONDS``: Failed, never Running forever); more than
``maxClaims`` claims that did not end (a runner that keeps crashing: Failed). A temporary error (the
cluster API unreachable, 5xx) gives the job back with a growing delay; while finishing, after
``FINISH_ATTEMPTS`` of them the job ends anyway, saying what may be left on the cluster.

A backend that dies mid-pass leaves the lease to expire; the next claim reads the phase and carries on
(objects re-applied under the same names, the pod found and followed), as every step is idempotent.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aro.api.errors import CloudError
from aro.backend.work import Work
from aro.backplane.errors import BackplaneError
from aro.backplane.jobs import (
    FAILED,
    KILLED,
    LOG_TTL_MARGIN_SECONDS,
    NAMESPACE,
    PENDING,
    PHASE_CREATE,
    PHASE_FINISH,
    PHASE_FOLLOW,
    RUNNING,
    SUCCEEDED,
    UNKNOWN,
    claim_tag,
    cleanup_targets,
    cluster_http,
    config_map,
    hard_deadline,
    log_doc_id,
    namespace_object,
    object_name,
    pod,
    rbac_objects,
    service_account,
    split_log,
)
from aro.backplane.target import ClusterView, Targets, Upstream, refuse_unless_usable
from aro.cloud.kube import KubeAPI
from aro.database import Conflict, Doc, NotFound, PreconditionFailed
from aro.util.clock import utc_now

log = logging.getLogger("aro.backend.backplanejobs")

FINISH_ATTEMPTS = 10
RETRY_SECONDS, RETRY_MAX_SECONDS = 1.0, 60.0
KUBE_TIMEOUT_SECONDS = 30.0
_MESSAGES = {
    PENDING: "The job's pod is waiting to start",
    RUNNING: "The script is running",
    UNKNOWN: "The state of the job's pod is unknown",
}


class _Retry(Exception):
    """A temporary problem: give the job back and try again later."""


class _Fail(Exception):
    """A permanent problem: the job fails with this message."""


class _ClusterGone(Exception):
    """The cluster no longer exists: nothing of the job is left to delete on it."""


def poll_seconds(age: float) -> float:
    """How long a job waits between two looks at its pod: a young job is looked at often."""
    if age < 30:
        return 0.5
    if age < 300:
        return 2.0
    return 5.0


@contextlib.asynccontextmanager
async def cluster_api(up: Upstream) -> AsyncIterator[KubeAPI]:
    """The cluster's API as the backplane (``aro.backplane.jobs.cluster_http``)."""
    async with cluster_http(up, KUBE_TIMEOUT_SECONDS) as http:
        yield KubeAPI(up.url, http)


def _pod_outcome(obj: dict[str, Any]) -> tuple[str, str]:
    """(status, message) of a pod that has ended."""
    status = obj.get("status") or {}
    phase = str(status.get("phase") or "")
    terminated: dict[str, Any] = {}
    for cs in status.get("containerStatuses") or []:
        terminated = ((cs or {}).get("state") or {}).get("terminated") or {}
        if terminated:
            break
    code = terminated.get("exitCode")
    reason = str(status.get("reason") or terminated.get("reason") or "")
    detail = str(status.get("message") or terminated.get("message") or "")
    if phase == SUCCEEDED:
        return SUCCEEDED, "The script finished successfully"
    text = "The script failed"
    if code is not None:
        text += f" (exit code {code})"
    if reason:
        text += f": {reason}"
    if detail:
        text += f": {detail[:500]}"
    return FAILED, text


class BackplaneJobs:
    """The ``backplaneJobs`` container's ``Handler``."""

    def __init__(self, targets: Targets, max_claims: int = 20) -> None:
        self.targets = targets
        self.max_claims = max_claims

    async def handle(self, work: Work, stopping: Callable[[], bool]) -> None:
        doc = work.doc
        if doc.get("docType") != "job" or not doc.get("active"):
            await work.end(lambda d: d.update(active=False))  # never claimable work: make sure of it
            return
        try:
            await self._pass(work)
        except _Retry as e:
            await self._retry(work, str(e))

    # -- one pass -----------------------------------------------------------------------------------------

    async def _pass(self, work: Work) -> None:
        if not work.doc.get("outcome"):
            decided = self._decided(work.doc, work, time.time())
            if decided is not None:
                await self._decide(work, *decided)
        if work.doc.get("outcome"):
            await self._finish(work)
            return
        try:
            try:
                view = await self._find(work.doc)
            except _ClusterGone as e:
                await self._decide(work, FAILED, str(e))
                await self._finish(work, gone=True)
                return
            if work.doc.get("phase") == PHASE_CREATE:
                try:
                    refuse_unless_usable(view, "running ManagedJob")
                except BackplaneError as e:
                    raise _Fail(e.message) from None
                async with cluster_api(await self._upstream(view)) as kube:
                    await self._create(kube, work.doc)
                await work.save(lambda d: d.update(phase=PHASE_FOLLOW, lastError=None))
            async with cluster_api(await self._upstream(view)) as kube:
                await self._follow(work, kube)
        except _Fail as e:
            await self._decide(work, FAILED, str(e))
            await self._finish(work)

    def _decided(self, doc: Doc, work: Work, now: float) -> tuple[str, str] | None:
        """An outcome that needs no look at the cluster: a kill, the RP's deadline, a runner that keeps
        dying."""
        kill = doc.get("kill")
        if kill:
            return KILLED, f"Killed by {kill.get('by') or 'a user'}"
        if now > hard_deadline(doc):
            reason = f": {doc['lastError']}" if doc.get("lastError") else ""
            return FAILED, f"The job did not finish within {doc['settings']['deadlineSeconds']}s{reason}"
        if work.dequeues > self.max_claims:
            return FAILED, f"The job's runner stopped {work.dequeues - 1} times while running it"
        return None

    async def _decide(self, work: Work, status: str, message: str) -> None:
        """Record the outcome before acting on it: a resumed pass finishes, it never runs the job again."""

        def mutate(d: Doc) -> None:
            if not d.get("outcome"):
                d["outcome"] = {"status": status, "message": message}
                d["phase"] = PHASE_FINISH

        await work.save(mutate)

    async def _find(self, doc: Doc) -> ClusterView:
        try:
            return await self.targets.find(str(doc["clusterId"]))
        except BackplaneError as e:
            if e.status == 404:
                raise _ClusterGone(f"The cluster is gone: {e.message}") from None
            if e.status >= 500:
                raise _Retry(e.message) from None
            raise _Fail(e.message) from None

    async def _upstream(self, view: ClusterView) -> Upstream:
        try:
            return await self.targets.upstream(view)
        except BackplaneError as e:
            if e.status == 404:
                raise _Fail(f"The cluster is gone: {e.message}") from None
            if e.status >= 500:
                raise _Retry(e.message) from None
            raise _Fail(e.message) from None

    # -- the cluster side ---------------------------------------------------------------------------------

    async def _create(self, kube: KubeAPI, doc: Doc) -> None:
        job_id = str(doc["jobId"])
        with _kube_errors("creating the job's objects"):
            if await kube.get("namespaces", NAMESPACE) is None:
                await kube.apply("namespaces", namespace_object())
            await kube.apply("serviceaccounts", service_account(job_id))
            for plural, obj in rbac_objects(job_id, doc.get("script") or {}):
                await kube.apply(plural, obj)
            await kube.apply("configmaps", config_map(job_id, str(doc.get("scriptBody") or "")))
            if await kube.get("pods", object_name(job_id), NAMESPACE) is None:
                await kube.apply("pods", pod(doc))

    async def _follow(self, work: Work, kube: KubeAPI) -> None:
        doc = work.doc
        with _kube_errors("reading the job's pod"):
            obj = await kube.get("pods", object_name(str(doc["jobId"])), NAMESPACE)
        if obj is None:
            raise _Fail(f"The job's pod {object_name(str(doc['jobId']))} was deleted before it finished")
        phase = str((obj.get("status") or {}).get("phase") or PENDING)
        if phase in (SUCCEEDED, FAILED):
            await self._decide(work, *_pod_outcome(obj))
            await self._finish(work, kube=kube)
            return
        status = phase if phase in (PENDING, RUNNING) else UNKNOWN
        age = time.time() - float(doc.get("createdAt") or 0)

        def mutate(d: Doc) -> None:
            d.update(status=status, message=_MESSAGES[status], lastError=None, retries=0)

        await work.release(not_before=time.time() + poll_seconds(age), mutate=mutate)

    async def _finish(self, work: Work, *, gone: bool = False, kube: KubeAPI | None = None) -> None:
        """Copy the log, delete the job's objects on the cluster, end the job."""
        note = ""
        if not gone:
            try:
                if kube is not None:
                    await self._clean_cluster(work, kube)
                else:
                    view = await self._find(work.doc)
                    async with cluster_api(await self._upstream(view)) as k:
                        await self._clean_cluster(work, k)
            except _ClusterGone:
                pass
            except (_Retry, _Fail) as e:
                attempts = int(work.doc.get("finishAttempts") or 0) + 1
                if isinstance(e, _Retry) and attempts < FINISH_ATTEMPTS and work.dequeues <= self.max_claims:
                    await self._retry(work, str(e), finishAttempts=attempts)
                    return
                note = f" (its objects on the cluster may remain: {e})"
        stored = work.doc.get("logs")
        keep = int(work.doc["settings"]["keepSeconds"])

        def end(d: Doc) -> None:
            outcome = d["outcome"]
            d.update(
                status=outcome["status"],
                message=outcome["message"] + note,
                end=d.get("end") or utc_now(),
                active=False,
                ttl=keep,
                lastError=None,
            )
            if d.get("kill"):  # a deleted job keeps no logs
                d.update(logs=None, logsDeleted=True)

        final = await work.end(end)
        if final.get("logsDeleted") and stored:
            await self._drop_logs(work, final, stored)
        log.info("managed job ended", extra={"jobId": final["jobId"], "status": final["status"]})

    async def _clean_cluster(self, work: Work, kube: KubeAPI) -> None:
        doc = work.doc
        if not doc.get("kill") and doc.get("logs") is None and doc["outcome"]["status"] != KILLED:
            text = await self._pod_log(kube, doc)
            logs = await self._store_logs(work, text)
            await work.save(lambda d: d.update(logs=logs))
        with _kube_errors("deleting the job's objects"):
            for plural, name, namespace in cleanup_targets(doc):
                await kube.delete(plural, name, namespace)

    async def _pod_log(self, kube: KubeAPI, doc: Doc) -> str:
        """The pod's log, at most the job's ``maxLogBytes`` ("" when there is none to read: the pod never
        started, or is gone)."""
        limit = int(doc["settings"]["maxLogBytes"])
        try:
            text = await kube.pod_log(NAMESPACE, object_name(str(doc["jobId"])), limit_bytes=limit)
        except CloudError as e:
            if e.temporary:
                raise _Retry(f"reading the job's log: {e.message}") from None
            return ""
        return text.encode()[:limit].decode(errors="ignore")

    # -- the logs -----------------------------------------------------------------------------------------

    async def _store_logs(self, work: Work, text: str) -> dict[str, Any]:
        """The log as chunk documents of this claim (``log-<job>-<claim>-<n>``); returns what the job
        document names them by."""
        doc = work.doc
        claim = claim_tag(work.owner)
        chunks = split_log(text)
        ttl = int(doc["settings"]["keepSeconds"]) + LOG_TTL_MARGIN_SECONDS
        for i, part in enumerate(chunks):
            cid = log_doc_id(str(doc["jobId"]), claim, i)
            chunk: Doc = {
                "id": cid,
                "partitionKey": doc["partitionKey"],
                "key": cid,
                "docType": "log",
                "jobId": doc["jobId"],
                "index": i,
                "text": part,
                "ttl": ttl,
            }
            try:
                await work.container.create(chunk)
            except Conflict:  # written by an earlier try of this claim
                current = await work.container.get(doc["partitionKey"], cid)
                if current is not None:
                    await work.container.replace({**chunk, "etag": current["etag"]})
        limit = int(doc["settings"]["maxLogBytes"])
        size = len(text.encode())
        return {"claim": claim, "chunks": len(chunks), "bytes": size, "truncated": size >= limit}

    async def _drop_logs(self, work: Work, doc: Doc, logs: dict[str, Any]) -> None:
        for i in range(int(logs.get("chunks") or 0)):
            chunk = await work.container.get(doc["partitionKey"], log_doc_id(str(doc["jobId"]), str(logs["claim"]), i))
            if chunk is not None:
                with contextlib.suppress(NotFound, PreconditionFailed):
                    await work.container.delete(chunk)

    # -- giving the job back ------------------------------------------------------------------------------

    async def _retry(self, work: Work, error: str, **fields: Any) -> None:
        retries = int(work.doc.get("retries") or 0) + 1
        delay = min(RETRY_MAX_SECONDS, RETRY_SECONDS * 2 ** min(retries - 1, 10))
        log.warning("managed job: retrying later", extra={"jobId": work.doc.get("jobId"), "error": error[:500]})

        def mutate(d: Doc) -> None:
            d.update(lastError=error[:1000], retries=retries, **fields)

        await work.release(not_before=time.time() + delay, mutate=mutate)


@contextlib.contextmanager
def _kube_errors(what: str) -> Any:
    """The cluster API's errors as the job sees them: temporary ones retried, the others fail it."""
    try:
        yield
    except CloudError as e:
        if e.temporary:
            raise _Retry(f"{what}: {e.message}") from None
        raise _Fail(f"{what}: {e.message}") from None
