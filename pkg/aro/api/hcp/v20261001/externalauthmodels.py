"""The 2026-10-01 REST schema of Microsoft.RedHatOpenShift/hcpOpenShiftClusters/externalAuths (a proxy
resource), as the SDK ``azure-mgmt-redhatopenshifthcp`` 1.0.0 reads and writes it."""

from __future__ import annotations

from aro.api.external import ExternalModel
from aro.api.hcp.v20261001.common import Condition, SystemData, enum, read_only


class TokenIssuerProfile(ExternalModel):
    url: str | None = None
    audiences: list[str] | None = None
    ca: str | None = None


class ExternalAuthClientComponentProfile(ExternalModel):
    name: str | None = None
    auth_client_namespace: str | None = None


class ExternalAuthClientProfile(ExternalModel):
    component: ExternalAuthClientComponentProfile | None = None
    client_id: str | None = None
    extra_scopes: list[str] | None = None
    type: str | None = enum("Confidential", "Public")


class UsernameClaimProfile(ExternalModel):
    claim: str | None = None
    prefix: str | None = None
    prefix_policy: str | None = enum("None", "Prefix", "NoPrefix")


class GroupClaimProfile(ExternalModel):
    claim: str | None = None
    prefix: str | None = None


class TokenClaimMappingsProfile(ExternalModel):
    username: UsernameClaimProfile | None = None
    groups: GroupClaimProfile | None = None


class TokenRequiredClaim(ExternalModel):
    claim: str | None = None
    required_value: str | None = None


class TokenClaimValidationRule(ExternalModel):
    type: str | None = enum("RequiredClaim")
    required_claim: TokenRequiredClaim | None = None


class ExternalAuthClaimProfile(ExternalModel):
    mappings: TokenClaimMappingsProfile | None = None
    validation_rules: list[TokenClaimValidationRule] | None = None


class ExternalAuthStatus(ExternalModel):
    conditions: list[Condition] | None = read_only()


class ExternalAuthProperties(ExternalModel):
    provisioning_state: str | None = read_only()
    status: ExternalAuthStatus | None = read_only()
    issuer: TokenIssuerProfile | None = None
    clients: list[ExternalAuthClientProfile] | None = None
    claim: ExternalAuthClaimProfile | None = None


class ExternalAuth(ExternalModel):
    """PUT/PATCH body and GET/PUT/PATCH/list response (a proxy resource: no location, no tags)."""

    id: str | None = None
    name: str | None = None
    type: str | None = None
    system_data: SystemData | None = read_only()
    properties: ExternalAuthProperties | None = None
