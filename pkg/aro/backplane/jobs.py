"""Managed jobs: one run of a managed script on a cluster (backplane-api's ``Job``), as stored documents.

A job is a document of the ``backplaneJobs`` container (partition: the backplane cluster id), claimable
backend work while ``active`` is true. The frontend (``JobStore``) admits it ``Pending`` and ``active``; the
backend's handler (``aro.backend.backplanejobs``) runs it on the cluster and ends it. What the document
holds:

- the script as it was when the job was created (its ``Script`` object and body: what runs is what was
  approved, whatever catalog the backend has), the parameters, who created it (``user``, ``userMD5``), and
  the settings it runs with (deadline, limits, log bound, how long it is kept);
- the backend's progress: ``phase`` (``create`` -> ``follow`` -> ``finish``), the decided ``outcome``
  (status and message) once known, ``kill`` once a DELETE asked for it, ``lastError`` of a retried pass;
- ``status`` (Pending | Running | Succeeded | Failed | Unknown | Killed), ``start``, ``end``, ``message``;
- ``logs``: which log documents hold the pod's output once it finished (``{claim, chunks, bytes,
  truncated}``). The log is kept in chunk documents of the same partition (``log-<job>-<claim>-<n>``, at
  most ``LOG_CHUNK_BYTES`` each, as a Cosmos document is bounded), written by the claim that finished the
  job and named by its lease-checked final write (a chunk of an earlier, lost claim is never read, and
  expires).

The document never holds a secret: parameters are what the caller declared and are shown back in
``jobStatus.envs``; the cluster credential is fetched for each use (``Targets.upstream``).

A finished job (and its log chunks) expires ``keepJobsSeconds`` after it ended (``ttl``). A job being
admitted (not yet ``active``) has a short ``ttl``: a frontend that dies between the create and the
admission leaves nothing behind.

The cluster side of a job is a set of objects named after the job id (``service_account``, ``config_map``,
``rbac_objects``, ``pod``): ServiceAccount and ConfigMap ``job-<id>`` and Pod ``job-<id>`` in
``openshift-backplane-managed-scripts``, and the script's ``rbac`` as Role + RoleBinding
``backplane-job-<id>`` per namespace and ClusterRole + ClusterRoleBinding ``backplane-job-<id>`` -- exactly
the declared rules, bound to the job's service account only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from aro.backplane.errors import BackplaneError
from aro.backplane.scripts import ManagedScript
from aro.backplane.service import BackplaneSettings
from aro.backplane.target import ClusterView, Upstream
from aro.database import Container, Doc, NotFound, PreconditionFailed, Store
from aro.database.containers import BACKPLANE_JOBS
from aro.database.query import And, Compare, In, Query
from aro.util.clock import utc_now

NAMESPACE = "openshift-backplane-managed-scripts"
IMAGE = "quay.io/app-sre/managed-scripts:latest"
SCRIPT_DIR = "/managed-scripts"
SCRIPT_KEY = "script"
JOB_LABEL = "managedjob"
RBAC_GROUP = "rbac.authorization.k8s.io"

PENDING, RUNNING, SUCCEEDED, FAILED, UNKNOWN, KILLED = "Pending", "Running", "Succeeded", "Failed", "Unknown", "Killed"
ACTIVE_STATUSES = (PENDING, RUNNING, UNKNOWN)
TERMINAL_STATUSES = frozenset({SUCCEEDED, FAILED, KILLED})
PHASE_CREATE, PHASE_FOLLOW, PHASE_FINISH = "create", "follow", "finish"

MAX_PARAMETERS = 64
MAX_PARAMETER_BYTES = 8 * 1024  # one value
MAX_JOB_ID = 32
ADMISSION_TTL_SECONDS = 120  # a job document the frontend never admitted expires
LOG_CHUNK_BYTES = 256 * 1024  # JSON escaping may grow text up to 6x: a chunk document stays under 2 MB
LOG_TTL_MARGIN_SECONDS = 3600  # log chunks outlive their job document (which names them)
JOB_PREFIX, LOG_PREFIX = "job-", "log-"
PENDING_GRACE_SECONDS = 300  # past deadline + this, a job that did not end is Failed by the RP itself
FOLLOW_POLL_SECONDS = 0.25

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_job_id() -> str:
    """16 characters of [a-z0-9]: a DNS label part (``job-<id>`` names the cluster objects)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def valid_job_id(job_id: str) -> bool:
    return 0 < len(job_id) <= MAX_JOB_ID and all(c in _ID_ALPHABET for c in job_id)


