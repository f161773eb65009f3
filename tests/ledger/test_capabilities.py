"""Organization capabilities gate features (issue: "Done when"), through a real `aro rp` whose new
organizations get no capability (``ledger.defaultCapabilities: []``):

- a tenant without ``capability.organization.hypershift`` cannot create a hosted cluster (403
  ``CapabilityNotEnabled``, nothing written); an SRE adds the label with ``aro ocm post …/labels`` and the
  create goes through;
- node pool autoscaling needs ``capability.cluster.autoscale_clusters`` and an Arm64 VM size
  ``capability.organization.multiarch``;
- only an SRE may change an organization's labels; the organization sees its capabilities.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, RPProcess
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm
from tests.hcp.helpers import node_pool_model
from tests.ledger.helpers import HCP_VERSION, Ocm, hcp_body, hcp_path, register

HYPERSHIFT = "capability.organization.hypershift"
AUTOSCALE = "capability.cluster.autoscale_clusters"
MULTIARCH = "capability.organization.multiarch"


@pytest.fixture(scope="module")
def rp(start_rp: StartRP) -> RPProcess:
    return start_rp(ARO_LEDGER_DEFAULT_CAPABILITIES="[]")


def aro(rp: RPProcess, home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "OCM_CONFIG": str(home / "ocm.json"),
        "AROCLI_ENDPOINT": rp.base_url,
        "AROCLI_CA_FILE": str(rp.ca_file),
    }
    return subprocess.run(
        [sys.executable, "-m", "aro_cmd.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


def _refused(r: Any, capability: str, target: str | None = None) -> None:
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "CapabilityNotEnabled" and capability in error["message"], error
    if target:
        assert error["target"] == target


def test_hosted_clusters_need_the_hypershift_capability(rp: RPProcess, tmp_path: Path) -> None:
    sub = str(uuid.uuid4())
    with rp.client() as arm:
        tenant = register(arm, sub)
        path = hcp_path(sub, "rg", "gated")
        r = arm.put(path, params={"api-version": HCP_VERSION}, json=hcp_body(sub, "rg", "gated"))
        _refused(r, HYPERSHIFT)
        assert arm.get(path, params={"api-version": HCP_VERSION}).status_code == 404  # nothing written
        # the subnet was not claimed either: the same body goes through once the capability is there

        with Ocm(rp, "user1", tenant) as ocm:
            org = ocm.get(f"/organizations/{ocm.organization_id}").json()
            assert org["external_id"] == tenant and org["capabilities"] == []
            label = {"key": HYPERSHIFT, "value": "true", "internal": True}
            r = ocm.client.post(f"/api/accounts_mgmt/v1/organizations/{ocm.organization_id}/labels", json=label)
            assert r.status_code == 403 and r.json()["kind"] == "Error", r.text

            sre_home = tmp_path / "sre"
            sre_home.mkdir()
            login = aro(rp, sre_home, "login", "--user", "sre1", "--group", "aro-sre", "--organization", tenant)
            assert login.returncode == 0, login.stderr
            post = aro(
                rp,
                sre_home,
                "ocm",
                "post",
                f"/api/accounts_mgmt/v1/organizations/{ocm.organization_id}/labels",
                stdin=json.dumps(label),
            )
            assert post.returncode == 0, post.stderr
            assert json.loads(post.stdout)["key"] == HYPERSHIFT
            org = ocm.get(f"/organizations/{ocm.organization_id}").json()
            assert [c["name"] for c in org["capabilities"]] == [HYPERSHIFT]

        r = arm.put(path, params={"api-version": HCP_VERSION}, json=hcp_body(sub, "rg", "gated"))
        assert r.status_code == 201, r.text
        with Arm(rp) as waiter:
            waiter.wait(path, {"Succeeded"}, version=HCP_VERSION)

        pool = path + "/nodePools/auto"
        body = node_pool_model().as_dict()
        body["properties"].pop("replicas")
        body["properties"]["autoScaling"] = {"min": 1, "max": 3}
        _refused(arm.put(pool, params={"api-version": HCP_VERSION}, json=body), AUTOSCALE, "properties.autoScaling")
        arm64 = node_pool_model(replicas=1).as_dict()
        arm64["properties"]["platform"]["vmSize"] = "Standard_D4pds_v6"
        _refused(
            arm.put(path + "/nodePools/arm", params={"api-version": HCP_VERSION}, json=arm64),
            MULTIARCH,
            "properties.platform.vmSize",
        )

        with Ocm(rp, "sre2", tenant, groups=("aro-sre",)) as sre:
            for capability in (AUTOSCALE, MULTIARCH):
                r = sre.client.post(
                    f"/api/accounts_mgmt/v1/organizations/{sre.organization_id}/labels",
                    json={"key": capability, "value": "true"},
                )
                assert r.status_code == 201, r.text
        assert arm.put(pool, params={"api-version": HCP_VERSION}, json=body).status_code == 201
        assert arm.put(path + "/nodePools/arm", params={"api-version": HCP_VERSION}, json=arm64).status_code == 201

        # removing a capability gates new writes again, not what exists
        with Ocm(rp, "sre3", tenant, groups=("aro-sre",)) as sre:
            r = sre.client.delete(f"/api/accounts_mgmt/v1/organizations/{sre.organization_id}/labels/{HYPERSHIFT}")
            assert r.status_code == 204, r.text
        other = hcp_path(sub, "rg", "gated2")
        _refused(arm.put(other, params={"api-version": HCP_VERSION}, json=hcp_body(sub, "rg", "gated2")), HYPERSHIFT)
        assert arm.get(path, params={"api-version": HCP_VERSION}).status_code == 200
