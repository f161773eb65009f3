"""2026-10-01 node pools: SDK round trip, defaults, one test per field rule, updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.mgmt.redhatopenshifthcp import models as sdk

from aro.api import errors
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.common import ActiveVersion
from aro.api.hcp.nodepool import NodePool
from tests.api.hcp.fixtures import (
    AFEC,
    DELETE,
    NODE_POOLS,
    OTHER_SUB,
    Body,
    cluster_body,
    contains,
    created_cluster,
    expect_error,
    node_pool_body,
    node_pool_ctx,
    setp,
    subnet,
    targets,
    wire,
)

P = "properties"
PL = f"{P}.platform"
DISK = f"{PL}.osDisk"
BAD = errors.INVALID_REQUEST_CONTENT
IMMUTABLE = errors.PROPERTY_CHANGE_NOT_ALLOWED


def cluster_at(version: str, active: tuple[str, ...] = ()) -> HcpOpenShiftCluster:
    oc = created_cluster(setp(cluster_body(), f"{P}.version.id", "4.20"))
    oc.properties.version.id = version
    oc.properties.status.active_versions = [ActiveVersion(version=v) for v in active or (version,)]
    return oc


def create(body: Body, parent: HcpOpenShiftCluster | None = None, **ctx: Any) -> NodePool:
    return NODE_POOLS.put(body, None, node_pool_ctx(parent, **ctx))


def test_sdk_body_round_trips() -> None:
    sent = node_pool_body()
    np = create(sent)
    back = sdk.NodePool(NODE_POOLS.to_external(np))
    contains(wire(back), sent)
    assert back.properties.platform.os_disk.size_gi_b == 128
    assert back.properties.provisioning_state == "Succeeded"
    assert back.properties.auto_repair is True


def test_defaults() -> None:
    body = {"location": "eastus", P: {"version": {"id": "4.20.8"}, "platform": {"vmSize": "Standard_D4s_v5"}}}
    parent = created_cluster()
    p = create(body, parent).properties
    assert p.platform.subnet_id == parent.properties.platform.subnet_id
    disk = p.platform.os_disk
    assert (disk.size_gib, disk.disk_storage_account_type, disk.disk_type, disk.encryption_set_id) == (
        64,
        "Premium_LRS",
        "Managed",
        "",
    )
    assert (p.auto_repair, p.platform.enable_encryption_at_host, p.version.channel_group) == (True, False, "stable")
    assert (p.replicas, p.auto_scaling, p.node_drain_timeout_minutes) == (0, None, None)


def test_backend_field_is_not_rendered() -> None:
    np = create(node_pool_body())
    np.properties.vmss_name = "workers-vmss-x7k2p"
    assert "workers-vmss" not in str(NODE_POOLS.to_external(np))


def s(path: str, value: Any) -> Callable[[Body], Any]:
    return lambda body: setp(body, path, value)


def both(*changes: Callable[[Body], Any]) -> Callable[[Body], Any]:
    def change(body: Body) -> None:
        for c in changes:
            c(body)

    return change


LABEL, TAINT = f"{P}.labels.0", f"{P}.taints.0"
RULES: list[tuple[str, Callable[[Body], Any], list[str]]] = [
    ("version-missing", s(f"{P}.version.id", DELETE), [f"{P}.version.id"]),
    ("version-minor-only", s(f"{P}.version.id", "4.20"), [f"{P}.version.id"]),
    ("version-below-4.20.8", s(f"{P}.version.id", "4.20.5"), [f"{P}.version.id"]),
    ("version-not-in-catalog", s(f"{P}.version.id", "4.20.10"), [f"{P}.version.id"]),
    ("version-above-the-cluster", s(f"{P}.version.id", "4.21.0"), [f"{P}.version.id"]),
    ("channel", s(f"{P}.version.channelGroup", "nightly"), [f"{P}.version.channelGroup"]),
    ("vm-size-missing", s(f"{PL}.vmSize", DELETE), [f"{PL}.vmSize"]),
    ("vm-size-not-enabled", s(f"{PL}.vmSize", "Standard_B2s"), [f"{PL}.vmSize"]),
    ("subnet-other-vnet", s(f"{PL}.subnetId", subnet("pool", vnet="elsewhere")), [f"{PL}.subnetId"]),
    ("subnet-other-subscription", s(f"{PL}.subnetId", subnet("pool", sub=OTHER_SUB)), [f"{PL}.subnetId"]),
    ("subnet-not-a-subnet", s(f"{PL}.subnetId", "/subscriptions/x/resourceGroups/y"), [f"{PL}.subnetId"]),
    ("replicas-negative", s(f"{P}.replicas", -1), [f"{P}.replicas"]),
    ("replicas-201", s(f"{P}.replicas", 201), [f"{P}.replicas"]),
    ("replicas-501-in-a-zone", both(s(f"{P}.replicas", 501), s(f"{PL}.availabilityZone", "1")), [f"{P}.replicas"]),
    ("replicas-and-autoscaling", s(f"{P}.autoScaling", {"min": 1, "max": 3}), [f"{P}.replicas"]),
    (
        "autoscaling-min-negative",
        both(s(f"{P}.replicas", 0), s(f"{P}.autoScaling", {"min": -1, "max": 3})),
        [f"{P}.autoScaling.min"],
    ),
    (
        "autoscaling-max-201",
        both(s(f"{P}.replicas", 0), s(f"{P}.autoScaling", {"min": 1, "max": 201})),
        [f"{P}.autoScaling.max"],
    ),
    (
        "autoscaling-max-below-min",
        both(s(f"{P}.replicas", 0), s(f"{P}.autoScaling", {"min": 5, "max": 3})),
        [f"{P}.autoScaling.max"],
    ),
    ("os-disk-63", s(f"{DISK}.sizeGiB", 63), [f"{DISK}.sizeGiB"]),
    ("os-disk-4096-managed", s(f"{DISK}.sizeGiB", 4096), [f"{DISK}.sizeGiB"]),
    (
        "os-disk-2041-ephemeral",
        both(s(f"{DISK}.sizeGiB", 2041), s(f"{DISK}.diskType", "Ephemeral")),
        [f"{DISK}.sizeGiB"],
    ),
    ("disk-storage-type", s(f"{DISK}.diskStorageAccountType", "UltraSSD_LRS"), [f"{DISK}.diskStorageAccountType"]),
    ("disk-type", s(f"{DISK}.diskType", "Local"), [f"{DISK}.diskType"]),
    (
        "ephemeral-needs-auto-repair",
        both(s(f"{DISK}.diskType", "Ephemeral"), s(f"{P}.autoRepair", False)),
        [f"{P}.autoRepair"],
    ),
    ("encryption-set-wrong-type", s(f"{DISK}.encryptionSetId", subnet("x")), [f"{DISK}.encryptionSetId"]),
    (
        "encryption-set-bad-name",
        s(
            f"{DISK}.encryptionSetId",
            "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/k"
            "/providers/Microsoft.Compute/diskEncryptionSets/des!1",
        ),
        [f"{DISK}.encryptionSetId"],
    ),
    ("label-key", s(LABEL, {"key": "bad key", "value": "x"}), [f"{P}.labels[0].key"]),
    ("label-key-prefix", s(LABEL, {"key": "Example.COM/team", "value": "x"}), [f"{P}.labels[0].key"]),
    ("label-value", s(LABEL, {"key": "team", "value": "-payments"}), [f"{P}.labels[0].value"]),
    ("label-value-too-long", s(LABEL, {"key": "team", "value": "a" * 64}), [f"{P}.labels[0].value"]),
    ("label-master-role", s(LABEL, {"key": "node-role.kubernetes.io/master", "value": ""}), [f"{P}.labels[0].key"]),
    ("label-worker-role", s(LABEL, {"key": "node-role.kubernetes.io/worker", "value": ""}), [f"{P}.labels[0].key"]),
    (
        "label-machine-role-infra",
        s(LABEL, {"key": "machine.openshift.io/cluster-api-machine-role", "value": "infra"}),
        [f"{P}.labels[0].value"],
    ),
    (
        "label-machine-type-master",
        s(LABEL, {"key": "machine.openshift.io/cluster-api-machine-type", "value": "master"}),
        [f"{P}.labels[0].value"],
    ),
    (
        "label-duplicate",
        s(f"{P}.labels", [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]),
        [f"{P}.labels[1].key"],
    ),
    ("taint-key-missing", s(TAINT, {"effect": "NoSchedule"}), [f"{P}.taints[0].key"]),
    ("taint-key-too-long", s(TAINT, {"key": "a" * 317, "effect": "NoSchedule"}), [f"{P}.taints[0].key"]),
    ("taint-key-invalid", s(TAINT, {"key": "no spaces", "effect": "NoSchedule"}), [f"{P}.taints[0].key"]),
    ("taint-value", s(TAINT, {"key": "k", "value": "a" * 64, "effect": "NoSchedule"}), [f"{P}.taints[0].value"]),
    ("taint-effect", s(TAINT, {"key": "k", "effect": "Evict"}), [f"{P}.taints[0].effect"]),
    ("drain-timeout", s(f"{P}.nodeDrainTimeoutMinutes", 10081), [f"{P}.nodeDrainTimeoutMinutes"]),
    ("identity-type", s("identity", {"type": "Other"}), ["identity.type"]),
    ("tags", s("tags", {"a/b": "c"}), ["tags"]),
]


@pytest.mark.parametrize(("change", "expected"), [(c, t) for _, c, t in RULES], ids=[r[0] for r in RULES])
def test_field_rule(change: Callable[[Body], Any], expected: list[str]) -> None:
    body = node_pool_body()
    change(body)
    parent = created_cluster()
    if len(expected) == 1:
        expect_error(lambda: create(body, parent), BAD, expected[0])
    else:
        err = expect_error(lambda: create(body, parent), errors.MULTIPLE_ERRORS_OCCURRED, None)
        assert sorted(t or "" for t in targets(err)) == sorted(expected)


@pytest.mark.parametrize(
    "change",
    [
        s(f"{PL}.vmSize", "standard_d8S_V3"),  # any case
        both(s(f"{P}.replicas", 300), s(f"{PL}.availabilityZone", "2")),
        both(s(f"{P}.replicas", 0), s(f"{P}.autoScaling", {"min": 0, "max": 0})),
        s(LABEL, {"key": "machine.openshift.io/cluster-api-machine-role", "value": "worker"}),
        s(LABEL, {"key": "example.com/team", "value": ""}),
        both(s(f"{DISK}.diskType", "Ephemeral"), s(f"{DISK}.sizeGiB", 2040)),
        s(
            f"{DISK}.encryptionSetId",
            "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/k"
            "/providers/Microsoft.Compute/diskEncryptionSets/des-1",
        ),
        s(f"{PL}.subnetId", subnet("pool")),  # another subnet of the cluster's VNet
    ],
)
def test_accepted(change: Callable[[Body], Any]) -> None:
    body = node_pool_body()
    change(body)
    create(body)


def test_experimental_release_features_lift_the_minimum() -> None:
    body = setp(node_pool_body(), f"{P}.version.id", "4.20.5")
    assert create(body, features=AFEC).properties.version.id == "4.20.5"


def test_disabled_versions_are_refused() -> None:
    body = setp(node_pool_body(), f"{P}.version.id", "4.21.5")
    expect_error(lambda: create(body, cluster_at("4.21")), BAD, f"{P}.version.id")


@pytest.mark.parametrize(
    ("cluster", "active", "version", "ok"),
    [
        ("4.22", (), "4.20.8", True),  # two minors behind
        ("4.22", ("4.21", "4.22"), "4.21.3", True),  # not above the lowest active control plane
        ("4.22", ("4.21", "4.22"), "4.22.0", False),
        ("4.23", (), "4.20.8", False),  # three minors behind
        ("5.0", (), "4.22.0", True),  # another major: the skew map (with the AFEC)
        ("5.0", (), "4.20.8", False),
    ],
)
def test_version_skew_with_the_control_plane(cluster: str, active: tuple[str, ...], version: str, ok: bool) -> None:
    body = setp(node_pool_body(), f"{P}.version.id", version)
    parent = cluster_at(cluster, active)
    if ok:
        create(body, parent, features=AFEC)
    else:
        expect_error(lambda: create(body, parent, features=AFEC), BAD, f"{P}.version.id")


def test_updates_of_mutable_fields() -> None:
    parent = cluster_at("4.21")
    np = create(node_pool_body(), parent)
    body = {
        "tags": {"pool": "renamed"},
        P: {
            "version": {"id": "4.21.0"},
            "replicas": 0,
            "autoScaling": {"min": 2, "max": 10},
            "labels": [{"key": "tier", "value": "gold"}],
            "taints": None,
            "nodeDrainTimeoutMinutes": 0,
        },
    }
    new = NODE_POOLS.patch(body, np, node_pool_ctx(parent))
    p = new.properties
    assert new.tags == {"pool": "renamed"} and p.version.id == "4.21.0"
    assert (p.replicas, p.auto_scaling.min, p.auto_scaling.max) == (0, 2, 10)  # type: ignore[union-attr]
    assert [(x.key, x.value) for x in p.labels] == [("tier", "gold")] and p.taints == []
    assert p.node_drain_timeout_minutes == 0
    back = NODE_POOLS.patch({P: {"autoScaling": None, "replicas": 4}}, new, node_pool_ctx(parent))
    assert (back.properties.replicas, back.properties.auto_scaling) == (4, None)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("platform.vmSize", "Standard_D16s_v3"),
        ("platform.subnetId", subnet("pool")),
        ("platform.osDisk.sizeGiB", 256),
        ("platform.availabilityZone", "1"),
        ("platform.enableEncryptionAtHost", True),
        ("autoRepair", False),
    ],
)
def test_immutable_fields(path: str, value: Any) -> None:
    np = create(node_pool_body())
    target = f"{P}.{path}"
    expect_error(lambda: NODE_POOLS.patch(setp({}, target, value), np, node_pool_ctx()), IMMUTABLE, target)


def test_version_update_is_checked_against_the_cluster() -> None:
    parent = cluster_at("4.20")
    np = create(node_pool_body(), parent)
    body = {P: {"version": {"id": "4.21.0"}}}
    expect_error(lambda: NODE_POOLS.patch(body, np, node_pool_ctx(parent)), BAD, f"{P}.version.id")


def test_replace_keeps_the_defaulted_subnet() -> None:
    np = create(node_pool_body())
    new = NODE_POOLS.put(node_pool_body(), np, node_pool_ctx())
    assert new.properties.platform.subnet_id == np.properties.platform.subnet_id
    assert NODE_POOLS.to_external(new) == NODE_POOLS.to_external(np)
