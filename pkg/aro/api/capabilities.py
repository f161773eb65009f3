"""Organization capabilities: which ledger labels gate which features (the one table; docs/ledger.md shows it).

A capability is enabled for an organization by a label on it (``key`` = the capability, ``value`` "true"),
as in OCM's Account Management Service; a cluster-scoped capability (``capability.cluster.*``) may also be
set on one cluster's subscription. New organizations get ``ledger.defaultCapabilities`` (default: all).

A kind declares what a request needs (``ResourceKind.capabilities``); the frontend refuses a write whose
organization lacks one with 403 ``CapabilityNotEnabled`` before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

HYPERSHIFT = "capability.organization.hypershift"
AUTOSCALE_CLUSTERS = "capability.cluster.autoscale_clusters"
MULTIARCH = "capability.organization.multiarch"

CAPABILITY_NOT_ENABLED = "CapabilityNotEnabled"


@dataclass(frozen=True)
class Capability:
    name: str
    gates: str  # what it enables, for messages and docs


CAPABILITIES: tuple[Capability, ...] = (
    Capability(HYPERSHIFT, "creating hosted clusters (hcpOpenShiftClusters)"),
    Capability(AUTOSCALE_CLUSTERS, "node pool autoscaling (properties.autoScaling)"),
    Capability(MULTIARCH, "Arm64 VM sizes for node pools"),
)
NAMES = frozenset(c.name for c in CAPABILITIES)


@dataclass(frozen=True)
class Need:
    """A capability one request needs, and the field that needs it."""

    capability: str
    target: str | None = None

    @property
    def gates(self) -> str:
        return next((c.gates for c in CAPABILITIES if c.name == self.capability), self.capability)


def enabled(value: str) -> bool:
    """A capability label's value turns it on ("true", as AMS writes it)."""
    return value.strip().lower() in ("true", "t", "1", "yes")
