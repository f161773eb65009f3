"""2026-10-01 external auths: SDK round trip, defaults, one test per field rule, updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from azure.mgmt.redhatopenshifthcp import models as sdk
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aro.api import errors
from aro.api.hcp.externalauth import ExternalAuth
from tests.api.hcp.fixtures import (
    DELETE,
    EXTERNAL_AUTHS,
    Body,
    contains,
    expect_error,
    external_auth_body,
    external_auth_ctx,
    setp,
    targets,
    wire,
)

P = "properties"
BAD = errors.INVALID_REQUEST_CONTENT
USERNAME = f"{P}.claim.mappings.username"


def create(body: Body) -> ExternalAuth:
    return EXTERNAL_AUTHS.put(body, None, external_auth_ctx())


def ca_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_sdk_body_round_trips() -> None:
    sent = external_auth_body()
    ea = create(sent)
    out = EXTERNAL_AUTHS.to_external(ea)
    back = sdk.ExternalAuth(out)
    contains(wire(back), sent)
    assert back.properties.provisioning_state == "Succeeded"
    assert "location" not in out and "tags" not in out  # a proxy resource


def test_defaults() -> None:
    ea = create(external_auth_body())
    assert ea.properties.claim.mappings.username.prefix_policy == "None"
    assert ea.properties.claim.validation_rules[0].type == "RequiredClaim"


def test_a_ca_bundle_is_accepted() -> None:
    assert create(setp(external_auth_body(), f"{P}.issuer.ca", ca_pem())).properties.issuer.ca.startswith("-----BEGIN")


def s(path: str, value: Any) -> Callable[[Body], Any]:
    return lambda body: setp(body, path, value)


CLIENT = f"{P}.clients"
CONSOLE = {"component": {"name": "console", "authClientNamespace": "openshift-console"}, "type": "Confidential"}
RULES: list[tuple[str, Callable[[Body], Any], str]] = [
    ("issuer-url-missing", s(f"{P}.issuer.url", DELETE), f"{P}.issuer.url"),
    ("issuer-http", s(f"{P}.issuer.url", "http://login.example.com"), f"{P}.issuer.url"),
    ("issuer-not-a-url", s(f"{P}.issuer.url", "https://"), f"{P}.issuer.url"),
    (
        "audiences-11",
        s(f"{P}.issuer.audiences", ["console-app", "cli-app", *(f"a{i}" for i in range(9))]),
        f"{P}.issuer.audiences",
    ),
    ("audience-empty", s(f"{P}.issuer.audiences", ["console-app", "cli-app", ""]), f"{P}.issuer.audiences[2]"),
    ("ca-not-pem", s(f"{P}.issuer.ca", "not a certificate"), f"{P}.issuer.ca"),
    ("client-id-not-an-audience", s(f"{CLIENT}.1.clientId", "other-app"), f"{CLIENT}[1].clientId"),
    ("client-id-missing", s(f"{CLIENT}.1.clientId", DELETE), f"{CLIENT}[1].clientId"),
    ("component-name-missing", s(f"{CLIENT}.1.component.name", ""), f"{CLIENT}[1].component.name"),
    ("component-name-too-long", s(f"{CLIENT}.1.component.name", "n" * 257), f"{CLIENT}[1].component.name"),
    (
        "component-namespace-too-long",
        s(f"{CLIENT}.1.component.authClientNamespace", "n" * 64),
        f"{CLIENT}[1].component.authClientNamespace",
    ),
    (
        "component-duplicate",
        s(f"{CLIENT}.1", {**CONSOLE, "clientId": "cli-app"}),
        f"{CLIENT}[1].component",
    ),
    ("client-type", s(f"{CLIENT}.1.type", "Secret"), f"{CLIENT}[1].type"),
    ("console-must-be-confidential", s(f"{CLIENT}.0.type", "Public"), f"{CLIENT}[0].type"),
    ("confidential-only-for-console", s(f"{CLIENT}.1.type", "Confidential"), f"{CLIENT}[1].type"),
    ("extra-scope-empty", s(f"{CLIENT}.1.extraScopes", [""]), f"{CLIENT}[1].extraScopes[0]"),
    ("username-claim-missing", s(f"{USERNAME}.claim", ""), f"{USERNAME}.claim"),
    ("username-claim-too-long", s(f"{USERNAME}.claim", "c" * 257), f"{USERNAME}.claim"),
    ("prefix-policy", s(f"{USERNAME}.prefixPolicy", "Always"), f"{USERNAME}.prefixPolicy"),
    ("prefix-policy-needs-prefix", s(f"{USERNAME}.prefixPolicy", "Prefix"), f"{USERNAME}.prefix"),
    ("prefix-without-policy", s(f"{USERNAME}.prefix", "oidc:"), f"{USERNAME}.prefix"),
    ("groups-claim-missing", s(f"{P}.claim.mappings.groups.claim", ""), f"{P}.claim.mappings.groups.claim"),
    ("rule-type", s(f"{P}.claim.validationRules.0.type", "Expression"), f"{P}.claim.validationRules[0].type"),
    (
        "rule-required-claim-missing",
        s(f"{P}.claim.validationRules.0.requiredClaim", DELETE),
        f"{P}.claim.validationRules[0].requiredClaim",
    ),
    (
        "rule-required-value-missing",
        s(f"{P}.claim.validationRules.0.requiredClaim.requiredValue", ""),
        f"{P}.claim.validationRules[0].requiredClaim.requiredValue",
    ),
]


@pytest.mark.parametrize(("change", "target"), [(c, t) for _, c, t in RULES], ids=[r[0] for r in RULES])
def test_field_rule(change: Callable[[Body], Any], target: str) -> None:
    body = external_auth_body()
    change(body)
    expect_error(lambda: create(body), BAD, target)


def test_at_most_20_clients() -> None:
    clients = [
        {"component": {"name": f"c{i}", "authClientNamespace": "ns"}, "clientId": "cli-app", "type": "Public"}
        for i in range(21)
    ]
    expect_error(lambda: create(setp(external_auth_body(), CLIENT, clients)), BAD, CLIENT)
    create(setp(external_auth_body(), CLIENT, clients[:20]))


def test_audiences_are_required_and_clients_must_match_them() -> None:
    err = expect_error(
        lambda: create(setp(external_auth_body(), f"{P}.issuer.audiences", [])), errors.MULTIPLE_ERRORS_OCCURRED, None
    )
    assert targets(err) == [f"{P}.issuer.audiences", f"{CLIENT}[0].clientId", f"{CLIENT}[1].clientId"]


def test_prefix_with_prefix_policy_is_accepted() -> None:
    body = setp(setp(external_auth_body(), f"{USERNAME}.prefixPolicy", "Prefix"), f"{USERNAME}.prefix", "oidc:")
    assert create(body).properties.claim.mappings.username.prefix == "oidc:"


def test_everything_may_change() -> None:
    ea = create(external_auth_body())
    body = {P: {"issuer": {"audiences": ["console-app", "cli-app", "new-app"]}, "clients": None}}
    new = EXTERNAL_AUTHS.patch(body, ea, external_auth_ctx())
    assert new.properties.issuer.audiences == ["console-app", "cli-app", "new-app"]
    assert new.properties.clients == []
    new = EXTERNAL_AUTHS.put(
        setp(external_auth_body(), f"{P}.issuer.url", "https://other.example"), ea, external_auth_ctx()
    )
    assert new.properties.issuer.url == "https://other.example"
