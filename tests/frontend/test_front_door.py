"""The simulator as ARM's front door, end to end: a real `aro rp` (frontend + hosted simulator), real tokens
from the simulator's token endpoint (azure-identity's ``ClientSecretCredential``), and

- the official SDKs' own tests (``test_sdk``: azure-mgmt-redhatopenshift; ``test_sdk_lifecycle``:
  azure-mgmt-redhatopenshifthcp with kubectl), unchanged, with the base URL switched to the front door;
- raw HTTP where ARM's mechanics are the point: systemData from the caller's token (never from the caller's
  headers), Azure-AsyncOperation / Location / nextLink pointing at the front door and followed through it,
  401 / 400 / 404 answered by the front door without the RP ever seeing the request;
- a production RP, which only the ARM client certificate the front doors present gets through (`aro rp`'s
  hosted one, and `aro simulator` alone, linked by configuration); then gone: 502.

The RP keeps serving direct calls: ``test_sdk`` and ``test_sdk_lifecycle`` run direct in their own modules.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.redhatopenshift import AzureRedHatOpenShiftClient
from azure.mgmt.redhatopenshifthcp import RedHatOpenShiftHcpMgmtClient

from aro.cloud.simulator import SimulatorConfig, create_app
from aro.cloud.simulator._errors import ArmError
from tests.conftest import RPProcess, free_port
from tests.frontend import test_sdk as classic
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm, cli_body, cluster_path, error_of, new_sub, rg_list_path
from tests.hcp import test_sdk_lifecycle as hosted
from tests.security.test_production import make_certs, start_production

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "5b0e2b8a-3c64-4f57-9c1c-7d4f0c1a2b3c"  # a service principal; the secret is the simulator token
SECRET = "aro-simulator-token"  # cloud.simulator.token's default


def credential(sim_url: str, ca: Path) -> ClientSecretCredential:
    return ClientSecretCredential(
        TENANT, CLIENT_ID, SECRET, authority=sim_url, connection_verify=str(ca), disable_instance_discovery=True
    )


class Door:
    """The front door of one `aro rp` (its hosted simulator): URL, a credential, clients with its token."""

    def __init__(self, rp: RPProcess) -> None:
        self.rp = rp
        self.port = int(str(rp.ready_info()["simulator"]).rsplit(":", 1)[1])
        self.url = f"https://localhost:{self.port}"  # as a person would type it (the certificate has both)
        self.credential = credential(self.url, rp.ca_file)

    def token(self) -> str:
        return self.credential.get_token("https://management.azure.com/.default").token

    def arm(self, bearer: str | None = None, *, anonymous: bool = False) -> Arm:
        """The suite's checking ARM client on the front door (the CA is `aro rp`'s generated one), with the
        credential's token, or ``bearer``, or no Authorization header at all."""
        door = RPProcess(self.rp.data_dir, self.port)  # not a process: an address
        headers = {} if anonymous else {"Authorization": f"Bearer {bearer or self.token()}"}
        return Arm(door, headers=headers)

    def prepare(self, sub: str, group: str) -> None:
        """What ARM wants before it calls the RP (as `az provider register` and `az group create` do): the
        subscription registered with the namespace (the RP gets ARM's notification) and the resource group."""
        with self.arm() as a:
            r = a.post(f"/subscriptions/{sub}/providers/Microsoft.RedHatOpenShift/register", version="2021-04-01")
            assert r.status_code == 200 and r.json()["registrationState"] == "Registered", r.text
            r = a.put(f"/subscriptions/{sub}/resourcegroups/{group}", {"location": "eastus"}, version="2022-09-01")
            assert r.status_code in (200, 201), r.text


@pytest.fixture(scope="module")
def door_rp(start_rp: StartRP) -> RPProcess:
    return start_rp(ARO_FRONTEND_PAGE_SIZE=str(classic.PAGE_SIZE))  # what test_sdk's paging expects


@pytest.fixture(scope="module")
def door(door_rp: RPProcess) -> Iterator[Door]:
    d = Door(door_rp)
    yield d
    d.credential.close()


# --- the SDKs' own tests, through the front door ------------------------------------------------------------


def test_the_classic_sdk_through_the_front_door(door: Door, door_rp: RPProcess) -> None:
    sub = new_sub()
    door.prepare(sub, "rg")  # ARM refuses a resource in a missing group before the RP is called
    c = AzureRedHatOpenShiftClient(
        door.credential, sub, base_url=door.url, connection_verify=str(door_rp.ca_file), polling_interval=0.05
    )
    with c:
        classic.test_sdk_create_get_list_update_credentials_delete((c, sub))
        one = c.open_shift_clusters.get("rg", "sdk-01")
    system = one.system_data
    assert system is not None and (system.created_by, system.created_by_type) == (CLIENT_ID, "Application")
    assert system.created_at is not None and abs(system.created_at.timestamp() - time.time()) < 600


