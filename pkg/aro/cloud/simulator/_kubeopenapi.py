"""Just enough OpenAPI v3 for ``kubectl create -f`` / ``apply -f`` with their default ``--validate=strict``.

kubectl first asks whether the server validates fields itself: it reads ``/openapi/v3`` (the group
versions and where their documents are), then the ``api/v1`` document, looking for a PATCH operation
tagged with the kind (``x-kubernetes-group-version-kind``) whose path takes the ``fieldValidation``
parameter. Finding one, it leaves validation to the server and sends ``?fieldValidation=Strict`` (which
this server accepts and, beyond its own checks, ignores); without it, kubectl would download the full
schema to validate client-side -- and refuse to create anything when that fails. So the document lists
every path of the served kinds with their GVK and parameters, and no schemas (``components`` is empty:
kubectl then falls back to its compiled-in types for strategic merge patches and ``explain`` has nothing
to explain). The RBAC group (``apis/rbac.authorization.k8s.io/v1``) has a document of its own, the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from ._kuberbac import GROUP as RBAC_GROUP
from ._kuberbac import RBAC_RESOURCES
from ._kuberesources import RESOURCES, Resource

Object = dict[str, Any]
DOCUMENTS = ("api/v1", f"apis/{RBAC_GROUP}/v1")  # the group versions with a document
_WRITE = ("dryRun", "fieldManager", "fieldValidation")


def _query(*names: str) -> list[Object]:
    return [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for n in names]


def _operation(r: Resource, action: str, *query: str) -> Object:
    out: Object = {
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": r.group, "version": "v1", "kind": r.kind},
        "responses": {"200": {"description": "OK"}},
    }
    if query:
        out["parameters"] = _query(*query)  # kubectl looks for fieldValidation among the operation's own
    return out


def _params(*path: str) -> list[Object]:
    out: list[Object] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path]
    return out + _query("pretty")


def _paths(prefix: str, resources: Iterable[Resource]) -> Object:
    paths: Object = {}
    for r in resources:
        base = f"{prefix}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{prefix}/{r.plural}"
        scope = ("namespace",) if r.namespaced else ()
        paths[base] = {
            "get": _operation(r, "list", "labelSelector", "fieldSelector", "limit", "continue"),
            "post": _operation(r, "post", *_WRITE),
            "parameters": _params(*scope),
        }
        paths[base + "/{name}"] = {
            "get": _operation(r, "get"),
            "put": _operation(r, "put", *_WRITE),
            "patch": _operation(r, "patch", *_WRITE, "force"),
            "delete": _operation(r, "delete", "dryRun"),
            "parameters": _params(*scope, "name"),
        }
    return paths


def document(version: str, group_version: str = "api/v1") -> Object | None:
    """The OpenAPI v3 document of ``api/v1`` or ``apis/rbac.authorization.k8s.io/v1`` (None: no such one)."""
    if group_version == "api/v1":
        paths = _paths("/api/v1", RESOURCES.values())
    elif group_version == DOCUMENTS[1]:
        paths = _paths(f"/{DOCUMENTS[1]}", RBAC_RESOURCES.values())
    else:
        return None
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": version},
        "paths": paths,
        "components": {"schemas": {}},
    }


def root(base_path: str, version: str) -> Object:
    """``/openapi/v3``: where each group version's document is (a server-relative URL with a content hash,
    under the cluster's base path)."""
    paths = {}
    for gv in DOCUMENTS:
        digest = hashlib.sha256(json.dumps(document(version, gv), sort_keys=True).encode()).hexdigest()[:16].upper()
        paths[gv] = {"serverRelativeURL": f"{base_path}/openapi/v3/{gv}?hash={digest}"}
    return {"paths": paths}
