"""The hub model of a hosted cluster's external authentication (``hcpOpenShiftClusters/externalAuths``,
a proxy resource: no location, no tags): every field of the SDK's ``ExternalAuthProperties``."""

from __future__ import annotations

from pydantic import Field

from aro.api.hcp.common import Condition
from aro.api.resource import RESOURCE_PROVIDER, Model, Resource, ResourceProperties

RESOURCE_TYPE = f"{RESOURCE_PROVIDER}/hcpOpenShiftClusters/externalAuths"


class TokenIssuerProfile(Model):
    url: str = ""  # https
    audiences: list[str] = Field(default_factory=list)
    ca: str = ""  # PEM bundle; empty: the system trust


class ExternalAuthClientComponentProfile(Model):
    name: str = ""
    auth_client_namespace: str = ""


class ExternalAuthClientProfile(Model):
    component: ExternalAuthClientComponentProfile = Field(default_factory=ExternalAuthClientComponentProfile)
    client_id: str = ""
    extra_scopes: list[str] = Field(default_factory=list)
    type: str = ""  # Confidential | Public


class UsernameClaimProfile(Model):
    claim: str = ""
    prefix: str = ""
    prefix_policy: str = ""  # None | Prefix | NoPrefix


class GroupClaimProfile(Model):
    claim: str = ""
    prefix: str = ""


class TokenClaimMappingsProfile(Model):
    username: UsernameClaimProfile = Field(default_factory=UsernameClaimProfile)
    groups: GroupClaimProfile | None = None


class TokenRequiredClaim(Model):
    claim: str = ""
    required_value: str = ""


class TokenClaimValidationRule(Model):
    type: str = ""  # RequiredClaim
    required_claim: TokenRequiredClaim | None = None


class ExternalAuthClaimProfile(Model):
    mappings: TokenClaimMappingsProfile = Field(default_factory=TokenClaimMappingsProfile)
    validation_rules: list[TokenClaimValidationRule] = Field(default_factory=list)


class ExternalAuthStatus(Model):
    conditions: list[Condition] = Field(default_factory=list)


class ExternalAuthProperties(ResourceProperties):
    issuer: TokenIssuerProfile = Field(default_factory=TokenIssuerProfile)
    clients: list[ExternalAuthClientProfile] = Field(default_factory=list)
    claim: ExternalAuthClaimProfile = Field(default_factory=ExternalAuthClaimProfile)
    status: ExternalAuthStatus = Field(default_factory=ExternalAuthStatus)  # set by the backend


class ExternalAuth(Resource):
    """The hub type of ``externalAuths``."""

    type: str = RESOURCE_TYPE
    properties: ExternalAuthProperties = Field(default_factory=ExternalAuthProperties)
