"""ArmCloud (the real azure-mgmt-resource SDK) against the simulator over HTTPS."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from aro.api.errors import CloudError
from aro.cloud.arm import ArmCloud
from aro.cloud.context import request_context
from aro.cloud.credentials import StaticTokenCredential

from .conftest import SUB, Simulator
from .templates import base_template, vm_template

CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/customer/providers/Microsoft.RedHatOpenShift/openShiftClusters/c1"
RG = "aro-infra"
PARAMS = {"storageSuffix": "abc12", "domain": "c1.eastus.example.com", "infraId": "c1-x7k2p"}


def rid(rest: str, rg: str = RG) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{rest}"


async def make_rg(cloud: ArmCloud, name: str = RG) -> None:
    await cloud.create_resource_group(SUB, name, "eastus", CLUSTER_ID, {"cluster": "c1"})


async def test_resource_group_create_get_and_managed_by_conflict(cloud: ArmCloud) -> None:
    assert await cloud.get_resource_group(SUB, RG) is None
    rg = await cloud.create_resource_group(SUB, RG, "eastus", CLUSTER_ID, {"cluster": "c1"})
    assert rg.id == f"/subscriptions/{SUB}/resourceGroups/{RG}"
    assert (rg.name, rg.location, rg.managed_by, rg.tags) == (RG, "eastus", CLUSTER_ID, {"cluster": "c1"})

    again = await cloud.create_resource_group(SUB, RG, "eastus", CLUSTER_ID.upper(), {"cluster": "c1"})
    assert again.id == rg.id  # idempotent when managedBy matches (case-insensitively)
    got = await cloud.get_resource_group(SUB, RG.upper())  # paths are case-insensitive; canonical id back
    assert got is not None and got.id == rg.id and got.name == RG

    with pytest.raises(CloudError) as e:
        await cloud.create_resource_group(SUB, RG, "eastus", CLUSTER_ID + "-other", {})
    assert (e.value.status, e.value.code) == (400, "ClusterResourceGroupAlreadyExists")
    assert e.value.message == f"Resource group '{rg.id}' must not already exist."


async def test_deploy_cluster_resources_then_cluster_becomes_ready(sim: Simulator, cloud: ArmCloud) -> None:
    await make_rg(cloud)
    outputs = await cloud.deploy(SUB, RG, "storage", base_template(), PARAMS)
    assert outputs == {"storageAccount": "clusterabc12", "infraId": "c1-x7k2p", "literal": 42}

    ids = {r["id"] for r in await cloud.list_resources(SUB, RG)}
    assert ids == {
        rid("Microsoft.Storage/storageAccounts/clusterabc12"),
        rid("Microsoft.Network/virtualNetworks/c1-x7k2p-vnet"),
        rid("Microsoft.Network/loadBalancers/c1-x7k2p-internal"),
        rid("Microsoft.Network/dnsZones/c1.eastus.example.com"),
        rid("Microsoft.Network/dnsZones/c1.eastus.example.com/A/api"),
        rid("Microsoft.Network/dnsZones/c1.eastus.example.com/A/*.apps"),
    }
    record = await sim.get_resource(rid("Microsoft.Network/dnsZones/c1.eastus.example.com/A/api"), "2018-05-01")
    assert record is not None
    assert record["type"] == "Microsoft.Network/dnsZones/A"
    assert record["properties"]["ARecords"] == [{"ipv4Address": "10.0.0.4"}]
    assert record["properties"]["provisioningState"] == "Succeeded"
    sa = await sim.get_resource(rid("microsoft.storage/storageaccounts/CLUSTERABC12"), "2023-01-01")
    assert sa is not None and sa["id"] == rid("Microsoft.Storage/storageAccounts/clusterabc12")
    assert (sa["location"], sa["sku"], sa["kind"]) == ("eastus", {"name": "Standard_LRS"}, "StorageV2")

    endpoint = cloud.cluster_endpoint(SUB, RG, "c1")
    assert endpoint.url.endswith(f"/clusters/{SUB}/{RG}") and "BEGIN CERTIFICATE" in endpoint.ca_pem
    assert await cloud.cluster_ready(endpoint) is False
    assert await cloud.cluster_nodes(endpoint) == []

    await cloud.deploy(SUB, RG, "installer", vm_template("c1-x7k2p"), {"vmSize": "Standard_D4s_v5"})
    assert await cloud.cluster_ready(endpoint) is True
    nodes = await cloud.cluster_nodes(endpoint)
    assert len(nodes) == 6
    masters = [n for n in nodes if "node-role.kubernetes.io/master" in n["metadata"]["labels"]]
    assert sorted(n["metadata"]["name"] for n in masters) == [f"c1-x7k2p-master-{i}" for i in range(3)]
    for node in nodes:
        assert {"type": "Ready", "status": "True"}.items() <= node["status"]["conditions"][0].items()
        assert node["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "Standard_D4s_v5"


async def test_nested_resource_needs_its_parent(cloud: ArmCloud) -> None:
    await make_rg(cloud)
    template = {"resources": [{"type": "Microsoft.Network/dnsZones/A", "name": "nozone.com/api", "properties": {}}]}
    with pytest.raises(CloudError) as e:
        await cloud.deploy(SUB, RG, "dns", template, {})
    assert e.value.code == "DeploymentFailed" and "ParentResourceNotFound" in e.value.message
    assert [d.code for d in e.value.details] == ["ParentResourceNotFound"]


async def test_invalid_template_is_rejected_synchronously(cloud: ArmCloud) -> None:
    await make_rg(cloud)
    with pytest.raises(CloudError) as e:
        await cloud.deploy(SUB, RG, "bad", {"resources": [{"type": "A/b", "name": "[nope()]"}]}, {})
    assert (e.value.status, e.value.code) == (400, "InvalidTemplate")
    with pytest.raises(CloudError) as e:
        await cloud.deploy(SUB, "missing-rg", "x", {"resources": []}, {})
    assert (e.value.status, e.value.code) == (404, "ResourceGroupNotFound")


async def test_deploy_fail_fault_then_next_attempt_succeeds(sim: Simulator, cloud: ArmCloud) -> None:
    await make_rg(cloud)
    await sim.set_faults(
        {"operation": "deploy", "mode": "fail", "count": 1, "match": "storage", "code": "QuotaExceeded",
         "message": "Operation results in exceeding approved Total Regional Cores quota."}
    )  # fmt: skip
    with pytest.raises(CloudError) as e:
        await cloud.deploy(SUB, RG, "storage", base_template(), PARAMS)
    assert (e.value.status, e.value.code) == (400, "DeploymentFailed")
    assert "QuotaExceeded: Operation results in exceeding approved Total Regional Cores quota." in e.value.message
    assert [d.code for d in e.value.details] == ["QuotaExceeded"]
    assert await cloud.list_resources(SUB, RG) == []  # nothing was created
    assert (await sim.faults())[0]["count"] == 0  # the hit consumed the rule

    assert (await cloud.deploy(SUB, RG, "storage", base_template(), PARAMS))["infraId"] == "c1-x7k2p"
    assert len(await cloud.list_resources(SUB, RG)) == 6


async def test_deploy_hang_never_completes(sim: Simulator, cloud: ArmCloud) -> None:
    await make_rg(cloud)
    await sim.set_faults({"operation": "deploy", "mode": "hang"})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(cloud.deploy(SUB, RG, "storage", base_template(), PARAMS), 0.5)
    assert sim.admin is not None
    dep = await sim.admin.get(rid("Microsoft.Resources/deployments/storage"), params={"api-version": "2025-04-01"})
    assert dep.json()["properties"]["provisioningState"] == "Running"


async def test_cluster_ready_hang_fault(sim: Simulator, cloud: ArmCloud) -> None:
    await make_rg(cloud)
    await cloud.deploy(SUB, RG, "installer", vm_template("c1-x7k2p"), {})
    endpoint = cloud.cluster_endpoint(SUB, RG, "c1")
    await sim.set_faults({"operation": "clusterReady", "mode": "hang", "count": 2, "match": RG})
    assert [await cloud.cluster_ready(endpoint) for _ in range(3)] == [False, False, True]
    await sim.set_faults({"operation": "clusterReady", "mode": "hang", "count": None})
    assert [await cloud.cluster_ready(endpoint) for _ in range(3)] == [False, False, False]
    assert (await sim.faults())[0]["count"] is None


async def test_resource_group_fault_fail(sim: Simulator, cloud: ArmCloud) -> None:
    await sim.set_faults({"operation": "createResourceGroup", "code": "RequestDisallowedByPolicy", "status": 403})
    with pytest.raises(CloudError) as e:
        await make_rg(cloud)
    assert (e.value.status, e.value.code) == (403, "RequestDisallowedByPolicy")
    await make_rg(cloud)  # count consumed


async def test_delete_resource_group_removes_contents(sim: Simulator, cloud: ArmCloud) -> None:
    await make_rg(cloud)
    await make_rg(cloud, "other-rg")
    await cloud.deploy(SUB, RG, "storage", base_template(), PARAMS)
    await cloud.deploy(SUB, "other-rg", "storage", vm_template("o"), {})

    await cloud.delete_resource_group(SUB, RG)
    assert await cloud.get_resource_group(SUB, RG) is None
    assert await sim.get_resource(rid("Microsoft.Storage/storageAccounts/clusterabc12"), "2023-01-01") is None
    with pytest.raises(CloudError) as e:
        await cloud.list_resources(SUB, RG)
    assert e.value.code == "ResourceGroupNotFound"
    assert len(await cloud.list_resources(SUB, "other-rg")) == 6  # untouched
    assert await cloud.cluster_ready(cloud.cluster_endpoint(SUB, RG, "c1")) is False
    await cloud.delete_resource_group(SUB, RG)  # absent: no-op

    polls = [r for r in await sim.requests() if "/operationresults/" in r["path"]]
    assert polls and polls[-1]["status"] == 204 and all(p["status"] in (202, 204) for p in polls)


async def test_generic_resource_put_get_delete(sim: Simulator, cloud: ArmCloud) -> None:
    await make_rg(cloud)
    zone = rid("Microsoft.Network/dnsZones/example.com")
    record = f"{zone}/A/api"
    with pytest.raises(CloudError) as e:
        await cloud.put_resource(record, "2018-05-01", {"properties": {"TTL": 60}})
    assert e.value.code == "ParentResourceNotFound"
    await cloud.put_resource(zone, "2018-05-01", {"location": "global", "properties": {}})
    got = await cloud.put_resource(record, "2018-05-01", {"properties": {"TTL": 60}})
    assert got["id"] == record and got["properties"] == {"TTL": 60, "provisioningState": "Succeeded"}

    await cloud.delete_resource(zone, "2018-05-01")  # deletes the child records too
    assert await sim.get_resource(record, "2018-05-01") is None
    assert await cloud.list_resources(SUB, RG) == []
    await cloud.delete_resource(zone, "2018-05-01")  # absent: no-op


async def test_request_log_records_lease_owner_and_step(sim: Simulator, cloud: ArmCloud) -> None:
    with request_context("backend-1", "ensure_resource_group"):
        await make_rg(cloud)
    with request_context("backend-2", "deploy_storage"):
        await cloud.deploy(SUB, RG, "storage", base_template(), PARAMS)
        await cloud.cluster_ready(cloud.cluster_endpoint(SUB, RG, "c1"))
    await cloud.get_resource_group(SUB, RG)  # outside any step: no headers

    first = await sim.requests(owner="backend-1")
    assert first and {r["step"] for r in first} == {"ensure_resource_group"}
    assert {r["method"] for r in first} == {"GET", "PUT"}
    second = await sim.requests(step="deploy_storage")
    assert {r["leaseOwner"] for r in second} == {"backend-2"}
    assert any(r["method"] == "PUT" and r["path"].endswith("/deployments/storage") for r in second)
    assert any("/operationStatuses/" in r["path"] for r in second)  # LRO polls carry the headers too
    assert any(r["path"].endswith("/readyz") for r in second)
    last = (await sim.requests())[-1]
    assert "leaseOwner" not in last and "step" not in last and last["status"] == 200

    lines = (sim.data_dir / "requests.jsonl").read_text().splitlines()
    assert len(lines) >= len(first) + len(second)


async def test_restart_keeps_state_and_finishes_operations(sim: Simulator, cloud: ArmCloud) -> None:
    await make_rg(cloud)
    await make_rg(cloud, "doomed")
    await cloud.deploy(SUB, RG, "storage", base_template(), PARAMS)
    assert sim.admin is not None
    started = await sim.admin.delete(f"/subscriptions/{SUB}/resourcegroups/doomed", params={"api-version": "x"})
    assert started.status_code == 202 and "operationresults" in started.headers["location"]
    before = len(await sim.requests())

    await sim.restart()  # new process state, same data directory, new port
    cloud = sim.cloud()
    rg = await cloud.get_resource_group(SUB, RG)
    assert rg is not None and rg.managed_by == CLUSTER_ID
    assert len(await cloud.list_resources(SUB, RG)) == 6
    assert (await cloud.deploy(SUB, RG, "storage", base_template(), PARAMS))["storageAccount"] == "clusterabc12"
    assert await cloud.get_resource_group(SUB, "doomed") is None  # the delete begun before the restart ended
    assert len(await sim.requests()) > before  # the log survived too


@pytest.mark.parametrize("sim_config", [{"token": None, "step_delay_seconds": 0.0}])
async def test_zero_delay_and_any_token(sim: Simulator) -> None:
    cloud = sim.cloud(token="whatever")
    await make_rg(cloud)
    assert (await cloud.deploy(SUB, RG, "storage", base_template(), PARAMS))["literal"] == 42
    await cloud.delete_resource(rid("Microsoft.Network/loadBalancers/c1-x7k2p-internal"), "2023-09-01")
    assert len(await cloud.list_resources(SUB, RG)) == 5


async def test_authentication(sim: Simulator) -> None:
    url = f"{sim.base_url}/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01"
    async with httpx.AsyncClient(verify=sim.ssl) as http:
        missing = await http.get(url)
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "AuthenticationFailed"
        assert missing.headers["x-ms-request-id"]
        wrong = await http.get(url, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await http.get(url, headers={"Authorization": "Bearer test-token"})
        assert ok.status_code == 200 and ok.json() == {"value": []}
        no_version = await http.get(url.split("?")[0], headers={"Authorization": "Bearer test-token"})
        assert no_version.json()["error"]["code"] == "MissingApiVersionParameter"
    with pytest.raises(CloudError) as e:
        await make_rg(sim.cloud(token="wrong"))
    assert (e.value.status, e.value.code) == (401, "InvalidAuthenticationToken")


async def test_error_envelope_and_admin_validation(sim: Simulator) -> None:
    assert sim.admin is not None
    resp = await sim.admin.get(f"/SUBSCRIPTIONS/{SUB}/resourceGroups/nope", params={"api-version": "1"})
    assert resp.status_code == 404
    assert resp.json() == {
        "error": {"code": "ResourceGroupNotFound", "message": "Resource group 'nope' could not be found."}
    }
    bad: list[Any] = [{"operation": "reboot"}]
    assert (await sim.admin.put("/simulator/faults", json=bad)).status_code == 400
    assert (await sim.admin.delete("/simulator/faults")).json() == []
    put = await sim.admin.put(f"/subscriptions/{SUB}/resourcegroups/x", params={"api-version": "1"}, content=b"{")
    assert put.status_code == 400 and put.json()["error"]["code"] == "InvalidRequestContent"


@pytest.mark.parametrize(("status", "temporary"), [(503, True), (429, True), (500, True), (400, False), (409, False)])
async def test_errors_that_outlast_the_retries_are_marked_temporary(
    sim: Simulator, status: int, temporary: bool
) -> None:
    await sim.set_faults({"operation": "createResourceGroup", "status": status, "code": "Injected", "count": None})
    cloud = sim.cloud(retry_total=1)
    with pytest.raises(CloudError) as e:
        await make_rg(cloud)
    assert (e.value.status, e.value.code, e.value.temporary) == (status, "Injected", temporary)


async def test_an_unreachable_cloud_is_a_temporary_error(sim: Simulator) -> None:
    cloud = ArmCloud("https://127.0.0.1:9", StaticTokenCredential("t"), sim.tls.ca_file, retry_total=0)
    try:
        with pytest.raises(CloudError) as e:
            await cloud.get_resource_group(SUB, RG)
    finally:
        await cloud.close()
    assert (e.value.code, e.value.temporary) == ("ServiceUnavailable", True)
