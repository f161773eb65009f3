"""The field rules of a hosted cluster's external authentication (every api-version), as ARO-HCP's
``validate_externalauth.go`` has them."""

from __future__ import annotations

from urllib.parse import urlsplit

from aro.api.hcp import checks
from aro.api.hcp.externalauth import ExternalAuth, ExternalAuthProperties
from aro.api.hcp.fielderrors import FieldErrors
from aro.api.hcp.rulehelpers import idx, max_len, one_of
from aro.api.version import ValidationContext

MIN_AUDIENCES, MAX_AUDIENCES = 1, 10
MAX_CLIENTS = 20
MAX_CLAIM = 256
MAX_COMPONENT_NAME, MAX_COMPONENT_NAMESPACE = 256, 63
CLIENT_TYPES = ("Confidential", "Public")
PREFIX_POLICIES = ("None", "Prefix", "NoPrefix")
RULE_TYPES = ("RequiredClaim",)
# The one component whose client is confidential (its secret lives in the cluster).
CONSOLE_COMPONENT = ("console", "openshift-console")

P = "properties"


def validate_external_auth(ea: ExternalAuth, ctx: ValidationContext, creating: bool) -> None:
    errs = FieldErrors()
    p = ea.properties
    _issuer(errs, p)
    _clients(errs, p)
    _claim(errs, p)
    errs.raise_if_any()


def _issuer(errs: FieldErrors, p: ExternalAuthProperties) -> None:
    base, issuer = f"{P}.issuer", p.issuer
    if not issuer.url:
        errs.required(f"{base}.url")
    else:
        parts = urlsplit(issuer.url)
        if parts.scheme != "https" or not parts.netloc:
            errs.invalid(f"{base}.url", issuer.url, "must be https URL")
    n = len(issuer.audiences)
    if not MIN_AUDIENCES <= n <= MAX_AUDIENCES:
        errs.invalid(f"{base}.audiences", f"{n} items", f"must have {MIN_AUDIENCES} to {MAX_AUDIENCES} items")
    for i, audience in enumerate(issuer.audiences):
        if not audience:
            errs.required(idx(f"{base}.audiences", i))
    if issuer.ca:
        reason = checks.pem_bundle_error(issuer.ca)
        if reason is not None:
            errs.invalid(f"{base}.ca", "<PEM>", reason)


def _clients(errs: FieldErrors, p: ExternalAuthProperties) -> None:
    base = f"{P}.clients"
    if len(p.clients) > MAX_CLIENTS:
        errs.invalid(base, f"{len(p.clients)} items", f"must have at most {MAX_CLIENTS} items")
    seen: set[tuple[str, str]] = set()
    for i, client in enumerate(p.clients):
        target = idx(base, i)
        comp = client.component
        component = (comp.name, comp.auth_client_namespace)
        for field, value, limit in (
            ("name", comp.name, MAX_COMPONENT_NAME),
            ("authClientNamespace", comp.auth_client_namespace, MAX_COMPONENT_NAMESPACE),
        ):
            if not value:
                errs.required(f"{target}.component.{field}")
            else:
                max_len(errs, value, f"{target}.component.{field}", limit)
        if component in seen:
            errs.invalid(f"{target}.component", "/".join(component), "duplicate component name and namespace")
        seen.add(component)
        if not client.client_id:
            errs.required(f"{target}.clientId")
        elif client.client_id not in p.issuer.audiences:
            errs.invalid(f"{target}.clientId", client.client_id, "must match an audience in issuer audiences")
        for j, scope in enumerate(client.extra_scopes):
            if not scope:
                errs.required(idx(f"{target}.extraScopes", j))
        one_of(errs, client.type, CLIENT_TYPES, f"{target}.type")
        if component == CONSOLE_COMPONENT and client.type == "Public":
            errs.invalid(f"{target}.type", client.type, "must be Confidential for the console component")
        elif client.type == "Confidential" and component != CONSOLE_COMPONENT:
            errs.invalid(f"{target}.type", client.type, "confidential client type is not allowed for this component")


def _claim(errs: FieldErrors, p: ExternalAuthProperties) -> None:
    base = f"{P}.claim.mappings"
    username = p.claim.mappings.username
    if not username.claim:
        errs.required(f"{base}.username.claim")
    else:
        max_len(errs, username.claim, f"{base}.username.claim", MAX_CLAIM)
    one_of(errs, username.prefix_policy, PREFIX_POLICIES, f"{base}.username.prefixPolicy")
    if username.prefix_policy == "Prefix" and not username.prefix:
        errs.message(
            f"{base}.username.prefix",
            f"Missing required field '{base}.username.prefix': required when prefixPolicy is Prefix.",
        )
    elif username.prefix and username.prefix_policy != "Prefix":
        errs.invalid(f"{base}.username.prefix", username.prefix, "may only be set when prefixPolicy is Prefix")
    groups = p.claim.mappings.groups
    if groups is not None:
        if not groups.claim:
            errs.required(f"{base}.groups.claim")
        else:
            max_len(errs, groups.claim, f"{base}.groups.claim", MAX_CLAIM)
    for i, rule in enumerate(p.claim.validation_rules):
        target = idx(f"{P}.claim.validationRules", i)
        one_of(errs, rule.type, RULE_TYPES, f"{target}.type")
        required = rule.required_claim
        if rule.type == "RequiredClaim" and required is None:
            errs.required(f"{target}.requiredClaim")
        if required is not None:
            for field, value in (("claim", required.claim), ("requiredValue", required.required_value)):
                if not value:
                    errs.required(f"{target}.requiredClaim.{field}")
