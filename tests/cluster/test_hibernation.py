"""Hibernation of classic clusters through a real `aro rp`'s admin API: ``PATCH /admin{id}`` with
``powerState`` runs an AdminUpdate that deallocates (then starts) every VM of the managed resource group;
the admin view shows ``powerState``, the customer's api-versions do not; the nodes go NotReady and come
back Ready; bad or pointless requests are 400 with the ARM envelope and write nothing; the cluster counts
as hibernating until the resume has started its VMs -- also across a backend killed mid-resume."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from tests.backend.helpers import simulator_client
from tests.backend.test_resilience import deploy
from tests.cluster.helpers import admin_patch, admin_props, machine_powers, readiness, until
from tests.conftest import RPProcess
from tests.frontend.helpers import PREVIEW, STABLE, Arm, cluster_path, error_of, new_sub

F = "openShiftCluster"
MASTERS_AND_WORKERS = 6  # cli_body: 3 masters, 3 workers


def _kubeconfig(arm: Arm, path: str, tmp_path: Path) -> Path:
    r = arm.post(path + "/listAdminCredentials")
    assert r.status_code == 200, r.text
    f = tmp_path / f"{path.rsplit('/', 1)[-1]}.kubeconfig"
    f.write_text(base64.b64decode(r.json()["kubeconfig"]).decode())
    return f


def _progress(arm: Arm, path: str) -> dict[str, Any]:
    return dict(admin_props(arm, path, F).get("install") or {})


def _hibernate(arm: Arm, path: str) -> None:
    r = admin_patch(arm, path, {"powerState": "Hibernating"})
    assert r.status_code == 202 and r.headers["location"], r.text
    props = r.json()[F]["properties"]
    assert (props["provisioningState"], props["powerState"]) == ("AdminUpdating", "Hibernating")
    assert arm.wait_operation(r.headers["azure-asyncoperation"], timeout=60)["status"] == "Succeeded"


def test_hibernate_and_resume_a_classic_cluster(arm: Arm, rp: RPProcess, tmp_path: Path) -> None:
    sub, rg, name = new_sub(), "hib-rg", "hibernia"
    path = cluster_path(sub, rg, name)
    arm.create(sub, rg, name)
    mrg = f"aro-{name}"
    admin = admin_props(arm, path, F)
    assert admin["powerState"] == "Running" and not admin.get("requestedPowerState")
    kubeconfig = _kubeconfig(arm, path, tmp_path)

    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
        powers = machine_powers(sim, sub, mrg)
        assert len(powers) == MASTERS_AND_WORKERS and set(powers.values()) == {"running"}, powers
        assert set(readiness(kubeconfig).values()) == {"True"}

        # refused, with the ARM envelope, and nothing written
        for props, target, says in (
            ({"powerState": "Stopped"}, "properties.powerState", "must be Running or Hibernating"),
            ({"powerState": "hibernating"}, "properties.powerState", "must be Running or Hibernating"),
            ({"powerState": None}, "properties.powerState", "must be Running or Hibernating"),
            ({"powerState": "Running"}, "properties.powerState", "already Running"),
            ({"powerState": "Hibernating", "maintenanceTask": "OperatorUpdate"}, "properties.powerState", "combined"),
            ({"powerstate": "Hibernating"}, "properties.powerstate", "Unknown admin update field"),
            ({}, "properties", "changes nothing"),
        ):
            before = arm.rows(sub)
            r = admin_patch(arm, path, props)
            assert r.status_code == 400, (props, r.text)
            err = error_of(r)
            assert (err["code"], err.get("target")) == ("InvalidRequestContent", target), err
            assert says in err["message"], err
            assert arm.rows(sub) == before, f"a refused admin PATCH changed the store: {props}"

        _hibernate(arm, path)
        admin = admin_props(arm, path, F)
        assert admin["powerState"] == "Hibernating" and not admin.get("requestedPowerState"), admin
        assert admin["provisioningState"] == "Succeeded"
        powers = machine_powers(sim, sub, mrg)
        assert len(powers) == MASTERS_AND_WORKERS and set(powers.values()) == {"deallocated"}, powers
        assert set(readiness(kubeconfig).values()) == {"Unknown"}  # every node NotReady, none gone
        for version in (STABLE, PREVIEW):  # never in the customer's api-versions
            r = arm.get(path, version=version)
            assert r.status_code == 200 and "powerState" not in r.text and "Hibernating" not in r.text, r.text

        # while it hibernates: no maintenance task (its API server is stopped), no second hibernation
        for props, code, says in (
            ({"maintenanceTask": "OperatorUpdate"}, "RequestNotAllowed", "hibernating"),
            ({"powerState": "Hibernating"}, "InvalidRequestContent", "already Hibernating"),
        ):
            before = arm.rows(sub)
            r = admin_patch(arm, path, props)
            assert r.status_code == 400 and error_of(r)["code"] == code and says in error_of(r)["message"], r.text
            assert arm.rows(sub) == before

        # resume, with one master's start held: the cluster counts as hibernating until every VM started
        infra = admin["infraId"]
        held = sim.put("/simulator/faults", json=[{"operation": "powerAction", "mode": "hang", "match": infra}])
        assert held.status_code == 200, held.text
        r = admin_patch(arm, path, {"powerState": "Running"})
        assert r.status_code == 202, r.text
        props = r.json()[F]["properties"]
        assert (props["powerState"], props["requestedPowerState"]) == ("Hibernating", "Running")
        until("the resume starts the VMs", lambda: _progress(arm, path).get("currentStep") == "hibernation.start_vms")
        until("a start is held", lambda: any(x["path"].endswith("/start") for x in _posts(sim)))
        end = time.monotonic() + 1.0
        while time.monotonic() < end:  # held: still hibernating, still AdminUpdating
            admin = admin_props(arm, path, F)
            assert (admin["powerState"], admin["provisioningState"]) == ("Hibernating", "AdminUpdating"), admin
            time.sleep(0.05)
        assert sim.put("/simulator/faults", json=[]).status_code == 200  # lifted: the held start finishes
        assert arm.wait_operation(r.headers["azure-asyncoperation"], timeout=60)["status"] == "Succeeded"

        admin = admin_props(arm, path, F)
        assert (admin["powerState"], admin["provisioningState"]) == ("Running", "Succeeded"), admin
        assert not admin.get("requestedPowerState")
        assert set(machine_powers(sim, sub, mrg).values()) == {"running"}
        assert set(readiness(kubeconfig).values()) == {"True"}

    # a maintenance task is accepted again once it runs
    r = admin_patch(arm, path, {"maintenanceTask": "OperatorUpdate"})
    assert r.status_code == 202, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"], timeout=60)["status"] == "Succeeded"


def _posts(sim: Any) -> list[dict[str, Any]]:
    r = sim.get("/simulator/requests")
    assert r.status_code == 200, r.text
    return [x for x in r.json()["value"] if x["method"] == "POST"]


def test_a_backend_killed_during_the_resume_leaves_the_cluster_hibernating(rp_factory: Any, tmp_path: Path) -> None:
    d = deploy(rp_factory, tmp_path, {})
    backend = d.backend(rp_factory)
    sub, rg, name = new_sub(), "crash-rg", "sleeper"
    path = cluster_path(sub, rg, name)
    with Arm(d.frontend) as arm, simulator_client(d.simulator.base_url, d.simulator.ca_file) as sim:
        arm.create(sub, rg, name)
        _hibernate(arm, path)
        infra = admin_props(arm, path, F)["infraId"]
        held = sim.put("/simulator/faults", json=[{"operation": "powerAction", "mode": "hang", "match": infra}])
        assert held.status_code == 200, held.text
        r = admin_patch(arm, path, {"powerState": "Running"})
        assert r.status_code == 202, r.text
        until("a start is held", lambda: any(x["path"].endswith("/start") for x in _posts(sim)))
        assert _progress(arm, path).get("currentStep") == "hibernation.start_vms"
        backend.kill()  # kill -9 inside the start step

        admin = admin_props(arm, path, F)
        assert (admin["powerState"], admin["requestedPowerState"]) == ("Hibernating", "Running"), admin
        backend = d.backend(rp_factory)  # takes the operation over once the lease expires
        assert arm.wait_operation(r.headers["azure-asyncoperation"], timeout=90)["status"] == "Succeeded"
        admin = admin_props(arm, path, F)
        assert (admin["powerState"], admin["provisioningState"]) == ("Running", "Succeeded"), admin
        assert not admin.get("requestedPowerState")
        assert set(machine_powers(sim, sub, f"aro-{name}").values()) == {"running"}
        runs = [h for h in _progress(arm, path).get("history") or [] if h.get("step") == "hibernation.start_vms"]
        assert len(runs) >= 2, runs  # the interrupted start ran again
