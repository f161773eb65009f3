"""What the 2026-10-01 representations of every hosted-cluster resource share: the envelope's system data,
the managed identity, conditions and active versions, provisioning states, and enum-typed fields.

Enum fields are plain strings here (the field rules check them, so every bad value of a request is reported
together); ``enum`` keeps the known values in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import Field

from aro.api import resource
from aro.api.external import ExternalModel
from aro.api.hcp import common as hub
from aro.api.resource import ProvisioningState

T = TypeVar("T")

READ_ONLY = "Read-only."

# The hub's states as ARO-HCP names them (Succeeded, Failed, Canceled, Accepted, Deleting, Provisioning,
# Updating): a create runs as Provisioning.
_STATES = {ProvisioningState.CREATING: "Provisioning", ProvisioningState.ADMIN_UPDATING: "Updating"}
# (the hosted kinds' lifecycle creates in Provisioning already; Creating is mapped for older documents)


def enum(*values: str, description: str | None = None) -> Any:
    """An optional string field with known values (documented, checked by the field rules)."""
    return Field(default=None, description=description, json_schema_extra={"enum": list(values)})


def read_only() -> Any:
    return Field(default=None, description=READ_ONLY)


def or_default(value: T | None, default: T) -> T:
    """A request's value, or the version's default when the request leaves it out (``null`` included)."""
    return default if value is None else value


def provisioning_state(state: ProvisioningState) -> str:
    return _STATES.get(state, state.value)


class SystemData(ExternalModel):
    created_by: str | None = None
    created_by_type: str | None = None
    created_at: str | None = None
    last_modified_by: str | None = None
    last_modified_by_type: str | None = None
    last_modified_at: str | None = None


class UserAssignedIdentity(ExternalModel):
    principal_id: str | None = read_only()
    client_id: str | None = read_only()


class ManagedServiceIdentity(ExternalModel):
    type: str | None = enum("None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned")
    principal_id: str | None = read_only()
    tenant_id: str | None = read_only()
    user_assigned_identities: dict[str, UserAssignedIdentity] | None = None


class Condition(ExternalModel):
    type: str | None = Field(default=None, description="Read-only. Available | Degraded | Progressing.")
    status: str | None = Field(default=None, description="Read-only. True | False | Unknown.")
    last_transition_time: str | None = read_only()
    reason: str | None = read_only()
    message: str | None = read_only()


class ActiveVersion(ExternalModel):
    version: str | None = read_only()


class ResourceStatus(ExternalModel):
    conditions: list[Condition] | None = read_only()
    active_versions: list[ActiveVersion] | None = read_only()


def system_data_out(data: resource.SystemData | None) -> dict[str, Any] | None:
    return data.model_dump(by_alias=True, exclude_none=True) if data is not None else None


def identity_out(identity: hub.ManagedServiceIdentity | None) -> dict[str, Any] | None:
    if identity is None:
        return None
    return {
        "type": identity.type,
        "principalId": identity.principal_id,
        "tenantId": identity.tenant_id,
        "userAssignedIdentities": {
            k: {"principalId": v.principal_id, "clientId": v.client_id}
            for k, v in identity.user_assigned_identities.items()
        },
    }


def identity_in(
    ext: ManagedServiceIdentity | None, old: hub.ManagedServiceIdentity | None
) -> hub.ManagedServiceIdentity | None:
    """The requested identity; principal and client ids (resolved by the backend) kept per identity."""
    if ext is None:
        return None
    new = old.model_copy(deep=True) if old is not None else hub.ManagedServiceIdentity()
    new.type = ext.type or ""
    previous = {k.casefold(): v for k, v in new.user_assigned_identities.items()}
    new.user_assigned_identities = {
        k: previous.get(k.casefold()) or hub.UserAssignedIdentity() for k in ext.user_assigned_identities or {}
    }
    return new


def conditions_out(conditions: list[hub.Condition]) -> list[dict[str, Any]] | None:
    return [
        {
            "type": c.type,
            "status": c.status,
            "lastTransitionTime": c.last_transition_time,
            "reason": c.reason,
            "message": c.message,
        }
        for c in conditions
    ] or None


def status_out(status: hub.ResourceStatus) -> dict[str, Any]:
    return {
        "conditions": conditions_out(status.conditions),
        "activeVersions": [{"version": a.version} for a in status.active_versions] or None,
    }
