"""Helpers of the managed scripts' and managed jobs' tests: a catalog of test scripts next to the shipped
ones, an `aro rp` that serves it (``backplane.scriptsDirectory``) with a Succeeded classic cluster, and a
client of ``/backplane/script``."""

from __future__ import annotations

import shutil
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aro.backplane.scripts import shipped_directory
from tests.backplane.helpers import SRE, SRE_GROUPS, Cluster, create_classic, issue_token, wait_cluster_id
from tests.conftest import RPProcess
from tests.frontend.helpers import Arm
from tests.ledger.helpers import register

TERMINAL = {"Succeeded", "Failed", "Killed"}
SENTINEL = "ARO_TEST_MUST_NOT_LEAK"  # in the RP's environment: a job's script must never see it

# <group>/<name> -> (metadata.yaml, script file name, script)
TEST_SCRIPTS: dict[str, tuple[str, str, str]] = {
    "TEST/echo-params": (
        """
        file: script.sh
        name: echo-params
        description: Prints its parameters and the names of its environment variables
        author: tester
        allowedGroups: [aro-sre]
        language: bash
        customerDataAccess: false
        envs:
          - {key: GREETING, description: what to say, optional: false}
          - {key: TARGET, description: to whom, optional: true}
        """,
        "script.sh",
        """
        echo "GREETING=${GREETING}"
        echo "TARGET=${TARGET:-unset}"
        echo "ENV-NAMES: $(env | cut -d= -f1 | sort | tr '\\n' ' ')"
        """,
    ),
    "TEST/sleeper": (
        """
        file: script.sh
        name: sleeper
        description: Prints a numbered line every 0.2 seconds, TICKS times (default 1000)
        author: tester
        allowedGroups: [aro-sre]
        language: bash
        customerDataAccess: false
        envs:
          - {key: TICKS, description: how many lines, optional: true}
        rbac:
          roles:
            - namespace: default
              rules:
                - {verbs: [get], apiGroups: [""], resources: [configmaps], resourceNames: [settings]}
          clusterRoleRules:
            - {verbs: [get, list], apiGroups: [""], resources: [nodes]}
        """,
        "script.sh",
        """
        for i in $(seq 1 "${TICKS:-1000}"); do echo "tick $i"; sleep 0.2; done
        echo "done ticking"
        """,
    ),
    "TEST/forbidden": (
        """
        file: script.sh
        name: forbidden
        description: May list pods in default, tries to list secrets there too
        author: tester
        allowedGroups: [aro-sre]
        language: bash
        customerDataAccess: false
        rbac:
          roles:
            - namespace: default
              rules:
                - {verbs: [get, list], apiGroups: [""], resources: [pods]}
        """,
        "script.sh",
        """
        set -e
        kubectl get pods -n default
        echo "pods listed"
        kubectl get secrets -n default
        echo "secrets listed"
        """,
    ),
    "TEST/python-hello": (
        """
        file: hello.py
        name: python-hello
        description: Prints from Python
        author: tester
        allowedGroups: [aro-sre]
        language: python
        customerDataAccess: false
        """,
        "hello.py",
        """
        import sys
        print("hello from python", sys.version_info[0])
        """,
    ),
    "TEST/no-such-namespace": (
        """
        file: script.sh
        name: no-such-namespace
        description: Its role is in a namespace the cluster does not have
        author: tester
        allowedGroups: [aro-sre]
        language: bash
        customerDataAccess: false
        rbac:
          roles:
            - namespace: not-there-at-all
              rules:
                - {verbs: [get], apiGroups: [""], resources: [configmaps]}
        """,
        "script.sh",
        "echo never",
    ),
    "CEE/restricted": (
        """
        file: script.sh
        name: restricted
        description: Only for CEE
        author: tester
        allowedGroups: [CEE]
        language: bash
        customerDataAccess: true
        """,
        "script.sh",
        "echo secret stuff",
    ),
}


