"""Label and field selectors, as ``?labelSelector=`` and ``?fieldSelector=`` spell them.

Label selectors: comma-separated requirements, all of which must hold -- ``k=v``, ``k==v``, ``k!=v`` (also
true when ``k`` is absent), ``k`` (exists), ``!k`` (absent), ``k in (a,b)``, ``k notin (a,b)`` (also true
when absent), ``k>n`` / ``k<n`` (integer values). Field selectors: ``field=v`` / ``field==v`` /
``field!=v`` over the fields each resource declares (``metadata.name`` and ``metadata.namespace`` always).
A malformed selector, or a field the resource does not support, is a ``BadRequest``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._kubeerrors import bad_request

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_SET = re.compile(r"^(?P<key>[^\s!=<>(),]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_CMP = re.compile(r"^(?P<key>[^\s!=<>(),]+)\s*(?P<op>==|=|!=|>|<)\s*(?P<value>[^\s!=<>(),]*)$")

Object = dict[str, Any]


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if not present:
            return False
        try:
            have, want = int(value), int(self.values[0])
        except ValueError:
            return False
        return have > want if self.op == ">" else have < want


def _split(selector: str) -> list[str]:
    """Split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(selector):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise bad_request(f"unable to parse requirement: unbalanced parentheses in {selector!r}")
        elif ch == "," and depth == 0:
            parts.append(selector[start:i])
            start = i + 1
    if depth:
        raise bad_request(f"unable to parse requirement: unbalanced parentheses in {selector!r}")
    parts.append(selector[start:])
    return [p.strip() for p in parts]


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise bad_request(f"unable to parse requirement: invalid label key {key!r}")
    return key


def _check_value(value: str) -> str:
    if not _VALUE.match(value):
        raise bad_request(f"unable to parse requirement: invalid label value {value!r}")
    return value


def parse_labels(selector: str) -> tuple[Requirement, ...]:
    if not selector.strip():
        return ()
    out: list[Requirement] = []
    for part in _split(selector):
        if not part:
            raise bad_request(f"unable to parse requirement: empty requirement in {selector!r}")
        if m := _SET.match(part):
            values = tuple(_check_value(v.strip()) for v in m.group("values").split(","))
            out.append(Requirement(_check_key(m.group("key")), m.group("op"), values))
        elif m := _CMP.match(part):
            op = "=" if m.group("op") == "==" else m.group("op")
            value = m.group("value")
            if op in (">", "<") and not re.fullmatch(r"-?\d+", value):
                raise bad_request(f"unable to parse requirement: {part!r} needs an integer value")
            out.append(Requirement(_check_key(m.group("key")), op, (_check_value(value),)))
        elif part.startswith("!"):
            out.append(Requirement(_check_key(part[1:].strip()), "!"))
        else:
            out.append(Requirement(_check_key(part), "exists"))
    return tuple(out)


def labels_match(requirements: tuple[Requirement, ...], obj: Object) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in requirements)


FieldGetter = Callable[[Object], str]

COMMON_FIELDS: dict[str, FieldGetter] = {
    "metadata.name": lambda o: str((o.get("metadata") or {}).get("name", "")),
    "metadata.namespace": lambda o: str((o.get("metadata") or {}).get("namespace", "")),
}


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    negate: bool
    value: str
    getter: FieldGetter

    def matches(self, obj: Object) -> bool:
        return (self.getter(obj) == self.value) != self.negate


def parse_fields(selector: str, fields: Mapping[str, FieldGetter]) -> tuple[FieldRequirement, ...]:
    if not selector.strip():
        return ()
    out: list[FieldRequirement] = []
    for part in selector.split(","):
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(==|=|!=)\s*(.*?)\s*", part)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        field, op, value = m.groups()
        getter = fields.get(field)
        if getter is None:
            raise bad_request(f'field label not supported: "{field}"')
        out.append(FieldRequirement(field, op == "!=", value, getter))
    return tuple(out)


def fields_match(requirements: tuple[FieldRequirement, ...], obj: Object) -> bool:
    return all(r.matches(obj) for r in requirements)
