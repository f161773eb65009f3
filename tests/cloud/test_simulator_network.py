"""Microsoft.Network as real state (``_network``, ``_netcheck``): virtual networks and their subnets, network
security groups and route tables -- validated, associated and refused while in use as Azure does; the subnets'
``ipConfigurations`` recorded from the machines and interfaces a template deployment creates. In process over
httpx's ASGI transport, with a short step delay so that writes are long-running operations polled to the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.cloud.arm import ArmCloud
from aro.cloud.simulator import SimulatorApp
from aro.cloud.simulator import _netcheck as netcheck
from tests.cloud.conftest import asgi_client, asgi_simulator

from .conftest import SUB as HTTPS_SUB

SUB = "11111111-2222-3333-4444-555555555555"
RG = f"/subscriptions/{SUB}/resourceGroups/net"
NET = f"{RG}/providers/Microsoft.Network"
VNET = f"{NET}/virtualNetworks/aro-vnet"
API = {"api-version": "2024-07-01"}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[SimulatorApp]:
    async with asgi_simulator(tmp_path / "sim", token="t", step_delay_seconds=0.05) as a:
        yield a


@pytest.fixture
async def c(app: SimulatorApp) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as h:
        assert (await h.put(RG, params=API, json={"location": "eastus"})).status_code == 201
        yield h


async def settle(c: httpx.AsyncClient, r: httpx.Response) -> httpx.Response:
    """Follow a write's Azure-AsyncOperation (or Location) to the end, as ARM pollers do; the final answer."""
    url = r.headers.get("azure-asyncoperation") or r.headers.get("location")
    if url is None:
        return r
    for _ in range(250):
        done = await c.get(url)
        if done.status_code != 202 and (done.status_code != 200 or done.json().get("status") != "Running"):
            return done
        await asyncio.sleep(0.02)  # the poll interval (Retry-After says 1 s; the step delay is 0.05 s)
    raise AssertionError(f"{url} never finished")


async def put(c: httpx.AsyncClient, url: str, body: dict[str, Any]) -> httpx.Response:
    """A PUT that must succeed, followed to its end."""
    r = await c.put(url, params=API, json=body)
    assert r.status_code in (200, 201), r.text
    done = await settle(c, r)
    assert done is r or (done.status_code, done.json()["status"]) == (200, "Succeeded"), done.text
    return r


async def delete(c: httpx.AsyncClient, url: str) -> httpx.Response:
    """A DELETE that must succeed, followed to its end."""
    r = await c.delete(url, params=API)
    assert r.status_code in (200, 202, 204), r.text
    if r.status_code == 202:
        assert (await settle(c, r)).status_code == 204
    return r


def vnet(*subnets: tuple[str, str], prefixes: tuple[str, ...] = ("10.0.0.0/22",)) -> dict[str, Any]:
    return {
        "location": "eastus",
        "properties": {
            "addressSpace": {"addressPrefixes": list(prefixes)},
            "subnets": [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets],
        },
    }


def error(r: httpx.Response) -> tuple[int, str, str]:
    body = r.json()["error"]
    return r.status_code, body["code"], body["message"]


async def subnet_names(c: httpx.AsyncClient) -> list[str]:
    return [s["name"] for s in (await c.get(VNET, params=API)).json()["properties"]["subnets"]]


