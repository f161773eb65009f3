"""Cluster documents: the internal model inside a store document, with secrets encrypted at rest.

A cluster document is ``{id, partitionKey, key, etag, ts, leaseOwner, leaseExpires, dequeues,
asyncOperationId, openShiftCluster: <OpenShiftCluster JSON with secret fields sealed>}``.
"""

from __future__ import annotations

from typing import Any

from aro.api.cluster import SECRET_PATHS, OpenShiftCluster
from aro.database.store import Doc
from aro.util.crypto import PREFIX, Sealer


class ClusterCodec:
    def __init__(self, sealer: Sealer):
        self._sealer = sealer

    def _context(self, key: str, path: tuple[str, ...]) -> str:
        return key + "|" + "/".join(path)

    def encode(self, doc: Doc, oc: OpenShiftCluster) -> Doc:
        """Return a copy of ``doc`` whose ``openShiftCluster`` is ``oc`` with secrets sealed."""
        data = oc.dump()
        for path in SECRET_PATHS:
            parent = _parent(data, path)
            if parent is not None and parent.get(path[-1]):
                parent[path[-1]] = self._sealer.seal_str(parent[path[-1]], self._context(doc["key"], path))
        out = dict(doc)
        out["openShiftCluster"] = data
        return out

    def decode(self, doc: Doc, *, secrets: bool = True) -> OpenShiftCluster:
        """``secrets=False`` (read paths that never render them): secret fields come back empty."""
        data = _deep_copy(doc["openShiftCluster"])
        for path in SECRET_PATHS:
            parent = _parent(data, path)
            value = parent.get(path[-1]) if parent is not None else None
            if parent is not None and isinstance(value, str) and value.startswith(PREFIX):
                parent[path[-1]] = self._sealer.open_str(value, self._context(doc["key"], path)) if secrets else ""
        return OpenShiftCluster.load(data)


def _parent(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def redacted(doc: Doc) -> Doc:
    """A cluster document without its secret fields (sealed or not): for admin views."""
    out = _deep_copy(doc)
    for path in SECRET_PATHS:
        parent = _parent(out.get("openShiftCluster") or {}, path)
        if parent is not None:
            parent.pop(path[-1], None)
    return out  # type: ignore[no-any-return]
