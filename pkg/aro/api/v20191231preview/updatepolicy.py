"""Which fields of a 2019-12-31-preview cluster an update may change: as 2025-07-25, plus
``workerProfiles[].count`` (the seed README's scale command)."""

from __future__ import annotations

from aro.api.immutable import UpdatePolicy

UPDATE_POLICY = UpdatePolicy(
    mutable=(
        "tags",
        "properties.servicePrincipalProfile.clientId",
        "properties.servicePrincipalProfile.clientSecret",
        "properties.workerProfiles[*].count",
    ),
    read_only=(
        "id",
        "name",
        "type",
        "properties.provisioningState",
        "properties.consoleProfile.url",
        "properties.apiserverProfile.url",
        "properties.apiserverProfile.ip",
        "properties.ingressProfiles[*].ip",
    ),
    case_insensitive=(
        "location",
        "properties.clusterProfile.resourceGroupId",
        "properties.masterProfile.subnetId",
        "properties.workerProfiles[*].subnetId",
    ),
    maps=("tags",),
)
