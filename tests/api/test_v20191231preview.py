"""2019-12-31-preview: the seed README's flow (lenient create, credentials, scale) and its rules."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from aro.api.cluster import OpenShiftCluster
from aro.api.clustervalidation import ClusterRules, validate_cluster
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
from tests.api.fixtures import (
    CTX,
    KUBEADMIN_PASSWORD,
    NAME,
    PULL_SECRET,
    RESOURCE_ID,
    RG,
    SUB,
    V2019,
    V2025,
    b64,
    expect_error,
    provisioned,
    subnet,
)

# The seed README: -d '{"location":"'"$LOCATION"'", "properties": {"pullSecret": "'"$(base64 -w0 <<<$PULL_SECRET)"'"}}'
SEED_PULL_SECRET = b64(PULL_SECRET + "\n")
SEED_BODY: dict[str, Any] = {"location": "eastus", "properties": {"pullSecret": SEED_PULL_SECRET}}
SCALE_BODY: dict[str, Any] = {"properties": {"workerProfiles": [{"name": "worker", "count": 5}]}}
W = "properties.workerProfiles['worker']"


@pytest.fixture
def cluster() -> OpenShiftCluster:
    return provisioned(V2019.put(SEED_BODY, None, CTX))


def test_seed_create_produces_a_full_valid_cluster() -> None:
    oc = V2019.put(SEED_BODY, None, CTX)
    p = oc.properties
    assert (oc.id, oc.name, oc.location) == (RESOURCE_ID, NAME, "eastus")
    assert p.cluster_profile.pull_secret == PULL_SECRET + "\n"
    assert p.cluster_profile.version == CTX.default_version
    assert p.cluster_profile.resource_group_id == f"/subscriptions/{SUB}/resourceGroups/aro-{p.cluster_profile.domain}"
    vnet = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/{NAME}-vnet"
    assert p.master_profile.subnet_id == f"{vnet}/subnets/master"
    assert [(w.name, w.count, w.subnet_id) for w in p.worker_profiles] == [("worker", 3, f"{vnet}/subnets/worker")]
    assert (p.network_profile.outbound_type, p.network_profile.preconfigured_nsg) == ("Loadbalancer", "Disabled")
    assert p.service_principal_profile is None
    # valid under every shared rule (credentials aside), and renderable by the current version
    validate_cluster(oc, CTX, creating=True, rules=ClusterRules(require_credentials=False))
    assert V2025.to_external(oc)["properties"]["workerProfiles"][0]["vmSize"] == "Standard_D4s_v5"


def test_seed_get_never_returns_the_pull_secret(cluster: OpenShiftCluster) -> None:
    ext = V2019.to_external(cluster)
    assert "pullSecret" not in ext["properties"]
    assert SEED_PULL_SECRET not in str(ext) and "auths" not in str(ext)
    assert ext["properties"]["workerProfiles"] == [
        {"name": "worker", "vmSize": "Standard_D4s_v5", "diskSizeGB": 128,
         "subnetId": cluster.properties.worker_profiles[0].subnet_id, "count": 3}
    ]  # fmt: skip


def test_seed_credentials(cluster: OpenShiftCluster) -> None:
    creds = OPENSHIFT_CLUSTERS.version("2019-12-31-preview").actions["credentials"](cluster)
    assert creds == {"kubeadminUsername": "kubeadmin", "kubeadminPassword": KUBEADMIN_PASSWORD}


def test_seed_scale_patch_changes_only_the_count(cluster: OpenShiftCluster) -> None:
    new = V2019.patch(SCALE_BODY, cluster, CTX)
    expected = cluster.dump()
    expected["properties"]["workerProfiles"][0]["count"] = 5
    assert new.dump() == expected


@pytest.mark.parametrize(("count", "ok"), [(1, False), (2, True), (50, True), (51, False)])
def test_scale_limits(cluster: OpenShiftCluster, count: int, ok: bool) -> None:
    body = {"properties": {"workerProfiles": [{"name": "worker", "count": count}]}}
    if ok:
        assert V2019.patch(body, cluster, CTX).properties.worker_profiles[0].count == count
    else:
        expect_error(lambda: V2019.patch(body, cluster, CTX), "InvalidParameter", f"{W}.count")


def test_rerunning_the_seed_put_is_accepted(cluster: OpenShiftCluster) -> None:
    assert V2019.put(SEED_BODY, cluster, CTX).dump() == cluster.dump()
    # without the trailing newline `base64 <<<` adds, the text differs: that is a different pull secret
    other = {"location": "eastus", "properties": {"pullSecret": b64(PULL_SECRET)}}
    expect_error(lambda: V2019.put(other, cluster, CTX), "PropertyChangeNotAllowed", "properties.pullSecret")


def test_put_replace_keeps_omitted_fields_and_may_scale(cluster: OpenShiftCluster) -> None:
    body = {"location": "eastus", "tags": {"a": "b"}, **SCALE_BODY}
    new = V2019.put(body, cluster, CTX)
    assert new.tags == {"a": "b"}
    assert new.properties.worker_profiles[0].count == 5
    assert new.properties.cluster_profile.domain == cluster.properties.cluster_profile.domain
    assert V2019.put({"location": "eastus", "tags": {"c": "d"}}, new, CTX).tags == {"c": "d"}


# (case id, PATCH body, target of the PropertyChangeNotAllowed)
IMMUTABLE: list[tuple[str, dict[str, Any], str]] = [
    ("domain", {"properties": {"clusterProfile": {"domain": "other"}}}, "properties.clusterProfile.domain"),
    (
        "worker-vm-size",
        {"properties": {"workerProfiles": [{"name": "worker", "vmSize": "Standard_D8s_v5"}]}},
        f"{W}.vmSize",
    ),  # fmt: skip
    ("pod-cidr", {"properties": {"networkProfile": {"podCidr": "10.0.0.0/14"}}}, "properties.networkProfile.podCidr"),
    (
        "apiserver",
        {"properties": {"apiserverProfile": {"visibility": "Private"}}},
        "properties.apiserverProfile.visibility",
    ),  # fmt: skip
    ("pull-secret", {"properties": {"pullSecret": b64('{"auths": {}}')}}, "properties.pullSecret"),
]


@pytest.mark.parametrize(("body", "target"), [c[1:] for c in IMMUTABLE], ids=[c[0] for c in IMMUTABLE])
def test_immutable_fields(cluster: OpenShiftCluster, body: dict[str, Any], target: str) -> None:
    expect_error(lambda: V2019.patch(body, cluster, CTX), "PropertyChangeNotAllowed", target)


def test_mutable_service_principal_and_read_only_fields(cluster: OpenShiftCluster) -> None:
    body = {
        "properties": {
            "servicePrincipalProfile": {"clientId": "77777777-8888-4999-8000-000000000001", "clientSecret": "secret"},
            "consoleProfile": {"url": "https://evil"},
            "ingressProfiles": [{"name": "default", "ip": "1.1.1.1"}],
            "provisioningState": "Succeeded",
        }
    }
    new = V2019.patch(body, cluster, CTX)
    assert new.properties.service_principal_profile is not None
    assert new.properties.service_principal_profile.client_secret == "secret"
    assert new.properties.console_profile.url == cluster.properties.console_profile.url
    assert new.properties.ingress_profiles == cluster.properties.ingress_profiles
    assert "clientSecret" not in str(V2019.to_external(new))


# (case id, create body, expected code, expected target)
INVALID_CREATE: list[tuple[str, Any, str, str | None]] = [
    ("not-object", ["x"], "InvalidRequestContent", None),
    ("no-location", {"properties": {"pullSecret": SEED_PULL_SECRET}}, "InvalidParameter", "location"),
    (
        "pull-secret-not-base64",
        {"location": "eastus", "properties": {"pullSecret": "not base64!"}},
        "InvalidParameter",
        "properties.pullSecret",
    ),  # fmt: skip
    (
        "pull-secret-not-json",
        {"location": "eastus", "properties": {"pullSecret": b64("hunter2")}},
        "InvalidParameter",
        "properties.pullSecret",
    ),  # fmt: skip
    (
        "pull-secret-binary",
        {"location": "eastus", "properties": {"pullSecret": base64.b64encode(b"\xff").decode()}},
        "InvalidParameter",
        "properties.pullSecret",
    ),  # fmt: skip
    (
        "count-type",
        {"location": "eastus", "properties": {"workerProfiles": [{"name": "worker", "count": "3"}]}},
        "InvalidRequestContent",
        "properties.workerProfiles[0].count",
    ),  # fmt: skip
    (
        "count-1",
        {"location": "eastus", "properties": {"workerProfiles": [{"name": "worker", "count": 1}]}},
        "InvalidParameter",
        f"{W}.count",
    ),  # fmt: skip
    (
        "worker-misnamed",
        {"location": "eastus", "properties": {"workerProfiles": [{"name": "w"}]}},
        "InvalidParameter",
        "properties.workerProfiles['w'].name",
    ),  # fmt: skip
    (
        "pod-cidr-small",
        {"location": "eastus", "properties": {"networkProfile": {"podCidr": "10.128.0.0/20"}}},
        "InvalidParameter",
        "properties.networkProfile.podCidr",
    ),  # fmt: skip
    (
        "sp-without-secret",
        {
            "location": "eastus",
            "properties": {"servicePrincipalProfile": {"clientId": "77777777-8888-4999-8000-000000000001"}},
        },
        "InvalidParameter",
        "properties.servicePrincipalProfile.clientSecret",
    ),  # fmt: skip
    (
        "master-subnet",
        {"location": "eastus", "properties": {"masterProfile": {"subnetId": "x"}}},
        "InvalidParameter",
        "properties.masterProfile.subnetId",
    ),  # fmt: skip
    ("name-mismatch", {"location": "eastus", "name": "other"}, "MismatchingResourceName", "name"),
    ("tags", {"location": "eastus", "tags": {"a<b": "c"}}, "InvalidParameter", "tags"),
]


@pytest.mark.parametrize(
    ("body", "code", "target"), [c[1:] for c in INVALID_CREATE], ids=[c[0] for c in INVALID_CREATE]
)
def test_invalid_create(body: Any, code: str, target: str | None) -> None:
    expect_error(lambda: V2019.put(body, None, CTX), code, target)


def test_given_fields_are_kept() -> None:
    body = {
        "location": "eastus",
        "properties": {
            "clusterProfile": {"domain": "mine", "version": "4.17.27"},
            "networkProfile": {"podCidr": "10.0.0.0/16", "serviceCidr": "10.1.0.0/16"},
            "masterProfile": {"vmSize": "Standard_D16s_v5", "subnetId": subnet("master")},
            "workerProfiles": [{"name": "worker", "count": 4, "subnetId": subnet("worker")}],
            "apiserverProfile": {"visibility": "Private"},
            "servicePrincipalProfile": {"clientId": "77777777-8888-4999-8000-000000000001", "clientSecret": "secret"},
        },
    }
    p = V2019.put(body, None, CTX).properties
    assert (p.cluster_profile.domain, p.cluster_profile.version) == ("mine", "4.17.27")
    assert (p.master_profile.vm_size, p.worker_profiles[0].count, p.worker_profiles[0].vm_size) == (
        "Standard_D16s_v5", 4, "Standard_D4s_v5")  # fmt: skip
    assert p.apiserver_profile.visibility == "Private"
    assert p.network_profile.pod_cidr == "10.0.0.0/16"
