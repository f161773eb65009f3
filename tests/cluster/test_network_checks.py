"""ARO-RP's network checks at install, against a real `aro rp` whose simulator holds the customer's network
(``cloud.simulator.networkChecks`` on): the vnet and subnets must exist, the vnet be in the cluster's
location, the subnets be Succeeded and /27 or larger, their prefixes not overlap the pod and service CIDRs, and
carry no NSG but the cluster's -- the install attaches ``<infraId>-nsg`` to them; the delete takes it off again.
(A subnet another cluster of the subscription uses is refused before that, at the PUT: a store claim.) Errors in
ARO-RP's codes, targets and words."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aro.api.errors import CloudError
from aro.cluster.network import MSG_NSG_ATTACHED, check_no_overlap
from tests.cluster.customer import Customer, body_on, simulator
from tests.conftest import RPProcess
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm, cluster_path

VNET_ERROR = "InvalidLinkedVNet"
MASTER, WORKER = "properties.masterProfile.subnetId", "properties.workerProfiles[0].subnetId"


@pytest.fixture(scope="module")
def net_rp(start_rp: StartRP) -> RPProcess:
    return start_rp(ARO_CLOUD_SIMULATOR_NETWORK_CHECKS="all")


@pytest.fixture
def arm(net_rp: RPProcess) -> Iterator[Arm]:
    with Arm(net_rp) as a:
        yield a


@pytest.fixture
def customer(net_rp: RPProcess, arm: Arm) -> Iterator[Customer]:
    with simulator(net_rp) as sim:
        c = Customer(sim)
        arm.register(c.sub)
        yield c


def install(arm: Arm, customer: Customer, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT the cluster and wait for its operation; the operation's final status."""
    r = arm.put(cluster_path(customer.sub, "clusters", name), body)
    assert r.status_code == 201, r.text
    return arm.wait_operation(r.headers["azure-asyncoperation"])


def failed_with(op: dict[str, Any], code: str, message: str, target: str | None = None) -> None:
    assert op["status"] == "Failed", op
    expected = {"code": code, "message": message} | ({"target": target} if target else {})
    assert op["error"] == expected


def delete(arm: Arm, customer: Customer, name: str) -> None:
    path = cluster_path(customer.sub, "clusters", name)
    r = arm.delete(path)
    assert r.status_code == 202, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"


def test_the_install_attaches_its_nsg_and_another_cluster_is_refused_the_subnets(arm: Arm, customer: Customer) -> None:
    vnet = customer.vnet()
    master, worker = f"{vnet}/subnets/master", f"{vnet}/subnets/worker"
    assert install(arm, customer, "one", body_on(customer, "one", vnet))["status"] == "Succeeded"
    first = arm.get(cluster_path(customer.sub, "clusters", "one")).json()
    rg = first["properties"]["clusterProfile"]["resourceGroupId"]
    nsgs = {customer.nsg_of(master), customer.nsg_of(worker)}
    assert len(nsgs) == 1
    (nsg,) = nsgs
    assert nsg is not None and nsg.lower().startswith(
        f"{rg}/providers/Microsoft.Network/networkSecurityGroups/".lower()
    )
    assert nsg.endswith("-nsg")

    r = arm.put(cluster_path(customer.sub, "clusters", "two"), body_on(customer, "two", vnet))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == {
        "code": VNET_ERROR,
        "message": f"The provided subnet '{master}' is already in use by another cluster.",
        "target": MASTER,
    }
    assert arm.get(cluster_path(customer.sub, "clusters", "two")).status_code == 404
    assert customer.nsg_of(master) == nsg  # nothing changed on the first cluster's subnets

    delete(arm, customer, "one")
    assert customer.nsg_of(master) is None and customer.nsg_of(worker) is None  # detached: the subnets serve again
    assert install(arm, customer, "three", body_on(customer, "three", vnet))["status"] == "Succeeded"


def test_a_missing_vnet_or_subnet(arm: Arm, customer: Customer) -> None:
    vnet = f"{customer.rg('net')}/providers/Microsoft.Network/virtualNetworks/nowhere"
    failed_with(
        install(arm, customer, "novnet", body_on(customer, "novnet", vnet)),
        VNET_ERROR,
        f"The vnet '{vnet}' could not be found.",
    )
    vnet = customer.vnet(subnets={"master": "10.0.0.0/23"})
    failed_with(
        install(arm, customer, "nosubnet", body_on(customer, "nosubnet", vnet)),
        VNET_ERROR,
        f"The provided subnet '{vnet}/subnets/worker' could not be found.",
    )


def test_the_vnet_must_be_in_the_clusters_location(arm: Arm, customer: Customer) -> None:
    vnet = customer.vnet(rg="west", location="westus")
    failed_with(
        install(arm, customer, "west", body_on(customer, "west", vnet)),
        VNET_ERROR,
        "The vnet location 'westus' must match the cluster location 'eastus'.",
    )


