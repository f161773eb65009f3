"""The customer's side of a classic cluster in the simulator, through its ARM API as `az` would write it:
resource groups, a virtual network with subnets, network security groups, user-assigned identities, and
reading back what the install left there (subnets, federated credentials, role assignments)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.api.fixtures import OPERATORS
from tests.conftest import RPProcess
from tests.fixtures.clusters import cluster_body

NETWORK_API, IDENTITY_API, ROLES_API, GROUPS_API = "2024-05-01", "2023-01-31", "2022-04-01", "2021-04-01"
LOCATION = "eastus"


@contextmanager
def simulator(rp: RPProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": "Bearer aro-simulator-token"}
    with httpx.Client(base_url=rp.ready_info()["simulator"], verify=rp.ssl_context(), headers=headers, timeout=30) as c:
        yield c


class Customer:
    """One subscription's resources in the simulator."""

    def __init__(self, sim: httpx.Client, sub: str | None = None) -> None:
        self.sim = sim
        self.sub = sub or str(uuid.uuid4())

    def rg(self, name: str) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{name}"

    def put(self, path: str, body: dict[str, Any], api: str) -> dict[str, Any]:
        r = self.sim.put(path, params={"api-version": api}, json=body)
        assert r.status_code in (200, 201), r.text
        out: dict[str, Any] = r.json()
        return out

    def get(self, path: str, api: str, **params: str) -> dict[str, Any] | None:
        r = self.sim.get(path, params={"api-version": api, **params})
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    def delete(self, path: str, api: str) -> None:
        r = self.sim.delete(path, params={"api-version": api})
        assert r.status_code in (200, 202, 204), r.text

    def group(self, name: str, location: str = LOCATION) -> str:
        self.put(self.rg(name), {"location": location}, GROUPS_API)
        return self.rg(name)

    def vnet(
        self,
        rg: str = "net",
        name: str = "vnet",
        subnets: dict[str, str] | None = None,
        *,
        space: str = "10.0.0.0/16",
        location: str = LOCATION,
        nsgs: dict[str, str] | None = None,
    ) -> str:
        """A virtual network (its group created) with ``subnets`` (name -> prefix; default a master and a worker
        /23); ``nsgs``: subnet name -> NSG id attached."""
        self.group(rg, location)
        vnet = f"{self.rg(rg)}/providers/Microsoft.Network/virtualNetworks/{name}"
        subnets = {"master": "10.0.0.0/23", "worker": "10.0.2.0/23"} if subnets is None else subnets
        body = {
            "location": location,
            "properties": {
                "addressSpace": {"addressPrefixes": [space]},
                "subnets": [
                    {
                        "name": n,
                        "properties": {"addressPrefix": p}
                        | ({"networkSecurityGroup": {"id": (nsgs or {})[n]}} if n in (nsgs or {}) else {}),
                    }
                    for n, p in subnets.items()
                ],
            },
        }
        self.put(vnet, body, NETWORK_API)
        return vnet

    def nsg(self, rg: str = "net", name: str = "customer-nsg", location: str = LOCATION) -> str:
        self.group(rg, location)
        nsg = f"{self.rg(rg)}/providers/Microsoft.Network/networkSecurityGroups/{name}"
        self.put(nsg, {"location": location, "properties": {}}, NETWORK_API)
        return nsg

    def subnet(self, subnet_id: str) -> dict[str, Any]:
        s = self.get(subnet_id, NETWORK_API)
        assert s is not None, subnet_id
        return s

    def nsg_of(self, subnet_id: str) -> str | None:
        ref = self.subnet(subnet_id)["properties"].get("networkSecurityGroup")
        return None if ref is None else str(ref["id"])

    def identity(self, rg: str, name: str) -> dict[str, Any]:
        self.group(rg)
        return self.put(
            f"{self.rg(rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
            {"location": LOCATION},
            IDENTITY_API,
        )

    def identities(self, rg: str = "ids", operators: tuple[str, ...] = OPERATORS) -> tuple[str, dict[str, str]]:
        """What `az identity create` makes for `az aro create --enable-managed-identity`: the cluster identity
        and one per operator; (cluster identity id, operator -> identity id)."""
        cluster = str(self.identity(rg, "aro-cluster")["id"])
        return cluster, {op: str(self.identity(rg, op)["id"]) for op in operators}

    def credentials(self, identity_id: str) -> list[dict[str, Any]]:
        listed = self.get(f"{identity_id}/federatedIdentityCredentials", IDENTITY_API)
        assert listed is not None
        return list(listed["value"])

    def role_assignments(self, scope: str) -> list[dict[str, Any]]:
        """The assignments made at ``scope`` itself (not inherited ones)."""
        listed = self.get(f"{scope}/providers/Microsoft.Authorization/roleAssignments", ROLES_API)
        assert listed is not None
        return [a for a in listed["value"] if a["properties"]["scope"].lower() == scope.lower()]


def body_on(customer: Customer, name: str, vnet: str, **kw: Any) -> dict[str, Any]:
    """A 2025-07-25 service principal cluster on ``vnet``'s master and worker subnets (the az CLI's body)."""
    domain = "".join(c for c in name.lower() if c.isalnum())[:20]
    body = cluster_body(
        customer.sub,
        domain=domain,
        pull_secret='{"auths":{"registry.example.com":{"auth":"eA=="}}}',
        client_secret="secret",
        **kw,
    )
    body["properties"]["masterProfile"]["subnetId"] = f"{vnet}/subnets/master"
    body["properties"]["workerProfiles"][0]["subnetId"] = f"{vnet}/subnets/worker"
    return body
