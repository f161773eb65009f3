"""`aro login`, `aro logout` and `aro ocm` as real subprocesses against a real `aro rp` (one of the module's own, so
its default organization starts empty): the OCM config file, the AMS API's answers and errors, and the client's own
usage errors and exit codes. OCM_CONFIG points into tmp_path and HOME is isolated."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi
import pytest

from tests.cli.helpers import Cli, clean_environ
from tests.conftest import RPProcess, free_port

AMS = "/api/accounts_mgmt/v1"
DEFAULT_TENANT = "00000000-0000-0000-0000-000000000000"
TENANT = "7d6ba0c5-1b3e-4a8e-9a5b-2f0c9e4b8a11"
ACTIVE = "search=status = 'Active'"


@dataclass
class Aro:
    """`aro ARGS` through the real entry point, with its own HOME, cwd and OCM config file."""

    endpoint: str
    ca_file: Path
    home: Path
    config: Path

    def env(self, **extra: str | None) -> dict[str, str]:
        env = clean_environ()
        for key in ("OCM_CONFIG", "FORCE_COLOR", "TTY_COMPATIBLE", "XDG_CONFIG_HOME"):
            env.pop(key, None)
        base: dict[str, str | None] = {
            "HOME": str(self.home),
            "USER": "alice",
            "OCM_CONFIG": str(self.config),
            "AROCLI_ENDPOINT": self.endpoint,
            "AROCLI_CA_FILE": str(self.ca_file),
            **extra,
        }
        for key, value in base.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def __call__(self, *args: str, input: str | None = None, **env: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aro_cmd.main", *args],
            cwd=self.home,
            env=self.env(**env),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ok(self, *args: str, input: str | None = None, **env: str | None) -> Any:
        """Run; it must succeed, print nothing but JSON on stdout (or nothing); that JSON, or None."""
        r = self(*args, input=input, **env)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr
        return json.loads(r.stdout) if r.stdout else None

    def fails(self, code: int, *args: str, input: str | None = None, **env: str | None) -> str:
        """Run; it must exit ``code`` with nothing on stdout; its stderr."""
        r = self(*args, input=input, **env)
        assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
        assert r.stdout == ""
        assert "Traceback" not in r.stderr
        return r.stderr

    def saved(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.config.read_text())
        return data


@pytest.fixture(scope="module")
def rp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RPProcess]:
    """One RP of the module's own (not the package's: its default organization starts empty here)."""
    p = RPProcess(tmp_path_factory.mktemp("ocm-rp") / "data", free_port(), "rp")
    p.start()
    yield p
    p.kill()


@pytest.fixture
def aro(rp: RPProcess, tmp_path: Path) -> Aro:
    home = tmp_path / "home"
    home.mkdir()
    return Aro(rp.base_url, rp.ca_file, home, tmp_path / "ocm" / "ocm.json")  # its directory does not exist yet


@pytest.fixture
def unconfigured(tmp_path: Path) -> Aro:
    """A client of an RP that is not running, without a config file: what fails is the client's own."""
    home = tmp_path / "home"
    home.mkdir()
    return Aro(f"https://localhost:{free_port()}", Path(certifi.where()), home, tmp_path / "ocm" / "ocm.json")


@pytest.fixture
def offline(unconfigured: Aro) -> Aro:
    """The same, logged in (a token in its config file)."""
    a = unconfigured
    a.config.parent.mkdir()
    a.config.write_text(json.dumps({"url": a.endpoint, "access_token": "t", "expires_at": time.time() + 3600}))
    return a


# --- login, logout, whoami -----------------------------------------------------------------------------------


def test_login_writes_the_ocm_config(aro: Aro, rp: RPProcess) -> None:
    r = aro("login", "--user", "bob")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    mode = stat.S_IMODE(aro.config.stat().st_mode)
    assert mode == 0o600, oct(mode)
    data = aro.saved()
    assert data["url"] == rp.base_url
    assert data["token_url"] == rp.base_url + "/api/auth/token"
    assert data["client_id"] == "aro-cli"
    assert data["user"] == "bob"
    assert data["ca_file"] == str(rp.ca_file.resolve())
    assert isinstance(data["access_token"], str) and data["access_token"].count(".") == 2  # a JWT
    assert time.time() < data["expires_at"] <= time.time() + 7 * 86400
    assert data["organization"]["external_id"] == DEFAULT_TENANT
    # who is logged in, on stderr; nothing secret
    assert "bob" in r.stderr and data["organization"]["id"] in r.stderr and DEFAULT_TENANT in r.stderr
    assert data["access_token"] not in r.stderr and data["access_token"].split(".")[1] not in r.stderr
    assert [p.name for p in aro.config.parent.iterdir()] == ["ocm.json"]  # no temporary file left behind

    # a second login replaces the file (a new one: a loosened mode does not survive)
    aro.config.chmod(0o644)
    assert aro("login", "--user", "carol").returncode == 0
    assert stat.S_IMODE(aro.config.stat().st_mode) == 0o600
    assert aro.saved()["user"] == "carol"