def user_md5(username: str) -> str:
    return hashlib.md5(username.encode(), usedforsecurity=False).hexdigest()


def job_doc_id(job_id: str) -> str:
    return JOB_PREFIX + job_id


def log_doc_id(job_id: str, claim: str, index: int) -> str:
    return f"{LOG_PREFIX}{job_id}-{claim}-{index:05d}"


def claim_tag(lease_owner: str) -> str:
    """A short, id-safe tag of one claim (a lease owner)."""
    return hashlib.sha256(lease_owner.encode()).hexdigest()[:12]


def object_name(job_id: str) -> str:
    """The pod, config map and service account of a job."""
    return f"job-{job_id}"


def rbac_name(job_id: str) -> str:
    """The roles, cluster role and their bindings of a job."""
    return f"backplane-job-{job_id}"


# -- parameters -------------------------------------------------------------------------------------------


def validate_parameters(script: ManagedScript, parameters: Any) -> list[tuple[str, str]]:
    """The parameters as ``(key, value)`` in the script's declaration order; 400 for an undeclared key, a
    missing required one, a value that is not a string, too large or holds NUL."""
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise BackplaneError(400, "parameters must be an object of strings")
    if len(parameters) > MAX_PARAMETERS:
        raise BackplaneError(400, f"at most {MAX_PARAMETERS} parameters are allowed")
    for key, value in parameters.items():
        if script.env(key) is None:
            declared = ", ".join(e.key for e in script.envs) or "none"
            raise BackplaneError(
                400, f"parameter {str(key)[:128]!r} is not declared by script {script.canonical_name} ({declared})"
            )
        if not isinstance(value, str):
            raise BackplaneError(400, f"parameter {key} must be a string")
        if "\x00" in value:
            raise BackplaneError(400, f"parameter {key} must not contain NUL")
        if len(value.encode()) > MAX_PARAMETER_BYTES:
            raise BackplaneError(400, f"parameter {key} is longer than {MAX_PARAMETER_BYTES} bytes")
    missing = [e.key for e in script.envs if not e.optional and e.key not in parameters]
    if missing:
        raise BackplaneError(400, f"script {script.canonical_name} requires the parameters: {', '.join(missing)}")
    return [(e.key, parameters[e.key]) for e in script.envs if e.key in parameters]


# -- the document -----------------------------------------------------------------------------------------


def new_job(
    view: ClusterView, username: str, script: ManagedScript, envs: list[tuple[str, str]], settings: BackplaneSettings
) -> Doc:
    job_id = new_job_id()
    return {
        "id": job_doc_id(job_id),
        "partitionKey": view.cluster_id,
        "key": job_doc_id(job_id),
        "docType": "job",
        "jobId": job_id,
        "clusterId": view.cluster_id,
        "resourceId": view.resource_id,
        "user": username,
        "userMD5": user_md5(username),
        "createdAt": time.time(),
        "start": utc_now(),
        "end": None,
        "status": PENDING,
        "message": "The job is waiting to be started",
        "active": False,  # admitted by JobStore.create
        "ttl": ADMISSION_TTL_SECONDS,
        "phase": PHASE_CREATE,
        "script": script.to_api(),
        "scriptBody": script.body,
        "envs": [{"key": k, "value": v} for k, v in envs],
        "settings": {
            "deadlineSeconds": settings.job_deadline_seconds,
            "cpu": settings.job_cpu,
            "memory": settings.job_memory,
            "maxLogBytes": settings.max_log_bytes,
            "keepSeconds": settings.keep_jobs_seconds,
        },
        "logs": None,
    }


