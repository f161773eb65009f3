"""Helpers of the hibernation tests (both cluster kinds): the machines of a managed resource group and their
power states as the simulator's ARM API shows them, nodes' readiness, admin PATCHes and views."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.frontend.helpers import Arm
from tests.hcp.helpers import kubectl

COMPUTE_API = "2024-07-01"
VM_TYPE = "microsoft.compute/virtualmachines"
VMSS_TYPE = "microsoft.compute/virtualmachinescalesets"


def until(what: str, fn: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not fn():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.05)


def admin_patch(arm: Arm, path: str, props: Any) -> httpx.Response:
    return arm.patch(f"/admin{path}", {"properties": props}, version=None)


def admin_props(arm: Arm, path: str, field: str) -> dict[str, Any]:
    r = arm.get(f"/admin{path}", version=None)
    assert r.status_code == 200, r.text
    return dict(r.json()[field]["properties"])


def machine_powers(sim: httpx.Client, sub: str, rg: str) -> dict[str, str]:
    """Every VM and scale set instance of the group -> its power state (``running``, ``deallocated``, ...)
    from the instance views."""
    r = sim.get(f"/subscriptions/{sub}/resourcegroups/{rg}/resources", params={"api-version": "2021-04-01"})
    assert r.status_code == 200, r.text
    out: dict[str, str] = {}
    for res in r.json()["value"]:
        rtype, rid = str(res["type"]).lower(), str(res["id"])
        if rtype == VM_TYPE:
            view = sim.get(f"{rid}/instanceView", params={"api-version": COMPUTE_API})
            assert view.status_code == 200, view.text
            out[str(res["name"])] = _power(view.json())
        elif rtype == VMSS_TYPE:
            listed = sim.get(f"{rid}/virtualMachines", params={"api-version": COMPUTE_API, "$expand": "instanceView"})
            assert listed.status_code == 200, listed.text
            for inst in listed.json()["value"]:
                out[str(inst["name"])] = _power(inst["properties"]["instanceView"])
    return out


def _power(view: dict[str, Any]) -> str:
    codes = [str(s["code"]) for s in view["statuses"] if str(s["code"]).startswith("PowerState/")]
    assert len(codes) == 1, view
    return codes[0].removeprefix("PowerState/")


def nodes(kubeconfig: Path) -> list[dict[str, Any]]:
    return list(json.loads(kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"])


def readiness(kubeconfig: Path) -> dict[str, str]:
    """Node name -> its Ready condition's status (True, False, Unknown)."""
    return {
        n["metadata"]["name"]: next(c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready")
        for n in nodes(kubeconfig)
    }
