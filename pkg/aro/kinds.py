"""The resource types this RP serves: each kind (``aro.api``) with its backend workflow (``aro.cluster``, ...).

``registry()`` is what `aro rp`, `aro frontend` and `aro backend` serve. ``register`` adds a kind before
a process starts (tests register a toy kind this way; see docs/adding-a-resource.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aro.api.kind import CatalogKind, Kinds
from aro.api.registry import KINDS
from aro.cluster.workflow import WORKFLOW as CLUSTERS
from aro.steps import Workflow


@dataclass(frozen=True)
class Registry:
    kinds: Kinds
    workflows: tuple[Workflow[Any, Any], ...]

    def __post_init__(self) -> None:
        served = {w.kind.container_name for w in self.workflows}
        missing = [k.type for k in self.kinds if k.container_name not in served]
        if missing or len(served) != len(self.workflows):
            raise ValueError(f"every kind needs exactly one workflow; missing: {missing}")


_registered: list[Workflow[Any, Any]] = [CLUSTERS]
_catalogs: list[CatalogKind] = list(KINDS.catalogs)


def register(workflow: Workflow[Any, Any], catalogs: tuple[CatalogKind, ...] = ()) -> None:
    """Serve one more kind (with its workflow) in every process started after this call."""
    _registered.append(workflow)
    _catalogs.extend(catalogs)


def registry() -> Registry:
    return Registry(Kinds([w.kind for w in _registered], _catalogs), tuple(_registered))
