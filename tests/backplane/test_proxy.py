"""The backplane proxy with the real kubectl, through a real `aro rp`, for a classic and a hosted cluster: a
kubeconfig whose server is ``https://<rp>/backplane/cluster/<clusterId>/`` (the RP's CA) and whose user is the
SRE's token -- what ``ocm backplane login`` writes.

- reads (``get nodes``, ``get pods -A``, ``get pods -n kube-system``) answer what the cluster has (the
  customer's admin credential, straight to the cluster API, sees the same);
- every request reached the cluster API as the backplane's certificate impersonating the SRE (the
  simulator's audit log: ``user`` the backplane's identity, ``impersonatedUser`` the SRE with the token's
  groups but no ``system:`` one); ``kubectl auth whoami`` says the SRE, also when kubectl sends
  ``--as system:admin --as-group system:masters`` (the client's impersonation headers never pass);
- a write the cluster's RBAC does not grant the SRE is Forbidden by the cluster API, naming the SRE;
- a watch streams: an object created while ``kubectl get -w`` runs is printed while it still runs, and a
  watch ends with kubectl's ``--request-timeout``; ``kubectl logs -f`` prints a line when the pod writes it;
- kubectl shows the backplane's refusals: a caller who is no SRE, an unknown cluster (the message), a bad
  token (kubectl's "You must be logged in to the server").
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backplane.helpers import (
    SRE,
    Cluster,
    Shared,
    admin_kubeconfig,
    api_server_of,
    issue_token,
    kubectl,
    ok,
    proxy_kubeconfig,
    until,
)
from tests.conftest import RPProcess
from tests.frontend.helpers import Arm
from tests.hcp.helpers import kubectl_binary

# who the backplane is to each kind's cluster API (its client certificate's common name)
BACKPLANE_USER = {"classic": "system:admin", "hosted": "system:aro-backplane"}
SCRIPT_IMAGE = "quay.io/app-sre/managed-scripts:latest"  # the simulator runs such pods for real


@pytest.fixture(scope="module")
def configs(
    bp_rp: RPProcess, sre_token: str, shared: Shared, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, Path]]:
    """By kind: (the SRE's kubeconfig through the backplane, the customer's admin kubeconfig)."""
    out: dict[str, tuple[Path, Path]] = {}
    with Arm(bp_rp) as arm:
        for cluster in shared.both():
            directory = tmp_path_factory.mktemp(f"kube-{cluster.kind}")
            proxied = proxy_kubeconfig(directory, bp_rp, cluster.cluster_id, sre_token)
            out[cluster.kind] = (proxied, admin_kubeconfig(arm, cluster, directory))
    return out


def cluster_of(shared: Shared, kind: str) -> Cluster:
    return shared.classic if kind == "classic" else shared.hosted


def audit(sim: httpx.Client, admin: Path, user: str) -> list[dict[str, Any]]:
    """The cluster API's audit events of ``user`` (as the user or as the impersonated one)."""
    r = sim.get("/simulator/audit", params={"server": api_server_of(admin), "user": user})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "EventList"
    return list(r.json()["items"])


def names(output: str) -> set[str]:
    return {line.split()[0] for line in output.splitlines()[1:] if line.strip()}


def pod(name: str, namespace: str, command: str, image: str = SCRIPT_IMAGE) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "c", "image": image, "command": ["bash", "-c", command]}],
            },
        }
    )


def apply(kubeconfig: Path, manifest: str) -> None:
    f = kubeconfig.parent / f"manifest-{uuid.uuid4().hex[:8]}.json"
    f.write_text(manifest)
    ok(kubectl(kubeconfig, "apply", "-f", str(f)))


