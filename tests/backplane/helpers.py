"""Helpers of the backplane's end-to-end tests: development tokens, the backplane's routes, clusters by their
ledger cluster id, kubeconfigs whose server is the backplane's proxy, and the real kubectl."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.cloud.kubectl import write_kubeconfig
from tests.conftest import RPProcess
from tests.fixtures.clusters import cli_body
from tests.frontend.helpers import STABLE, Arm, cluster_path
from tests.hcp.helpers import kubectl_binary, new_key_and_csr, with_key
from tests.ledger.helpers import AMS, HCP_VERSION, hcp_body, hcp_path

SRE = "sre-sam"
SRE_GROUPS = ("aro-sre", "sre-oncall")


@dataclass
class Cluster:
    kind: str  # classic | hosted
    sub: str
    rg: str
    name: str
    path: str  # its ARM id
    version: str  # the api-version its routes take
    cluster_id: str = ""  # the ledger's


@dataclass
class Shared:
    sub: str
    tenant: str
    classic: Cluster
    hosted: Cluster

    def both(self) -> list[Cluster]:
        return [self.classic, self.hosted]


def until(what: str, fn: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll ``fn`` until it returns something truthy (returned); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(interval)


def issue_token(rp: RPProcess, user: str, groups: tuple[str, ...] = (), organization: str | None = None) -> str:
    """A development token (``aro login``'s endpoint)."""
    body: dict[str, Any] = {"username": user, "groups": list(groups)}
    if organization:
        body["organization"] = organization
    with rp.client() as c:
        r = c.post("/api/auth/token", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def bearer(rp: RPProcess, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return rp.client(headers=headers)


def create_classic(arm: Arm, sub: str, rg: str, name: str) -> Cluster:
    path = cluster_path(sub, rg, name)
    r = arm.put(path, cli_body(sub, name))
    assert r.status_code == 201, r.text
    return Cluster("classic", sub, rg, name, path, STABLE)


def create_hosted(arm: Arm, sub: str, rg: str, name: str) -> Cluster:
    path = hcp_path(sub, rg, name)
    r = arm.put(path, hcp_body(sub, rg, name), version=HCP_VERSION)
    assert r.status_code == 201, r.text
    return Cluster("hosted", sub, rg, name, path, HCP_VERSION)


def wait_cluster_id(rp: RPProcess, sre_token: str, sub: str, name: str, timeout: float = 60) -> str:
    """The ledger's cluster id of the cluster ``name`` of Azure subscription ``sub`` (as an SRE sees it)."""
    search = f"cloud_account_id = '{sub}' and display_name = '{name}'"

    def found() -> str:
        with bearer(rp, sre_token) as c:
            r = c.get(AMS + "/subscriptions", params={"search": search})
        assert r.status_code == 200, r.text
        items = [i for i in r.json()["items"] if i.get("cluster_id")]
        return str(items[0]["cluster_id"]) if items else ""

    return str(until(f"the ledger's cluster id of {name}", found, timeout))


def proxy_url(rp: RPProcess, cluster_id: str) -> str:
    return f"{rp.base_url}/backplane/cluster/{cluster_id}/"


def proxy_kubeconfig(
    directory: Path, rp: RPProcess, cluster_id: str, token: str, name: str = "bp", ca_pem: str | None = None
) -> Path:
    """What ``ocm backplane login`` writes: the backplane's proxy as the server (the RP's CA: the generated
    one unless given), the SRE's token."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = ca_pem if ca_pem is not None else rp.ca_file.read_text()
    return write_kubeconfig(directory / f"{name}.kubeconfig", proxy_url(rp, cluster_id), ca, token=token)


def kubectl(
    kubeconfig: Path, *args: str, request_timeout: str = "20s", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real kubectl (never checked here: the caller asserts on the outcome)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = str(kubeconfig.parent)
    return subprocess.run(
        [
            kubectl_binary(),
            "--kubeconfig",
            str(kubeconfig),
            f"--cache-dir={kubeconfig.parent / 'cache'}",
            f"--request-timeout={request_timeout}",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"kubectl {' '.join(proc.args[4:])} failed ({proc.returncode}): {proc.stderr}"
    return proc.stdout


def admin_kubeconfig(arm: Arm, cluster: Cluster, directory: Path) -> Path:
    """The customer's admin credential, straight to the cluster's API (not through the backplane)."""
    directory.mkdir(parents=True, exist_ok=True)
    f = directory / f"{cluster.name}-admin.kubeconfig"
    if cluster.kind == "classic":
        r = arm.post(cluster.path + "/listAdminCredentials")
        assert r.status_code == 200, r.text
        f.write_text(base64.b64decode(r.json()["kubeconfig"]).decode())
        return f
    key, csr = new_key_and_csr()
    r = arm.post(cluster.path + "/requestAdminCredential", json={"certificateSigningRequest": csr}, version=HCP_VERSION)
    assert r.status_code == 202, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    f.write_text(with_key(arm.absolute(r.headers["location"]).json()["kubeconfig"], key))
    return f


def api_server_of(kubeconfig: Path) -> str:
    """The cluster API URL a kubeconfig names (the simulator's audit is asked by it)."""
    return str(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])