def write_script(root: Path, canonical: str, metadata: str, file: str, body: str) -> Path:
    directory = root / canonical
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metadata.yaml").write_text(textwrap.dedent(metadata).lstrip())
    (directory / file).write_text(textwrap.dedent(body).lstrip())
    return directory


def catalog_with_tests(root: Path) -> Path:
    """The shipped catalog plus ``TEST_SCRIPTS``."""
    shutil.copytree(shipped_directory(), root)
    for name, (metadata, file, body) in TEST_SCRIPTS.items():
        write_script(root, name, metadata, file, body)
    return root


@dataclass
class JobsRP:
    rp: RPProcess
    cluster: Cluster
    token: str  # an SRE of SRE_GROUPS

    @property
    def cluster_id(self) -> str:
        return self.cluster.cluster_id


def start_jobs_rp(start_rp: Any, tmp: Path, **env: str) -> JobsRP:
    """An `aro rp` serving ``catalog_with_tests`` with one Succeeded classic cluster."""
    catalog = catalog_with_tests(tmp / "catalog")
    rp = start_rp(
        ARO_BACKPLANE_SCRIPTS_DIRECTORY=str(catalog),
        ARO_BACKPLANE_JOB_DEADLINE_SECONDS="120",
        **{SENTINEL: "leaked", **env},
    )
    token = issue_token(rp, SRE, SRE_GROUPS)
    sub = str(uuid.uuid4())
    with Arm(rp) as arm:
        register(arm.client, sub)
        cluster = create_classic(arm, sub, "jobs-rg", "jobs")
        arm.wait(cluster.path, {"Succeeded"}, timeout=120)
    cluster.cluster_id = wait_cluster_id(rp, token, sub, cluster.name)
    return JobsRP(rp, cluster, token)


class Backplane:
    """``/backplane/script`` as one caller."""

    def __init__(self, rp: RPProcess, token: str) -> None:
        self.client = rp.client(headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Backplane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scripts(self, cluster_id: str, name: str | None = None) -> httpx.Response:
        params = {"scriptname": name} if name is not None else {}
        return self.client.get(f"/backplane/script/{cluster_id}", params=params)

    def create(self, cluster_id: str, name: str, parameters: dict[str, Any] | None = None) -> httpx.Response:
        body: dict[str, Any] = {"canonicalName": name}
        if parameters is not None:
            body["parameters"] = parameters
        return self.client.post(f"/backplane/script/{cluster_id}/job", json=body)

    def run(self, cluster_id: str, name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.create(cluster_id, name, parameters)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def jobs(self, cluster_id: str) -> list[dict[str, Any]]:
        r = self.client.get(f"/backplane/script/{cluster_id}/job")
        assert r.status_code == 200, r.text
        return list(r.json())

    def job(self, cluster_id: str, job_id: str) -> httpx.Response:
        return self.client.get(f"/backplane/script/{cluster_id}/job/{job_id}")

    def delete(self, cluster_id: str, job_id: str) -> httpx.Response:
        return self.client.delete(f"/backplane/script/{cluster_id}/job/{job_id}")

    def logs(self, cluster_id: str, job_id: str, **params: str) -> httpx.Response:
        return self.client.get(f"/backplane/script/{cluster_id}/job/{job_id}/logs", params=params)

    def follow(self, cluster_id: str, job_id: str) -> Iterator[bytes]:
        with self.client.stream(
            "GET",
            f"/backplane/script/{cluster_id}/job/{job_id}/logs",
            params={"follow": "true"},
            timeout=httpx.Timeout(30, read=60),
        ) as r:
            assert r.status_code == 200, r.read()
            assert r.headers["content-type"].startswith("application/octet-stream")
            yield from r.iter_bytes()

    def wait(self, cluster_id: str, job_id: str, statuses: set[str] = TERMINAL, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while True:
            r = self.job(cluster_id, job_id)
            assert r.status_code == 200, r.text
            last = r.json()
            if last["jobStatus"]["status"] in statuses:
                return last
            assert time.monotonic() < deadline, f"job {job_id} not in {statuses} within {timeout}s: {last}"
            time.sleep(0.05)
