"""The kubelet: managed-script pods run for real on the simulated clusters -- as the RP's backend will create
them -- with only the environment they are given, their service account's RBAC enforced on the kubectl inside,
their output as the pod's log (``kubectl logs``, ``-f``, the RP's ``KubeAPI.pod_log`` / ``stream_pod_log``),
their deadline, deletion, the simulator's restart and shutdown, and the bounds."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from aro.api.errors import CloudError
from aro.cloud.arm import ArmCloud
from aro.cloud.kube import KubeAPI
from aro.cloud.simulator import _kubelet
from aro.util import pki

from .conftest import SUB, TOKEN, Simulator
from .kubectl import Kubectl, kubectl_binary, write_kubeconfig
from .kubeutil import eventually, management
from .test_kube_api import client_ca_secret, install_classic

NS = "openshift-backplane-managed-scripts"
IMAGE = "quay.io/app-sre/managed-scripts:latest"
TERMINAL = ("Succeeded", "Failed")


@pytest.fixture
def sim_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {
        "step_delay_seconds": 0.05,
        "token": TOKEN,
        "kubernetes_version": "v1.32.4",
        **getattr(request, "param", {}),
    }


@pytest.fixture
def kubectl(tmp_path: Path) -> Kubectl:
    return Kubectl(kubectl_binary(), tmp_path / "home")


@pytest.fixture
async def admin(sim: Simulator, kubectl: Kubectl, tmp_path: Path) -> Path:
    """The management cluster's admin kubeconfig, with the scripts' namespace and service account ``runner``
    (which may read pods, their logs and config maps in that namespace, and nothing else)."""
    path = management(sim, tmp_path)
    (await kubectl(path, "create", "namespace", NS)).ok()
    (await kubectl(path, "create", "serviceaccount", "runner", "-n", NS)).ok()
    rules = ("--verb=get,list,watch", "--resource=pods,pods/log,configmaps")
    (await kubectl(path, "create", "role", "runner", "-n", NS, *rules)).ok()
    (await kubectl(path, "create", "rolebinding", "runner", "-n", NS, "--role=runner", f"--serviceaccount={NS}:runner"))
    return path


def script_job(
    job: str,
    script: str,
    *,
    command: list[str] | None = None,
    env: list[dict[str, Any]] | None = None,
    deadline: int = 60,
    grace: int = 2,
    memory: str = "512Mi",
) -> list[dict[str, Any]]:
    """The ConfigMap and Pod the RP's backend creates for a managed script."""
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"job-{job}", "namespace": NS},
        "data": {"script": script},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"job-{job}", "namespace": NS, "labels": {"managedjob": job}},
        "spec": {
            "serviceAccountName": "runner",
            "restartPolicy": "Never",
            "activeDeadlineSeconds": deadline,
            "terminationGracePeriodSeconds": grace,
            "containers": [
                {
                    "name": "script",
                    "image": IMAGE,
                    "command": command or ["/bin/bash", "/managed-scripts/script"],
                    "env": env or [],
                    "resources": {
                        "limits": {"cpu": "500m", "memory": memory},
                        "requests": {"cpu": "100m", "memory": "64Mi"},
                    },
                    "volumeMounts": [{"name": "script", "mountPath": "/managed-scripts", "readOnly": True}],
                }
            ],
            "volumes": [{"name": "script", "configMap": {"name": f"job-{job}"}}],
        },
    }
    return [configmap, pod]


async def create(kubectl: Kubectl, admin: Path, *objects: dict[str, Any]) -> None:
    for obj in objects:
        (await kubectl(admin, "create", "-f", "-", stdin=json.dumps(obj))).ok()


async def get_pod(sim: Simulator, name: str) -> dict[str, Any] | None:
    assert sim.admin is not None
    resp = await sim.admin.get(f"/management/api/v1/namespaces/{NS}/pods/{name}")
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return dict(resp.json())


async def phase(sim: Simulator, name: str) -> str:
    pod = await get_pod(sim, name)
    return "" if pod is None else str(pod["status"].get("phase", ""))


async def finished(sim: Simulator, name: str, within: float = 30.0) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        pod = await get_pod(sim, name)
        return pod if pod is not None and pod["status"].get("phase") in TERMINAL else None

    found: dict[str, Any] = await eventually(done, within, f"{name} ends")
    return found


