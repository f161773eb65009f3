"""The hosted kinds' admin API, as functions: the admin PATCH's strict validation (pausedUntil with
HyperShift's semantics, the irreversible feature set, a z-stream desiredVersion of the catalog), which
requests it names (record-only pauses), the pause arithmetic and condition, the feature set's upgrade
block, and the etcd restore's snapshotURL rules."""

from __future__ import annotations

import datetime as dt
import math
import time
import uuid
from typing import Any

import pytest

from aro.api.errors import CloudError
from aro.api.hcp import admin, etcdbackup, featureset, pausing
from aro.api.hcp.cluster import EtcdBackup, HcpOpenShiftCluster
from aro.api.hcp.conditions import find
from aro.api.hcp.nodepool import NodePool
from aro.api.resource import Request
from tests.api.hcp.fixtures import (
    CLUSTERS,
    NODE_POOLS,
    cluster_ctx,
    created_cluster,
    expect_error,
    node_pool_body,
    node_pool_ctx,
    targets,
)

BAD = "InvalidRequestContent"
MULTIPLE = "MultipleErrorsOccurred"


def rfc3339(seconds_from_now: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_from_now)).strftime("%Y-%m-%dT%H:%M:%SZ")


def patch_cluster(oc: HcpOpenShiftCluster, props: Any) -> str | None:
    return admin.cluster_admin_patch(oc, {"properties": props}, cluster_ctx(current=oc.copy_deep()))


def refused(oc: HcpOpenShiftCluster, body: Any, target: str | None, code: str = BAD) -> CloudError:
    """The PATCH is refused and ``oc`` is left as it was (nothing to write)."""
    before = oc.dump()
    err = expect_error(lambda: admin.cluster_admin_patch(oc, body, cluster_ctx(current=oc.copy_deep())), code, target)
    assert oc.dump() == before, "a refused admin PATCH changed the resource"
    return err


def node_pool() -> NodePool:
    return NODE_POOLS.put(node_pool_body(), None, node_pool_ctx())


# --- the body ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "target", "named"),
    [
        ({"properties": {"pausedUntil": "true", "paused": 1}}, "properties.paused", "properties.paused"),
        ({"properties": {"pausedUntil": "true"}, "tags": {}}, "tags", "tags"),
        ({"properties": {"version": {"id": "4.21"}}}, "properties.version", "properties.version"),
        ({"Properties": {"pausedUntil": "true"}}, "Properties", "Properties"),
    ],
)
def test_unknown_fields_are_refused_by_name(body: Any, target: str, named: str) -> None:
    err = refused(created_cluster(), body, target)
    assert named in err.message and "properties.pausedUntil" in err.message, err.message


@pytest.mark.parametrize("body", [None, [], "true", {"properties": "x"}, {"properties": None}])
def test_the_body_must_be_an_object_with_properties(body: Any) -> None:
    refused(created_cluster(), body, None if not isinstance(body, dict) else "properties")


def test_an_empty_update_is_refused() -> None:
    err = refused(created_cluster(), {"properties": {}}, "properties")
    assert "changes nothing" in err.message


# --- pausedUntil ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("true", "true"),
        ("True", "True"),
        ("false", "false"),
        ("False", "False"),
        (True, "true"),
        (False, "false"),
        (None, ""),
        ("", ""),
        ("2099-01-02T03:04:05Z", "2099-01-02T03:04:05Z"),
        ("2099-01-02T03:04:05.123456789+02:00", "2099-01-02T03:04:05.123456789+02:00"),
    ],
)
def test_paused_until_values_are_recorded_without_an_operation(value: Any, stored: str) -> None:
    oc = created_cluster()
    assert patch_cluster(oc, {"pausedUntil": value}) is None  # record-only: no operation
    assert oc.properties.paused_until == stored


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("yes", "4-35 characters"),
        ("tru", "4-35 characters"),
        ("TRUE", "RFC 3339"),
        ("2099-01-02T03:04:05.1234567890123456789Z", "4-35 characters"),
        ("2099-01-02 03:04:05Z", "RFC 3339"),
        ("2099-01-02T03:04:05", "RFC 3339"),
        ("2099-13-02T03:04:05Z", "RFC 3339"),
        ("2099-01-02", "RFC 3339"),
        (1, "must be a string"),
        ({"until": "true"}, "must be a string"),
    ],
)
def test_bad_paused_until_values_are_refused_with_the_reason(value: Any, reason: str) -> None:
    err = refused(created_cluster(), {"properties": {"pausedUntil": value}}, "properties.pausedUntil")
    assert reason in err.message, err.message


