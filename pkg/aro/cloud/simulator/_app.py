"""The simulator as a pure ASGI application: request plumbing, auth, the request log, admin routes and the
per-cluster API. The ARM routes live in ``_arm``.

Routes (matched case-insensitively, segment by segment):

- ``/subscriptions/...``: the ARM surface (``_arm``); bearer token required; ``api-version`` required.
- ``/simulator/faults`` (GET/PUT/DELETE) and ``/simulator/requests`` (GET; ``?since=&owner=&step=``):
  admin; bearer token required.
- ``/clusters/{subscription}/{resourceGroup}/version|readyz|api/v1/nodes``: each managed resource
  group's cluster API; anonymous (like ``/readyz`` on a real API server).
- ``/{tenant}/oauth2/v2.0/token``: an Entra-compatible client-credentials token endpoint (``_token``); the
  tokens it issues are accepted as bearer tokens, as is the configured token itself.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from ._arm import ArmHandlers
from ._config import FaultRule, FaultSet, SimulatorConfig
from ._errors import ArmError
from ._http import Receive, Request, Response, Scope, Send
from ._log import RequestLog
from ._store import Store, iso
from ._template import rg_id
from ._token import TokenIssuer


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


class SimulatorApp:
    """``SimulatorApp(config)`` is the ASGI callable. Use ``create_app`` to build one."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.faults = FaultSet(config.fault_rules())
        self.store = Store(config.data_directory)
        self.log = RequestLog(
            config.data_directory / "requests.jsonl", lambda: self.store.executor, config.request_log_memory
        )
        self.arm = ArmHandlers(self)
        self.tokens = TokenIssuer(config.token)
        self._opened = False
        self._open_lock = asyncio.Lock()

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def startup(self) -> None:
        async with self._open_lock:
            if not self._opened:
                await self.store.open()
                await self.log.open()
                self._opened = True

    async def shutdown(self) -> None:
        async with self._open_lock:
            if self._opened:
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
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
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
        )
        try:
            if not self._opened:
                await self.startup()
            req.body = await self._read_body(receive)
            resp = await self._dispatch(req)
        except ArmError as e:
            resp = Response(e.status, {"error": e.body()}, e.headers)
        except Exception as e:  # an ARM 500, never a dropped connection
            resp = _error(500, "InternalServerError", f"{type(e).__name__}: {e}")
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
        else:
            payload, ctype = json.dumps(resp.body).encode(), "application/json; charset=utf-8"
        headers = [(b"x-ms-request-id", request_id.encode())]
        if "x-ms-client-request-id" in req.headers:
            headers.append((b"x-ms-client-request-id", req.headers["x-ms-client-request-id"].encode()))
        if ctype:
            headers.append((b"content-type", ctype.encode()))
        headers += [(k.lower().encode(), v.encode()) for k, v in resp.headers.items()]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if req.method == "HEAD" else payload})

    def _authenticate(self, req: Request) -> None:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        if self.config.token is not None and token != self.config.token:
            claims = self.tokens.claims(token)
            if claims is None:
                raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
            if float(claims.get("exp", 0)) < time.time():
                raise ArmError(401, "ExpiredAuthenticationToken", "The access token expiry has passed.")

    async def _dispatch(self, req: Request) -> Response:
        root = req.lsegs[0] if req.lsegs else ""
        if root == "subscriptions":
            self._authenticate(req)
            if "api-version" not in req.query:
                raise ArmError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            return await self.arm.dispatch(req)
        if root == "simulator":
            self._authenticate(req)
            return self._admin(req)
        if root == "clusters" and len(req.lsegs) >= 4:
            return await self._cluster(req)
        if TokenIssuer.handles(req):
            return self.tokens.dispatch(req)
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

    # -- the per-cluster API --------------------------------------------------------------------------------

    async def _cluster(self, req: Request) -> Response:
        sub, rg, rest = req.segs[1], req.segs[2], req.lsegs[3:]
        if req.method != "GET":
            return Response(405, _status(405, "MethodNotAllowed", "method not allowed"))
        vms = await self.store.run(self._cluster_vms, rg_id(sub, rg).lower())
        if vms is None:
            return Response(404, _status(404, "NotFound", f"no cluster in resource group {rg}"))
        if rest == ["version"]:
            v = self.config.kubernetes_version.lstrip("v").split(".")
            return Response(
                200,
                {
                    "major": v[0],
                    "minor": v[1] if len(v) > 1 else "0",
                    "gitVersion": self.config.kubernetes_version,
                    "platform": "linux/amd64",
                },
            )
        if rest == ["readyz"]:
            # "hang" only counts (and is only consumed) once the cluster would otherwise be ready
            ready = sum("-master-" in vm["name"].lower() for vm in vms) >= 3
            rule = self.faults.hit("clusterReady", rg, modes=("fail", "hang") if ready else ("fail",))
            if rule is not None and rule.mode == "fail":
                return Response(rule.status, rule.error_message("clusterReady", rg))
            if rule is None and ready:
                return Response(200, "ok")
            return Response(503, "[-]etcd failed: reason withheld\nreadyz check failed")
        if rest == ["api", "v1", "nodes"]:
            return Response(200, self._node_list(vms))
        return Response(404, _status(404, "NotFound", "the server could not find the requested resource"))

    def _cluster_vms(self, rg_key: str) -> list[dict[str, Any]] | None:
        if self.store.get_rg(rg_key) is None:
            return None
        return self.store.vms(rg_key)

    def _node_list(self, vms: list[dict[str, Any]]) -> dict[str, Any]:
        items = []
        for vm in vms:
            role = "master" if "-master-" in vm["name"].lower() else "worker"
            labels = {
                "kubernetes.io/hostname": vm["name"],
                "kubernetes.io/os": "linux",
                f"node-role.kubernetes.io/{role}": "",
                "topology.kubernetes.io/region": str(vm.get("location", "")),
            }
            size = (vm["properties"].get("hardwareProfile") or {}).get("vmSize")
            if size:
                labels["node.kubernetes.io/instance-type"] = size
            created = iso(vm["created"]).split(".")[0] + "Z"
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": vm["name"],
                        "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, vm["id"].lower())),
                        "labels": labels,
                        "creationTimestamp": created,
                    },
                    "spec": {"providerID": "azure://" + vm["id"]},
                    "status": {
                        "conditions": [
                            {
                                "type": "Ready",
                                "status": "True",
                                "reason": "KubeletReady",
                                "message": "kubelet is posting ready status",
                                "lastTransitionTime": created,
                                "lastHeartbeatTime": created,
                            }
                        ],
                        "addresses": [{"type": "Hostname", "address": vm["name"]}],
                        "nodeInfo": {
                            "kubeletVersion": self.config.kubernetes_version,
                            "operatingSystem": "linux",
                            "architecture": "amd64",
                        },
                    },
                }
            )
        return {"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    """A Kubernetes ``Status`` object, as the API server answers errors."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def create_app(config: SimulatorConfig) -> SimulatorApp:
    """The simulator ASGI app. State lives in ``config.data_directory``; opened on lifespan startup (or on
    the first request when the server sends no lifespan events, e.g. ``httpx.ASGITransport``)."""
    return SimulatorApp(config)
