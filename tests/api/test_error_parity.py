"""ARM parity of the classic cluster's static-validation errors with ARO-RP, through the real HTTP frontend.

``PARITY`` has one row per ARO-RP rule (``pkg/api/v20250725`` and ``pkg/api/v20191231preview``
``openshiftcluster_validatestatic.go``, plus the frontend's version check) per api-version: a body with one
fault, and the status, code, target and message ARO-RP answers, spelt out as it spells them. Each row is
sent to the RP's app (``aro.frontend.app.create_app`` over the embedded store, in process) as a PUT (create)
or, for the update rules, a PATCH of a cluster that exists; the response must be exactly that error, so a
drift in code, target or message fails here.

Where ours differs on purpose, ``docs/api.md`` says so in the table "Deliberate differences from ARO-RP";
``DIFFERENCES`` pins each of its rows, and ``test_every_documented_difference_is_tested`` holds the two
together.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
from aro.api.resource import ProvisioningState
from aro.database.containers import SUBSCRIPTIONS, containers_for
from aro.env.config import load
from aro.frontend.app import create_app
from aro.frontend.services import Readiness, Services
from aro.kinds import registry
from aro.run import catalogs_for, open_store, sealer_for
from aro.util.metrics import Metrics
from tests.api.fixtures import OPERATORS
from tests.fixtures.clusters import PULL_SECRET, cluster_body, subnet_id

V2025, V2019 = "2025-07-25", "2019-12-31-preview"
BOTH = (V2025, V2019)
# A lower-case URL, so it reads the same in our messages and in ARO-RP's (which lower-cases the path: see
# the difference "url-casing"); a subscription with letters, for "subscription-case".
SUB = "abcdef01-2222-4333-8444-555555555555"
OTHER_SUB = "00000000-0000-0000-0000-000000000000"
RG, NAME = "rg-parity", "parity"
CLUSTER = f"/subscriptions/{SUB}/resourcegroups/{RG}/providers/microsoft.redhatopenshift/openshiftclusters/{NAME}"
TYPE = "Microsoft.RedHatOpenShift/openShiftClusters"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"

CP, NP, MP, AP = (f"properties.{p}" for p in ("clusterProfile", "networkProfile", "masterProfile", "apiserverProfile"))
W, W0, I0 = "properties.workerProfiles['worker']", "properties.workerProfiles.0", "properties.ingressProfiles.0"
MASTER = subnet_id(SUB, "master")
DES = f"/subscriptions/{SUB}/resourceGroups/des-rg/providers/Microsoft.Compute/diskEncryptionSets/des1"
RESERVED = (
    "Azure Red Hat OpenShift uses 100.64.0.0/16, 169.254.169.0/29, and 100.88.0.0/16 IP address ranges internally. "
    "Do not include this '{}' IP address range in any other CIDR definitions in your cluster."
)
IP, CIDR_RANGE, NETWORK_ADDRESS = "InvalidParameter", "InvalidCIDRRange", "InvalidNetworkAddress"
PCNA = "PropertyChangeNotAllowed"

Body = dict[str, Any]
Change = Callable[[Body], None]


# --- bodies ------------------------------------------------------------------------------------------------


def body_2025() -> Body:
    """What `az aro create` sends (a service principal cluster)."""
    return cluster_body(
        SUB,
        domain="parity",
        pull_secret=PULL_SECRET,
        client_secret="s3cret",
        outbound_type="",
        master_subnet="master",
        worker_subnet="worker",
    )


def body_2019() -> Body:
    """The same cluster in 2019-12-31-preview's shape: every field given, the pull secret base64 in
    ``properties.pullSecret``; the 2025-only fields are left in (unknown fields are ignored)."""
    body = body_2025()
    body["properties"]["pullSecret"] = base64.b64encode(PULL_SECRET.encode()).decode()
    return body


BASE = {V2025: body_2025, V2019: body_2019}


def setp(path: str, value: Any) -> Change:
    """Set (``DELETE``: remove) ``path`` (dotted; digits index lists) in a body."""

    def change(body: Body) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if value is DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = copy.deepcopy(value)

    return change


DELETE = object()


def both(*changes: Change) -> Change:
    def change(body: Body) -> None:
        for c in changes:
            c(body)

    return change


def patch(path: str, value: Any) -> Body:
    """A PATCH body setting ``path`` (dotted, no list indexes)."""
    body: Body = {}
    setp(path, value)(body)
    return body


def applied(version: str, change: Change) -> Body:
    body = BASE[version]()
    change(body)
    return body


# --- the app -----------------------------------------------------------------------------------------------


class Frontend:
    """The RP's frontend app in process, over an embedded store of its own (development mode)."""

    def __init__(self, client: httpx.AsyncClient, services: Services):
        self.client = client
        self.services = services

    async def put(self, version: str, body: Body, path: str = CLUSTER) -> httpx.Response:
        return await self.client.put(path, params={"api-version": version}, json=body)

    async def patch(self, version: str, body: Body, path: str = CLUSTER) -> httpx.Response:
        return await self.client.patch(path, params={"api-version": version}, json=body)

    async def existing(self, version: str, body: Body | None = None) -> None:
        """Create the cluster and mark it Succeeded in the store (what the backend would do)."""
        r = await self.put(version, BASE[version]() if body is None else body)
        assert r.status_code == 201, r.text
        await self.succeed()

    async def succeed(self) -> None:
        codec = self.services.codec(OPENSHIFT_CLUSTERS)
        container = self.services.store.container(OPENSHIFT_CLUSTERS.container_name)
        doc = await container.get_by_key(CLUSTER.lower(), SUB)
        assert doc is not None
        oc = codec.decode(doc)
        oc.properties.provisioning_state = ProvisioningState.SUCCEEDED
        await container.replace(codec.encode(doc, oc))

    async def reset(self) -> None:
        """Remove every document of the subscription (but its registration): the next case starts afresh."""
        store = self.services.store
        for spec in containers_for(self.services.kinds):
            if spec.name == SUBSCRIPTIONS.name:
                continue
            container = store.container(spec.name)
            while docs := (await container.list_page(partition_key=SUB, max_items=100)).items:
                for doc in docs:
                    await container.delete(doc)


