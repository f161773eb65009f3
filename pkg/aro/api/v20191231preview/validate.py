"""2019-12-31-preview static checks of its own: the base64 pull secret. The shared field rules (applied
after the lenient defaults) are in ``aro.api.validation``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aro.api.errors import invalid_parameter
from aro.api.resource import ProvisioningState
from aro.api.v20191231preview import models as m
from aro.api.validation import check_provisioning_state

PULL_SECRET = "properties.pullSecret"
# The states a request may name in this version (ARO-RP: any other is 400, on create too).
PROVISIONING_STATES = (
    ProvisioningState.CREATING,
    ProvisioningState.UPDATING,
    ProvisioningState.ADMIN_UPDATING,
    ProvisioningState.DELETING,
    ProvisioningState.SUCCEEDED,
    ProvisioningState.FAILED,
)


def decode_pull_secret(value: str | None) -> str:
    """``properties.pullSecret`` is the base64 of the pull secret text."""
    if not value:
        return ""
    try:
        return base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_parameter(PULL_SECRET, "The provided pull secret is not valid base64.") from None


def check(ext: m.OpenShiftCluster, body: dict[str, Any], creating: bool) -> None:
    if creating:
        check_provisioning_state(body, None, PROVISIONING_STATES)
    if ext.properties is not None:
        decode_pull_secret(ext.properties.pull_secret)
