"""The hosted-cluster catalogs (versions, role sets), the VM size allow-list, the name rules, and the
version skew helpers."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import pytest
from azure.mgmt.redhatopenshifthcp import models as sdk

from aro.api.hcp.catalog import DEFAULT_ROLE_SETS, HcpVersion, load_versions, newest_enabled
from aro.api.hcp.names import CATALOG_NAMES, CLUSTER_NAMES, NODE_POOL_NAMES
from aro.api.hcp.v20261001 import render_role_set, render_version
from aro.api.hcp.versioning import Version, cluster_upgrade_error, node_pool_skew_error, parse_any, parse_full
from aro.api.hcp.vmsizes import ENABLED_VM_SIZES, enabled_vm_size
from aro.api.kind import CatalogEntry

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
LOC = "/subscriptions/s/providers/Microsoft.RedHatOpenShift/locations/eastus"


def test_the_shipped_versions_catalog() -> None:
    versions = load_versions()
    by: dict[tuple[str, str], list[HcpVersion]] = defaultdict(list)
    for v in versions:
        by[(v.parsed.line, v.channel_group)].append(v)
    for line in ("4.20", "4.21", "4.22"):
        for channel in ("stable", "fast"):
            assert len(by[(line, channel)]) >= 3, (line, channel)
    names = {v.name for v in versions if v.channel_group == "stable"}
    assert {f"4.20.{z}" for z in range(5, 13)} <= names and "4.20.8" in names
    assert any(not v.enabled for v in versions)
    assert any(v.enabled and not v.available(NOW) for v in versions)  # past its end of life
    assert {v.channel_group for v in versions} == {"stable", "fast", "candidate", "nightly"}
    only = {v.name for v in versions if v.channel_group in ("candidate", "nightly")} - {
        v.name for v in versions if v.channel_group in ("stable", "fast")
    }
    assert only  # some versions are only in candidate or nightly
    assert sum(v.default for v in versions) == 1
    entry: CatalogEntry = versions[0]
    assert entry.name and entry.enabled in (True, False)


def test_the_catalog_ships_with_the_package() -> None:
    import aro.api.hcp

    assert (Path(aro.api.hcp.__file__).parent / "versions.json").is_file()
    pyproject = (Path(__file__).resolve().parents[3] / "pyproject.toml").read_text()
    assert '"aro.api.hcp" = ["versions.json"]' in pyproject


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"name": "4.20", "channelGroup": "stable"}, "X.Y.Z"),
        ({"name": "4.20.1", "channelGroup": "beta"}, "channel group"),
        ({"name": "4.20.1-rc.1", "channelGroup": "stable"}, "pre-release"),
        ({"name": "4.20.1", "channelGroup": "stable", "endOfLifeTimestamp": "soon"}, "endOfLifeTimestamp"),
        ({"name": "4.20.1", "channelGroup": "stable", "endOfLifeTimestamp": "2027-01-01T00:00:00"}, "endOfLife"),
        ({"name": "4.20.1", "channelGroup": "stable", "enabled": "maybe"}, "invalid versions catalog entry"),
    ],
)
def test_invalid_catalogs_are_refused(tmp_path: Path, entry: dict[str, object], reason: str) -> None:
    path = tmp_path / "versions.json"
    path.write_text(json.dumps({"versions": [entry]}))
    with pytest.raises(ValueError, match=reason):
        load_versions(path)


def test_duplicates_and_two_defaults_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "versions.json"
    path.write_text(json.dumps([{"name": "4.20.1", "channelGroup": "fast"}] * 2))
    with pytest.raises(ValueError, match="twice"):
        load_versions(path)
    path.write_text(json.dumps([{"name": f"4.20.{z}", "default": True} for z in (1, 2)]))
    with pytest.raises(ValueError, match="default"):
        load_versions(path)
    path.write_text(json.dumps([{"name": "4.20.1"}, {"name": "4.20.1", "channelGroup": "fast"}]))
    assert [v.resource_name for v in load_versions(path)] == ["4.20.1", "4.20.1-fast"]


def test_newest_enabled() -> None:
    shipped = load_versions()
    assert newest_enabled(shipped, "4.20", "stable", NOW).name == "4.20.12"  # type: ignore[union-attr]
    assert newest_enabled(shipped, "4.22", "fast", NOW).name == "4.22.4"  # type: ignore[union-attr]
    assert newest_enabled(shipped, "4.19", "stable", NOW) is None  # past its end of life
    assert newest_enabled(shipped, "4.20", "nightly", NOW) is None
    assert newest_enabled(shipped, "4.20.1", "stable", NOW) is None
    future = "2099-01-01T00:00:00Z"
    versions = [
        HcpVersion(name="4.21.9", enabled=False, end_of_life_timestamp=future),
        HcpVersion(name="4.21.10", end_of_life_timestamp=future),
        HcpVersion(name="4.21.11", channel_group="fast", end_of_life_timestamp=future),
        HcpVersion(name="4.21.2", end_of_life_timestamp=future),
    ]
    assert newest_enabled(versions, "4.21", "stable", NOW).name == "4.21.10"  # type: ignore[union-attr]
    versions[1].enabled = False
    assert newest_enabled(versions, "4.21", "stable", NOW).name == "4.21.2"  # type: ignore[union-attr]


def test_render_version() -> None:
    entry = HcpVersion(name="4.20.8", channel_group="fast", end_of_life_timestamp="2027-10-21T00:00:00Z")
    rid = f"{LOC}/hcpOpenShiftVersions/{entry.resource_name}"
    out = render_version(entry, rid)
    assert out["type"] == "Microsoft.RedHatOpenShift/locations/hcpOpenShiftVersions"
    back = sdk.HcpOpenShiftVersion(out)
    assert (back.id, back.name, back.properties.channel_group, back.properties.enabled) == (
        rid,
        "4.20.8-fast",
        "fast",
        True,
    )
    assert back.properties.end_of_life_timestamp == dt.datetime(2027, 10, 21, tzinfo=dt.UTC)


def test_default_role_sets() -> None:
    names = [r.name for r in DEFAULT_ROLE_SETS]
    assert "4.20" in names and sum(r.default for r in DEFAULT_ROLE_SETS) == 1
    rs = DEFAULT_ROLE_SETS[0]
    assert [o.name for o in rs.control_plane_operators] == [
        "cluster-api-azure",
        "control-plane",
        "cloud-controller-manager",
        "ingress",
        "disk-csi-driver",
        "file-csi-driver",
        "image-registry",
        "cloud-network-config",
        "kms",
    ]
    assert [o.name for o in rs.data_plane_operators] == ["disk-csi-driver", "file-csi-driver", "image-registry"]
    out = render_role_set(rs, f"{LOC}/hcpOperatorIdentityRoleSets/{rs.name}")
    back = sdk.HcpOperatorIdentityRoleSet(out)
    kms = back.properties.control_plane_operators[-1]
    assert (kms.name, kms.required) == ("kms", "OnEnablement")
    assert back.properties.control_plane_operators[0].required == "Always"
    for op in (*back.properties.control_plane_operators, *back.properties.data_plane_operators):
        [role] = op.role_definitions
        assert role.resource_id.startswith("/providers/Microsoft.Authorization/roleDefinitions/") and role.name


def test_vm_sizes() -> None:
    assert len(ENABLED_VM_SIZES) == 168
    assert all(s.startswith("Standard_") for s in ENABLED_VM_SIZES)
    assert enabled_vm_size("standard_d8s_v3") == "Standard_D8s_v3"
    assert enabled_vm_size("Standard_B2s") is None


@pytest.mark.parametrize(
    ("rule", "name", "ok"),
    [
        (CLUSTER_NAMES, "a" * 54, True),
        (CLUSTER_NAMES, "a" * 55, False),
        (CLUSTER_NAMES, "My-Cluster1", True),
        (CLUSTER_NAMES, "1cluster", False),
        (CLUSTER_NAMES, "cluster-", False),
        (CLUSTER_NAMES, "cluster\n", False),
        (NODE_POOL_NAMES, "workers-1", True),
        (NODE_POOL_NAMES, "a" * 16, False),
        (NODE_POOL_NAMES, "a_b", False),
        (CATALOG_NAMES, "4.20.8-fast", True),
        (CATALOG_NAMES, "4.", False),
    ],
)
def test_name_rules(rule: object, name: str, ok: bool) -> None:
    assert rule.valid(name) is ok  # type: ignore[attr-defined]


def v(text: str) -> Version:
    parsed = parse_any(text)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("old", "new", "ok"),
    [
        ("4.20", "4.20", True),
        ("4.20", "4.21", True),
        ("4.21", "4.20", False),
        ("4.20", "4.22", False),
        ("4.22", "5.0", True),
        ("4.23", "5.1", True),
        ("4.21", "5.0", False),
        ("4.22", "5.1", False),
        ("4.22", "6.0", False),
        ("4.20.9", "4.20.8", False),
    ],
)
def test_cluster_upgrade_skew(old: str, new: str, ok: bool) -> None:
    assert (cluster_upgrade_error(v(old), v(new)) is None) is ok


@pytest.mark.parametrize(
    ("node_pool", "lowest", "highest", "afec", "ok"),
    [
        ("4.20.8", "4.20", "4.20", False, True),
        ("4.20.8", "4.22", "4.22", False, True),
        ("4.20.8", "4.23", "4.23", False, False),
        ("4.21.0", "4.20", "4.21", False, False),
        ("4.22.0", "5.0", "5.0", False, False),
        ("4.22.0", "5.0", "5.0", True, True),
        ("4.22.0", "5.1", "5.1", True, True),
        ("4.21.0", "5.1", "5.1", True, False),
    ],
)
def test_node_pool_skew(node_pool: str, lowest: str, highest: str, afec: bool, ok: bool) -> None:
    assert (node_pool_skew_error(v(node_pool), v(lowest), v(highest), afec) is None) is ok


def test_version_order() -> None:
    ordered = ["4.20.0-ec.1", "4.20.0-rc.1", "4.20.0-rc.2", "4.20.0", "4.20.1", "4.20.10", "4.21.0"]
    parsed = [parse_full(t) for t in ordered]
    assert all(p is not None for p in parsed)
    assert sorted(parsed, key=lambda p: p._key()) == parsed  # type: ignore[union-attr]
    assert parse_full("4.20") is None and parse_full("04.20.1") is None and parse_any("4.20") == Version(4, 20)
