"""The simulator as ARM's front door for ``Microsoft.RedHatOpenShift``: every request whose path names that
provider namespace is authenticated here (``SimulatorApp``: bearer token, ``api-version``), then forwarded to
the linked RP as ARM forwards it, and the RP's answer goes back unchanged but for the hop-by-hop headers.

Routed (the namespace matched case-insensitively; the last ``providers/{namespace}`` of the path decides,
as ARM routes extension resources): ``/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.
RedHatOpenShift/...``, ``/subscriptions/{s}/providers/Microsoft.RedHatOpenShift/...`` (lists, locations/{l}/
operationsstatus|operationresults|openshiftversions|platformWorkloadIdentityRoleSets, ...) and
``/providers/Microsoft.RedHatOpenShift/...`` (operations). ARM's own provider routes stay with the
simulator: ``…/providers/Microsoft.RedHatOpenShift`` itself and its ``register`` / ``unregister`` /
``providerPermissions``.

What the RP receives (ARM RPC "Proxy Request Header Modifications"; the first-party headers, as ARO is):

- the caller's headers, without ``Authorization``, ``Host``, hop-by-hop headers and the reserved ARM
  headers below, which a caller cannot set;
- ``Referer``: the URL the caller used (the front door's), from which the RP builds ``Azure-AsyncOperation``,
  ``Location`` and ``nextLink`` -- so they point at the front door without any rewriting;
- ``x-ms-correlation-request-id`` (the caller's, else a new UUID; also returned to the caller);
  ``x-ms-client-request-id`` passes through;
- from the caller's token (``TokenIssuer.claims``): ``x-ms-client-tenant-id`` and ``x-ms-home-tenant-id``
  (``tid``), ``x-ms-client-object-id`` (``oid``), ``x-ms-client-app-id`` (``appid``/``azp``),
  ``x-ms-client-principal-name`` (``upn``, else the app id), ``x-ms-client-principal-id`` (users only: "service
  principal will not have the principal Id"), ``x-ms-client-audience``, ``x-ms-client-issuer``; always
  ``x-ms-client-ip-address``;
- on PUT and PATCH, ``x-ms-arm-resource-system-data``: ``createdBy``/``lastModifiedBy`` = the principal name,
  ``createdByType``/``lastModifiedByType`` = ``User`` (a ``upn`` claim), ``ManagedIdentity`` (``xms_mirid``)
  or ``Application``, both timestamps now (RFC 3339, UTC). A token the simulator did not sign (the configured
  static token, or any token when none is configured) carries no identity: only the timestamps go;
- the ARM client certificate, when one is configured (a production RP requires it).

ARM's answers of its own, in its error envelope, before the RP sees the call: a subscription that never
registered ``Microsoft.RedHatOpenShift`` (``_providers``) is 409 ``MissingSubscriptionRegistration`` (one that
did and unregistered since is forwarded: the RP judges its state); a resource group that does not exist
(resource-group scope) is 404 ``ResourceGroupNotFound``; a body over ``max_request_bytes`` (4 MiB)
is 413; no RP linked is 400 ``NoRegisteredProviderFound``; an RP that cannot be reached (connection refused,
TLS failure) or whose answer is over ``max_response_bytes`` (8 MiB) is 502 ``BadGateway``; one that does not
answer within ``timeout_seconds`` (ARM: 60 s) is 504 ``GatewayTimeout`` ("The gateway did not receive a
response from 'Microsoft.RedHatOpenShift' within the specified time period.", ARM's words). 502's code is
our choice: the RPC names none.

``notify_subscription`` sends ARM's subscription lifecycle notification (``PUT /subscriptions/{id}?
api-version=2.0``, RPC "subscription lifecycle") to the linked RP.

The RP is linked by ``link(url, ca_pem, cert)``: ``aro rp`` links its own frontend once it listens;
``aro simulator`` alone links the configured one (``FrontDoorConfig.endpoint``) when the app is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from ._errors import ArmError, rg_not_found
from ._http import Request, Response
from ._template import rg_id

if TYPE_CHECKING:
    from ._app import SimulatorApp
    from ._config import FrontDoorConfig

NAMESPACE = "Microsoft.RedHatOpenShift"
_NAMESPACE = NAMESPACE.lower()
_ARM_PROVIDER_ACTIONS = frozenset({"register", "unregister", "providerpermissions"})
SUBSCRIPTION_API_VERSION = "2.0"

# RFC 9110 7.6.1 connection-specific headers, plus the ones the front door sets itself.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer"}
    | {"transfer-encoding", "upgrade"}
)
_NOT_FORWARDED = _HOP_BY_HOP | {"host", "authorization", "content-length", "expect", "referer", "x-ms-home-tenant-id"}
_RESERVED_PREFIXES = ("x-ms-arm-", "x-ms-client-")  # ARM sets these; the caller's are dropped
_PASSED_CLIENT_HEADERS = frozenset({"x-ms-client-request-id"})
_NOT_RETURNED = _HOP_BY_HOP | {"content-length", "date", "server"}  # per hop: the simulator sets its own


@dataclass(frozen=True)
class Caller:
    """Who a verified token says the caller is (``None`` fields: the token did not say)."""

    tenant_id: str | None = None
    object_id: str | None = None
    app_id: str | None = None
    upn: str | None = None
    audience: str | None = None
    issuer: str | None = None
    managed_identity: bool = False

    @classmethod
    def of(cls, claims: dict[str, Any] | None) -> Caller:
        if not claims:
            return cls()

        def text(*names: str) -> str | None:
            for name in names:
                value = claims.get(name)
                if isinstance(value, str) and value:
                    return value
            return None

        return cls(
            tenant_id=text("tid"),
            object_id=text("oid"),
            app_id=text("appid", "azp"),
            upn=text("upn", "unique_name"),
            audience=text("aud"),
            issuer=text("iss"),
            managed_identity="xms_mirid" in claims,
        )

    @property
    def name(self) -> str | None:
        return self.upn or self.app_id

    @property
    def kind(self) -> str:
        if self.upn:
            return "User"
        return "ManagedIdentity" if self.managed_identity else "Application"

    def headers(self) -> dict[str, str]:
        out = {
            "x-ms-client-tenant-id": self.tenant_id,
            "x-ms-home-tenant-id": self.tenant_id,
            "x-ms-client-object-id": self.object_id,
            "x-ms-client-app-id": self.app_id,
            "x-ms-client-principal-name": self.name,
            "x-ms-client-principal-id": self.object_id if self.upn else None,
            "x-ms-client-audience": self.audience,
            "x-ms-client-issuer": self.issuer,
        }
        return {k: v for k, v in out.items() if v}

    def system_data(self, now: datetime) -> dict[str, str]:
        stamp = now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        out = {"createdAt": stamp, "lastModifiedAt": stamp}
        if self.name:
            out |= {
                "createdBy": self.name,
                "createdByType": self.kind,
                "lastModifiedBy": self.name,
                "lastModifiedByType": self.kind,
            }
        return out


def namespace_of(lsegs: list[str]) -> tuple[str, int] | None:
    """The provider namespace ARM routes a (lower-cased) path to and the index of its segment: after the
    scope (tenant, subscription, resource group) ``providers/{ns}``, then type/name pairs in which a
    ``providers/{ns}`` pair starts an extension resource of another namespace."""
    i = 0
    if lsegs[:1] == ["subscriptions"]:
        i = 4 if len(lsegs) > 2 and lsegs[2] == "resourcegroups" else 2
    if len(lsegs) < i + 2 or lsegs[i] != "providers":
        return None
    found, j = i + 1, i + 2
    while j + 1 < len(lsegs):
        if lsegs[j] == "providers":
            found = j + 1
        j += 2
    return lsegs[found], found


def routed(lsegs: list[str]) -> bool:
    """Whether ARM routes a (lower-cased) path to the ``Microsoft.RedHatOpenShift`` provider: something below
    the namespace, but not ARM's own provider actions on it (``…/providers/{ns}/register``)."""
    found = namespace_of(lsegs)
    if found is None or found[0] != _NAMESPACE:
        return False
    rest = lsegs[found[1] + 1 :]
    return bool(rest) and not (len(rest) == 1 and rest[0] in _ARM_PROVIDER_ACTIONS and found[1] <= 3)