async def test_vnet_create_is_a_long_running_put_and_reads_back_as_azure_shows_it(c: httpx.AsyncClient) -> None:
    r = await c.put(VNET, params=API, json=vnet(("master", "10.0.0.0/23")))
    assert r.status_code == 201
    first = r.json()
    assert first["properties"]["provisioningState"] == "Updating"  # the network RP never says Creating
    assert r.headers["azure-asyncoperation"].startswith("https://sim/subscriptions/")
    assert (await settle(c, r)).json()["status"] == "Succeeded"

    got = (await c.get(VNET, params={"api-version": "2022-01-01"})).json()
    assert (got["id"], got["name"], got["type"], got["location"]) == (
        VNET,
        "aro-vnet",
        "Microsoft.Network/virtualNetworks",
        "eastus",
    )
    props = got["properties"]
    assert props["provisioningState"] == "Succeeded"
    assert props["addressSpace"] == {"addressPrefixes": ["10.0.0.0/22"]}
    assert props["resourceGuid"] == first["properties"]["resourceGuid"]
    assert got["etag"].startswith('W/"') and got["etag"] != first["etag"]  # it changes with the state
    [master] = props["subnets"]
    assert master == {
        "name": "master",
        "id": f"{VNET}/subnets/master",
        "etag": got["etag"],  # the subnets share their network's etag
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "properties": {
            "provisioningState": "Succeeded",
            "addressPrefix": "10.0.0.0/23",
            "delegations": [],
            "privateEndpointNetworkPolicies": "Disabled",
            "privateLinkServiceNetworkPolicies": "Enabled",
        },
    }
    assert (await c.get(f"{VNET}/subnets/master", params=API)).json() == master

    again = await put(c, VNET, vnet(("master", "10.0.0.0/23")))
    assert again.status_code == 200 and again.json()["properties"]["resourceGuid"] == props["resourceGuid"]
    # lists: the resource group's, the subscription's, the subnets
    listed = (await c.get(f"{NET}/virtualNetworks", params=API)).json()["value"]
    assert [v["id"] for v in listed] == [VNET]
    everywhere = await c.get(f"/subscriptions/{SUB}/providers/Microsoft.Network/virtualNetworks", params=API)
    assert [v["id"] for v in everywhere.json()["value"]] == [VNET]
    assert [s["name"] for s in (await c.get(f"{VNET}/subnets", params=API)).json()["value"]] == ["master"]


async def test_a_vnet_put_replaces_its_subnets_and_a_subnet_put_its_properties(c: httpx.AsyncClient) -> None:
    await put(c, VNET, vnet(("master", "10.0.0.0/23"), ("worker", "10.0.2.0/23")))
    assert await subnet_names(c) == ["master", "worker"]
    await put(c, VNET, vnet(("master", "10.0.0.0/23")))  # no worker: removed, as on Azure
    assert await subnet_names(c) == ["master"]
    gone = await c.get(f"{VNET}/subnets/worker", params=API)
    assert error(gone) == (404, "NotFound", f"Resource {VNET}/subnets/worker not found.")

    created = await put(c, f"{VNET}/subnets/worker", {"properties": {"addressPrefix": "10.0.2.0/23"}})
    assert created.status_code == 201 and created.json()["properties"]["provisioningState"] == "Updating"
    body = {"properties": {"addressPrefix": "10.0.2.0/24", "serviceEndpoints": [{"service": "Microsoft.Storage"}]}}
    updated = await put(c, f"{VNET}/subnets/worker", body)
    assert updated.status_code == 200
    worker = (await c.get(f"{VNET}/subnets/worker", params=API)).json()["properties"]
    assert worker["addressPrefix"] == "10.0.2.0/24"
    assert worker["serviceEndpoints"] == [
        {"provisioningState": "Succeeded", "service": "Microsoft.Storage", "locations": ["*"]}
    ]
    # a GET-modify-PUT sends the read-only fields back: they are not errors, and not stored
    worker_get = (await c.get(f"{VNET}/subnets/worker", params=API)).json()
    await put(c, f"{VNET}/subnets/worker", {**worker_get, "properties": {**worker_get["properties"]}})
    # a PUT replaces the properties: without serviceEndpoints there are none
    await put(c, f"{VNET}/subnets/worker", {"properties": {"addressPrefix": "10.0.2.0/24"}})
    assert "serviceEndpoints" not in (await c.get(f"{VNET}/subnets/worker", params=API)).json()["properties"]
    assert await subnet_names(c) == ["master", "worker"]

    deleted = await delete(c, f"{VNET}/subnets/worker")
    assert deleted.status_code == 202
    assert await subnet_names(c) == ["master"]
    assert (await c.delete(f"{VNET}/subnets/worker", params=API)).status_code == 204


