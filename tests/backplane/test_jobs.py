"""Managed jobs (``aro.backplane.jobs``, ``aro.backend.backplanejobs``, ``/backplane/script/{clusterId}/job``).

Units, against a real SQLite store and a stand-in cluster API (each claim one pass, as the pool runs it):
parameters checked against the script's ``envs``; the pod, roles and bindings exactly as specified; the
state machine Pending -> Running -> Succeeded with the log copied and every cluster object deleted; a kill,
a pod that vanished, a cluster that is gone, the RP's deadline, temporary errors and a backend that dies
mid-pass (the next claim resumes and creates the pod once; a runner that keeps dying fails the job); the
log split into chunk documents of the claim that finished the job; admission bounded per cluster.

End to end, through a real `aro rp` (its simulator's kubelet runs the scripts): a shipped script with
parameters Succeeds and its logs are its output; the Python one too; a script whose rbac lacks a permission
meets Forbidden and Fails; a role in a missing namespace Fails the job; callers outside ``allowedGroups``
can neither run nor see a job; the parameters are validated (400) and the active jobs bounded (429); a
DELETE kills a running job (Killed, its pod and roles gone from the cluster API, its logs dropped);
``follow=true`` streams the output as it is printed; the backend killed mid-job (separate processes) is
resumed by another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aro.api.errors import CloudError
from aro.backend import backplanejobs
from aro.backend.backplanejobs import BackplaneJobs
from aro.backend.work import Work
from aro.backplane.errors import BackplaneError
from aro.backplane.jobs import (
    IMAGE,
    LOG_CHUNK_BYTES,
    NAMESPACE,
    JobStore,
    job_view,
    log_doc_id,
    read_stored_logs,
    split_log,
    validate_parameters,
)
from aro.backplane.scripts import Catalog, load_catalog
from aro.backplane.service import BackplaneSettings
from aro.backplane.target import ClusterFacts, ClusterView, Upstream
from aro.database import Doc, Store
from aro.database.containers import BACKPLANE_JOBS
from aro.database.cosmos import CosmosStore
from aro.database.sqlite import SQLiteStore
from tests.backplane.helpers import (
    SRE,
    SRE_GROUPS,
    Shared,
    admin_kubeconfig,
    create_classic,
    issue_token,
    kubectl,
    ok,
    until,
    wait_cluster_id,
)
from tests.backplane.jobhelpers import SENTINEL, Backplane, JobsRP, catalog_with_tests, start_jobs_rp
from tests.conftest import RPProcess
from tests.database.conftest import Target, cosmos_server, target
from tests.fixtures.store import StoreView
from tests.frontend.conftest import StartRP, start_rp
from tests.frontend.helpers import Arm
from tests.ledger.helpers import register

__all__ = ["cosmos_server", "start_rp", "target"]

CLUSTER = "c" * 32
JOB_FIELDS = {"jobId", "message", "userMD5", "jobStatus"}
STATUS_FIELDS = {"namespace", "start", "end", "script", "envs", "status"}


# -- units ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_catalog(catalog_with_tests(tmp_path_factory.mktemp("units") / "catalog"))


@pytest.fixture
async def store(target: Target) -> AsyncIterator[Store]:
    """Each unit runs against both stores (tests/database's ``target``: SQLite, the local Cosmos DB server)."""
    spec = target.spec
    if spec["kind"] == "sqlite":
        s: Store = await SQLiteStore(spec["path"], (BACKPLANE_JOBS,)).open()
    else:
        s = await CosmosStore(
            spec["endpoint"],
            (BACKPLANE_JOBS,),
            database=spec["database"],
            key=spec["key"],
            ca_file=spec.get("caFile"),
            create=True,
        ).open()
    yield s
    await s.close()


def view(state: str = "Succeeded", hibernating: bool = False) -> ClusterView:
    facts = ClusterFacts("demo", state, False, hibernating, "eastus", "/subscriptions/s/resourceGroups/r", "")
    rid = "/subscriptions/s/resourcegroups/r/providers/microsoft.redhatopenshift/openshiftclusters/demo"
    return ClusterView(CLUSTER, "ext", "org", rid, "openshiftclusters", facts)


class FakeTargets:
    def __init__(self) -> None:
        self.view = view()
        self.gone = False
        self.unavailable = False

    async def find(self, cluster_id: str) -> ClusterView:
        if self.gone:
            raise BackplaneError(404, f"Cluster {cluster_id} was not found (it was deleted)")
        return self.view

    async def upstream(self, v: ClusterView) -> Upstream:
        if self.unavailable:
            raise BackplaneError(503, "the cluster API is not reachable")
        return Upstream("https://cluster.example", "", "", "")


class FakeKube:
    """A cluster API: objects by (plural, namespace, name), a pod log, injected failures."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.creates: list[tuple[str, str]] = []
        self.deletes: list[tuple[str, str, str]] = []
        self.log = ""
        self.fail_apply: dict[str, BaseException] = {}  # plural -> raised once
        self.fail_get: BaseException | None = None
        self.namespaces = {"default", "kube-system"}
        self.calls = 0

    @staticmethod
    def _key(plural: str, obj: dict[str, Any]) -> tuple[str, str, str]:
        meta = obj["metadata"]
        return plural, str(meta.get("namespace") or ""), str(meta["name"])

    async def get(self, plural: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        self.calls += 1
        if self.fail_get is not None:
            e, self.fail_get = self.fail_get, None
            raise e
        if plural == "namespaces":
            return {"metadata": {"name": name}} if name in self.namespaces else None
        return self.objects.get((plural, namespace, name))

    async def apply(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if plural in self.fail_apply:
            raise self.fail_apply.pop(plural)
        if plural == "namespaces":
            self.namespaces.add(obj["metadata"]["name"])
            return obj
        key = self._key(plural, obj)
        ns = key[1]
        if ns and ns not in self.namespaces:
            raise CloudError(404, "KubernetesAPIError", f'namespaces "{ns}" not found')
        if key not in self.objects:
            self.creates.append((plural, key[2]))
        stored = {**obj, "status": {"phase": "Pending"}} if plural == "pods" else dict(obj)
        self.objects[key] = stored
        return stored

    async def delete(self, plural: str, name: str, namespace: str = "") -> None:
        self.calls += 1
        self.deletes.append((plural, name, namespace))
        self.objects.pop((plural, namespace, name), None)

    async def pod_log(self, namespace: str, name: str, *, limit_bytes: int) -> str:
        self.calls += 1
        assert namespace == NAMESPACE and name.startswith("job-"), (namespace, name)
        if ("pods", namespace, name) not in self.objects:
            raise CloudError(404, "KubernetesAPIError", f'pods "{name}" not found')
        return self.log.encode()[:limit_bytes].decode(errors="ignore")

    def pod(self, job_id: str) -> dict[str, Any] | None:
        return self.objects.get(("pods", NAMESPACE, f"job-{job_id}"))

    def set_phase(self, job_id: str, phase: str, **status: Any) -> None:
        pod = self.pod(job_id)
        assert pod is not None
        pod["status"] = {"phase": phase, **status}


@pytest.fixture
def kube(monkeypatch: pytest.MonkeyPatch) -> FakeKube:
    fake = FakeKube()

    @contextlib.asynccontextmanager
    async def cluster_api(up: Upstream) -> AsyncIterator[Any]:
        yield fake

    monkeypatch.setattr(backplanejobs, "cluster_api", cluster_api)
    monkeypatch.setattr(backplanejobs, "poll_seconds", lambda age: 0.0)
    monkeypatch.setattr(backplanejobs, "RETRY_SECONDS", 0.0)
    return fake


class Runner:
    """The pool, one claim at a time: claim, one pass of the handler, read the document back."""

    def __init__(self, store: Store, targets: FakeTargets, max_claims: int = 5) -> None:
        self.store = store
        self.container = store.container(BACKPLANE_JOBS.name)
        self.handler = BackplaneJobs(targets, max_claims)  # type: ignore[arg-type]
        self.lease = 30.0

    async def claim(self, within: float = 5.0) -> Work:
        deadline = time.monotonic() + within
        while True:
            owner = f"test-{time.monotonic_ns()}"
            doc = await self.container.dequeue(owner, self.lease)
            if doc is not None:
                return Work(self.container, doc, owner, self.lease)
            assert time.monotonic() < deadline, "nothing to claim"
            await asyncio.sleep(0.01)

    async def step(self) -> Doc:
        work = await self.claim()
        await self.handler.handle(work, lambda: False)
        doc = await self.container.get(work.doc["partitionKey"], work.doc["id"])
        assert doc is not None
        return doc

    async def steps_until(self, done: Callable[[], bool], most: int = 10) -> None:
        """Claims (of whichever job is due: the stores promise no order) until ``done()``."""
        for _ in range(most):
            if done():
                return
            await self.step()
        assert done(), f"not done after {most} claims"

    async def idle(self) -> bool:
        return not await self.container.list_claimable()


SETTINGS = BackplaneSettings(job_deadline_seconds=60, max_log_bytes=4096, max_active_jobs_per_cluster=3)


async def new_job(
    store: Store,
    catalog: Catalog,
    name: str = "TEST/echo-params",
    parameters: dict[str, str] | None = None,
    settings: BackplaneSettings = SETTINGS,
) -> Doc:
    script = catalog.find(name)
    assert script is not None
    envs = validate_parameters(script, {"GREETING": "hi"} if parameters is None else parameters)
    return await JobStore(store, settings).create(view(), "sre-sam", script, envs)


def test_parameters_are_checked_against_the_scripts_envs(catalog: Catalog) -> None:
    script = catalog.find("TEST/echo-params")
    assert script is not None
    assert validate_parameters(script, {"TARGET": "you", "GREETING": "hi"}) == [("GREETING", "hi"), ("TARGET", "you")]
    assert validate_parameters(script, {"GREETING": ""}) == [("GREETING", "")]
    bad: list[tuple[Any, str]] = [
        ({}, "requires the parameters: GREETING"),
        (None, "requires the parameters: GREETING"),
        ({"GREETING": "hi", "OTHER": "x"}, "'OTHER' is not declared by script TEST/echo-params (GREETING, TARGET)"),
        ({"GREETING": 5}, "must be a string"),
        ({"GREETING": "a\x00b"}, "must not contain NUL"),
        ({"GREETING": "x" * 8193}, "longer than 8192 bytes"),
        (["GREETING"], "must be an object"),
        ({f"K{i}": "v" for i in range(65)}, "at most 64 parameters"),
    ]
    for parameters, message in bad:
        with pytest.raises(BackplaneError) as e:
            validate_parameters(script, parameters)
        assert e.value.status == 400 and message in e.value.message, (parameters, e.value.message)


def test_the_log_is_split_without_breaking_characters() -> None:
    text = ("é" * (LOG_CHUNK_BYTES // 2 + 3)) + "end"
    chunks = split_log(text)
    assert "".join(chunks) == text and len(chunks) == 2
    assert all(len(c.encode()) <= LOG_CHUNK_BYTES for c in chunks)
    assert split_log("") == []


async def test_a_job_runs_pending_running_succeeded(store: Store, catalog: Catalog, kube: FakeKube) -> None:
    targets = FakeTargets()
    run = Runner(store, targets)
    doc = await new_job(store, catalog, "TEST/forbidden", {})
    job_id = doc["jobId"]
    assert doc["active"] is True and doc.get("ttl") is None and doc["status"] == "Pending"
    api = job_view(doc)
    assert set(api) == JOB_FIELDS and set(api["jobStatus"]) == STATUS_FIELDS
    assert api["jobStatus"]["namespace"] == NAMESPACE and api["jobStatus"]["end"] is None
    assert api["userMD5"] == hashlib.md5(b"sre-sam").hexdigest()

    doc = await run.step()  # creates everything, follows: the pod is Pending
    assert (doc["phase"], doc["status"], doc["active"]) == ("follow", "Pending", True)
    name, rbac = f"job-{job_id}", f"backplane-job-{job_id}"
    assert kube.creates == [
        ("serviceaccounts", name),
        ("roles", rbac),
        ("rolebindings", rbac),
        ("configmaps", name),
        ("pods", name),
    ]
    assert NAMESPACE in kube.namespaces
    role = kube.objects[("roles", "default", rbac)]
    assert role["rules"] == [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]
    binding = kube.objects[("rolebindings", "default", rbac)]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": rbac}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}]
    assert kube.objects[("configmaps", NAMESPACE, name)]["data"] == {"script": catalog.scripts["TEST/forbidden"].body}
    pod = kube.objects[("pods", NAMESPACE, name)]
    assert pod["metadata"] == {"name": name, "namespace": NAMESPACE, "labels": {"managedjob": job_id}}
    assert {k: v for k, v in pod["spec"].items() if k != "containers"} == {
        "serviceAccountName": name,
        "restartPolicy": "Never",
        "activeDeadlineSeconds": 60,
        "terminationGracePeriodSeconds": 2,
        "volumes": [{"name": "script", "configMap": {"name": name}}],
    }
    [container] = pod["spec"]["containers"]
    assert container == {
        "name": "script",
        "image": "quay.io/app-sre/managed-scripts:latest",
        "command": ["/bin/bash", "/managed-scripts/script"],
        "env": [],
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "500m", "memory": "512Mi"}},
        "volumeMounts": [{"name": "script", "mountPath": "/managed-scripts", "readOnly": True}],
    }

    kube.set_phase(job_id, "Running")
    doc = await run.step()
    assert (doc["status"], doc["message"]) == ("Running", "The script is running")
    kube.log = "pods listed\nline two\n"
    kube.set_phase(job_id, "Succeeded")
    doc = await run.step()
    assert (doc["status"], doc["active"], doc["phase"]) == ("Succeeded", False, "finish")
    assert (
        doc["end"] and doc["ttl"] == SETTINGS.keep_jobs_seconds and doc["message"] == "The script finished successfully"
    )
    assert await read_stored_logs(run.container, doc) == "pods listed\nline two\n"
    assert not kube.objects, kube.objects  # every object of the job deleted, the pod first
    assert kube.deletes[0] == ("pods", name, NAMESPACE)
    assert {d[0] for d in kube.deletes} == {"pods", "configmaps", "roles", "rolebindings", "serviceaccounts"}
    assert await run.idle()


async def test_parameters_are_the_pods_only_environment_and_python_runs_python3(
    store: Store, catalog: Catalog, kube: FakeKube
) -> None:
    run = Runner(store, FakeTargets())
    doc = await new_job(store, catalog, parameters={"GREETING": "hello", "TARGET": "world"})
    await run.step()
    [container] = kube.pod(doc["jobId"])["spec"]["containers"]  # type: ignore[index]
    assert container["env"] == [{"name": "GREETING", "value": "hello"}, {"name": "TARGET", "value": "world"}]
    assert job_view(doc)["jobStatus"]["envs"] == [
        {"key": "GREETING", "value": "hello"},
        {"key": "TARGET", "value": "world"},
    ]
    py = await new_job(store, catalog, "TEST/python-hello", {})
    await run.steps_until(lambda: kube.pod(py["jobId"]) is not None)
    [container] = kube.pod(py["jobId"])["spec"]["containers"]  # type: ignore[index]
    assert container["command"] == ["python3", "/managed-scripts/script"]
    assert ("clusterroles", f"backplane-job-{py['jobId']}") not in kube.creates  # no rbac declared: none made


async def test_a_failed_pod_fails_the_job_with_its_exit_code(store: Store, catalog: Catalog, kube: FakeKube) -> None:
    run = Runner(store, FakeTargets())
    job_id = (await new_job(store, catalog))["jobId"]
    await run.step()
    kube.log = "x" * 10000  # more than maxLogBytes (4096)
    terminated = {"state": {"terminated": {"exitCode": 3, "reason": "Error"}}}
    kube.set_phase(job_id, "Failed", containerStatuses=[terminated])
    doc = await run.step()
    assert doc["status"] == "Failed" and doc["message"] == "The script failed (exit code 3): Error", doc
    assert doc["logs"]["truncated"] is True and await read_stored_logs(run.container, doc) == "x" * 4096


async def test_a_kill_deletes_the_pod_and_drops_the_logs(store: Store, catalog: Catalog, kube: FakeKube) -> None:
    run = Runner(store, FakeTargets())
    jobs = JobStore(store, SETTINGS)
    doc = await new_job(store, catalog)
    await run.step()
    kube.set_phase(doc["jobId"], "Running")
    doc = await run.step()
    asked = await jobs.request_kill(doc, "sre-kim")
    assert asked["kill"]["by"] == "sre-kim" and asked["leaseExpires"] == 0  # claimable at once
    done = await run.step()
    assert (done["status"], done["message"], done["active"]) == ("Killed", "Killed by sre-kim", False)
    assert kube.pod(doc["jobId"]) is None and kube.deletes[0][0] == "pods" and not kube.objects
    assert done["logs"] is None and done["logsDeleted"] is True and await jobs.stored_logs(done) == ""

    # a job whose script had ended keeps its status; a DELETE then only drops its logs
    other = await new_job(store, catalog)
    await run.step()
    kube.log = "output\n"
    kube.set_phase(other["jobId"], "Succeeded")
    finished = await run.step()
    assert finished["status"] == "Succeeded" and await jobs.stored_logs(finished) == "output\n"
    chunk = log_doc_id(other["jobId"], finished["logs"]["claim"], 0)
    assert await run.container.get(CLUSTER, chunk) is not None
    after = await jobs.request_kill(finished, "sre-kim")
    assert after["status"] == "Succeeded"
    final = await run.container.get(CLUSTER, finished["id"])
    assert final is not None and final["logsDeleted"] is True and await jobs.stored_logs(final) == ""
    assert await run.container.get(CLUSTER, chunk) is None
    assert await run.idle()


async def test_a_pod_gone_or_a_cluster_gone_fails_the_job(store: Store, catalog: Catalog, kube: FakeKube) -> None:
    targets = FakeTargets()
    run = Runner(store, targets)
    doc = await new_job(store, catalog)
    await run.step()
    kube.objects.pop(("pods", NAMESPACE, f"job-{doc['jobId']}"))
    done = await run.step()
    assert done["status"] == "Failed" and "was deleted before it finished" in done["message"], done
    assert not kube.objects  # the rest of its objects deleted too

    doc = await new_job(store, catalog)
    await run.step()
    targets.gone = True
    calls = kube.calls
    done = await run.step()
    assert done["status"] == "Failed" and done["message"].startswith("The cluster is gone"), done
    assert kube.calls == calls  # nothing asked of a cluster that is gone


async def test_an_unusable_cluster_or_an_object_refused_fails_the_job(
    store: Store, catalog: Catalog, kube: FakeKube
) -> None:
    targets = FakeTargets()
    run = Runner(store, targets)
    targets.view = view(hibernating=True)
    await new_job(store, catalog)
    done = await run.step()
    assert done["status"] == "Failed" and "is hibernating, running ManagedJob failed" in done["message"], done
    targets.view = view()

    await new_job(store, catalog, "TEST/no-such-namespace", {})
    done = await run.step()
    assert done["status"] == "Failed", done
    assert 'creating the job\'s objects: namespaces "not-there-at-all" not found' in done["message"], done
    assert not kube.objects and ("pods", f"job-{done['jobId']}") not in kube.creates


async def test_temporary_errors_are_retried_and_deadlines_kept(
    store: Store, catalog: Catalog, kube: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = FakeTargets()
    run = Runner(store, targets)
    doc = await new_job(store, catalog)
    kube.fail_apply["configmaps"] = CloudError(503, "ServiceUnavailable", "busy", temporary=True)
    retried = await run.step()
    assert retried["status"] == "Pending" and retried["phase"] == "create" and retried["retries"] == 1
    assert "busy" in retried["lastError"] and retried["dequeues"] == 0  # a re-queue is not a failed claim
    targets.unavailable = True
    retried = await run.step()
    assert retried["retries"] == 2 and "not reachable" in retried["lastError"]
    targets.unavailable = False
    assert (await run.step())["phase"] == "follow"

    # past the job's deadline (plus the grace for a pod that never started) the RP fails it itself
    monkeypatch.setattr(backplanejobs, "hard_deadline", lambda d: time.time() - 1)
    done = await run.step()
    assert done["status"] == "Failed" and "did not finish within 60s" in done["message"], done
    assert kube.pod(doc["jobId"]) is None


async def test_a_runner_that_dies_mid_pass_is_resumed_and_the_pod_made_once(
    store: Store, catalog: Catalog, kube: FakeKube
) -> None:
    run = Runner(store, FakeTargets(), max_claims=3)
    run.lease = 0.2
    doc = await new_job(store, catalog)
    kube.fail_apply["pods"] = RuntimeError("the backend died here")  # after the config map, before the pod
    work = await run.claim()
    with pytest.raises(RuntimeError):
        await run.handler.handle(work, lambda: False)
    assert ("configmaps", f"job-{doc['jobId']}") in kube.creates and kube.pod(doc["jobId"]) is None
    resumed = await run.step()  # claimed again once the lease expired
    # the claim that died stays counted (its re-queue between polls is not)
    assert resumed["dequeues"] == 1 and resumed["phase"] == "follow"
    # a pass that died after the pod was made: the next one finds it and does not make another
    kube.fail_get = RuntimeError("died while reading the pod")
    work = await run.claim()
    with pytest.raises(RuntimeError):
        await run.handler.handle(work, lambda: False)
    kube.set_phase(doc["jobId"], "Running")
    assert (await run.step())["status"] == "Running"
    assert [c for c in kube.creates if c[0] == "pods"] == [("pods", f"job-{doc['jobId']}")]

    # a runner that keeps dying: once its claims (the dead ones count) pass maxClaims the job fails, cleaned up
    crashes = 0
    while True:
        kube.fail_get = RuntimeError("dies again")
        work = await run.claim()
        try:
            await run.handler.handle(work, lambda: False)
            break
        except RuntimeError:
            crashes += 1
            assert crashes < 5, "the job was never failed"
    done = await run.container.get(CLUSTER, doc["id"])
    assert done is not None and done["status"] == "Failed" and "runner stopped" in done["message"], done
    assert done["dequeues"] == 4 and crashes == 1  # 2 died before, 1 here: the 4th claim fails the job
    assert kube.pod(doc["jobId"]) is None


async def test_logs_are_chunks_of_the_claim_that_ended_the_job(store: Store, catalog: Catalog, kube: FakeKube) -> None:
    settings = BackplaneSettings(max_log_bytes=3 * LOG_CHUNK_BYTES)
    run = Runner(store, FakeTargets())
    doc = await new_job(store, catalog, settings=settings)
    await run.step()
    kube.log = "".join(f"line {i:08d}\n" for i in range(60000))  # 900 kB: four chunks
    kube.set_phase(doc["jobId"], "Succeeded")
    done = await run.step()
    logs = done["logs"]
    assert logs["chunks"] == 3 and logs["truncated"] is True and logs["bytes"] == 3 * LOG_CHUNK_BYTES
    stored = await read_stored_logs(run.container, done)
    assert stored == kube.log[: 3 * LOG_CHUNK_BYTES]
    # a chunk an earlier (lost) claim wrote is never read: the job names its claim's chunks
    stray = log_doc_id(doc["jobId"], "000000000000", 0)
    await run.container.create({"id": stray, "partitionKey": CLUSTER, "key": stray, "docType": "log", "text": "stray"})
    assert await read_stored_logs(run.container, done) == stored
    listed = await JobStore(store, settings).list(CLUSTER)
    assert [d["jobId"] for d in listed] == [doc["jobId"]]  # log chunks are not jobs


async def test_active_jobs_are_bounded_per_cluster(store: Store, catalog: Catalog) -> None:
    made = [await new_job(store, catalog) for _ in range(3)]
    with pytest.raises(BackplaneError) as e:
        await new_job(store, catalog)
    assert e.value.status == 429 and "has 3 active jobs" in e.value.message
    # racing creates: the earliest win, the others remove themselves
    container = store.container(BACKPLANE_JOBS.name)
    first = await container.get(CLUSTER, made[0]["id"])
    assert first is not None
    first.update(status="Succeeded", active=False)
    await container.replace(first)
    results = await asyncio.gather(*(new_job(store, catalog) for _ in range(4)), return_exceptions=True)
    admitted = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, BackplaneError)]
    assert len(admitted) == 1 and len(refused) == 3 and all(r.status == 429 for r in refused), results
    assert await JobStore(store, SETTINGS).active(CLUSTER) == 3
    assert len(await JobStore(store, SETTINGS).list(CLUSTER)) == 4  # the refused ones left nothing behind


# -- end to end -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(start_rp: StartRP, tmp_path_factory: pytest.TempPathFactory) -> JobsRP:
    return start_jobs_rp(start_rp, tmp_path_factory.mktemp("jobs"), ARO_BACKPLANE_MAX_ACTIVE_JOBS_PER_CLUSTER="3")


@pytest.fixture(scope="module")
def sre(served: JobsRP) -> Iterator[Backplane]:
    with Backplane(served.rp, served.token) as b:
        yield b


@pytest.fixture(scope="module")
def admin(served: JobsRP, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The customer's admin kubeconfig of the cluster: the cluster API itself, not the backplane."""
    with Arm(served.rp) as arm:
        return admin_kubeconfig(arm, served.cluster, tmp_path_factory.mktemp("admin"))


def cluster_object(kubeconfig: Path, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
    args = ["get", kind, name, "-o", "json"] + (["-n", namespace] if namespace else [])
    proc = kubectl(kubeconfig, *args)
    if proc.returncode != 0:
        assert "NotFound" in proc.stderr or "not found" in proc.stderr, proc.stderr
        return None
    return dict(json.loads(proc.stdout))


def logs_of(bp: Backplane, cluster_id: str, job_id: str) -> str:
    r = bp.logs(cluster_id, job_id)
    assert r.status_code == 200 and set(r.json()) == {"logs"}, r.text
    return str(r.json()["logs"])


def test_shipped_scripts_run_and_their_logs_are_their_output(served: JobsRP, sre: Backplane, admin: Path) -> None:
    cid = served.cluster_id
    # two pods in default: one the simulator runs (Running), one the kubelet runs that exits 3 (Failed)
    for name, container in (
        ("fine", {"name": "c", "image": "registry.example/app:1"}),
        ("crasher", {"name": "c", "image": IMAGE, "command": ["/bin/bash", "-c", "exit 3"]}),
    ):
        manifest = admin.parent / f"{name}.json"
        pod = {"metadata": {"name": name, "namespace": "default"}, "spec": {"containers": [container]}}
        manifest.write_text(
            json.dumps({"apiVersion": "v1", "kind": "Pod", **pod, "spec": {**pod["spec"], "restartPolicy": "Never"}})
        )
        ok(kubectl(admin, "create", "-f", str(manifest)))

    def phase(name: str) -> str:
        return str(((cluster_object(admin, "pod", name, "default") or {}).get("status") or {}).get("phase") or "")

    until("the pods ran", lambda: phase("fine") == "Running" and phase("crasher") == "Failed")

    job = sre.run(cid, "SREP/failing-pods", {"NAMESPACE": "default"})
    assert set(job) == {"jobId", "message", "userMD5", "jobStatus"}
    status = job["jobStatus"]
    assert status["status"] == "Pending" and status["namespace"] == NAMESPACE and status["end"] is None
    assert status["envs"] == [{"key": "NAMESPACE", "value": "default"}]
    assert status["script"]["canonicalName"] == "SREP/failing-pods" and status["start"]
    assert job["userMD5"] == hashlib.md5(SRE.encode()).hexdigest()
    done = sre.wait(cid, job["jobId"])
    assert done["jobStatus"]["status"] == "Succeeded", (done, logs_of(sre, cid, job["jobId"]))
    assert done["jobStatus"]["end"] and done["message"] == "The script finished successfully"
    output = logs_of(sre, cid, job["jobId"])
    assert output.splitlines() == [
        "crasher  phase=Failed restarts=0 reasons=Error",
        "1 of 2 pods in default are failing or restarting",
    ], output
    r = sre.logs(cid, job["jobId"], version="v2")
    assert r.status_code == 200 and r.content.decode() == output

    nodes = sre.wait(cid, sre.run(cid, "SREP/nodes-not-ready")["jobId"])
    assert nodes["jobStatus"]["status"] == "Succeeded", logs_of(sre, cid, nodes["jobId"])
    assert re.search(r"^0 of [1-9][0-9]* nodes are not Ready$", logs_of(sre, cid, nodes["jobId"]), re.M)

    skew = sre.wait(cid, sre.run(cid, "SREP/kubelet-version-skew", {"MAX_MINOR_SKEW": "2"})["jobId"])
    output = logs_of(sre, cid, skew["jobId"])
    assert skew["jobStatus"]["status"] == "Succeeded", output
    assert output.startswith("API server v") and re.search(r"^0 of [1-9][0-9]* nodes are outside", output, re.M), output

    # the jobs of the cluster, newest first; the job's cluster objects are gone once it ended
    listed = [j["jobId"] for j in sre.jobs(cid)]
    assert listed[:3] == [skew["jobId"], nodes["jobId"], job["jobId"]]
    for jid in listed[:3]:
        assert cluster_object(admin, "pod", f"job-{jid}", NAMESPACE) is None
        assert cluster_object(admin, "clusterrole", f"backplane-job-{jid}") is None
        assert cluster_object(admin, "serviceaccount", f"job-{jid}", NAMESPACE) is None


def test_the_script_gets_only_its_parameters(served: JobsRP, sre: Backplane) -> None:
    cid = served.cluster_id
    job = sre.wait(cid, sre.run(cid, "TEST/echo-params", {"GREETING": "hello 'world' $HOME"})["jobId"])
    output = logs_of(sre, cid, job["jobId"])
    assert job["jobStatus"]["status"] == "Succeeded", output
    assert "GREETING=hello 'world' $HOME\n" in output and "TARGET=unset\n" in output
    [names] = [line.split(":", 1)[1].split() for line in output.splitlines() if line.startswith("ENV-NAMES:")]
    assert set(names) - {"PWD", "SHLVL", "_", "OLDPWD"} == {"GREETING", "KUBECONFIG", "HOME", "PATH", "LANG"}, names
    assert SENTINEL not in output and "leaked" not in output
    python = sre.wait(cid, sre.run(cid, "TEST/python-hello")["jobId"])
    assert (
        python["jobStatus"]["status"] == "Succeeded" and logs_of(sre, cid, python["jobId"]) == "hello from python 3\n"
    )


def test_a_permission_the_rbac_lacks_is_forbidden_and_fails_the_job(served: JobsRP, sre: Backplane) -> None:
    cid = served.cluster_id
    job = sre.wait(cid, sre.run(cid, "TEST/forbidden")["jobId"])
    output = logs_of(sre, cid, job["jobId"])
    assert job["jobStatus"]["status"] == "Failed", (job, output)
    assert "pods listed" in output and "secrets listed" not in output, output
    assert "Forbidden" in output and 'cannot list resource "secrets"' in output, output
    assert "exit code 1" in job["message"], job

    missing = sre.wait(cid, sre.run(cid, "TEST/no-such-namespace")["jobId"])
    assert missing["jobStatus"]["status"] == "Failed", missing
    assert "not-there-at-all" in missing["message"] and logs_of(sre, cid, missing["jobId"]) == ""


def test_callers_outside_allowed_groups_can_neither_run_nor_see(served: JobsRP, sre: Backplane) -> None:
    cid = served.cluster_id
    r = sre.create(cid, "CEE/restricted")
    assert r.status_code == 403 and r.json() == {
        "statusCode": 403,
        "message": f"User {SRE} is not allowed to run script CEE/restricted",
    }, r.text
    with Backplane(served.rp, issue_token(served.rp, "cee-carol", ("aro-sre", "CEE"))) as cee:
        job = cee.wait(cid, cee.run(cid, "CEE/restricted")["jobId"])
        assert job["jobStatus"]["status"] == "Succeeded" and logs_of(cee, cid, job["jobId"]) == "secret stuff\n"
        assert job["jobId"] in [j["jobId"] for j in cee.jobs(cid)]
    assert job["jobId"] not in [j["jobId"] for j in sre.jobs(cid)]
    for r in (sre.job(cid, job["jobId"]), sre.logs(cid, job["jobId"]), sre.delete(cid, job["jobId"])):
        assert r.status_code == 404 and r.json()["message"] == f"Job {job['jobId']} not found", r.text
    with Backplane(served.rp, issue_token(served.rp, "customer-cathy", ())) as customer:
        r = customer.create(cid, "TEST/sleeper")
        assert r.status_code == 403 and "not allowed to use the backplane" in r.json()["message"], r.text
        assert customer.job(cid, job["jobId"]).status_code == 403


def test_requests_are_validated_and_active_jobs_bounded(served: JobsRP, sre: Backplane) -> None:
    cid = served.cluster_id
    bad: list[tuple[Any, int, str]] = [
        ({"canonicalName": "TEST/echo-params"}, 400, "requires the parameters: GREETING"),
        ({"canonicalName": "TEST/echo-params", "parameters": {"GREETING": "x", "EXTRA": "y"}}, 400, "'EXTRA' is not"),
        ({"canonicalName": "TEST/echo-params", "parameters": {"GREETING": "a\u0000b"}}, 400, "must not contain NUL"),
        ({"canonicalName": "TEST/echo-params", "parameters": {"GREETING": 1}}, 400, "must be a string"),
        ({"canonicalName": "TEST/echo-params", "parameters": {"GREETING": "x" * 9000}}, 400, "longer than 8192"),
        ({"canonicalName": "TEST/echo-params", "parameters": ["GREETING"]}, 400, "must be an object"),
        ({"canonicalName": "TEST/nope"}, 404, "Script Not Found"),
        ({"canonicalName": ""}, 400, "canonicalName is required"),
        ({"canonicalName": "TEST/sleeper", "surprise": 1}, 400, "Unknown fields in the request body: surprise"),
        (["TEST/sleeper"], 400, "must be an object"),
    ]
    for body, status, message in bad:
        r = sre.client.post(f"/backplane/script/{cid}/job", json=body)
        assert r.status_code == status and message in r.json()["message"], (body, r.text)
        assert r.json()["statusCode"] == status
    r = sre.client.post(f"/backplane/script/{'0' * 32}/job", json={"canonicalName": "TEST/sleeper"})
    assert r.status_code == 404, r.text
    assert sre.job(cid, "nosuchjob").status_code == 404 and sre.job(cid, "../x").status_code == 404

    running = [sre.run(cid, "TEST/sleeper")["jobId"] for _ in range(3)]
    r = sre.create(cid, "TEST/sleeper")
    assert r.status_code == 429 and "has 3 active jobs" in r.json()["message"], r.text
    for jid in running:
        assert sre.delete(cid, jid).status_code == 200
    for jid in running:
        assert sre.wait(cid, jid)["jobStatus"]["status"] == "Killed"
    sre.wait(cid, sre.run(cid, "TEST/echo-params", {"GREETING": "again"})["jobId"])


def test_delete_kills_a_running_job_and_removes_it_from_the_cluster(
    served: JobsRP, sre: Backplane, admin: Path
) -> None:
    cid = served.cluster_id
    job_id = sre.run(cid, "TEST/sleeper")["jobId"]
    sre.wait(cid, job_id, {"Running"})
    until("the script printing", lambda: "tick 2" in logs_of(sre, cid, job_id))  # the pod's log while it runs
    pod = cluster_object(admin, "pod", f"job-{job_id}", NAMESPACE)
    assert pod is not None and pod["status"]["phase"] == "Running"
    rbac = f"backplane-job-{job_id}"
    role = cluster_object(admin, "role", rbac, "default")
    assert role is not None and role["rules"] == [
        {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"]}
    ]
    cluster_role = cluster_object(admin, "clusterrole", rbac)
    assert cluster_role is not None
    assert cluster_role["rules"] == [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["nodes"]}]
    binding = cluster_object(admin, "clusterrolebinding", rbac)
    assert binding is not None and binding["subjects"] == [
        {"kind": "ServiceAccount", "name": f"job-{job_id}", "namespace": NAMESPACE}
    ]

    r = sre.delete(cid, job_id)
    assert r.status_code == 200, r.text
    assert r.json()["statusCode"] == 200 and job_id in r.json()["message"]
    done = sre.wait(cid, job_id)
    assert done["jobStatus"]["status"] == "Killed" and done["message"] == f"Killed by {SRE}", done
    assert done["jobStatus"]["end"]
    for kind, name, ns in (
        ("pod", f"job-{job_id}", NAMESPACE),
        ("configmap", f"job-{job_id}", NAMESPACE),
        ("serviceaccount", f"job-{job_id}", NAMESPACE),
        ("role", rbac, "default"),
        ("rolebinding", rbac, "default"),
        ("clusterrole", rbac, ""),
        ("clusterrolebinding", rbac, ""),
    ):
        assert cluster_object(admin, kind, name, ns) is None, (kind, name)
    assert logs_of(sre, cid, job_id) == ""
    again = sre.delete(cid, job_id)
    assert again.status_code == 200 and "already finished" in again.json()["message"], again.text


def test_follow_streams_the_output_until_the_job_ends(served: JobsRP, sre: Backplane) -> None:
    cid = served.cluster_id
    job_id = sre.run(cid, "TEST/sleeper", {"TICKS": "20"})["jobId"]
    received: list[bytes] = []
    status_at_first: str | None = None
    for chunk in sre.follow(cid, job_id):
        if status_at_first is None and chunk:
            status_at_first = sre.job(cid, job_id).json()["jobStatus"]["status"]
        received.append(chunk)
    text = b"".join(received).decode()
    expected = "".join(f"tick {i}\n" for i in range(1, 21)) + "done ticking\n"
    assert status_at_first in ("Pending", "Running"), "the first bytes came while the script ran"
    assert text == expected, text
    assert sre.job(cid, job_id).json()["jobStatus"]["status"] == "Succeeded"
    assert logs_of(sre, cid, job_id) == expected
    assert b"".join(sre.follow(cid, job_id)).decode() == expected  # a finished job: its stored logs


def test_a_backend_killed_mid_job_is_resumed_or_fails_the_job(rp_factory: Any, tmp_path: Path) -> None:
    catalog = catalog_with_tests(tmp_path / "catalog")
    data = tmp_path / "data"
    env = {"ARO_BACKPLANE_SCRIPTS_DIRECTORY": str(catalog)}
    sim = rp_factory("simulator", data_dir=data, env=env)
    fe = rp_factory("frontend", data_dir=data, env=env)
    backend_env = {
        **env,
        "ARO_CLOUD_SIMULATOR_ENDPOINT": sim.base_url,
        "ARO_BACKEND_LEASE_SECONDS": "2",
        "ARO_BACKEND_HEARTBEAT_SECONDS": "0.3",
    }
    backend = rp_factory("backend", data_dir=data, env=backend_env)
    token = issue_token(fe, SRE, SRE_GROUPS)
    sub = str(uuid.uuid4())
    with Arm(fe) as arm:
        register(arm.client, sub)
        cluster = create_classic(arm, sub, "crash-rg", "crash")
        arm.wait(cluster.path, {"Succeeded"}, timeout=120)
        admin = admin_kubeconfig(arm, cluster, tmp_path / "admin")
    cid = wait_cluster_id(fe, token, sub, cluster.name)
    with Backplane(fe, token) as bp:
        # killed while its script runs: another backend follows the same pod to its end
        job_id = bp.run(cid, "TEST/sleeper", {"TICKS": "25"})["jobId"]
        bp.wait(cid, job_id, {"Running"})
        backend.kill()
        backend = rp_factory("backend", data_dir=data, env=backend_env)
        done = bp.wait(cid, job_id, timeout=90)
        assert done["jobStatus"]["status"] == "Succeeded", done
        assert logs_of(bp, cid, job_id) == "".join(f"tick {i}\n" for i in range(1, 26)) + "done ticking\n"

        # killed, and the pod deleted on the cluster meanwhile: the next backend fails the job, saying so
        job_id = bp.run(cid, "TEST/sleeper")["jobId"]
        bp.wait(cid, job_id, {"Running"})
        backend.kill()
        ok(kubectl(admin, "delete", "pod", f"job-{job_id}", "-n", NAMESPACE, "--wait=false"))
        backend = rp_factory("backend", data_dir=data, env=backend_env)
        done = bp.wait(cid, job_id, timeout=90)
        assert done["jobStatus"]["status"] == "Failed" and "was deleted before it finished" in done["message"], done
        assert cluster_object(admin, "clusterrole", f"backplane-job-{job_id}") is None

        # the cluster deleted while a job runs: the job fails
        job_id = bp.run(cid, "TEST/sleeper")["jobId"]
        bp.wait(cid, job_id, {"Running"})
        with Arm(fe) as arm:
            assert arm.delete(cluster.path).status_code == 202
            arm.wait(cluster.path, {"gone"}, timeout=120)
        r = bp.job(cid, job_id)
        assert r.status_code == 404, r.text  # the cluster is gone: so are its backplane routes

    def ended() -> list[dict[str, Any]]:
        docs = StoreView(data).documents(BACKPLANE_JOBS.name, cid, prefix="job-")
        return [d for d in docs if d["jobId"] == job_id and not d["active"]]

    [last] = until("the job of the deleted cluster ended", ended, timeout=90)
    assert last["status"] == "Failed" and ("cluster is gone" in last["message"] or "deleted" in last["message"]), last


def test_a_shipped_script_runs_on_a_hosted_cluster(bp_rp: RPProcess, sre_token: str, shared: Shared) -> None:
    """The package's RP (the shipped catalog) and its hosted cluster: the job's objects on the hosted
    cluster's API, through the certificate the backplane holds for it."""
    cid = shared.hosted.cluster_id
    with Backplane(bp_rp, sre_token) as bp:
        job = bp.wait(cid, bp.run(cid, "SREP/kubelet-version-skew")["jobId"])
        output = logs_of(bp, cid, job["jobId"])
        assert job["jobStatus"]["status"] == "Succeeded", (job, output)
        assert output.startswith("API server v") and "nodes are outside the supported skew" in output, output
        r = bp.create(cid, "TEST/sleeper")
        assert r.status_code == 404 and r.json()["message"] == "Script Not Found", r.text  # not in this catalog