def test_a_pause_is_shown_at_once_and_lifted() -> None:
    oc = created_cluster()
    patch_cluster(oc, {"pausedUntil": "true"})
    c = find(oc.properties.status.conditions, "ReconciliationActive")
    assert c is not None
    assert (c.status, c.reason, c.message) == (
        "False",
        "ReconciliationPaused",
        "Reconciliation paused until the pause is removed",
    )
    when = rfc3339(3600)
    patch_cluster(oc, {"pausedUntil": when})
    assert c.message == f"Reconciliation paused until {when}" and c.status == "False"
    changed_at = c.last_transition_time
    patch_cluster(oc, {"pausedUntil": False})
    assert (c.status, c.reason) == ("True", "ReconciliationActive")
    assert c.last_transition_time >= changed_at


def test_a_resource_never_paused_gains_no_condition() -> None:
    oc = created_cluster()
    patch_cluster(oc, {"pausedUntil": "false"})
    assert find(oc.properties.status.conditions, "ReconciliationActive") is None


def test_paused_until_arithmetic() -> None:
    now = time.time()
    assert pausing.paused_until("true", now) == math.inf
    assert pausing.paused_until("True", now) == math.inf
    for value in ("", "false", "False", rfc3339(-60), "yes", "2099-13-01T00:00:00Z"):
        assert pausing.paused_until(value, now) is None, value
    ahead = pausing.paused_until("2099-01-02T03:04:05Z", now)
    assert ahead == dt.datetime(2099, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp()
    offset = pausing.paused_until("2099-01-02T05:04:05+02:00", now)
    assert offset == ahead


def test_an_invalid_stored_value_is_not_a_pause_and_says_so() -> None:
    oc = created_cluster()
    oc.properties.paused_until = "someday"
    assert pausing.paused_until(oc.properties.paused_until, time.time()) is None
    assert pausing.mark_active(oc.properties.status.conditions, oc.properties.paused_until)
    c = find(oc.properties.status.conditions, "ReconciliationActive")
    assert c is not None and (c.status, c.reason) == ("True", "ReconciliationInvalidPausedUntil")


def test_node_pools_take_paused_until_only() -> None:
    np = node_pool()
    ctx = node_pool_ctx(current=np.copy_deep())
    assert admin.node_pool_admin_patch(np, {"properties": {"pausedUntil": "true"}}, ctx) is None
    assert np.properties.paused_until == "true"
    before = np.dump()
    for props in ({"featureSet": "TechPreviewNoUpgrade"}, {"desiredVersion": "4.20.9"}):
        name = next(iter(props))
        err = expect_error(
            lambda p=props: admin.node_pool_admin_patch(np, {"properties": p}, ctx), BAD, f"properties.{name}"
        )
        assert name in err.message
    expect_error(
        lambda: admin.node_pool_admin_patch(np, {"properties": {"pausedUntil": "nope"}}, ctx),
        BAD,
        "properties.pausedUntil",
    )
    assert np.dump() == before


# --- featureSet ----------------------------------------------------------------------------------------


def test_tech_preview_is_set_by_an_operation_and_cannot_be_undone() -> None:
    oc = created_cluster()
    assert patch_cluster(oc, {"featureSet": "Default"}) == Request.UPDATE
    assert oc.properties.feature_set == ""
    assert patch_cluster(oc, {"featureSet": "TechPreviewNoUpgrade"}) == Request.UPDATE
    assert oc.properties.feature_set == "TechPreviewNoUpgrade"
    assert patch_cluster(oc, {"featureSet": "TechPreviewNoUpgrade"}) == Request.UPDATE  # unchanged: fine
    for value in ("", "Default", None):
        err = refused(oc, {"properties": {"featureSet": value}}, "properties.featureSet")
        assert "TechPreviewNoUpgrade cannot be undone" in err.message, err.message


@pytest.mark.parametrize("value", ["CustomNoUpgrade", "techpreviewnoupgrade", 1, True])
def test_unknown_feature_sets_are_refused(value: Any) -> None:
    err = refused(created_cluster(), {"properties": {"featureSet": value}}, "properties.featureSet")
    assert "Default or TechPreviewNoUpgrade" in err.message


def test_tech_preview_blocks_minor_upgrades_of_the_control_plane() -> None:
    oc = created_cluster()  # 4.20
    assert (
        CLUSTERS.patch({"properties": {"version": {"id": "4.21"}}}, oc, cluster_ctx(current=oc)).properties.version.id
        == "4.21"
    )
    patch_cluster(oc, {"featureSet": "TechPreviewNoUpgrade"})
    with pytest.raises(CloudError) as info:
        CLUSTERS.patch({"properties": {"version": {"id": "4.21"}}}, oc, cluster_ctx(current=oc))
    err = info.value
    assert (err.status, err.code, err.target) == (400, BAD, "properties.version.id")
    assert err.message == f"{featureset.UPGRADE_BLOCKED}."
    # other changes still go through, and the feature set stays
    new = CLUSTERS.patch({"tags": {"a": "b"}}, oc, cluster_ctx(current=oc))
    assert new.tags == {"a": "b"} and new.properties.feature_set == "TechPreviewNoUpgrade"


def test_the_feature_set_condition() -> None:
    oc = created_cluster()
    assert not featureset.mark(oc.properties.status.conditions, "")
    assert featureset.mark(oc.properties.status.conditions, "TechPreviewNoUpgrade")
    c = find(oc.properties.status.conditions, "TechPreviewNoUpgrade")
    assert c is not None and (c.status, c.reason) == ("True", "FeatureSetEnabled")
    assert not featureset.mark(oc.properties.status.conditions, "TechPreviewNoUpgrade")  # unchanged


# --- desiredVersion ------------------------------------------------------------------------------------


def test_a_z_stream_of_the_catalog_is_accepted() -> None:
    oc = created_cluster()  # version.id 4.20, stable
    assert patch_cluster(oc, {"desiredVersion": "4.20.9"}) == Request.UPDATE
    assert oc.properties.desired_version == "4.20.9"
    assert patch_cluster(oc, {"desiredVersion": None}) == Request.UPDATE
    assert oc.properties.desired_version == ""


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("4.21.0", "must be a z-stream of the cluster's version '4.20'"),
        ("4.20", "MAJOR.MINOR.PATCH"),
        ("v4.20.9", "MAJOR.MINOR.PATCH"),
        (4.2, "MAJOR.MINOR.PATCH"),
        ("4.20.99", "is not an enabled version of channel group 'stable'"),
    ],
)
def test_bad_desired_versions_are_refused(value: Any, reason: str) -> None:
    err = refused(created_cluster(), {"properties": {"desiredVersion": value}}, "properties.desiredVersion")
    assert reason in err.message, err.message


