"""Conditions of hosted resources as the api layer writes them (the admin API records a pause or a feature
set at once, and the backend through ``aro.hcp.status``): Kubernetes semantics, ``lastTransitionTime``
moves only when the status changes."""

from __future__ import annotations

import datetime as dt

from aro.api.hcp.common import Condition

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime(_FORMAT)


def find(conditions: list[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def set_condition(conditions: list[Condition], type_: str, value: str, reason: str, message: str) -> bool:
    """Set (or add) condition ``type_``; True when anything changed."""
    found = find(conditions, type_)
    if found is None:
        conditions.append(
            Condition(type=type_, status=value, last_transition_time=now_rfc3339(), reason=reason, message=message)
        )
        return True
    if (found.status, found.reason, found.message) == (value, reason, message):
        return False
    if found.status != value:
        found.last_transition_time = now_rfc3339()
    found.status, found.reason, found.message = value, reason, message
    return True
