"""The verbs on a resource, once the request is routed, authenticated and authorized (``_kube``).

- list: ``labelSelector``, ``fieldSelector``, ``limit`` and ``continue``; the page size is capped at
  ``SimulatorConfig.kube_list_limit``; a continue token is the last key of its page (pages are not a
  snapshot).
- get / list answer a ``Table`` (``_kubetable``) when the ``Accept`` asks for ``as=Table;g=meta.k8s.io``.
- create (201), update (PUT), patch (``_kubepatch``), delete (200 with the object as it was) and
  deletecollection (200 with the list deleted, at most one page); ``dryRun=All`` runs a write and rolls it
  back (``_kube``). Derived nodes only get and list (405 otherwise).
- watch: ``WatchStart`` -- the starting events and the subscription, read in the request's transaction;
  the stream itself runs on the event loop (``_kubewatch``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import _kubeproto as proto
from ._http import Request, Response
from ._kubeclusters import Cluster, Clusters
from ._kubeerrors import KubeError, bad_request, not_found
from ._kubeobjects import Admit, KubeObjects
from ._kubepatch import JSON_PATCH, MERGE, STRATEGIC, apply_patch
from ._kuberesources import Resource
from ._kubeselect import FieldRequirement, Requirement, fields_match, labels_match, parse_fields, parse_labels
from ._kubetable import table, wants_table
from ._kubewatch import Event, Subscription, WatchHub

Object = dict[str, Any]
NOT_ALLOWED = "the server does not allow this method on the requested resource"


def json_body(req: Request) -> Any:
    media = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if req.body and media == "application/vnd.kubernetes.protobuf":
        return proto.decode(req.body)
    if req.body and media in ("application/cbor", "application/yaml"):
        raise KubeError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {media}")
    try:
        return json.loads(req.body or b"null")
    except ValueError as e:
        raise bad_request(f"the request body is not valid JSON: {e}") from None


def object_body(req: Request) -> Object:
    value = json_body(req)
    if not isinstance(value, dict):
        raise bad_request("the request body must be a JSON object")
    return value


@dataclass
class WatchStart:
    initial: list[Event]
    resource: Resource
    subscription: Subscription | None  # None: derived nodes, compared snapshot by snapshot
    labels: tuple[Requirement, ...]
    fields: tuple[FieldRequirement, ...]


class Verbs:
    def __init__(self, objects: KubeObjects, clusters: Clusters, watches: WatchHub, list_limit: int) -> None:
        self.objects = objects
        self.clusters = clusters
        self.watches = watches
        self.list_limit = list_limit

    def run(
        self,
        req: Request,
        cluster: Cluster,
        resource: Resource,
        verb: str,
        namespace: str | None,
        name: str | None,
        admit: Admit | None = None,
    ) -> Response | WatchStart:
        """``admit(new, old)``: a last check of a create's or update's object as it would be stored."""
        if resource.plural == "nodes" and cluster.derived_nodes and verb not in ("get", "list", "watch"):
            raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
        if resource.namespaced and namespace is None and verb not in ("list", "watch"):
            raise KubeError(405, "MethodNotAllowed", NOT_ALLOWED)
        ns = namespace or ""
        key = cluster.key
        if verb == "list":
            return self._list(req, cluster, resource, namespace)
        if verb == "watch":
            return self._watch(req, cluster, resource, namespace)
        if verb == "create":
            return Response(201, self.objects.create(key, resource, ns, object_body(req), admit=admit))
        if verb == "deletecollection":
            return self._delete_collection(req, cluster, resource, namespace)
        assert name is not None
        if verb == "get":
            return self._answer(req, resource, [self.get(cluster, resource, ns, name)], None)
        if verb == "update":
            return Response(200, self.objects.update(key, resource, ns, name, object_body(req), admit=admit))
        if verb == "patch":
            media = req.headers.get("content-type", "").split(";")[0].strip().lower()
            if media not in (MERGE, STRATEGIC, JSON_PATCH):
                raise KubeError(
                    415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {media}"
                )
            patched = apply_patch(media, self.get(cluster, resource, ns, name), json_body(req))
            if not isinstance(patched, dict):
                raise bad_request("the patched object is not a JSON object")
            return Response(200, self.objects.update(key, resource, ns, name, patched, admit=admit))
        options = json_body(req) if req.body else {}
        preconditions = options.get("preconditions") if isinstance(options, dict) else None
        self._deletable(cluster, resource, name)
        return Response(200, self.objects.delete(key, resource, ns, name, preconditions))

    # -- reads ---------------------------------------------------------------------------------------------

    def get(self, cluster: Cluster, resource: Resource, ns: str, name: str) -> Object:
        if resource.plural == "nodes" and cluster.derived_nodes:
            found = next((n for n in self.clusters.nodes(cluster) if n["metadata"]["name"] == name), None)
        else:
            found = self.objects.get(cluster.key, resource.plural, ns, name)
        if found is None:
            raise not_found(resource.qualified, name)
        return found

    def selectors(
        self, req: Request, resource: Resource
    ) -> tuple[tuple[Requirement, ...], tuple[FieldRequirement, ...]]:
        return parse_labels(req.query.get("labelselector", "")), parse_fields(
            req.query.get("fieldselector", ""), resource.fields
        )

    def _source(
        self, cluster: Cluster, resource: Resource, namespace: str | None, after: tuple[str, str] | None
    ) -> Iterable[Object]:
        if resource.plural == "nodes" and cluster.derived_nodes:
            return (n for n in self.clusters.nodes(cluster) if after is None or ("", n["metadata"]["name"]) > after)
        return self.objects.iterate(cluster.key, resource.plural, namespace, after)

    def _select(
        self,
        req: Request,
        cluster: Cluster,
        resource: Resource,
        namespace: str | None,
        after: tuple[str, str] | None,
        limit: int,
    ) -> tuple[list[Object], bool]:
        labels, fields = self.selectors(req, resource)
        items: list[Object] = []
        for obj in self._source(cluster, resource, namespace, after):
            if labels_match(labels, obj) and fields_match(fields, obj):
                if len(items) == limit:
                    return items, True
                items.append(obj)
        return items, False

    def _list(self, req: Request, cluster: Cluster, resource: Resource, namespace: str | None) -> Response:
        try:
            limit = int(req.query.get("limit") or self.list_limit)
        except ValueError:
            raise bad_request(f"invalid limit {req.query.get('limit')!r}") from None
        limit = self.list_limit if limit <= 0 else min(limit, self.list_limit)
        after = None
        if req.query.get("continue"):
            try:
                key = json.loads(base64.urlsafe_b64decode(req.query["continue"]))
                after = (str(key[0]), str(key[1]))
            except (ValueError, TypeError, IndexError, KeyError, binascii.Error):
                raise bad_request("continue key is not valid") from None
        items, more = self._select(req, cluster, resource, namespace, after, limit)
        list_meta: Object = {"resourceVersion": self.objects.resource_version()}
        if more and items:
            last = items[-1]["metadata"]
            token = json.dumps([last.get("namespace", "") if resource.namespaced else "", last["name"]])
            list_meta["continue"] = base64.urlsafe_b64encode(token.encode()).decode()
        return self._answer(req, resource, items, list_meta)

    @staticmethod
    def list_body(resource: Resource, items: list[Object], list_meta: Object) -> Object:
        return {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.api_version,
            "metadata": list_meta,
            "items": items,
        }

    def _answer(self, req: Request, resource: Resource, items: list[Object], list_meta: Object | None) -> Response:
        """A list (``list_meta`` set) or one object, as JSON or as the Table kubectl asks for."""
        if wants_table(req.headers.get("accept", "")):
            include = req.query.get("includeobject", "Metadata")
            meta = list_meta or {"resourceVersion": items[0]["metadata"].get("resourceVersion", "")}
            return Response(200, table(resource.plural, items, meta, include))
        if list_meta is None:
            return Response(200, items[0])
        return Response(200, self.list_body(resource, items, list_meta))

    # -- deletes -------------------------------------------------------------------------------------------

    @staticmethod
    def _deletable(cluster: Cluster, resource: Resource, name: str) -> None:
        if resource.plural == "namespaces" and name in cluster.implicit_namespaces:
            raise KubeError(
                403,
                "Forbidden",
                f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                name=name,
                kind="namespaces",
            )

    def _delete_collection(self, req: Request, cluster: Cluster, resource: Resource, namespace: str | None) -> Response:
        items = self._select(req, cluster, resource, namespace, None, self.list_limit)[0]
        for obj in items:
            name = obj["metadata"]["name"]
            self._deletable(cluster, resource, name)
            self.objects.delete(cluster.key, resource, namespace or "", name)
        return Response(200, self.list_body(resource, items, {"resourceVersion": self.objects.resource_version()}))

    # -- watches -------------------------------------------------------------------------------------------

    def _watch(self, req: Request, cluster: Cluster, resource: Resource, namespace: str | None) -> WatchStart:
        labels, fields = self.selectors(req, resource)
        since = req.query.get("resourceversion", "")
        try:
            since_rv = int(since) if since else 0
        except ValueError:
            raise bad_request(f"invalid resourceVersion {since!r}") from None
        items = [
            o
            for o in self._source(cluster, resource, namespace, None)
            if labels_match(labels, o) and fields_match(fields, o)
        ]
        if resource.plural == "nodes" and cluster.derived_nodes:
            return WatchStart([("ADDED", o) for o in items] if not since_rv else [], resource, None, labels, fields)
        if not since_rv:
            initial: list[Event] = [("ADDED", o) for o in items]
        else:
            initial = [("MODIFIED", o) for o in items if int(o["metadata"].get("resourceVersion", "0")) > since_rv]
        sub = Subscription(cluster.key, resource.plural, namespace, labels, fields)
        self.watches.subscribe(sub)
        return WatchStart(initial, resource, sub, labels, fields)
