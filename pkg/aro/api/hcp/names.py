"""Resource-name rules of the hosted-cluster kinds (TSP ``hcpCluster-models.tsp``, ``hcpVersion.tsp``; ARO-HCP
``validators.go``), for the kind descriptors' ``names``."""

from __future__ import annotations

from aro.api.kind import NameRule

CLUSTER_NAME_PATTERN = r"^[a-zA-Z]([-a-zA-Z0-9]{0,52}[a-zA-Z0-9])?$"
CLUSTER_NAME_DESCRIPTION = "use 1-54 letters, digits or '-', starting with a letter and not ending in '-'"
CHILD_NAME_PATTERN = r"^[a-zA-Z]([-a-zA-Z0-9]{0,13}[a-zA-Z0-9])?$"  # nodePools and externalAuths
CHILD_NAME_DESCRIPTION = "use 1-15 letters, digits or '-', starting with a letter and not ending in '-'"
CATALOG_NAME_PATTERN = r"^[a-zA-Z0-9-\.]{3,24}$"  # hcpOpenShiftVersions and hcpOperatorIdentityRoleSets
CATALOG_NAME_DESCRIPTION = "use 3-24 letters, digits, '-' or '.'"


def _anchored(pattern: str) -> str:
    """``$`` also matches before a final newline in Python: anchor with ``\\Z``."""
    return pattern[:-1] + r"\Z"


CLUSTER_NAMES = NameRule(
    _anchored(CLUSTER_NAME_PATTERN), CLUSTER_NAME_DESCRIPTION, openapi_pattern=CLUSTER_NAME_PATTERN, max_length=54
)
NODE_POOL_NAMES = NameRule(
    _anchored(CHILD_NAME_PATTERN), CHILD_NAME_DESCRIPTION, openapi_pattern=CHILD_NAME_PATTERN, max_length=15
)
EXTERNAL_AUTH_NAMES = NODE_POOL_NAMES
CATALOG_NAMES = NameRule(
    _anchored(CATALOG_NAME_PATTERN), CATALOG_NAME_DESCRIPTION, openapi_pattern=CATALOG_NAME_PATTERN, max_length=24
)
