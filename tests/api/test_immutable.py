"""The generic differ, driven only by policy data."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aro.api.errors import CloudError
from aro.api.immutable import UpdatePolicy, check_update

POLICY = UpdatePolicy(
    mutable=("tags", "spec.pools[*].count", "spec.identities"),
    read_only=("id", "spec.url", "spec.pools[*].status", "spec.identities[*].clientId"),
    case_insensitive=("spec.subnetId",),
    maps=("tags", "spec.identities", "spec.labels"),
    append_only=("spec.identities",),
)

OLD: dict[str, Any] = {
    "id": "/x",
    "tags": {"a": "1"},
    "spec": {
        "subnetId": "/Subscriptions/S/Subnet",
        "url": "https://old",
        "pools": [{"name": "worker", "count": 3, "size": "D4", "status": "ok"}],
        "cidrs": ["10.0.0.0/16", "10.1.0.0/16"],
        "identities": {"ccm": {"resourceId": "/id/ccm", "clientId": "c1"}},
        "labels": {"k": "v"},
        "flags": {"fips": "Disabled"},
        "empty": "",
    },
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """OLD with ``path`` (dotted; digits index lists; a ``None`` value deletes) set to ``value``."""
    doc = copy.deepcopy(OLD)
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(last) if last.isdigit() else last
    if value is None:
        del node[key]
    else:
        node[key] = value
    return doc


def refused(new: dict[str, Any]) -> str | None:
    try:
        check_update(OLD, new, POLICY)
    except CloudError as err:
        assert (err.status, err.code) == (400, "PropertyChangeNotAllowed")
        assert err.message == f"Changing property '{err.target}' is not allowed."
        return err.target
    return None


# (case id, path, new value, expected target or None when the change is allowed)
CASES: list[tuple[str, str, Any, str | None]] = [
    ("tag-changed", "tags", {"b": "2"}, None),
    ("tags-removed", "tags", None, None),
    ("pool-count-mutable", "spec.pools.0.count", 5, None),
    ("pool-size-immutable", "spec.pools.0.size", "D8", "spec.pools['worker'].size"),
    ("pool-status-read-only", "spec.pools.0.status", "bad", None),
    ("pool-added", "spec.pools", [*OLD["spec"]["pools"], {"name": "infra"}], "spec.pools"),
    ("pool-renamed", "spec.pools.0.name", "workers", "spec.pools"),
    ("url-read-only", "spec.url", "https://new", None),
    ("id-read-only", "id", "/y", None),
    ("subnet-case-only", "spec.subnetId", "/subscriptions/s/subnet", None),
    ("subnet-changed", "spec.subnetId", "/subscriptions/s/other", "spec.subnetId"),
    ("unnamed-list-element", "spec.cidrs.1", "10.2.0.0/16", "spec.cidrs[1]"),
    ("unnamed-list-shorter", "spec.cidrs", ["10.0.0.0/16"], "spec.cidrs"),
    ("map-key-value", "spec.labels", {"k": "w"}, "spec.labels['k']"),
    ("map-key-added", "spec.labels", {"k": "v", "k2": "v"}, "spec.labels['k2']"),
    ("identity-added", "spec.identities", {**OLD["spec"]["identities"], "csi": {"resourceId": "/id/csi"}}, None),
    ("identity-changed", "spec.identities", {"ccm": {"resourceId": "/id/other"}}, None),
    ("identity-removed", "spec.identities", {"csi": {"resourceId": "/id/csi"}}, "spec.identities['ccm']"),
    ("nested-field", "spec.flags.fips", "Enabled", "spec.flags.fips"),
    ("field-added", "spec.flags.extra", "x", "spec.flags.extra"),
    ("field-removed", "spec.flags.fips", None, "spec.flags.fips"),
    ("object-removed", "spec.flags", None, "spec.flags"),
    ("empty-string-vs-missing", "spec.empty", None, None),
    ("empty-string-vs-empty-list", "spec.empty", [], None),
    ("mutable-any-value", "spec.pools.0.count", "3", None),
    ("int-vs-string", "spec.flags", {"fips": 0}, "spec.flags.fips"),
]


@pytest.mark.parametrize(("path", "value", "target"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_differ(path: str, value: Any, target: str | None) -> None:
    assert refused(changed(path, value)) == target


def test_identical_documents_pass_and_are_not_mutated() -> None:
    old, new = copy.deepcopy(OLD), copy.deepcopy(OLD)
    check_update(old, new, POLICY)
    assert old == OLD and new == OLD


def test_first_difference_in_document_order_is_reported() -> None:
    new = changed("spec.subnetId", "/other")
    new["spec"]["flags"]["fips"] = "Enabled"
    assert refused(new) == "spec.subnetId"


def test_absent_values_are_equal() -> None:
    policy = UpdatePolicy()
    check_update({"a": None, "b": "", "c": [], "d": {}}, {"e": None}, policy)
    check_update({"a": {"b": ""}}, {}, policy)  # an object with no content may disappear


def test_lists_named_in_another_order_pair_by_name() -> None:
    old = {"l": [{"name": "a", "v": 1}, {"name": "b", "v": 2}]}
    check_update(old, {"l": [{"name": "b", "v": 2}, {"name": "a", "v": 1}]}, UpdatePolicy())
    with pytest.raises(CloudError) as info:
        check_update(old, {"l": [{"name": "b", "v": 3}, {"name": "a", "v": 1}]}, UpdatePolicy())
    assert info.value.target == "l['b'].v"


def test_strip_read_only() -> None:
    stripped = POLICY.strip_read_only(OLD)
    assert "id" not in stripped and "url" not in stripped["spec"]
    assert stripped["spec"]["pools"] == [{"name": "worker", "count": 3, "size": "D4"}]
    assert stripped["spec"]["identities"] == {"ccm": {"resourceId": "/id/ccm"}}
    assert OLD["spec"]["url"] == "https://old"


def test_wildcard_spellings_are_equivalent() -> None:
    a = UpdatePolicy(mutable=("spec.pools[*].count",))
    b = UpdatePolicy(mutable=("spec.pools.*.count",))
    new = changed("spec.pools.0.count", 9)
    for policy in (a, b):
        check_update({"spec": {"pools": OLD["spec"]["pools"]}}, {"spec": {"pools": new["spec"]["pools"]}}, policy)
