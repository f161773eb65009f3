"""2025-07-25 updates: PATCH (merge patch) and PUT replace, checked against the update policy."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aro.api.cluster import OpenShiftCluster
from aro.api.resource import ProvisioningState
from tests.api.fixtures import (
    CLIENT_SECRET,
    CTX,
    KUBEADMIN_PASSWORD,
    OPERATORS,
    PULL_SECRET,
    RESOURCE_ID,
    SUB,
    V2019,
    V2025,
    Body,
    b64,
    created,
    expect_error,
    msi,
    props,
    subnet,
    wi_body,
)

PCNA = "PropertyChangeNotAllowed"
CP, NP, MP = "properties.clusterProfile", "properties.networkProfile", "properties.masterProfile"
W = "properties.workerProfiles['worker']"
AP = "properties.apiserverProfile"
PWI = "properties.platformWorkloadIdentityProfile.platformWorkloadIdentities"


def p(**properties: Any) -> Body:
    """A PATCH body touching ``properties`` only."""
    return {"properties": properties}


def worker(**fields: Any) -> Body:
    return p(workerProfiles=[{"name": "worker", **fields}])


@pytest.fixture
def sp_cluster() -> OpenShiftCluster:
    return created()


@pytest.fixture
def wi_cluster() -> OpenShiftCluster:
    return created(body=wi_body())


# (case id, PATCH body, target of the PropertyChangeNotAllowed it must produce)
# fmt: off
IMMUTABLE: list[tuple[str, Body, str]] = [
    ("domain", p(clusterProfile={"domain": "other"}), f"{CP}.domain"),
    ("version", p(clusterProfile={"version": "4.17.27"}), f"{CP}.version"),
    ("resource-group", p(clusterProfile={"resourceGroupId": f"/subscriptions/{SUB}/resourceGroups/x"}),
     f"{CP}.resourceGroupId"),
    ("fips", p(clusterProfile={"fipsValidatedModules": "Enabled"}), f"{CP}.fipsValidatedModules"),
    ("pull-secret", p(clusterProfile={"pullSecret": '{"auths": {}}'}), f"{CP}.pullSecret"),
    ("pull-secret-cleared", p(clusterProfile={"pullSecret": None}), f"{CP}.pullSecret"),
    ("pod-cidr", p(networkProfile={"podCidr": "10.0.0.0/14"}), f"{NP}.podCidr"),
    ("service-cidr", p(networkProfile={"serviceCidr": "172.31.0.0/16"}), f"{NP}.serviceCidr"),
    ("outbound-type", p(networkProfile={"outboundType": "UserDefinedRouting"}), f"{NP}.outboundType"),
    ("preconfigured-nsg", p(networkProfile={"preconfiguredNSG": "Enabled"}), f"{NP}.preconfiguredNSG"),
    ("master-vm-size", p(masterProfile={"vmSize": "Standard_D16s_v5"}), f"{MP}.vmSize"),
    ("master-subnet", p(masterProfile={"subnetId": subnet("m2")}), f"{MP}.subnetId"),
    ("master-encryption", p(masterProfile={"encryptionAtHost": "Enabled"}), f"{MP}.encryptionAtHost"),
    ("worker-count", worker(count=4), f"{W}.count"),
    ("worker-vm-size", worker(vmSize="Standard_D8s_v5"), f"{W}.vmSize"),
    ("worker-disk", worker(diskSizeGB=256), f"{W}.diskSizeGB"),
    ("worker-added", p(workerProfiles=[{"name": "infra", "count": 3}]), "properties.workerProfiles"),
    ("apiserver-visibility", p(apiserverProfile={"visibility": "Private"}), f"{AP}.visibility"),
    ("ingress-visibility", p(ingressProfiles=[{"name": "default", "visibility": "Private"}]),
     "properties.ingressProfiles['default'].visibility"),
    ("service-principal-removed", p(servicePrincipalProfile=None), "properties.servicePrincipalProfile"),
    ("network-profile-removed", p(networkProfile=None), f"{NP}.podCidr"),
]
# fmt: on


@pytest.mark.parametrize(("body", "target"), [c[1:] for c in IMMUTABLE], ids=[c[0] for c in IMMUTABLE])
def test_immutable_change_is_refused(sp_cluster: OpenShiftCluster, body: Body, target: str) -> None:
    err = expect_error(lambda: V2025.patch(body, sp_cluster, CTX), PCNA, target)
    assert err.message == f"Changing property '{target}' is not allowed."


def test_workload_identity_cannot_be_removed(wi_cluster: OpenShiftCluster) -> None:
    body = p(platformWorkloadIdentityProfile={"platformWorkloadIdentities": {"ingress": None}})
    err = expect_error(lambda: V2025.patch(body, wi_cluster, CTX), PCNA, PWI)
    assert err.message == "Operator identity cannot be removed or have its name changed."  # ARO-RP's words
    body = p(platformWorkloadIdentityProfile=None)
    expect_error(lambda: V2025.patch(body, wi_cluster, CTX), PCNA, "properties.platformWorkloadIdentityProfile")


def test_mutable_fields_of_a_service_principal_cluster(sp_cluster: OpenShiftCluster) -> None:
    body = {
        "tags": {"team": "blue"},
        "properties": {
            "servicePrincipalProfile": {
                "clientId": "77777777-8888-4999-8000-000000000001",
                "clientSecret": "new-secret",
            },
            "networkProfile": {"loadBalancerProfile": {"managedOutboundIps": {"count": 5}}},
        },
    }
    new = V2025.patch(body, sp_cluster, CTX)
    sp = new.properties.service_principal_profile
    assert sp is not None and (sp.client_id, sp.client_secret) == ("77777777-8888-4999-8000-000000000001", "new-secret")
    lb = new.properties.network_profile.load_balancer_profile
    assert lb is not None and lb.managed_outbound_ips is not None and lb.managed_outbound_ips.count == 5
    old_lb = sp_cluster.properties.network_profile.load_balancer_profile
    assert old_lb is not None and lb.effective_outbound_ips == old_lb.effective_outbound_ips
    assert new.tags == {"team": "blue"}


def test_mutable_fields_of_a_workload_identity_cluster(wi_cluster: OpenShiftCluster) -> None:
    body = {
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {msi("cluster"): None, msi("c2"): {}}},
        "properties": {
            "platformWorkloadIdentityProfile": {
                "upgradeableTo": "4.19.1",
                "platformWorkloadIdentities": {"file-csi-driver": {"resourceId": msi("csi")}},
            }
        },
    }
    new = V2025.patch(body, wi_cluster, CTX)
    assert new.identity is not None and list(new.identity.user_assigned_identities) == [msi("c2")]
    pwi = new.properties.platform_workload_identity_profile
    assert pwi is not None and pwi.upgradeable_to == "4.19.1"
    assert set(pwi.platform_workload_identities) == set(OPERATORS)
    assert pwi.platform_workload_identities["file-csi-driver"].resource_id == msi("csi")


def test_read_only_fields_are_ignored(sp_cluster: OpenShiftCluster) -> None:
    body = {
        "id": RESOURCE_ID.lower(),
        "systemData": {"createdBy": "someone-else"},
        "properties": {
            "provisioningState": "Succeeded",
            "consoleProfile": {"url": "https://evil"},
            "clusterProfile": {"oidcIssuer": "https://evil"},
            "apiserverProfile": {"url": "https://evil", "ip": "1.1.1.1"},
            "ingressProfiles": [{"name": "default", "ip": "1.1.1.1"}],
            "workerProfilesStatus": [],
            "networkProfile": {"loadBalancerProfile": {"effectiveOutboundIps": [{"id": "x"}]}},
        },
    }
    new = V2025.patch(body, sp_cluster, CTX)
    assert new.dump() == sp_cluster.dump()


def test_provisioning_state_in_a_request(sp_cluster: OpenShiftCluster) -> None:
    V2025.patch(p(provisioningState="Succeeded"), sp_cluster, CTX)
    V2025.patch(p(provisioningState="succeeded"), sp_cluster, CTX)
    expect_error(
        lambda: V2025.patch(p(provisioningState="Failed"), sp_cluster, CTX),
        PCNA,
        "properties.provisioningState",
    )
    expect_error(
        lambda: V2025.patch(p(provisioningState="Exploded"), sp_cluster, CTX),
        "InvalidParameter",
        "properties.provisioningState",
    )
    failed = sp_cluster.copy_deep()
    failed.properties.provisioning_state = ProvisioningState.FAILED
    V2025.put(V2025.to_external(failed), failed, CTX)


def test_location_cannot_change(sp_cluster: OpenShiftCluster) -> None:
    expect_error(lambda: V2025.patch({"location": "westus"}, sp_cluster, CTX), "InvalidParameter", "location")


def test_patch_tags_are_replaced_whole(sp_cluster: OpenShiftCluster) -> None:
    current = V2025.patch({"tags": {"t1": "a", "t2": "b"}}, sp_cluster, CTX)
    assert V2025.patch({"tags": {"t3": "c"}}, current, CTX).tags == {"t3": "c"}
    assert V2025.patch({"tags": {}}, current, CTX).tags == {}
    assert V2025.patch({"tags": None}, current, CTX).tags == {}
    assert V2025.patch({}, current, CTX).tags == {"t1": "a", "t2": "b"}


def test_empty_patch_changes_nothing_and_returns_a_new_object(sp_cluster: OpenShiftCluster) -> None:
    before = sp_cluster.dump()
    new = V2025.patch({}, sp_cluster, CTX)
    assert new is not sp_cluster and new.dump() == before == sp_cluster.dump()
    assert new.properties is not sp_cluster.properties


def test_update_keeps_backend_fields_and_never_mutates_current(sp_cluster: OpenShiftCluster) -> None:
    before = sp_cluster.dump()
    new = V2025.patch({"tags": {"a": "b"}}, sp_cluster, CTX)
    assert sp_cluster.dump() == before
    np_, cp_ = new.properties, sp_cluster.properties
    assert (np_.infra_id, np_.kubeadmin_password, np_.progress) == (
        cp_.infra_id,
        KUBEADMIN_PASSWORD,
        cp_.progress,
    )
    assert np_.worker_profiles_status == cp_.worker_profiles_status
    assert (np_.console_profile.url, np_.apiserver_profile.ip) == (
        cp_.console_profile.url,
        cp_.apiserver_profile.ip,
    )
    assert new.system_data == sp_cluster.system_data


def test_patch_type_errors_and_body_shape(sp_cluster: OpenShiftCluster) -> None:
    expect_error(lambda: V2025.patch([], sp_cluster, CTX), "InvalidRequestContent", None)
    expect_error(
        lambda: V2025.patch(worker(count="3"), sp_cluster, CTX),
        "InvalidRequestContent",
        "properties.workerProfiles[0].count",
    )


def test_patch_still_validates(sp_cluster: OpenShiftCluster) -> None:
    body = p(networkProfile={"loadBalancerProfile": {"managedOutboundIps": {"count": 21}}})
    target = f"{NP}.loadBalancerProfile.managedOutboundIps.count"
    expect_error(lambda: V2025.patch(body, sp_cluster, CTX), "InvalidParameter", target)
    body = p(servicePrincipalProfile={"clientId": ""})
    expect_error(
        lambda: V2025.patch(body, sp_cluster, CTX),
        "InvalidParameter",
        "properties.servicePrincipalProfile.clientId",
    )
    expect_error(lambda: V2025.patch({"tags": {"a/b": "c"}}, sp_cluster, CTX), "InvalidParameter", "tags")


# --- PUT replace -------------------------------------------------------------------------------------------


def test_put_of_the_get_body_is_a_no_op(sp_cluster: OpenShiftCluster, wi_cluster: OpenShiftCluster) -> None:
    for current in (sp_cluster, wi_cluster):
        new = V2025.put(V2025.to_external(current), current, CTX)
        assert new.dump() == current.dump()


def test_put_keeps_secrets_and_version_it_cannot_see(sp_cluster: OpenShiftCluster) -> None:
    body = V2025.to_external(sp_cluster)
    del body["properties"]["clusterProfile"]["version"]
    body["tags"] = {"new": "tag"}
    new = V2025.put(body, sp_cluster, CTX)
    assert new.properties.cluster_profile.pull_secret == PULL_SECRET
    assert new.properties.service_principal_profile is not None
    assert new.properties.service_principal_profile.client_secret == CLIENT_SECRET
    assert new.properties.cluster_profile.version == sp_cluster.properties.cluster_profile.version
    assert new.tags == {"new": "tag"}


def test_put_may_rotate_the_client_secret(sp_cluster: OpenShiftCluster) -> None:
    body = V2025.to_external(sp_cluster)
    body["properties"]["servicePrincipalProfile"]["clientSecret"] = "rotated"
    new = V2025.put(body, sp_cluster, CTX)
    assert new.properties.service_principal_profile is not None
    assert new.properties.service_principal_profile.client_secret == "rotated"


# (case id, edit of the GET body, expected target): omitted immutable fields count as changes (ARO).
# fmt: off
# (Fields that create defaults -- version, fipsValidatedModules, outboundType, ... -- keep their value when
# omitted or empty instead: see test_resending_the_cli_create_body_is_idempotent.)
PUT_OMISSIONS: list[tuple[str, Any, str]] = [
    ("master-omitted", lambda b: props(b).pop("masterProfile"), f"{MP}.vmSize"),
    ("worker-count-omitted", lambda b: props(b)["workerProfiles"][0].pop("count"), f"{W}.count"),
    ("ingress-omitted", lambda b: props(b).pop("ingressProfiles"), "properties.ingressProfiles"),
]
# fmt: on


@pytest.mark.parametrize(("edit", "target"), [c[1:] for c in PUT_OMISSIONS], ids=[c[0] for c in PUT_OMISSIONS])
def test_put_omitting_an_immutable_field_is_a_change(sp_cluster: OpenShiftCluster, edit: Any, target: str) -> None:
    body = V2025.to_external(sp_cluster)
    edit(body)
    expect_error(lambda: V2025.put(body, sp_cluster, CTX), PCNA, target)


def test_put_requires_location(sp_cluster: OpenShiftCluster) -> None:
    body = V2025.to_external(sp_cluster)
    del body["location"]
    expect_error(lambda: V2025.put(body, sp_cluster, CTX), "InvalidParameter", "location")


def test_ids_compare_case_insensitively(sp_cluster: OpenShiftCluster) -> None:
    body = V2025.to_external(sp_cluster)
    cp = props(body)["clusterProfile"]
    cp["resourceGroupId"] = cp["resourceGroupId"].upper()
    props(body)["masterProfile"]["subnetId"] = props(body)["masterProfile"]["subnetId"].lower()
    body["location"] = "East US"
    V2025.put(body, sp_cluster, CTX)


def test_cluster_created_without_credentials_can_still_be_tagged() -> None:
    lenient = created(V2019, {"location": "eastus", "properties": {"pullSecret": b64(PULL_SECRET)}})
    assert V2025.patch({"tags": {"a": "b"}}, lenient, CTX).tags == {"a": "b"}


def test_requests_are_not_mutated(sp_cluster: OpenShiftCluster) -> None:
    patch = {"tags": {"a": "b"}, "properties": {"provisioningState": "Succeeded", "consoleProfile": {"url": "x"}}}
    snapshot = copy.deepcopy(patch)
    V2025.patch(patch, sp_cluster, CTX)
    assert patch == snapshot
    put = V2025.to_external(sp_cluster)
    snapshot = copy.deepcopy(put)
    V2025.put(put, sp_cluster, CTX)
    assert put == snapshot


def test_resending_the_cli_create_body_is_idempotent() -> None:
    """`az aro create` sends "version": "" and "outboundType": "" (create defaults them); re-sending the
    same body as a replace (a template redeploy) must not count the defaulted fields as changes."""
    from tests.api.fixtures import cli_body

    body = cli_body()
    body["properties"]["clusterProfile"]["version"] = ""
    body["properties"]["networkProfile"]["outboundType"] = ""
    body["properties"]["masterProfile"]["encryptionAtHost"] = ""
    current = created(V2025, copy.deepcopy(body))
    again = V2025.put(copy.deepcopy(body), current, CTX)
    assert again.properties.cluster_profile.version == current.properties.cluster_profile.version != ""
    assert again.properties.network_profile.outbound_type == "Loadbalancer"
    assert again.properties.master_profile.encryption_at_host == "Disabled"
    assert V2025.to_external(again) == V2025.to_external(current)
    omitted = copy.deepcopy(body)
    omitted["properties"]["clusterProfile"].pop("fipsValidatedModules")
    assert V2025.to_external(V2025.put(omitted, current, CTX)) == V2025.to_external(current)
    changed = copy.deepcopy(body)
    changed["properties"]["clusterProfile"]["version"] = "4.16.30"
    expect_error(lambda: V2025.put(changed, current, CTX), PCNA, f"{CP}.version")
