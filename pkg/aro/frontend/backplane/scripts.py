"""Managed scripts and managed jobs (backplane-api's ``/backplane/script`` paths; ``aro.backplane.scripts``,
``aro.backplane.jobs``). Every route is for SREs and names a cluster that must exist.

- ``GET /backplane/script/{clusterId}[?scriptname=<group>/<name>]``: the scripts the caller may run (their
  ``allowedGroups`` meet the caller's groups), as ``Script`` objects; 404 "Script Not Found" for a
  ``scriptname`` that is unknown or not the caller's to run.
- ``POST /backplane/script/{clusterId}/job`` ``{canonicalName, parameters}``: a new job, ``Pending`` (403
  outside the script's ``allowedGroups``; 400 for parameters the script does not declare, a required one
  missing, a bad value, or a cluster that is not usable; 429 past ``backplane.maxActiveJobsPerCluster``).
- ``GET .../job``: the cluster's jobs the caller may see -- those of scripts the caller may run (as
  backplane-api shows the jobs "the user has access to"), whoever started them; newest first.
- ``GET .../job/{jobId}``; ``DELETE .../job/{jobId}``: stop it (Killed: its pod and objects deleted on the
  cluster, its logs dropped; the route waits a few seconds for that); a finished job only loses its logs.
- ``GET .../job/{jobId}/logs``: ``{"logs"}`` (while it runs: its pod's log so far); ``?follow=true``
  streams the output (application/octet-stream) until the job ends; ``?version=v2`` the same bytes
  without following.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from aro.backplane.errors import BackplaneError
from aro.backplane.jobs import JobStore, job_allows, job_view, validate_parameters
from aro.backplane.service import Backplane
from aro.backplane.target import ClusterView, Upstream, refuse_unless_usable
from aro.frontend.backplane.common import BackplaneDep, Sre, answer, json_body
from aro.frontend.services import services_of
from aro.ledger.identity import Principal

router = APIRouter()

KILL_WAIT_SECONDS = 10.0
_CREATE_FIELDS = frozenset({"canonicalName", "parameters"})


def jobs_of(request: Request, backplane: BackplaneDep) -> JobStore:
    return JobStore(services_of(request).store, backplane.settings)


Jobs = Annotated[JobStore, Depends(jobs_of)]


def _upstream(backplane: Backplane, view: ClusterView) -> Any:
    cached: list[Upstream] = []

    async def get() -> Upstream:
        if not cached:
            cached.append(await backplane.targets.upstream(view))
        return cached[0]

    return get


@router.get("/script/{cluster_id}")
async def list_scripts(cluster_id: str, sre: Sre, backplane: BackplaneDep, scriptname: str | None = None) -> Response:
    await backplane.targets.find(cluster_id)
    if scriptname is not None:
        script = backplane.catalog.find(scriptname)
        if script is None or not script.allows(sre.groups):
            raise BackplaneError(404, "Script Not Found")
        return answer([script.to_api()])
    return answer([s.to_api() for s in backplane.catalog.visible_to(sre.groups)])


@router.post("/script/{cluster_id}/job")
async def create_job(cluster_id: str, request: Request, sre: Sre, backplane: BackplaneDep, jobs: Jobs) -> Response:
    view = await backplane.targets.find(cluster_id)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BackplaneError(400, "The request body must be an object {canonicalName, parameters}")
    unknown = sorted(str(k)[:64] for k in body if k not in _CREATE_FIELDS)
    if unknown:
        raise BackplaneError(400, f"Unknown fields in the request body: {', '.join(unknown)}")
    name = body.get("canonicalName")
    if not isinstance(name, str) or not name:
        raise BackplaneError(400, "canonicalName is required")
    script = backplane.catalog.find(name)
    if script is None:
        raise BackplaneError(404, "Script Not Found")
    if not script.allows(sre.groups):
        raise BackplaneError(403, f"User {sre.username} is not allowed to run script {name}")
    refuse_unless_usable(view, "creating ManagedJob")
    envs = validate_parameters(script, body.get("parameters"))
    doc = await jobs.create(view, sre.username, script, envs)
    return answer(job_view(doc))


@router.get("/script/{cluster_id}/job")
async def list_jobs(cluster_id: str, sre: Sre, backplane: BackplaneDep, jobs: Jobs) -> Response:
    view = await backplane.targets.find(cluster_id)
    docs = await jobs.list(view.cluster_id)
    return answer([job_view(d) for d in docs if job_allows(d, sre.groups)])


async def _job(cluster_id: str, job_id: str, sre: Principal, backplane: Backplane, jobs: JobStore) -> Any:
    view = await backplane.targets.find(cluster_id)
    return view, await jobs.get(view.cluster_id, job_id, sre.groups)


@router.get("/script/{cluster_id}/job/{job_id}")
async def get_job(cluster_id: str, job_id: str, sre: Sre, backplane: BackplaneDep, jobs: Jobs) -> Response:
    _, doc = await _job(cluster_id, job_id, sre, backplane, jobs)
    return answer(job_view(doc))


@router.delete("/script/{cluster_id}/job/{job_id}")
async def delete_job(cluster_id: str, job_id: str, sre: Sre, backplane: BackplaneDep, jobs: Jobs) -> Response:
    _, doc = await _job(cluster_id, job_id, sre, backplane, jobs)
    if doc.get("status") in ("Succeeded", "Failed", "Killed") and not doc.get("active"):
        await jobs.request_kill(doc, sre.username)
        message = f"Job {job_id} had already finished ({doc['status']}): its logs were deleted"
        return answer({"statusCode": 200, "message": message})
    asked = await jobs.request_kill(doc, sre.username)
    done = await jobs.wait_finished(asked, KILL_WAIT_SECONDS)
    if done.get("status") in ("Succeeded", "Failed", "Killed") and not done.get("active"):
        message = f"Job {job_id} was stopped ({done['status']}) and its resources were deleted"
    else:
        message = f"Job {job_id} is being stopped; its resources are being deleted"
    return answer({"statusCode": 200, "message": message})


@router.get("/script/{cluster_id}/job/{job_id}/logs")
async def job_logs(
    cluster_id: str,
    job_id: str,
    sre: Sre,
    backplane: BackplaneDep,
    jobs: Jobs,
    follow: Annotated[bool, Query()] = False,
    version: str | None = None,
) -> Response:
    view, doc = await _job(cluster_id, job_id, sre, backplane, jobs)
    upstream = _upstream(backplane, view)
    if follow:

        async def stream() -> AsyncIterator[bytes]:
            async for chunk in jobs.follow(doc, upstream, backplane.settings.proxy_max_seconds):
                yield chunk

        return StreamingResponse(stream(), media_type="application/octet-stream")
    text = await jobs.current_logs(doc, upstream)
    if version == "v2":
        return Response(text.encode(), media_type="application/octet-stream")
    return answer({"logs": text})
