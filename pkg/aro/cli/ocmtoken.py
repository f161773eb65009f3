"""`aro token` (library side): the access token of the OCM config file, as ``ocm token`` prints it, refreshed
first when it has expired or expires within ``REFRESH_MARGIN_SECONDS``; and the same as kubectl's
ExecCredential (``--exec-credential``), which the backplane's kubeconfig user runs (``aro.cli.kubeconfig``).

A refresh needs the config's ``token_url`` and either

- a ``refresh_token`` (an OIDC issuer's, as ocm-cli keeps it): the OAuth refresh grant at ``token_url``; or
- a development RP's token (``aro login``): the same ``POST /api/auth/token`` login made, for the config's
  ``user`` and ``organization.id`` and the groups the expiring token names (its unverified ``groups`` claim).

Without either: a token still valid is printed as it is; an expired one is "not logged in: run 'aro login'"
(exit 2). The new token is written back to the config file (atomically, 0600; the other keys kept).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from aro.cli.client import USER_AGENT, ssl_context, transport_error
from aro.cli.errors import CliError, UsageError
from aro.cli.ocmconfig import CLIENT_ID, MAX_EPOCH, TOKEN_PATH, OcmConfig, config_path, load, save
from aro.cli.settings import resolve

REFRESH_MARGIN_SECONDS = 60.0
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
LOGIN_ADVICE = "run 'aro login'"
DEVELOPMENT_ISSUER = "aro-development"
EXEC_API_VERSION = "client.authentication.k8s.io/v1"
EXEC_API_VERSIONS = (EXEC_API_VERSION, "client.authentication.k8s.io/v1beta1")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float | None  # epoch seconds; None: unknown
    refreshed: bool = False


class NotRefreshable(Exception):
    """Why the config cannot refresh its token (said in the "run 'aro login'" error)."""


def rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (what the token says of itself; {} when it is not a JWT)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def expiry_of(config: OcmConfig, token: str) -> float | None:
    """The config's ``expires_at``, else the token's own ``exp`` claim."""
    if config.expires_at is not None:
        return config.expires_at
    exp = unverified_claims(token).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not 0 <= exp <= MAX_EPOCH:
        return None
    return float(exp)


def get_token(
    env: Mapping[str, str],
    *,
    force_refresh: bool = False,
    now: float | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Token:
    """The access token to send: the config's, refreshed when needed and possible (UsageError: log in)."""
    config = load(env)
    if config is None or config.access_token is None:
        path = config.path if config is not None else config_path(env)
        raise UsageError(f"not logged in: {LOGIN_ADVICE}", f"there is no access token in {path}")
    now = time.time() if now is None else now
    current = Token(config.access_token, expiry_of(config, config.access_token))
    if not force_refresh and (current.expires_at is None or current.expires_at - now > REFRESH_MARGIN_SECONDS):
        return current
    try:
        return refresh(config, env, now, transport)
    except NotRefreshable as e:
        if not force_refresh and current.expires_at is not None and current.expires_at > now:
            return current  # about to expire, but still good
        who = f" of {config.user}" if config.user else ""
        if force_refresh:
            raise UsageError(f"cannot refresh the token{who}: {e}: {LOGIN_ADVICE}") from None
        assert current.expires_at is not None
        raise UsageError(
            f"not logged in: the token{who} expired at {rfc3339(current.expires_at)} and cannot be refreshed "
            f"({e}): {LOGIN_ADVICE}"
        ) from None