@dataclass(frozen=True)
class _Link:
    url: str  # scheme://host[:port], no trailing slash
    ca_pem: str | None  # None: the system's trust store
    cert: tuple[str, str] | None  # ARM's client certificate and key files


def _client_for(link: _Link, timeout: float) -> httpx.AsyncClient:
    """Blocking (reads the trust store and the key pair): run off the event loop."""
    context = ssl.create_default_context(cadata=link.ca_pem) if link.ca_pem else ssl.create_default_context()
    if link.cert is not None:
        context.load_cert_chain(*link.cert)
    return httpx.AsyncClient(
        verify=context,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,  # ARM passes a redirect through
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


class FrontDoor:
    """Routing of ``Microsoft.RedHatOpenShift`` to the linked RP. Event loop only."""

    def __init__(self, app: SimulatorApp, config: FrontDoorConfig) -> None:
        self.app = app
        self.config = config
        self._link: _Link | None = None
        self._client: httpx.AsyncClient | None = None
        self._client_link: _Link | None = None
        self._retired: list[httpx.AsyncClient] = []
        self._client_lock = asyncio.Lock()
        if config.endpoint:
            ca = Path(config.ca_file).read_text() if config.ca_file else None
            cert = (config.cert_file, config.key_file) if config.cert_file and config.key_file else None
            self.link(config.endpoint, ca, cert)

    @staticmethod
    def handles(req: Request) -> bool:
        return routed(req.lsegs)

    # -- the link -------------------------------------------------------------------------------------------

    def link(self, url: str, ca_pem: str | None, cert: tuple[str, str] | None = None) -> None:
        """Forward to the RP at ``url`` (``https://host:port``), verifying it with ``ca_pem`` (None: the system
        trust store) and presenting ``cert`` (certificate file, key file) as ARM's client certificate."""
        self._link = _Link(url.rstrip("/"), ca_pem, cert)

    async def _http(self) -> tuple[_Link, httpx.AsyncClient]:
        link = self._link
        if link is None:
            raise ArmError(
                400,
                "NoRegisteredProviderFound",
                f"No registered resource provider found for namespace '{NAMESPACE}': the simulator has no RP "
                "linked (cloud.simulator.frontDoor.endpoint).",
            )
        async with self._client_lock:
            if self._client is None or self._client_link != link:
                client = await asyncio.to_thread(_client_for, link, self.config.timeout_seconds)
                if self._client is not None:
                    self._retired.append(self._client)
                self._client, self._client_link = client, link
            return link, self._client

    async def close(self) -> None:
        clients = [c for c in (self._client, *self._retired) if c is not None]
        self._client, self._client_link, self._retired = None, None, []
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()

    # -- forwarding -----------------------------------------------------------------------------------------

    async def forward(self, req: Request) -> Response:
        if len(req.body) > self.config.max_request_bytes:
            raise ArmError(
                413,
                "RequestBodyTooLarge",
                f"The request content is larger than the limit of {self.config.max_request_bytes} bytes.",
            )
        if req.lsegs[:1] == ["subscriptions"]:
            await self._admit(req.segs[1], req.segs[3] if req.lsegs[2:3] == ["resourcegroups"] else None)
        link, client = await self._http()
        correlation = req.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        query = f"?{req.query_string}" if req.query_string else ""
        listed = {t.strip().lower() for t in req.headers.get("connection", "").split(",")}  # hop-by-hop too
        headers = [
            (k, v)
            for k, v in req.header_list
            if k not in _NOT_FORWARDED
            and k not in listed
            and (not k.startswith(_RESERVED_PREFIXES) or k in _PASSED_CLIENT_HEADERS)
            and k != "x-ms-correlation-request-id"
        ]
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        caller = Caller.of(self.app.tokens.claims(token.strip()) if scheme.lower() == "bearer" else None)
        ours = {
            "referer": f"{req.base_url}{req.raw_path}{query}",
            "x-ms-correlation-request-id": correlation,
            "x-ms-client-ip-address": req.client_ip,
            **caller.headers(),
        }
        if req.method in ("PUT", "PATCH"):
            ours["x-ms-arm-resource-system-data"] = json.dumps(caller.system_data(datetime.now(UTC)))
        headers += [(k, v) for k, v in ours.items() if v]
        url = f"{link.url}{req.raw_path}{query}"
        status, answer, body = await self._send(client, req.method, url, headers, req.body)
        answer["x-ms-correlation-request-id"] = correlation
        return Response(status, body, answer)

    async def _admit(self, subscription_id: str, resource_group: str | None) -> None:
        """ARM's checks before the RP is called: the subscription registered with the namespace (once it was,
        the RP judges its state) and the resource group there."""
        if await self.app.providers.state(subscription_id, NAMESPACE) == "NotRegistered":
            message = (
                f"The subscription is not registered to use namespace '{NAMESPACE}'. "
                "See https://aka.ms/rps-not-found for how to register subscriptions."
            )
            detail = {"code": "MissingSubscriptionRegistration", "target": NAMESPACE, "message": message}
            raise ArmError(409, "MissingSubscriptionRegistration", message, [detail])
        if resource_group is not None:
            key = rg_id(subscription_id, resource_group).lower()
            if await self.app.store.run(self.app.store.get_rg, key) is None:
                raise rg_not_found(resource_group)

    async def _send(
        self, client: httpx.AsyncClient, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """One call to the RP within the time bound: status, the headers to return, the raw body."""
        limit = self.config.max_response_bytes
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                request = client.build_request(method, url, headers=headers, content=body or None)
                upstream = await client.send(request, stream=True)
                try:
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in upstream.aiter_raw():  # as sent: a compressed body stays compressed
                        size += len(chunk)
                        if size > limit:
                            raise ArmError(
                                502,
                                "BadGateway",
                                f"The response from resource provider '{NAMESPACE}' is larger than {limit} bytes.",
                            )
                        chunks.append(chunk)
                finally:
                    await upstream.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise ArmError(
                504,
                "GatewayTimeout",
                f"The gateway did not receive a response from '{NAMESPACE}' within the specified time period.",
            ) from None
        except (httpx.HTTPError, OSError, ssl.SSLError) as e:
            raise ArmError(
                502,
                "BadGateway",
                f"The gateway could not reach resource provider '{NAMESPACE}': {type(e).__name__}.",
            ) from None
        answer: dict[str, str] = {}
        listed = {t.strip().lower() for t in upstream.headers.get("connection", "").split(",")}
        for k, v in upstream.headers.multi_items():
            name = k.lower()
            if name not in _NOT_RETURNED and name not in listed:
                answer[name] = f"{answer[name]}, {v}" if name in answer else v
        return upstream.status_code, answer, b"".join(chunks)

    # -- subscription lifecycle -----------------------------------------------------------------------------

    async def notify_subscription(self, subscription_id: str, body: dict[str, Any]) -> None:
        """ARM's subscription lifecycle notification to the linked RP (no RP linked: nothing to notify).
        An RP that refuses it (any answer but 200/201/204: ARM retries those) raises its error as an
        ``ArmError``; an unreachable or silent one 502 / 504."""
        if self._link is None:
            return
        link, client = await self._http()
        url = f"{link.url}/subscriptions/{quote(subscription_id, safe='')}?api-version={SUBSCRIPTION_API_VERSION}"
        headers = [
            ("content-type", "application/json"),
            ("x-ms-correlation-request-id", str(uuid.uuid4())),
        ]
        status, _, raw = await self._send(client, "PUT", url, headers, json.dumps(body).encode())
        if status in (200, 201, 204):
            return
        try:
            error = json.loads(raw)["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code = "ResourceProviderError"
            message = f"The resource provider '{NAMESPACE}' answered {status} to the subscription notification."
        raise ArmError(status if 400 <= status <= 599 else 502, code, message)
