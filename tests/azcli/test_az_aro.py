"""The issue's walk-through with the real, unmodified Azure CLI against `aro rp`'s simulator as the Azure front
door: cloud discovery, service-principal login, provider registration, networks, `az aro create` with and
without a service principal of one's own, list / show / credentials / admin kubeconfig (then kubectl),
update, delete -- and a managed-identity cluster. The tests run in order and share the module's RP and az
configuration directory; a failed step fails the ones after it with the first cause named.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.azcli.conftest import Az
from tests.conftest import RPProcess

pytestmark = pytest.mark.slow  # about a minute of az commands: handed to a worker first

LOCATION = "eastus"
RG = "aro-az"
VNET = "aro-vnet"
RP_APP_ID = "f1dd0a37-89c6-4e07-bcd1-ffd3d43d8875"  # the ARO RP's first-party application
PULL_SECRET = json.dumps({"auths": {"registry.redhat.io": {"auth": "dXNlcjpwYXNz"}}})


class Walk:
    """What the earlier steps made, for the later ones."""

    def __init__(self) -> None:
        self.failed: str | None = None
        self.values: dict[str, Any] = {}


@pytest.fixture(scope="module")
def walk() -> Walk:
    return Walk()


@pytest.fixture(autouse=True)
def _in_order(walk: Walk, request: pytest.FixtureRequest) -> Any:
    if walk.failed:
        pytest.fail(f"an earlier step failed: {walk.failed}")
    yield
    report = getattr(request.node, "rep_call", None)  # set by tests/azcli/conftest.py
    if report is not None and report.failed:
        walk.failed = request.node.name


def info(rp: RPProcess) -> dict[str, Any]:
    return rp.ready_info()


def test_cloud_register_discovers_every_endpoint(az: Az, az_rp: RPProcess, walk: Walk) -> None:
    sim = info(az_rp)["simulator"].rstrip("/")
    walk.values["sim"] = sim
    az.run("cloud", "register", "-n", "Local", "--endpoint-resource-manager", sim + "/")
    az.run("cloud", "set", "-n", "Local")
    cloud = az.json("cloud", "show", "-n", "Local")
    endpoints = cloud["endpoints"]
    assert cloud["isActive"] is True
    assert endpoints["resourceManager"].rstrip("/") == sim
    assert endpoints["activeDirectory"].rstrip("/") == sim
    assert endpoints["microsoftGraphResourceId"].rstrip("/") == sim


def test_login_with_the_default_service_principal(az: Az, az_rp: RPProcess, walk: Walk) -> None:
    ready = info(az_rp)
    tenant, client, sub = ready["tenantId"], ready["clientId"], ready["subscriptionId"]
    secret = "aro-simulator-token"  # the development default of cloud.simulator.token
    accounts = az.json("login", "--service-principal", "-u", client, "-p", secret, "--tenant", tenant)
    assert [a["id"] for a in accounts] == [sub]
    account = az.json("account", "show")
    assert account["id"] == sub and account["tenantId"] == tenant
    assert account["user"] == {"name": client, "type": "servicePrincipal"}
    assert account["environmentName"] == "Local" and account["state"] == "Enabled"
    walk.values.update(tenant=tenant, client=client, sub=sub)


def test_provider_register_reaches_the_rp(az: Az, az_rp: RPProcess, walk: Walk) -> None:
    sub = walk.values["sub"]
    before = az.json("provider", "show", "-n", "Microsoft.RedHatOpenShift")
    assert before["registrationState"] in ("NotRegistered", "Unregistered")
    az.run("provider", "register", "-n", "Microsoft.RedHatOpenShift", "--wait")
    after = az.json("provider", "show", "-n", "Microsoft.RedHatOpenShift")
    assert after["registrationState"] == "Registered"
    types = {t["resourceType"] for t in after["resourceTypes"]}
    assert {"openShiftClusters", "locations/operationsstatus"} <= types
    # ARM told the RP (PUT /subscriptions/{id}?api-version=2.0): its log records the lifecycle notification
    notices = [json.loads(line) for line in az_rp.log().splitlines() if '"msg": "subscription state"' in line]
    assert {(n["subscriptionId"], n["state"]) for n in notices} == {(sub, "Registered")}


def test_group_vnet_and_subnets(az: Az, walk: Walk) -> None:
    group = az.json("group", "create", "-n", RG, "-l", LOCATION)
    assert group["properties"]["provisioningState"] == "Succeeded"
    vnet = az.json("network", "vnet", "create", "-g", RG, "-n", VNET, "--address-prefixes", "10.0.0.0/16")
    assert vnet["newVNet"]["addressSpace"]["addressPrefixes"] == ["10.0.0.0/16"]

    def subnet_create(name: str, prefix: str) -> list[str]:
        return ["network", "vnet", "subnet", "create", "-g", RG, "--vnet-name", VNET, "-n", name,
                "--address-prefixes", prefix]  # fmt: skip

    ids = {}
    for i, name in enumerate(("master", "worker", "master2", "worker2", "master3", "worker3")):
        prefix = f"10.0.{2 * i}.0/23"
        subnet = az.json(*subnet_create(name, prefix))
        assert subnet["provisioningState"] == "Succeeded" and subnet["addressPrefix"] == prefix
        ids[name] = subnet["id"]
    walk.values["subnets"] = ids
    overlapping = az.fails(*subnet_create("bad", "10.0.1.0/24"))
    assert "NetcfgSubnetRangesOverlap" in overlapping.stderr


def test_aro_create_makes_its_own_service_principal(az: Az, walk: Walk) -> None:
    cluster = az.json(
        "aro",
        "create",
        "-g",
        RG,
        "-n",
        "one",
        "--vnet",
        VNET,
        "--master-subnet",
        "master",
        "--worker-subnet",
        "worker",
        "--pull-secret",
        PULL_SECRET,
    )
    assert cluster["provisioningState"] == "Succeeded"
    assert cluster["name"] == "one" and cluster["location"] == LOCATION
    sp = cluster["servicePrincipalProfile"]
    assert sp["clientId"] and "clientSecret" not in sp or sp.get("clientSecret") is None
    # the application az created is real: Graph has it, with its service principal
    app = az.json("ad", "sp", "show", "--id", sp["clientId"])
    assert app["appId"] == sp["clientId"]
    # ... and az gave it and the RP's first-party principal Network Contributor on the vnet
    vnet_id = walk.values["subnets"]["master"].rsplit("/subnets/", 1)[0]
    assigned = az.json("role", "assignment", "list", "--scope", vnet_id)
    roles = {(a["principalName"], a["roleDefinitionName"]) for a in assigned}
    assert {(sp["clientId"], "Network Contributor"), (RP_APP_ID, "Network Contributor")} <= roles, roles
    walk.values["one"] = cluster


def test_a_used_subnet_is_refused(az: Az, walk: Walk) -> None:
    refused = az.fails(
        "aro",
        "create",
        "-g",
        RG,
        "-n",
        "again",
        "--vnet",
        VNET,
        "--master-subnet",
        "master",
        "--worker-subnet",
        "worker",
    )
    # az prints its checks' errors as a table whose cells wrap at 160 characters (where, depends on the NSG id's
    # length): read the cells' words in order
    flat = " ".join(re.sub(r"^\+[-=+]+\+$", " ", refused.stderr, flags=re.M).replace("|", " ").split())
    assert "Network Security Group" in flat and "already assigned" in flat, refused.stderr


def test_aro_create_with_a_service_principal_of_ones_own(az: Az, walk: Walk) -> None:
    app = az.json("ad", "app", "create", "--display-name", "aro-az-two")
    az.json("ad", "sp", "create", "--id", app["appId"])
    secret = az.json("ad", "app", "credential", "reset", "--id", app["appId"])["password"]
    cluster = az.json(
        "aro",
        "create",
        "-g",
        RG,
        "-n",
        "two",
        "--vnet",
        VNET,
        "--master-subnet",
        "master2",
        "--worker-subnet",
        "worker2",
        "--client-id",
        app["appId"],
        "--client-secret",
        secret,
    )
    assert cluster["provisioningState"] == "Succeeded"
    assert cluster["servicePrincipalProfile"]["clientId"] == app["appId"]


def test_list_and_show(az: Az, walk: Walk) -> None:
    table = az.run("aro", "list", "-o", "table").stdout
    lines = table.strip().splitlines()
    assert lines[0].split()[:4] == ["Name", "ResourceGroup", "Location", "ProvisioningState"]
    assert {line.split()[0] for line in lines[2:]} == {"one", "two"}
    shown = az.json("aro", "show", "-g", RG, "-n", "one")
    assert shown["id"] == walk.values["one"]["id"]
    assert shown["consoleProfile"]["url"].startswith("https://")
    assert shown["apiserverProfile"]["url"].startswith("https://")


def test_credentials_and_admin_kubeconfig(az: Az, walk: Walk, tmp_path: Path) -> None:
    creds = az.json("aro", "list-credentials", "-g", RG, "-n", "one")
    assert creds["kubeadminUsername"] == "kubeadmin" and len(creds["kubeadminPassword"]) >= 20
    kubeconfig = tmp_path / "admin.kubeconfig"
    az.run("aro", "get-admin-kubeconfig", "-g", RG, "-n", "one", "-f", str(kubeconfig))
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is on the machine image"
    nodes = subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    names = [n["metadata"]["name"] for n in json.loads(nodes.stdout)["items"]]
    assert len(names) == 6 and sum("master" in n for n in names) == 3


def test_update(az: Az, walk: Walk) -> None:
    updated = az.json("aro", "update", "-g", RG, "-n", "one", "--load-balancer-managed-outbound-ip-count", "2")
    assert updated["provisioningState"] == "Succeeded"
    assert updated["networkProfile"]["loadBalancerProfile"]["managedOutboundIps"]["count"] == 2


def test_delete_then_show_fails(az: Az, walk: Walk) -> None:
    az.run("aro", "delete", "-g", RG, "-n", "two", "--yes")
    missing = az.fails("aro", "show", "-g", RG, "-n", "two")
    assert "ResourceNotFound" in missing.stderr


def test_managed_identity_cluster(az: Az, walk: Walk) -> None:
    role_sets = az.json("aro", "get-versions", "-l", LOCATION)
    assert role_sets, "the RP lists its versions"
    cluster_identity = az.json("identity", "create", "-g", RG, "-n", "aro-cluster")
    args = ["--assign-cluster-identity", cluster_identity["id"]]
    operators = walk_role_set(az)
    for operator in operators:
        identity = az.json("identity", "create", "-g", RG, "-n", f"aro-{operator}")
        args += ["--assign-platform-workload-identity", operator, identity["id"]]
    cluster = az.json(
        "aro",
        "create",
        "-g",
        RG,
        "-n",
        "mi",
        "--vnet",
        VNET,
        "--master-subnet",
        "master3",
        "--worker-subnet",
        "worker3",
        "--enable-managed-identity",
        *args,
    )
    assert cluster["provisioningState"] == "Succeeded"
    shown = az.json("aro", "show", "-g", RG, "-n", "mi")
    identities = shown["platformWorkloadIdentityProfile"]["platformWorkloadIdentities"]
    assert set(identities) == set(operators)
    assert all(v["clientId"] and v["objectId"] for v in identities.values())
    assert shown.get("servicePrincipalProfile") is None


def walk_role_set(az: Az) -> list[str]:
    """The required operators of the newest version's platform workload identity role set."""
    versions = az.json("aro", "get-versions", "-l", LOCATION)
    minor = ".".join(sorted(versions, key=lambda v: [int(p) for p in v.split(".")])[-1].split(".")[:2])
    sets = az.json(
        "rest",
        "--method",
        "get",
        "--url",
        f"/subscriptions/{{subscriptionId}}/providers/Microsoft.RedHatOpenShift/locations/{LOCATION}"
        f"/platformWorkloadIdentityRoleSets/{minor}?api-version=2025-07-25",
    )
    return [r["operatorName"] for r in sets["properties"]["platformWorkloadIdentityRoles"]]


def test_rp_still_serves_direct_calls(az_rp: RPProcess, walk: Walk) -> None:
    with az_rp.client() as c:
        r = c.get(
            f"/subscriptions/{walk.values['sub']}/resourceGroups/{RG}/providers/Microsoft.RedHatOpenShift"
            "/openShiftClusters",
            params={"api-version": "2025-07-25"},
        )
    assert r.status_code == 200 and {x["name"] for x in r.json()["value"]} == {"one", "mi"}
