"""Hibernation's cloud surface: ``ArmCloud.deallocate_machines`` / ``start_machines`` (POST actions followed
by the SDK's ARM LRO poller) against the simulator's VM and scale set power actions, their instance views,
the derived nodes (NotReady while stopped), faults, and a restart in the middle of an action."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aro.api.errors import CloudError
from aro.cloud.arm import ArmCloud

from .conftest import SUB, Simulator
from .templates import vm_template

CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/customer/providers/Microsoft.RedHatOpenShift/openShiftClusters/p1"
RG = "aro-power"
API = "2024-07-01"
COMPUTE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute"
VMSS = f"{COMPUTE}/virtualMachineScaleSets/pool"


VMS = [*(f"p1-x-master-{i}" for i in range(3)), *(f"p1-x-worker-eastus{i + 1}-{i:05d}" for i in range(3))]
WORKER0, WORKER1 = VMS[3], VMS[4]


def vm_id(name: str) -> str:
    return f"{COMPUTE}/virtualMachines/{name}"


async def cluster(cloud: ArmCloud, instances: int = 2) -> None:
    await cloud.create_resource_group(SUB, RG, "eastus", CLUSTER_ID, {})
    await cloud.deploy(SUB, RG, "installer", vm_template("p1-x"), {"vmSize": "Standard_D4s_v5"})
    body = {"location": "eastus", "sku": {"name": "Standard_D4s_v5", "capacity": instances}, "properties": {}}
    await cloud.put_resource(VMSS, API, body)


async def power_of(sim: Simulator, rid: str) -> str:
    assert sim.admin is not None
    r = await sim.admin.get(f"{rid}/instanceView", params={"api-version": API})
    assert r.status_code == 200, r.text
    codes = [s["code"] for s in r.json()["statuses"] if s["code"].startswith("PowerState/")]
    assert len(codes) == 1, r.json()
    return str(codes[0]).removeprefix("PowerState/")


async def instance_powers(sim: Simulator) -> dict[str, str]:
    assert sim.admin is not None
    r = await sim.admin.get(f"{VMSS}/virtualMachines", params={"api-version": API, "$expand": "instanceView"})
    assert r.status_code == 200, r.text
    out = {}
    for inst in r.json()["value"]:
        codes = [s["code"] for s in inst["properties"]["instanceView"]["statuses"] if "PowerState/" in s["code"]]
        out[inst["instanceId"]] = codes[0].removeprefix("PowerState/")
    return out


def ready(node: dict[str, Any]) -> str:
    return next(str(c["status"]) for c in node["status"]["conditions"] if c["type"] == "Ready")


async def test_deallocate_and_start_every_machine_of_a_group(sim: Simulator, cloud: ArmCloud) -> None:
    await cluster(cloud)
    vms = [vm_id(n) for n in VMS]
    assert {await power_of(sim, v) for v in vms} == {"running"}
    endpoint = cloud.cluster_endpoint(SUB, RG, "p1")
    assert {ready(n) for n in await cloud.cluster_nodes(endpoint)} == {"True"}

    acted = await cloud.deallocate_machines(SUB, RG)
    assert sorted(acted) == sorted([*vms, VMSS])
    assert {await power_of(sim, v) for v in vms} == {"deallocated"}
    assert await instance_powers(sim) == {"0": "deallocated", "1": "deallocated"}
    assert sim.admin is not None
    summary = (await sim.admin.get(f"{VMSS}/instanceView", params={"api-version": API})).json()
    assert summary["virtualMachine"]["statusesSummary"] == [{"code": "PowerState/deallocated", "count": 2}]
    r = await sim.admin.get(vm_id("p1-x-master-0"), params={"api-version": API, "$expand": "instanceView"})
    view = r.json()["properties"]["instanceView"]
    assert view["statuses"][-1]["code"] == "PowerState/deallocated" and view["computerName"] == "p1-x-master-0"
    nodes = await cloud.cluster_nodes(endpoint)
    assert len(nodes) == 6 and {ready(n) for n in nodes} == {"Unknown"}  # kept, NotReady
    reasons = {c["reason"] for n in nodes for c in n["status"]["conditions"] if c["type"] == "Ready"}
    assert reasons == {"NodeStatusUnknown"}
    taints = {(t["key"], t["effect"]) for t in nodes[0]["spec"]["taints"]}
    assert ("node.cloudprovider.kubernetes.io/shutdown", "NoSchedule") in taints

    polls = [r for r in await sim.requests() if r["method"] == "POST" and r["path"].endswith("/deallocate")]
    assert len(polls) == 7 and {p["status"] for p in polls} == {202}  # each an LRO, as on Azure

    assert sorted(await cloud.deallocate_machines(SUB, RG)) == sorted(acted)  # idempotent
    assert {await power_of(sim, v) for v in vms} == {"deallocated"}

    await cloud.start_machines(SUB, RG)
    assert {await power_of(sim, v) for v in vms} == {"running"}
    assert await instance_powers(sim) == {"0": "running", "1": "running"}
    assert {ready(n) for n in await cloud.cluster_nodes(endpoint)} == {"True"}
    assert await cloud.deallocate_machines(SUB, "no-such-group") == []


async def test_vm_actions_over_rest(sim: Simulator, cloud: ArmCloud) -> None:
    await cluster(cloud, instances=3)
    assert sim.admin is not None
    vm = vm_id(WORKER0)
    r = await sim.admin.post(f"{vm}/powerOff", params={"api-version": API})
    assert r.status_code == 202 and "azure-asyncoperation" in r.headers and "location" in r.headers
    assert await power_of(sim, vm) in ("stopping", "stopped")
    await cloud.post_action(vm, "start", API)  # a start while the power-off runs: it wins
    assert await power_of(sim, vm) == "running"

    r = await sim.admin.post(f"{VMSS}/deallocate", params={"api-version": API}, json={"instanceIds": ["1"]})
    assert r.status_code == 202
    for _ in range(100):
        if (await instance_powers(sim))["1"] == "deallocated":
            break
        await asyncio.sleep(0.02)
    assert await instance_powers(sim) == {"0": "running", "1": "deallocated", "2": "running"}
    assert await power_of(sim, f"{VMSS}/virtualMachines/1") == "deallocated"
    await cloud.post_action(f"{VMSS}/virtualMachines/1", "start", API)
    assert set((await instance_powers(sim)).values()) == {"running"}

    for path, status, code in (
        (f"{vm_id('nope')}/deallocate", 404, "ResourceNotFound"),
        (f"{VMSS}/deallocate", 404, "ResourceNotFound"),  # with instanceIds naming a missing one (below)
    ):
        body = {"instanceIds": ["9"]} if "Sets" in path else None
        r = await sim.admin.post(path, params={"api-version": API}, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    with pytest.raises(CloudError) as e:
        await cloud.post_action(vm_id("nope"), "deallocate", API)
    assert e.value.status == 404
    r = await sim.admin.put(f"{vm}/deallocate", params={"api-version": API}, json={})
    assert r.status_code == 405


async def test_a_failing_action_fails_and_a_hung_one_finishes_after_a_restart(sim: Simulator, cloud: ArmCloud) -> None:
    await cluster(cloud, instances=1)
    await sim.set_faults({"operation": "powerAction", "match": WORKER1, "code": "OperationNotAllowed"})
    with pytest.raises(CloudError) as e:
        await cloud.deallocate_machines(SUB, RG)
    assert e.value.code == "OperationNotAllowed" and not e.value.temporary
    assert await power_of(sim, vm_id(WORKER0)) == "deallocated"  # every other machine was acted on
    assert await power_of(sim, vm_id(WORKER1)) == "running"

    await sim.set_faults({"operation": "powerAction", "mode": "hang", "match": WORKER1})
    assert sim.admin is not None
    r = await sim.admin.post(f"{vm_id(WORKER1)}/deallocate", params={"api-version": API})
    assert r.status_code == 202
    await asyncio.sleep(0.2)  # well past the step delay: a hung action stays in its transition
    assert await power_of(sim, vm_id(WORKER1)) == "deallocating"
    await sim.restart()
    await sim.set_faults()  # lifting the hang finishes the action (after the step delay)
    cloud = sim.cloud()
    await cloud.deallocate_machines(SUB, RG)
    assert await power_of(sim, vm_id(WORKER1)) == "deallocated"
    nodes = await cloud.cluster_nodes(cloud.cluster_endpoint(SUB, RG, "p1"))
    assert {ready(n) for n in nodes} == {"Unknown"}