def test_the_hcp_sdk_through_the_front_door(door: Door, door_rp: RPProcess, tmp_path: Path) -> None:
    sub = new_sub()
    door.prepare(sub, "hcp-rg")
    c = RedHatOpenShiftHcpMgmtClient(
        door.credential, sub, base_url=door.url, connection_verify=str(door_rp.ca_file), polling_interval=0.05
    )
    with c:
        hosted.test_the_sdk_drives_a_hosted_cluster_and_kubectl_follows((c, sub), door_rp, tmp_path)


# --- ARM's mechanics ----------------------------------------------------------------------------------------


def test_system_data_comes_from_the_token_and_async_urls_point_at_the_front_door(
    door: Door, door_rp: RPProcess
) -> None:
    sub, name = new_sub(), "sysdata"
    door.prepare(sub, "rg")
    forged = {"createdBy": "mallory@example.com", "createdByType": "User", "lastModifiedBy": "mallory@example.com"}
    with door.arm() as a, Arm(door_rp) as direct:
        r = a.put(
            cluster_path(sub, "rg", name),
            cli_body(sub, name),
            headers={"x-ms-arm-resource-system-data": json.dumps(forged), "x-ms-client-principal-name": "mallory"},
        )
        assert r.status_code == 201, r.text
        status_url = r.headers["azure-asyncoperation"]
        assert status_url.startswith(f"{door.url}/subscriptions/{sub}/providers/Microsoft.RedHatOpenShift/"), r.headers
        assert a.wait_operation(status_url)["status"] == "Succeeded"

        stored = direct.get(cluster_path(sub, "rg", name)).json()["systemData"]  # what the RP persisted
        assert (stored["createdBy"], stored["createdByType"]) == (CLIENT_ID, "Application")
        assert (stored["lastModifiedBy"], stored["lastModifiedByType"]) == (CLIENT_ID, "Application")
        created = stored["createdAt"]

        r = a.patch(cluster_path(sub, "rg", name), {"tags": {"k": "v"}})
        assert r.status_code == 200 and r.headers["azure-asyncoperation"].startswith(door.url), r.headers
        a.wait_operation(r.headers["azure-asyncoperation"])
        patched = direct.get(cluster_path(sub, "rg", name)).json()["systemData"]
        assert patched["createdAt"] == created and patched["lastModifiedAt"] >= created
        assert patched["lastModifiedBy"] == CLIENT_ID

        r = a.delete(cluster_path(sub, "rg", name))
        assert r.status_code == 202, r.text
        assert r.headers["location"].startswith(f"{door.url}/subscriptions/{sub}/providers/"), r.headers
        assert r.headers["azure-asyncoperation"].startswith(door.url), r.headers
        deadline = time.monotonic() + 30
        while (polled := a.absolute(r.headers["location"])).status_code == 202:  # Location: 202 until done
            assert polled.headers["location"].startswith(door.url), polled.headers
            assert time.monotonic() < deadline, "the delete did not finish"
            time.sleep(0.05)
        assert polled.status_code == 204, polled.text
        assert a.get(cluster_path(sub, "rg", name)).status_code == 404


def test_next_links_point_at_the_front_door_and_page_through_it(door: Door, door_rp: RPProcess) -> None:
    sub = new_sub()
    door.prepare(sub, "rg")
    names = ["page-a", "page-b", "page-c"]
    with door.arm() as a:
        for n in names:
            a.start_create(sub, "rg", n)
        seen: list[str] = []
        r = a.get(rg_list_path(sub, "rg"), params={"$top": "2"})
        while True:
            assert r.status_code == 200, r.text
            page = r.json()
            seen += [c["name"] for c in page["value"]]
            if not page.get("nextLink"):
                break
            assert page["nextLink"].startswith(f"{door.url}{rg_list_path(sub, 'rg')}?"), page["nextLink"]
            r = a.absolute(page["nextLink"])
    assert sorted(seen) == names and len(seen) == 3


def test_the_front_door_answers_for_arm_and_the_rp_never_sees_it(door: Door, door_rp: RPProcess) -> None:
    sub, marker = new_sub(), f"never-{uuid.uuid4().hex[:12]}"
    door.prepare(sub, "rg")
    path = cluster_path(sub, "rg", marker)
    with door.arm(anonymous=True) as anonymous:
        r = anonymous.get(path)
        assert r.status_code == 401 and error_of(r)["code"] == "AuthenticationFailed", r.text
    with door.arm("not-a-token") as forged:
        r = forged.get(path)
        assert r.status_code == 401 and error_of(r)["code"] == "InvalidAuthenticationToken", r.text
    with door.arm() as a:
        r = a.get(path, version=None)
        assert r.status_code == 400 and error_of(r)["code"] == "MissingApiVersionParameter", r.text
        r = a.get(cluster_path(new_sub(), "rg", marker))  # a subscription that never registered the namespace
        assert r.status_code == 409 and error_of(r)["code"] == "MissingSubscriptionRegistration", r.text
        r = a.put(cluster_path(sub, "no-such-group", marker), cli_body(sub, marker))
        assert r.status_code == 404 and error_of(r)["code"] == "ResourceGroupNotFound", r.text
        # the same path with everything ARM wants does reach the RP (and shows up in its log)
        seen = f"seen-{uuid.uuid4().hex[:12]}"
        assert a.get(cluster_path(sub, "rg", seen)).status_code == 404
        _until(lambda: seen in door_rp.log(), "the RP's log line of a forwarded request")
        requests = a.client.get("/simulator/requests").json()["value"]
    assert marker not in door_rp.log(), "a request the front door refused reached the RP"
    refused = [e["status"] for e in requests if marker in e["path"]]
    assert sorted(refused) == [400, 401, 401, 404, 409], refused


