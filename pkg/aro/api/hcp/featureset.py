"""A hosted cluster's feature set (HyperShift's ``spec.configuration.featureGate.featureSet``), set by the
admin API: "" (``Default``) or ``TechPreviewNoUpgrade``, which "CANNOT BE UNDONE and PREVENTS UPGRADES".

- Once ``TechPreviewNoUpgrade``, it may be neither removed nor changed (``change_error``).
- It blocks minor (and major) upgrades of the control plane: a change of ``version.id`` to a later
  release line is 400 (``check_upgrade``, called by the version package's cluster validation). A z-stream
  (the admin API's ``desiredVersion`` within ``version.id``) is still allowed, as HyperShift allows it.
- The cluster shows it as condition ``TechPreviewNoUpgrade`` (True, reason ``FeatureSetEnabled``).
"""

from __future__ import annotations

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.common import Condition
from aro.api.hcp.conditions import set_condition
from aro.api.hcp.versioning import line_key, parse_any
from aro.api.version import ValidationContext

DEFAULT = "Default"
TECH_PREVIEW = "TechPreviewNoUpgrade"
FEATURE_SETS = ("", DEFAULT, TECH_PREVIEW)
CONDITION = TECH_PREVIEW
REASON = "FeatureSetEnabled"
UPGRADE_BLOCKED = f"The cluster has feature set {TECH_PREVIEW}: minor upgrades are blocked"


def stored(value: str) -> str:
    """What the hub keeps: "" for the default set."""
    return "" if value == DEFAULT else value


def change_error(old: str, new: str) -> str | None:
    """Why the feature set may not move from ``old`` to ``new`` (stored forms; None: it may)."""
    if old == TECH_PREVIEW and new != TECH_PREVIEW:
        return f"{TECH_PREVIEW} cannot be undone"
    return None


def check_upgrade(oc: HcpOpenShiftCluster, ctx: ValidationContext, creating: bool) -> None:
    """400 when a cluster with TechPreviewNoUpgrade is moved to a later release line."""
    previous = ctx.current if not creating and isinstance(ctx.current, HcpOpenShiftCluster) else None
    if previous is None or previous.properties.feature_set != TECH_PREVIEW:
        return
    old, new = parse_any(previous.properties.version.id), parse_any(oc.properties.version.id)
    if old is not None and new is not None and line_key(new) > line_key(old):
        raise CloudError(400, errors.INVALID_REQUEST_CONTENT, f"{UPGRADE_BLOCKED}.", "properties.version.id")


def mark(conditions: list[Condition], feature_set: str) -> bool:
    """Condition TechPreviewNoUpgrade for an enabled feature set (it is never removed: it cannot be)."""
    if feature_set != TECH_PREVIEW:
        return False
    return set_condition(
        conditions,
        CONDITION,
        "True",
        REASON,
        f"Feature set {TECH_PREVIEW} is enabled: it cannot be undone and minor upgrades are blocked",
    )
