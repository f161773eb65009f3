"""Hub pieces every hosted-cluster resource shares: the version profile, the observed status, the managed
identity (the same shape as the classic cluster's)."""

from __future__ import annotations

from pydantic import Field

from aro.api.cluster import ManagedServiceIdentity, UserAssignedIdentity
from aro.api.resource import Model

__all__ = [
    "ActiveVersion",
    "Condition",
    "ManagedServiceIdentity",
    "ResourceStatus",
    "UserAssignedIdentity",
    "VersionProfile",
]


class VersionProfile(Model):
    id: str = ""  # cluster: "X.Y" (with the AFEC "X.Y.Z" too); node pool: "X.Y.Z"
    channel_group: str = ""  # stable | fast (candidate | nightly with the AFEC)


class Condition(Model):
    """An observation of the resource's state (set by the backend)."""

    type: str = ""  # Available | Degraded | Progressing
    status: str = ""  # True | False | Unknown
    last_transition_time: str = ""  # RFC 3339
    reason: str = ""
    message: str = ""


class ActiveVersion(Model):
    version: str = ""


class ResourceStatus(Model):
    conditions: list[Condition] = Field(default_factory=list)
    active_versions: list[ActiveVersion] = Field(default_factory=list)
