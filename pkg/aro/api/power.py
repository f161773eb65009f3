"""Hibernation: the admin power state of a cluster (classic and hosted alike).

``PATCH /admin{resourceId}`` with ``{"properties": {"powerState": "Hibernating" | "Running"}}`` stops
(deallocates) or starts every VM of the cluster in an operation (``aro.cluster.power``,
``aro.hcp.power``). Two hub fields, written by the admin API and the backend only, never rendered by an
api-version (the admin view of the document shows them):

- ``power_state`` (``powerState``): ``Running`` (the default) or ``Hibernating``. It becomes
  ``Hibernating`` when the admin's hibernate request is accepted (the same write that starts the operation)
  and ``Running`` again only once a resume's start step has started every VM -- so from the moment an
  admin asks for hibernation until a resume has started the machines, the cluster counts as hibernating
  (``is_hibernating``: what the SRE backplane checks before a login or a managed job);
- ``requested_power_state`` (``requestedPowerState``): the power change an operation is carrying out
  (``Hibernating`` | ``Running``), "" once it finished. A failed one stays, so an update that follows
  (or the admin's retry) carries it out again.

Accepted only while the cluster is ``Succeeded``, or ``Failed`` after an update (a failed hibernation or
resume is retried by the same request): 400 ``RequestNotAllowed`` (classic) / 409 ``Conflict`` (hosted)
otherwise. Asking for the state the cluster is in while no power change is pending is a 400
``InvalidRequestContent`` ("already Hibernating"), not a silent no-op: nothing is written.
"""

from __future__ import annotations

from typing import Protocol

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.resource import ProvisioningState

RUNNING = "Running"
HIBERNATING = "Hibernating"
POWER_STATES = (RUNNING, HIBERNATING)
FIELD = "powerState"
TARGET = f"properties.{FIELD}"


class PowerProperties(Protocol):
    provisioning_state: ProvisioningState
    failed_provisioning_state: ProvisioningState | None
    power_state: str
    requested_power_state: str


def hibernating(power_state: str) -> bool:
    """Whether a cluster whose ``power_state`` this is counts as hibernating (anything but Running)."""
    return power_state != RUNNING


def value_error(value: object) -> str | None:
    """Why ``value`` is not a power state (None: it is one)."""
    if value not in POWER_STATES:
        return f"must be {RUNNING} or {HIBERNATING}"
    return None


def bad_value(value: object) -> CloudError:
    shown = str(value)[:64]
    return CloudError(
        400,
        errors.INVALID_REQUEST_CONTENT,
        f"Invalid value '{shown}' for '{TARGET}': must be {RUNNING} or {HIBERNATING}.",
        TARGET,
    )


def state_error(p: PowerProperties, conflict: bool) -> CloudError | None:
    """Why the cluster's provisioning state refuses a power change (None: it allows one)."""
    state, failed = p.provisioning_state, p.failed_provisioning_state
    if state is ProvisioningState.SUCCEEDED:
        return None
    if state is ProvisioningState.FAILED and failed in (ProvisioningState.UPDATING, ProvisioningState.ADMIN_UPDATING):
        return None  # a failed update (a hibernation or resume among them): the request retries it
    shown = f"{state}" + (f" ({failed})" if state is ProvisioningState.FAILED and failed else "")
    message = f"The power state can only change while the cluster is Succeeded; it is '{shown}'."
    if conflict:
        return CloudError(409, errors.CONFLICT, message)
    return CloudError(400, errors.REQUEST_NOT_ALLOWED, message)


def apply(p: PowerProperties, value: str, *, conflict: bool) -> None:
    """Check a valid requested ``value`` against the cluster and record it on ``p`` (a copy of the hub's
    properties): Hibernating counts at once; Running only once the resume's start step has completed."""
    refused = state_error(p, conflict)
    if refused is not None:
        raise refused
    pending = p.requested_power_state
    if not pending and p.power_state == value:
        raise CloudError(
            400,
            errors.INVALID_REQUEST_CONTENT,
            f"The cluster is already {value}: nothing to change.",
            TARGET,
        )
    p.requested_power_state = value
    if value == HIBERNATING:
        p.power_state = HIBERNATING