def refresh(
    config: OcmConfig, env: Mapping[str, str], now: float, transport: httpx.BaseTransport | None = None
) -> Token:
    """A new token from the config's ``token_url``, saved to the config file; NotRefreshable when the config
    lacks what that needs."""
    token_url = config.data.get("token_url")
    if not isinstance(token_url, str) or not token_url:
        raise NotRefreshable(f"{config.path} has no token_url")
    parts = urlsplit(token_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotRefreshable(f"its token_url {token_url[:200]!r} is not a URL")
    refresh_token = config.data.get("refresh_token")
    if isinstance(refresh_token, str) and refresh_token:
        form = {
            "grant_type": "refresh_token",
            "client_id": str(config.data.get("client_id") or CLIENT_ID),
            "refresh_token": refresh_token,
        }
        answer = _post(config, env, token_url, transport, data=form, secret=True)
    else:
        answer = _post(config, env, token_url, transport, json_body=_development_request(config, parts.path))
    access = answer.get("access_token")
    if not isinstance(access, str) or not access:
        raise CliError(f"{token_url} answered with a body that is not a token", LOGIN_ADVICE)
    expires_at: float | None = None
    if isinstance(answer.get("expires_at"), int | float):
        expires_at = float(answer["expires_at"])
    elif isinstance(answer.get("expires_in"), int | float):
        expires_at = now + float(answer["expires_in"])
    data = dict(config.data)
    data["access_token"] = access
    if expires_at is not None:
        data["expires_at"] = int(expires_at)
    else:
        data.pop("expires_at", None)
    if isinstance(answer.get("refresh_token"), str) and answer["refresh_token"]:
        data["refresh_token"] = answer["refresh_token"]
    save(config.path, data)
    saved = OcmConfig(config.path, data)
    return Token(access, expiry_of(saved, access), refreshed=True)


def _development_request(config: OcmConfig, token_path: str) -> dict[str, Any]:
    """What `aro login` sent to a development RP, rebuilt from the config and the expiring token."""
    if token_path.rstrip("/") != TOKEN_PATH:
        raise NotRefreshable("there is no refresh_token")
    claims = unverified_claims(config.access_token or "")
    groups = claims.get("groups")
    organization = config.data.get("organization")
    org_id = organization.get("id") if isinstance(organization, dict) else None
    if claims.get("iss") != DEVELOPMENT_ISSUER or not isinstance(groups, list):
        raise NotRefreshable("there is no refresh_token, and the token is not a development token")
    if not config.user or not isinstance(org_id, str) or not org_id:
        raise NotRefreshable(f"{config.path} lacks the user or the organization")
    if not all(isinstance(g, str) for g in groups):
        raise NotRefreshable("the token's groups are not a list of names")
    return {"username": config.user, "organization": org_id, "groups": groups}


def _post(
    config: OcmConfig,
    env: Mapping[str, str],
    url: str,
    transport: httpx.BaseTransport | None,
    *,
    data: dict[str, str] | None = None,
    json_body: dict[str, Any] | None = None,
    secret: bool = False,
) -> dict[str, Any]:
    parts = urlsplit(url)
    if secret and parts.scheme != "https" and parts.hostname not in _LOOPBACK:
        raise NotRefreshable(f"refusing to send the refresh token in clear text to {url}")
    origin = f"{parts.scheme}://{parts.netloc}"
    ca = config.ca_file
    settings = resolve({"endpoint": origin, "ca_file": str(ca) if ca is not None and ca.is_file() else None}, env)
    with httpx.Client(
        verify=ssl_context(settings),
        timeout=TIMEOUT,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        transport=transport,
        follow_redirects=False,
    ) as http:
        try:
            response = http.post(url, data=data, json=json_body)
        except httpx.HTTPError as e:
            raise transport_error(e, settings, f"cannot refresh the token: {LOGIN_ADVICE}") from None
    try:
        answer = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict):
        reason = ""
        if isinstance(answer, dict):
            reason = str(answer.get("reason") or answer.get("error_description") or answer.get("error") or "")
        status = f"{response.status_code} {response.reason_phrase}".strip()
        raise CliError(
            f"refreshing the token failed: {url} answered {status}" + (f": {reason[:300]}" if reason else ""),
            LOGIN_ADVICE,
        )
    return answer


def exec_credential(token: Token, env: Mapping[str, str]) -> dict[str, Any]:
    """kubectl's ExecCredential of ``token``: the apiVersion kubectl asked for (``KUBERNETES_EXEC_INFO``) when
    it is one we speak, else v1."""
    api_version = EXEC_API_VERSION
    try:
        info = json.loads(env.get("KUBERNETES_EXEC_INFO") or "null")
    except json.JSONDecodeError:
        info = None
    if isinstance(info, dict) and info.get("apiVersion") in EXEC_API_VERSIONS:
        api_version = str(info["apiVersion"])
    status: dict[str, Any] = {"token": token.access_token}
    if token.expires_at is not None:
        status["expirationTimestamp"] = rfc3339(token.expires_at)
    return {"apiVersion": api_version, "kind": "ExecCredential", "status": status}
