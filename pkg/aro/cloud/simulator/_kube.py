"""The Kubernetes API of every simulated cluster (``_kubeclusters`` has the three flavours), as the real
``kubectl`` uses it.

Paths, under the cluster's base path:

- ``/version``, ``/readyz``, ``/livez``, ``/healthz``: anonymous allowed; presented credentials must be valid.
- ``/api``, ``/api/v1``: discovery -- APIVersions, APIResourceList; ``/apis``: the self-review groups
  (``_kubereviews``: ``kubectl auth whoami`` and ``can-i``);
  ``/openapi/v3[/api/v1]``: the paths without schemas (``_kubeopenapi``), for kubectl's validation.
- ``/api/v1/{resource}``: list (cluster-scoped kinds, or a namespaced kind across all namespaces); create
  and deletecollection of cluster-scoped kinds.
- ``/api/v1/{resource}/{name}``: get, update (PUT), patch, delete of a cluster-scoped object.
- ``/api/v1/namespaces/{ns}/{resource}[/{name}]``: the same for namespaced kinds.

The verbs are in ``_kubeverbs`` (watches: ``_kubewatch``); errors are ``Status`` objects (``_kubeerrors``).

One request is one database transaction: the cluster, the caller's credentials (against the cluster's
current client CA and tokens), RBAC (``_kubeauthz``) and the operation see the same state; a failed
operation rolls back to a savepoint, keeping what settling did (pods started).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from . import _kubeopenapi as openapi
from . import _kubereviews as reviews
from ._http import Request, Response
from ._kubeauth import AUTHENTICATED, MASTERS, Credentials, Identity, authenticate, impersonate, service_account
from ._kubeauthz import authorize, authorize_discovery, may_impersonate
from ._kubeclusters import CLASSIC, HOSTED, MANAGEMENT, Cluster, Clusters
from ._kubeerrors import KubeError, path_not_found
from ._kubemetrics import metrics_text
from ._kubeobjects import KubeObjects
from ._kuberesources import RESOURCES, Resource, api_resource_list, api_versions
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
    root = req.lsegs[0]
    if root == "clusters" and len(req.segs) >= 3:
        return CLASSIC, rg_id(req.segs[1], req.segs[2]).lower(), req.segs[3:]
    if root == "management":
        return MANAGEMENT, "", req.segs[1:]
    if root == "hostedclusters" and len(req.segs) >= 2:
        return HOSTED, req.segs[1], req.segs[2:]
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
        creds = Credentials.of(req)
        if rest == ["version"] or (len(rest) == 1 and rest[0] in HEALTH):
            return await self._health(req, flavour, arg, rest[0], creds)
        if len(req.body) > self.config.kube_max_body_bytes:
            error = KubeError(413, "RequestEntityTooLarge", "the request body is too large")
            return Response(413, error.status())
        answer: Response | WatchStart = await self.store.run(self._api_tx, req, flavour, arg, rest, creds)
        if isinstance(answer, WatchStart):
            return self._watch(req, flavour, arg, answer)
        return answer

    async def startup(self) -> None:
        """Trust every client CA the store knows (classic masters, ``kas-client-ca`` secrets)."""
        self.watches.bind(asyncio.get_running_loop())
        for bundle in await self.store.run(self.clusters.known_client_cas):
            self.app.client_trust.add(bundle)
        for cert, key in await self.store.run(self.clusters.known_serving_pairs):
            self.app.serving_certs.put(cert, key)

    # -- health and version (the fault set lives on the event loop) ----------------------------------------

    def _health_tx(self, flavour: str, arg: str, creds: Credentials) -> tuple[bool, bool, str, bool, str]:
        """(exists, ready, detail, credentials rejected, the resource group faults match)."""
        self.objects.settle(time.time())
        cluster = self.clusters.resolve(flavour, arg)
        if cluster is None:
            return False, False, "", False, ""
        rejected = False
        if creds.presented:
            try:
                self._identity(cluster, creds)
            except KubeError:
                rejected = True
        if cluster.flavour == CLASSIC:
            return True, self.clusters.masters(cluster) >= 3, "etcd", rejected, arg.split("/")[-1]
        if cluster.flavour == HOSTED:
            ready, waiting = self.clusters.pods_ready(cluster)
            rg = (self.clusters.managed_rg(cluster) or "").rstrip("/").split("/")[-1]
            return True, ready, waiting or "control-plane", rejected, rg
        return True, True, "", rejected, ""

    async def _health(self, req: Request, flavour: str, arg: str, what: str, creds: Credentials) -> Response:
        if req.method not in ("GET", "HEAD"):
            return Response(405, KubeError(405, "MethodNotAllowed", NOT_ALLOWED).status())
        exists, ready, detail, rejected, rg = await self.store.run(self._health_tx, flavour, arg, creds)
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
        self, req: Request, flavour: str, arg: str, rest: list[str], creds: Credentials
    ) -> Response | WatchStart:
        self.objects.settle(time.time())
        db = self.store.db
        db.execute("SAVEPOINT kube_request")
        mark = self.watches.mark()
        try:
            answer, write = self._api(req, flavour, arg, rest, creds)
            if write and req.query.get("dryrun") == "All":
                db.execute("ROLLBACK TO kube_request")
                self.watches.rollback_to(mark)
        except KubeError as e:
            db.execute("ROLLBACK TO kube_request")
            self.watches.rollback_to(mark)
            answer = Response(e.code, e.status())
        db.execute("RELEASE kube_request")
        return answer

    def _identity(self, cluster: Cluster, creds: Credentials) -> Identity:
        identity = authenticate(creds, lambda: self.clusters.client_cas(cluster), lambda t: self._token(cluster, t))
        return impersonate(identity, creds, may_impersonate)

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
        self, req: Request, flavour: str, arg: str, rest: list[str], creds: Credentials
    ) -> tuple[Response | WatchStart, bool]:
        """(the answer, whether it was a write)."""
        cluster = self.clusters.resolve(flavour, arg)
        if cluster is None:
            raise path_not_found()
        identity = self._identity(cluster, creds)
        if rest[:1] == ["apis"]:
            authorize_discovery(identity)
            return self._apis(req, cluster, identity, rest), False
        if rest[:2] != ["api", "v1"] or len(rest) < 3:
            authorize_discovery(identity)
            if req.method != "GET":
                raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
            return Response(200, self._discovery(req, cluster, rest)), False
        if len(rest) == 8 and rest[2] == "namespaces" and rest[4] == "pods" and rest[6:] == ["proxy", "metrics"]:
            return self._pod_metrics(req, cluster, identity, rest[3], rest[5]), False
        resource, namespace, name, watch = self._route(rest[2:])
        verb = self._verb(req, name, watch)
        anonymous_nodes = cluster.flavour == CLASSIC and self.config.anonymous_node_reads
        authorize(identity, verb, resource.plural, namespace, name, anonymous_node_reads=anonymous_nodes)
        return self.verbs.run(req, cluster, resource, verb, namespace, name), verb in _WRITES

    def _pod_metrics(self, req: Request, cluster: Cluster, identity: Identity, namespace: str, name: str) -> Response:
        """``pods/{name}/proxy/metrics``: a running pod's metrics (``_kubemetrics``)."""
        if req.method != "GET":
            raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
        authorize(identity, "get", "pods", namespace, name)
        pod = self.objects.get(cluster.key, "pods", namespace, name)
        if pod is None:
            raise KubeError(404, "NotFound", f'pods "{name}" not found')
        if (pod.get("status") or {}).get("phase") != "Running":
            raise KubeError(503, "ServiceUnavailable", f'pod "{name}" is not running')
        return Response(200, metrics_text(pod), {"Content-Type": "text/plain; version=0.0.4"})

    def _apis(self, req: Request, cluster: Cluster, identity: Identity, rest: list[str]) -> Response:
        """``/apis``: the review groups (``_kubereviews``)."""
        found: Object | None = None
        if len(rest) == 4 and req.method == "POST":

            def allowed(verb: str, resource: str, namespace: str | None, name: str | None) -> bool:
                try:
                    anonymous_nodes = cluster.flavour == CLASSIC and self.config.anonymous_node_reads
                    authorize(identity, verb, resource, namespace, name, anonymous_node_reads=anonymous_nodes)
                except KubeError:
                    return False
                return True

            found = reviews.review(rest[1], rest[3], identity, object_body(req), allowed)
            if found is not None:
                return Response(201, found)
        elif req.method != "GET":
            raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
        elif len(rest) == 1:
            found = reviews.api_group_list()
        elif len(rest) == 2:
            found = reviews.api_group(rest[1])
        elif len(rest) == 3:
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
        if rest == ["openapi", "v3", "api", "v1"]:
            return openapi.document(version)
        raise path_not_found()

    @staticmethod
    def _route(path: list[str]) -> tuple[Resource, str | None, str | None, bool]:
        """(resource, namespace, name, legacy watch path) of the path under ``/api/v1``."""
        watch = path[0] == "watch"
        path = path[1:] if watch else path
        if not path:
            raise path_not_found()
        if path[0] == "namespaces" and len(path) >= 3:
            namespace, plural, name, sub = path[1], path[2], path[3] if len(path) > 3 else None, path[4:]
        else:
            namespace, plural, name, sub = None, path[0], path[1] if len(path) > 1 else None, path[2:]
        resource = RESOURCES.get(plural)
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

        stream = self.watches.stream(
            start.initial,
            render,
            seconds,
            req.wait_disconnect,
            sub=start.subscription,
            poll=poll if start.subscription is None else None,
            tick=tick if resource.plural == "pods" else None,
        )
        return Response(200, None, stream=stream)
