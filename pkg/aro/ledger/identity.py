"""Who is calling the ledger: bearer tokens (JWTs) made into a ``Principal``.

- **Development**: ``aro login`` asks the RP itself for a token (``POST /api/auth/token``, loopback only);
  ``DevelopmentIssuer`` signs it (HS256, a key derived from the RP's secret key) and checks it.
- **Production**: tokens of the configured OIDC issuer, checked by ``OidcVerifier`` against the issuer's
  JWKS (fetched with a bound on time and size, cached, refreshed when an unknown key id appears -- at most
  every 30 seconds).

Either way the claims give the user name (``ledger.oidc.usernameClaim``, else ``sub``), the organization
(``organizationClaim``: an organization id, or an Azure tenant id whose organization is used -- created if
needed; else ``tid``) and the groups; members of ``ledger.sreGroups`` see every organization. A caller is
recorded as an account of its organization the first time it is seen (``aro.ledger.accounts``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt

from aro.ledger.accounts import MAX_USERNAME, Accounts, account_id
from aro.ledger.model import LedgerError, clean_text
from aro.ledger.organizations import Organizations

log = logging.getLogger("aro.ledger.identity")

MAX_TOKEN_BYTES = 16 * 1024
MAX_JWKS_BYTES = 1024 * 1024
JWKS_TTL_SECONDS = 600.0
JWKS_REFRESH_SECONDS = 30.0
DEVELOPMENT_ISSUER = "aro-development"
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


@dataclass(frozen=True)
class Principal:
    username: str
    organization_id: str
    groups: frozenset[str]
    sre: bool

    @property
    def account_id(self) -> str:
        return account_id(self.organization_id, self.username)

    def may_see(self, organization_id: str) -> bool:
        return self.sre or organization_id == self.organization_id


def unauthorized(reason: str) -> LedgerError:
    return LedgerError(401, reason)


class Verifier(Protocol):
    async def claims(self, token: str) -> dict[str, Any]:
        """The verified claims (``LedgerError`` 401 when the token is not valid)."""
        ...


class DevelopmentIssuer:
    def __init__(self, key: bytes, lifetime_seconds: int) -> None:
        self._key = key
        self.lifetime = lifetime_seconds

    def issue(self, username: str, organization_id: str, groups: Sequence[str]) -> tuple[str, int]:
        now = int(time.time())
        claims = {
            "iss": DEVELOPMENT_ISSUER,
            "sub": username,
            "preferred_username": username,
            "org_id": organization_id,
            "groups": list(groups),
            "iat": now,
            "exp": now + self.lifetime,
        }
        return jwt.encode(claims, self._key, algorithm="HS256"), now + self.lifetime

    async def claims(self, token: str) -> dict[str, Any]:
        try:
            return dict(
                jwt.decode(
                    token, self._key, algorithms=["HS256"], issuer=DEVELOPMENT_ISSUER, options={"require": ["exp"]}
                )
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("The access token has expired; run `aro login` again") from None
        except jwt.PyJWTError:
            raise unauthorized("The access token is not valid") from None


class OidcVerifier:
    def __init__(
        self, issuer: str, audience: str | None, jwks_url: str | None = None, ca_file: str | None = None
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self._http = httpx.AsyncClient(verify=verify, timeout=5.0, follow_redirects=False)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched = 0.0  # when the keys held were fetched
        self._attempted = float("-inf")  # when a fetch was last tried
        self._error = ""  # why the last try failed
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    async def _get_json(self, url: str) -> Any:
        async with self._http.stream("GET", url) as resp:
            if resp.status_code != 200:
                raise unauthorized(f"The token issuer's keys are unavailable ({url} answered {resp.status_code})")
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise unauthorized("The token issuer's key document is too large")
        return json.loads(body)

    async def _refresh(self, force: bool) -> None:
        """Fetch the issuer's keys when they are older than JWKS_TTL_SECONDS, or (``force``: a token of an
        unknown key) at once -- but at most once per JWKS_REFRESH_SECONDS, whatever came of the last try. A
        failed fetch keeps the keys held (an issuer's outage does not refuse the tokens of its known keys);
        with none held it is the 401."""
        async with self._lock:
            now = time.monotonic()
            if not force and self._keys and now - self._fetched < JWKS_TTL_SECONDS:
                return
            if now - self._attempted < JWKS_REFRESH_SECONDS:
                if self._keys or not self._error:
                    return
                raise unauthorized(self._error)
            self._attempted = now
            try:
                url = self.jwks_url
                if url is None:
                    discovery = await self._get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
                    url = str(discovery["jwks_uri"])
                document = await self._get_json(url)
                keys: dict[str, jwt.PyJWK] = {}
                for raw in document.get("keys", [])[:100]:
                    try:
                        key = jwt.PyJWK(raw)
                    except jwt.PyJWTError:
                        continue  # a key type we do not use
                    keys[str(raw.get("kid", ""))] = key
            except LedgerError as e:
                self._error = e.reason
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as e:
                self._error = f"The token issuer's keys are unavailable: {type(e).__name__}"
            else:
                self._keys, self._fetched, self._error = keys, now, ""
                return
            if not self._keys:
                raise unauthorized(self._error)
            log.warning(
                "the token issuer's keys could not be refreshed; the held ones stay in use",
                extra={"error": self._error},
            )

    async def claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise unauthorized("The access token is not valid") from None
        kid = str(header.get("kid", ""))
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        key = self._keys.get(kid)
        if key is None:
            raise unauthorized("The access token is signed by an unknown key")
        try:
            return dict(
                jwt.decode(
                    token,
                    key,
                    algorithms=_ALGORITHMS,
                    issuer=self.issuer,
                    audience=self.audience,
                    options={"require": ["exp", "iss"], "verify_aud": self.audience is not None},
                )
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("The access token has expired") from None
        except jwt.PyJWTError as e:
            raise unauthorized(f"The access token is not valid: {e}") from None


@dataclass(frozen=True)
class ClaimNames:
    username: str = "preferred_username"
    organization: str = "org_id"
    groups: str = "groups"


class Identity:
    """Bearer tokens -> principals."""

    def __init__(
        self,
        verifier: Verifier | None,
        organizations: Organizations,
        sre_groups: Sequence[str],
        names: ClaimNames = ClaimNames(),
        missing_reason: str = "",
        accounts: Accounts | None = None,
    ) -> None:
        self.verifier = verifier
        self.organizations = organizations
        self.accounts = accounts  # None: callers are not recorded as accounts
        self.sre_groups = frozenset(sre_groups)
        self.names = names
        self.missing_reason = missing_reason  # why there is no verifier (production without an issuer)

    async def principal(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("Authentication required: send 'Authorization: Bearer <token>' (`aro login`)")
        if len(token) > MAX_TOKEN_BYTES:
            raise unauthorized("The access token is too large")
        if self.verifier is None:
            raise unauthorized(self.missing_reason or "This RP accepts no tokens")
        claims = await self.verifier.claims(token)
        username = claims.get(self.names.username) or claims.get("sub")
        if not isinstance(username, str) or not username:
            raise unauthorized(f"The access token names no user ('{self.names.username}' or 'sub')")
        org_claim = claims.get(self.names.organization) or claims.get("tid")
        if not isinstance(org_claim, str) or not org_claim:
            raise unauthorized(f"The access token names no organization ('{self.names.organization}' or 'tid')")
        org = await self.organizations.resolve(org_claim)
        if org is None:
            raise unauthorized(f"The access token's organization '{org_claim[:64]}' does not exist")
        raw_groups = claims.get(self.names.groups) or []
        groups = frozenset(str(g)[:256] for g in raw_groups[:100]) if isinstance(raw_groups, list) else frozenset()
        principal = Principal(
            username=clean_text(username, "user name", MAX_USERNAME),
            organization_id=org["id"],
            groups=groups,
            sre=bool(groups & self.sre_groups),
        )
        if self.accounts is not None:
            await self.accounts.record(principal.organization_id, principal.username)
        return principal
