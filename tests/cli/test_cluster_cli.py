"""`aro cluster` against a real `aro rp` subprocess: every command, its exit codes and its error output."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.backend.helpers import simulator_client
from tests.cli.helpers import Cli
from tests.conftest import free_port

RG = "rg1"
MY_APP = "0b1e5c4f-7a2d-4c3b-9e8f-1a2b3c4d5e6f"  # a service principal client id is a UUID (ARO-RP: else 400)


@pytest.fixture(scope="module")
def alpha(cli: Cli) -> subprocess.CompletedProcess[str]:
    """`aro cluster create alpha` through the real entry point, waited for."""
    return cli.proc("create", "alpha", "-g", RG, "--tags", "team=aro", "--worker-count", "2")


def test_create_shows_progress_and_succeeds(alpha: subprocess.CompletedProcess[str], cli: Cli) -> None:
    assert alpha.returncode == 0, alpha.stderr
    body = json.loads(alpha.stdout)
    assert body["name"] == "alpha" and body["properties"]["provisioningState"] == "Succeeded"
    assert body["tags"] == {"team": "aro"}
    assert body["properties"]["workerProfiles"][0]["count"] == 2
    assert body["properties"]["apiserverProfile"]["url"].startswith("https://")
    # the body az aro sends: generated domain and cluster resource group, subnets of NAME-vnet in -g
    domain = body["properties"]["clusterProfile"]["domain"]
    assert len(domain) == 8 and domain[0].isalpha()
    assert body["properties"]["clusterProfile"]["resourceGroupId"].lower().endswith(f"/aro-{domain}")
    assert "/virtualnetworks/alpha-vnet/subnets/master" in body["properties"]["masterProfile"]["subnetId"].lower()
    # progress on stderr: one line per change, from Creating to Succeeded, with the elapsed time
    err = alpha.stderr
    assert "placeholder service principal" in err
    assert "Creating cluster 'alpha': operation: Accepted" in err
    assert "provisioningState: Creating" in err
    assert "operation: Succeeded, provisioningState: Succeeded" in err and "elapsed: " in err
    assert "Traceback" not in err


def test_create_no_wait_returns_at_once_in_creating(cli: Cli) -> None:
    started = time.monotonic()
    r = cli.run("create", "quick", "-g", "rg2", "--no-wait", "--version", "4.17.27")
    assert r.exit_code == 0, r.output
    assert time.monotonic() - started < 5
    body = json.loads(r.stdout)
    assert body["properties"]["provisioningState"] == "Creating"
    assert body["properties"]["clusterProfile"]["version"] == "4.17.27"
    assert "operation:" not in r.stderr  # no polling
    assert cli.wait_state("rg2", "quick", {"Succeeded"})


def test_create_existing_cluster_is_refused(alpha: subprocess.CompletedProcess[str], cli: Cli) -> None:
    r = cli.run("create", "alpha", "-g", RG)
    assert r.exit_code == 1
    assert "cluster 'alpha' already exists in resource group 'rg1'" in r.stderr


def test_create_reads_pull_secret_file_and_service_principal(cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "pull-secret.txt"
    secret.write_text('{"auths":{"registry.example.com":{"auth":"c2VjcmV0"}}}\n')
    r = cli.run(
        "create", "ps", "-g", "rg3", "--pull-secret", f"@{secret}", "--client-id", MY_APP, "--client-secret", "s3"
    )
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["properties"]["servicePrincipalProfile"] == {"clientId": MY_APP}  # the secret is never returned
    assert "placeholder" not in r.stderr
    missing = cli.run("create", "ps2", "-g", "rg3", "--pull-secret", f"@{tmp_path / 'nope'}")
    assert missing.exit_code == 2 and "cannot read the pull secret file" in missing.stderr


def test_create_invalid_body_prints_the_arm_error(cli: Cli) -> None:
    r = cli.run("create", "badcidr", "-g", RG, "--pod-cidr", "10.0.0.0/33")
    assert r.exit_code == 1
    assert "ERROR: (InvalidParameter)" in r.stderr and "target: properties.networkProfile.podCidr" in r.stderr
    assert "status: 400" in r.stderr


def test_show_json_and_table(alpha: subprocess.CompletedProcess[str], cli: Cli) -> None:
    r = cli.run("show", "alpha", "-g", RG)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["id"].endswith("/openShiftClusters/alpha")
    t = cli.run("show", "alpha", "-g", RG, "-o", "table")
    lines = t.stdout.splitlines()
    assert lines[0].split()[:5] == ["Name", "ResourceGroup", "Location", "ProvisioningState", "Version"]
    assert lines[2].split()[:4] == ["alpha", "rg1", "eastus", "Succeeded"]
    assert all(line == line.rstrip() for line in lines)


def test_show_missing_cluster(cli: Cli) -> None:
    r = cli.run("show", "nope", "-g", RG)
    assert r.exit_code == 1 and r.stdout == ""
    assert "ERROR: (ResourceNotFound)" in r.stderr and "status: 404" in r.stderr


def test_list_follows_next_link(alpha: subprocess.CompletedProcess[str], cli: Cli) -> None:
    for name in ("l1", "l2", "l3"):  # page size 2: the resource group list spans two pages
        assert cli.run("create", name, "-g", "listrg", "--no-wait").exit_code == 0
    r = cli.run("list", "-g", "listrg", "-o", "json")
    assert r.exit_code == 0, r.output
    assert sorted(c["name"] for c in json.loads(r.stdout)) == ["l1", "l2", "l3"]
    everything = cli.run("list", "-o", "json")
    names = {c["name"] for c in json.loads(everything.stdout)}
    assert {"alpha", "l1", "l2", "l3"} <= names
    table = cli.run("list", "-g", "listrg")  # table is the default for list
    rows = [line.split() for line in table.stdout.splitlines()[2:]]
    assert sorted(r[0] for r in rows) == ["l1", "l2", "l3"] and all(r[1] == "listrg" for r in rows)
    empty = cli.run("list", "-g", "emptyrg", "-o", "json")
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []


def test_update_tags_outbound_ips_and_workers(alpha: subprocess.CompletedProcess[str], cli: Cli) -> None:
    r = cli.run("update", "alpha", "-g", RG, "--tags", "env=prod", "--tags", "owner=me", "--outbound-ip-count", "2")
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["tags"] == {"env": "prod", "owner": "me"}
    assert body["properties"]["provisioningState"] == "Succeeded"
    lb = body["properties"]["networkProfile"]["loadBalancerProfile"]
    assert lb["managedOutboundIps"]["count"] == 2 and len(lb["effectiveOutboundIps"]) == 2
    assert "Updating cluster 'alpha'" in r.stderr

    scaled = cli.run("update", "alpha", "-g", RG, "--worker-count", "3")
    assert scaled.exit_code == 0, scaled.output
    body = json.loads(scaled.stdout)
    assert body["properties"]["workerProfiles"][0]["count"] == 3
    assert body["tags"] == {"env": "prod", "owner": "me"}  # kept

    both = cli.run("update", "alpha", "-g", RG, "--worker-count", "3", "--outbound-ip-count", "1")
    assert both.exit_code == 2 and "run two updates" in both.stderr
    bad_tag = cli.run("update", "alpha", "-g", RG, "--tags", "=x")
    assert bad_tag.exit_code == 2 and "invalid tag" in bad_tag.stderr
    cleared = cli.run("update", "alpha", "-g", RG, "--tags", "")
    assert cleared.exit_code == 0 and "tags" not in json.loads(cleared.stdout)


def test_list_credentials(alpha: subprocess.CompletedProcess[str], cli: Cli) -> None:
    r = cli.run("list-credentials", "alpha", "-g", RG)
    assert r.exit_code == 0, r.output
    creds = json.loads(r.stdout)
    assert creds["kubeadminUsername"] == "kubeadmin" and len(creds["kubeadminPassword"]) == 23
    t = cli.run("list-credentials", "alpha", "-g", RG, "-o", "table")
    assert t.stdout.splitlines()[2].split() == ["kubeadmin", creds["kubeadminPassword"]]


def test_get_admin_kubeconfig(alpha: subprocess.CompletedProcess[str], cli: Cli, tmp_path: Path) -> None:
    default = cli.proc("get-admin-kubeconfig", "alpha", "-g", RG, cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    written = tmp_path / "kubeconfig"  # az aro's default file name
    assert written.stat().st_mode & 0o777 == 0o600
    kubeconfig = yaml.safe_load(written.read_text())
    assert kubeconfig["kind"] == "Config" and kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://")
    with cli.rp.client() as c:
        raw = c.post(cli.path(RG, "alpha") + "/listAdminCredentials", params={"api-version": "2025-07-25"})
    assert written.read_text() == base64.b64decode(raw.json()["kubeconfig"]).decode()

    again = cli.run("get-admin-kubeconfig", "alpha", "-g", RG, "-f", str(written))
    assert again.exit_code == 1 and "already exists" in again.stderr and "--force" in again.stderr

    written.write_text("old")
    written.chmod(0o644)
    forced = cli.run("get-admin-kubeconfig", "alpha", "-g", RG, "-f", str(written), "--force")
    assert forced.exit_code == 0, forced.output
    assert yaml.safe_load(written.read_text())["kind"] == "Config"
    assert written.stat().st_mode & 0o777 == 0o600

    stdout = cli.run("get-admin-kubeconfig", "alpha", "-g", RG, "-f", "-")
    assert yaml.safe_load(stdout.stdout)["kind"] == "Config"


def test_credentials_refused_while_creating(cli: Cli) -> None:
    assert cli.run("create", "young", "-g", "rg4", "--no-wait").exit_code == 0
    r = cli.run("list-credentials", "young", "-g", "rg4")
    if r.exit_code == 1:  # unless the (fast) install already finished
        assert "(RequestNotAllowed)" in r.stderr
    cli.wait_state("rg4", "young", {"Succeeded"})


def test_versions(cli: Cli) -> None:
    r = cli.run("versions")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "Version" and "4.18.34" in [line.strip() for line in lines[2:]]
    j = cli.run("versions", "-o", "json")
    assert "4.18.34" in json.loads(j.stdout)
    bad = cli.run("versions", "--location", "westeurope")
    assert bad.exit_code == 1 and "(InvalidLocation)" in bad.stderr


def test_delete_yes_removes_the_cluster(cli: Cli) -> None:
    assert cli.run("create", "doomed", "-g", RG).exit_code == 0
    r = cli.proc("delete", "doomed", "-g", RG, "--yes")
    assert r.returncode == 0, r.stderr
    assert "Deleting cluster 'doomed'" in r.stderr and "provisioningState: (gone)" in r.stderr
    assert "cluster 'doomed' deleted" in r.stderr
    assert cli.get(RG, "doomed").status_code == 404
    again = cli.run("delete", "doomed", "-g", RG, "--yes")
    assert again.exit_code == 1 and "(ResourceNotFound)" in again.stderr


def test_delete_without_yes_is_refused_non_interactively(alpha: subprocess.CompletedProcess[str], cli: Cli) -> None:
    r = cli.proc("delete", "alpha", "-g", RG)
    assert r.returncode == 2
    assert "refusing without confirmation" in r.stderr and "--yes" in r.stderr
    assert cli.get(RG, "alpha").status_code == 200


def test_delete_no_wait(cli: Cli) -> None:
    assert cli.run("create", "brief", "-g", RG).exit_code == 0
    r = cli.run("delete", "brief", "-g", RG, "-y", "--no-wait")
    assert r.exit_code == 0 and "not waiting" in r.stderr
    deadline = time.monotonic() + 30
    while cli.get(RG, "brief").status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_failed_install_prints_the_arm_error(cli: Cli) -> None:
    with simulator_client(cli.rp.ready_info()["simulator"], cli.rp.ca_file) as sim:
        fault = [{"operation": "deploy", "mode": "fail", "count": 1}]
        assert sim.put("/simulator/faults", json=fault).status_code in (200, 204)
        try:
            r = cli.proc("create", "broken", "-g", "failrg")
        finally:
            sim.delete("/simulator/faults")
    assert r.returncode == 1
    assert "operation: Failed" in r.stderr
    assert "ERROR: (DeploymentFailed)" in r.stderr and "(InjectedFault)" in r.stderr
    assert "aro cluster delete broken -g failrg --yes" in r.stderr
    assert r.stdout == "" and "Traceback" not in r.stderr
    assert cli.proc("delete", "broken", "-g", "failrg", "--yes").returncode == 0


def test_unreachable_endpoint_is_a_clear_error(cli: Cli) -> None:
    r = cli.proc("show", "alpha", "-g", RG, "--endpoint", f"https://localhost:{free_port()}")
    assert r.returncode == 1
    assert "cannot reach the RP at https://localhost:" in r.stderr and "is the RP running?" in r.stderr
    assert "Traceback" not in r.stderr


def test_untrusted_certificate_is_a_clear_error(cli: Cli) -> None:
    r = cli.run("versions", AROCLI_CA_FILE=None, XDG_CONFIG_HOME=str(cli.home))  # system trust store only
    if r.exit_code == 0:
        pytest.skip("the RP's dev CA is trusted system-wide")
    assert r.exit_code == 1 and "not trusted" in r.stderr and "--ca-file" in r.stderr


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli.run("show", "alpha").exit_code == 2  # -g missing
    bad_sub = cli.run("show", "alpha", "-g", RG, "--subscription", "not-a-uuid")
    assert bad_sub.exit_code == 2 and "invalid subscription 'not-a-uuid' (--subscription)" in bad_sub.stderr
    bad_url = cli.run("versions", AROCLI_ENDPOINT="localhost:8443")
    assert bad_url.exit_code == 2 and "invalid endpoint" in bad_url.stderr
    bad_ca = cli.run("versions", "--ca-file", "/nonexistent/ca.crt")
    assert bad_ca.exit_code == 2 and "does not exist" in bad_ca.stderr
    assert cli.run("list", "-o", "yaml").exit_code == 2


def test_client_config_file(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "client.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "endpoint": cli.rp.base_url,
                "caFile": str(cli.rp.ca_file),
                "subscription": cli.subscription,
                "pollIntervalSeconds": 0.05,
            }
        )
    )
    only_file = {"AROCLI_ENDPOINT": None, "AROCLI_CA_FILE": None, "AROCLI_SUBSCRIPTION": None}
    r = cli.run("show", "alpha", "-g", RG, AROCLI_CONFIG=str(config), **only_file)
    assert r.exit_code == 0, r.output
    config.write_text("endpont: https://typo\n")
    typo = cli.run("versions", AROCLI_CONFIG=str(config), **only_file)
    assert typo.exit_code == 2 and "unknown key(s) endpont" in typo.stderr
    missing = cli.run("versions", AROCLI_CONFIG=str(tmp_path / "absent.yaml"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_every_request_carries_a_client_request_id(cli: Cli) -> None:
    from aro.cli import ArmClient
    from aro.cli.settings import resolve

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"value": []})

    settings = resolve({"endpoint": "https://rp.example", "subscription": cli.subscription}, env={})
    with ArmClient(settings, transport=httpx.MockTransport(handler)) as arm:
        assert list(arm.pages("/x", api_version="2025-07-25")) == []
    assert seen[0].headers["x-ms-client-request-id"] and seen[0].url.params["api-version"] == "2025-07-25"
    assert seen[0].headers["user-agent"].startswith("aro-cli/")
