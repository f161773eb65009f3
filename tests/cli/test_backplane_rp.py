"""`aro backplane` and `aro token` against a real `aro rp` (the ocm CLI tests' shared one): cluster lookup in the
account ledger (the real search language, its quoting and scoping), the console URL the ledger holds, and
refreshing a development token at ``/api/auth/token``. Login, the proxy, scripts and jobs end to end:
``test_backplane_cli``."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.cli.helpers import Cli
from tests.cli.test_ocm_cli import Aro
from tests.conftest import RPProcess

NO_BACKPLANE_ENV: dict[str, str | None] = {"BACKPLANE_URL": None, "BACKPLANE_CONFIG": None, "KUBECONFIG": None}


@pytest.fixture(scope="module")
def cluster(rp: RPProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One cluster of a tenant of the module's own, installed: its ledger subscription (Active, console URL)."""
    tenant = str(uuid.uuid4())
    cli = Cli(rp, tmp_path_factory.mktemp("bp-cluster-home"))
    with rp.client() as c:
        r = c.put(
            f"/subscriptions/{cli.subscription}",
            params={"api-version": "2.0"},
            json={"state": "Registered", "properties": {"tenantId": tenant}},
        )
        assert r.status_code in (200, 201), r.text
    name = f"bp-{uuid.uuid4().hex[:8]}"
    created = cli.proc("create", name, "-g", "rg1")
    assert created.returncode == 0, created.stderr

    home = tmp_path_factory.mktemp("bp-sre-home")
    aro = Aro(rp.base_url, rp.ca_file, home, home / "ocm.json")
    assert aro("login", "--user", "sre", "--group", "aro-sre", "--organization", tenant).returncode == 0
    deadline = time.monotonic() + 60
    while True:
        body = aro.ok("ocm", "get", "subscriptions", "-p", f"search=display_name = '{name}'")
        items = body["items"]
        if items and items[0]["status"] == "Active" and items[0].get("console_url"):
            return {"tenant": tenant, **items[0]}
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


@pytest.fixture
def sre(rp: RPProcess, cluster: dict[str, Any], tmp_path: Path) -> Aro:
    home = tmp_path / "home"
    home.mkdir()
    aro = Aro(rp.base_url, rp.ca_file, home, home / "ocm.json")
    r = aro("login", "--user", "sre", "--group", "aro-sre", "--organization", cluster["tenant"], **NO_BACKPLANE_ENV)
    assert r.returncode == 0, r.stderr
    return aro


def test_console_finds_the_cluster_in_the_ledger(sre: Aro, cluster: dict[str, Any]) -> None:
    console_url = cluster["console_url"]
    keys = [cluster["display_name"], cluster["cluster_id"], cluster["external_cluster_id"], cluster["display_name"][3:]]
    for key in keys:
        r = sre("backplane", "console", key, AROCLI_ENDPOINT=None, AROCLI_CA_FILE=None, **NO_BACKPLANE_ENV)
        assert r.returncode == 0, (key, r.stderr)
        assert r.stdout == console_url + "\n"
    r = sre("backplane", "console", "no-such-cluster-x'y", AROCLI_ENDPOINT=None, **NO_BACKPLANE_ENV)
    assert r.returncode == 1 and 'aro: no cluster has the id, external id or name "no-such-cluster-x\'y"' in r.stderr


def test_another_organizations_user_does_not_find_it(rp: RPProcess, cluster: dict[str, Any], tmp_path: Path) -> None:
    aro = Aro(rp.base_url, rp.ca_file, tmp_path, tmp_path / "ocm.json")
    assert aro("login", "--user", "someone").returncode == 0  # the default organization, not the cluster's
    r = aro("backplane", "console", cluster["display_name"], **NO_BACKPLANE_ENV)
    assert r.returncode == 1 and "no cluster has the id, external id or name" in r.stderr


def test_token_refreshes_at_the_development_rp(sre: Aro) -> None:
    data = sre.saved()
    old = data["access_token"]
    sre.config.write_text(json.dumps({**data, "expires_at": int(time.time()) - 5}))
    time.sleep(1)  # a new token differs from the old one by its iat
    r = sre("token", AROCLI_ENDPOINT=None, AROCLI_CA_FILE=None)
    assert r.returncode == 0, r.stderr
    new = r.stdout.strip()
    assert new != old and sre.saved()["access_token"] == new and sre.saved()["expires_at"] > time.time()
    assert sre.ok("ocm", "whoami")["username"] == "sre"  # the RP takes it
    assert jwt.decode(new, options={"verify_signature": False})["groups"] == ["aro-sre"]  # still an SRE
    cred = sre.ok("token", "--exec-credential")
    assert cred["kind"] == "ExecCredential" and cred["status"]["token"] == new
