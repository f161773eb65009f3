"""RFC 7396 JSON merge patch, with the ARO twists.

- ``null`` deletes a member; objects merge recursively; any other value replaces the target.
- Members listed in ``whole`` (by default top-level ``tags``) are replaced as a whole, never merged: ARM
  requires PATCH ``{"tags": {"t3": ..}}`` to leave exactly ``{t3}``.
- With ``named_lists`` (the default), a list of objects that all carry a ``name`` is merged element-wise by
  name: ``{"properties": {"workerProfiles": [{"name": "worker", "count": 3}]}}`` changes only that count.
  Elements the patch does not name are kept; elements with a new name are appended. Any other list
  replaces the target list (plain RFC 7396).

The inputs are never mutated; the result shares no mutable state with them.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

DEFAULT_WHOLE: tuple[tuple[str, ...], ...] = (("tags",),)


def merge_patch(
    target: Any,
    patch: Any,
    *,
    whole: Collection[tuple[str, ...]] = DEFAULT_WHOLE,
    named_lists: bool = True,
) -> Any:
    """Apply ``patch`` to ``target`` and return the result."""
    return _merge(copy.deepcopy(target), patch, (), frozenset(whole), named_lists)


def _merge(target: Any, patch: Any, path: tuple[str, ...], whole: frozenset[tuple[str, ...]], named: bool) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if path in whole or not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        sub = (*path, key)
        if value is None:
            target.pop(key, None)
        elif named and _named(value) and _named(target.get(key)):
            target[key] = _merge_by_name(target[key], value, sub, whole)
        else:
            target[key] = _merge(target.get(key), value, sub, whole, named)
    return target


def _named(value: Any) -> bool:
    """A non-empty list whose elements are all objects with a string ``name``."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(el, dict) and isinstance(el.get("name"), str) for el in value)
    )


def _merge_by_name(
    target: list[dict[str, Any]],
    patch: list[dict[str, Any]],
    path: tuple[str, ...],
    whole: frozenset[tuple[str, ...]],
) -> list[Any]:
    out: list[Any] = list(target)
    for element in patch:
        name = element["name"]
        index = next((i for i, el in enumerate(out) if el["name"] == name), None)
        if index is None:
            out.append(_merge({}, element, path, whole, True))
        else:
            out[index] = _merge(out[index], element, path, whole, True)
    return out
