"""What every resource's internal (hub) model shares, and the one place provisioning states change.

A hub model (``OpenShiftCluster``, later ``NodePool``, ...) subclasses ``Resource`` and its properties
subclass ``ResourceProperties``; attribute names are snake_case, the JSON form (``dump()``) is camelCase,
and unknown fields are kept (``extra="allow"``) so a document written by a newer release survives a
round trip through an older one.

``Lifecycle`` is the one implementation of the provisioning-state transitions: what a request (create,
update, delete, an action) does to the state when it is accepted, and what the backend writes when the
operation ends. The frontend, the backend and the cascade deletes all call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

RESOURCE_PROVIDER = "Microsoft.RedHatOpenShift"


class Model(BaseModel):
    """Base of the internal models: camelCase JSON, unknown fields preserved."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", validate_assignment=False)


class ProvisioningState(StrEnum):
    CREATING = "Creating"
    PROVISIONING = "Provisioning"  # ARO-HCP's name for creating
    UPDATING = "Updating"
    ADMIN_UPDATING = "AdminUpdating"
    DELETING = "Deleting"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({ProvisioningState.SUCCEEDED, ProvisioningState.FAILED, ProvisioningState.CANCELED})
NON_TERMINAL_STATES = frozenset(set(ProvisioningState) - TERMINAL_STATES)


class Request(StrEnum):
    """The kind of request an asynchronous operation carries out; the backend picks the step list by it.
    Actions that run as operations (an upgrade, a credential request, a backup) add their own names."""

    CREATE = "Create"
    UPDATE = "Update"
    DELETE = "Delete"
    ADMIN_UPDATE = "AdminUpdate"  # an admin update run in AdminUpdating (ARO's maintenance tasks)


class SystemData(Model):
    created_by: str | None = None
    created_by_type: str | None = None
    created_at: str | None = None
    last_modified_by: str | None = None
    last_modified_by_type: str | None = None
    last_modified_at: str | None = None


class StepRun(Model):
    """One execution of one step: which lease owner ran it, when it started and (if it did) ended;
    ``outcome`` "requeued" marks a run that ended in a temporary error (the step runs again later)."""

    step: str
    owner: str
    started: float
    ended: float | None = None
    outcome: str | None = None


def step_label(step_id: str) -> str:
    """What users see of a step (``currentStep``, metrics): the last part of its dotted id."""
    return step_id.rsplit(".", 1)[-1]


class OperationProgress(Model):
    """Backend bookkeeping of the latest operation's steps (see ``aro.steps``). Kept after the operation
    ends, as its record; a new operation (another asyncOperationId or request) starts afresh."""

    phase: str = ""  # the provisioningState being worked: Creating | Updating | Deleting
    request: str = ""  # the operation's request (Create | Update | Delete | an action)
    operation_id: str | None = None
    current_step: str | None = None  # step id
    completed_steps: list[str] = Field(default_factory=list)  # step ids
    total_steps: int = 0
    history: list[StepRun] = Field(default_factory=list)
    started_at: str | None = None
    # Temporary errors: how many times the current step was re-queued, and the last such error.
    retries: int = 0
    delayed_error: dict[str, Any] | None = None
    # A paused reconciliation (``Workflow.pause``): how long this operation waited, which its deadline
    # does not count, and since when it has been waiting (None: not now).
    paused_seconds: float = 0.0
    paused_since: float | None = None


class LedgerRef(Model):
    """A cluster's account subscription in the ledger (``aro.ledger``): the ids the backend's ledger steps
    generate and persist before the subscription is written, so a resumed step finds it, never makes two."""

    subscription_id: str = ""
    organization_id: str = ""
    cluster_id: str = ""  # the RP's opaque cluster id (AMS ``cluster_id``)


class ResourceProperties(Model):
    provisioning_state: ProvisioningState = ProvisioningState.SUCCEEDED
    last_provisioning_state: ProvisioningState | None = None
    failed_provisioning_state: ProvisioningState | None = None
    last_error: dict[str, Any] | None = None
    progress: OperationProgress | None = None  # set by the backend; never accepted from a request
    ledger: LedgerRef | None = None  # clusters: their account subscription (backend only, never rendered)


class Resource(Model):
    """The hub base. ``id``/``name`` keep the casing of the creating PUT."""

    id: str = ""
    name: str = ""
    type: str = ""
    location: str = ""  # tracked resources only
    tags: dict[str, str] = Field(default_factory=dict)  # tracked resources only
    system_data: SystemData | None = None
    properties: ResourceProperties = Field(default_factory=ResourceProperties)

    def dump(self) -> dict[str, Any]:
        """JSON-ready camelCase form (plaintext secrets included: for the database layer only)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def load(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)

    def copy_deep(self) -> Self:
        return self.model_copy(deep=True)


@dataclass(frozen=True)
class Lifecycle:
    """The provisioning states a kind moves through, and the transitions between them."""

    creating: ProvisioningState = ProvisioningState.CREATING
    updating: ProvisioningState = ProvisioningState.UPDATING
    deleting: ProvisioningState = ProvisioningState.DELETING

    def begin(self, hub: Resource, request: str) -> None:
        """A request was accepted: move ``hub`` to the state its operation runs in."""
        p = hub.properties
        if request == Request.CREATE:
            p.provisioning_state = self.creating
            return
        p.last_provisioning_state = p.provisioning_state
        if request == Request.DELETE:
            p.provisioning_state = self.deleting
            return
        p.failed_provisioning_state = None
        p.provisioning_state = ProvisioningState.ADMIN_UPDATING if request == Request.ADMIN_UPDATE else self.updating

    def finish(self, hub: Resource, error: dict[str, Any] | None) -> None:
        """The operation ended (``error``: the ARM error body when it failed)."""
        p = hub.properties
        if error is None:
            p.provisioning_state = ProvisioningState.SUCCEEDED
            p.failed_provisioning_state = None
            p.last_error = None
            p.last_provisioning_state = None
            return
        state = p.provisioning_state
        p.failed_provisioning_state = self.updating if state is ProvisioningState.ADMIN_UPDATING else state
        p.provisioning_state = ProvisioningState.FAILED
        p.last_error = error

    def request_of(self, state: ProvisioningState) -> str | None:
        """The request a non-terminal state carries out (for documents without an operation record)."""
        if state is self.creating:
            return Request.CREATE
        if state is self.deleting:
            return Request.DELETE
        if state in (self.updating, ProvisioningState.ADMIN_UPDATING):
            return Request.UPDATE
        return None


LIFECYCLE = Lifecycle()
