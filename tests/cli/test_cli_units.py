"""aro.cli without an RP: settings precedence, polling and its progress display (mock transport), prompts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from aro.cli.client import ArmClient
from aro.cli.clusters import CreateOptions, create_body, update_body
from aro.cli.common import confirm, parse_tags
from aro.cli.errors import ArmError, CliError, UsageError
from aro.cli.lro import Poller
from aro.cli.settings import DEV_ENDPOINT, DEV_SUBSCRIPTION, Settings, resolve

SUB = "11111111-2222-3333-4444-555555555555"
NO_FILE = {"XDG_CONFIG_HOME": "/nonexistent"}


def test_settings_precedence(tmp_path: Path) -> None:
    (tmp_path / "aro").mkdir()
    (tmp_path / "aro" / "client.yaml").write_text(
        f"endpoint: https://file.example:1\nsubscription: {SUB}\ncaFile: ca.pem\nlocation: westus\n"
    )
    (tmp_path / "aro" / "ca.pem").write_text("x")
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    from_file = resolve({}, env=env, cwd=tmp_path)
    assert from_file.endpoint == "https://file.example:1" and from_file.subscription == SUB
    assert from_file.ca_file == tmp_path / "aro" / "ca.pem"  # relative to the config file
    assert from_file.location == "westus" and from_file.config_file == tmp_path / "aro" / "client.yaml"
    from_env = resolve({}, env={**env, "AROCLI_ENDPOINT": "https://env.example/"}, cwd=tmp_path)
    assert from_env.endpoint == "https://env.example"
    from_flag = resolve({"endpoint": "https://flag.example"}, env={**env, "AROCLI_ENDPOINT": "https://e"}, cwd=tmp_path)
    assert from_flag.endpoint == "https://flag.example"


def test_settings_defaults(tmp_path: Path) -> None:
    s = resolve({}, env=NO_FILE, cwd=tmp_path)
    assert (s.endpoint, s.subscription, s.ca_file, s.location) == (DEV_ENDPOINT, DEV_SUBSCRIPTION, None, "eastus")
    (tmp_path / ".aro" / "certs").mkdir(parents=True)
    (tmp_path / ".aro" / "certs" / "ca.crt").write_text("x")
    assert resolve({}, env=NO_FILE, cwd=tmp_path).ca_file == tmp_path / ".aro" / "certs" / "ca.crt"


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"endpoint": "ftp://x"}, {}, "invalid endpoint"),
        ({"subscription": "abc"}, {}, "invalid subscription"),
        ({}, {"AROCLI_POLL_INTERVAL": "soon"}, "AROCLI_POLL_INTERVAL"),
        ({}, {"AROCLI_CA_FILE": "/nope.pem"}, "/nope.pem (AROCLI_CA_FILE) does not exist"),
    ],
)
def test_settings_errors(flags: dict[str, str | None], env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(flags, env={**NO_FILE, **env}, cwd=tmp_path)


def test_create_body_is_what_az_aro_sends() -> None:
    body = create_body(SUB, "rg", "c", "eastus", CreateOptions(tags={"a": "b"}))
    props = body["properties"]
    assert set(props) == {
        "clusterProfile",
        "networkProfile",
        "masterProfile",
        "workerProfiles",
        "apiserverProfile",
        "ingressProfiles",
        "servicePrincipalProfile",
    }
    domain = props["clusterProfile"]["domain"]
    assert props["clusterProfile"]["resourceGroupId"] == f"/subscriptions/{SUB}/resourceGroups/aro-{domain}"
    assert props["workerProfiles"][0]["count"] == 3 and props["workerProfiles"][0]["diskSizeGB"] == 128
    assert props["servicePrincipalProfile"]["clientId"] and props["servicePrincipalProfile"]["clientSecret"]
    assert body["tags"] == {"a": "b"}
    full_id = "/subscriptions/x/resourceGroups/v/providers/Microsoft.Network/virtualNetworks/n/subnets/s"
    other = create_body(SUB, "rg", "c", "eastus", CreateOptions(master_subnet=full_id, domain="mydomain"))
    assert other["properties"]["masterProfile"]["subnetId"] == full_id
    assert other["properties"]["clusterProfile"]["domain"] == "mydomain"


def test_update_body_and_tags() -> None:
    assert update_body(None, None) == {}
    assert parse_tags(["a=1 b=2", "c="]) == {"a": "1", "b": "2", "c": ""}
    assert parse_tags([""]) == {}
    assert update_body({}, 2, {"worker": 4}) == {
        "tags": {},
        "properties": {
            "networkProfile": {"loadBalancerProfile": {"managedOutboundIps": {"count": 2}}},
            "workerProfiles": [{"name": "worker", "count": 4}],
        },
    }


def test_confirm() -> None:
    confirm("Delete?", assume_yes=True, interactive=False)
    with pytest.raises(UsageError, match="pass --yes"):
        confirm("Delete?", assume_yes=False, interactive=False)
    asked: list[str] = []
    confirm("Delete?", assume_yes=False, interactive=True, ask=lambda q: asked.append(q) or True)
    assert asked == ["Delete?"]
    with pytest.raises(CliError, match="aborted"):
        confirm("Delete?", assume_yes=False, interactive=True, ask=lambda q: False)


class FakeRP:
    """An operation that reports currentStep/percentComplete, then ends as ``final``."""

    def __init__(self, final: dict[str, Any]):
        self.polls = 0
        self.final = final

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if "operationsstatus" in request.url.path:
            self.polls += 1
            if self.polls == 1:
                return httpx.Response(
                    200, json={"status": "Creating", "currentStep": "deployResources", "percentComplete": 40}
                )
            return httpx.Response(200, json=self.final)
        state = "Creating" if self.polls < 2 else self.final["status"]
        return httpx.Response(200, json={"properties": {"provisioningState": state}})


def _poll(final: dict[str, Any], console: Console) -> dict[str, Any]:
    settings = Settings("https://rp.example", None, SUB, "eastus", 0)
    with ArmClient(settings, transport=httpx.MockTransport(FakeRP(final))) as arm:
        initial = httpx.Response(
            201,
            headers={"Azure-AsyncOperation": "https://rp.example/operationsstatus/1?api-version=2025-07-25"},
            json={"properties": {"provisioningState": "Creating"}},
        )
        return Poller(arm, console, sleep=lambda _: None).wait(
            initial, title="Creating cluster 'c'", resource_url="/c", api_version="2025-07-25"
        )


def test_progress_lines_show_the_current_step() -> None:
    out = io.StringIO()
    op = _poll({"status": "Succeeded"}, Console(file=out, width=200))
    assert op["status"] == "Succeeded"
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Creating cluster 'c': operation: Accepted, provisioningState: Creating")
    assert "operation: Creating, provisioningState: Creating, step: deployResources (40%)" in lines[1]
    assert "operation: Succeeded, provisioningState: Succeeded" in lines[-1]


def test_live_display_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with pytest.raises(ArmError) as failed:
        _poll({"status": "Failed", "error": {"code": "DeploymentFailed", "message": "boom", "target": "x"}}, console)
    assert (failed.value.code, failed.value.message, failed.value.target) == ("DeploymentFailed", "boom", "x")
    text = out.getvalue()
    assert "deployResources (40%)" in text and "Failed" in text and "elapsed" in text
