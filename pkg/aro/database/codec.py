"""Resource documents: a kind's hub model inside a store document, with its secrets sealed at rest.

A resource document is ``{id, partitionKey, key, etag, ts, leaseOwner, leaseExpires, dequeues,
asyncOperationId, <field>: <hub JSON with the secret fields sealed>}`` (``field`` is the kind's
``document_field``: ``openShiftCluster`` for clusters). Each secret is sealed (AES-256-GCM) bound to the
document key and its JSON path, so a sealed value copied to another document or field does not open.
A secret that is not a string (an object or a list: a signer's key pair, issued credentials) is sealed as
its JSON, marked so that it opens as JSON again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from aro.api.kind import Kinds, ResourceKind
from aro.api.resource import Resource
from aro.database.store import Doc
from aro.util.crypto import PREFIX, Sealer

H = TypeVar("H", bound=Resource)
_JSON = "\x00json:"  # a sealed secret that is JSON, not a string


class SealedCodec(Generic[H]):
    def __init__(self, sealer: Sealer, hub: type[H], field: str, secret_paths: Sequence[tuple[str, ...]]):
        self._sealer = sealer
        self.hub = hub
        self.field = field
        self.secret_paths = tuple(secret_paths)
        # where the hub's operation record lives in its JSON (a kind may keep an older name for it)
        props = hub.model_fields["properties"].annotation
        record = (
            props.model_fields.get("progress") if isinstance(props, type) and issubclass(props, BaseModel) else None
        )
        self._progress = ("properties", record.alias if record is not None and record.alias else "progress")

    @classmethod
    def of(cls, kind: ResourceKind[H], sealer: Sealer) -> SealedCodec[H]:
        return cls(sealer, kind.hub, kind.document_field, kind.secret_paths)

    def _context(self, key: str, path: tuple[str, ...]) -> str:
        return key + "|" + "/".join(path)

    def encode(self, doc: Mapping[str, Any], hub: H) -> Doc:
        """A copy of ``doc`` whose hub field is ``hub`` with its secrets sealed."""
        data = hub.dump()
        for path in self.secret_paths:
            parent = _parent(data, path)
            if parent is not None and parent.get(path[-1]):
                value = parent[path[-1]]
                plain = value if isinstance(value, str) else _JSON + json.dumps(value, separators=(",", ":"))
                parent[path[-1]] = self._sealer.seal_str(plain, self._context(doc["key"], path))
        out = dict(doc)
        out[self.field] = data
        return out

    def decode(self, doc: Doc, *, secrets: bool = True) -> H:
        """``secrets=False`` (read paths that never render them): secret fields come back empty (their defaults)."""
        data = _deep_copy(doc[self.field])
        for path in self.secret_paths:
            parent = _parent(data, path)
            value = parent.get(path[-1]) if parent is not None else None
            if parent is not None and isinstance(value, str) and value.startswith(PREFIX):
                if not secrets:  # the field's default: "" (a string), None or [] (JSON)
                    del parent[path[-1]]
                    continue
                plain = self._sealer.open_str(value, self._context(doc["key"], path))
                if plain.startswith(_JSON):
                    parent[path[-1]] = json.loads(plain[len(_JSON) :])
                else:
                    parent[path[-1]] = plain
        return self.hub.load(data)

    def raw(self, doc: Doc) -> dict[str, Any]:
        """The stored hub JSON as is (secrets sealed): for reads of a field or two on hot paths."""
        data: dict[str, Any] = doc.get(self.field) or {}
        return data

    def state(self, doc: Doc) -> str | None:
        """The stored provisioningState, without decoding."""
        state = (self.raw(doc).get("properties") or {}).get("provisioningState")
        return state if isinstance(state, str) else None

    def progress(self, doc: Doc) -> dict[str, Any]:
        """The stored operation record (step ids and counts), without decoding."""
        node: Any = self.raw(doc)
        for part in self._progress:
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}

    def redacted(self, doc: Doc) -> Doc:
        """The document without its secret fields (sealed or not): for admin views."""
        out: Doc = _deep_copy(doc)
        for path in self.secret_paths:
            parent = _parent(out.get(self.field) or {}, path)
            if parent is not None:
                parent.pop(path[-1], None)
        return out


def codecs_for(kinds: Kinds, sealer: Sealer) -> dict[str, SealedCodec[Any]]:
    """One codec per kind, by container name."""
    return {k.container_name: SealedCodec.of(k, sealer) for k in kinds}


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