def test_a_disabled_or_ended_release_is_refused() -> None:
    oc = created_cluster()
    oc.properties.version.id = "4.21"
    err = refused(oc, {"properties": {"desiredVersion": "4.21.5"}}, "properties.desiredVersion")  # disabled
    assert "not an enabled version" in err.message
    oc.properties.version.id = "4.23"
    refused(oc, {"properties": {"desiredVersion": "4.23.1"}}, "properties.desiredVersion")  # past end of life


def test_every_bad_value_is_reported_together() -> None:
    oc = created_cluster()
    oc.properties.feature_set = "TechPreviewNoUpgrade"
    err = refused(oc, {"properties": {"pausedUntil": "x", "featureSet": "", "desiredVersion": "5"}}, None, MULTIPLE)
    assert targets(err) == ["properties.pausedUntil", "properties.featureSet", "properties.desiredVersion"]


def test_a_pause_with_another_change_runs_as_the_operation() -> None:
    oc = created_cluster()
    assert patch_cluster(oc, {"pausedUntil": "true", "desiredVersion": "4.20.8"}) == Request.UPDATE
    assert (oc.properties.paused_until, oc.properties.desired_version) == ("true", "4.20.8")


# --- etcd restore ---------------------------------------------------------------------------------------


def test_restore_urls() -> None:
    oc = created_cluster()
    cid, bid = str(uuid.uuid4()), str(uuid.uuid4())
    own = f"https://acct.blob.core.windows.net/aro/hcp-etcd-snapshots/{cid}/{bid}.json"
    oc.properties.backups = [EtcdBackup(id=bid, snapshot_url=own, created_at="2026-01-01T00:00:00Z")]
    etcdbackup.accept_restore(oc, {"snapshotURL": own}, "op-1")
    other = f"file:///var/lib/aro/snapshots/hcp-etcd-snapshots/{uuid.uuid4()}/{uuid.uuid4()}.json"
    etcdbackup.accept_restore(oc, {"snapshotURL": other}, "op-2")  # another cluster's snapshot of this RP
    assert [(r.id, r.snapshot_url) for r in oc.properties.restores] == [("op-1", own), ("op-2", other)]
    assert etcdbackup.restore_of(oc, "op-2").requested_at

    before = oc.dump()
    for body, target in (
        ({"snapshotURL": f"s3://bucket/hcp-etcd-snapshots/{cid}/{bid}.json"}, "snapshotURL"),
        ({"snapshotURL": "https://example.com/backup.db"}, "snapshotURL"),
        ({"snapshotURL": own.replace(".json", ".json?sig=x")}, "snapshotURL"),
        ({"snapshotURL": "https://a/" + "x" * 1024 + f"/hcp-etcd-snapshots/{cid}/{bid}.json"}, "snapshotURL"),
        ({"snapshotURL": 5}, "snapshotURL"),
        ({}, "snapshotURL"),
        (None, "snapshotURL"),
        ({"snapshotURL": own, "force": True}, "force"),
    ):
        expect_error(lambda b=body: etcdbackup.accept_restore(oc, b, "op-3"), BAD, target)
    assert oc.dump() == before


def test_a_backup_takes_no_body() -> None:
    oc = created_cluster()
    etcdbackup.accept_backup(oc, None, "op")
    etcdbackup.accept_backup(oc, {}, "op")
    expect_error(lambda: etcdbackup.accept_backup(oc, {"full": True}, "op"), BAD, "full")


def test_backups_are_recorded_once_and_bounded() -> None:
    oc = created_cluster()
    for i in range(etcdbackup.MAX_BACKUPS + 3):
        etcdbackup.record_backup(oc, EtcdBackup(id=f"b{i}", snapshot_url=f"u{i}"))
    etcdbackup.record_backup(oc, EtcdBackup(id="b10", snapshot_url="again"))  # a step run again: replaced
    ids = [b.id for b in oc.properties.backups]
    assert len(ids) == etcdbackup.MAX_BACKUPS and ids.count("b10") == 1 and ids[-1] == "b10"
    assert etcdbackup.backups_view(oc)["value"][-1]["snapshotURL"] == "again"
    assert etcdbackup.backup_result(oc, "b10") == {"id": "b10", "snapshotURL": "again", "createdAt": ""}
    with pytest.raises(CloudError) as info:
        etcdbackup.backup_result(oc, "b0")  # dropped from the record
    assert info.value.status == 404
