"""ARM resource ids and a small subset of ARM template evaluation.

Supported template features: ``parameters`` (with ``defaultValue``), ``variables``, ``resources[]``
(``type``, ``name``, ``apiVersion``, ``location``, ``tags``, ``sku``, ``kind``, ``zones``, ``identity``,
``plan``, ``properties``; ``dependsOn`` is ignored, parents are created before children) and ``outputs``.
String values may be expressions ``[fn(...)...]``; ``[[`` escapes a literal ``[``. Functions:
``parameters``, ``variables``, ``resourceGroup()`` (``.name``/``.location``/``.id``), ``subscription()``
(``.subscriptionId``/``.id``), ``concat``, ``format``, ``toLower``, ``toUpper``, ``string``,
``resourceId``, ``uniqueString``. Anything else is ``InvalidTemplate`` -- never silently wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_PASSTHROUGH = ("location", "tags", "sku", "kind", "zones", "identity", "plan", "managedBy")


class TemplateError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def rg_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def build_resource_id(subscription_id: str, resource_group: str, rtype: str, name: str) -> str:
    """``Microsoft.Network/dnsZones/A`` + ``zone/api`` -> ``.../Microsoft.Network/dnsZones/zone/A/api``."""
    parts = rtype.split("/")
    names = name.split("/")
    if len(parts) < 2 or any(not p for p in parts):
        raise TemplateError(f"The resource type '{rtype}' is not valid.")
    if len(names) != len(parts) - 1 or any(not n for n in names):
        raise TemplateError(
            f"The resource name '{name}' for type '{rtype}' has an incorrect number of segments: "
            f"expected {len(parts) - 1}."
        )
    path = "/".join(f"{t}/{n}" for t, n in zip(parts[1:], names, strict=True))
    return f"{rg_id(subscription_id, resource_group)}/providers/{parts[0]}/{path}"


def parent_id(resource_id: str) -> str | None:
    """The parent resource's id for a nested resource, None for a top-level one."""
    segs = resource_id.strip("/").split("/")
    # subscriptions/s/resourceGroups/rg/providers/ns/type/name = 8 segments for a top-level resource
    return "/" + "/".join(segs[:-2]) if len(segs) > 8 else None


@dataclass(frozen=True)
class PlannedResource:
    id: str
    type: str
    name: str
    body: dict[str, Any]  # location, properties and the pass-through fields, evaluated


@dataclass(frozen=True)
class _Ctx:
    subscription_id: str
    resource_group: str
    location: str
    parameters: dict[str, Any]
    variables: Mapping[str, Any]


_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[(),.\[\]]))")


def _tokenize(src: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    src = src.rstrip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"The template language expression '{src}' is not valid at position {pos}.")
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, src: str, call: Callable[[str, list[Any]], Any]) -> None:
        self.src = src
        self.toks = _tokenize(src)
        self.i = 0
        self.call = call

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        tok = self._peek()
        if tok is None or (value is not None and tok[1] != value):
            raise TemplateError(f"The template language expression '{self.src}' is not valid.")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self._expr()
        if self._peek() is not None:
            raise TemplateError(f"The template language expression '{self.src}' has trailing content.")
        return value

    def _expr(self) -> Any:
        kind, text = self._take()
        if kind == "str":
            value: Any = text[1:-1].replace("''", "'")
        elif kind == "num":
            value = int(text)
        elif kind == "id":
            self._take("(")
            args: list[Any] = []
            if self._peek() != ("op", ")"):
                args.append(self._expr())
                while self._peek() == ("op", ","):
                    self._take(",")
                    args.append(self._expr())
            self._take(")")
            value = self.call(text, args)
        else:
            raise TemplateError(f"The template language expression '{self.src}' is not valid.")
        while self._peek() in (("op", "."), ("op", "[")):
            if self._take()[1] == ".":
                value = _member(value, self._take()[1], self.src)
            else:
                value = _member(value, self._expr(), self.src)
                self._take("]")
        return value


def _member(value: Any, key: Any, src: str) -> Any:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(key, str) and k.lower() == key.lower():
                return v
    elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    raise TemplateError(f"The template language expression '{src}' is not valid: no property '{key}'.")


