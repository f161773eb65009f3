"""The core/v1 kinds the cluster API serves, and what the server does to an object of each kind on write.

- ``nodes`` (Node, cluster-scoped, ``no``): derived (read-only) on classic and hosted clusters, stored on
  the management cluster;
- ``namespaces`` (Namespace, cluster-scoped, ``ns``): ``status.phase: Active``; a new namespace gets a
  ``default`` service account;
- ``pods`` (Pod, ``po``): needs ``spec.containers``; ``status`` is the server's -- ``Pending``, then
  ``Running``; only container images may change on update;
- ``configmaps`` (ConfigMap, ``cm``): ``data`` strings, ``binaryData`` base64;
- ``secrets`` (Secret): ``stringData`` folds into ``data``; ``type`` defaults to ``Opaque`` and is
  immutable; a service-account token secret needs the ``kubernetes.io/service-account.name`` annotation;
- ``serviceaccounts`` (ServiceAccount, ``sa``).

Discovery also lists the ``pods/log`` subresource (``_kubelogs``). A ``Resource`` of another group (the RBAC
kinds, ``_kuberbac``) carries its ``group``: its ``apiVersion`` is ``<group>/v1``.

Names are DNS-1123 subdomains (namespaces: DNS-1123 labels); label keys and values, and annotation keys,
are validated as the API server does. ``prepare(resource, new, old)`` applies all of that and returns the
object to store (``old`` is None on create).
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._kubeerrors import bad_request, invalid
from ._kubeselect import COMMON_FIELDS, FieldGetter

Object = dict[str, Any]

SA_TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
STORED_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update")
DERIVED_VERBS = ("get", "list")


def iso_seconds(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def meta(obj: Object) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


@dataclass(frozen=True)
class Resource:
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...]
    prepare: Callable[[Object, Object | None], None]  # kind-specific defaulting and validation, in place
    fields: Mapping[str, FieldGetter] = field(default_factory=lambda: COMMON_FIELDS)
    group: str = ""  # the API group ("" = core)
    path_segment_names: bool = False  # names are path segments (RBAC: ``system:controller:x``), not DNS names

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/v1" if self.group else "v1"

    @property
    def qualified(self) -> str:
        """``roles.rbac.authorization.k8s.io`` (core: the plural), as the API server names it in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


# -- kind-specific rules ----------------------------------------------------------------------------------


def _no_rules(new: Object, old: Object | None) -> None:
    return None


def _namespace(new: Object, old: Object | None) -> None:
    new.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    new["status"] = old["status"] if old is not None and "status" in old else {"phase": "Active"}


