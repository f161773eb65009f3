"""`aro backplane` end to end: the real `aro` CLI as subprocesses (a HOME of its own: ``~/.ocm.json`` from
`aro login --group aro-sre`, ``~/.kube/config``), the real kubectl (which runs login's exec plugin, `aro token`)
and a real `aro rp` of the module's own: its ledger, its backplane (login, the streaming proxy, the cloud
console, managed scripts and the managed jobs its simulator's kubelet executes) and one classic and one hosted
cluster that the tests share. The RP serves the shipped scripts plus the test catalog of
``tests/backplane/jobhelpers`` (``TEST/sleeper`` runs long enough to be killed, ``CEE/restricted`` is not the
SRE's to run).

What a test checks is never what it configured: the cluster API's own answers (the customer's admin
kubeconfig, straight to the cluster), the simulator's audit of the cluster API, the job's pod in the cluster,
the console link the simulator serves, the shipped scripts' metadata. Without a server, the CLI's logic is
``test_backplane_units`` / ``test_backplane_kubeconfig``'s (the lookups with the ledger's own search parser).

The walkthrough (README, "The backplane"):

- ``test_login_kubectl_project_logout``: login by name into a kubeconfig that has another context; kubectl
  reads nodes and pods through the proxy (the audit: the backplane impersonating the SRE), also once the
  token expired (the exec plugin refreshes it); ``project kube-system`` then ``kubectl get pods``; logout
  leaves the file byte for byte as it was;
- ``test_login_by_external_id_and_refusals``: login by external id (``--multi``), logout by name; a paused
  and a hibernating cluster are refused with the service's message, nothing written;
- ``test_managed_jobs``: a shipped script with a parameter, ``--wait --logs``; its logs; a failing job; a
  script outside the SRE's groups; ``delete`` kills a running job (its pod gone from the cluster);
- ``test_cloud_console_and_scripts``: the signed cloud console link, the script list and a description;
- ``test_connection_errors``: an untrusted backplane certificate, an unreachable backplane, a revoked token.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import certifi
import httpx
import pytest
import yaml

from aro.backplane.jobs import IMAGE as JOBS_IMAGE
from aro.backplane.jobs import NAMESPACE as JOBS_NAMESPACE
from aro.backplane.scripts import shipped_directory
from tests.backend.helpers import simulator_client
from tests.backplane.helpers import (
    SRE,
    SRE_GROUPS,
    Cluster,
    admin_kubeconfig,
    api_server_of,
    bearer,
    create_classic,
    create_hosted,
    issue_token,
    until,
    wait_cluster_id,
)
from tests.backplane.jobhelpers import TERMINAL, Backplane, catalog_with_tests
from tests.cli.helpers import clean_environ
from tests.conftest import RPProcess, free_port
from tests.frontend.conftest import StartRP, start_rp
from tests.frontend.helpers import Arm
from tests.hcp.helpers import kubectl_binary
from tests.ledger.helpers import AMS, register

__all__ = ["start_rp"]

BACKPLANE_USER = "system:admin"  # who the backplane is to a classic cluster's API (its client certificate)


@dataclass
class Served:
    """The module's RP and simulator, its two clusters and their ledger subscriptions, the SRE's ``aro login``."""

    rp: RPProcess
    sim: httpx.Client
    token: str  # the SRE's, for the checks' own API reads
    classic: Cluster
    hosted: Cluster
    subs: dict[str, dict[str, Any]]  # by cluster id: the ledger's subscription (external id, console URL)
    admin: Path  # the classic cluster's admin kubeconfig
    ocm: Path  # the OCM config `aro login` wrote

    def jobs(self, token: str | None = None) -> Backplane:
        return Backplane(self.rp, token or self.token)


@dataclass
class Sre:
    """`aro ARGS` and `kubectl ARGS` as an SRE at a terminal: their own HOME, nothing else configured."""

    home: Path

    def env(self, **extra: str | None) -> dict[str, str]:
        env = {
            k: v
            for k, v in clean_environ().items()
            if not k.startswith(("BACKPLANE_", "KUBE", "OCM_"))
            and k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "BROWSER", "XDG_CONFIG_HOME")
        }
        env["HOME"] = str(self.home)
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def __call__(self, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aro_cmd.main", *args],
            cwd=self.home,
            env=self.env(**env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
        r = self(*args, **env)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        return r

    def fails(self, code: int, *args: str, **env: str | None) -> str:
        """Run; it must exit ``code``; its stderr."""
        r = self(*args, **env)
        assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        return r.stderr

    def kubectl(self, *args: str) -> str:
        """kubectl with the SRE's ~/.kube/config (it must succeed): its stdout."""
        r = subprocess.run(
            [kubectl_binary(), "--request-timeout=20s", *args],
            cwd=self.home,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, (args, r.stderr)
        return r.stdout

    @property
    def ocm(self) -> Path:
        return self.home / ".ocm.json"

    @property
    def kubeconfig(self) -> Path:
        return self.home / ".kube" / "config"

    @property
    def token_script(self) -> Path:
        return self.home / ".kube" / "aro-token"


def admin_kubectl(admin: Path, *args: str) -> str:
    """kubectl with the customer's admin credential, straight to the cluster API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = str(admin.parent)
    r = subprocess.run(
        [kubectl_binary(), "--kubeconfig", str(admin), "--request-timeout=20s", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def ledger_subscription(rp: RPProcess, token: str, cluster_id: str) -> dict[str, Any]:
    """The cluster's ledger subscription once it is Active (its external id and console URL known)."""

    def active() -> dict[str, Any] | None:
        with bearer(rp, token) as c:
            r = c.get(AMS + "/subscriptions", params={"search": f"cluster_id = '{cluster_id}'"})
        assert r.status_code == 200, r.text
        items = [i for i in r.json()["items"] if i.get("external_cluster_id") and i.get("console_url")]
        return items[0] if items else None

    return dict(until(f"the ledger's subscription of {cluster_id} to be Active", active, 60))


@pytest.fixture(scope="module")
def served(start_rp: StartRP, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("backplane-cli")
    rp = start_rp(ARO_BACKPLANE_SCRIPTS_DIRECTORY=str(catalog_with_tests(tmp / "catalog")))
    token = issue_token(rp, SRE, SRE_GROUPS)
    sub = str(uuid.uuid4())
    with Arm(rp) as arm:
        register(arm.client, sub)
        classic = create_classic(arm, sub, "bp-rg", "bpclassic")
        hosted = create_hosted(arm, sub, "bp-rg", "bphosted")
        arm.wait(classic.path, {"Succeeded"}, timeout=90)
        arm.wait(hosted.path, {"Succeeded"}, version=hosted.version, timeout=90)
        admin = admin_kubeconfig(arm, classic, tmp / "admin")
    subs = {}
    for cluster in (classic, hosted):
        cluster.cluster_id = wait_cluster_id(rp, token, sub, cluster.name)
        subs[cluster.cluster_id] = ledger_subscription(rp, token, cluster.cluster_id)

    # the SRE logs in with the real `aro login`: ~/.ocm.json, which every test's HOME starts with
    login = Sre(tmp / "login")
    login.home.mkdir()
    groups = [a for g in SRE_GROUPS for a in ("--group", g)]
    login.ok("login", "--user", SRE, *groups, "--url", rp.base_url, "--ca-file", str(rp.ca_file))
    saved = json.loads(login.ocm.read_text())
    assert saved["url"] == rp.base_url and saved["user"] == SRE and stat.S_IMODE(login.ocm.stat().st_mode) == 0o600

    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
        yield Served(rp, sim, token, classic, hosted, subs, admin, login.ocm)


@pytest.fixture
def sre(served: Served, tmp_path: Path) -> Sre:
    """An SRE's fresh HOME, logged in (the module's ``aro login``)."""
    s = Sre(tmp_path / "home")
    s.home.mkdir()
    shutil.copy2(served.ocm, s.ocm)
    return s


def audit(served: Served, since: set[str]) -> list[dict[str, Any]]:
    """The classic cluster API's audit events of the SRE (as the user or impersonated) not in ``since``."""
    r = served.sim.get("/simulator/audit", params={"server": api_server_of(served.admin), "user": SRE})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["auditID"] not in since]


def names(table: str, all_namespaces: bool = False) -> set[tuple[str, ...]]:
    """The (namespace and) name of each row of kubectl's table."""
    width = 2 if all_namespaces else 1
    return {tuple(line.split()[:width]) for line in table.splitlines()[1:] if line.strip()}


def pre_existing_kubeconfig(sre: Sre, ca_file: Path) -> bytes:
    """A kubeconfig with another context (current), as kubectl itself writes it."""
    for args in (
        (
            "set-cluster",
            "dev",
            "--server=https://127.0.0.1:6443",
            f"--certificate-authority={ca_file}",
            "--embed-certs",
        ),
        ("set-credentials", "dev", "--token=dev-secret"),
        ("set-context", "dev", "--cluster=dev", "--user=dev", "--namespace=apps"),
        ("use-context", "dev"),
    ):
        sre.kubectl("config", *args)
    return sre.kubeconfig.read_bytes()


# --- login, kubectl through the proxy, project, logout ------------------------------------------------------


def test_login_kubectl_project_logout(served: Served, sre: Sre, tmp_path: Path) -> None:
    classic = served.classic
    cid = classic.cluster_id
    before = pre_existing_kubeconfig(sre, served.rp.ca_file)
    marker = f"marker-{uuid.uuid4().hex[:6]}"  # a pod in kube-system (the cluster's own have none there)
    admin_kubectl(served.admin, "run", marker, "-n", "kube-system", "--image=registry.example/app:1", "--restart=Never")
    seen = {e["auditID"] for e in audit(served, set())}

    r = sre.ok("backplane", "login", classic.name)
    assert r.stdout == "" and f"Logged in to {classic.name} ({cid})" in r.stderr
    doc = yaml.safe_load(sre.kubeconfig.read_text())
    assert doc["current-context"] == cid and [c["name"] for c in doc["contexts"]] == ["dev", cid]
    [cluster] = [c["cluster"] for c in doc["clusters"] if c["name"] == cid]
    assert cluster["server"] == f"{served.rp.base_url}/backplane/cluster/{cid}/"
    assert json.loads(sre.ocm.read_text())["access_token"] not in sre.kubeconfig.read_text()
    assert stat.S_IMODE(sre.token_script.stat().st_mode) == 0o700

    # kubectl through the proxy answers what the cluster API itself answers (the admin's view)
    nodes = sre.kubectl("get", "nodes")
    assert names(nodes) == names(admin_kubectl(served.admin, "get", "nodes")) and len(names(nodes)) >= 3
    # the token expired: the exec plugin (`aro token`) refreshes it and kubectl goes on
    ocm = json.loads(sre.ocm.read_text())
    sre.ocm.write_text(json.dumps({**ocm, "expires_at": int(time.time()) - 10}))
    every = sre.kubectl("get", "pods", "-A")
    assert names(every, True) == names(admin_kubectl(served.admin, "get", "pods", "-A"), True)
    refreshed = json.loads(sre.ocm.read_text())
    assert refreshed["access_token"] != ocm["access_token"] and refreshed["expires_at"] > time.time()

    sre.ok("backplane", "project", "kube-system")
    assert sre.ok("backplane", "project").stdout == "kube-system\n"
    system = names(sre.kubectl("get", "pods"))
    assert (marker,) in system and system == names(admin_kubectl(served.admin, "get", "pods", "-n", "kube-system"))

    # the cluster API saw each request as the backplane impersonating the SRE, with the token's groups
    wanted = {("list", "/api/v1/nodes"), ("list", "/api/v1/pods"), ("list", "/api/v1/namespaces/kube-system/pods")}

    def audited() -> list[dict[str, Any]]:
        events = audit(served, seen)
        return events if wanted <= {(e["verb"], e["requestURI"].split("?")[0]) for e in events} else []

    events = until("kubectl's requests in the cluster API's audit", audited, 10)
    for e in events:
        assert e["user"]["username"] == BACKPLANE_USER, e
        assert e["impersonatedUser"]["username"] == SRE, e
        assert set(SRE_GROUPS) <= set(e["impersonatedUser"]["groups"]), e
        assert not any(g.startswith("system:masters") for g in e["impersonatedUser"]["groups"]), e

    # the console of the current context, opened in the SRE's browser
    opened = tmp_path / "opened"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    assert sre.ok("backplane", "console", "-b", BROWSER=str(browser)).stdout == ""
    assert opened.read_text() == served.subs[cid]["console_url"] + "\n"

    r = sre.ok("backplane", "logout")
    assert f"Logged out from backplane: {classic.name}" in r.stderr
    assert sre.kubeconfig.read_bytes() == before
    assert not sre.token_script.exists()
    assert sorted(p.name for p in sre.kubeconfig.parent.iterdir() if p.name != "cache") == ["config"]


def _admin_patch(served: Served, cluster: Cluster, props: dict[str, str]) -> None:
    with Arm(served.rp) as arm:
        r = arm.patch(f"/admin{cluster.path}", {"properties": props}, version=None)
    assert r.status_code in (200, 202), r.text


def test_login_by_external_id_and_refusals(served: Served, sre: Sre) -> None:
    hosted = served.hosted
    hid = hosted.cluster_id
    external_id = served.subs[hid]["external_cluster_id"]
    assert external_id and external_id != hid

    r = sre.ok("backplane", "login", external_id, "--multi")
    path = sre.home / ".kube" / hid / "config"
    assert r.stdout == f"# Execute the following command to log into the cluster {hid}\nexport KUBECONFIG={path}\n"
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == hid
    assert doc["clusters"][0]["cluster"]["server"] == f"{served.rp.base_url}/backplane/cluster/{hid}/"
    assert not sre.kubeconfig.exists()
    r = sre.ok("backplane", "logout", hosted.name)
    assert "removed the file" in r.stderr and not path.parent.exists() and not sre.token_script.exists()

    # paused by an admin, then hibernating: refused with the service's reason; nothing is written
    try:
        _admin_patch(served, hosted, {"pausedUntil": "true"})
        err = sre.fails(1, "backplane", "login", hosted.name)
        assert f"aro: cluster {hosted.name} is paused (reconciliation is paused by an admin), login failed" in err
        assert "status: 400" in err
    finally:
        _admin_patch(served, hosted, {"pausedUntil": "false"})
    _admin_patch(served, hosted, {"powerState": "Hibernating"})  # the hosted cluster stays so: no test uses it after
    err = sre.fails(1, "backplane", "login", external_id)
    assert f"aro: cluster {hosted.name} is hibernating, login failed" in err and "status: 400" in err
    assert not sre.kubeconfig.exists() and list((sre.home / ".kube").iterdir()) == []


# --- managed scripts and jobs --------------------------------------------------------------------------------


def job_id_of(stdout: str) -> str:
    lines = stdout.splitlines()
    assert lines[0] == "The job is waiting to be started" and lines[1].startswith("JobId: "), stdout  # the service's
    return lines[1].removeprefix("JobId: ")


def pod_phase(admin: Path, namespace: str, name: str) -> str:
    return admin_kubectl(admin, "get", "pod", name, "-n", namespace, "-o", "jsonpath={.status.phase}")


def test_managed_jobs(served: Served, sre: Sre) -> None:
    name = served.classic.name
    cid = served.classic.cluster_id
    fast = ("--interval", "0.1", "-c", name)

    # a namespace of two pods: one runs, one (executed by the simulator's kubelet) exits 3
    namespace = f"triage-{uuid.uuid4().hex[:6]}"
    admin_kubectl(served.admin, "create", "namespace", namespace)
    admin_kubectl(served.admin, "run", "fine", "-n", namespace, "--image=registry.example/app:1", "--restart=Never")
    crasher = ("run", "crasher", "-n", namespace, f"--image={JOBS_IMAGE}", "--restart=Never", "--command")
    admin_kubectl(served.admin, *crasher, "--", "/bin/bash", "-c", "exit 3")
    until("the crasher to fail", lambda: pod_phase(served.admin, namespace, "crasher") == "Failed")
    assert pod_phase(served.admin, namespace, "fine") == "Running"

    r = sre.ok(
        "backplane",
        "managedjob",
        "create",
        "SREP/failing-pods",
        "-p",
        f"NAMESPACE={namespace}",
        "--wait",
        "--logs",
        *fast,
    )
    job_id = job_id_of(r.stdout)
    output = r.stdout.split("\n", 2)[2]  # the followed log: what the script printed
    assert output == (
        f"crasher  phase=Failed restarts=0 reasons=Error\n1 of 2 pods in {namespace} are failing or restarting\n"
    ), r.stdout
    assert "Job Succeeded" in r.stderr
    assert sre.ok("backplane", "managedjob", "logs", job_id, "-c", name).stdout == output
    rows = [line.split() for line in sre.ok("backplane", "managedjob", "get", "-c", name).stdout.splitlines()[2:]]
    assert [job_id, "Succeeded", "SREP/failing-pods"] in [row[:3] for row in rows], rows

    # a script that fails: exit 1, and where its logs are
    r = sre("backplane", "managedjob", "create", "TEST/forbidden", "--wait", *fast)
    failed = job_id_of(r.stdout)
    assert r.returncode == 1 and f"aro: Job Failed: {failed}" in r.stderr, r.stderr
    assert f"aro backplane managedjob logs {failed}" in r.stderr

    # a script outside the SRE's groups: the backplane does not offer it, nothing runs
    err = sre.fails(1, "backplane", "managedjob", "create", "CEE/restricted", "-c", name)
    assert "aro: Script Not Found" in err and "status: 404" in err
    with served.jobs(issue_token(served.rp, "cee-carol", ("aro-sre", "CEE"))) as cee:
        assert "CEE/restricted" not in {j["jobStatus"]["script"]["canonicalName"] for j in cee.jobs(cid)}

    # delete kills a running job: its pod, running on the cluster, is gone
    r = sre.ok("backplane", "managedjob", "create", "TEST/sleeper", "-c", name)
    sleeper = job_id_of(r.stdout)
    with served.jobs() as jobs:
        jobs.wait(cid, sleeper, {"Running"})
        pod = f"job-{sleeper}"
        until("the sleeper's pod to run", lambda: pod_phase(served.admin, JOBS_NAMESPACE, pod) == "Running")
        err = sre.fails(2, "backplane", "managedjob", "delete", sleeper, "-c", name)
        assert "refusing without confirmation" in err
        assert (
            "Deleted Job ID: " + sleeper
            in sre.ok("backplane", "managedjob", "delete", sleeper, "-y", "-c", name).stderr
        )
        jobs.wait(cid, sleeper, TERMINAL)
    got = json.loads(sre.ok("backplane", "managedjob", "get", sleeper, "-o", "json", "-c", name).stdout)
    assert got["jobStatus"]["status"] == "Killed" and got["message"] == f"Killed by {SRE}", got
    left = admin_kubectl(served.admin, "get", "pods", "-n", JOBS_NAMESPACE, "-o", "name")
    assert f"pod/{pod}\n" not in left, left


# --- the cloud console, scripts ---------------------------------------------------------------------------------


def test_cloud_console_and_scripts(served: Served, sre: Sre) -> None:
    name = served.classic.name
    shown = json.loads(sre.ok("backplane", "cloud", "console", name, "-o", "json").stdout)
    assert set(shown) == {"ConsoleLink", "ClusterID", "Region"}
    assert shown["ClusterID"] == served.classic.cluster_id and shown["Region"] == "eastus"
    link = urlsplit(shown["ConsoleLink"])
    assert link.scheme == "https" and set(parse_qs(link.query)) == {"expires", "signature"}
    assert link.path.startswith(f"/console/subscriptions/{served.classic.sub}/resourceGroups/")
    page = httpx.get(shown["ConsoleLink"], verify=served.rp.ssl_context())  # the signed link is the credential
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")

    lines = sre.ok("backplane", "script", "list", "-c", name).stdout.splitlines()
    assert lines[0].split() == ["NAME", "DESCRIPTION"]
    listed = {line.split()[0] for line in lines[2:]}
    shipped = {f"{p.parent.parent.name}/{p.parent.name}" for p in shipped_directory().glob("*/*/metadata.yaml")}
    assert shipped and shipped <= listed and "TEST/sleeper" in listed and "CEE/restricted" not in listed

    meta = yaml.safe_load((shipped_directory() / "SREP" / "failing-pods" / "metadata.yaml").read_text())
    described = sre.ok("backplane", "script", "describe", "SREP/failing-pods", "-c", name).stdout
    column = "\n" + " " * len("Description:   ")  # a description of several lines keeps its column
    assert described.startswith(
        f"CanonicalName: SREP/failing-pods\nAuthor:        {meta['author']}\n"
        f"Description:   {meta['description'].strip().replace(chr(10), column)}\n"
        f"AllowedGroups: [{' '.join(meta['allowedGroups'])}]\nLanguage:      bash\nPermalink:     "
    ), described
    [env] = meta["envs"]
    required = f"Required Parameters:\n- Key:         {env['key']}\n  Description: {env['description']}\n"
    assert described.endswith(required + "Optional Parameters:\n"), described


def test_console_finds_a_cluster_by_any_key_within_the_callers_organization(
    served: Served, sre: Sre, tmp_path: Path
) -> None:
    sub = served.subs[served.classic.cluster_id]
    console_url = sub["console_url"]
    for key in (served.classic.cluster_id, sub["external_cluster_id"], served.classic.name[2:]):  # a part: a search
        assert sre.ok("backplane", "console", key).stdout == console_url + "\n", key
    missing = sre.fails(1, "backplane", "console", "no-such-cluster-x'y")  # quoted, not injected
    assert 'no cluster has the id, external id or name "no-such-cluster-x\'y"' in missing

    outsider = Sre(tmp_path / "outsider")  # not an SRE, and of the default organization, not the cluster's
    outsider.home.mkdir()
    outsider.ok("login", "--user", "someone", "--url", served.rp.base_url, "--ca-file", str(served.rp.ca_file))
    refused = outsider.fails(1, "backplane", "console", served.classic.name)
    assert "no cluster has the id, external id or name" in refused


# --- where the backplane is, and who may use it -----------------------------------------------------------------


def test_connection_errors(served: Served, sre: Sre) -> None:
    name = served.classic.name
    url = served.rp.base_url
    config = sre.home / ".config" / "backplane" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"url": url, "ca-file": certifi.where()}))  # not the RP's CA
    err = sre.fails(1, "backplane", "login", name)
    assert f"aro: the backplane's TLS certificate at {url} is not trusted by the CA bundle {certifi.where()}" in err
    config.unlink()

    dead = f"http://127.0.0.1:{free_port()}"
    err = sre.fails(1, "backplane", "cloud", "console", name, BACKPLANE_URL=dead)
    assert f"aro: cannot reach the backplane at {dead}" in err and "BACKPLANE_URL" in err

    ocm = json.loads(sre.ocm.read_text())
    sre.ocm.write_text(json.dumps({**ocm, "access_token": "revoked"}))
    err = sre.fails(1, "backplane", "login", name)
    assert "run 'aro login'" in err, err
    assert not sre.kubeconfig.exists() and not sre.token_script.exists()
