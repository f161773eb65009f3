"""The built-in resource kinds and the default versions catalog.

Handlers look a version up on its kind (``kind.version(api_version)``) and never branch on the version
(STYLE item 4); the kinds a process serves are passed to it (``aro.kinds`` composes them with their
backends), so tests and extensions can add kinds without touching this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aro.api.cluster import OpenShiftVersion
from aro.api.hcp.catalog import default_role_sets, load_versions
from aro.api.hcpopenshiftclusters import (
    EXTERNAL_AUTHS,
    HCP_OPENSHIFT_CLUSTERS,
    HCP_OPENSHIFT_VERSIONS,
    HCP_ROLE_SETS,
    NODE_POOLS,
)
from aro.api.kind import Kinds
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS, OPENSHIFT_VERSIONS, PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS
from aro.api.rolesets import shipped as shipped_role_sets

KINDS = Kinds(
    [OPENSHIFT_CLUSTERS, HCP_OPENSHIFT_CLUSTERS, NODE_POOLS, EXTERNAL_AUTHS],
    [OPENSHIFT_VERSIONS, PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS, HCP_OPENSHIFT_VERSIONS, HCP_ROLE_SETS],
)

DEFAULT_OPENSHIFT_VERSIONS: list[OpenShiftVersion] = [
    OpenShiftVersion(version="4.16.30"),
    OpenShiftVersion(version="4.17.27"),
    OpenShiftVersion(version="4.18.34", default=True),
]


def default_catalogs(hcp_versions_file: str | None = None) -> dict[str, Sequence[Any]]:
    """Every catalog's entries: the classic versions, the hosted versions (the shipped file, or
    ``hcp.versionsFile``) and the operator identity role sets of both cluster kinds."""
    return {
        OPENSHIFT_VERSIONS.name: DEFAULT_OPENSHIFT_VERSIONS,
        HCP_OPENSHIFT_VERSIONS.name: load_versions(hcp_versions_file),
        HCP_ROLE_SETS.name: default_role_sets(),
        PLATFORM_WORKLOAD_IDENTITY_ROLE_SETS.name: list(shipped_role_sets()),
    }
