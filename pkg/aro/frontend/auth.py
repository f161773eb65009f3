"""Production client-certificate authentication (pure ASGI).

In production mode every request except ``/healthz/ready`` must present a client certificate that
chains to ``frontend.tls.caFile`` (checked in the TLS handshake) and whose subject common name is the
configured identity: ``frontend.auth.armClientSubject`` for the public ARM routes,
``frontend.auth.adminClientSubject`` for ``/admin`` routes and ``/metrics``. A GET of an operation's
status or result (``…/locations/{l}/{operationsstatus|operationresults|hcpOperationStatuses|
hcpOperationResults}/{id}``) accepts either identity: the admin API's operations are polled there.
Anything else gets 403 ``Forbidden`` with no detail. The ledger's paths (``/api/…``) and the SRE
backplane's (``/backplane/…``) authenticate with bearer tokens instead (``aro.frontend.ams``,
``aro.frontend.backplane``), so a client without a certificate reaches them -- exactly those prefixes, in
their case (``/BACKPLANE/…``, ``/backplane`` and ``/backplanes/…`` are checked like any other path).
Development mode (loopback only) does not authenticate.
"""

from __future__ import annotations

import json
import logging
import re

from cryptography import x509

from aro.api import errors
from aro.env.config import Config, Mode
from aro.frontend.middleware import CASE_SENSITIVE_PREFIXES, ASGIApp, Receive, Scope, Send, send_json

log = logging.getLogger("aro.frontend.auth")

_FORBIDDEN = json.dumps({"error": {"code": errors.FORBIDDEN, "message": "Forbidden."}}).encode()
_OPEN_PATHS = frozenset({"/healthz/ready"})
_OPERATION = re.compile(
    r"^/subscriptions/[^/]+/providers/microsoft\.redhatopenshift/locations/[^/]+/"
    r"(operationsstatus|operationresults|hcpoperationstatuses|hcpoperationresults)/[^/]+/?$"
)


def common_name(rfc4514: str | None) -> str | None:
    if not rfc4514:
        return None
    try:
        name = x509.Name.from_rfc4514_string(rfc4514)
    except ValueError:
        return None
    cns = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else None


class ClientCertAuth:
    def __init__(self, app: ASGIApp, config: Config) -> None:
        self.app = app
        self.enabled = config.mode is Mode.PRODUCTION
        self.arm = config.frontend.auth.arm_client_subject
        self.admin = config.frontend.auth.admin_client_subject

    def _required(self, path: str) -> str | None:
        lowered = path.lower()
        if lowered.startswith("/admin") or lowered == "/metrics":
            return self.admin
        return self.arm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            not self.enabled
            or scope["type"] != "http"
            or scope["path"] in _OPEN_PATHS
            or scope["path"].startswith(CASE_SENSITIVE_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        tls = (scope.get("extensions") or {}).get("tls") or {}
        presented = common_name(tls.get("client_cert_name"))
        required = self._required(scope["path"])
        if (
            presented is not None
            and presented == self.admin
            and scope.get("method") == "GET"
            and _OPERATION.match(scope["path"].lower())
        ):
            required = self.admin
        if presented is None or required is None or presented != required:
            log.warning("forbidden", extra={"presented": presented})
            await send_json(send, 403, _FORBIDDEN)
            return
        await self.app(scope, receive, send)