def job_view(doc: Doc) -> dict[str, Any]:
    """backplane-api's ``Job``."""
    return {
        "jobId": doc["jobId"],
        "message": doc.get("message") or "",
        "userMD5": doc.get("userMD5") or "",
        "jobStatus": {
            "namespace": NAMESPACE,
            "start": doc.get("start"),
            "end": doc.get("end"),
            "script": doc.get("script") or {},
            "envs": [dict(e) for e in doc.get("envs") or []],
            "status": doc.get("status") or UNKNOWN,
        },
    }


def finished(doc: Doc) -> bool:
    return doc.get("status") in TERMINAL_STATUSES and not doc.get("active")


def job_allows(doc: Doc, groups: frozenset[str]) -> bool:
    """Whether a caller of ``groups`` may see the job: those who may run its script."""
    allowed = (doc.get("script") or {}).get("allowedGroups") or []
    return not groups.isdisjoint(allowed)


def hard_deadline(doc: Doc) -> float:
    """When the RP itself fails a job that has not ended (the pod's own deadline plus a grace for a pod
    that never started)."""
    return float(doc.get("createdAt") or 0) + float(doc["settings"]["deadlineSeconds"]) + PENDING_GRACE_SECONDS


def split_log(text: str) -> list[str]:
    """``text`` in chunks of at most ``LOG_CHUNK_BYTES`` UTF-8 bytes (never splitting a character)."""
    data = text.encode()
    out: list[str] = []
    at = 0
    while at < len(data):
        end = min(at + LOG_CHUNK_BYTES, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        out.append(data[at:end].decode())
        at = end
    return out


# -- the cluster objects ----------------------------------------------------------------------------------


def _meta(name: str, job_id: str, namespace: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {JOB_LABEL: job_id}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def namespace_object() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "backplane"}},
    }


def service_account(job_id: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(object_name(job_id), job_id, NAMESPACE)}


def config_map(job_id: str, body: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(object_name(job_id), job_id, NAMESPACE),
        "data": {SCRIPT_KEY: body},
    }


def _subjects(job_id: str) -> list[dict[str, Any]]:
    return [{"kind": "ServiceAccount", "name": object_name(job_id), "namespace": NAMESPACE}]