@pytest.mark.parametrize(
    ("subnet", "code", "message"),
    [
        (
            "10.0.4.0/24",
            "NetcfgSubnetRangeOutsideVnet",
            "Subnet 'new' is not valid because its IP address range is outside the IP address range of virtual network "
            "'aro-vnet'.",
        ),
        (
            "10.0.1.0/24",
            "NetcfgSubnetRangesOverlap",
            "Subnet 'new' is not valid because its IP address range overlaps with that of an existing subnet in "
            "virtual network 'aro-vnet'.",
        ),
        (
            "10.0.2.1/23",
            "InvalidCIDRNotation",
            f"The address prefix 10.0.2.1/23 in resource {VNET}/subnets/new has an invalid CIDR notation. For the "
            "given prefix length, the address prefix should be 10.0.2.0/23.",
        ),
        (
            "10.0.2.0/33",
            "InvalidAddressPrefixFormat",
            f"Address prefix 10.0.2.0/33 of resource {VNET}/subnets/new is not formatted correctly. It should follow "
            "CIDR notation, for example 10.0.0.0/24.",
        ),
        (
            "10.0.2.0",
            "InvalidAddressPrefixFormat",
            f"Address prefix 10.0.2.0 of resource {VNET}/subnets/new is not formatted correctly. It should follow CIDR "
            "notation, for example 10.0.0.0/24.",
        ),
        (None, "NoAddressPrefixOrPoolProvided", "Subnet 'new' does not have address prefix or pool provided."),
    ],
)
async def test_subnet_addresses_are_checked_and_nothing_changes_on_error(
    c: httpx.AsyncClient, subnet: str | None, code: str, message: str
) -> None:
    await put(c, VNET, vnet(("master", "10.0.0.0/23")))
    before = (await c.get(VNET, params=API)).json()
    props = {} if subnet is None else {"addressPrefix": subnet}
    r = await c.put(f"{VNET}/subnets/new", params=API, json={"properties": props})
    assert error(r) == (400, code, message)
    assert (await c.get(VNET, params=API)).json() == before  # etag included: nothing was written


async def test_vnet_bodies_are_checked_like_subnets(c: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    r = await c.put(VNET, params=API, json=vnet(("a", "10.0.0.0/23"), ("b", "10.0.1.0/24")))
    assert error(r)[:2] == (400, "NetcfgSubnetRangesOverlap") and "Subnet 'b'" in error(r)[2]
    r = await c.put(VNET, params=API, json=vnet(("a", "10.0.0.0/23"), ("A", "10.0.2.0/23")))
    assert error(r) == (
        400,
        "DuplicateResourceName",
        f"Resource {VNET} has two child resources with the same name (A).",
    )
    r = await c.put(VNET, params=API, json={"location": "eastus", "properties": {}})
    assert error(r)[:2] == (400, "InvalidRequestFormat") and "does not have any address prefixes" in error(r)[2]
    r = await c.put(VNET, params=API, json={"properties": vnet()["properties"]})
    assert error(r)[:2] == (400, "LocationRequired")
    r = await c.put(f"{NET}/virtualNetworks/x", params=API, json=vnet())  # a virtual network's name: 2..64
    assert error(r)[:2] == (400, "InvalidResourceName")
    r = await c.put(VNET, params=API, json=vnet(("master", "10.0.0.0/23"), prefixes=("10.0.0.0/22", "fd00::/64")))
    assert r.status_code == 201  # IPv6 address space is fine; a subnet in it too
    await settle(c, r)
    assert (await put(c, f"{VNET}/subnets/v6", {"properties": {"addressPrefix": "fd00::/80"}})).status_code == 201
    monkeypatch.setattr(netcheck, "MAX_SUBNETS", 2)
    r = await c.put(VNET, params=API, json=vnet(("a", "10.0.0.0/24"), ("b", "10.0.1.0/24"), ("c", "10.0.2.0/24")))
    assert error(r)[:2] == (400, "InvalidRequestFormat")
    assert await subnet_names(c) == ["master", "v6"]  # nothing changed


async def test_nsg_and_route_table_associations_and_their_deletion(c: httpx.AsyncClient) -> None:
    await put(c, VNET, vnet(("master", "10.0.0.0/23"), ("worker", "10.0.2.0/23")))
    nsg, rt = f"{NET}/networkSecurityGroups/aro-nsg", f"{NET}/routeTables/aro-rt"
    missing = await c.put(
        f"{VNET}/subnets/master",
        params=API,
        json={"properties": {"addressPrefix": "10.0.0.0/23", "networkSecurityGroup": {"id": nsg}}},
    )
    assert error(missing) == (
        400,
        "InvalidResourceReference",
        f"Resource {nsg} referenced by resource {VNET}/subnets/master was not found. Please make sure that the "
        "referenced resource exists, and that both resources are in the same region.",
    )
    rules = [{"name": "ssh", "properties": {"priority": 100, "access": "Allow", "direction": "Inbound"}}]
    made = await put(c, nsg, {"location": "eastus", "properties": {"securityRules": rules}})
    assert made.status_code == 201
    group = (await c.get(nsg, params=API)).json()
    assert group["type"] == "Microsoft.Network/networkSecurityGroups" and "subnets" not in group["properties"]
    assert group["properties"]["securityRules"][0]["id"] == f"{nsg}/securityRules/ssh"
    assert [r["name"] for r in group["properties"]["defaultSecurityRules"]][:3] == [
        "AllowVnetInBound",
        "AllowAzureLoadBalancerInBound",
        "DenyAllInBound",
    ]
    await put(
        c,
        rt,
        {
            "location": "eastus",
            "properties": {
                "routes": [{"name": "r", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}}]
            },
        },
    )
    for name, prefix in (("master", "10.0.0.0/23"), ("worker", "10.0.2.0/23")):
        refs = {"networkSecurityGroup": {"id": nsg}, "routeTable": {"id": rt}}
        await put(c, f"{VNET}/subnets/{name}", {"properties": {"addressPrefix": prefix, **refs}})
    master = (await c.get(f"{VNET}/subnets/master", params=API)).json()["properties"]
    assert master["networkSecurityGroup"] == {"id": nsg} and master["routeTable"] == {"id": rt}
    both = [{"id": f"{VNET}/subnets/master"}, {"id": f"{VNET}/subnets/worker"}]
    assert (await c.get(nsg, params=API)).json()["properties"]["subnets"] == both
    assert (await c.get(rt, params=API)).json()["properties"]["subnets"] == both

    in_use = await c.delete(nsg, params=API)
    assert error(in_use) == (
        400,
        "InUseNetworkSecurityGroupCannotBeDeleted",
        f"Network security group {nsg} cannot be deleted because it is in use by the following resources: "
        f"{VNET}/subnets/master, {VNET}/subnets/worker. In order to delete the Network security group, remove the "
        "association with the resource(s). To learn how to do this, see aka.ms/deletensg.",
    )
    assert error(await c.delete(rt, params=API)) == (
        400,
        "InUseRouteTableCannotBeDeleted",
        "Route table aro-rt is in use and cannot be deleted.",
    )
    # detaching (a PUT of the subnet without them) frees them; deleting a subnet drops its references too
    await put(c, f"{VNET}/subnets/master", {"properties": {"addressPrefix": "10.0.0.0/23"}})
    await delete(c, f"{VNET}/subnets/worker")
    assert "subnets" not in (await c.get(nsg, params=API)).json()["properties"]
    assert (await delete(c, nsg)).status_code == 202 and (await delete(c, rt)).status_code == 202
    assert (await c.get(nsg, params=API)).status_code == 404


