"""A cluster's account subscription follows its life, through a real `aro rp` (issue: "Done when"):

- a classic and a hosted cluster are both ``Reserved`` while their installs run (held by a simulator fault),
  with the OpenShift id the install generated as ``external_cluster_id``, then ``Active`` with the console
  URL once the installs finish; another organization sees none of them;
- a failing install stays ``Reserved``, and its subscription goes with the cluster's delete (also a hosted
  cluster deleted while it is still being created);
- an ``Active`` subscription survives its cluster's delete.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.backend.helpers import simulator_client
from tests.conftest import RPProcess
from tests.fixtures.clusters import cli_body
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm, cluster_path
from tests.ledger.helpers import HCP_VERSION, Ocm, hcp_body, hcp_path, installs_held, register


@pytest.fixture(scope="module")
def rp(start_rp: StartRP) -> RPProcess:
    return start_rp()


@pytest.fixture(scope="module")
def sim(rp: RPProcess) -> Iterator[httpx.Client]:
    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as c:
        yield c


@pytest.fixture
def arm(rp: RPProcess) -> Iterator[Arm]:
    with Arm(rp) as a:
        yield a


def _by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(i["display_name"]): i for i in items}


def test_reserved_while_installing_then_active(rp: RPProcess, arm: Arm, sim: httpx.Client) -> None:
    sub = str(uuid.uuid4())
    tenant = register(arm.client, sub)
    classic, hosted = cluster_path(sub, "rg", "classic1"), hcp_path(sub, "rg", "hosted1")
    with Ocm(rp, "alice", tenant) as ocm, Ocm(rp, "mallory", str(uuid.uuid4())) as other:
        search = f"cloud_account_id = '{sub}'"
        with installs_held(sim):
            assert arm.put(classic, cli_body(sub, "classic1")).status_code == 201
            assert arm.put(hosted, hcp_body(sub, "rg", "hosted1"), version=HCP_VERSION).status_code == 201

            def reserved_with_ids(items: list[dict[str, Any]]) -> bool:
                return len(items) == 2 and all(
                    i["status"] == "Reserved" and i.get("external_cluster_id") for i in items
                )

            held = _by_name(ocm.wait(search, reserved_with_ids, "two Reserved subscriptions"))
            assert other.subscriptions(search)["total"] == 0  # another organization sees none of them
            assert other.get(f"/subscriptions/{held['classic1']['id']}").status_code == 404

        plan = {"id": "OCP-ARO", "kind": "Plan", "href": "/api/accounts_mgmt/v1/plans/OCP-ARO", "type": "OCP"}
        assert held["classic1"]["plan"] == {**plan, "category": "ARO"}
        assert held["hosted1"]["plan"]["id"] == "OCP-ARO-HCP" and held["hosted1"]["plan"]["category"] == "ARO-HCP"
        for sub_ in held.values():
            assert sub_["organization_id"] == ocm.organization_id
            assert sub_["managed"] is True and sub_["cloud_provider_id"] == "azure" and sub_["region_id"] == "eastus"
            assert sub_["provenance"] == "Provisioning" and "console_url" not in sub_
            assert (
                sub_["kind"] == "Subscription" and sub_["href"] == f"/api/accounts_mgmt/v1/subscriptions/{sub_['id']}"
            )
            assert isinstance(sub_["cluster_id"], str) and len(sub_["cluster_id"]) == 32

        # the ids are the clusters' own (the admin view of the stored documents)
        props = arm.get("/admin" + classic, version=None).json()["openShiftCluster"]["properties"]
        assert props["clusterId"] == held["classic1"]["external_cluster_id"]
        assert props["ledger"]["subscriptionId"] == held["classic1"]["id"]
        assert props["ledger"]["organizationId"] == ocm.organization_id

        active = _by_name(
            ocm.wait(
                f"{search} and status = 'Active'",
                lambda items: len(items) == 2 and all(i.get("console_url") for i in items),
                "both Active with a console URL",
            )
        )
        assert active["classic1"]["console_url"].startswith("https://console-openshift-console.apps.")
        assert active["hosted1"]["external_cluster_id"] == held["hosted1"]["external_cluster_id"]
        assert ocm.get(f"/subscriptions/{held['classic1']['id']}").json()["status"] == "Active"

        # an Active subscription survives its cluster's delete (its owner keeps seeing it)
        assert arm.delete(classic).status_code == 202
        arm.wait(classic, {"gone"})
        kept = ocm.get(f"/subscriptions/{held['classic1']['id']}")
        assert kept.status_code == 200 and kept.json()["status"] in ("Active", "Stale", "Archived"), kept.text


def test_failed_install_stays_reserved_and_goes_with_the_cluster(rp: RPProcess, arm: Arm, sim: httpx.Client) -> None:
    sub = str(uuid.uuid4())
    path = cluster_path(sub, "rg", "doomed")
    with Ocm(rp, "bob", register(arm.client, sub)) as ocm:
        fault = {"operation": "deploy", "mode": "fail", "count": 1, "match": "doomed", "code": "QuotaExceeded"}
        assert sim.put("/simulator/faults", json=[fault]).status_code == 200
        try:
            assert arm.put(path, cli_body(sub, "doomed")).status_code == 201
            arm.wait(path, {"Failed"})
        finally:
            sim.delete("/simulator/faults")
        search = f"cloud_account_id = '{sub}' and display_name = 'doomed'"
        [reserved] = ocm.subscriptions(search)["items"]
        assert reserved["status"] == "Reserved" and reserved.get("external_cluster_id"), reserved

        assert arm.delete(path).status_code == 202
        arm.wait(path, {"gone"})
        assert ocm.subscriptions(search)["total"] == 0
        assert ocm.get(f"/subscriptions/{reserved['id']}").status_code == 404


def test_a_hosted_cluster_deleted_while_reserved_takes_its_subscription(
    rp: RPProcess, arm: Arm, sim: httpx.Client
) -> None:
    sub = str(uuid.uuid4())
    path = hcp_path(sub, "rg", "brief")
    with Ocm(rp, "carol", register(arm.client, sub)) as ocm, installs_held(sim):
        assert arm.put(path, hcp_body(sub, "rg", "brief"), version=HCP_VERSION).status_code == 201
        ocm.wait(f"cloud_account_id = '{sub}'", lambda i: len(i) == 1 and i[0]["status"] == "Reserved", "Reserved")
        assert arm.delete(path, version=HCP_VERSION).status_code == 202
        arm.wait(path, {"gone"}, version=HCP_VERSION)  # the held create is superseded by the delete
        assert ocm.subscriptions(f"cloud_account_id = '{sub}'")["total"] == 0
