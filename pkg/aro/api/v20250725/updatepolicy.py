"""Which fields of a 2025-07-25 cluster an update may change (as data; see ``aro.api.immutable``)."""

from __future__ import annotations

from aro.api.immutable import UpdatePolicy

UPDATE_POLICY = UpdatePolicy(
    mutable=(
        "tags",
        "identity.userAssignedIdentities",  # identity.type stays (ARO-RP: immutable)
        "properties.servicePrincipalProfile.clientId",
        "properties.servicePrincipalProfile.clientSecret",
        "properties.platformWorkloadIdentityProfile.upgradeableTo",
        "properties.platformWorkloadIdentityProfile.platformWorkloadIdentities",
        "properties.networkProfile.loadBalancerProfile.managedOutboundIps.count",
    ),
    read_only=(
        "id",
        "name",
        "type",
        "systemData",
        "properties.provisioningState",
        "properties.workerProfilesStatus",
        "properties.clusterProfile.oidcIssuer",
        "properties.consoleProfile.url",
        "properties.networkProfile.loadBalancerProfile.effectiveOutboundIps",
        "properties.apiserverProfile.url",
        "properties.apiserverProfile.ip",
        "properties.ingressProfiles[*].ip",
        "properties.platformWorkloadIdentityProfile.platformWorkloadIdentities[*].clientId",
        "properties.platformWorkloadIdentityProfile.platformWorkloadIdentities[*].objectId",
        "identity.principalId",
        "identity.tenantId",
        "identity.userAssignedIdentities[*].principalId",
        "identity.userAssignedIdentities[*].clientId",
    ),
    case_insensitive=(
        "location",
        "properties.clusterProfile.resourceGroupId",
        "properties.masterProfile.subnetId",
        "properties.masterProfile.diskEncryptionSetId",
        "properties.workerProfiles[*].subnetId",
        "properties.workerProfiles[*].diskEncryptionSetId",
    ),
    maps=(
        "tags",
        "identity.userAssignedIdentities",
        "properties.platformWorkloadIdentityProfile.platformWorkloadIdentities",
    ),
    # Operator identities may not be removed or renamed: aro.api.workloadidentity says so in ARO-RP's words.
)
