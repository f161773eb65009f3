"""RFC 7396 merge patch with the ARO twists."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aro.api.mergepatch import merge_patch

# RFC 7396 appendix A (plain semantics: no named lists, nothing replaced whole).
RFC_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_EXAMPLES)
def test_rfc7396_examples(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch, whole=(), named_lists=False) == result


def test_tags_are_replaced_whole() -> None:
    assert merge_patch({"tags": {"t1": "a", "t2": "b"}}, {"tags": {"t3": "c"}}) == {"tags": {"t3": "c"}}
    assert merge_patch({"tags": {"t1": "a"}}, {"tags": {"t1": None, "t2": "b"}}) == {"tags": {"t2": "b"}}
    assert merge_patch({"tags": {"t1": "a"}}, {"tags": None}) == {}
    assert merge_patch({"tags": {"t1": "a"}}, {"properties": {}}) == {"tags": {"t1": "a"}, "properties": {}}
    # only the top-level tags: a nested "tags" object merges normally
    assert merge_patch({"p": {"tags": {"a": "1"}}}, {"p": {"tags": {"b": "2"}}}) == {
        "p": {"tags": {"a": "1", "b": "2"}}
    }


def test_scale_patch_changes_only_the_count() -> None:
    current: dict[str, Any] = {
        "properties": {
            "workerProfiles": [
                {"name": "worker", "vmSize": "Standard_D4s_v5", "diskSizeGB": 128, "subnetId": "/s/w", "count": 3}
            ],
            "masterProfile": {"vmSize": "Standard_D8s_v5"},
        }
    }
    out = merge_patch(current, {"properties": {"workerProfiles": [{"name": "worker", "count": 5}]}})
    expected = copy.deepcopy(current)
    expected["properties"]["workerProfiles"][0]["count"] = 5
    assert out == expected


def test_named_lists_merge_by_name() -> None:
    current = {"l": [{"name": "a", "x": 1, "y": 1}, {"name": "b", "x": 2}]}
    out = merge_patch(current, {"l": [{"name": "b", "x": 3, "z": None}, {"name": "c", "x": 4, "n": None}]})
    assert out == {"l": [{"name": "a", "x": 1, "y": 1}, {"name": "b", "x": 3}, {"name": "c", "x": 4}]}
    out = merge_patch(current, {"l": [{"name": "a", "y": None}]})
    assert out == {"l": [{"name": "a", "x": 1}, {"name": "b", "x": 2}]}


def test_other_lists_are_replaced() -> None:
    assert merge_patch({"l": [{"name": "a"}]}, {"l": [{"id": "x"}]}) == {"l": [{"id": "x"}]}
    assert merge_patch({"l": [1, 2]}, {"l": [3]}) == {"l": [3]}
    assert merge_patch({"l": [{"name": "a"}]}, {"l": []}) == {"l": []}
    assert merge_patch({"l": [{"name": "a", "x": 1}]}, {"l": [{"name": "a"}]}, named_lists=False) == {
        "l": [{"name": "a"}]
    }


def test_inputs_are_not_mutated_and_not_shared() -> None:
    target = {"a": {"b": [1]}, "l": [{"name": "n", "v": {"k": 1}}], "tags": {"x": "y"}}
    patch = {"a": {"c": {"d": 1}}, "l": [{"name": "n", "v": {"k": 2}}], "tags": {"z": "w"}}
    t0, p0 = copy.deepcopy(target), copy.deepcopy(patch)
    out = merge_patch(target, patch)
    assert target == t0 and patch == p0
    out["a"]["b"].append(2)
    out["a"]["c"]["d"] = 9
    out["tags"]["z"] = "changed"
    assert target == t0 and patch == p0
