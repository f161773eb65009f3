"""The two API groups beside core/v1: who am I, and may I -- what ``kubectl auth whoami`` and ``kubectl auth
can-i`` ask.

- ``POST /apis/authentication.k8s.io/v1/selfsubjectreviews``: the caller's identity after authentication
  and impersonation (``status.userInfo``: username, uid, groups).
- ``POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews``: ``spec.resourceAttributes`` (verb, group,
  resource, subresource, namespace, name) or ``spec.nonResourceAttributes`` (path, verb), judged by the same
  authorizer as every request (``_kubeauthz``).

Any authenticated caller may create both (as ``system:basic-user`` allows); they are not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._kubeauth import Identity
from ._kubeauthz import Attributes
from ._kubeerrors import KubeError, bad_request

Object = dict[str, Any]
_GROUPS: dict[str, tuple[str, str, str]] = {  # group -> (resource, kind, singular)
    "authentication.k8s.io": ("selfsubjectreviews", "SelfSubjectReview", "selfsubjectreview"),
    "authorization.k8s.io": ("selfsubjectaccessreviews", "SelfSubjectAccessReview", "selfsubjectaccessreview"),
}


def api_group_list(*more: Object) -> Object:
    """Every group: the review groups, then ``more`` (``APIGroup`` objects)."""
    groups = []
    for name in _GROUPS:
        version = {"groupVersion": f"{name}/v1", "version": "v1"}
        groups.append({"name": name, "versions": [version], "preferredVersion": version})
    for group in more:
        groups.append({k: group[k] for k in ("name", "versions", "preferredVersion")})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str) -> Object | None:
    if name not in _GROUPS:
        return None
    version = {"groupVersion": f"{name}/v1", "version": "v1"}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": [version], "preferredVersion": version}


def api_resource_list(group: str, version: str) -> Object | None:
    if group not in _GROUPS or version != "v1":
        return None
    plural, kind, singular = _GROUPS[group]
    resource = {"name": plural, "singularName": singular, "namespaced": False, "kind": kind, "verbs": ["create"]}
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/v1", "resources": [resource]}


def review(
    group: str,
    plural: str,
    identity: Identity,
    body: Object,
    allowed: Callable[[Attributes], bool],
) -> Object | None:
    """The answer to a review (None: no such resource)."""
    if _GROUPS.get(group, ("",))[0] != plural:
        return None
    _, kind, _ = _GROUPS[group]
    out: Object = {"kind": kind, "apiVersion": f"{group}/v1", "metadata": {"creationTimestamp": None}}
    if kind == "SelfSubjectReview":
        out["status"] = {"userInfo": {"username": identity.user, "uid": identity.uid, "groups": list(identity.groups)}}
        return out
    spec = body.get("spec")
    if not isinstance(spec, dict):
        raise bad_request("a SelfSubjectAccessReview needs a spec")
    attributes, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if isinstance(attributes, dict):

        def text(key: str) -> str:
            value = attributes.get(key)
            return value if isinstance(value, str) else ""

        ok = allowed(
            Attributes(
                text("verb"),
                text("resource"),
                text("group"),
                text("subresource"),
                text("namespace") or None,
                text("name") or None,
            )
        )
    elif isinstance(non_resource, dict):
        path, verb = str(non_resource.get("path") or ""), str(non_resource.get("verb") or "")
        ok = bool(path) and allowed(Attributes(verb, path=path))
    else:
        raise KubeError(422, "Invalid", "SelfSubjectAccessReview: resourceAttributes or nonResourceAttributes needed")
    out["spec"] = spec
    out["status"] = {"allowed": ok}
    return out
