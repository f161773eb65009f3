"""The seed README's "Useful commands" (bash + curl, 2019-12-31-preview) run as written against a real
`aro rp`: create, get, credentials once Succeeded, list by resource group and subscription, scale, delete.
The command lines are in ``seed_readme.sh``; this test runs it with bash and checks what curl printed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RPProcess
from tests.frontend.helpers import LOCATION, PULL_SECRET, assert_no_secrets, new_sub

SCRIPT = Path(__file__).with_name("seed_readme.sh")


def run(rp: RPProcess, sub: str, step: str) -> str:
    env = {
        **os.environ,
        "PORT": str(rp.port),
        "CACERT": str(rp.ca_file),
        "AZURE_SUBSCRIPTION_ID": sub,
        "LOCATION": LOCATION,
        "PULL_SECRET": PULL_SECRET,
    }
    done = subprocess.run(["bash", str(SCRIPT), step], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert_no_secrets(done.stdout)
    return done.stdout


def run_json(rp: RPProcess, sub: str, step: str) -> Any:
    out = run(rp, sub, step)
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"{step}: curl printed no JSON: {out!r}") from None


def get_until(rp: RPProcess, sub: str, done: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        body = run_json(rp, sub, "get")
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def state(body: Any) -> str | None:
    props = body.get("properties") if isinstance(body, dict) else None
    return props.get("provisioningState") if isinstance(props, dict) else None


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("base64") is None, reason="needs curl and base64")
def test_seed_readme_commands_run_as_written(rp: RPProcess) -> None:
    sub = new_sub()
    cluster_id = (
        f"/subscriptions/{sub}/resourceGroups/cluster/providers/Microsoft.RedHatOpenShift/OpenShiftClusters/cluster"
    )

    created = run_json(rp, sub, "create")
    assert created["id"] == cluster_id, created  # the casing of the creating PUT
    assert created["location"] == LOCATION and state(created) == "Creating"
    assert created["properties"]["workerProfiles"][0]["count"] == 3  # defaults filled in

    got = get_until(rp, sub, lambda b: state(b) == "Succeeded")
    assert state(got) == "Succeeded", got
    assert got["properties"]["apiserverProfile"]["url"].startswith("https://")

    creds = run_json(rp, sub, "credentials")
    assert creds["kubeadminUsername"] == "kubeadmin" and creds["kubeadminPassword"], creds

    for step in ("list-rg", "list-sub"):
        listed = run_json(rp, sub, step)
        assert [c["id"] for c in listed["value"]] == [cluster_id] and "nextLink" not in listed, listed

    scaled = run_json(rp, sub, "scale")
    assert state(scaled) == "Updating" and scaled["properties"]["workerProfiles"][0]["count"] == 5, scaled
    got = get_until(rp, sub, lambda b: state(b) == "Succeeded")
    assert state(got) == "Succeeded" and got["properties"]["workerProfiles"][0]["count"] == 5, got
    assert run_json(rp, sub, "credentials") == creds

    assert run(rp, sub, "delete") == ""  # 202, no body
    gone = get_until(rp, sub, lambda b: "error" in b)
    assert gone["error"]["code"] == "ResourceNotFound", gone
    assert run_json(rp, sub, "list-sub") == {"value": []}
    assert run(rp, sub, "delete") == ""  # 204 now