async def test_a_group_deleted_with_its_resource_group_leaves_the_subnet(c: httpx.AsyncClient) -> None:
    """Deliberate difference: the subnet loses the reference (Azure refuses the resource group's deletion)."""
    other = f"/subscriptions/{SUB}/resourceGroups/cluster-managed"
    await c.put(other, params=API, json={"location": "eastus"})
    nsg = f"{other}/providers/Microsoft.Network/networkSecurityGroups/cluster-nsg"
    await put(c, nsg, {"location": "eastus"})
    await put(c, VNET, vnet(("master", "10.0.0.0/23")))
    await put(
        c,
        f"{VNET}/subnets/master",
        {"properties": {"addressPrefix": "10.0.0.0/23", "networkSecurityGroup": {"id": nsg}}},
    )
    assert await delete(c, other)
    assert "networkSecurityGroup" not in (await c.get(f"{VNET}/subnets/master", params=API)).json()["properties"]


def template(subnet_id: str) -> dict[str, Any]:
    """A machine as the RP deploys it, and a network interface as Azure templates write them."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.Compute/virtualMachines",
                "apiVersion": "2024-07-01",
                "name": "c1-master-0",
                "location": "eastus",
                "properties": {"networkProfile": {"networkInterfaces": [{"properties": {"subnetId": subnet_id}}]}},
            },
            {
                "type": "Microsoft.Network/networkInterfaces",
                "apiVersion": "2024-05-01",
                "name": "c1-master-1-nic",
                "location": "eastus",
                "properties": {
                    "ipConfigurations": [{"name": "pipConfig", "properties": {"subnet": {"id": subnet_id.upper()}}}]
                },
            },
        ],
    }


async def test_machines_deployed_into_a_subnet_use_it_until_they_are_gone(c: httpx.AsyncClient) -> None:
    await put(c, VNET, vnet(("master", "10.0.0.0/23"), ("worker", "10.0.2.0/23")))
    cluster = f"/subscriptions/{SUB}/resourceGroups/aro-c1"
    await c.put(cluster, params=API, json={"location": "eastus"})
    dep = f"{cluster}/providers/Microsoft.Resources/deployments/install"
    body = {"properties": {"mode": "Incremental", "template": template(f"{VNET}/subnets/master")}}
    r = await c.put(dep, params=API, json=body)
    assert r.status_code == 201 and (await settle(c, r)).json()["status"] == "Succeeded"

    master = (await c.get(f"{VNET}/subnets/master", params=API)).json()["properties"]
    assert master["ipConfigurations"] == [
        {"id": f"{cluster}/providers/Microsoft.Compute/virtualMachines/c1-master-0"},
        {"id": f"{cluster}/providers/Microsoft.Network/networkInterfaces/c1-master-1-nic/ipConfigurations/pipConfig"},
    ]
    assert "ipConfigurations" not in (await c.get(f"{VNET}/subnets/worker", params=API)).json()["properties"]

    vm = f"{cluster}/providers/Microsoft.Compute/virtualMachines/c1-master-0"
    refused = await c.delete(f"{VNET}/subnets/master", params=API)
    assert error(refused) == (
        400,
        "InUseSubnetCannotBeDeleted",
        f"Subnet master is in use by {vm} and cannot be deleted. In order to delete the subnet, delete all the "
        "resources within the subnet. See aka.ms/deletesubnet.",
    )
    readdressed = await c.put(
        f"{VNET}/subnets/master", params=API, json={"properties": {"addressPrefix": "10.0.0.0/24"}}
    )
    assert error(readdressed) == (400, "InUseSubnetCannotBeUpdated", "Subnet master is in use and cannot be updated.")
    assert error(await c.put(VNET, params=API, json=vnet(("worker", "10.0.2.0/23"))))[1] == "InUseSubnetCannotBeDeleted"
    assert error(await c.delete(VNET, params=API))[1] == "InUseSubnetCannotBeDeleted"
    # other properties of a subnet in use may change
    nsg = f"{NET}/networkSecurityGroups/n"
    await put(c, nsg, {"location": "eastus"})
    await put(
        c,
        f"{VNET}/subnets/master",
        {"properties": {"addressPrefix": "10.0.0.0/23", "networkSecurityGroup": {"id": nsg}}},
    )

    await delete(c, vm)  # one user gone: one ipConfiguration left
    left = (await c.get(f"{VNET}/subnets/master", params=API)).json()["properties"]["ipConfigurations"]
    assert [i["id"].rsplit("/", 3)[1] for i in left] == ["c1-master-1-nic"]
    await delete(c, cluster)  # the cluster's resource group: the rest
    assert "ipConfigurations" not in (await c.get(f"{VNET}/subnets/master", params=API)).json()["properties"]
    assert (await delete(c, f"{VNET}/subnets/master")).status_code == 202


async def test_a_templates_virtual_network_is_checked_when_submitted(c: httpx.AsyncClient) -> None:
    resource = {
        "type": "Microsoft.Network/virtualNetworks",
        "name": "tvnet",
        **vnet(("a", "10.0.0.0/23"), ("b", "10.0.1.0/24")),
    }
    dep = f"{RG}/providers/Microsoft.Resources/deployments/bad"
    r = await c.put(
        dep, params=API, json={"properties": {"mode": "Incremental", "template": {"resources": [resource]}}}
    )
    assert error(r)[:2] == (400, "NetcfgSubnetRangesOverlap")
    resource = {"type": "Microsoft.Network/virtualNetworks", "name": "tvnet", **vnet(("a", "10.0.0.0/23"))}
    r = await c.put(
        dep, params=API, json={"properties": {"mode": "Incremental", "template": {"resources": [resource]}}}
    )
    await settle(c, r)
    made = (await c.get(f"{NET}/virtualNetworks/tvnet", params=API)).json()  # rendered like a PUT's
    assert made["properties"]["subnets"][0]["id"] == f"{NET}/virtualNetworks/tvnet/subnets/a"
    assert made["properties"]["provisioningState"] == "Succeeded" and made["properties"]["resourceGuid"]
    assert (
        await put(c, f"{NET}/virtualNetworks/tvnet/subnets/b", {"properties": {"addressPrefix": "10.0.2.0/23"}})
    ).status_code == 201


async def test_if_match_guards_writes(c: httpx.AsyncClient) -> None:
    r = await c.put(VNET, params=API, json=vnet(), headers={"If-Match": "*"})
    assert error(r)[:2] == (412, "PreconditionFailed")  # "*" needs an existing resource
    await put(c, VNET, vnet(("master", "10.0.0.0/23")))
    etag = (await c.get(VNET, params=API)).json()["etag"]
    stale = await c.put(
        f"{VNET}/subnets/master",
        params=API,
        json={"properties": {"addressPrefix": "10.0.0.0/24"}},
        headers={"If-Match": 'W/"stale"'},
    )
    assert error(stale)[:2] == (412, "PreconditionFailed")
    r = await c.put(
        f"{VNET}/subnets/master",
        params=API,
        json={"properties": {"addressPrefix": "10.0.0.0/24"}},
        headers={"If-Match": etag},
    )
    assert r.status_code == 200
    await settle(c, r)
    assert error(await c.delete(VNET, params=API, headers={"If-Match": etag}))[:2] == (412, "PreconditionFailed")


async def test_absent_things(c: httpx.AsyncClient) -> None:
    assert error(await c.get(VNET, params=API)) == (
        404,
        "ResourceNotFound",
        "The Resource 'Microsoft.Network/virtualNetworks/aro-vnet' under resource group 'net' was not found.",
    )
    assert error(await c.get(f"{VNET}/subnets/x", params=API))[:2] == (404, "ResourceNotFound")
    assert error(await c.put(f"{VNET}/subnets/x", params=API, json={"properties": {"addressPrefix": "10.0.0.0/24"}}))[
        :2
    ] == (404, "ResourceNotFound")
    assert (await c.delete(VNET, params=API)).status_code == 204
    nowhere = f"/subscriptions/{SUB}/resourceGroups/nowhere/providers/Microsoft.Network/virtualNetworks/v1"
    assert error(await c.get(nowhere, params=API))[:2] == (404, "ResourceGroupNotFound")
    assert error(await c.put(nowhere, params=API, json=vnet()))[:2] == (404, "ResourceGroupNotFound")
    assert error(await c.delete(nowhere, params=API))[:2] == (404, "ResourceGroupNotFound")


async def test_the_rps_arm_client_attaches_a_security_group_to_a_subnet(cloud: ArmCloud) -> None:
    """As ARO-RP's ``attachNSGs``: GET the subnet, PUT it back with ``networkSecurityGroup`` -- through the RP's
    generic client (azure-mgmt-resource, its LRO poller) over HTTPS, with the simulator's step delay."""
    sub = HTTPS_SUB
    await cloud.create_resource_group(sub, "customer", "eastus", "", {})
    await cloud.create_resource_group(sub, "aro-c1", "eastus", "", {})
    base = f"/subscriptions/{sub}/resourceGroups/customer/providers/Microsoft.Network/virtualNetworks/vnet"
    await cloud.put_resource(base, "2024-07-01", vnet(("master", "10.0.0.0/23")))
    nsg = f"/subscriptions/{sub}/resourceGroups/aro-c1/providers/Microsoft.Network/networkSecurityGroups/c1-nsg"
    await cloud.put_resource(nsg, "2024-07-01", {"location": "eastus"})
    subnet = await cloud.get_resource(f"{base}/subnets/master", "2024-07-01")
    assert subnet is not None and "networkSecurityGroup" not in subnet["properties"]
    subnet["properties"]["networkSecurityGroup"] = {"id": nsg}
    put_back = await cloud.put_resource(f"{base}/subnets/master", "2024-07-01", subnet)
    assert put_back["properties"]["networkSecurityGroup"]["id"] == nsg
    assert put_back["properties"]["provisioningState"] == "Succeeded"
    group = await cloud.get_resource(nsg, "2024-07-01")
    assert group is not None and group["properties"]["subnets"] == [{"id": f"{base}/subnets/master"}]
