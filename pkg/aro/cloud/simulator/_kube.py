"""The Kubernetes API of every simulated cluster (``_kubeclusters`` has the three flavours), as the real
``kubectl`` uses it.

Paths, under the cluster's base path:

- ``/version``, ``/readyz``, ``/livez``, ``/healthz``: anonymous allowed; presented credentials must be valid.
- ``/api``, ``/api/v1``: discovery -- APIVersions, APIResourceList; ``/apis``: the self-review groups
  (``_kubereviews``: ``kubectl auth whoami`` and ``can-i``) and ``rbac.authorization.k8s.io``;
  ``/openapi/v3[/api/v1 | /apis/rbac.authorization.k8s.io/v1]``: the paths without schemas
  (``_kubeopenapi``), for kubectl's validation.
- ``/api/v1/{resource}``: list (cluster-scoped kinds, or a namespaced kind across all namespaces); create
  and deletecollection of cluster-scoped kinds.
- ``/api/v1/{resource}/{name}``: get, update (PUT), patch, delete of a cluster-scoped object.
- ``/api/v1/namespaces/{ns}/{resource}[/{name}]``: the same for namespaced kinds.
- ``/apis/rbac.authorization.k8s.io/v1/[namespaces/{ns}/]{roles,rolebindings,clusterroles,clusterrolebindings}``:
  the RBAC kinds (``_kuberbac``), with the same verbs; writes by anyone but system:masters pass the
  escalation check.
- ``/api/v1/namespaces/{ns}/pods/{name}/log``: a pod's log (``_kubelogs``; pods run by ``_kubelet``).

The verbs are in ``_kubeverbs`` (watches: ``_kubewatch``); errors are ``Status`` objects (``_kubeerrors``).

One request is one database transaction: the cluster, the caller's credentials (against the cluster's
current client CA and tokens), authorization (``_kubeauthz``, the stored RBAC: ``_kuberbac``) and the
operation see the same state; a failed operation rolls back to a savepoint, keeping what settling did (pods
started). Every request is audited (``_kubeaudit``; ``GET /simulator/audit``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import _kubelogs as logs
from . import _kubeopenapi as openapi
from . import _kuberbac as rbac
from . import _kubereviews as reviews
from ._http import Request, Response
from ._kubeaudit import AuditEvent, AuditLog, user_info
from ._kubeaudit import begin as audit_begin
from ._kubeauth import AUTHENTICATED, MASTERS, Credentials, Identity, authenticate, impersonate, service_account
from ._kubeauthz import Attributes, allowed, authorize, authorize_discovery, may_impersonate
from ._kubeclusters import CLASSIC, HOSTED, MANAGEMENT, Cluster, Clusters, cluster_key
from ._kubeerrors import KubeError, path_not_found
from ._kubelet import Kubelet
from ._kubemetrics import metrics_text
from ._kubeobjects import Admit, KubeObjects
from ._kuberbac import RBAC_RESOURCES, Rbac
from ._kuberesources import RESOURCES, Resource, api_resource_list, api_versions, meta
from ._kubeselect import fields_match, labels_match
from ._kubetable import table, wants_table
from ._kubeverbs import NOT_ALLOWED, Verbs, WatchStart, object_body
from ._kubewatch import MAX_SECONDS, WatchHub
from ._template import rg_id

if TYPE_CHECKING:
    from ._app import SimulatorApp

Object = dict[str, Any]
HEALTH = ("readyz", "livez", "healthz")
_WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})


def _target(req: Request) -> tuple[str, str, list[str]] | None:
    """(flavour, cluster argument, the path under the cluster) of a cluster API request."""
    return _target_of(req.segs)


def _target_of(segs: list[str]) -> tuple[str, str, list[str]] | None:
    root = segs[0].lower() if segs else ""
    if root == "clusters" and len(segs) >= 3:
        return CLASSIC, rg_id(segs[1], segs[2]).lower(), segs[3:]
    if root == "management":
        return MANAGEMENT, "", segs[1:]
    if root == "hostedclusters" and len(segs) >= 2:
        return HOSTED, segs[1], segs[2:]
    return None


class KubeAPI:
    def __init__(self, app: SimulatorApp) -> None:
        self.app = app
        self.store = app.store
        self.config = app.config
        self.objects = KubeObjects(
            lambda: app.store.db,
            lambda: app.config.step_delay_seconds,
            app.config.kube_max_objects,
            app.config.kube_max_object_bytes,
        )
        self.clusters = Clusters(
            app.store,
            self.objects,
            app.scale_sets,
            app.client_trust,
            lambda: app.config.kubernetes_version,
            app.serving_certs,
        )
        self.watches = WatchHub(self.objects, app.store)
        self.verbs = Verbs(self.objects, self.clusters, self.watches, app.config.kube_list_limit)
        self.kubelet = Kubelet(app.store, self.objects, app.config)
        self.audit = AuditLog(app.config.kube_audit_events)

    @staticmethod
    def handles(req: Request) -> bool:
        return bool(req.lsegs) and _target(req) is not None

    async def fail_pod(self, req: Request) -> Response:
        """``POST /simulator/pods/fail {"namespace", "name", "message"?}``: a management-cluster pod's
        containers crash (fault injection: an etcd member failure, seed 8.1)."""
        body = object_body(req)
        ns, name = str(body.get("namespace") or ""), str(body.get("name") or "")
        message = str(body.get("message") or "the container exited (simulated failure)")[:500]
        failed = await self.store.run(self.objects.fail_pod, MANAGEMENT, ns, name, message)
        if failed is None:
            return Response(404, KubeError(404, "NotFound", f'pods "{name}" not found in {ns!r}').status())
        return Response(200, failed)

    async def dispatch(self, req: Request) -> Response:
        target = _target(req)
        if target is None:
            return Response(404, path_not_found().status())
        flavour, arg, rest = target
        key, event = cluster_key(flavour, arg), audit_begin(req, rest)
        if self.kubelet.server_url is None:
            self.kubelet.seen_url = req.base_url  # not served by SimulatorServer: where this client found us
        try:
            resp = await self._serve(req, flavour, arg, rest, event)
        except BaseException as e:
            self.audit.record(key, event, "ResponseComplete", int(getattr(e, "status", 500)))
            raise
        resp.headers.setdefault("Audit-Id", event.audit_id)
        if (
            event.verb == "create"
            and event.object_ref is not None
            and isinstance(resp.body, dict)
            and resp.status < 300
        ):
            name = (resp.body.get("metadata") or {}).get("name")  # a create names its object in the body
            if isinstance(name, str) and name:
                event.object_ref["name"] = name
        if resp.stream is None:
            self.audit.record(key, event, "ResponseComplete", resp.status, resp.body)
        else:
            if event.long_running:
                self.audit.record(key, event, "ResponseStarted", resp.status)
            resp.stream = self._audited(resp.stream, key, event, resp.status)
        return resp

    async def _audited(
        self, stream: AsyncIterator[bytes], key: str, event: AuditEvent, status: int
    ) -> AsyncIterator[bytes]:
        try:
            async for chunk in stream:
                yield chunk
        finally:
            self.audit.record(key, event, "ResponseComplete", status)
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    async def _serve(self, req: Request, flavour: str, arg: str, rest: list[str], event: AuditEvent) -> Response:
        creds = Credentials.of(req)
        if rest == ["version"] or (len(rest) == 1 and rest[0] in HEALTH):
            return await self._health(req, flavour, arg, rest[0], creds, event)
        if len(req.body) > self.config.kube_max_body_bytes:
            error = KubeError(413, "RequestEntityTooLarge", "the request body is too large")
            return Response(413, error.status())
        answer: Response | WatchStart | logs.LogStart = await self.store.run(
            self._api_tx, req, flavour, arg, rest, creds, event
        )
        if isinstance(answer, WatchStart):
            return self._watch(req, flavour, arg, answer)
        if isinstance(answer, logs.LogStart):
            return self._log(req, answer)
        return answer

    def audit_events(self, req: Request) -> Response:
        """``GET /simulator/audit?server=<the cluster API's URL>[&user=<name>]`` (``_kubeaudit``)."""
        server = req.query.get("server", "")
        target = _target_of([s for s in urlsplit(server).path.split("/") if s]) if server else None
        if target is None:
            message = (
                "server must be a cluster API URL: .../management, .../hostedclusters/{ns} or .../clusters/{sub}/{rg}"
            )
            return Response(400, {"error": {"code": "InvalidRequestContent", "message": message}})
        return Response(200, self.audit.query(cluster_key(target[0], target[1]), req.query.get("user") or None))

    def serving_at(self, url: str, ca_pem: str) -> None:
        self.kubelet.serving_at(url, ca_pem)

    async def startup(self) -> None:
        """Trust every client CA the store knows (classic masters, ``kas-client-ca`` secrets); start the kubelet
        (pods whose process died with the last run are NodeLost, queued ones run)."""
        self.watches.bind(asyncio.get_running_loop())
        for bundle in await self.store.run(self.clusters.known_client_cas):
            self.app.client_trust.add(bundle)
        for cert, key, cas in await self.store.run(self.clusters.known_serving_pairs):
            self.app.serving_certs.put(cert, key, cas)
        await self.kubelet.startup()

    async def shutdown(self) -> None:
        """Kill the executed pods' processes (the store is still open)."""
        await self.kubelet.shutdown()

    # -- health and version (the fault set lives on the event loop) ----------------------------------------

    def _health_tx(
        self, flavour: str, arg: str, creds: Credentials, event: AuditEvent
    ) -> tuple[bool, bool, str, bool, str]:
        """(exists, ready, detail, credentials rejected, the resource group faults match)."""
        self.objects.settle(time.time())
        cluster = self.clusters.resolve(flavour, arg)
        if cluster is None:
            return False, False, "", False, ""
        rejected = False
        if creds.presented:
            try:
                self._identity(cluster, creds, event)
            except KubeError:
                rejected = True
        else:
            event.user = user_info("system:anonymous", ("system:unauthenticated",))
        if cluster.flavour == CLASSIC:
            return True, self.clusters.masters(cluster) >= 3, "etcd", rejected, arg.split("/")[-1]
        if cluster.flavour == HOSTED:
            ready, waiting = self.clusters.pods_ready(cluster)
            rg = (self.clusters.managed_rg(cluster) or "").rstrip("/").split("/")[-1]
            return True, ready, waiting or "control-plane", rejected, rg
        return True, True, "", rejected, ""

    async def _health(
        self, req: Request, flavour: str, arg: str, what: str, creds: Credentials, event: AuditEvent
    ) -> Response:
        if req.method not in ("GET", "HEAD"):
            return Response(405, KubeError(405, "MethodNotAllowed", NOT_ALLOWED).status())
        exists, ready, detail, rejected, rg = await self.store.run(self._health_tx, flavour, arg, creds, event)
        if not exists:
            what_missing = "resource group" if flavour == CLASSIC else "management namespace"
            name = req.segs[2] if flavour == CLASSIC else arg
            return Response(404, KubeError(404, "NotFound", f"no cluster in {what_missing} {name}").status())
        if rejected:
            return Response(401, KubeError(401, "Unauthorized", "Unauthorized").status())
        if what == "version":
            v = self.config.kubernetes_version.lstrip("v").split(".")
            return Response(
                200,
                {
                    "major": v[0],
                    "minor": v[1] if len(v) > 1 else "0",
                    "gitVersion": self.config.kubernetes_version,
                    "gitCommit": "0" * 40,
                    "gitTreeState": "clean",
                    "buildDate": "2025-01-01T00:00:00Z",
                    "goVersion": "go1.23.0",
                    "compiler": "gc",
                    "platform": "linux/amd64",
                },
            )
        if flavour != MANAGEMENT and what == "readyz":
            # "hang" only counts (and is only consumed) once the cluster would otherwise be ready; a
            # hosted cluster's faults match its managed resource group, as a classic cluster's
            rg = req.segs[2] if flavour == CLASSIC else rg
            rule = self.app.faults.hit("clusterReady", rg, modes=("fail", "hang") if ready else ("fail",))
            if rule is not None and rule.mode == "fail":
                return Response(rule.status, rule.error_message("clusterReady", rg))
            ready = ready and rule is None
        if ready:
            return Response(200, "ok")
        return Response(503, f"[-]{detail} failed: reason withheld\n{what} check failed")

    # -- the API (database thread) -------------------------------------------------------------------------

    def _api_tx(
        self, req: Request, flavour: str, arg: str, rest: list[str], creds: Credentials, event: AuditEvent
    ) -> Response | WatchStart | logs.LogStart:
        self.objects.settle(time.time())
        db = self.store.db
        db.execute("SAVEPOINT kube_request")
        marks = self.watches.mark(), self.kubelet.mark()
        try:
            answer, write = self._api(req, flavour, arg, rest, creds, event)
            if write and req.query.get("dryrun") == "All":
                db.execute("ROLLBACK TO kube_request")
                self.watches.rollback_to(marks[0])
                self.kubelet.rollback_to(marks[1])
        except KubeError as e:
            db.execute("ROLLBACK TO kube_request")
            self.watches.rollback_to(marks[0])
            self.kubelet.rollback_to(marks[1])
            answer = Response(e.code, e.status())
        db.execute("RELEASE kube_request")
        return answer

    def _identity(self, cluster: Cluster, creds: Credentials, event: AuditEvent | None = None) -> Identity:
        """Who the request acts as (after impersonation); ``event`` hears who authenticated and who it acts as."""
        identity = authenticate(creds, lambda: self.clusters.client_cas(cluster), lambda t: self._token(cluster, t))
        if event is not None:
            event.user = user_info(identity.user, identity.groups)
        grants = Rbac(self.objects, cluster.key).allows

        def may(who: Identity, resource: str, namespace: str | None, name: str) -> bool:
            return may_impersonate(who, Attributes("impersonate", resource, "", "", namespace, name), grants)

        acting = impersonate(identity, creds, may)
        if event is not None and creds.impersonate_user is not None:
            event.impersonated = user_info(acting.user, acting.groups)
        return acting

    def _token(self, cluster: Cluster, token: str) -> Identity | None:
        owner = self.objects.token_owner(cluster.key, token)
        if owner is not None:
            ns, sa = owner
            if sa and self.objects.exists(cluster.key, "serviceaccounts", ns, sa):
                return service_account(ns, sa)
        if cluster.flavour == MANAGEMENT and self.app.bearer_problem(token) is None:
            return Identity("simulator-admin", (MASTERS, AUTHENTICATED))
        return None

    def _api(
        self, req: Request, flavour: str, arg: str, rest: list[str], creds: Credentials, event: AuditEvent
    ) -> tuple[Response | WatchStart | logs.LogStart, bool]:
        """(the answer, whether it was a write)."""
        cluster = self.clusters.resolve(flavour, arg)
        if cluster is None:
            raise path_not_found()
        identity = self._identity(cluster, creds, event)
        grants = Rbac(self.objects, cluster.key)
        if len(rest) >= 4 and rest[0] == "apis" and rest[1] == rbac.GROUP and rest[2] == rbac.VERSION:
            return self._resource(req, cluster, identity, grants, RBAC_RESOURCES, rest[3:], event)
        if rest[:1] == ["apis"]:
            authorize_discovery(identity)
            return self._apis(req, cluster, identity, grants, rest), False
        if rest[:2] != ["api", "v1"] or len(rest) < 3:
            authorize_discovery(identity)
            if req.method != "GET":
                raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
            return Response(200, self._discovery(req, cluster, rest)), False
        if len(rest) == 8 and rest[2] == "namespaces" and rest[4] == "pods" and rest[6:] == ["proxy", "metrics"]:
            return self._pod_metrics(req, cluster, identity, grants, rest[3], rest[5]), False
        if len(rest) == 7 and rest[2] == "namespaces" and rest[4] == "pods" and rest[6] == "log":
            return self._log_start(req, cluster, identity, grants, rest[3], rest[5], event), False
        return self._resource(req, cluster, identity, grants, RESOURCES, rest[2:], event)

    def _authorize(self, cluster: Cluster, identity: Identity, grants: Rbac, attrs: Attributes) -> None:
        anonymous_nodes = cluster.flavour == CLASSIC and self.config.anonymous_node_reads
        authorize(identity, attrs, grants.allows, anonymous_node_reads=anonymous_nodes)

    def _resource(
        self,
        req: Request,
        cluster: Cluster,
        identity: Identity,
        grants: Rbac,
        table: dict[str, Resource],
        path: list[str],
        event: AuditEvent,
    ) -> tuple[Response | WatchStart, bool]:
        resource, namespace, name, watch = self._route(path, table)
        verb = self._verb(req, name, watch)
        event.set_object(verb, resource.plural, namespace, name, resource.group)
        event.long_running = verb == "watch"
        self._authorize(
            cluster, identity, grants, Attributes(verb, resource.plural, resource.group, "", namespace, name)
        )
        admit: Admit | None = None
        if resource.group == rbac.GROUP and MASTERS not in identity.groups:

            def admit(obj: Object, old: Object | None) -> None:
                grants.escalation(identity, resource, namespace or "", obj)

        return self.verbs.run(req, cluster, resource, verb, namespace, name, admit), verb in _WRITES

    def _pod_metrics(
        self, req: Request, cluster: Cluster, identity: Identity, grants: Rbac, namespace: str, name: str
    ) -> Response:
        """``pods/{name}/proxy/metrics``: a running pod's metrics (``_kubemetrics``)."""
        if req.method != "GET":
            raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
        self._authorize(cluster, identity, grants, Attributes("get", "pods", "", "", namespace, name))
        pod = self.objects.get(cluster.key, "pods", namespace, name)
        if pod is None:
            raise KubeError(404, "NotFound", f'pods "{name}" not found')
        if (pod.get("status") or {}).get("phase") != "Running":
            raise KubeError(503, "ServiceUnavailable", f'pod "{name}" is not running')
        return Response(200, metrics_text(pod), {"Content-Type": "text/plain; version=0.0.4"})

    def _log_start(
        self,
        req: Request,
        cluster: Cluster,
        identity: Identity,
        grants: Rbac,
        namespace: str,
        name: str,
        event: AuditEvent,
    ) -> logs.LogStart:
        """``pods/{name}/log``: checked here, streamed on the event loop (``_log``)."""
        event.set_object("get", "pods", namespace, name, subresource="log")
        if req.method != "GET":
            raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
        self._authorize(cluster, identity, grants, Attributes("get", "pods", "", "log", namespace, name))
        pod = self.objects.get(cluster.key, "pods", namespace, name)
        start = logs.log_start(req, cluster.key, pod, namespace, name, self.kubelet)
        event.long_running = start.follow
        return start

    def _apis(self, req: Request, cluster: Cluster, identity: Identity, grants: Rbac, rest: list[str]) -> Response:
        """``/apis``: the review groups (``_kubereviews``) and the RBAC group's discovery (``_kuberbac``)."""
        found: Object | None = None
        if len(rest) == 4 and req.method == "POST":
            anonymous_nodes = cluster.flavour == CLASSIC and self.config.anonymous_node_reads

            def may(attrs: Attributes) -> bool:
                return allowed(identity, attrs, grants.allows, anonymous_node_reads=anonymous_nodes)

            found = reviews.review(rest[1], rest[3], identity, object_body(req), may)
            if found is not None:
                return Response(201, found)
        elif req.method != "GET":
            raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
        elif len(rest) == 1:
            found = reviews.api_group_list(rbac.api_group())
        elif len(rest) == 2:
            found = rbac.api_group() if rest[1] == rbac.GROUP else reviews.api_group(rest[1])
        elif len(rest) == 3:
            if rest[1:] == [rbac.GROUP, rbac.VERSION]:
                found = rbac.api_resource_list()
            else:
                found = reviews.api_resource_list(rest[1], rest[2])
        if found is None:
            raise path_not_found()
        return Response(200, found)

    def _discovery(self, req: Request, cluster: Cluster, rest: list[str]) -> Object:
        if rest == ["api"]:
            return api_versions(req.headers.get("host", ""))
        if rest == ["api", "v1"]:
            return api_resource_list(cluster.derived_nodes)
        version = self.config.kubernetes_version
        if rest == ["openapi", "v3"]:
            return openapi.root("/" + "/".join(req.segs[: len(req.segs) - len(rest)]), version)
        if rest[:2] == ["openapi", "v3"] and len(rest) > 2:
            found = openapi.document(version, "/".join(rest[2:]))
            if found is not None:
                return found
        raise path_not_found()

    @staticmethod
    def _route(path: list[str], table: dict[str, Resource]) -> tuple[Resource, str | None, str | None, bool]:
        """(resource, namespace, name, legacy watch path) of the path under ``/api/v1`` (or a group version)."""
        watch = path[0] == "watch"
        path = path[1:] if watch else path
        if not path:
            raise path_not_found()
        if path[0] == "namespaces" and len(path) >= 3:
            namespace, plural, name, sub = path[1], path[2], path[3] if len(path) > 3 else None, path[4:]
        else:
            namespace, plural, name, sub = None, path[0], path[1] if len(path) > 1 else None, path[2:]
        resource = table.get(plural)
        if resource is None or sub or (namespace is not None and not resource.namespaced):
            raise path_not_found()
        if namespace is None and resource.namespaced and name is not None:
            raise path_not_found()
        return resource, namespace, name, watch

    @staticmethod
    def _verb(req: Request, name: str | None, watch: bool) -> str:
        if req.method == "GET" and (watch or req.query.get("watch") in ("true", "1")):
            if name is not None:
                raise KubeError(405, "MethodNotAllowed", "watch a single object with fieldSelector=metadata.name=")
            return "watch"
        verbs = (
            {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
            if name is not None
            else {"GET": "list", "POST": "create", "DELETE": "deletecollection"}
        )
        verb = verbs.get(req.method)
        if verb is None:
            raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
        return verb

    # -- watches (event loop) ------------------------------------------------------------------------------

    def _watch(self, req: Request, flavour: str, arg: str, start: WatchStart) -> Response:
        resource = start.resource
        if wants_table(req.headers.get("accept", "")):
            include = req.query.get("includeobject", "Metadata")

            def render(obj: Object) -> Object:
                return table(
                    resource.plural, [obj], {"resourceVersion": obj["metadata"].get("resourceVersion", "")}, include
                )

        else:

            def render(obj: Object) -> Object:
                return obj

        try:
            seconds = float(req.query.get("timeoutseconds") or MAX_SECONDS)
        except ValueError:
            seconds = MAX_SECONDS

        def nodes_tx() -> list[Object]:
            cluster = self.clusters.resolve(flavour, arg)
            nodes = self.clusters.nodes(cluster) if cluster is not None else []
            return [n for n in nodes if labels_match(start.labels, n) and fields_match(start.fields, n)]

        async def poll() -> list[Object]:
            found: list[Object] = await self.store.run(nodes_tx)
            return found

        async def tick() -> None:
            await self.store.run(self.objects.settle, time.time())

        watch = self.watches.stream(
            start.initial,
            render,
            seconds,
            req.wait_disconnect,
            sub=start.subscription,
            poll=poll if start.subscription is None else None,
            tick=tick if resource.plural == "pods" else None,
        )
        return Response(200, None, stream=watch)

    # -- logs (event loop) ---------------------------------------------------------------------------------

    def _log(self, req: Request, start: logs.LogStart) -> Response:
        key = start.key

        def phase_tx() -> str | None:
            pod = self.objects.get(key.cluster, "pods", key.namespace, key.name)
            if pod is None or meta(pod).get("uid") != key.uid:
                return None
            return str((pod.get("status") or {}).get("phase", ""))

        async def phase() -> str | None:
            found: str | None = await self.store.run(phase_tx)
            return found

        body = logs.stream(start, self.kubelet, phase, req.wait_disconnect, self.watches.stopping)
        return Response(200, None, {"Content-Type": "text/plain"}, stream=body)
