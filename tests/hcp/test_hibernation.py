"""Hibernation of hosted clusters through a real `aro rp`'s admin API: ``PATCH /admin{id}`` with
``powerState`` runs an Update that deallocates (then starts) the node pools' scale sets; the control plane
keeps answering; the cluster counts as hibernating from the request (also while the operation waits on a
pause); a node pool scaled meanwhile stays stopped; bad or pointless requests are 400 (409 while an
operation runs) with the ARM envelope and write nothing."""

from __future__ import annotations

from pathlib import Path

from tests.backend.helpers import simulator_client
from tests.cluster.helpers import admin_patch, admin_props, machine_powers, readiness, until
from tests.conftest import RPProcess
from tests.frontend.helpers import Arm, error_of, new_sub
from tests.hcp.helpers import node_pool_model
from tests.hcp.test_day2_admin import V, _kubeconfig, create

F = "hcpOpenShiftCluster"


def _stored(arm: Arm, path: str) -> tuple[str, str, str]:
    """(provisioningState, powerState, requestedPowerState) as the admin view shows them."""
    p = admin_props(arm, path, F)
    return p["provisioningState"], p["powerState"], p.get("requestedPowerState", "")


def test_hibernate_and_resume_a_hosted_cluster(arm: Arm, rp: RPProcess, tmp_path: Path) -> None:
    sub, name = new_sub(), "dormouse"
    path = create(arm, sub, name)
    mrg = f"mrg-{name}"
    pool = path + "/nodePools/np"
    assert arm.put(pool, node_pool_model(replicas=2).as_dict(), version=V).status_code == 201
    arm.wait(pool, {"Succeeded"}, version=V, timeout=60)
    kubeconfig = _kubeconfig(arm, path, tmp_path)
    assert _stored(arm, path) == ("Succeeded", "Running", "")

    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
        assert sorted(machine_powers(sim, sub, mrg).values()) == ["running", "running"]
        assert list(readiness(kubeconfig).values()) == ["True", "True"]

        # refused, with the ARM envelope, and nothing written
        for props, code, target, says in (
            ({"powerState": "Off"}, "InvalidRequestContent", "properties.powerState", "must be Running or"),
            ({"powerState": "Running"}, "InvalidRequestContent", "properties.powerState", "already Running"),
            ({"powerState": True}, "InvalidRequestContent", "properties.powerState", "must be Running or"),
            ({"powerState": "Hibernating", "power": 1}, "InvalidRequestContent", "properties.power", "Unknown"),
            ({"powerState": "Off", "featureSet": "Nope"}, "MultipleErrorsOccurred", None, "multiple fields"),
        ):
            before = arm.rows(sub)
            r = admin_patch(arm, path, props)
            assert r.status_code == 400, (props, r.text)
            err = error_of(r)
            assert (err["code"], err.get("target")) == (code, target) and says in err["message"], err
            assert arm.rows(sub) == before, f"a refused admin PATCH changed the store: {props}"

        # asked while paused: the cluster counts as hibernating at once, before any VM stops
        assert admin_patch(arm, path, {"pausedUntil": "true"}).status_code == 200
        r = admin_patch(arm, path, {"powerState": "Hibernating"})
        assert r.status_code == 202 and r.headers["location"], r.text
        assert r.json()[F]["properties"]["powerState"] == "Hibernating"
        assert _stored(arm, path) == ("Updating", "Hibernating", "Hibernating")
        assert sorted(machine_powers(sim, sub, mrg).values()) == ["running", "running"]
        before = admin_props(arm, path, F)
        r2 = admin_patch(arm, path, {"powerState": "Running"})  # an operation runs: 409, nothing changes
        assert r2.status_code == 409 and error_of(r2)["code"] == "Conflict", r2.text
        after = admin_props(arm, path, F)
        assert (after["powerState"], after["requestedPowerState"]) == (before["powerState"], "Hibernating")
        assert admin_patch(arm, path, {"pausedUntil": None}).status_code == 200  # the waiting Update runs
        assert arm.wait_operation(r.headers["azure-asyncoperation"], timeout=60)["status"] == "Succeeded"

        assert _stored(arm, path) == ("Succeeded", "Hibernating", "")
        assert sorted(machine_powers(sim, sub, mrg).values()) == ["deallocated", "deallocated"]
        assert list(readiness(kubeconfig).values()) == ["Unknown", "Unknown"]  # the control plane answers
        for what in (path, pool):  # never in the customer's api-version
            got = arm.get(what, version=V)
            assert got.status_code == 200 and "powerState" not in got.text and "Hibernating" not in got.text

        # a pool scaled while the cluster hibernates: its new machine stays stopped too
        assert arm.patch(pool, {"properties": {"replicas": 3}}, version=V).status_code == 202
        assert arm.wait(pool, {"Succeeded", "Failed"}, version=V, timeout=60)["properties"]["provisioningState"] == (
            "Succeeded"
        )
        assert sorted(machine_powers(sim, sub, mrg).values()) == ["deallocated"] * 3
        assert list(readiness(kubeconfig).values()) == ["Unknown"] * 3

        before_rows = arm.rows(sub)
        r = admin_patch(arm, path, {"powerState": "Hibernating"})
        assert r.status_code == 400 and "already Hibernating" in error_of(r)["message"], r.text
        assert arm.rows(sub) == before_rows

        r = admin_patch(arm, path, {"powerState": "Running"})
        assert r.status_code == 202, r.text
        assert (r.json()[F]["properties"]["powerState"], _stored(arm, path)[1]) == ("Hibernating", "Hibernating")
        assert arm.wait_operation(r.headers["azure-asyncoperation"], timeout=60)["status"] == "Succeeded"
        assert _stored(arm, path) == ("Succeeded", "Running", "")
        assert sorted(machine_powers(sim, sub, mrg).values()) == ["running"] * 3
        until("every node Ready", lambda: list(readiness(kubeconfig).values()) == ["True"] * 3)
