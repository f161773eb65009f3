"""hack/{create,delete,list}-cluster(s).sh and register-subscription.sh (bash + curl + jq) against a real RP."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.cli.helpers import clean_environ
from tests.conftest import REPO, RPProcess, free_port

HACK = REPO / "hack"
SCRIPTS = ("create-cluster.sh", "delete-cluster.sh", "list-clusters.sh", "register-subscription.sh")

pytestmark = pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")


def run(script: str, *args: str, rp: RPProcess, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        **clean_environ(),
        "RP_URL": rp.base_url,
        "CA_FILE": str(rp.ca_file),
        "POLL_SECONDS": "0.1",
        **env,
    }
    return subprocess.run([HACK / script, *args], env=full, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def sub() -> str:
    return str(uuid.uuid4())


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script: str, rp: RPProcess) -> None:
    r = run(script, "-h", rp=rp)
    assert r.returncode == 0 and r.stdout.startswith("usage:")
    assert "RP_URL" in r.stdout
    bad = run(script, "--bogus", rp=rp)
    assert bad.returncode == 2 and "unknown option --bogus" in bad.stderr


def test_register_subscription(rp: RPProcess) -> None:
    sub = str(uuid.uuid4())
    first = run("register-subscription.sh", sub, rp=rp)
    assert first.returncode == 0, first.stderr
    assert "(HTTP 201)" in first.stderr and json.loads(first.stdout)["state"] == "Registered"
    again = run("register-subscription.sh", sub, "Warned", rp=rp)
    assert again.returncode == 0 and "is Warned (HTTP 200)" in again.stderr
    # a Warned subscription may not create clusters: the ARM error is printed
    refused = run("create-cluster.sh", "nope", rp=rp, AZURE_SUBSCRIPTION_ID=sub)
    assert refused.returncode == 1 and "ERROR: (InvalidSubscriptionState)" in refused.stderr
    bad_state = run("register-subscription.sh", sub, "Sleeping", rp=rp)
    assert bad_state.returncode == 2 and "invalid state 'Sleeping'" in bad_state.stderr
    bad_sub = run("register-subscription.sh", "not-a-uuid", rp=rp)
    assert bad_sub.returncode == 1 and "ERROR: (InvalidSubscriptionID)" in bad_sub.stderr


def test_create_list_delete(rp: RPProcess, sub: str) -> None:
    env = {"AZURE_SUBSCRIPTION_ID": sub}
    created = run("create-cluster.sh", "hack1", "hackrg", rp=rp, **env)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["properties"]["provisioningState"] == "Succeeded"
    assert "creating hack1: Creating" in created.stderr and "creating hack1: Succeeded" in created.stderr

    quick = run("create-cluster.sh", "--no-wait", "hack2", rp=rp, **env)  # resource group defaults to the name
    assert quick.returncode == 0, quick.stderr
    assert json.loads(quick.stdout)["properties"]["provisioningState"] == "Creating"
    assert "/resourceGroups/hack2/" in json.loads(quick.stdout)["id"]

    listed = run("list-clusters.sh", rp=rp, **env)  # page size 2 elsewhere: nextLink is followed
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows[0] == ["NAME", "RESOURCE_GROUP", "STATE", "VERSION", "WORKERS"]
    assert {r[0] for r in rows[1:]} == {"hack1", "hack2"}
    assert ["hack1", "hackrg", "Succeeded"] == next(r for r in rows if r[0] == "hack1")[:3]
    in_rg = run("list-clusters.sh", "-j", "hackrg", rp=rp, **env)
    assert [c["name"] for c in json.loads(in_rg.stdout)] == ["hack1"]

    deleted = run("delete-cluster.sh", "hack1", "hackrg", rp=rp, **env)
    assert deleted.returncode == 0, deleted.stderr
    assert "deleting hack1: Succeeded" in deleted.stderr and "cluster hack1 deleted" in deleted.stderr
    gone = run("list-clusters.sh", "-j", "hackrg", rp=rp, **env)
    assert json.loads(gone.stdout) == []
    missing = run("delete-cluster.sh", "hack1", "hackrg", rp=rp, **env)
    assert missing.returncode == 0 and "does not exist" in missing.stderr


def test_many_pages(rp: RPProcess) -> None:
    env = {"AZURE_SUBSCRIPTION_ID": str(uuid.uuid4())}
    for n in range(5):
        assert run("create-cluster.sh", "--no-wait", f"p{n}", "pagerg", rp=rp, **env).returncode == 0
    listed = run("list-clusters.sh", "-j", "pagerg", rp=rp, **env)
    assert sorted(c["name"] for c in json.loads(listed.stdout)) == [f"p{n}" for n in range(5)]


def test_failed_create_prints_the_arm_error(rp: RPProcess, sub: str) -> None:
    bad = run("create-cluster.sh", "badworkers", rp=rp, AZURE_SUBSCRIPTION_ID=sub, WORKER_COUNT="1")
    assert bad.returncode == 1
    assert "HTTP 400" in bad.stderr and "ERROR: (InvalidParameter)" in bad.stderr
    assert "target: properties.workerProfiles['worker'].count" in bad.stderr


def test_unreachable_rp(rp: RPProcess, tmp_path: Path) -> None:
    down = f"https://localhost:{free_port()}"
    for script, args in (("create-cluster.sh", ["x"]), ("list-clusters.sh", []), ("delete-cluster.sh", ["x"])):
        r = run(script, *args, rp=rp, RP_URL=down)
        assert r.returncode == 1 and f"cannot reach the RP at {down}" in r.stderr, r.stderr
    untrusted = run("list-clusters.sh", rp=rp, CA_FILE=str(tmp_path / "none.crt"))
    assert untrusted.returncode == 1 and "does not exist" in untrusted.stderr


def test_bash_syntax() -> None:
    for script in SCRIPTS:
        assert subprocess.run(["bash", "-n", HACK / script]).returncode == 0
    if shutil.which("shellcheck"):
        r = subprocess.run(
            ["shellcheck", "-x", *(HACK / s for s in SCRIPTS)], capture_output=True, text=True, cwd=HACK.parent
        )
        assert r.returncode == 0, r.stdout