async def running(sim: Simulator, name: str) -> None:
    async def up() -> bool:
        return await phase(sim, name) == "Running"

    await eventually(up, 20, f"{name} runs")


async def log_of(sim: Simulator, name: str, **params: str) -> str:
    assert sim.admin is not None
    resp = await sim.admin.get(f"/management/api/v1/namespaces/{NS}/pods/{name}/log", params=params)
    resp.raise_for_status()
    return resp.text


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has been killed (its reaper may be slow)


def terminated(pod: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = pod["status"]["containerStatuses"][0]["state"]
    assert list(state) == ["terminated"], state
    return dict(state["terminated"])


async def spawn_kubectl(kubectl: Kubectl, kubeconfig: Path, *args: str) -> asyncio.subprocess.Process:
    """A long-running kubectl (``logs -f``, ``get -w``) whose output is read as it comes."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(kubectl.home), "KUBECONFIG": str(kubeconfig)}
    return await asyncio.create_subprocess_exec(
        kubectl.binary,
        f"--cache-dir={kubectl.home / 'cache'}",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def read_line(proc: asyncio.subprocess.Process, within: float = 20.0) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), within)
    return line.decode()


async def test_a_script_pod_runs_as_its_service_account(
    sim: Simulator, kubectl: Kubectl, admin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = 'echo "hello from job $JOB"\nkubectl get pods -o name\nkubectl get secrets\n'
    watcher = await spawn_kubectl(
        kubectl,
        admin,
        "get",
        "pods",
        "-A",
        "-w",
        "--output-watch-events",
        "-o",
        "jsonpath={.object.metadata.name} {.object.status.phase} {.object.metadata.labels.seen}{'\\n'}",
    )
    started = time.monotonic()
    try:
        # the watch is up once a change made after kubectl printed a pod comes through (kubectl lists, then
        # watches from the list's version; this server keeps no history to replay)
        spec, meta = {"containers": [{"name": "c", "image": "x"}]}, {"name": "marker", "namespace": "default"}
        marker = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
        await create(kubectl, admin, marker)
        while not (await read_line(watcher)).startswith("marker "):
            pass
        (await kubectl(admin, "label", "pod", "marker", "-n", "default", "seen=yes")).ok()
        while not (await read_line(watcher)).strip().endswith(" yes"):
            pass
        await create(kubectl, admin, *script_job("1", script, env=[{"name": "JOB", "value": "1"}]))
        # kubectl get -w sees every status the kubelet writes: Pending, Running, then Failed (the last command failed)
        phases: list[str] = []
        while not phases or phases[-1] not in TERMINAL:
            name, _, now = (await read_line(watcher)).strip().partition(" ")
            if name == "job-1" and (not phases or phases[-1] != now):
                phases.append(now)
        assert phases == ["Pending", "Running", "Failed"]
    finally:
        watcher.kill()
        await watcher.wait()
    pod = await finished(sim, "job-1")
    state = terminated(pod)
    assert (state["exitCode"], state["reason"]) == (1, "Error") and state["startedAt"] <= state["finishedAt"]
    assert pod["status"]["startTime"] and pod["status"]["containerStatuses"][0]["ready"] is False
    assert time.monotonic() - started < 20

    # stdout and stderr, interleaved, are the log; kubectl inside acted as the service account, under its RBAC
    log = (await kubectl(admin, "logs", "job-1", "-n", NS)).ok().out
    assert log.splitlines() == [
        "hello from job 1",
        "pod/job-1",
        'Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:'
        f'{NS}:runner" cannot list resource "secrets" in API group "" in the namespace "{NS}"',
    ]
    # its token: a service-account token secret the kubelet made for it; its sandbox is gone
    secrets = (await kubectl(admin, "get", "secrets", "-n", NS, "-o", "json")).json()["items"]
    assert [s["metadata"]["annotations"]["kubernetes.io/service-account.name"] for s in secrets] == ["runner"]
    assert list((sim.data_dir / "kubelet" / "pods").iterdir()) == []


async def test_the_script_sees_only_its_own_environment(
    sim: Simulator, kubectl: Kubectl, admin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARO_SIMULATOR_CANARY", "must-not-leak")  # the simulator runs in this process
    assert os.environ["ARO_SIMULATOR_CANARY"] == "must-not-leak"
    script = "\n".join(
        [
            "import json, os, stat, sys",
            "config = json.load(open(os.environ['KUBECONFIG']))",
            "print(json.dumps({",
            "    'env': dict(os.environ), 'cwd': os.getcwd(), 'exe': sys.executable, 'script': sys.argv[0],",
            "    'mode': oct(stat.S_IMODE(os.stat(os.getcwd()).st_mode)),",
            "    'server': config['clusters'][0]['cluster']['server'],",
            "    'namespace': config['contexts'][0]['context']['namespace'],",
            "}))",
        ]
    )
    (await kubectl(admin, "create", "configmap", "settings", "-n", NS, "--from-literal=level=debug")).ok()
    env = [
        {"name": "K", "value": "V"},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
    ]
    command = ["python3", "/managed-scripts/script"]
    await create(kubectl, admin, *script_job("2", script, command=command, env=env))
    pod = await finished(sim, "job-2")
    assert pod["status"]["phase"] == "Succeeded" and terminated(pod)["reason"] == "Completed"
    seen = json.loads(await log_of(sim, "job-2"))
    sandbox = seen["cwd"]
    assert seen["env"] == {
        "K": "V",
        "POD": "job-2",
        "LEVEL": "debug",
        "KUBECONFIG": f"{sandbox}/kubeconfig",
        "HOME": sandbox,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    assert sandbox.startswith(str(sim.data_dir / "kubelet" / "pods")) and seen["mode"] == "0o700"
    assert seen["script"] == f"{sandbox}/volumes/script/script"  # the mountPath, rewritten into the sandbox
    assert not seen["exe"].startswith(str(Path(__file__).parents[2])) and seen["exe"].startswith(("/usr/", "/bin/"))
    assert (seen["server"], seen["namespace"]) == (f"{sim.base_url}/management", NS)

    # the RP's client: the whole log, the streamed one (the pod has ended: all of it, then the end), a missing pod
    async with httpx.AsyncClient(verify=sim.ssl) as http:

        async def token() -> str:
            return TOKEN

        api = KubeAPI(f"{sim.base_url}/management", http, token=token)
        assert json.loads(await api.pod_log(NS, "job-2")) == seen
        assert await api.pod_log(NS, "job-2", limit_bytes=8) == '{"env": '
        streamed = b"".join([chunk async for chunk in api.stream_pod_log(NS, "job-2")])
        assert json.loads(streamed) == seen
        with pytest.raises(CloudError) as missing:
            await api.pod_log(NS, "nope")
        assert missing.value.status == 404
        with pytest.raises(CloudError) as missing:
            await anext(aiter(api.stream_pod_log(NS, "nope")))
        assert missing.value.status == 404
        # and the RBAC kinds (object_path)
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "extra", "namespace": NS},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
        }
        await api.apply("roles", role)
        role["rules"][0]["verbs"] = ["get", "list"]
        assert (await api.apply("roles", role))["rules"][0]["verbs"] == ["get", "list"]
        assert [r["metadata"]["name"] for r in await api.list("roles", NS)] == ["extra", "runner"]
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "extra"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "none"},
            "subjects": [{"kind": "ServiceAccount", "name": "runner", "namespace": NS}],
        }
        await api.apply("clusterrolebindings", binding)
        assert (await api.get("clusterrolebindings", "extra") or {})["roleRef"]["name"] == "none"
        await api.delete("clusterrolebindings", "extra")
        await api.delete("roles", "extra", NS)
        assert await api.get("roles", "extra", NS) is None


async def test_kubectl_logs_follow_streams_while_the_script_runs(sim: Simulator, kubectl: Kubectl, admin: Path) -> None:
    # the script waits for a config map the test creates: output before and after it, no timing guesses
    script = "echo start\nuntil kubectl get configmap go >/dev/null 2>&1; do sleep 0.1; done\necho end\n"
    await create(kubectl, admin, *script_job("3", script))
    await running(sim, "job-3")
    follower = await spawn_kubectl(kubectl, admin, "logs", "-f", "job-3", "-n", NS)
    async with httpx.AsyncClient(verify=sim.ssl) as http:

        async def token() -> str:
            return TOKEN

        stream = KubeAPI(f"{sim.base_url}/management", http, token=token).stream_pod_log(NS, "job-3")
        try:
            assert await read_line(follower) == "start\n"
            first = await asyncio.wait_for(anext(aiter(stream)), 20)
            assert first == b"start\n"
            assert await phase(sim, "job-3") == "Running"  # streamed while it runs
            (await kubectl(admin, "create", "configmap", "go", "-n", NS)).ok()
            assert await read_line(follower) == "end\n"
            assert await asyncio.wait_for(follower.wait(), 20) == 0  # the stream ends with the container
            rest = b"".join([chunk async for chunk in stream])
            assert rest == b"end\n"
        finally:
            if follower.returncode is None:
                follower.kill()
                await follower.wait()
    assert (await finished(sim, "job-3"))["status"]["phase"] == "Succeeded"
    assert (await kubectl(admin, "logs", "job-3", "-n", NS, "--tail=1")).ok().out == "end\n"
    assert (await kubectl(admin, "logs", "job-3", "-n", NS, "--limit-bytes=3")).ok().out == "sta"
    assert (await kubectl(admin, "logs", "job-3", "-n", NS, "-c", "script")).ok().out == "start\nend\n"
    wrong = await kubectl(admin, "logs", "job-3", "-n", NS, "-c", "other")
    assert wrong.code != 0 and "container other is not valid for pod job-3" in wrong.err


async def test_the_deadline_kills_the_script(sim: Simulator, kubectl: Kubectl, admin: Path) -> None:
    script = "echo $$\nsleep 300 &\necho $!\nwait\n"
    started = time.monotonic()
    await create(kubectl, admin, *script_job("4", script, deadline=1))
    pod = await finished(sim, "job-4")
    assert time.monotonic() - started < 15
    assert (pod["status"]["phase"], pod["status"]["reason"]) == ("Failed", "DeadlineExceeded")
    assert "longer than the specified deadline" in pod["status"]["message"]
    state = terminated(pod)
    assert (state["reason"], state["exitCode"]) == ("DeadlineExceeded", 143)  # SIGTERM to the group
    pids = [int(p) for p in (await log_of(sim, "job-4")).split()]
    assert len(pids) == 2

    async def dead() -> bool:  # the kernel finishes a SIGKILL when it schedules the process
        return not any(alive(p) for p in pids)

    await eventually(dead, 5, "the script's processes die")


async def test_deleting_the_pod_kills_the_script_and_removes_its_files(
    sim: Simulator, kubectl: Kubectl, admin: Path
) -> None:
    # the script ignores SIGTERM: the kubelet kills it after the grace period
    script = "trap '' TERM\necho $$\nsleep 300 &\necho $!\nwait\n"
    await create(kubectl, admin, *script_job("5", script, grace=1))
    await running(sim, "job-5")

    async def pids() -> list[int]:
        found = [int(p) for p in (await log_of(sim, "job-5")).split()]
        return found if len(found) == 2 else []

    both = await eventually(pids, 20, "the script's pids")
    assert all(alive(p) for p in both)
    logs = list((sim.data_dir / "kubelet" / "logs").rglob("*.log"))
    assert len(logs) == 1 and len(list((sim.data_dir / "kubelet" / "pods").iterdir())) == 1
    deleted = time.monotonic()
    (await kubectl(admin, "delete", "pod", "job-5", "-n", NS)).ok()

    async def dead() -> bool:
        return not any(alive(p) for p in both)

    await eventually(dead, 10, "the processes die")
    assert time.monotonic() - deleted >= 0.9  # SIGTERM was ignored: SIGKILL came after the grace period

    async def cleaned() -> bool:
        return not logs[0].exists() and not list((sim.data_dir / "kubelet" / "pods").iterdir())

    await eventually(cleaned, 10, "its log and sandbox are removed")


@pytest.mark.parametrize("sim_config", [{"kubelet_max_running": 1}], indirect=True)
async def test_a_restart_marks_running_pods_node_lost_and_the_shutdown_kills_them(
    sim: Simulator, kubectl: Kubectl, admin: Path, tmp_path: Path
) -> None:
    await create(kubectl, admin, *script_job("6", "echo $$\nsleep 300 &\necho $!\nwait\n"))
    await running(sim, "job-6")

    async def pids() -> list[int]:
        found = [int(p) for p in (await log_of(sim, "job-6")).split()]
        return found if len(found) == 2 else []

    both = await eventually(pids, 20, "the script's pids")
    # one slot: a second pod waits Pending behind the first, across the restart
    await create(kubectl, admin, *script_job("7", "echo second"))
    assert await phase(sim, "job-7") == "Pending"

    await sim.stop()

    async def dead() -> bool:
        return not any(alive(p) for p in both)

    await eventually(dead, 5, "the shutdown kills the process group: no orphans")
    await sim.start()
    admin2 = management(sim, tmp_path)  # the new port
    pod = await finished(sim, "job-6")
    assert (pod["status"]["phase"], pod["status"]["reason"]) == ("Failed", "NodeLost")
    assert "restarted" in pod["status"]["message"] and terminated(pod)["exitCode"] == 137
    assert (await kubectl(admin2, "logs", "job-6", "-n", NS)).ok().out.split() == [str(p) for p in both]
    second = await finished(sim, "job-7")
    assert second["status"]["phase"] == "Succeeded" and await log_of(sim, "job-7") == "second\n"


@pytest.mark.parametrize("sim_config", [{"kubelet_max_running": 1, "kubelet_log_max_bytes": 1000}], indirect=True)
async def test_bounds_and_pods_that_cannot_run(
    sim: Simulator, kubectl: Kubectl, admin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one running at a time: the second waits Pending until the first ends
    await create(
        kubectl, admin, *script_job("8", "until kubectl get configmap go8 >/dev/null 2>&1; do sleep 0.1; done")
    )
    await running(sim, "job-8")
    await create(kubectl, admin, *script_job("9", "printf 'x%.0s' $(seq 3000)"))
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:  # it would start within milliseconds if there were a free slot
        assert await phase(sim, "job-9") == "Pending"
        await asyncio.sleep(0.05)
    (await kubectl(admin, "create", "configmap", "go8", "-n", NS)).ok()
    assert (await finished(sim, "job-8"))["status"]["phase"] == "Succeeded"
    assert (await finished(sim, "job-9"))["status"]["phase"] == "Succeeded"
    log = await log_of(sim, "job-9")
    assert log == "x" * 1000 + _kubelet.TRUNCATED.format(1000)  # the log cap, then the marker

    # memory: the limit is RLIMIT_DATA -- kubectl (Go) ran under 512Mi above; 600 MB does not fit in 256Mi
    hog = "import sys\ntry:\n    b = bytearray(600 * 2**20)\nexcept MemoryError:\n    sys.exit('MemoryError')\n"
    await create(kubectl, admin, *script_job("10", hog, command=["python3", "/managed-scripts/script"], memory="256Mi"))
    pod = await finished(sim, "job-10")
    assert pod["status"]["phase"] == "Failed" and await log_of(sim, "job-10") == "MemoryError\n"

    # what the kubelet refuses to run, and says why
    monkeypatch.setattr(_kubelet, "WAIT_SECONDS", 0.5)  # for the missing config map
    other = script_job("11", "echo hi", command=["/bin/sh", "-c", "echo hi"])
    two = script_job("12", "echo hi")
    two[1]["spec"]["containers"].append({"name": "sidecar", "image": "quay.io/app-sre/managed-scripts:latest"})
    host = script_job("13", "echo hi")
    host[1]["spec"]["volumes"] = [{"name": "script", "hostPath": {"path": "/etc"}}]
    missing = script_job("14", "echo hi")[1:]  # no config map
    await create(kubectl, admin, *other, *two, *host, *missing)
    expected = {
        "job-11": ("UnsupportedCommand", "bash or python3"),
        "job-12": ("UnsupportedPod", "exactly one container"),
        "job-13": ("UnsupportedVolume", "configMap, secret and emptyDir"),
        "job-14": ("CreateContainerConfigError", 'configmap "job-14" not found'),
    }
    for name, (reason, message) in expected.items():
        pod = await finished(sim, name)
        assert (pod["status"]["phase"], pod["status"]["reason"]) == ("Failed", reason), name
        assert message in pod["status"]["message"], (name, pod["status"]["message"])

    # any other image keeps the simulated lifecycle: Running, never executed, an empty log
    plain = yaml.safe_load(json.dumps(script_job("15", "echo hi")[1]))
    plain["spec"]["containers"][0]["image"] = "quay.io/app-sre/other:latest"
    await create(kubectl, admin, plain)
    await running(sim, "job-15")
    assert await log_of(sim, "job-15") == "" and not re.search(
        "job-15", str(list((sim.data_dir / "kubelet").rglob("*")))
    )


async def test_pods_reach_their_own_cluster_api_and_die_with_their_cluster(
    sim: Simulator, cloud: ArmCloud, kubectl: Kubectl, admin: Path, tmp_path: Path
) -> None:
    """Classic (``/clusters/{sub}/{rg}``) and hosted (``/hostedclusters/{ns}``) clusters: the pod's kubeconfig
    names its own cluster's API (its token is only valid there); deleting a namespace, the resource group or
    the management namespace kills what runs in them."""
    script = "kubectl auth whoami -o jsonpath='{.status.userInfo.username}'\necho\necho $$\nsleep 300\n"
    classic, _ = await install_classic(sim, cloud, tmp_path, "c9-kubelet")
    ca = pki.new_ca("kas-client-ca")
    cert = pki.issue(ca, "system:admin", organization="system:masters", server=False, client=True)
    (await kubectl(admin, "create", "namespace", "hcp-1")).ok()
    (await kubectl(admin, "create", "-f", "-", stdin=client_ca_secret("hcp-1", ca.cert_pem))).ok()
    hosted = write_kubeconfig(
        tmp_path / "hosted",
        f"{sim.base_url}/hostedclusters/hcp-1",
        sim.tls.ca_file.read_text(),
        cert_pem=cert.cert_pem,
        key_pem=cert.key_pem,
    )
    for kubeconfig in (classic, hosted):
        for obj in script_job("16", script):
            obj["metadata"]["namespace"] = "default"
            if obj["kind"] == "Pod":
                obj["spec"]["serviceAccountName"] = "default"
            (await kubectl(kubeconfig, "create", "-f", "-", stdin=json.dumps(obj))).ok()
    (await kubectl(admin, "create", "namespace", "doomed")).ok()
    doomed = script_job("17", "echo x\necho $$\nsleep 300\n")
    for obj in doomed:
        obj["metadata"]["namespace"] = "doomed"
        if obj["kind"] == "Pod":
            obj["spec"]["serviceAccountName"] = "default"
    await create(kubectl, admin, *doomed)

    async def first_lines(kubeconfig: Path, namespace: str, name: str) -> list[str]:
        out = (await kubectl(kubeconfig, "logs", name, "-n", namespace)).out.splitlines()
        return out if len(out) == 2 else []

    whoami, classic_pid = await eventually(lambda: first_lines(classic, "default", "job-16"), 20, "classic")
    assert whoami == "system:serviceaccount:default:default"
    whoami, hosted_pid = await eventually(lambda: first_lines(hosted, "default", "job-16"), 20, "hosted")
    assert whoami == "system:serviceaccount:default:default"
    _, doomed_pid = await eventually(lambda: first_lines(admin, "doomed", "job-17"), 20, "doomed")
    pids = {"classic": int(classic_pid), "hosted": int(hosted_pid), "doomed": int(doomed_pid)}
    assert all(alive(p) for p in pids.values())
    logs_before = len(list((sim.data_dir / "kubelet" / "logs").rglob("*.log")))
    assert logs_before == 3

    (await kubectl(admin, "delete", "namespace", "doomed")).ok()
    (await kubectl(admin, "delete", "namespace", "hcp-1")).ok()
    await cloud.delete_resource_group(SUB, "aro-c9-kubelet")

    async def dead() -> bool:
        return not any(alive(p) for p in pids.values())

    await eventually(dead, 15, "every process dies with its namespace or cluster")

    async def cleaned() -> bool:
        return not list((sim.data_dir / "kubelet").rglob("*.log"))

    await eventually(cleaned, 10, "their logs are removed")
