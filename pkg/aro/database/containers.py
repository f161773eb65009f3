"""The containers of the RP and how documents are keyed and partitioned (names as in ARO).

Every resource kind lives in a container of its own (``kind.container_name``), so a prefix list of one
kind can never return another; its documents are claimable (backend work) while the hub's
provisioningState is non-terminal.
"""

from __future__ import annotations

from typing import Any

from aro.api.kind import Kinds, ResourceKind
from aro.api.registry import KINDS
from aro.api.resource import NON_TERMINAL_STATES
from aro.database.claims import CLAIMS
from aro.database.store import ContainerSpec

SUBSCRIPTIONS = ContainerSpec("subscriptions", claim_path=("deleting",), claim_values=frozenset({True}))
ASYNC_OPERATIONS = ContainerSpec("asyncOperations", default_ttl=7 * 24 * 3600)
BILLING = ContainerSpec("billing")
# The account ledger (``aro.ledger``): AMS-style organizations, subscriptions, labels and accounts. The AMS
# fields that ``search`` and ``order`` name (``aro.ledger.fields`` types them) are under the document's
# "subscription", "organization" or "account"; each is an order path (on Cosmos DB a composite index
# (path, id): deploy/aro.json declares the same).
LEDGER_SUBSCRIPTION_FIELDS = (
    "id",
    "cluster_id",
    "external_cluster_id",
    "display_name",
    "organization_id",
    "status",
    "plan.id",
    "plan.type",
    "plan.category",
    "creator.id",
    "creator.username",
    "console_url",
    "managed",
    "cloud_provider_id",
    "cloud_account_id",
    "region_id",
    "provenance",
    "support_level",
    "created_at",
    "updated_at",
    "last_telemetry_date",
)
LEDGER_ORGANIZATION_FIELDS = ("id", "name", "external_id", "created_at", "updated_at")
LEDGER_ACCOUNT_FIELDS = ("id", "username", "email", "organization.id", "created_at", "updated_at")


def _order_paths(root: str, names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple((root, *name.split(".")) for name in names)


LEDGER_ORGANIZATIONS = ContainerSpec(
    "ledgerOrganizations", order_paths=_order_paths("organization", LEDGER_ORGANIZATION_FIELDS)
)
# Looked up across organizations: a subscription by id (an SRE's GET), by cluster id (the backplane, on
# every proxied request) and by OpenShift id; an account by id; a page's labels by subscription.
LEDGER_SUBSCRIPTIONS = ContainerSpec(
    "ledgerSubscriptions",
    order_paths=_order_paths("subscription", LEDGER_SUBSCRIPTION_FIELDS),
    lookup_paths=(("subscription", "id"), ("subscription", "cluster_id"), ("subscription", "external_cluster_id")),
)
LEDGER_LABELS = ContainerSpec("ledgerLabels", lookup_paths=(("label", "subscription_id"),))
LEDGER_ACCOUNTS = ContainerSpec(
    "ledgerAccounts",
    order_paths=_order_paths("account", LEDGER_ACCOUNT_FIELDS),
    lookup_paths=(("account", "id"),),
)
LEDGER = (LEDGER_ORGANIZATIONS, LEDGER_SUBSCRIPTIONS, LEDGER_LABELS, LEDGER_ACCOUNTS)
# The backplane's managed jobs (``aro.backplane.jobs``), partitioned by the backplane cluster id: a job is
# backend work while it is ``active`` (admitted and not ended); a finished job and its log chunks carry a
# ``ttl`` (backplane.keepJobsSeconds).
BACKPLANE_JOBS = ContainerSpec("backplaneJobs", claim_path=("active",), claim_values=frozenset({True}))


def resource_container(kind: ResourceKind[Any]) -> ContainerSpec:
    return ContainerSpec(
        kind.container_name,
        claim_path=(kind.document_field, "properties", "provisioningState"),
        claim_values=frozenset(s.value for s in NON_TERMINAL_STATES),
    )


def containers_for(kinds: Kinds) -> tuple[ContainerSpec, ...]:
    """The containers a process serving ``kinds`` opens."""
    return (
        *(resource_container(k) for k in kinds),
        SUBSCRIPTIONS,
        ASYNC_OPERATIONS,
        BILLING,
        CLAIMS,
        *LEDGER,
        BACKPLANE_JOBS,
    )


ALL = containers_for(KINDS)  # the built-in kinds'


def partition_of(subscription_id: str) -> str:
    """Resource, operation and billing documents are partitioned by lower-cased subscription id."""
    return subscription_id.lower()
