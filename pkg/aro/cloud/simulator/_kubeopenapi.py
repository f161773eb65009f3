"""Just enough OpenAPI v3 for ``kubectl create -f`` / ``apply -f`` with their default ``--validate=strict``.

kubectl first asks whether the server validates fields itself: it reads ``/openapi/v3`` (the group
versions and where their documents are), then the ``api/v1`` document, looking for a PATCH operation
tagged with the kind (``x-kubernetes-group-version-kind``) whose path takes the ``fieldValidation``
parameter. Finding one, it leaves validation to the server and sends ``?fieldValidation=Strict`` (which
this server accepts and, beyond its own checks, ignores); without it, kubectl would download the full
schema to validate client-side -- and refuse to create anything when that fails. So the document lists
every path of the served kinds with their GVK and parameters, and no schemas (``components`` is empty:
kubectl then falls back to its compiled-in types for strategic merge patches and ``explain`` has nothing
to explain).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ._kuberesources import RESOURCES

Object = dict[str, Any]
_WRITE = ("dryRun", "fieldManager", "fieldValidation")


def _query(*names: str) -> list[Object]:
    return [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for n in names]


def _operation(kind: str, action: str, *query: str) -> Object:
    out: Object = {
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": "", "version": "v1", "kind": kind},
        "responses": {"200": {"description": "OK"}},
    }
    if query:
        out["parameters"] = _query(*query)  # kubectl looks for fieldValidation among the operation's own
    return out


def _params(*path: str) -> list[Object]:
    out: list[Object] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path]
    return out + _query("pretty")


def document(version: str) -> Object:
    """The ``api/v1`` OpenAPI v3 document."""
    paths: Object = {}
    for r in RESOURCES.values():
        base = "/api/v1/namespaces/{namespace}/" + r.plural if r.namespaced else "/api/v1/" + r.plural
        scope = ("namespace",) if r.namespaced else ()
        paths[base] = {
            "get": _operation(r.kind, "list", "labelSelector", "fieldSelector", "limit", "continue"),
            "post": _operation(r.kind, "post", *_WRITE),
            "parameters": _params(*scope),
        }
        paths[base + "/{name}"] = {
            "get": _operation(r.kind, "get"),
            "put": _operation(r.kind, "put", *_WRITE),
            "patch": _operation(r.kind, "patch", *_WRITE, "force"),
            "delete": _operation(r.kind, "delete", "dryRun"),
            "parameters": _params(*scope, "name"),
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": version},
        "paths": paths,
        "components": {"schemas": {}},
    }


def root(base_path: str, version: str) -> Object:
    """``/openapi/v3``: where each group version's document is (a server-relative URL with a content hash,
    under the cluster's base path)."""
    digest = hashlib.sha256(json.dumps(document(version), sort_keys=True).encode()).hexdigest()[:16].upper()
    return {"paths": {"api/v1": {"serverRelativeURL": f"{base_path}/openapi/v3/api/v1?hash={digest}"}}}