def test_one_get_through_the_front_door_costs_little_more_than_direct(
    door: Door, door_rp: RPProcess, record_property: Callable[[str, Any], None]
) -> None:
    sub = new_sub()
    door.prepare(sub, "rg")
    with door.arm() as a, Arm(door_rp) as direct:
        a.create(sub, "rg", "latency")
        path = cluster_path(sub, "rg", "latency")

        def median_ms(client: Arm) -> float:
            times = []
            for _ in range(60):
                started = time.perf_counter()
                assert client.get(path).status_code == 200
                times.append(time.perf_counter() - started)
            return statistics.median(times[10:]) * 1000  # after the connections are warm

        direct_ms, door_ms = median_ms(direct), median_ms(a)
    record_property("direct_get_ms", round(direct_ms, 2))
    record_property("front_door_get_ms", round(door_ms, 2))
    assert door_ms - direct_ms < 100, (direct_ms, door_ms)  # a guard against a handshake or a reconnect per call


async def test_the_subscription_notification_reaches_the_rp(door_rp: RPProcess, tmp_path: Path) -> None:
    """What the providers' register action sends (``FrontDoor.notify_subscription``), from a simulator linked to
    the RP: a Suspended subscription refuses a cluster PUT; a state the RP does not know is its error."""
    app = create_app(SimulatorConfig(tmp_path / "sim"))
    app.front_door.link(door_rp.base_url, door_rp.ca_file.read_text())
    sub = new_sub()
    body = {
        "state": "Suspended",
        "registrationDate": "Thu, 20 Aug 2020 19:47:14 GMT",
        "properties": {"tenantId": TENANT, "registeredFeatures": [], "locationPlacementId": "Public_2014-09-01"},
    }
    try:
        await app.front_door.notify_subscription(sub, body)
        with pytest.raises(ArmError) as refused:
            await app.front_door.notify_subscription(sub, {**body, "state": "Paused"})
    finally:
        await app.front_door.close()
    assert (refused.value.status, refused.value.code) == (400, "InvalidParameter")
    with Arm(door_rp) as direct:
        r = direct.put(cluster_path(sub, "rg", "suspended"), cli_body(sub, "suspended"))
    assert r.status_code == 400 and error_of(r)["code"] == "InvalidSubscriptionState", r.text


# --- `aro simulator` alone, and production ------------------------------------------------------------------


def _get_clusters(door: RPProcess, sub: str, *, register: bool = True) -> Any:
    """GET a subscription's cluster list through a front door (registering the subscription first), with a token
    from its token endpoint."""
    cred = credential(door.base_url, door.ca_file)
    try:
        with Arm(door, headers={"Authorization": f"Bearer {cred.get_token('x/.default').token}"}) as a:
            if register:
                r = a.post(f"/subscriptions/{sub}/providers/Microsoft.RedHatOpenShift/register", version="2021-04-01")
                assert r.status_code == 200, r.text
            return a.get(f"/subscriptions/{sub}/providers/Microsoft.RedHatOpenShift/openShiftClusters")
    finally:
        cred.close()


def test_front_doors_of_a_production_rp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A production RP refuses any caller without ARM's client certificate (tests/security/test_production.py):
    both `aro rp`'s hosted front door and `aro simulator` alone (linked by configuration) present the
    configured one. Once the RP is gone, the front door answers 502."""
    certs = make_certs(tmp_path_factory.mktemp("certs"))
    arm_cert, arm_key = certs.client("arm")
    front_door = {
        "ARO_CLOUD_SIMULATOR_FRONT_DOOR_CERT_FILE": arm_cert,
        "ARO_CLOUD_SIMULATOR_FRONT_DOOR_KEY_FILE": arm_key,
        "ARO_CLOUD_SIMULATOR_FRONT_DOOR_CA_FILE": str(certs.ca),
    }
    prod = start_production(certs, tmp_path_factory.mktemp("prod") / "data", **front_door)
    alone = RPProcess(tmp_path_factory.mktemp("alone") / "data", free_port(), "simulator")
    alone.env = {"ARO_CLOUD_SIMULATOR_FRONT_DOOR_ENDPOINT": prod.base_url, **front_door}
    try:
        alone.start()
        hosted = RPProcess(prod.data_dir, Door(prod).port)  # the hosted simulator: an address
        sub = new_sub()
        for door in (hosted, alone):  # each registers the subscription: ARM's notification reaches the RP
            r = _get_clusters(door, sub)
            assert r.status_code == 200 and r.json() == {"value": []}, r.text
        prod.kill()
        r = _get_clusters(alone, sub, register=False)
        assert r.status_code == 502 and error_of(r)["code"] == "BadGateway", r.text
    finally:
        prod.kill()
        alone.kill()


def _until(fn: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not fn():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