def test_a_subnet_smaller_than_a_27_is_refused(arm: Arm, customer: Customer) -> None:
    vnet = customer.vnet(subnets={"master": "10.0.0.0/23", "worker": "10.0.2.0/28"})
    failed_with(
        install(arm, customer, "small", body_on(customer, "small", vnet)),
        VNET_ERROR,
        f"The provided subnet '{vnet}/subnets/worker' is invalid: must be /27 or larger.",
        WORKER,
    )


def test_subnets_must_not_overlap_the_pod_or_service_cidr(arm: Arm, customer: Customer) -> None:
    vnet = customer.vnet(space="10.128.0.0/16", subnets={"master": "10.128.0.0/23", "worker": "10.128.2.0/23"})
    failed_with(
        install(arm, customer, "overlap", body_on(customer, "overlap", vnet)),
        VNET_ERROR,
        "The provided CIDRs must not overlap: '10.128.0.0/14 overlaps with 10.128.0.0/23'.",
    )


def test_a_foreign_nsg_is_refused_unless_the_nsg_is_preconfigured(arm: Arm, customer: Customer) -> None:
    nsg = customer.nsg()
    vnet = customer.vnet(nsgs={"worker": nsg})
    failed_with(
        install(arm, customer, "foreign", body_on(customer, "foreign", vnet)),
        VNET_ERROR,
        f"The provided subnet '{vnet}/subnets/worker' is invalid: must not have a network security group attached.",
        WORKER,
    )
    delete(arm, customer, "foreign")  # a failed cluster holds its subnets until it is deleted
    body = body_on(customer, "byo", vnet)
    body["properties"]["networkProfile"]["preconfiguredNSG"] = "Enabled"
    failed_with(  # preconfigured: every subnet needs one
        install(arm, customer, "byo", body),
        VNET_ERROR,
        "When the enable-preconfigured-nsg option is specified, both the master and worker subnets should have "
        "network security groups (NSG) attached to them before starting the cluster installation.",
    )
    delete(arm, customer, "byo")
    vnet = customer.vnet(name="byo-vnet", nsgs={"master": nsg, "worker": nsg})
    body = body_on(customer, "byo2", vnet)
    body["properties"]["networkProfile"]["preconfiguredNSG"] = "Enabled"
    assert install(arm, customer, "byo2", body)["status"] == "Succeeded"
    assert customer.nsg_of(f"{vnet}/subnets/master") == nsg  # the customer's NSG stays: nothing attached
    delete(arm, customer, "byo2")
    assert customer.nsg_of(f"{vnet}/subnets/worker") == nsg


def test_overlap_is_reported_as_go_cidr_does() -> None:
    """ARO-RP's own test vector, and which CIDR of a pair is named (the contained one found first)."""
    with pytest.raises(CloudError) as info:
        check_no_overlap(["10.0.0.0/24", "10.0.0.0/24"])
    assert info.value.message == "The provided CIDRs must not overlap: '10.0.0.0/24 overlaps with 10.0.0.0/24'."
    with pytest.raises(CloudError) as info:
        check_no_overlap(["10.0.5.0/24", "10.0.0.0/16"])
    assert info.value.message == "The provided CIDRs must not overlap: '10.0.5.0/24 overlaps with 10.0.0.0/16'."
    check_no_overlap(["10.0.0.0/23", "10.0.2.0/23", "10.128.0.0/14", "172.30.0.0/16"])


def test_held_the_default_trusts_only_the_vnets_the_simulator_does_not_hold(start_rp: StartRP) -> None:
    """``held``: a vnet nobody created (the 2019-12-31-preview defaults name one) is taken on trust; a vnet the
    simulator holds is checked (a foreign NSG on it is refused) and gets the cluster's NSG."""
    rp = start_rp()  # cloud.simulator.networkChecks: held
    with Arm(rp) as arm, simulator(rp) as sim:
        customer = Customer(sim)
        arm.register(customer.sub)
        invented = (
            f"/subscriptions/{customer.sub}/resourceGroups/nowhere/providers/Microsoft.Network/virtualNetworks/invented"
        )
        assert install(arm, customer, "trusted", body_on(customer, "trusted", invented))["status"] == "Succeeded"
        vnet = customer.vnet()
        assert install(arm, customer, "one", body_on(customer, "one", vnet))["status"] == "Succeeded"
        assert customer.nsg_of(f"{vnet}/subnets/master")
        held = customer.vnet(name="held-vnet", nsgs={"master": customer.nsg()})
        op = install(arm, customer, "two", body_on(customer, "two", held))
        failed_with(op, VNET_ERROR, MSG_NSG_ATTACHED.format(f"{held}/subnets/master"), MASTER)
