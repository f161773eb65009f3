"""A minimal Microsoft Entra-compatible token endpoint, so a real ``azure.identity`` credential (with
``authority=<simulator URL>``) obtains the bearer token the simulator's ARM surface then accepts.

| request | answer |
|---|---|
| ``POST /{tenant}/oauth2/v2.0/token`` (form: ``grant_type=client_credentials``, ``client_id``,
  ``client_secret``, ``scope``) | 200 ``{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600,
  "access_token": <JWT>}``; errors as Entra answers them (``{"error", "error_description", "error_codes"}``) |
| ``GET /{tenant}/v2.0/.well-known/openid-configuration`` | the OpenID metadata MSAL-based (sync)
  credentials read (with ``disable_instance_discovery=True``) |

Two kinds of client secret are accepted. The simulator's own credential: when the simulator is configured
with a ``token``, a client may present it as ``client_secret`` (any ``client_id``, any tenant); without one,
any non-empty secret is accepted (as any non-empty bearer token is). And an application's password created
through Graph (``addPassword``, ``_graph``), for that application's ``appId`` only, in the directory's tenant
(another tenant: 400 ``unauthorized_client`` AADSTS700016), once the application has a service principal
(else 401 ``invalid_client`` AADSTS7000229). Access tokens are HS256 JWTs (claims ``aud`` ``iss`` ``tid``
``appid`` ``azp`` ``oid`` ``sub`` ``idtyp`` ``iat`` ``nbf`` ``exp``) signed with a key derived from the
configured token, so they stay valid across simulator restarts and across processes sharing the token.
``oid`` (and ``sub``) is the object id of the client's service principal in the directory (``_directory``),
or, for a client id the directory does not hold, a stable id derived from tenant and client id; ``tid`` is
the tenant of the request path, or the directory's tenant for ``common`` / ``organizations`` / a domain.

MSAL-based clients (the Azure CLI) read the OpenID metadata and must skip instance discovery, which asks
``login.microsoftonline.com`` about the authority: ``AZURE_CORE_INSTANCE_DISCOVERY=false`` for ``az`` (as for
Azure Stack), ``disable_instance_discovery=True`` for ``azure.identity``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from typing import Any, Protocol
from urllib.parse import parse_qsl

from ._http import Request, Response

LIFETIME_SECONDS = 3600
_TOKEN_PATH = ["oauth2", "v2.0", "token"]
_METADATA_PATH = ["v2.0", ".well-known", "openid-configuration"]
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Principals(Protocol):
    """Who the clients are (``_directory.Directory``)."""

    tenant_id: str

    async def service_principal_id(self, app_id: str) -> str | None: ...

    async def password_matches(self, app_id: str, secret: str) -> bool | None: ...


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _entra_error(status: int, error: str, code: int, description: str) -> Response:
    now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return Response(
        status,
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {uuid.uuid4()} Timestamp: {now}",
            "error_codes": [code],
            "timestamp": now,
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        },
    )


class TokenIssuer:
    """Issues and verifies the simulator's access tokens."""

    def __init__(
        self, secret: str | None, lifetime: int = LIFETIME_SECONDS, principals: Principals | None = None
    ) -> None:
        self._secret = secret
        self._principals = principals
        self._key = hashlib.sha256(b"aro-simulator-token-signing\0" + (secret or "").encode()).digest()
        self._lifetime = lifetime

    @staticmethod
    def handles(req: Request) -> bool:
        rest = req.lsegs[1:]
        return len(req.lsegs) >= 2 and (rest == _TOKEN_PATH or rest == _METADATA_PATH)

    async def dispatch(self, req: Request) -> Response:
        tenant = req.segs[0]
        if req.lsegs[1:] == _METADATA_PATH:
            if req.method != "GET":
                return Response(405, {"error": "invalid_request", "error_description": "GET only"})
            return Response(200, self._metadata(req.base_url, tenant))
        if req.method != "POST":
            return _entra_error(405, "invalid_request", 900561, "The endpoint only accepts POST requests.")
        return await self._token(req, tenant)

    # -- the endpoint ---------------------------------------------------------------------------------------

    async def _token(self, req: Request, tenant: str) -> Response:
        try:
            form = dict(parse_qsl(req.body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            return _entra_error(400, "invalid_request", 900144, "The request body must be form-encoded.")
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            return _entra_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        client_id, secret, scope = form.get("client_id", ""), form.get("client_secret", ""), form.get("scope", "")
        if not client_id:
            return _entra_error(400, "invalid_request", 900144, "The request body must contain 'client_id'.")
        if not scope:
            return _entra_error(400, "invalid_request", 900144, "The request body must contain 'scope'.")
        if not secret:
            return _entra_error(
                401, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required."
            )
        directory = self._principals
        home = directory.tenant_id if directory is not None else tenant
        tid = tenant.lower() if _GUID.match(tenant) else home
        object_id = None
        if self._secret is None or hmac.compare_digest(secret.encode(), self._secret.encode()):
            if directory is not None:
                object_id = await directory.service_principal_id(client_id)
        else:
            matched = await directory.password_matches(client_id, secret) if directory is not None else None
            if not matched:
                return _entra_error(
                    401,
                    "invalid_client",
                    7000215,
                    f"Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    f"secret value, not the client secret ID, for a secret added to app '{client_id[:64]}'.",
                )
            assert directory is not None
            if tid != home:
                return _entra_error(
                    400,
                    "unauthorized_client",
                    700016,
                    f"Application with identifier '{client_id[:64]}' was not found in the directory '{tenant[:64]}'.",
                )
            object_id = await directory.service_principal_id(client_id)
            if object_id is None:
                return _entra_error(
                    401,
                    "invalid_client",
                    7000229,
                    f"The client application {client_id[:64]} is missing service principal in the tenant {tid}.",
                )
        audience = scope.split()[0].removesuffix("/.default")
        issuer = f"{req.base_url}/{tenant}/v2.0"
        return Response(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self._lifetime,
                "ext_expires_in": self._lifetime,
                "access_token": self.issue(tid, client_id, audience, issuer, object_id),
            },
        )

    @staticmethod
    def _metadata(base_url: str, tenant: str) -> dict[str, Any]:
        root = f"{base_url}/{tenant}"
        return {
            "issuer": f"{root}/v2.0",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base_url}/{tenant}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "tenant_region_scope": "NA",
        }

    # -- tokens ---------------------------------------------------------------------------------------------

    def issue(self, tenant: str, client_id: str, audience: str, issuer: str, object_id: str | None = None) -> str:
        """A signed access token; ``object_id``: the client's service principal (default: derived)."""
        now = int(time.time())
        header = {"typ": "JWT", "alg": "HS256", "kid": "aro-simulator"}
        oid = object_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{client_id}"))
        claims = {
            "aud": audience,
            "iss": issuer,
            "tid": tenant,
            "appid": client_id,
            "azp": client_id,
            "oid": oid,
            "sub": oid,
            "idtyp": "app",
            "iat": now,
            "nbf": now,
            "exp": now + self._lifetime,
            "ver": "2.0",
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        return f"{signing_input}.{_b64(self._sign(signing_input))}"

    def claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this issuer signed (expired ones included), else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            signature = _unb64(parts[2])
            if not hmac.compare_digest(signature, self._sign(f"{parts[0]}.{parts[1]}")):
                return None
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, TypeError):
            return None
        return claims if isinstance(claims, dict) else None

    def _sign(self, signing_input: str) -> bytes:
        return hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
