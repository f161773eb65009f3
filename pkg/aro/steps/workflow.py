"""A kind's backend, as data: which step list carries out which request, and the context its steps get.

``Workflow(kind, steps={Request.CREATE: install.STEPS, ...}, context=make_context)`` is all a resource type
adds to the backend; ``aro.backend.operations.OperationBackend`` runs any workflow (claims, progress,
outcomes, deadlines, the operation's end, cascades).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aro.api.kind import ResourceKind
from aro.api.resource import Resource
from aro.cloud.base import Cloud
from aro.database.codec import SealedCodec
from aro.database.store import Store
from aro.ledger.service import Ledger
from aro.steps.engine import Step

H = TypeVar("H", bound=Resource)
C = TypeVar("C")

Mutation = Callable[[H], None]
Saver = Callable[[Mutation[H]], Awaitable[H]]
"""Apply a mutation to the resource as stored and write it, lease-checked; returns what was written."""


@dataclass(frozen=True)
class Timeouts:
    condition_seconds: float = 1800.0
    poll_seconds: float = 5.0


@dataclass(frozen=True)
class StepEnv:
    """What the backend process offers every step context."""

    store: Store
    cloud: Cloud
    timeouts: Timeouts
    catalogs: Mapping[str, Sequence[Any]] = field(default_factory=dict)  # catalog kind name -> its entries
    codecs: Mapping[str, SealedCodec[Any]] = field(default_factory=dict)  # container -> codec (a parent's doc)
    ledger: Ledger | None = None  # the account ledger (clusters' subscriptions); None: not kept


@dataclass(frozen=True)
class Target(Generic[H]):
    """The resource one operation works on."""

    hub: H  # as last persisted
    save: Saver[H]
    doc_id: str  # the store document's id
    partition: str


ContextFactory = Callable[[StepEnv, Target[H]], C]


PausedUntil = Callable[[H, float], float | None]
"""``(hub, now) -> epoch seconds`` until which the resource's reconciliation is paused (``inf``: until the
pause is lifted); None when it is not paused."""


@dataclass(frozen=True)
class Pause(Generic[H]):
    """A kind whose reconciliation can be paused (HyperShift's ``pausedUntil``): while ``until`` says so,
    an operation other than a delete (or one of ``runs_while_paused``) waits -- its lease released,
    re-claimed when the pause ends (or every ``recheck_seconds``, to see it lifted) -- and ``mark`` records
    that on the resource."""

    until: PausedUntil[H]
    mark: Callable[[H, float], None]  # (hub, until) -> e.g. condition ReconciliationActive=False
    recheck_seconds: float = 30.0
    # Requests that run while paused, besides a delete (an etcd backup or restore: a paused cluster is
    # what disaster recovery works on).
    runs_while_paused: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Workflow(Generic[H, C]):
    kind: ResourceKind[H]
    steps: Mapping[str, Sequence[Step[C]]]  # request -> step list
    context: ContextFactory[H, C]
    pause: Pause[H] | None = None
    # Between operations (``aro.backend.monitor``): (env, a Succeeded hub) -> a request to start now
    # (an implicit operation, e.g. a repair), or None.
    monitor: Callable[[StepEnv, H], Awaitable[str | None]] | None = None
