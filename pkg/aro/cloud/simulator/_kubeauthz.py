"""Authorization: a fixed, simple RBAC, in one place.

- group ``system:masters``: everything, including impersonation;
- any other authenticated user (service accounts included): ``get``, ``list`` and ``watch`` of everything
  but secrets, and discovery;
- ``system:anonymous``: the health endpoints (handled before RBAC); on classic clusters also ``get``,
  ``list`` and ``watch`` of nodes while ``SimulatorConfig.anonymous_node_reads`` is on (the RP's backend lists nodes
  without credentials today).

A denied anonymous request is 401 ``Unauthorized`` (as a server without anonymous access answers); a
denied authenticated one is 403 ``Forbidden`` with the API server's message.
"""

from __future__ import annotations

from ._kubeauth import MASTERS, Identity
from ._kubeerrors import KubeError, unauthorized

READ_VERBS = frozenset({"get", "list", "watch"})


def may_impersonate(identity: Identity) -> bool:
    return MASTERS in identity.groups


def authorize_discovery(identity: Identity) -> None:
    if identity.anonymous:
        raise unauthorized()


def authorize(
    identity: Identity,
    verb: str,
    resource: str,
    namespace: str | None,
    name: str | None,
    *,
    anonymous_node_reads: bool = False,
) -> None:
    """Raise unless ``identity`` may ``verb`` the ``resource`` (in ``namespace``; ``name`` for messages)."""
    if MASTERS in identity.groups:
        return
    if identity.anonymous:
        if anonymous_node_reads and resource == "nodes" and verb in READ_VERBS:
            return
        raise unauthorized()
    if verb in READ_VERBS and resource != "secrets":
        return
    target = f'{resource} "{name}"' if name else resource
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    raise KubeError(
        403,
        "Forbidden",
        f'{target} is forbidden: User "{identity.user}" cannot {verb} resource "{resource}" in API group "" {scope}',
        name=name,
        kind=resource,
    )