def test_login_user_defaults_to_USER_then_developer(aro: Aro) -> None:
    assert aro("login").returncode == 0
    assert aro.saved()["user"] == "alice"
    assert aro.ok("ocm", "whoami")["username"] == "alice"
    assert aro("login", USER=None).returncode == 0
    assert aro.ok("ocm", "whoami")["username"] == "developer"


def test_whoami_shows_user_and_organization(aro: Aro) -> None:
    assert aro("login", "--user", "bob").returncode == 0
    me = aro.ok("ocm", "whoami")
    assert me["kind"] == "Account" and me["username"] == "bob"
    assert me["organization"]["id"] == aro.saved()["organization"]["id"]
    assert me["organization"]["external_id"] == DEFAULT_TENANT
    assert aro.ok("ocm", "get", "current_account") == me


def test_login_to_a_tenant_puts_the_user_in_its_organization(aro: Aro) -> None:
    assert aro("login", "--user", "dana").returncode == 0
    default_org = aro.saved()["organization"]["id"]

    r = aro("login", "--user", "dana", "--organization", TENANT)
    assert r.returncode == 0, r.stderr
    org = aro.saved()["organization"]
    assert org["external_id"] == TENANT and org["id"] != default_org and TENANT in r.stderr
    me = aro.ok("ocm", "whoami")
    assert me["organization"]["id"] == org["id"] and me["organization"]["external_id"] == TENANT

    # the organization by its raw path; the other organization is not the user's to see
    body = aro.ok("ocm", "get", f"{AMS}/organizations/{org['id']}")
    assert body["kind"] == "Organization" and body["id"] == org["id"] and body["external_id"] == TENANT
    assert aro.ok("ocm", "get", "organization", org["id"]) == body
    err = aro.fails(1, "ocm", "get", f"{AMS}/organizations/{default_org}")
    assert f"aro: Organization with id '{default_org}' not found" in err and "status: 404" in err

    # logging in by the organization's id (not its tenant) lands in the same one
    assert aro("login", "--user", "erin", "--organization", org["id"]).returncode == 0
    assert aro.ok("ocm", "whoami")["organization"]["id"] == org["id"]


def test_login_refused_by_the_rp_prints_its_reason(aro: Aro) -> None:
    err = aro.fails(1, "login", "--organization", "NoSuchOrg1")
    assert "aro: Organization 'NoSuchOrg1' not found" in err
    err = aro.fails(1, "login", "--user", "bad user")
    assert err.startswith("aro: 'username' must be")
    assert not aro.config.exists()


def test_logout_removes_the_token(aro: Aro) -> None:
    assert aro("logout").returncode == 0  # nothing to remove
    assert aro("login", "--user", "bob").returncode == 0
    r = aro("logout")
    assert r.returncode == 0 and "bob" in r.stderr and r.stdout == ""
    data = aro.saved()
    assert "access_token" not in data and "expires_at" not in data and data["url"] == aro.endpoint
    assert stat.S_IMODE(aro.config.stat().st_mode) == 0o600
    err = aro.fails(2, "ocm", "whoami")
    assert "aro: not logged in: run 'aro login'" in err
    assert aro("logout").returncode == 0


# --- the config file as ocm-cli reads it ------------------------------------------------------------------------


def test_not_logged_in_is_exit_2_with_advice(unconfigured: Aro) -> None:
    a = unconfigured
    for args in (("ocm", "get", "subscriptions"), ("ocm", "whoami"), ("ocm", "delete", f"{AMS}/subscriptions/x")):
        err = a.fails(2, *args)
        assert err.startswith("aro: not logged in: run 'aro login'"), err
        assert str(a.config) in err
    a.config.parent.mkdir()
    a.config.write_text(json.dumps({"url": a.endpoint, "access_token": ""}))  # as logged out
    assert a.fails(2, "ocm", "whoami").startswith("aro: not logged in: run 'aro login'")


