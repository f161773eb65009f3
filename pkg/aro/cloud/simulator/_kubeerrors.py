"""Kubernetes API errors, rendered as ``Status`` objects (``kind: Status``) as the API server answers them.

| reason | code | when |
|---|---|---|
| ``BadRequest`` | 400 | malformed JSON, a bad selector, a name or namespace that does not match the URL |
| ``Unauthorized`` | 401 | no, or no valid, credentials (anything but the health endpoints) |
| ``Forbidden`` | 403 | authenticated, but RBAC denies the verb; undeletable namespaces; the object quota |
| ``NotFound`` | 404 | no such cluster, path, namespace or object |
| ``MethodNotAllowed`` | 405 | a verb the resource does not support (e.g. creating a derived node) |
| ``AlreadyExists`` | 409 | create of an existing object |
| ``Conflict`` | 409 | update with a stale ``metadata.resourceVersion`` or ``uid`` |
| ``RequestEntityTooLarge`` | 413 | a body above the configured limit |
| ``UnsupportedMediaType`` | 415 | a patch type other than merge / strategic-merge |
| ``Invalid`` | 422 | a field that fails validation (``details.causes`` names each) |
"""

from __future__ import annotations

from typing import Any


class KubeError(Exception):
    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        name: str | None = None,
        kind: str | None = None,
        causes: list[dict[str, str]] | None = None,
        group: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.kind = kind
        self.causes = causes or []
        self.group = group

    def status(self) -> dict[str, Any]:
        return status(
            self.code, self.reason, self.message, name=self.name, kind=self.kind, causes=self.causes, group=self.group
        )


def status(
    code: int,
    reason: str,
    message: str,
    *,
    name: str | None = None,
    kind: str | None = None,
    causes: list[dict[str, str]] | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """A failure ``Status`` object."""
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    details: dict[str, Any] = {}
    if name is not None:
        details["name"] = name
    if group is not None:
        details["group"] = group
    if kind is not None:
        details["kind"] = kind
    if causes:
        details["causes"] = causes
    if details:
        out["details"] = details
    return out


def not_found(resource: str, name: str) -> KubeError:
    return KubeError(404, "NotFound", f'{resource} "{name}" not found', name=name, kind=resource)


def already_exists(resource: str, name: str) -> KubeError:
    return KubeError(409, "AlreadyExists", f'{resource} "{name}" already exists', name=name, kind=resource)


def bad_request(message: str) -> KubeError:
    return KubeError(400, "BadRequest", message)


def invalid(kind: str, name: str, field: str, message: str) -> KubeError:
    return KubeError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {field}: {message}',
        name=name,
        kind=kind,
        causes=[{"reason": "FieldValueInvalid", "message": message, "field": field}],
    )


def invalid_fields(kind: str, name: str, causes: list[dict[str, str]], group: str | None = None) -> KubeError:
    """422 with every failing field: ``causes`` are ``{"reason", "message", "field"}`` (``message`` starting with
    the error type: ``Required value: ...``). ``kind`` as the message names it (``Role.rbac.authorization.k8s.io``)."""
    parts = [f"{c['field']}: {c['message']}" for c in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return KubeError(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {joined}',
        name=name,
        kind=kind.split(".", 1)[0],
        causes=causes,
        group=group,
    )


def unauthorized() -> KubeError:
    return KubeError(401, "Unauthorized", "Unauthorized")


def path_not_found() -> KubeError:
    return KubeError(404, "NotFound", "the server could not find the requested resource")
