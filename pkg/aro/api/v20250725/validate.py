"""2025-07-25 static checks of its own; the shared field rules are in ``aro.api.validation``."""

from __future__ import annotations

from typing import Any

from aro.api.errors import invalid_parameter
from aro.api.v20250725 import models as m

REQUIRED_PROFILES = (
    ("cluster_profile", "properties.clusterProfile"),
    ("network_profile", "properties.networkProfile"),
    ("master_profile", "properties.masterProfile"),
    ("apiserver_profile", "properties.apiserverProfile"),
)


def check(ext: m.OpenShiftCluster, body: dict[str, Any], creating: bool) -> None:
    """On create the profiles are required and ``workerProfilesStatus`` must be empty."""
    if not creating:
        return
    if ext.properties is None:
        raise invalid_parameter("properties", "The provided properties are required.")
    for attr, target in REQUIRED_PROFILES:
        if getattr(ext.properties, attr) is None:
            raise invalid_parameter(target, f"The provided {target} is required.")
    props = body.get("properties")
    if isinstance(props, dict) and props.get("workerProfilesStatus"):
        raise invalid_parameter(
            "properties.workerProfilesStatus", "The provided workerProfilesStatus must not be set on create."
        )
