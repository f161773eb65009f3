"""The registered api-versions and the default versions catalog.

Handlers look up ``VERSIONS[api_version]`` and never branch on the version (STYLE item 4).
"""

from __future__ import annotations

from aro.api import v20191231preview, v20250725
from aro.api.cluster import OpenShiftVersion
from aro.api.version import Version

VERSIONS: dict[str, Version] = {v.api_version: v for v in (v20191231preview.VERSION, v20250725.VERSION)}

DEFAULT_OPENSHIFT_VERSIONS: list[OpenShiftVersion] = [
    OpenShiftVersion(version="4.16.30"),
    OpenShiftVersion(version="4.17.27"),
    OpenShiftVersion(version="4.18.34", default=True),
]