def _call(ctx: _Ctx, name: str, args: list[Any]) -> Any:
    fn = name.lower()
    if fn == "parameters":
        if len(args) != 1 or args[0] not in ctx.parameters:
            raise TemplateError(f"The template parameter '{args[0] if args else ''}' is not found.")
        return ctx.parameters[args[0]]
    if fn == "variables":
        if len(args) != 1:
            raise TemplateError("variables() takes one argument.")
        return ctx.variables[args[0]]
    if fn == "resourcegroup":
        return {
            "id": rg_id(ctx.subscription_id, ctx.resource_group),
            "name": ctx.resource_group,
            "location": ctx.location,
            "type": "Microsoft.Resources/resourceGroups",
        }
    if fn == "subscription":
        return {"id": f"/subscriptions/{ctx.subscription_id}", "subscriptionId": ctx.subscription_id}
    if fn == "concat":
        if args and all(isinstance(a, list) for a in args):
            return [x for a in args for x in a]
        return "".join(_str(a) for a in args)
    if fn == "format" and args:
        return re.sub(r"\{(\d+)\}", lambda m: _str(args[1 + int(m.group(1))]), str(args[0]))
    if fn in ("tolower", "toupper", "string") and len(args) == 1:
        s = _str(args[0])
        return s.lower() if fn == "tolower" else s.upper() if fn == "toupper" else s
    if fn == "resourceid" and len(args) >= 2:
        return build_resource_id(ctx.subscription_id, ctx.resource_group, str(args[0]), "/".join(args[1:]))
    if fn == "uniquestring" and args:
        return hashlib.sha256("/".join(_str(a) for a in args).encode()).hexdigest()[:13]
    raise TemplateError(f"The template function '{name}' is not supported by the simulator.")


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _evaluate(value: Any, ctx: _Ctx) -> Any:
    if isinstance(value, str):
        if value.startswith("[["):
            return value[1:]
        if value.startswith("[") and value.endswith("]"):
            return _Parser(value[1:-1], lambda n, a: _call(ctx, n, a)).parse()
        return value
    if isinstance(value, list):
        return [_evaluate(v, ctx) for v in value]
    if isinstance(value, dict):
        return {k: _evaluate(v, ctx) for k, v in value.items()}
    return value


class _Variables(Mapping[str, Any]):
    """Template variables, evaluated on first use (they may refer to each other)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.ctx: _Ctx | None = None
        self.done: dict[str, Any] = {}
        self.busy: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        if key not in self.raw or self.ctx is None:
            raise TemplateError(f"The template variable '{key}' is not found.")
        if key not in self.done:
            if key in self.busy:
                raise TemplateError(f"The template variable '{key}' refers to itself.")
            self.busy.add(key)
            self.done[key] = _evaluate(self.raw[key], self.ctx)
        return self.done[key]

    def __iter__(self) -> Any:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


def _parameter_values(template: Mapping[str, Any], supplied: Mapping[str, Any]) -> dict[str, Any]:
    declared = template.get("parameters") or {}
    if not isinstance(declared, dict):
        raise TemplateError("The template 'parameters' section must be an object.")
    unknown = set(supplied) - set(declared)
    if unknown:
        raise TemplateError(f"The template parameters '{', '.join(sorted(unknown))}' are not valid.")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in supplied:
            entry = supplied[name]
            if not isinstance(entry, dict) or "value" not in entry:
                raise TemplateError(f"The value of deployment parameter '{name}' must be {{'value': ...}}.")
            values[name] = entry["value"]
        elif isinstance(spec, dict) and "defaultValue" in spec:
            values[name] = spec["defaultValue"]
        else:
            raise TemplateError(f"The value for the template parameter '{name}' is not provided.")
    return values


def expand(
    template: Mapping[str, Any],
    parameters: Mapping[str, Any],
    *,
    subscription_id: str,
    resource_group: str,
    location: str,
) -> tuple[list[PlannedResource], dict[str, dict[str, Any]]]:
    """Evaluate a template: the resources to create (parents first) and the outputs."""
    if not isinstance(template, Mapping):
        raise TemplateError("The deployment 'template' must be an object.")
    variables = _Variables(template.get("variables") or {})
    ctx = _Ctx(subscription_id, resource_group, location, _parameter_values(template, parameters), variables)
    variables.ctx = ctx
    planned: list[PlannedResource] = []
    resources = template.get("resources") or []
    if not isinstance(resources, list):
        raise TemplateError("The template 'resources' section must be an array.")
    for i, raw in enumerate(resources):
        if not isinstance(raw, dict) or not raw.get("type") or not raw.get("name"):
            raise TemplateError(f"Template resource {i} must have a 'type' and a 'name'.")
        if "copy" in raw or "condition" in raw or raw.get("resources"):
            raise TemplateError(f"Template resource {i}: copy/condition/nested resources are not supported.")
        rtype, name = str(_evaluate(raw["type"], ctx)), str(_evaluate(raw["name"], ctx))
        rid = build_resource_id(subscription_id, resource_group, rtype, name)
        body: dict[str, Any] = {}
        for key in _PASSTHROUGH:
            if key in raw:
                body[key] = _evaluate(raw[key], ctx)
        body["properties"] = _evaluate(raw.get("properties") or {}, ctx)
        planned.append(PlannedResource(rid, rtype, name, body))
    planned.sort(key=lambda r: r.type.count("/"))
    outputs: dict[str, dict[str, Any]] = {}
    for name, spec in (template.get("outputs") or {}).items():
        if not isinstance(spec, dict) or "value" not in spec:
            raise TemplateError(f"The template output '{name}' must have a 'value'.")
        outputs[name] = {"type": str(spec.get("type", "String")), "value": _evaluate(spec["value"], ctx)}
    return planned, outputs