def test_an_expired_token_is_not_logged_in(aro: Aro) -> None:
    assert aro("login").returncode == 0
    assert aro.ok("ocm", "whoami")["username"] == "alice"  # the token itself still works
    data = aro.saved()
    aro.config.write_text(json.dumps({**data, "expires_at": int(time.time()) - 5}))
    err = aro.fails(2, "ocm", "whoami")
    assert "aro: not logged in: the token of alice expired at " in err and "run 'aro login'" in err


def test_url_and_ca_come_from_the_config_unless_overridden(aro: Aro) -> None:
    assert aro("login").returncode == 0
    me = aro.ok("ocm", "whoami", AROCLI_ENDPOINT=None, AROCLI_CA_FILE=None)  # the file's url and ca_file
    assert me["username"] == "alice"
    dead = f"https://localhost:{free_port()}"
    err = aro.fails(1, "ocm", "whoami", AROCLI_ENDPOINT=dead, AROCLI_CA_FILE=None)
    assert f"aro: cannot reach the RP at {dead}" in err
    err = aro.fails(1, "ocm", "whoami", "--url", dead)
    assert f"aro: cannot reach the RP at {dead}" in err


def test_a_token_the_rp_rejects_is_its_401(aro: Aro) -> None:
    aro.config.parent.mkdir()
    aro.config.write_text(json.dumps({"url": aro.endpoint, "access_token": "not-a-jwt"}))
    err = aro.fails(1, "ocm", "whoami")
    assert "aro: The access token is not valid" in err and "status: 401" in err and "aro login" in err


def test_a_config_that_is_not_json_is_a_usage_error(unconfigured: Aro) -> None:
    a = unconfigured
    a.config.parent.mkdir()
    a.config.write_text("{nope")
    err = a.fails(2, "ocm", "whoami")
    assert f"aro: the OCM config file {a.config} is not valid JSON" in err and "aro login" in err
    for bad in ('"soon"', "1e20", "-1e20"):  # a number no clock holds is not a time either (was a traceback)
        a.config.write_text('{"url": "' + a.endpoint + '", "access_token": "t", "expires_at": ' + bad + "}")
        assert "'expires_at' must be epoch seconds" in a.fails(2, "ocm", "whoami")
        assert "'expires_at' must be epoch seconds" in a.fails(2, "token", "--exec-credential")


# --- subscriptions ---------------------------------------------------------------------------------------------


def test_get_subscriptions_on_a_fresh_rp(aro: Aro) -> None:
    assert aro("login").returncode == 0
    body = aro.ok("ocm", "get", "subscriptions")
    assert body == {"kind": "SubscriptionList", "page": 1, "size": 0, "total": 0, "items": []}
    assert aro.ok("ocm", "get", f"{AMS}/subscriptions", "-p", ACTIVE, "-p", "size=5")["total"] == 0
    err = aro.fails(1, "ocm", "get", "subscription", "NoSuchSubscription1")
    assert "aro: Subscription with id 'NoSuchSubscription1' not found" in err
    err = aro.fails(1, "ocm", "get", f"{AMS}/nothing")
    assert err.startswith("aro: No resource at") and "status: 404" in err


def test_get_accounts_organizations_and_plans_by_name(aro: Aro) -> None:
    assert aro("login", "--user", "jane.doe").returncode == 0
    me = aro.ok("ocm", "whoami")
    # the seed's way of finding a user's organization
    found = aro.ok("ocm", "get", "accounts", "-p", "search=username = 'jane.doe'")
    assert [a["organization"]["id"] for a in found["items"]] == [me["organization"]["id"]]
    assert aro.ok("ocm", "get", "account", me["id"])["username"] == "jane.doe"
    assert aro.ok("ocm", "get", "account")["id"] == me["id"]  # no ID: the token's own
    assert aro.ok("ocm", "get", "organizations")["items"][0]["id"] == me["organization"]["id"]
    assert aro.ok("ocm", "get", "plan", "OCP-ARO")["category"] == "ARO"
    assert {p["id"] for p in aro.ok("ocm", "get", "plans")["items"]} == {"OCP", "OCP-ARO", "OCP-ARO-HCP"}
    assert "'aro ocm get plan' needs an ID (or: aro ocm get plans)" in aro.fails(2, "ocm", "get", "plan")