def rbac_objects(job_id: str, script: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(plural, object) of the script's ``rbac``: a Role and its RoleBinding per declared namespace, a
    ClusterRole and its ClusterRoleBinding for ``clusterRoleRules``; exactly the declared rules."""
    name = rbac_name(job_id)
    rbac = script.get("rbac") or {}
    out: list[tuple[str, dict[str, Any]]] = []
    for role in rbac.get("roles") or []:
        ns = str(role["namespace"])
        out.append(
            (
                "roles",
                {
                    "apiVersion": f"{RBAC_GROUP}/v1",
                    "kind": "Role",
                    "metadata": _meta(name, job_id, ns),
                    "rules": [dict(r) for r in role.get("rules") or []],
                },
            )
        )
        out.append(
            (
                "rolebindings",
                {
                    "apiVersion": f"{RBAC_GROUP}/v1",
                    "kind": "RoleBinding",
                    "metadata": _meta(name, job_id, ns),
                    "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": name},
                    "subjects": _subjects(job_id),
                },
            )
        )
    rules = rbac.get("clusterRoleRules") or []
    if rules:
        out.append(
            (
                "clusterroles",
                {
                    "apiVersion": f"{RBAC_GROUP}/v1",
                    "kind": "ClusterRole",
                    "metadata": _meta(name, job_id),
                    "rules": [dict(r) for r in rules],
                },
            )
        )
        out.append(
            (
                "clusterrolebindings",
                {
                    "apiVersion": f"{RBAC_GROUP}/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": _meta(name, job_id),
                    "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
                    "subjects": _subjects(job_id),
                },
            )
        )
    return out


def pod(doc: Doc) -> dict[str, Any]:
    """The job's pod: the script from its config map, the parameters as its only environment."""
    job_id = str(doc["jobId"])
    s = doc["settings"]
    language = (doc.get("script") or {}).get("language")
    runner = ["python3"] if language == "python" else ["/bin/bash"]
    limits = {"cpu": s["cpu"], "memory": s["memory"]}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(object_name(job_id), job_id, NAMESPACE),
        "spec": {
            "serviceAccountName": object_name(job_id),
            "restartPolicy": "Never",
            "activeDeadlineSeconds": int(s["deadlineSeconds"]),
            "terminationGracePeriodSeconds": 2,
            "containers": [
                {
                    "name": "script",
                    "image": IMAGE,
                    "command": [*runner, f"{SCRIPT_DIR}/{SCRIPT_KEY}"],
                    "env": [{"name": e["key"], "value": e["value"]} for e in doc.get("envs") or []],
                    "resources": {"limits": dict(limits), "requests": dict(limits)},
                    "volumeMounts": [{"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True}],
                }
            ],
            "volumes": [{"name": "script", "configMap": {"name": object_name(job_id)}}],
        },
    }


def cleanup_targets(doc: Doc) -> list[tuple[str, str, str]]:
    """(plural, name, namespace) of every cluster object of the job, the pod first (deleting it stops the
    script)."""
    job_id = str(doc["jobId"])
    out = [
        ("pods", object_name(job_id), NAMESPACE),
        ("configmaps", object_name(job_id), NAMESPACE),
    ]
    for plural, obj in rbac_objects(job_id, doc.get("script") or {}):
        meta = obj["metadata"]
        out.append((plural, str(meta["name"]), str(meta.get("namespace") or "")))
    out.append(("serviceaccounts", object_name(job_id), NAMESPACE))
    return out


# -- the frontend's side ----------------------------------------------------------------------------------


def _active_where() -> And:
    return And((Compare(("docType",), "=", "job"), In(("status",), ACTIVE_STATUSES)))


def cluster_http(up: Upstream, timeout: httpx.Timeout | float = 30.0) -> httpx.AsyncClient:
    """An HTTP client of the cluster API as the backplane: its client certificate, the server verified with
    the cluster's CA -- for ``tls_server_name`` (also sent as SNI) when the URL names another host."""
    hooks: dict[str, list[Callable[[httpx.Request], Awaitable[None]]]] = {}
    if up.tls_server_name:
        name = up.tls_server_name

        async def sni(request: httpx.Request) -> None:
            request.extensions["sni_hostname"] = name

        hooks["request"] = [sni]
    return httpx.AsyncClient(base_url=up.url.rstrip("/"), verify=up.ssl_context(), timeout=timeout, event_hooks=hooks)


def _log_path(job_id: str) -> str:
    return f"/api/v1/namespaces/{NAMESPACE}/pods/{quote(object_name(job_id), safe='')}/log"


UpstreamOf = Callable[[], Awaitable[Upstream]]


@dataclass
class JobStore:
    """The jobs of the store, as the frontend reads and writes them (plain etag-conditional writes; the
    backend's are lease-checked)."""

    store: Store
    settings: BackplaneSettings

    @property
    def container(self) -> Container:
        return self.store.container(BACKPLANE_JOBS.name)

    async def active(self, cluster_id: str) -> int:
        return await self.container.count_where(_active_where(), partition_key=cluster_id)

    async def create(self, view: ClusterView, username: str, script: ManagedScript, envs: list[tuple[str, str]]) -> Doc:
        """Admit a new job, at most ``maxActiveJobsPerCluster`` Pending or Running at once (else 429).

        The document is created not yet claimable; then the cluster's active jobs are ranked by creation
        (time, id) and one ranked past the limit deletes itself -- of racing creates the earliest win -- or
        is made claimable (``active``)."""
        limit = self.settings.max_active_jobs_per_cluster
        too_many = BackplaneError(
            429, f"cluster {view.cluster_id} has {limit} active jobs already (backplane.maxActiveJobsPerCluster)"
        )
        if await self.active(view.cluster_id) >= limit:
            raise too_many
        doc = await self.container.create(new_job(view, username, script, envs, self.settings))
        ranked = await self.container.query(
            Query(where=_active_where(), limit=min(1000, limit + 100)), partition_key=view.cluster_id
        )
        ranked.sort(key=lambda d: (float(d.get("createdAt") or 0), str(d["id"])))
        if doc["id"] not in [d["id"] for d in ranked[:limit]]:
            with contextlib.suppress(NotFound, PreconditionFailed):
                await self.container.delete(doc)
            raise too_many
        for _ in range(10):
            current = await self.container.get(view.cluster_id, doc["id"])
            if current is None:
                raise BackplaneError(500, "the job was removed while it was being created")
            current.update(active=True, ttl=None)
            try:
                return await self.container.replace(current)
            except PreconditionFailed:
                continue
        raise BackplaneError(503, "the job could not be admitted: try again")

    async def list(self, cluster_id: str, limit: int = 1000) -> list[Doc]:
        """The cluster's jobs, newest first (at most ``limit``)."""
        out: list[Doc] = []
        token: str | None = None
        while len(out) < limit:
            page = await self.container.list_page(
                prefix=JOB_PREFIX, partition_key=cluster_id, continuation=token, max_items=200
            )
            out += [d for d in page.items if d.get("docType") == "job"]
            token = page.continuation
            if token is None:
                break
        out.sort(key=lambda d: (float(d.get("createdAt") or 0), str(d["id"])), reverse=True)
        return out[:limit]

    async def get(self, cluster_id: str, job_id: str, groups: frozenset[str]) -> Doc:
        """The job, if the caller may see it (else 404, as for a job that does not exist)."""
        doc = None
        if valid_job_id(job_id):
            doc = await self.container.get(cluster_id, job_doc_id(job_id))
        if doc is None or doc.get("docType") != "job" or not job_allows(doc, groups):
            raise BackplaneError(404, f"Job {job_id[:64]} not found")
        return doc

    async def request_kill(self, doc: Doc, username: str) -> Doc:
        """Ask the backend to stop a job that has not finished: ``kill`` is set (and an idle job made
        claimable at once); the backend deletes its pod and objects, drops its logs, and ends it Killed
        (or, if the script had already ended, with its own status). A finished job only loses its logs."""
        for _ in range(10):
            current = await self.container.get(doc["partitionKey"], doc["id"])
            if current is None:
                raise BackplaneError(404, f"Job {doc['jobId']} not found")
            if finished(current):
                await self.delete_logs(current)
                return current
            if current.get("kill"):
                return current
            current["kill"] = {"by": username, "at": utc_now()}
            if not current.get("leaseOwner") or float(current.get("leaseExpires") or 0) < time.time():
                current["leaseExpires"] = 0  # an idle job waits for its next poll: claim it now
            try:
                return await self.container.replace(current)
            except PreconditionFailed:
                continue
        raise BackplaneError(503, "the job kept changing: try again")

    async def wait_finished(self, doc: Doc, seconds: float) -> Doc:
        deadline = time.monotonic() + seconds
        current: Doc | None = doc
        while current is not None and not finished(current) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            current = await self.container.get(doc["partitionKey"], doc["id"]) or None
        return current or doc

    async def delete_logs(self, doc: Doc) -> None:
        """A finished job's stored logs, removed (the job keeps its status)."""
        logs = doc.get("logs")
        for _ in range(10):
            if logs:
                await self._drop_chunks(doc, logs)
            current = await self.container.get(doc["partitionKey"], doc["id"])
            if current is None or (not current.get("logs") and current.get("logsDeleted")):
                return
            logs = current.get("logs")
            current.update(logs=None, logsDeleted=True)
            try:
                await self.container.replace(current)
            except PreconditionFailed:
                continue
            if logs:
                await self._drop_chunks(doc, logs)
            return

    async def _drop_chunks(self, doc: Doc, logs: Mapping[str, Any]) -> None:
        for i in range(int(logs.get("chunks") or 0)):
            chunk = await self.container.get(doc["partitionKey"], log_doc_id(doc["jobId"], str(logs["claim"]), i))
            if chunk is not None:
                with contextlib.suppress(NotFound, PreconditionFailed):
                    await self.container.delete(chunk)

    async def stored_logs(self, doc: Doc) -> str:
        return await read_stored_logs(self.container, doc)

    async def current_logs(self, doc: Doc, upstream: UpstreamOf) -> str:
        """What the job printed so far: its stored logs once finished; while it runs, its pod's log from the
        cluster API (bounded by the job's log limit); nothing before the pod exists."""
        if finished(doc) or doc.get("logs"):
            return await self.stored_logs(doc)
        if doc.get("phase") != PHASE_FOLLOW:
            return ""
        limit = int(doc["settings"]["maxLogBytes"])
        async with cluster_http(await upstream()) as http:
            try:
                resp = await http.get(_log_path(doc["jobId"]), params={"limitBytes": str(limit)})
            except httpx.HTTPError as e:
                raise BackplaneError(502, f"the cluster API could not be reached: {e}") from None
        if resp.status_code == 200:
            return resp.content[:limit].decode(errors="replace")
        if resp.status_code in (400, 404):  # not started yet, or gone (the backend is ending the job)
            fresh = await self.container.get(doc["partitionKey"], doc["id"])
            return await self.stored_logs(fresh) if fresh and fresh.get("logs") else ""
        raise BackplaneError(502, f"the cluster API answered {resp.status_code} reading the job's log")

    async def follow(self, doc: Doc, upstream: UpstreamOf, max_seconds: float) -> AsyncIterator[bytes]:
        """The job's output until it ends: the pod's log followed through the cluster API while the pod
        runs, then what the stored logs hold beyond what was sent (the whole of them when the job had
        already finished). Bounded by the job's log limit and ``max_seconds``."""
        limit = int(doc["settings"]["maxLogBytes"])
        sent = 0
        streamed = False
        until = time.monotonic() + max_seconds
        current: Doc | None = doc
        while current is not None and time.monotonic() < until:
            if finished(current):
                if sent < limit:
                    rest = (await self.stored_logs(current)).encode()[sent:limit]
                    if rest:
                        yield rest
                return
            if not streamed and current.get("phase") == PHASE_FOLLOW and not current.get("kill"):
                try:
                    async for chunk in self._stream(current, upstream, until):
                        streamed = True
                        chunk = chunk[: limit - sent]
                        if chunk:
                            sent += len(chunk)
                            yield chunk
                        if sent >= limit:
                            return
                except (httpx.HTTPError, BackplaneError, OSError):
                    pass
            await asyncio.sleep(FOLLOW_POLL_SECONDS)
            current = await self.container.get(doc["partitionKey"], doc["id"])

    async def _stream(self, doc: Doc, upstream: UpstreamOf, until: float) -> AsyncIterator[bytes]:
        """The pod's log with ``follow=true`` (nothing when the pod is not running yet or gone)."""
        timeout = httpx.Timeout(30.0, read=None)
        async with cluster_http(await upstream(), timeout) as http:
            async with http.stream("GET", _log_path(doc["jobId"]), params={"follow": "true"}) as resp:
                if resp.status_code != 200:
                    return
                async for chunk in resp.aiter_bytes():
                    yield chunk
                    if time.monotonic() > until:
                        return


async def read_stored_logs(container: Container, doc: Doc) -> str:
    logs = doc.get("logs")
    if not logs:
        return ""
    parts: list[str] = []
    for i in range(int(logs.get("chunks") or 0)):
        chunk = await container.get(doc["partitionKey"], log_doc_id(doc["jobId"], str(logs["claim"]), i))
        if chunk is None:  # expired, or removed by a kill meanwhile
            return "".join(parts)
        parts.append(str(chunk.get("text") or ""))
    return "".join(parts)
