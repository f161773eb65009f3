"""The resource types this RP serves: each kind (``aro.api.registry.KINDS``) with its backend workflow
(``aro.cluster.workflow``, ...); ``Registry`` refuses a kind without exactly one workflow.

``registry()`` is what `aro rp`, `aro frontend` and `aro backend` serve. ``register`` adds a kind before a
process starts (tests register a toy kind this way; see docs/adding-a-resource.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aro.api.kind import CatalogKind, Kinds
from aro.api.registry import KINDS
from aro.cluster.workflow import WORKFLOW as CLUSTERS
from aro.hcp.workflow import WORKFLOWS as HOSTED
from aro.steps import Workflow

BUILT_IN: tuple[Workflow[Any, Any], ...] = (CLUSTERS, *HOSTED)


@dataclass(frozen=True)
class Registry:
    kinds: Kinds
    workflows: tuple[Workflow[Any, Any], ...]

    def __post_init__(self) -> None:
        by_kind = [w.kind.container_name for w in self.workflows]
        missing = [k.type for k in self.kinds if k.container_name not in by_kind]
        strays = [w.kind.type for w in self.workflows if self.kinds.by_container(w.kind.container_name) is not w.kind]
        if missing or strays or len(set(by_kind)) != len(by_kind):
            raise ValueError(f"every kind needs exactly one workflow (missing: {missing}; not registered: {strays})")


_extra: list[Workflow[Any, Any]] = []
_catalogs: list[CatalogKind] = []


def register(workflow: Workflow[Any, Any], catalogs: tuple[CatalogKind, ...] = ()) -> None:
    """Serve one more kind (with its workflow) in every process started after this call."""
    _extra.append(workflow)
    _catalogs.extend(catalogs)


def registry() -> Registry:
    kinds = KINDS.extended([w.kind for w in _extra], _catalogs)
    return Registry(kinds, (*BUILT_IN, *_extra))