# The cases run on the module's event loop, the one the app and its store live on.
on_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Frontend]:
    """One app and store for the module (building the app is the slow part); each case resets the store."""
    config = load(environ={"ARO_DATA_DIRECTORY": str(tmp_path_factory.mktemp("rp"))})
    served = registry()
    store = await open_store(config, served)
    services = Services(
        config=config,
        store=store,
        sealer=sealer_for(config),
        kinds=served.kinds,
        catalogs=catalogs_for(config),
        metrics=Metrics(),
        readiness=Readiness(store_open=True),
    )
    transport = httpx.ASGITransport(app=create_app(services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://rp") as client:
            yield Frontend(client, services)
    finally:
        await store.close()


@pytest_asyncio.fixture(loop_scope="module")
async def frontend(app: Frontend) -> AsyncIterator[Frontend]:
    await app.reset()
    yield app


def error(r: httpx.Response) -> tuple[int, str, str | None, str]:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) <= {"code", "message", "target"}, r.text
    e = body["error"]
    return r.status_code, e["code"], e.get("target"), e["message"]


# --- one row per ARO-RP rule per api-version ---------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    rule: str
    versions: tuple[str, ...]
    change: Change | None  # of the create body (None: ``update`` is sent instead)
    code: str
    target: str
    message: str
    update: Body | None = None  # a PATCH of the existing cluster


# fmt: off
PARITY: list[Row] = [
    # envelope
    Row("id", BOTH, setp("id", CLUSTER + "x"), "MismatchingResourceID", "id",
        f"The provided resource ID '{CLUSTER}x' did not match the name in the Url '{CLUSTER}'."),
    Row("name", BOTH, setp("name", "other"), "MismatchingResourceName", "name",
        f"The provided resource name 'other' did not match the name in the Url '{NAME}'."),
    Row("type", BOTH, setp("type", "Microsoft.Compute/virtualMachines"), "MismatchingResourceType", "type",
        f"The provided resource type 'Microsoft.Compute/virtualMachines' did not match the name in the Url '{TYPE}'."),
    Row("location", BOTH, setp("location", "westus"), IP, "location", "The provided location 'westus' is invalid."),
    Row("provisioning-state", BOTH, setp("properties.provisioningState", "Bogus"), IP, "properties.provisioningState",
        "The provided provisioning state 'Bogus' is invalid."),
    # cluster profile
    Row("pull-secret-json", (V2025,), setp(f"{CP}.pullSecret", "hunter2"), IP, f"{CP}.pullSecret",
        "The provided pull secret is invalid."),
    Row("pull-secret-auths", (V2025,), setp(f"{CP}.pullSecret", '{"auths": []}'), IP, f"{CP}.pullSecret",
        "The provided pull secret is invalid."),
    Row("domain", BOTH, setp(f"{CP}.domain", "Bad_Domain"), IP, f"{CP}.domain",
        "The provided domain 'Bad_Domain' is invalid."),
    Row("domain-one-letter", BOTH, setp(f"{CP}.domain", "a"), IP, f"{CP}.domain",
        "The provided domain 'a' is invalid."),
    Row("domain-other-location", BOTH, setp(f"{CP}.domain", "cluster.westus.aroapp.io"), IP, f"{CP}.domain",
        "The provided domain 'cluster.westus.aroapp.io' is invalid."),
    Row("domain-two-labels", BOTH, setp(f"{CP}.domain", "foo.bar.eastus.aroapp.io"), IP, f"{CP}.domain",
        "The provided domain 'foo.bar.eastus.aroapp.io' is invalid."),
    Row("resource-group", BOTH, setp(f"{CP}.resourceGroupId", "aro-x"), IP, f"{CP}.resourceGroupId",
        "The provided resource group 'aro-x' is invalid."),
    Row("resource-group-subscription", BOTH,
        setp(f"{CP}.resourceGroupId", f"/subscriptions/{OTHER_SUB}/resourceGroups/aro-x"), IP, f"{CP}.resourceGroupId",
        f"The provided resource group '/subscriptions/{OTHER_SUB}/resourceGroups/aro-x' is invalid: must be in same "
        "subscription as cluster."),
    Row("resource-group-cluster", BOTH, setp(f"{CP}.resourceGroupId", f"/subscriptions/{SUB}/resourceGroups/{RG}"), IP,
        f"{CP}.resourceGroupId",
        f"The provided resource group '/subscriptions/{SUB}/resourceGroups/{RG}' is invalid: must be different from "
        "resourceGroup of the OpenShift cluster object."),
    Row("fips", (V2025,), setp(f"{CP}.fipsValidatedModules", "Yes"), IP, f"{CP}.fipsValidatedModules",
        "The provided value 'Yes' is invalid."),
    Row("version", BOTH, setp(f"{CP}.version", "4.99.1"), IP, f"{CP}.version",
        "The requested OpenShift version '4.99.1' is invalid."),
    # service principal
    Row("client-id", BOTH, setp("properties.servicePrincipalProfile.clientId", "x"), IP,
        "properties.servicePrincipalProfile.clientId", "The provided client ID 'x' is invalid."),
    Row("client-secret", BOTH, setp("properties.servicePrincipalProfile.clientSecret", ""), IP,
        "properties.servicePrincipalProfile.clientSecret", "The provided client secret is invalid."),
    # network
    Row("pod-cidr", BOTH, setp(f"{NP}.podCidr", "invalid"), IP, f"{NP}.podCidr",
        "The provided pod CIDR 'invalid' is invalid: 'invalid CIDR address: invalid'."),
    Row("pod-cidr-ipv4", BOTH, setp(f"{NP}.podCidr", "::0/0"), IP, f"{NP}.podCidr",
        "The provided pod CIDR '::0/0' is invalid: must be IPv4."),
    Row("pod-cidr-reserved", BOTH, setp(f"{NP}.podCidr", "100.64.0.0/18"), CIDR_RANGE, NP,
        RESERVED.format("100.64.0.0/18")),
    Row("pod-cidr-size", BOTH, setp(f"{NP}.podCidr", "10.0.0.0/19"), IP, f"{NP}.podCidr",
        "The provided vnet CIDR '10.0.0.0/19' is invalid: must be /18 or larger."),
    Row("pod-cidr-address", BOTH, setp(f"{NP}.podCidr", "10.254.0.0/14"), NETWORK_ADDRESS, f"{NP}.podCidr",
        "The provided pod CIDR '10.254.0.0/14' is invalid, expecting: '10.252.0.0/14'."),
    Row("service-cidr", BOTH, setp(f"{NP}.serviceCidr", "invalid"), IP, f"{NP}.serviceCidr",
        "The provided service CIDR 'invalid' is invalid: 'invalid CIDR address: invalid'."),
    Row("service-cidr-ipv4", BOTH, setp(f"{NP}.serviceCidr", "::0/0"), IP, f"{NP}.serviceCidr",
        "The provided service CIDR '::0/0' is invalid: must be IPv4."),
    Row("service-cidr-reserved", BOTH, setp(f"{NP}.serviceCidr", "169.254.169.1/29"), CIDR_RANGE, NP,
        RESERVED.format("169.254.169.1/29")),
    Row("service-cidr-size", BOTH, setp(f"{NP}.serviceCidr", "172.30.0.0/23"), IP, f"{NP}.serviceCidr",
        "The provided vnet CIDR '172.30.0.0/23' is invalid: must be /22 or larger."),
    Row("service-cidr-address", BOTH, setp(f"{NP}.serviceCidr", "172.30.150.0/16"), NETWORK_ADDRESS,
        f"{NP}.serviceCidr", "The provided service CIDR '172.30.150.0/16' is invalid, expecting: '172.30.0.0/16'."),
    Row("outbound-type", (V2025,), setp(f"{NP}.outboundType", "invalid"), IP, f"{NP}.outboundType",
        "The provided outboundType 'invalid' is invalid: must be UserDefinedRouting or Loadbalancer."),
    Row("udr-public", (V2025,), setp(f"{NP}.outboundType", "UserDefinedRouting"), IP, f"{NP}.outboundType",
        "The provided outboundType 'UserDefinedRouting' is invalid: cannot use UserDefinedRouting if either API "
        "Server Visibility or Ingress Visibility is public."),
    Row("udr-load-balancer", (V2025,),
        both(setp(f"{NP}.outboundType", "UserDefinedRouting"), setp(f"{AP}.visibility", "Private"),
             setp(f"{I0}.visibility", "Private"),
             setp(f"{NP}.loadBalancerProfile", {"managedOutboundIps": {"count": 1}})),
        IP, f"{NP}.loadBalancerProfile",
        "The provided loadBalancerProfile is invalid: cannot use a loadBalancerProfile if outboundType is "
        "UserDefinedRouting."),
    Row("outbound-ips-0", (V2025,), setp(f"{NP}.loadBalancerProfile", {"managedOutboundIps": {"count": 0}}), IP,
        f"{NP}.loadBalancerProfile.managedOutboundIps.count",
        "The provided managedOutboundIps.count 0 is invalid: managedOutboundIps.count must be in the range of 1 to "
        "20 (inclusive)."),
    Row("outbound-ips-21", (V2025,), setp(f"{NP}.loadBalancerProfile", {"managedOutboundIps": {"count": 21}}), IP,
        f"{NP}.loadBalancerProfile.managedOutboundIps.count",
        "The provided managedOutboundIps.count 21 is invalid: managedOutboundIps.count must be in the range of 1 to "
        "20 (inclusive)."),
    # master
    Row("master-vm-size", BOTH, setp(f"{MP}.vmSize", "Standard_D2s_v3"), IP, f"{MP}.vmSize",
        "The provided VM size 'Standard_D2s_v3' is invalid for the 'master' role."),
    Row("master-vm-size-version", BOTH, setp(f"{MP}.vmSize", "Standard_D8s_v6"), IP, f"{MP}.vmSize",
        "The provided master VM size 'Standard_D8s_v6' is invalid for the chosen OpenShift version."),
    Row("master-subnet", BOTH, setp(f"{MP}.subnetId", "invalid"), IP, f"{MP}.subnetId",
        "The provided master VM subnet 'invalid' is invalid."),
    Row("master-subnet-subscription", BOTH,
        both(setp(f"{MP}.subnetId", subnet_id(OTHER_SUB, "master")),
             setp(f"{W0}.subnetId", subnet_id(OTHER_SUB, "worker"))),
        IP, f"{MP}.subnetId",
        f"The provided master VM subnet '{subnet_id(OTHER_SUB, 'master')}' is invalid: must be in same subscription "
        "as cluster."),
    Row("master-encryption-at-host", (V2025,), setp(f"{MP}.encryptionAtHost", "Banana"), IP,
        f"{MP}.encryptionAtHost", "The provided value 'Banana' is invalid."),
    Row("master-des", (V2025,), setp(f"{MP}.diskEncryptionSetId", "invalid"), IP, f"{MP}.diskEncryptionSetId",
        "The provided master disk encryption set 'invalid' is invalid."),
    Row("master-des-subscription", (V2025,), setp(f"{MP}.diskEncryptionSetId", DES.replace(SUB, OTHER_SUB)), IP,
        f"{MP}.diskEncryptionSetId",
        f"The provided master disk encryption set '{DES.replace(SUB, OTHER_SUB)}' is invalid: must be in same "
        "subscription as cluster."),
    Row("apiserver-visibility", BOTH, setp(f"{AP}.visibility", "invalid"), IP, f"{AP}.visibility",
        "The provided visibility 'invalid' is invalid."),
    # workers (create)
    Row("worker-profiles-status", (V2025,), setp("properties.workerProfilesStatus", [{"name": "worker", "count": 3}]),
        IP, "properties.workerProfilesStatus", "Worker Profile Status must be set to nil."),
    Row("worker-profiles", (V2025,), setp("properties.workerProfiles", []), IP, "properties.workerProfiles",
        "There should be exactly one worker profile."),
    Row("worker-name", BOTH, setp(f"{W0}.name", "invalid"), IP, "properties.workerProfiles['invalid'].name",
        "The provided worker name 'invalid' is invalid."),
    Row("worker-vm-size", BOTH, setp(f"{W0}.vmSize", "Standard_D2s_v3"), IP, f"{W}.vmSize",
        "The provided VM size 'Standard_D2s_v3' is invalid for the 'worker' role."),
    Row("worker-vm-size-version", BOTH, setp(f"{W0}.vmSize", "Standard_D8s_v6"), IP, f"{W}.vmSize",
        "The provided worker VM size 'Standard_D8s_v6' is invalid for the chosen OpenShift version."),
    Row("worker-disk", BOTH, setp(f"{W0}.diskSizeGB", 127), IP, f"{W}.diskSizeGB",
        "The provided worker disk size '127' is invalid."),
    Row("worker-subnet", BOTH, setp(f"{W0}.subnetId", "invalid"), IP, f"{W}.subnetId",
        "The provided worker VM subnet 'invalid' is invalid."),
    Row("worker-encryption-at-host", (V2025,), setp(f"{W0}.encryptionAtHost", "Banana"), IP, f"{W}.encryptionAtHost",
        "The provided value 'Banana' is invalid."),
    Row("worker-subnet-vnet", BOTH, setp(f"{W0}.subnetId", subnet_id(SUB, "worker", vnet="other-vnet")), IP,
        f"{W}.subnetId",
        f"The provided worker VM subnet '{subnet_id(SUB, 'worker', vnet='other-vnet')}' is invalid: must be in the "
        f"same vnet as master VM subnet '{MASTER}'."),
    Row("worker-subnet-master", BOTH, setp(f"{W0}.subnetId", MASTER), IP, f"{W}.subnetId",
        f"The provided worker VM subnet '{MASTER}' is invalid: must be different to master VM subnet '{MASTER}'."),
    Row("worker-count-1", BOTH, setp(f"{W0}.count", 1), IP, f"{W}.count", "The provided worker count '1' is invalid."),
    Row("worker-count-51", BOTH, setp(f"{W0}.count", 51), IP, f"{W}.count",
        "The provided worker count '51' is invalid."),
    # ingress (create)
    Row("ingress-profiles", (V2025,), setp("properties.ingressProfiles", []), IP, "properties.ingressProfiles",
        "There should be exactly one ingress profile."),
    Row("ingress-name", BOTH, setp(f"{I0}.name", "invalid"), IP, "properties.ingressProfiles['invalid'].name",
        "The provided ingress name 'invalid' is invalid."),
    Row("ingress-visibility", BOTH, setp(f"{I0}.visibility", "invalid"), IP,
        "properties.ingressProfiles['default'].visibility", "The provided visibility 'invalid' is invalid."),
    # update (PATCH of an existing cluster)
    Row("change-location", BOTH, None, IP, "location",
        "The provided location 'westus' is invalid.", update={"location": "westus"}),
    Row("change-provisioning-state", BOTH, None, PCNA,
        "properties.provisioningState", "Changing property 'properties.provisioningState' is not allowed.",
        update=patch("properties.provisioningState", "Deleting")),
    Row("change-domain", BOTH, None, PCNA, f"{CP}.domain",
        f"Changing property '{CP}.domain' is not allowed.", update=patch(f"{CP}.domain", "other")),
    Row("change-pod-cidr", BOTH, None, PCNA, f"{NP}.podCidr",
        f"Changing property '{NP}.podCidr' is not allowed.", update=patch(f"{NP}.podCidr", "10.0.0.0/14")),
    Row("change-master-subnet", BOTH, None, PCNA, f"{MP}.subnetId",
        f"Changing property '{MP}.subnetId' is not allowed.", update=patch(f"{MP}.subnetId", subnet_id(SUB, "m2"))),
    Row("change-worker-count", (V2025,), None, PCNA, f"{W}.count",
        f"Changing property '{W}.count' is not allowed.",
        update=patch("properties.workerProfiles", [{"name": "worker", "count": 4}])),
]
# fmt: on

CASES = [(row, v) for row in PARITY for v in row.versions]


def test_rows_are_unique() -> None:
    assert len({r.rule for r in PARITY}) == len(PARITY)


@on_module_loop
@pytest.mark.parametrize(("row", "version"), CASES, ids=[f"{v}-{r.rule}" for r, v in CASES])
async def test_error_matches_aro_rp(frontend: Frontend, row: Row, version: str) -> None:
    if row.change is not None:
        r = await frontend.put(version, applied(version, row.change))
    else:
        assert row.update is not None
        await frontend.existing(version)
        r = await frontend.patch(version, row.update)
    assert error(r) == (400, row.code, row.target, row.message)


@on_module_loop
@pytest.mark.parametrize("version", BOTH)
async def test_the_base_body_is_valid(frontend: Frontend, version: str) -> None:
    """Every row is a one-fault change of this body, so it must be accepted."""
    r = await frontend.put(version, BASE[version]())
    assert r.status_code == 201, r.text


# --- the deliberate differences ----------------------------------------------------------------------------


async def expect(r: httpx.Response, status: int, code: str = "", target: str | None = None, message: str = "") -> None:
    if status < 400:
        assert r.status_code == status, r.text
    else:
        assert error(r) == (status, code, target, message)


async def url_casing(f: Frontend) -> None:
    path = CLUSTER.replace(NAME, "Parity")
    r = await f.put(V2025, body_2025() | {"name": "other"}, path)
    await expect(
        r,
        400,
        "MismatchingResourceName",
        "name",
        "The provided resource name 'other' did not match the name in the Url 'Parity'.",
    )


async def location_display_name(f: Frontend) -> None:
    await expect(await f.put(V2025, body_2025() | {"location": "East US"}), 201)


async def missing_profiles(f: Frontend) -> None:
    r = await f.put(V2025, applied(V2025, setp(NP, DELETE)))
    await expect(r, 400, IP, NP, f"The field '{NP}' is required.")


async def create_defaults(f: Frontend) -> None:
    change = both(
        *(
            setp(p, DELETE)
            for p in (
                f"{CP}.domain",
                f"{CP}.resourceGroupId",
                f"{CP}.fipsValidatedModules",
                f"{MP}.encryptionAtHost",
                f"{W0}.encryptionAtHost",
                f"{NP}.outboundType",
                f"{NP}.preconfiguredNSG",
            )
        )
    )
    await expect(await f.put(V2025, applied(V2025, change)), 201)


async def read_only_fields(f: Frontend) -> None:
    change = both(
        setp("properties.consoleProfile", {"url": "\x00"}),
        setp(f"{AP}.ip", "invalid"),
        setp(f"{I0}.ip", "::"),
        setp(f"{NP}.loadBalancerProfile", {"effectiveOutboundIps": [{"id": "x"}]}),
    )
    await f.existing(V2025, applied(V2025, change))
    await expect(await f.patch(V2025, patch(f"{AP}.ip", "1.2.3.4")), 200)


async def type_errors(f: Frontend) -> None:
    r = await f.put(V2025, applied(V2025, setp(f"{W0}.count", "three")))
    target = "properties.workerProfiles[0].count"
    await expect(
        r,
        400,
        "InvalidRequestContent",
        target,
        f"The request content was invalid and could not be deserialized: the value of '{target}' is invalid: "
        "Input should be an integer.",
    )


async def tags(f: Frontend) -> None:
    r = await f.put(V2025, body_2025() | {"tags": {f"k{i}": "v" for i in range(51)}})
    await expect(r, 400, IP, "tags", "The number of tags (51) exceeds the maximum of 50.")


async def domain_length(f: Frontend) -> None:
    domain = ".".join(["a" * 63] * 4)  # 255 characters, every label valid
    r = await f.put(V2025, applied(V2025, setp(f"{CP}.domain", domain)))
    await expect(r, 400, IP, f"{CP}.domain", f"The provided domain '{domain}' is invalid.")


async def cidr_overlap(f: Frontend) -> None:
    r = await f.put(V2025, applied(V2025, setp(f"{NP}.serviceCidr", "10.130.0.0/16")))
    await expect(
        r,
        400,
        CIDR_RANGE,
        f"{NP}.serviceCidr",
        "The provided service CIDR '10.130.0.0/16' is invalid: must not overlap the pod CIDR '10.128.0.0/14'.",
    )


async def empty_load_balancer_profile(f: Frontend) -> None:
    udr = both(
        setp(f"{NP}.outboundType", "UserDefinedRouting"),
        setp(f"{AP}.visibility", "Private"),
        setp(f"{I0}.visibility", "Private"),
        setp(f"{NP}.loadBalancerProfile", {}),
    )
    await expect(await f.put(V2025, applied(V2025, udr)), 201)
    await f.reset()
    await f.existing(V2025, applied(V2025, setp(f"{NP}.loadBalancerProfile", {"managedOutboundIps": {}})))
    r = await f.client.get(CLUSTER, params={"api-version": V2025})
    assert r.json()["properties"]["networkProfile"]["loadBalancerProfile"]["managedOutboundIps"] == {"count": 1}


async def preconfigured_nsg(f: Frontend) -> None:
    r = await f.put(V2025, applied(V2025, setp(f"{NP}.preconfiguredNSG", "Yes")))
    await expect(r, 400, IP, f"{NP}.preconfiguredNSG", "The provided value 'Yes' is invalid.")


async def worker_des_target(f: Frontend) -> None:
    r = await f.put(V2025, applied(V2025, setp(f"{MP}.diskEncryptionSetId", DES)))
    await expect(
        r,
        400,
        IP,
        f"{W}.diskEncryptionSetId",
        f"The provided worker disk encryption set '' is invalid: must be the same as master disk encryption "
        f"set '{DES}'.",
    )


async def subscription_case(f: Frontend) -> None:
    upper = SUB.upper()
    change = both(
        setp(f"{CP}.resourceGroupId", f"/subscriptions/{upper}/resourceGroups/aro-parity"),
        setp(f"{MP}.subnetId", subnet_id(upper, "master")),
        setp(f"{W0}.subnetId", subnet_id(upper, "worker")),
        setp(f"{MP}.diskEncryptionSetId", DES.replace(SUB, upper)),
        setp(f"{W0}.diskEncryptionSetId", DES.replace(SUB, upper)),
    )
    await expect(await f.put(V2025, applied(V2025, change)), 201)


async def id_case_on_update(f: Frontend) -> None:
    await f.existing(V2025)
    await expect(await f.patch(V2025, patch(f"{MP}.subnetId", MASTER.upper())), 200)


async def vm_size_typo(f: Frontend) -> None:
    r = await f.put(V2025, applied(V2025, setp(f"{W0}.vmSize", "Standard_D16lds_v6")))
    await expect(
        r,
        400,
        IP,
        f"{W}.vmSize",
        "The provided worker VM size 'Standard_D16lds_v6' is invalid for the chosen OpenShift version.",
    )


async def rule_order_on_update(f: Frontend) -> None:
    await f.existing(V2025)
    r = await f.patch(V2025, patch(f"{AP}.visibility", "invalid"))
    await expect(r, 400, PCNA, f"{AP}.visibility", f"Changing property '{AP}.visibility' is not allowed.")


async def v2019_pull_secret(f: Frontend) -> None:
    r = await f.put(V2019, applied(V2019, setp("properties.pullSecret", "not base64!")))
    await expect(r, 400, IP, "properties.pullSecret", "The provided pull secret is not valid base64.")
    r = await f.put(V2019, applied(V2019, setp("properties.pullSecret", base64.b64encode(b"hunter2").decode())))
    await expect(r, 400, IP, "properties.pullSecret", "The provided pull secret is invalid.")


async def v2019_lenient_create(f: Frontend) -> None:
    pull_secret = base64.b64encode(PULL_SECRET.encode()).decode()
    await expect(await f.put(V2019, {"location": "eastus", "properties": {"pullSecret": pull_secret}}), 201)


async def v2019_worker_count(f: Frontend) -> None:
    await f.existing(V2019)
    r = await f.patch(V2019, patch("properties.workerProfiles", [{"name": "worker", "count": 51}]))
    await expect(r, 400, IP, f"{W}.count", "The provided worker count '51' is invalid.")
    await expect(await f.patch(V2019, patch("properties.workerProfiles", [{"name": "worker", "count": 4}])), 200)


async def role_set_unknown_version(f: Frontend) -> None:
    path = f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/locations/eastus/platformWorkloadIdentityRoleSets"
    r = await f.client.get(f"{path}/4.99", params={"api-version": V2025})
    message = (
        "The Resource platformWorkloadIdentityRoleSet with version '4.99' was not found in the namespace "
        "'Microsoft.RedHatOpenShift' for api version '2025-07-25'."
    )
    assert r.status_code == 404 and r.json()["error"]["message"] == message, r.text


async def cluster_identity_malformed(f: Frontend) -> None:
    def msi(name: str) -> str:
        return (
            f"/subscriptions/{SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        )

    body = BASE[V2025]()
    del body["properties"]["servicePrincipalProfile"]
    body["properties"]["platformWorkloadIdentityProfile"] = {
        "platformWorkloadIdentities": {op: {"resourceId": msi(op)} for op in OPERATORS}
    }
    wrong = f"/subscriptions/{SUB}/resourceGroups/ids/providers/Microsoft.Compute/virtualMachines/vm"
    body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {wrong: {}}}
    r = await f.put(V2025, body)
    message = f"The provided user-assigned identity '{wrong}' is invalid."
    await expect(r, 400, IP, "identity.userAssignedIdentities", message)


async def duplicate_subnet(f: Frontend) -> None:
    await f.existing(V2025)
    other = cluster_body(
        SUB, domain="other", pull_secret=PULL_SECRET, client_secret="s3cret", master_subnet="master", worker_subnet="w2"
    )
    r = await f.put(V2025, other, CLUSTER.replace(NAME, "other"))
    message = f"The provided subnet '{MASTER}' is already in use by another cluster."
    await expect(r, 400, "InvalidLinkedVNet", f"{MP}.subnetId", message)


DIFFERENCES: dict[str, Callable[[Frontend], Any]] = {
    "url-casing": url_casing,
    "location-display-name": location_display_name,
    "missing-profiles": missing_profiles,
    "create-defaults": create_defaults,
    "read-only-fields": read_only_fields,
    "type-errors": type_errors,
    "tags": tags,
    "domain-length": domain_length,
    "cidr-overlap": cidr_overlap,
    "empty-load-balancer-profile": empty_load_balancer_profile,
    "preconfigured-nsg": preconfigured_nsg,
    "worker-des-target": worker_des_target,
    "subscription-case": subscription_case,
    "id-case-on-update": id_case_on_update,
    "vm-size-typo": vm_size_typo,
    "rule-order-on-update": rule_order_on_update,
    "v2019-pull-secret": v2019_pull_secret,
    "v2019-lenient-create": v2019_lenient_create,
    "v2019-worker-count": v2019_worker_count,
    "role-set-unknown-version": role_set_unknown_version,
    "cluster-identity-malformed": cluster_identity_malformed,
    "duplicate-subnet": duplicate_subnet,
}


@on_module_loop
@pytest.mark.parametrize("rule", list(DIFFERENCES))
async def test_documented_difference(frontend: Frontend, rule: str) -> None:
    await DIFFERENCES[rule](frontend)


def documented_differences() -> list[str]:
    """The first column (a `rule` id) of every row of the docs table "Deliberate differences from ARO-RP"."""
    text = DOCS.read_text()
    start = text.index("### Deliberate differences from ARO-RP")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        m = re.match(r"^\| `([a-z0-9-]+)` \|", line)
        if m:
            rows.append(m[1])
    return rows


def test_every_documented_difference_is_tested() -> None:
    documented = documented_differences()
    assert documented, "docs/api.md has no table 'Deliberate differences from ARO-RP'"
    assert len(documented) == len(set(documented))
    assert set(documented) == set(DIFFERENCES)
