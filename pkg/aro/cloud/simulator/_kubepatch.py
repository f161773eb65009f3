"""PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch read as a merge patch (lists are
replaced, not merged; ``$``-directives such as ``$setElementOrder`` are dropped -- enough for ``kubectl
label``, ``annotate`` and ``apply`` of the core kinds), and JSON patch (RFC 6902: add, remove, replace,
test). Server-side apply (``application/apply-patch+yaml``) is a 415.
"""

from __future__ import annotations

import copy
from typing import Any

from ._kubeerrors import KubeError, bad_request

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> Any:
    for part in parts[:-1]:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise KubeError(422, "Invalid", f"the JSON patch path does not exist: /{'/'.join(parts)}")
    return doc


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise bad_request("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise bad_request("every JSON patch operation needs an 'op' and a 'path'")
        parts = _pointer(op["path"])
        if not parts:
            raise KubeError(422, "Invalid", "the JSON patch may not replace the whole object")
        parent, last = _parent(doc, parts), parts[-1]
        kind = op.get("op")
        if kind == "add":
            if isinstance(parent, list):
                at = len(parent) if last == "-" else int(last) if last.isdigit() else -1
                if not 0 <= at <= len(parent):
                    raise KubeError(422, "Invalid", f"the JSON patch index is out of range: {op['path']}")
                parent.insert(at, copy.deepcopy(op.get("value")))
            elif isinstance(parent, dict):
                parent[last] = copy.deepcopy(op.get("value"))
            else:
                raise KubeError(422, "Invalid", f"the JSON patch path does not exist: {op['path']}")
            continue
        index: int | str
        if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
            index = int(last)
        elif isinstance(parent, dict) and last in parent:
            index = last
        else:
            raise KubeError(422, "Invalid", f"the JSON patch path does not exist: {op['path']}")
        if kind == "remove":
            del parent[index]
        elif kind == "replace":
            parent[index] = copy.deepcopy(op.get("value"))
        elif kind == "test":
            if parent[index] != op.get("value"):
                raise KubeError(422, "Invalid", f"the JSON patch test failed at {op['path']}")
        else:
            raise bad_request(f"unsupported JSON patch operation {kind!r}")
    return doc


def apply_patch(content_type: str, target: Any, patch: Any) -> Any:
    media = content_type.split(";")[0].strip().lower()
    if media in (MERGE, STRATEGIC):
        return merge_patch(target, patch)
    if media == JSON_PATCH:
        return json_patch(target, patch)
    raise KubeError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {media}")