class Lines:
    """A kubectl that runs on (``get -w``, ``logs -f``): its stdout lines as they come, with their time."""

    def __init__(self, kubeconfig: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [kubectl_binary(), "--kubeconfig", str(kubeconfig), f"--cache-dir={kubeconfig.parent / 'cache'}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(kubeconfig.parent)},
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def next(self, timeout: float) -> tuple[float, str]:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout}s (kubectl: {self.proc.poll()})") from None

    def wait_for(self, text: str, timeout: float = 20) -> float:
        deadline = time.monotonic() + timeout
        while True:
            at, line = self.next(max(0.01, deadline - time.monotonic()))
            if text in line:
                return at

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def running() -> Iterator[list[Lines]]:
    procs: list[Lines] = []
    yield procs
    for p in procs:
        p.stop()


@pytest.mark.parametrize("kind", ["classic", "hosted"])
def test_kubectl_reads_through_the_proxy_as_the_sre(
    kind: str, configs: dict[str, tuple[Path, Path]], sim: httpx.Client
) -> None:
    proxied, admin = configs[kind]
    marker = f"bp-read-{uuid.uuid4().hex[:6]}"
    apply(admin, pod(marker, "kube-system", "sleep 1"))

    nodes = kubectl(proxied, "get", "nodes")
    direct = kubectl(admin, "get", "nodes")
    assert nodes.returncode == direct.returncode == 0, nodes.stderr
    assert names(nodes.stdout) == names(direct.stdout) and (nodes.stderr == direct.stderr)
    if kind == "classic":  # three masters and the workers of the create body
        assert sorted("master" in n for n in names(nodes.stdout)) == [False] * 3 + [True] * 3, nodes.stdout
    every = ok(kubectl(proxied, "get", "pods", "-A"))
    assert any(line.split()[:2] == ["kube-system", marker] for line in every.splitlines()), every
    system = ok(kubectl(proxied, "get", "pods", "-n", "kube-system"))
    assert marker in names(system) and names(system) == names(ok(kubectl(admin, "get", "pods", "-n", "kube-system")))
    me = json.loads(ok(kubectl(proxied, "auth", "whoami", "-o", "json")))["status"]["userInfo"]
    assert me["username"] == SRE and me["groups"] == ["aro-sre", "sre-oncall", "system:authenticated"]

    # the cluster API saw each of them as the backplane impersonating the SRE
    events = audit(sim, admin, SRE)
    seen = {(e["verb"], e["requestURI"].split("?")[0]) for e in events}
    for verb, uri in (
        ("list", "/api/v1/nodes"),
        ("list", "/api/v1/pods"),
        ("list", "/api/v1/namespaces/kube-system/pods"),
    ):
        assert (verb, uri) in seen, (verb, uri, seen)
    for e in events:
        assert e["user"]["username"] == BACKPLANE_USER[kind] and "system:masters" in e["user"]["groups"], e
        assert e["impersonatedUser"]["username"] == SRE, e
        assert "system:masters" not in e["impersonatedUser"]["groups"], e


@pytest.mark.parametrize("kind", ["classic", "hosted"])
def test_the_client_cannot_choose_whom_it_acts_as(kind: str, configs: dict[str, tuple[Path, Path]]) -> None:
    proxied, admin = configs[kind]
    forged = ("--as=system:admin", "--as-group=system:masters")
    me = json.loads(ok(kubectl(proxied, *forged, "auth", "whoami", "-o", "json")))["status"]["userInfo"]
    assert me["username"] == SRE and "system:masters" not in me["groups"]
    name = f"bp-forged-{uuid.uuid4().hex[:6]}"
    refused = kubectl(proxied, *forged, "create", "namespace", name)
    assert refused.returncode != 0 and "Forbidden" in refused.stderr and f'User "{SRE}"' in refused.stderr
    gone = kubectl(admin, "get", "namespace", name)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


@pytest.mark.parametrize("kind", ["classic", "hosted"])
def test_a_write_rbac_does_not_grant_is_forbidden_by_the_cluster_api(
    kind: str, configs: dict[str, tuple[Path, Path]]
) -> None:
    proxied, admin = configs[kind]
    name = f"bp-x-{uuid.uuid4().hex[:6]}"
    refused = kubectl(proxied, "create", "namespace", name)
    assert refused.returncode != 0, refused.stdout
    message = f'namespaces is forbidden: User "{SRE}" cannot create resource "namespaces" in API group ""'
    assert f"Error from server (Forbidden): {message} at the cluster scope" in refused.stderr, refused.stderr
    secrets = kubectl(proxied, "get", "secrets", "-n", "kube-system")
    assert secrets.returncode != 0 and f'User "{SRE}" cannot list resource "secrets"' in secrets.stderr
    assert kubectl(admin, "get", "namespace", name).returncode != 0


@pytest.mark.parametrize("kind", ["classic", "hosted"])
def test_a_watch_streams_through_the_proxy(
    kind: str, configs: dict[str, tuple[Path, Path]], sim: httpx.Client, running: list[Lines]
) -> None:
    proxied, admin = configs[kind]
    namespace = "openshift-config"
    started = len([e for e in audit(sim, admin, SRE) if e["verb"] == "watch"])
    watch = Lines(proxied, "get", "configmaps", "-n", namespace, "-w", "-o", "name", "--request-timeout=60s")
    running.append(watch)

    def watching() -> bool:  # the cluster API has started answering the SRE's watch
        watches = [
            e for e in audit(sim, admin, SRE) if e["verb"] == "watch" and f"/namespaces/{namespace}/" in e["requestURI"]
        ]
        return len(watches) > started

    until("the SRE's watch to reach the cluster API", watching, 20)
    name = f"bp-streamed-{uuid.uuid4().hex[:6]}"
    created = time.monotonic()
    ok(kubectl(admin, "create", "configmap", name, "-n", namespace, "--from-literal=k=v"))
    at = watch.wait_for(f"configmap/{name}", 20)
    assert watch.proc.poll() is None, "the event came with the end of the response, not as it happened"
    assert at - created < 10

    # the watch ends with kubectl's request timeout (the proxy keeps nothing open after it)
    begun = time.monotonic()
    ended = kubectl(proxied, "get", "pods", "-A", "-w", request_timeout="3s", timeout=30)
    assert ended.returncode == 0, ended.stderr
    assert 2.5 <= time.monotonic() - begun < 20


@pytest.mark.parametrize("kind", ["classic", "hosted"])
def test_logs_follow_streams_each_line_as_the_pod_writes_it(
    kind: str, configs: dict[str, tuple[Path, Path]], running: list[Lines]
) -> None:
    proxied, admin = configs[kind]
    name = f"bp-talker-{uuid.uuid4().hex[:6]}"
    apply(admin, pod(name, "kube-system", "echo first; sleep 4; echo second"))
    follow = Lines(
        proxied, "logs", "-f", "-n", "kube-system", name, "--pod-running-timeout=30s", "--request-timeout=60s"
    )
    running.append(follow)
    first = follow.wait_for("first", 30)
    assert follow.proc.poll() is None
    second = follow.wait_for("second", 30)
    assert second - first >= 2.5, "both lines came at the end: the log was buffered"
    assert follow.proc.wait(20) == 0


def test_kubectl_shows_the_backplanes_refusals(
    bp_rp: RPProcess, sre_token: str, shared: Shared, tmp_path: Path
) -> None:
    cid = shared.classic.cluster_id
    # kubectl shows a refusal's message for a resource request; its discovery requests (a fresh cache) read
    # any error raw and print client-go's words -- so the discovery cache is filled first, as a session does
    ok(kubectl(proxy_kubeconfig(tmp_path, bp_rp, cid, sre_token, "sre"), "get", "nodes"))
    carol = issue_token(bp_rp, "carol", ("developers",), organization=shared.tenant)
    no_sre = kubectl(proxy_kubeconfig(tmp_path, bp_rp, cid, carol, "carol"), "get", "nodes")
    assert no_sre.returncode != 0
    assert "Error from server (Forbidden): User carol is not allowed to use the backplane" in no_sre.stderr, (
        no_sre.stderr
    )
    bad = kubectl(proxy_kubeconfig(tmp_path, bp_rp, cid, "not-a-token", "bad"), "get", "nodes")
    assert bad.returncode != 0
    assert "error: You must be logged in to the server (The access token is not valid)" in bad.stderr, bad.stderr
    unknown = kubectl(proxy_kubeconfig(tmp_path, bp_rp, "0" * 32, sre_token, "unknown"), "get", "nodes")
    assert unknown.returncode != 0 and "NotFound" in unknown.stderr, unknown.stderr
