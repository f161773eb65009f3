"""2026-10-01 <-> hub conversion of external auths and their update policy (see ``clusterconvert`` for the
contract). Every customer field may change."""

from __future__ import annotations

from typing import Any

from aro.api.external import or_empty
from aro.api.hcp import externalauth as hub
from aro.api.hcp.v20261001 import externalauthmodels as m
from aro.api.hcp.v20261001.common import conditions_out, or_default, provisioning_state, system_data_out
from aro.api.immutable import UpdatePolicy
from aro.api.version import ValidationContext

DEFAULT_PREFIX_POLICY = "None"
DEFAULT_RULE_TYPE = "RequiredClaim"

P = "properties"
POLICY = UpdatePolicy(
    mutable=(f"{P}.issuer", f"{P}.clients", f"{P}.claim"),
    read_only=("id", "name", "type", "systemData", f"{P}.provisioningState", f"{P}.status"),
)


def render(ea: hub.ExternalAuth, secrets: bool) -> dict[str, Any]:
    p = ea.properties
    username, groups = p.claim.mappings.username, p.claim.mappings.groups
    return {
        "id": ea.id,
        "name": ea.name,
        "type": ea.type,
        "systemData": system_data_out(ea.system_data),
        "properties": {
            "provisioningState": provisioning_state(p.provisioning_state),
            "status": {"conditions": conditions_out(p.status.conditions)},
            "issuer": {"url": p.issuer.url, "audiences": list(p.issuer.audiences), "ca": p.issuer.ca},
            "clients": [
                {
                    "component": {"name": c.component.name, "authClientNamespace": c.component.auth_client_namespace},
                    "clientId": c.client_id,
                    "extraScopes": list(c.extra_scopes) or None,
                    "type": c.type,
                }
                for c in p.clients
            ]
            or None,
            "claim": {
                "mappings": {
                    "username": {
                        "claim": username.claim,
                        "prefix": username.prefix,
                        "prefixPolicy": username.prefix_policy,
                    },
                    "groups": None if groups is None else {"claim": groups.claim, "prefix": groups.prefix},
                },
                "validationRules": [_rule_out(r) for r in p.claim.validation_rules] or None,
            },
        },
    }


def _rule_out(rule: hub.TokenClaimValidationRule) -> dict[str, Any]:
    required = rule.required_claim
    return {
        "type": rule.type,
        "requiredClaim": None
        if required is None
        else {"claim": required.claim, "requiredValue": required.required_value},
    }


def to_internal(ext: m.ExternalAuth, ea: hub.ExternalAuth) -> None:
    p_in, p = ext.properties or m.ExternalAuthProperties(), ea.properties
    issuer = p_in.issuer or m.TokenIssuerProfile()
    p.issuer.url, p.issuer.ca = or_empty(issuer.url), or_empty(issuer.ca)
    p.issuer.audiences = list(issuer.audiences or [])
    p.clients = [_client_in(c) for c in p_in.clients or []]
    claim = p_in.claim or m.ExternalAuthClaimProfile()
    mappings = claim.mappings or m.TokenClaimMappingsProfile()
    username = mappings.username or m.UsernameClaimProfile()
    p.claim.mappings.username = hub.UsernameClaimProfile(
        claim=or_empty(username.claim),
        prefix=or_empty(username.prefix),
        prefix_policy=or_default(username.prefix_policy, DEFAULT_PREFIX_POLICY),
    )
    groups = mappings.groups
    p.claim.mappings.groups = (
        None if groups is None else hub.GroupClaimProfile(claim=or_empty(groups.claim), prefix=or_empty(groups.prefix))
    )
    p.claim.validation_rules = [_rule_in(r) for r in claim.validation_rules or []]


def _client_in(c: m.ExternalAuthClientProfile) -> hub.ExternalAuthClientProfile:
    comp = c.component or m.ExternalAuthClientComponentProfile()
    return hub.ExternalAuthClientProfile(
        component=hub.ExternalAuthClientComponentProfile(
            name=or_empty(comp.name), auth_client_namespace=or_empty(comp.auth_client_namespace)
        ),
        client_id=or_empty(c.client_id),
        extra_scopes=list(c.extra_scopes or []),
        type=or_empty(c.type),
    )


def _rule_in(r: m.TokenClaimValidationRule) -> hub.TokenClaimValidationRule:
    required = r.required_claim
    return hub.TokenClaimValidationRule(
        type=or_default(r.type, DEFAULT_RULE_TYPE),
        required_claim=None
        if required is None
        else hub.TokenRequiredClaim(claim=or_empty(required.claim), required_value=or_empty(required.required_value)),
    )


def create_defaults(ea: hub.ExternalAuth, ctx: ValidationContext) -> None:
    """Nothing depends on the request: the version's defaults are applied by ``to_internal``."""


def replace_base(ea: hub.ExternalAuth) -> dict[str, Any]:
    return {}
