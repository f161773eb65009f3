"""The observed ``status`` of hosted resources: conditions (Available / Progressing / Degraded, with
Kubernetes semantics: ``lastTransitionTime`` moves only when the status changes) and active versions."""

from __future__ import annotations

from aro.api.hcp.common import ActiveVersion, Condition, ResourceStatus
from aro.util.clock import utc_now


def set_condition(conditions: list[Condition], type_: str, value: str, reason: str, message: str) -> None:
    now = utc_now()
    for c in conditions:
        if c.type == type_:
            if c.status != value:
                c.last_transition_time = now
            c.status, c.reason, c.message = value, reason, message
            return
    conditions.append(Condition(type=type_, status=value, last_transition_time=now, reason=reason, message=message))


def set_active_versions(status: ResourceStatus, versions: list[str]) -> None:
    status.active_versions = [ActiveVersion(version=v) for v in dict.fromkeys(versions)]
