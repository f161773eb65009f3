"""The built-in resource kinds and the default versions catalog.

Handlers look a version up on its kind (``kind.version(api_version)``) and never branch on the version
(STYLE item 4); the kinds a process serves are passed to it (``aro.kinds`` composes them with their
backends), so tests and extensions can add kinds without touching this module.
"""

from __future__ import annotations

from aro.api.cluster import OpenShiftVersion
from aro.api.kind import Kinds
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS, OPENSHIFT_VERSIONS

KINDS = Kinds([OPENSHIFT_CLUSTERS], [OPENSHIFT_VERSIONS])

DEFAULT_OPENSHIFT_VERSIONS: list[OpenShiftVersion] = [
    OpenShiftVersion(version="4.16.30"),
    OpenShiftVersion(version="4.17.27"),
    OpenShiftVersion(version="4.18.34", default=True),
]
