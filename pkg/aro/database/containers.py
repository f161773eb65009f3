"""The containers of the RP and how documents are keyed and partitioned (names as in ARO)."""

from __future__ import annotations

from aro.api.cluster import NON_TERMINAL_STATES
from aro.database.store import ContainerSpec

OPENSHIFT_CLUSTERS = ContainerSpec(
    "openShiftClusters",
    claim_path=("openShiftCluster", "properties", "provisioningState"),
    claim_values=frozenset(s.value for s in NON_TERMINAL_STATES),
)
SUBSCRIPTIONS = ContainerSpec("subscriptions", claim_path=("deleting",), claim_values=frozenset({True}))
ASYNC_OPERATIONS = ContainerSpec("asyncOperations", default_ttl=7 * 24 * 3600)
BILLING = ContainerSpec("billing")

ALL = (OPENSHIFT_CLUSTERS, SUBSCRIPTIONS, ASYNC_OPERATIONS, BILLING)


def partition_of(subscription_id: str) -> str:
    """Cluster, operation and billing documents are partitioned by lower-cased subscription id."""
    return subscription_id.lower()