def test_bad_search_is_the_rps_400_naming_a_position(aro: Aro) -> None:
    assert aro("login").returncode == 0
    err = aro.fails(1, "ocm", "get", "subscriptions", "-p", "search=status = 'Active' and")
    first = err.splitlines()[0]
    assert first.startswith("aro: Invalid search") and first.endswith("at position 21"), err  # the end of the text
    assert "status: 400" in err
    err = aro.fails(1, "ocm", "get", "subscriptions", "-p", "search=stauts = 'Active'")
    assert "unknown field 'stauts'" in err and "at position 0" in err
    err = aro.fails(1, "ocm", "get", "subscriptions", "-p", "size=abc")
    assert "aro: Parameter 'size' must be an integer" in err


def _wait_total(aro: Aro, want: int, *params: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = aro.ok("ocm", "get", "subscriptions", *[x for p in params for x in ("-p", p)])
        if body["total"] == want:
            return body
        time.sleep(0.2)
    raise AssertionError(f"total {body.get('total')} != {want} after {timeout}s: {body}")


def test_a_clusters_subscription_appears_in_its_tenants_organization(aro: Aro, rp: RPProcess, tmp_path: Path) -> None:
    cli = Cli(rp, tmp_path / "cluster-home")
    with rp.client() as c:  # ARM registers the Azure subscription in TENANT
        r = c.put(
            f"/subscriptions/{cli.subscription}",
            params={"api-version": "2.0"},
            json={"state": "Registered", "properties": {"tenantId": TENANT}},
        )
        assert r.status_code in (200, 201), r.text
    created = cli.proc("create", "ledgered", "-g", "rg1")
    assert created.returncode == 0, created.stderr

    assert aro("login", "--user", "ten", "--organization", TENANT).returncode == 0
    body = _wait_total(aro, 1, ACTIVE)
    sub = body["items"][0]
    assert sub["kind"] == "Subscription" and sub["status"] == "Active"
    assert sub["organization_id"] == aro.saved()["organization"]["id"]
    assert sub["cloud_account_id"] == cli.subscription and sub["plan"]["id"] == "OCP-ARO"
    assert aro.ok("ocm", "get", "subscription", sub["id"])["id"] == sub["id"]
    assert aro.ok("ocm", "get", "subscriptions", "-p", "search=status = 'Reserved'")["total"] == 0
    projected = aro.ok("ocm", "get", "subscriptions", "-p", "fields=status")["items"][0]
    assert projected == {"id": sub["id"], "kind": "Subscription", "href": sub["href"], "status": "Active"}

    # PATCH from stdin and from --body FILE
    path = f"{AMS}/subscriptions/{sub['id']}"
    assert aro.ok("ocm", "patch", path, input='{"display_name": "renamed"}')["display_name"] == "renamed"
    body_file = tmp_path / "patch.json"
    body_file.write_text('{"display_name": "again"}')
    assert aro.ok("ocm", "patch", path, "--body", str(body_file))["display_name"] == "again"
    err = aro.fails(1, "ocm", "patch", path, input='{"status": "Archived"}')
    assert "aro: Only an SRE may change status" in err and "status: 403" in err

    # another organization does not see it; an SRE sees every organization's
    assert aro("login", "--user", "other").returncode == 0
    assert aro.ok("ocm", "get", "subscriptions")["total"] == 0
    assert "not found" in aro.fails(1, "ocm", "get", "subscription", sub["id"])
    assert aro("login", "--user", "sre", "--group", "aro-sre").returncode == 0
    assert sub["id"] in [s["id"] for s in aro.ok("ocm", "get", "subscriptions", "-p", ACTIVE)["items"]]


# --- labels: post, delete, and who may -----------------------------------------------------------------------


def test_organization_labels_are_an_sres_to_write(aro: Aro, tmp_path: Path) -> None:
    assert aro("login", "--user", "sre", "--group", "aro-sre").returncode == 0
    org = aro.saved()["organization"]["id"]
    labels = f"{AMS}/organizations/{org}/labels"
    err = aro.fails(1, "ocm", "get", f"{labels}/team")
    assert "aro: Label 'team' not found" in err

    label = aro.ok("ocm", "post", labels, input='{"key": "team", "value": "aro"}')
    assert label["kind"] == "Label" and label["key"] == "team" and label["value"] == "aro"
    assert label["href"] == f"{labels}/team"
    assert aro.ok("ocm", "get", f"{labels}/team")["value"] == "aro"
    assert "team" in [i["key"] for i in aro.ok("ocm", "get", labels)["items"]]

    # a plain user of the same organization reads it, but may not write
    assert aro("login", "--user", "plain").returncode == 0
    assert aro.saved()["organization"]["id"] == org
    assert aro.ok("ocm", "get", f"{labels}/team")["value"] == "aro"
    err = aro.fails(1, "ocm", "post", labels, input='{"key": "team2", "value": "x"}')
    assert "aro: Only an SRE may change an organization's labels" in err and "status: 403" in err
    assert "ACCT-MGMT-403" in err
    assert "aro: Only an SRE may" in aro.fails(1, "ocm", "delete", f"{labels}/team")

    # the SRE deletes it: 204, nothing printed
    assert aro("login", "--user", "sre", "--group", "aro-sre").returncode == 0
    body_file = tmp_path / "label.json"
    body_file.write_text('{"key": "team", "value": "changed"}')
    assert aro.ok("ocm", "post", labels, "--body", str(body_file))["value"] == "changed"
    r = aro("ocm", "delete", f"{labels}/team")
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert "aro: Label 'team' not found" in aro.fails(1, "ocm", "get", f"{labels}/team")
    assert "aro: Label 'team' not found" in aro.fails(1, "ocm", "delete", f"{labels}/team")


# --- the client's own usage errors (no request is made: the RP of ``offline`` is not running) --------------


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("get", "/foo"), None, "invalid PATH '/foo': it must start with /api/"),
        (("get", "/api/a b"), None, "must not contain whitespace"),
        (("get", "/api/a\tb"), None, "must not contain whitespace"),
        (("get", "/api/" + "a" * 3000), None, "longer than 2048 characters"),
        (("get", "/api/accounts_mgmt/v1/subscriptions?size=1"), None, "give query parameters with --parameter"),
        (("get", "/api/../healthz/ready"), None, "'..' segments are not allowed"),
        (("get", '/api/a"b'), None, "the character '\"' is not allowed"),
        (("get", "subscriptions", "-p", "size"), None, "invalid parameter 'size': expected KEY=VALUE"),
        (("get", "subscriptions", "-p", "=1"), None, "invalid parameter '=1': expected KEY=VALUE"),
        (("get", "subscriptions", "-p", "a b=1"), None, "expected KEY=VALUE"),
        (("get", "subscription"), None, "'aro ocm get subscription' needs an ID"),
        (("get", "subscription", "no/such"), None, "invalid ID 'no/such'"),
        (("get", "clusters"), None, "unknown resource 'clusters'"),
        (("get", "/api/x", "id"), None, "a PATH takes no ID"),
        (("delete", "api/x"), None, "it must start with /api/"),
        (("post", "/api/x"), "", "the request body (stdin) is empty"),
        (("post", "/api/x"), "{nope", "the request body (stdin) is not valid JSON"),
        (("patch", "/api/x", "--body", "/no/such/file"), None, "cannot read the body file /no/such/file"),
        (("post", "/nope"), "{}", "it must start with /api/"),
    ],
)
def test_usage_errors(offline: Aro, args: tuple[str, ...], stdin: str | None, message: str) -> None:
    err = offline.fails(2, "ocm", *args, input=stdin)
    assert err.startswith("aro: "), err
    assert message in err, err


def test_offline_client_reaches_for_the_rp(offline: Aro) -> None:
    """The counterpart of test_usage_errors: valid arguments get as far as the (absent) RP."""
    err = offline.fails(1, "ocm", "get", "subscriptions", "-p", "search=status = 'Active'")
    assert f"aro: cannot reach the RP at {offline.endpoint}" in err


def test_plain_http_is_refused_for_a_remote_endpoint(offline: Aro) -> None:
    err = offline.fails(2, "ocm", "whoami", AROCLI_ENDPOINT="http://rp.example.com", AROCLI_CA_FILE=None)
    assert "refusing to send the access token in clear text" in err


def test_config_path_defaults_to_home(offline: Aro) -> None:
    err = offline.fails(2, "ocm", "whoami", OCM_CONFIG=None)
    assert f"there is no access token in {offline.home / '.ocm.json'}" in err
    assert os.path.exists(offline.config)  # the OCM_CONFIG file was not the one read
