"""Day-2 upgrade rules (ARO-HCP's ``validate_cluster.go``, ``admit_cluster.go``, ``admit_nodepool.go`` and
``ValidateNodePoolVersionChange``): a control plane moves at most one minor at a time, never down, to an
available release, and never leaves a node pool more than two minors behind; a node pool never passes the
lowest active control plane version, moves at most two minors at a time and never down."""

from __future__ import annotations

from typing import Any

import pytest

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.catalog import HcpVersion
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.common import ActiveVersion
from aro.api.hcp.externalauth import ExternalAuth
from aro.api.hcp.nodepool import NodePool
from aro.api.hcp.versioning import Version, node_pool_upgrade_error
from tests.api.hcp.fixtures import (
    AFEC,
    CATALOG,
    CLUSTERS,
    NODE_POOLS,
    cluster_body,
    cluster_ctx,
    created_cluster,
    expect_error,
    node_pool_body,
    node_pool_ctx,
    setp,
    targets,
)

P = "properties"
VERSION = f"{P}.version.id"
BAD = errors.INVALID_REQUEST_CONTENT
FUTURE = "2099-01-01T00:00:00Z"
# the fixtures' catalog, plus a 4.23 that is available (the fixtures' 4.23.1 is past its end of life)
WITH_4_23 = [*CATALOG, HcpVersion(name="4.23.0", channel_group="stable", end_of_life_timestamp=FUTURE)]


def cluster(version: str, active: tuple[str, ...] = ()) -> HcpOpenShiftCluster:
    oc = created_cluster(setp(cluster_body(), VERSION, "4.20"))
    oc.properties.version.id = version
    oc.properties.status.active_versions = [ActiveVersion(version=v) for v in active or (version,)]
    return oc


def pool(name: str, version: str, active: tuple[str, ...] = ()) -> NodePool:
    np = NodePool(id=f"{cluster('4.20').id}/nodePools/{name}", name=name)
    np.properties.version.id = version
    np.properties.status.active_versions = [ActiveVersion(version=v) for v in active or (version,)]
    return np


def upgrade(oc: HcpOpenShiftCluster, to: str, children: tuple[Any, ...] = (), **ctx: Any) -> HcpOpenShiftCluster:
    ctx.setdefault("catalog", WITH_4_23)
    return CLUSTERS.patch({P: {"version": {"id": to}}}, oc, cluster_ctx(current=oc, children=children, **ctx))


def message(call: Any) -> str:
    return expect_error(call, BAD, VERSION).message


# --- the control plane -------------------------------------------------------------------------------------


def test_a_control_plane_moves_to_the_next_minor() -> None:
    assert upgrade(cluster("4.20"), "4.21").properties.version.id == "4.21"
    assert upgrade(cluster("4.22"), "4.23").properties.version.id == "4.23"


@pytest.mark.parametrize(
    ("start", "active", "to", "reason"),
    [
        ("4.20", (), "4.22", "only an upgrade to the next minor is allowed: expected 4.21 after 4.20"),
        ("4.21", (), "4.20", "may not decrease from 4.21"),
        # a roll that did not finish: the next minor counts from the lowest active line
        ("4.21", ("4.20", "4.21"), "4.22", "only an upgrade to the next minor is allowed: expected 4.21 after 4.20"),
        # active versions ahead of version.id (never so through this API): never below the highest one
        ("4.20", ("4.22",), "4.21", "may not decrease from 4.22"),
    ],
)
def test_a_control_plane_moves_one_minor_at_most_and_never_down(
    start: str, active: tuple[str, ...], to: str, reason: str
) -> None:
    assert reason in message(lambda: upgrade(cluster(start, active), to))


@pytest.mark.parametrize(
    ("catalog", "why"),
    [
        (
            [*CATALOG, HcpVersion(name="4.23.0", channel_group="stable", enabled=False, end_of_life_timestamp=FUTURE)],
            "disabled",
        ),
        (CATALOG, "past its end of life"),  # 4.23.1 only
        ([*CATALOG, HcpVersion(name="4.23.0", channel_group="fast", end_of_life_timestamp=FUTURE)], "another channel"),
    ],
)
def test_the_target_must_be_available_in_the_channel_group(catalog: list[HcpVersion], why: str) -> None:
    reason = message(lambda: upgrade(cluster("4.22"), "4.23", catalog=catalog))
    assert "version is not available in channel group 'stable'" in reason, why


def test_every_node_pool_stays_within_two_minors_of_the_new_control_plane() -> None:
    children = (pool("current", "4.22.0"), pool("behind", "4.21.3"), ExternalAuth(name="entra"))
    assert upgrade(cluster("4.22"), "4.23", children).properties.version.id == "4.23"  # 4.21 is two behind 4.23

    reason = message(lambda: upgrade(cluster("4.22"), "4.23", (pool("current", "4.22.0"), pool("old", "4.20.8"))))
    assert "node pool 'old' at version 4.20.8" in reason
    assert "must be within 2 minor versions of the control plane version 4.23" in reason
    assert "'current'" not in reason


def test_a_node_pool_counts_by_the_lowest_version_its_nodes_run() -> None:
    rolling = pool("rolling", "4.21.0", active=("4.20.8", "4.21.0"))  # its own roll did not finish
    assert "node pool 'rolling' at version 4.20.8" in message(lambda: upgrade(cluster("4.22"), "4.23", (rolling,)))


