"""2025-07-25 static checks of its own; the shared field rules are in ``aro.api.validation``."""

from __future__ import annotations

from typing import Any

from aro.api.errors import CloudError, invalid_parameter
from aro.api.resource import ProvisioningState
from aro.api.v20250725 import models as m
from aro.api.validation import check_provisioning_state

REQUIRED_PROFILES = (
    ("cluster_profile", "properties.clusterProfile"),
    ("network_profile", "properties.networkProfile"),
    ("master_profile", "properties.masterProfile"),
    ("apiserver_profile", "properties.apiserverProfile"),
)
# The states a request may name (ARO-RP: any other is 400, on create too).
PROVISIONING_STATES = tuple(s for s in ProvisioningState if s is not ProvisioningState.PROVISIONING)


def missing(path: str) -> CloudError:
    return invalid_parameter(path, f"The field '{path}' is required.")


def check(ext: m.OpenShiftCluster, body: dict[str, Any], creating: bool) -> None:
    """On create the profiles are required, ``provisioningState`` must name a state and
    ``workerProfilesStatus`` must be empty (ARO-RP's messages)."""
    if not creating:
        return
    if ext.properties is None:
        raise missing("properties")
    for attr, target in REQUIRED_PROFILES:
        if getattr(ext.properties, attr) is None:
            raise missing(target)
    check_provisioning_state(body, None, PROVISIONING_STATES)
    props = body.get("properties")
    if isinstance(props, dict) and props.get("workerProfilesStatus"):
        raise invalid_parameter("properties.workerProfilesStatus", "Worker Profile Status must be set to nil.")
