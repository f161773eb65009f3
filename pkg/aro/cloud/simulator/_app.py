"""The simulator as a pure ASGI application: request plumbing, auth, the request log and admin routes.
The ARM routes live in ``_arm`` (scale set instances in ``_vmss``), the cluster APIs in ``_kube``.

Routes (the ARM and admin ones matched case-insensitively, segment by segment):

- ``/subscriptions/...``: the ARM surface (``_arm``); bearer token required; ``api-version`` required.
- ``…/providers/Microsoft.RedHatOpenShift/...`` (any scope): forwarded to the linked RP as ARM does
  (``_frontdoor``), after the same authentication and ``api-version`` check.
- ``/simulator/faults`` (GET/PUT/DELETE), ``/simulator/requests`` (GET; ``?since=&owner=&step=``) and
  ``/simulator/autoscaler`` (GET/PUT, ``_vmss``): admin; bearer token required.
- ``/simulator/audit`` (GET; ``?server=<cluster API URL>[&user=]``): the audit events of one cluster API
  (``_kubeaudit``); admin, bearer token required.
- ``/simulator/telemetry`` (GET: every cluster that sends telemetry, ``{"value": [entry, ...]}``) and
  ``/simulator/telemetry/{clusterID}`` (GET: its entry; PUT ``{"enabled": false | true}``: stop or resume
  its uploads, 200 with the entry, 404 for an unknown cluster id, 400 for a bad body): admin; bearer token
  required. Clusters holding Secret ``openshift-monitoring/aro-telemeter`` push telemetry from a
  background task started with the app and cancelled when it stops (``_telemetry``: the entry fields and
  the upload; ``_telemetrydata``: the secret and the body). The enabled flags live in memory, by cluster
  id: they survive a rewritten secret or a rebuilt cluster, not a simulator restart.
- ``/clusters/{subscription}/{resourceGroup}/...``: each resource group's classic cluster API;
  ``/management/...``: the management cluster; ``/hostedclusters/{namespace}/...``: each hosted cluster
  (``_kube``, ``_kubeclusters``). Kubernetes authentication; the health endpoints are anonymous.
- ``/simulator/console/links`` (POST): admin, bearer token required -- a signed, expiring link to
  ``/console/subscriptions/{s}/resourceGroups/{rg}?expires=&signature=``, one resource group's web page,
  which needs no bearer token: the link is the credential (``_console``).
- ``/{tenant}/oauth2/v2.0/token``: an Entra-compatible client-credentials token endpoint (``_token``); the
  tokens it issues are accepted as bearer tokens, as is the configured token itself.
- ``/tenants``, ``/subscriptions[/{s}]`` (``_directory``), ``/providers[/{ns}]``, ``/subscriptions/{s}/providers
  [/{ns}[/register|unregister]]``, ``/subscriptions/{s}/locations`` (``_providers``): ARM's own; bearer token
  and ``api-version`` required. ``/metadata/endpoints`` (``_metadata``): the cloud's endpoints, anonymous.
- ``/v1.0/...``: Microsoft Graph (``_graph``; applications, service principals, passwords); bearer token.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from urllib.parse import parse_qsl

from . import _authorization as authorization
from . import _metadata as metadata
from ._arm import STATE_SCHEMA as ARM_STATE_SCHEMA
from ._arm import ArmHandlers
from ._clienttls import ClientTrust, ServingCerts
from ._config import FaultRule, FaultSet, SimulatorConfig
from ._console import Console
from ._directory import SCHEMA as DIRECTORY_SCHEMA
from ._directory import Directory
from ._errors import ArmError
from ._frontdoor import FrontDoor
from ._graph import Graph
from ._http import Receive, Request, Response, Scope, Send
from ._kube import KubeAPI
from ._kubeerrors import KubeError
from ._kubeobjects import SCHEMA as KUBE_SCHEMA
from ._log import RequestLog
from ._providers import SCHEMA as PROVIDERS_SCHEMA
from ._providers import Providers
from ._store import Store, iso
from ._telemetry import Telemetry
from ._token import TokenIssuer
from ._vmss import SCHEMA as VMSS_SCHEMA
from ._vmss import ScaleSets


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


class SimulatorApp:
    """``SimulatorApp(config)`` is the ASGI callable. Use ``create_app`` to build one."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.faults = FaultSet(config.fault_rules())
        self.store = Store(
            config.data_directory,
            extra_schema=KUBE_SCHEMA + VMSS_SCHEMA + DIRECTORY_SCHEMA + PROVIDERS_SCHEMA + ARM_STATE_SCHEMA,
        )
        self.client_trust = ClientTrust()  # the serving contexts' client CAs (SimulatorServer attaches)
        self.serving_certs = ServingCerts(self.client_trust)  # classic clusters' API certificates, by SNI
        self.scale_sets = ScaleSets(self.store, lambda: self.config.step_delay_seconds)
        self.store.hooks.append(self.scale_sets)
        self.log = RequestLog(
            config.data_directory / "requests.jsonl", lambda: self.store.executor, config.request_log_memory
        )
        self.arm = ArmHandlers(self)
        self.directory = Directory(self)  # who: tenant, subscriptions, principals
        self.providers = Providers(self)  # what and where: resource providers, their registration, regions
        self.graph = Graph(self, self.directory)
        self.tokens = TokenIssuer(config.token, principals=self.directory)
        self.kube = KubeAPI(self)
        self.telemetry = Telemetry(self.store, self.kube.objects, self.kube.clusters, self.faults)
        self.console = Console(self)
        self.front_door = FrontDoor(self, config.front_door)  # Microsoft.RedHatOpenShift -> the RP
        self._opened = False
        self._open_lock = asyncio.Lock()

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def startup(self) -> None:
        async with self._open_lock:
            if not self._opened:
                await self.store.open()
                await self.directory.seed()
                await self.log.open()
                await self.kube.startup()
                self.kube.watches.stopping.clear()
                self.telemetry.start()
                self._opened = True

    def serving_at(self, url: str, ca_pem: str) -> None:
        """Where the server listens and its CA (``SimulatorServer``): how executed pods reach the cluster APIs."""
        self.kube.serving_at(url, ca_pem)

    def stopping(self) -> None:
        """The server is about to stop: end the long-lived responses (watches) and the telemetry now."""
        self.kube.watches.stopping.set()
        self.telemetry.cancel()

    async def shutdown(self) -> None:
        self.stopping()
        async with self._open_lock:
            if self._opened:
                await self.telemetry.stop()
                await self.front_door.close()
                await self.kube.shutdown()  # ends the executed pods' processes (``_kubelet``)
                await self.log.close()
                await self.store.close()
                self._opened = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as e:  # reported to the server, which stops
                    await send({"type": "lifespan.startup.failed", "message": repr(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- HTTP -----------------------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.time()
        header_list = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        headers = dict(header_list)
        tls = (scope.get("extensions") or {}).get("tls") or {}
        request_id = str(uuid.uuid4())
        segs = [s for s in scope["path"].split("/") if s]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        query = {k.lower(): v for k, v in query.items()}
        host = headers.get("host") or "{}:{}".format(*(scope.get("server") or ("localhost", 80)))
        req = Request(
            scope["method"].upper(),
            segs,
            [s.lower() for s in segs],
            query,
            headers,
            b"",
            f"{scope.get('scheme', 'http')}://{host}",
            receive,
            tls.get("client_cert_der") or None,
            header_list,
            scope.get("query_string", b"").decode("latin-1"),
            str((scope.get("client") or ("",))[0] or ""),
            (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
        )
        try:
            if not self._opened:
                await self.startup()
            req.body = await self._read_body(receive)
            resp = await self._dispatch(req)
        except ArmError as e:
            if KubeAPI.handles(req):  # a body too large or a client gone: still a Kubernetes Status
                resp = Response(e.status, KubeError(e.status, e.code, e.message).status())
            else:
                resp = Response(e.status, {"error": e.body()}, e.headers)
        except Exception as e:  # a 500, never a dropped connection
            message = f"{type(e).__name__}: {e}"
            if KubeAPI.handles(req):
                resp = Response(500, KubeError(500, "InternalError", message).status())
            else:
                resp = _error(500, "InternalServerError", message)
        # logged before the answer goes out: a client that saw the answer finds the entry
        if req.lsegs[:2] != ["simulator", "requests"]:
            entry = {
                "time": iso(started),
                "ts": started,
                "method": req.method,
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "status": resp.status,
                "durationMs": round((time.time() - started) * 1000, 3),
                "requestId": request_id,
            }
            for header, key in (("x-aro-lease-owner", "leaseOwner"), ("x-aro-step", "step")):
                if header in headers:
                    entry[key] = headers[header]
            self.log.append(entry)
        await self._send(send, req, resp, request_id)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ArmError(499, "ClientClosedRequest", "The client went away.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.config.max_body_bytes:
                raise ArmError(413, "RequestBodyTooLarge", "The request content is too large.")
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _send(self, send: Send, req: Request, resp: Response, request_id: str) -> None:
        if isinstance(resp.body, str):
            payload, ctype = resp.body.encode(), "text/plain; charset=utf-8"
        elif resp.body is None:
            payload, ctype = b"", None
        elif isinstance(resp.body, bytes):  # its Content-Type is in resp.headers (the console's HTML)
            payload, ctype = resp.body, None
        else:
            payload, ctype = json.dumps(resp.body).encode(), "application/json; charset=utf-8"
        own = {k.lower() for k in resp.headers}  # a forwarded answer (``_frontdoor``) keeps the RP's ids
        headers = [] if "x-ms-request-id" in own else [(b"x-ms-request-id", request_id.encode())]
        if "x-ms-client-request-id" in req.headers and "x-ms-client-request-id" not in own:
            headers.append((b"x-ms-client-request-id", req.headers["x-ms-client-request-id"].encode()))
        if ctype:
            headers.append((b"content-type", ctype.encode()))
        headers += [(k.lower().encode(), v.encode()) for k, v in resp.headers.items()]
        if resp.stream is not None:
            if not any(k == b"content-type" for k, _ in headers):  # a watch's JSON, unless it says (a log)
                headers.append((b"content-type", b"application/json"))
            await send({"type": "http.response.start", "status": resp.status, "headers": headers})
            try:
                async for chunk in resp.stream:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            finally:
                await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else payload})

    def bearer_problem(self, token: str) -> ArmError | None:
        """Why a bearer token is not one of the simulator's (None: it is). Pure; safe on any thread."""
        if self.config.token is not None and token != self.config.token:
            claims = self.tokens.claims(token)
            if claims is None:
                return ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
            if float(claims.get("exp", 0)) < time.time():
                return ArmError(401, "ExpiredAuthenticationToken", "The access token expiry has passed.")
        return None

    def _authenticate(self, req: Request) -> None:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        problem = self.bearer_problem(token)
        if problem is not None:
            raise problem

    async def _dispatch(self, req: Request) -> Response:
        root = req.lsegs[0] if req.lsegs else ""
        routed = FrontDoor.handles(req)  # ARM's routing of Microsoft.RedHatOpenShift to the RP
        arm_own = Providers.handles(req) or req.lsegs == ["tenants"]  # ARM's own: providers, regions, tenants
        arm_own = arm_own or (root == "providers" and authorization.handles(req.lsegs))  # tenant role definitions
        if root == "subscriptions" or routed or arm_own:
            self._authenticate(req)
            if "api-version" not in req.query:
                raise ArmError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            if req.lsegs == ["tenants"]:
                return self.directory.tenants(req)
            if Providers.handles(req):
                return await self.providers.dispatch(req)
            return await (self.front_door.forward(req) if routed else self.arm.dispatch(req))
        if metadata.handles(req):  # anonymous, as in Azure
            return metadata.dispatch(req)
        if Graph.handles(req):  # Microsoft Graph (its own bearer check and error envelope)
            return await self.graph.dispatch(req)
        if root == "simulator":
            self._authenticate(req)
            if req.lsegs[1:] == ["autoscaler"]:
                return await self.scale_sets.autoscaler(req)
            if req.lsegs[1:] == ["audit"] and req.method == "GET":
                return self.kube.audit_events(req)
            if req.lsegs[1:] == ["pods", "fail"] and req.method == "POST":
                return await self.kube.fail_pod(req)
            if req.lsegs[1:2] == ["telemetry"]:
                return await self.telemetry.admin(req)
            if req.lsegs[1:2] == ["console"]:
                return await self.console.mint(req)
            answer = self._admin(req)
            if req.lsegs[1:] == ["faults"] and req.method in ("PUT", "DELETE") and not self.faults.hangs():
                # no "hang" rule is left: the operations they held finish now (after the step delay)
                await self.store.run(self.store.release_hung, time.time() + self.config.step_delay_seconds)
            return answer
        if Console.handles(req):  # no bearer token: the signed link is the credential
            return await self.console.page(req)
        if TokenIssuer.handles(req):
            return await self.tokens.dispatch(req)
        if KubeAPI.handles(req):
            return await self.kube.dispatch(req)
        raise ArmError(404, "NotFound", f"No route for {req.method} /{'/'.join(req.segs)}.")

    # -- admin ----------------------------------------------------------------------------------------------

    def _admin(self, req: Request) -> Response:
        what = req.lsegs[1:]
        if what == ["faults"]:
            if req.method == "PUT":
                try:
                    raw = json.loads(req.body or b"[]")
                    if not isinstance(raw, list):
                        raise ValueError("expected a JSON list of fault rules")
                    self.faults.replace(FaultRule.from_json(r) for r in raw)
                except (ValueError, TypeError, AttributeError) as e:
                    raise ArmError(400, "InvalidRequestContent", str(e)) from e
            elif req.method == "DELETE":
                self.faults.clear()
            elif req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not allowed.")
            return Response(200, self.faults.to_json())
        if what == ["requests"] and req.method == "GET":
            since = float(req.query["since"]) if req.query.get("since") else None
            return Response(200, {"value": self.log.query(since, req.query.get("owner"), req.query.get("step"))})
        raise ArmError(404, "NotFound", f"No route for {req.method} /{'/'.join(req.segs)}.")


def create_app(config: SimulatorConfig) -> SimulatorApp:
    """The simulator ASGI app. State lives in ``config.data_directory``; opened on lifespan startup (or on
    the first request when the server sends no lifespan events, e.g. ``httpx.ASGITransport``)."""
    return SimulatorApp(config)