def test_each_node_pool_too_far_behind_is_named() -> None:
    children = (pool("one", "4.20.8"), pool("two", "4.20.9"))
    with pytest.raises(CloudError) as info:
        upgrade(cluster("4.22"), "4.23", children)
    err = info.value
    assert err.code == errors.MULTIPLE_ERRORS_OCCURRED and targets(err) == [VERSION, VERSION]
    assert ["'one'" in d.message for d in err.details] == [True, False]
    assert ["'two'" in d.message for d in err.details] == [False, True]


def test_node_pools_across_majors_follow_the_skew_map() -> None:
    assert upgrade(cluster("4.22"), "5.0", (pool("ok", "4.22.0"),), features=AFEC).properties.version.id == "5.0"
    reason = message(lambda: upgrade(cluster("4.22"), "5.0", (pool("old", "4.20.8"),), features=AFEC))
    assert "node pool 'old' at version 4.20.8 cannot run with control plane version 5.0" in reason


def test_the_node_pool_rule_applies_to_version_changes_only() -> None:
    oc = cluster("4.22")
    new = CLUSTERS.patch({"tags": {"a": "b"}}, oc, cluster_ctx(current=oc, children=(pool("old", "4.19.20"),)))
    assert new.tags == {"a": "b"}


# --- node pools --------------------------------------------------------------------------------------------


def created_pool(version: str, parent: HcpOpenShiftCluster) -> NodePool:
    np = NODE_POOLS.put(setp(node_pool_body(), VERSION, version), None, node_pool_ctx(parent))
    np.properties.status.active_versions = [ActiveVersion(version=version)]
    return np


def pool_upgrade(np: NodePool, to: str, parent: HcpOpenShiftCluster, **ctx: Any) -> NodePool:
    ctx.setdefault("catalog", WITH_4_23)
    return NODE_POOLS.patch({P: {"version": {"id": to}}}, np, node_pool_ctx(parent, current=np, **ctx))


def test_a_node_pool_follows_its_control_plane() -> None:
    parent = cluster("4.21")
    np = created_pool("4.20.8", parent)
    assert pool_upgrade(np, "4.21.3", parent).properties.version.id == "4.21.3"
    assert pool_upgrade(np, "4.20.12", parent).properties.version.id == "4.20.12"  # a later z-stream


def test_a_node_pool_never_passes_the_lowest_active_control_plane_version() -> None:
    np = created_pool("4.20.8", cluster("4.21"))
    reason = message(lambda: pool_upgrade(np, "4.22.0", cluster("4.21")))
    assert "must not exceed the control plane version 4.21" in reason
    upgrading = cluster("4.22", active=("4.21", "4.22"))  # the control plane's own roll is not done
    assert "must not exceed the control plane version 4.21" in message(lambda: pool_upgrade(np, "4.22.0", upgrading))


def test_a_node_pool_moves_two_minors_at_most() -> None:
    np = created_pool("4.20.8", cluster("4.22"))
    assert pool_upgrade(np, "4.22.2", cluster("4.22")).properties.version.id == "4.22.2"
    # under a 4.23 control plane (which the skew rule alone would allow 4.21..4.23 with)
    reason = message(lambda: pool_upgrade(np, "4.23.0", cluster("4.23")))
    assert "invalid upgrade path from 4.20.8 to 4.23.0: skipping more than 2 minor versions is not allowed" in reason


def test_two_minors_count_from_the_lowest_version_the_nodes_run() -> None:
    np = created_pool("4.21.0", cluster("4.22"))
    np.properties.status.active_versions = [ActiveVersion(version="4.20.8"), ActiveVersion(version="4.21.0")]
    reason = message(lambda: pool_upgrade(np, "4.23.0", cluster("4.23")))
    assert "from 4.20.8 to 4.23.0" in reason


@pytest.mark.parametrize(("start", "to"), [("4.21.3", "4.21.0"), ("4.21.0", "4.20.12")])
def test_a_node_pool_never_goes_down(start: str, to: str) -> None:
    np = created_pool(start, cluster("4.21"))
    assert f"may not decrease from {start}" in message(lambda: pool_upgrade(np, to, cluster("4.21")))


def test_an_unchanged_node_pool_version_is_not_judged_again() -> None:
    np = created_pool("4.20.8", cluster("4.22"))
    np.properties.status.active_versions = [ActiveVersion(version="4.19.20")]  # e.g. reported oddly
    new = NODE_POOLS.patch({P: {"replicas": 4}}, np, node_pool_ctx(cluster("4.22"), current=np))
    assert new.properties.replicas == 4


@pytest.mark.parametrize(
    ("old", "new", "major", "reason"),
    [
        ("4.20.8", "4.20.9", False, None),
        ("4.20.8", "4.22.0", False, None),
        ("4.20.8", "4.23.0", False, "skipping more than 2 minor versions"),
        ("4.20.9", "4.20.8", False, "may not decrease from 4.20.9"),
        ("4.22.0", "5.0.0", False, "major version upgrades are not supported"),
        ("4.22.0", "5.0.0", True, None),
        ("4.22.0", "5.1.0", True, "4.22 can only upgrade to 5.0"),
        ("4.21.0", "5.0.0", True, "major version upgrades are not supported"),
    ],
)
def test_node_pool_upgrade_paths(old: str, new: str, major: bool, reason: str | None) -> None:
    def parse(text: str) -> Version:
        a, b, c = (int(x) for x in text.split("."))
        return Version(a, b, c)

    got = node_pool_upgrade_error(parse(old), parse(new), major)
    assert got is None if reason is None else (got is not None and reason in got), got
