"""The observed ``status`` of hosted resources: conditions (Available / Progressing / Degraded, with
Kubernetes semantics: ``lastTransitionTime`` moves only when the status changes) and active versions."""

from __future__ import annotations

from aro.api.hcp import conditions as conditions_rule
from aro.api.hcp.common import ActiveVersion, Condition, ResourceStatus


def set_condition(conditions: list[Condition], type_: str, value: str, reason: str, message: str) -> None:
    conditions_rule.set_condition(conditions, type_, value, reason, message)


def set_active_versions(status: ResourceStatus, versions: list[str]) -> None:
    status.active_versions = [ActiveVersion(version=v) for v in dict.fromkeys(versions)]
