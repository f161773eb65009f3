"""Authorization, in one place: who may do what to which resource of a cluster.

A request is judged on its ``Attributes`` -- verb, API group, resource, subresource (``pods/log``),
namespace and name; or, for a non-resource request, the path -- in this order:

- group ``system:masters``: everything, including impersonation;
- ``system:anonymous``: the health endpoints (handled before RBAC); on classic clusters also ``get``,
  ``list`` and ``watch`` of nodes while ``SimulatorConfig.anonymous_node_reads`` is on (the RP's backend lists
  nodes without credentials today); nothing else;
- every other caller: what the cluster's stored RBAC objects grant it (``_kuberbac``: Roles and ClusterRoles
  through RoleBindings and ClusterRoleBindings), plus discovery and the self-reviews (as the API server's
  ``system:discovery`` and ``system:basic-user`` bindings allow every authenticated user);
- an authenticated human user (any user but ``system:serviceaccount:*``) may also ``get``, ``list`` and
  ``watch`` everything but secrets (subresources included: ``pods/log``) -- the simulator's built-in reader
  rule. A service account gets exactly what RBAC grants, nothing more.

Impersonation (``Impersonate-User`` / ``-Group``): system:masters, or a caller RBAC grants the verb
``impersonate`` on ``users`` (``serviceaccounts`` for a service account's name) and on ``groups``.

A denied anonymous request is 401 ``Unauthorized`` (as a server without anonymous access answers); a
denied authenticated one is 403 ``Forbidden`` with the API server's message (``forbidden``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._kubeauth import MASTERS, Identity
from ._kubeerrors import KubeError, unauthorized

READ_VERBS = frozenset({"get", "list", "watch"})
SA_PREFIX = "system:serviceaccount:"
# the non-resource paths every authenticated caller may GET (system:discovery, system:public-info-viewer)
DISCOVERY_PATHS = ("/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi")


@dataclass(frozen=True)
class Attributes:
    """One request as the authorizer sees it. ``path`` set: a non-resource request (``/healthz``)."""

    verb: str
    resource: str = ""
    group: str = ""
    subresource: str = ""
    namespace: str | None = None
    name: str | None = None
    path: str = ""

    @property
    def combined(self) -> str:
        """``pods/log``: the resource with its subresource, as RBAC rules name it."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


Grants = Callable[[Identity, Attributes], bool]  # what the stored RBAC objects allow (``_kuberbac``)


def is_service_account(identity: Identity) -> bool:
    return identity.user.startswith(SA_PREFIX)


def builtin_read(identity: Identity, attrs: Attributes) -> bool:
    """The simulator's built-in reader rule: humans may read everything but secrets."""
    return (
        not identity.anonymous
        and not is_service_account(identity)
        and not attrs.path
        and attrs.verb in READ_VERBS
        and not (attrs.group == "" and attrs.resource == "secrets")
    )


def _discovery_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in DISCOVERY_PATHS)


def allowed(identity: Identity, attrs: Attributes, grants: Grants, *, anonymous_node_reads: bool = False) -> bool:
    if MASTERS in identity.groups:
        return True
    if identity.anonymous:
        return anonymous_node_reads and attrs.resource == "nodes" and not attrs.group and attrs.verb in READ_VERBS
    if attrs.path and attrs.verb == "get" and _discovery_path(attrs.path):
        return True
    return builtin_read(identity, attrs) or grants(identity, attrs)


def forbidden(identity: Identity, attrs: Attributes) -> KubeError:
    """The API server's 403: ``pods "x" is forbidden: User "u" cannot get resource "pods/log" in API group ""
    in the namespace "ns"``."""
    if attrs.path:
        return KubeError(403, "Forbidden", f'forbidden: User "{identity.user}" cannot {attrs.verb} path "{attrs.path}"')
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    target = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return KubeError(
        403,
        "Forbidden",
        f'{target} is forbidden: User "{identity.user}" cannot {attrs.verb} resource "{attrs.combined}" in API group '
        f'"{attrs.group}" {scope}',
        name=attrs.name,
        kind=attrs.resource,
        group=attrs.group or None,
    )


def authorize_discovery(identity: Identity) -> None:
    if identity.anonymous:
        raise unauthorized()


def authorize(identity: Identity, attrs: Attributes, grants: Grants, *, anonymous_node_reads: bool = False) -> None:
    """Raise unless ``identity`` may do ``attrs``: 401 for anonymous, else 403."""
    if allowed(identity, attrs, grants, anonymous_node_reads=anonymous_node_reads):
        return
    if identity.anonymous:
        raise unauthorized()
    raise forbidden(identity, attrs)


def may_impersonate(identity: Identity, attrs: Attributes, grants: Grants) -> bool:
    """``attrs``: verb ``impersonate`` on ``users``, ``serviceaccounts`` or ``groups``."""
    return MASTERS in identity.groups or (not identity.anonymous and grants(identity, attrs))
