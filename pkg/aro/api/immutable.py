"""One generic differ driven by an update policy given as data.

An api-version declares which JSON paths of its external representation are mutable, read-only or compared
case-insensitively (``UpdatePolicy``); :func:`check_update` compares the old and the new external JSON and
raises 400 ``PropertyChangeNotAllowed`` for the first changed path that is not mutable.

Patterns are dotted JSON paths; ``[*]`` (or ``.*``) matches any map key or list element, e.g.
``properties.ingressProfiles[*].ip`` or ``identity.userAssignedIdentities[*].principalId``. A pattern
covers its whole subtree: ``tags`` makes every tag mutable.

Rendered paths follow ARO: ``properties.workerProfiles['worker'].count`` for list elements that carry a
``name``, ``[0]`` for other list elements, ``['key']`` for the keys of map-valued fields (``maps``).

Comparison rules: a missing member, ``null``, ``""``, ``[]`` and ``{}`` are all "absent" and equal to each
other, except that removing (``null``/missing) an object with content is a change of the object itself.
Objects are compared member by member (an absent object counts as ``{}``), lists element by element (paired
by ``name`` when every element is named, else by index; a different length is a change of the list).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from aro.api.errors import PROPERTY_CHANGE_NOT_ALLOWED, CloudError

WILDCARD = "*"
SegKind = Literal["field", "key", "index"]


@dataclass(frozen=True)
class Seg:
    """One step of a concrete path: an object member, a map key / list element name, or a list index."""

    value: str | int
    kind: SegKind = "field"

    def render(self, first: bool) -> str:
        if self.kind == "index":
            return f"[{self.value}]"
        if self.kind == "key":
            return f"['{self.value}']"
        return str(self.value) if first else f".{self.value}"


Path = tuple[Seg, ...]
Pattern = tuple[str, ...]


def render(path: Path) -> str:
    return "".join(seg.render(i == 0) for i, seg in enumerate(path))


def compile_pattern(pattern: str) -> Pattern:
    """``properties.ingressProfiles[*].ip`` -> ``("properties", "ingressProfiles", "*", "ip")``."""
    return tuple(p for p in pattern.replace("[*]", ".*").split(".") if p)


def _seg_matches(pat: str, seg: Seg) -> bool:
    if pat == WILDCARD:
        return True
    return seg.kind != "index" and pat == seg.value


def matches(pattern: Pattern, path: Path, *, prefix: bool = True) -> bool:
    """True when ``pattern`` equals ``path`` or (with ``prefix``) is an ancestor of it."""
    if len(pattern) > len(path) or (not prefix and len(pattern) != len(path)):
        return False
    return all(_seg_matches(p, s) for p, s in zip(pattern, path, strict=False))


@dataclass(frozen=True)
class UpdatePolicy:
    """Which paths of an external representation an update may change.

    - ``mutable``: may change freely (subtree included).
    - ``read_only``: ignored -- server-owned values; removed from requests before they are parsed.
    - ``case_insensitive``: string values compared ignoring case (ARM ids, location).
    - ``maps``: paths whose value is a map (their keys render as ``['key']``).
    - ``append_only``: maps whose existing keys may not be removed (values follow ``mutable``).
    Everything else is immutable.
    """

    mutable: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()
    case_insensitive: tuple[str, ...] = ()
    maps: tuple[str, ...] = ()
    append_only: tuple[str, ...] = ()
    _compiled: dict[str, tuple[Pattern, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = ("mutable", "read_only", "case_insensitive", "maps", "append_only")
        compiled = {n: tuple(compile_pattern(p) for p in getattr(self, n)) for n in names}
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "_memo", {})

    def _any(self, name: str, path: Path, *, prefix: bool = True) -> bool:
        # memoised: every PUT/PATCH asks the same questions about the same paths (~400 us -> ~60 us a body)
        memo: dict[tuple[str, bool, Path], bool] = self._memo  # type: ignore[attr-defined]
        key = (name, prefix, path)
        hit = memo.get(key)
        if hit is None:
            if len(memo) > 8192:  # map keys (tags) are client-chosen: keep the memo bounded
                memo.clear()
            hit = memo[key] = any(matches(p, path, prefix=prefix) for p in self._compiled[name])
        return hit

    def is_mutable(self, path: Path) -> bool:
        return self._any("mutable", path)

    def is_read_only(self, path: Path) -> bool:
        return self._any("read_only", path)

    def is_case_insensitive(self, path: Path) -> bool:
        return self._any("case_insensitive", path)

    def is_map(self, path: Path) -> bool:
        return self._any("maps", path, prefix=False)

    def is_append_only(self, path: Path) -> bool:
        return self._any("append_only", path, prefix=False)

    def strip_read_only(self, doc: Any) -> Any:
        """A copy of ``doc`` without the read-only members (what a request may not set)."""
        return self._strip(doc, ())

    def _strip(self, value: Any, path: Path) -> Any:
        if isinstance(value, dict):
            kind: SegKind = "key" if self.is_map(path) else "field"
            out: dict[str, Any] = {}
            for k, v in value.items():
                sub = (*path, Seg(k, kind))
                if not self.is_read_only(sub):
                    out[k] = self._strip(v, sub)
            return out
        if isinstance(value, list):
            return [self._strip(v, (*path, _element_seg(v, i))) for i, v in enumerate(value)]
        return value


def change_not_allowed(target: str) -> CloudError:
    return CloudError(400, PROPERTY_CHANGE_NOT_ALLOWED, f"Changing property '{target}' is not allowed.", target)


def check_update(old: Any, new: Any, policy: UpdatePolicy) -> None:
    """Raise PropertyChangeNotAllowed for the first path where ``new`` differs from ``old`` and the policy
    does not allow a change. ``old`` and ``new`` are external JSON documents (dicts)."""
    _Differ(policy).walk((), policy.strip_read_only(old), policy.strip_read_only(new))


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _deep_absent(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_deep_absent(v) for v in value.values())
    return _absent(value)


def _element_seg(value: Any, index: int) -> Seg:
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"]:
        return Seg(value["name"], "key")
    return Seg(index, "index")


def _union(old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
    yield from old
    yield from (k for k in new if k not in old)


class _Differ:
    def __init__(self, policy: UpdatePolicy) -> None:
        self.policy = policy

    def walk(self, path: Path, old: Any, new: Any) -> None:
        p = self.policy
        if path and p.is_read_only(path):
            return
        if p.is_append_only(path) and isinstance(old, dict):
            kept = new if isinstance(new, dict) else {}
            for key in old:
                if key not in kept:
                    raise change_not_allowed(render((*path, Seg(key, "key"))))
        if path and p.is_mutable(path):
            return
        if isinstance(old, dict) and new is None and not _deep_absent(old):
            raise change_not_allowed(render(path))  # a whole object removed
        if isinstance(old, dict) or isinstance(new, dict):
            self._objects(path, {} if _absent(old) else old, {} if _absent(new) else new)
        elif isinstance(old, list) or isinstance(new, list):
            self._lists(path, [] if _absent(old) else old, [] if _absent(new) else new)
        elif _absent(old) and _absent(new):
            return
        elif not self._equal(path, old, new):
            raise change_not_allowed(render(path))

    def _equal(self, path: Path, old: Any, new: Any) -> bool:
        if isinstance(old, str) and isinstance(new, str) and self.policy.is_case_insensitive(path):
            return old.casefold() == new.casefold()
        return type(old) is type(new) and bool(old == new)

    def _objects(self, path: Path, old: Any, new: Any) -> None:
        if not isinstance(old, dict) or not isinstance(new, dict):
            raise change_not_allowed(render(path))
        kind: SegKind = "key" if self.policy.is_map(path) else "field"
        for key in _union(old, new):
            self.walk((*path, Seg(key, kind)), old.get(key), new.get(key))

    def _lists(self, path: Path, old: Any, new: Any) -> None:
        if not isinstance(old, list) or not isinstance(new, list):
            raise change_not_allowed(render(path))
        for seg, o, n in self._pairs(path, old, new):
            self.walk((*path, seg), o, n)

    def _pairs(self, path: Path, old: list[Any], new: list[Any]) -> Iterable[tuple[Seg, Any, Any]]:
        old_named = _by_name(old)
        new_named = _by_name(new)
        if old_named is not None and new_named is not None:
            if set(old_named) != set(new_named):
                raise change_not_allowed(render(path))
            return [(Seg(name, "key"), el, new_named[name]) for name, el in old_named.items()]
        if len(old) != len(new):
            raise change_not_allowed(render(path))
        return [(_element_seg(o, i), o, n) for i, (o, n) in enumerate(zip(old, new, strict=True))]


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    """name -> element when every element is an object with a distinct non-empty string name."""
    out: dict[str, Any] = {}
    for el in items:
        name = el.get("name") if isinstance(el, dict) else None
        if not isinstance(name, str) or not name or name in out:
            return None
        out[name] = el
    return out
