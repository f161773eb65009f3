"""Production: the ledger's API takes JWTs of the configured OIDC issuer, checked against its JWKS (found
through the issuer's discovery document, served here by a real HTTP server); the ARM routes still take
only client certificates; development's token endpoint does not exist; without an issuer every ledger
request is refused with a reason."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from aro.ledger import identity
from aro.ledger.model import LedgerError
from tests.conftest import RPProcess
from tests.security.test_production import Certs, _ctx, make_certs, start_production

AUDIENCE = "aro-ledger"


class Issuer:
    """An OIDC issuer: discovery document and JWKS over HTTP, and tokens signed with its key."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self.requests = 0
        self.up = True  # False: every request is 503 (an outage)
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests += 1
                if not issuer.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                elif self.path == "/keys":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key()))
                    body = {"keys": [{**jwk, "kid": issuer.kid, "use": "sig", "alg": "RS256"}]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        base = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "u-1",
            "preferred_username": "olivia",
            "iat": now,
            "exp": now + 300,
        }
        return jwt.encode({**base, **claims}, self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    i = Issuer()
    yield i
    i.server.shutdown()


@pytest.fixture(scope="module")
def prod(certs: Certs, issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RPProcess]:
    rp = start_production(
        certs,
        tmp_path_factory.mktemp("oidc") / "data",
        ARO_LEDGER_OIDC_ISSUER=issuer.url,
        ARO_LEDGER_OIDC_AUDIENCE=AUDIENCE,
    )
    yield rp
    rp.stop()


def bearer(prod: RPProcess, certs: Certs, token: str) -> httpx.Client:
    """A client with no client certificate: the ledger is reached with the token alone."""
    return httpx.Client(base_url=prod.base_url, verify=_ctx(certs), headers={"Authorization": f"Bearer {token}"})


def test_tokens_of_the_issuer_are_accepted(prod: RPProcess, certs: Certs, issuer: Issuer) -> None:
    tenant = str(uuid.uuid4())
    with bearer(prod, certs, issuer.token(org_id=tenant, groups=["dev"])) as c:
        me = c.get("/api/accounts_mgmt/v1/current_account")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "olivia" and me.json()["organization"]["external_id"] == tenant
        listed = c.get("/api/accounts_mgmt/v1/subscriptions")
        assert listed.status_code == 200 and listed.json()["total"] == 0
        # the token does not open the ARM routes: they take the ARM client certificate only
        arm = c.get(
            f"/subscriptions/{uuid.uuid4()}/providers/Microsoft.RedHatOpenShift/openShiftClusters?api-version=2025-07-25"
        )
        assert arm.status_code == 403
    with bearer(prod, certs, issuer.token(tid=tenant, preferred_username=None, sub="svc-1")) as c:  # Entra's tid
        me = c.get("/api/accounts_mgmt/v1/current_account").json()
        assert me["username"] == "svc-1" and me["organization"]["external_id"] == tenant


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"aud": "someone-else"}, "not valid"),
        ({"iss": "https://evil.example.com"}, "not valid"),
        ({}, "no organization"),
    ],
)
def test_bad_tokens_are_refused(
    prod: RPProcess,
    certs: Certs,
    issuer: Issuer,
    claims: dict[str, Any],
    reason: str,
) -> None:
    if reason != "no organization":
        claims = {"org_id": str(uuid.uuid4()), **claims}
    with bearer(prod, certs, issuer.token(**claims)) as c:
        r = c.get("/api/accounts_mgmt/v1/subscriptions")
        assert r.status_code == 401 and r.json()["kind"] == "Error" and reason in r.json()["reason"], r.text


def test_forged_tokens_are_refused(prod: RPProcess, certs: Certs, issuer: Issuer) -> None:
    good = issuer.token(org_id=str(uuid.uuid4()))
    header, payload, signature = good.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong_key = jwt.encode(
        jwt.decode(good, options={"verify_signature": False}), other, "RS256", headers={"kid": "key-1"}
    )
    unknown_kid = jwt.encode(
        jwt.decode(good, options={"verify_signature": False}), other, "RS256", headers={"kid": "k9"}
    )
    public_pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confused = _hs256_with(public_pem, jwt.decode(good, options={"verify_signature": False}))
    for token in (tampered, wrong_key, unknown_kid, confused, "x" * 20000):
        with bearer(prod, certs, token) as c:
            r = c.get("/api/accounts_mgmt/v1/current_account")
            assert r.status_code == 401 and r.json()["kind"] == "Error", (token[:40], r.text)


def _hs256_with(secret: bytes, claims: dict[str, Any]) -> str:
    """An 'alg confusion' token: HS256 keyed with the issuer's public key (must never verify)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def test_production_has_no_token_endpoint(prod: RPProcess, certs: Certs) -> None:
    with httpx.Client(base_url=prod.base_url, verify=_ctx(certs)) as c:
        r = c.post("/api/auth/token", json={"username": "olivia"})
        assert r.status_code == 404 and "development" in r.json()["reason"]


def test_without_an_issuer_the_ledger_refuses_every_request(
    certs: Certs,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    rp = start_production(certs, tmp_path_factory.mktemp("noissuer") / "data")
    try:
        with bearer(rp, certs, "anything") as c:
            r = c.get("/api/accounts_mgmt/v1/subscriptions")
            assert r.status_code == 401 and "ledger.oidc.issuer" in r.json()["reason"], r.text
        assert "ledger.oidc.issuer is not set" in rp.log()
    finally:
        rp.stop()


async def test_an_issuer_outage_keeps_the_keys_held_and_is_not_asked_again_at_once() -> None:
    """Once its keys are older than their time to live an issuer is asked again; when it is down the keys held
    stay in use (its tokens still verify), and it is asked at most once per JWKS_REFRESH_SECONDS -- not once
    per request, each waiting out the timeout. With no keys held, the outage is the 401, also without asking
    again at once."""
    issuer = Issuer()
    verifier = identity.OidcVerifier(issuer.url, AUDIENCE)
    try:
        token = issuer.token()
        assert (await verifier.claims(token))["preferred_username"] == "olivia"
        assert issuer.requests == 2  # discovery and keys
        age = identity.JWKS_TTL_SECONDS + identity.JWKS_REFRESH_SECONDS
        verifier._fetched -= age  # the keys held are old now, and so is the last try
        verifier._attempted -= age
        issuer.up = False
        results = await asyncio.gather(*(verifier.claims(token) for _ in range(5)))
        assert all(r["preferred_username"] == "olivia" for r in results)
        assert issuer.requests == 3  # one try (its discovery request failed), then no more for a while

        cold = identity.OidcVerifier(issuer.url, AUDIENCE)
        try:
            for _ in range(3):
                with pytest.raises(LedgerError) as refused:
                    await cold.claims(token)
                assert refused.value.status == 401 and "unavailable" in refused.value.reason
            assert issuer.requests == 4
        finally:
            await cold.close()
    finally:
        await verifier.close()
        issuer.server.shutdown()
