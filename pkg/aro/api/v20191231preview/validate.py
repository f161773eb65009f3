"""2019-12-31-preview static checks of its own: the base64 pull secret. The shared field rules (applied
after the lenient defaults) are in ``aro.api.validation``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aro.api.errors import invalid_parameter
from aro.api.v20191231preview import models as m

PULL_SECRET = "properties.pullSecret"


def decode_pull_secret(value: str | None) -> str:
    """``properties.pullSecret`` is the base64 of the pull secret text."""
    if not value:
        return ""
    try:
        return base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_parameter(PULL_SECRET, "The provided pull secret is not valid base64.") from None


def check(ext: m.OpenShiftCluster, body: dict[str, Any], creating: bool) -> None:
    if ext.properties is not None:
        decode_pull_secret(ext.properties.pull_secret)