def _string_map(kind: str, name: str, path: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(kind, name, path, "must be an object of strings")
    for k, v in value.items():
        if not _DATA_KEY.match(k):
            raise invalid(
                kind, name, f"{path}[{k}]", "a valid config key must consist of alphanumerics, '-', '_' or '.'"
            )
        if not isinstance(v, str):
            raise invalid(kind, name, f"{path}[{k}]", "must be a string")
    return value


def _base64_map(kind: str, name: str, path: str, value: Any) -> dict[str, str]:
    out = _string_map(kind, name, path, value)
    for k, v in out.items():
        try:
            base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raise invalid(kind, name, f"{path}[{k}]", "must be base64 encoded") from None
    return out


def _configmap(new: Object, old: Object | None) -> None:
    name = meta(new).get("name", "")
    data = _string_map("ConfigMap", name, "data", new.get("data"))
    binary = _base64_map("ConfigMap", name, "binaryData", new.get("binaryData"))
    both = set(data) & set(binary)
    if both:
        raise invalid("ConfigMap", name, "data", f"duplicate of key {sorted(both)[0]!r} in binaryData")


def _secret(new: Object, old: Object | None) -> None:
    name = meta(new).get("name", "")
    data = dict(_base64_map("Secret", name, "data", new.get("data")))
    for k, v in _string_map("Secret", name, "stringData", new.pop("stringData", None)).items():
        data[k] = base64.b64encode(v.encode()).decode()
    if data or "data" in new:
        new["data"] = data
    new.setdefault("type", "Opaque")
    if not isinstance(new["type"], str) or not new["type"]:
        raise invalid("Secret", name, "type", "must be a non-empty string")
    if old is not None and new["type"] != old.get("type", "Opaque"):
        raise invalid("Secret", name, "type", "field is immutable")
    if new["type"] == SA_TOKEN_TYPE and not (meta(new).get("annotations") or {}).get(SA_NAME_ANNOTATION):
        raise invalid("Secret", name, f"metadata.annotations[{SA_NAME_ANNOTATION}]", "Required value")


def _pod(new: Object, old: Object | None) -> None:
    name = meta(new).get("name", "")
    spec = new.get("spec")
    if not isinstance(spec, dict):
        raise invalid("Pod", name, "spec", "Required value")
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        raise invalid("Pod", name, "spec.containers", "Required value")
    for i, c in enumerate(containers):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not _LABEL.match(c["name"]):
            raise invalid("Pod", name, f"spec.containers[{i}].name", "a DNS-1123 label is required")
        if not isinstance(c.get("image"), str) or not c["image"]:
            raise invalid("Pod", name, f"spec.containers[{i}].image", "Required value")
    for key, default in (
        ("restartPolicy", "Always"),
        ("dnsPolicy", "ClusterFirst"),
        ("serviceAccountName", "default"),
        ("schedulerName", "default-scheduler"),
        ("terminationGracePeriodSeconds", 30),
    ):
        spec.setdefault(key, default)
    if old is None:
        new["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        return

    def without_images(s: Any) -> Any:
        s = copy.deepcopy(s)
        for c in s.get("containers", []) if isinstance(s, dict) else []:
            if isinstance(c, dict):
                c.pop("image", None)
        return s

    if without_images(spec) != without_images(old.get("spec")):
        raise invalid("Pod", name, "spec", "Forbidden: pod updates may not change fields other than container images")
    new["status"] = old.get("status", {})


def run_pod(pod: Object, now: float) -> None:
    """A scheduled pod's status once its containers are up: ``Running``, every container ready."""
    started = iso_seconds(now)
    spec = pod.get("spec") or {}
    conditions = [
        {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}
        for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    pod["status"] = {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": "10.0.0.10",
        "podIP": "10.128.0.10",
        "startTime": started,
        "qosClass": (pod.get("status") or {}).get("qosClass", "BestEffort"),
        "containerStatuses": [
            {
                "name": c.get("name", ""),
                "image": c.get("image", ""),
                "imageID": "",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": started}},
            }
            for c in spec.get("containers") or []
            if isinstance(c, dict)
        ],
    }


def _field(path: str) -> FieldGetter:
    keys = path.split(".")

    def get(obj: Object) -> str:
        value: Any = obj
        for k in keys:
            value = value.get(k) if isinstance(value, dict) else None
        return "" if value is None else str(value)

    return get


RESOURCES: dict[str, Resource] = {
    r.plural: r
    for r in (
        Resource(
            "nodes",
            "Node",
            False,
            ("no",),
            _no_rules,
            {**COMMON_FIELDS, "spec.unschedulable": _field("spec.unschedulable")},
        ),
        Resource(
            "namespaces",
            "Namespace",
            False,
            ("ns",),
            _namespace,
            {**COMMON_FIELDS, "status.phase": _field("status.phase")},
        ),
        Resource(
            "pods",
            "Pod",
            True,
            ("po",),
            _pod,
            {**COMMON_FIELDS, "status.phase": _field("status.phase"), "spec.nodeName": _field("spec.nodeName")},
        ),
        Resource("configmaps", "ConfigMap", True, ("cm",), _configmap),
        Resource("secrets", "Secret", True, (), _secret, {**COMMON_FIELDS, "type": _field("type")}),
        Resource("serviceaccounts", "ServiceAccount", True, ("sa",), _no_rules),
    )
}


def prepare(resource: Resource, new: Object, old: Object | None, namespace: str, name: str | None) -> Object:
    """Check the generic fields (kind, apiVersion, name, namespace, labels, annotations) and apply the kind's
    rules. ``name`` is the name in the URL (None on create); returns the object (``new``, normalised)."""
    if new.get("kind") not in (None, "", resource.kind):
        raise bad_request(f"the kind of the provided object ({new.get('kind')}) does not match {resource.kind}")
    if new.get("apiVersion") not in (None, "", resource.api_version):
        raise bad_request(
            f"the API version in the data ({new.get('apiVersion')}) does not match {resource.api_version}"
        )
    new["kind"], new["apiVersion"] = resource.kind, resource.api_version
    m = new.get("metadata")
    if not isinstance(m, dict):
        raise bad_request("the object has no metadata")
    obj_name = m.get("name")
    if name is not None and obj_name != name:
        raise bad_request(f"the name of the object ({obj_name}) does not match the name on the URL ({name})")
    pattern, limit = (_LABEL, 63) if resource.plural == "namespaces" else (_SUBDOMAIN, 253)
    if not isinstance(obj_name, str) or not obj_name:
        raise invalid(resource.kind, "", "metadata.name", "Required value: name or generateName is required")
    if resource.path_segment_names:
        bad = next((c for c in ("/", "%") if c in obj_name), None)
        if obj_name in (".", "..") or bad is not None or len(obj_name) > limit:
            why = f"may not contain {bad!r}" if bad else f"may not be {obj_name!r} or longer than {limit} characters"
            raise invalid(resource.kind, obj_name, "metadata.name", f"Invalid value: {obj_name!r}: {why}")
    elif len(obj_name) > limit or not pattern.match(obj_name):
        raise invalid(
            resource.kind,
            obj_name,
            "metadata.name",
            f"Invalid value: {obj_name!r}: a lowercase RFC 1123 {'label' if limit == 63 else 'subdomain'} is required",
        )
    if resource.namespaced:
        if m.get("namespace") not in (None, "", namespace):
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        m["namespace"] = namespace
    else:
        m.pop("namespace", None)
    for key in ("labels", "annotations"):
        value = m.get(key)
        if value is None:
            m.pop(key, None)
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise invalid(resource.kind, obj_name, f"metadata.{key}", "must be an object of strings")
        for k, v in value.items():
            if not _QUALIFIED.match(k):
                raise invalid(resource.kind, obj_name, f"metadata.{key}", f"Invalid value: {k!r}: not a qualified name")
            if key == "labels" and not _LABEL_VALUE.match(v):
                raise invalid(resource.kind, obj_name, "metadata.labels", f"Invalid value: {v!r}: not a label value")
    if sum(len(k) + len(v) for k, v in (m.get("annotations") or {}).items()) > 256 * 1024:
        raise invalid(resource.kind, obj_name, "metadata.annotations", "Too long: must have at most 262144 bytes")
    resource.prepare(new, old)
    return new


# -- discovery --------------------------------------------------------------------------------------------


def api_versions(server_address: str) -> Object:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_resource_list(nodes_derived: bool) -> Object:
    resources = []
    for r in RESOURCES.values():
        verbs = DERIVED_VERBS if nodes_derived and r.plural == "nodes" else STORED_VERBS
        entry: Object = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        resources.append(entry)
        if r.plural == "pods":  # the subresource kubectl logs reads
            resources.append(
                {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]}
            )
    return {"kind": "APIResourceList", "groupVersion": "v1", "resources": resources}
