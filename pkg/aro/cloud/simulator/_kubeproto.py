"""Request bodies in the Kubernetes protobuf encoding (``application/vnd.kubernetes.protobuf``), decoded to
the JSON form the rest of the server works with.

kubectl 1.32's typed commands (``create configmap|secret|serviceaccount|namespace``, ``create
role|rolebinding|clusterrole|clusterrolebinding``, ``auth whoami``, ``auth can-i``) send protobuf, and
client-go does not fall back to JSON on a 415. The envelope is the magic ``k8s\\x00`` and a
``runtime.Unknown`` (typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType =
4); ``raw`` is the object. The field numbers below are those of the ``generated.proto`` of k8s.io/api
(core/v1, rbac/v1, authentication/v1, authorization/v1) and k8s.io/apimachinery (meta/v1), for the kinds
kubectl sends so and the fields they carry; unknown fields are skipped, zero values dropped (as the JSON
form omits them). Other kinds are a 415 (kubectl sends them as JSON).
Responses are always JSON (kubectl accepts both).
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from ._kubeerrors import KubeError, bad_request

MAGIC = b"k8s\x00"
Schema = dict[int, tuple[str, Any]]  # field number -> (JSON name, kind)


def _time(fields: dict[int, list[Any]]) -> str | None:
    seconds = _varint_value(fields.get(1, [0])[-1])
    if not seconds:
        return None  # the zero time is null in JSON
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_OWNER: Schema = {
    1: ("kind", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("controller", "bool"),
    7: ("blockOwnerDeletion", "bool"),
}
_META: Schema = {
    1: ("name", "string"),
    2: ("generateName", "string"),
    3: ("namespace", "string"),
    5: ("uid", "string"),
    6: ("resourceVersion", "string"),
    7: ("generation", "int"),
    8: ("creationTimestamp", "time"),
    11: ("labels", ("map", "string")),
    12: ("annotations", ("map", "string")),
    13: ("ownerReferences", ("repeated", _OWNER)),
    14: ("finalizers", ("repeated", "string")),
}
_OBJECT_REFERENCE: Schema = {
    1: ("kind", "string"),
    2: ("namespace", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("resourceVersion", "string"),
    7: ("fieldPath", "string"),
}
_RESOURCE_ATTRIBUTES: Schema = {
    1: ("namespace", "string"),
    2: ("verb", "string"),
    3: ("group", "string"),
    4: ("version", "string"),
    5: ("resource", "string"),
    6: ("subresource", "string"),
    7: ("name", "string"),
}
_POLICY_RULE: Schema = {
    1: ("verbs", ("repeated", "string")),
    2: ("apiGroups", ("repeated", "string")),
    3: ("resources", ("repeated", "string")),
    4: ("resourceNames", ("repeated", "string")),
    5: ("nonResourceURLs", ("repeated", "string")),
}
_SUBJECT: Schema = {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"), 4: ("namespace", "string")}
_ROLE_REF: Schema = {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")}
_LABEL_SELECTOR: Schema = {1: ("matchLabels", ("map", "string"))}
_RBAC = "rbac.authorization.k8s.io/v1"
KINDS: dict[tuple[str, str], Schema] = {  # (apiVersion, kind) -> schema
    ("v1", "ConfigMap"): {
        1: ("metadata", _META),
        2: ("data", ("map", "string")),
        3: ("binaryData", ("map", "bytes")),
        4: ("immutable", "bool"),
    },
    ("v1", "Secret"): {
        1: ("metadata", _META),
        2: ("data", ("map", "bytes")),
        3: ("type", "string"),
        4: ("stringData", ("map", "string")),
        5: ("immutable", "bool"),
    },
    ("v1", "ServiceAccount"): {
        1: ("metadata", _META),
        2: ("secrets", ("repeated", _OBJECT_REFERENCE)),
        3: ("imagePullSecrets", ("repeated", {1: ("name", "string")})),
        4: ("automountServiceAccountToken", "bool"),
    },
    ("v1", "Namespace"): {
        1: ("metadata", _META),
        2: ("spec", {1: ("finalizers", ("repeated", "string"))}),
    },
    (_RBAC, "Role"): {1: ("metadata", _META), 2: ("rules", ("repeated", _POLICY_RULE))},
    (_RBAC, "ClusterRole"): {
        1: ("metadata", _META),
        2: ("rules", ("repeated", _POLICY_RULE)),
        3: ("aggregationRule", {1: ("clusterRoleSelectors", ("repeated", _LABEL_SELECTOR))}),
    },
    (_RBAC, "RoleBinding"): {
        1: ("metadata", _META),
        2: ("subjects", ("repeated", _SUBJECT)),
        3: ("roleRef", _ROLE_REF),
    },
    (_RBAC, "ClusterRoleBinding"): {
        1: ("metadata", _META),
        2: ("subjects", ("repeated", _SUBJECT)),
        3: ("roleRef", _ROLE_REF),
    },
    ("authentication.k8s.io/v1", "SelfSubjectReview"): {1: ("metadata", _META)},
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): {
        1: ("metadata", _META),
        2: (
            "spec",
            {
                1: ("resourceAttributes", _RESOURCE_ATTRIBUTES),
                2: ("nonResourceAttributes", {1: ("path", "string"), 2: ("verb", "string")}),
            },
        ),
    },
}


def _varint_value(value: Any) -> int:
    return int(value) if isinstance(value, int) else 0


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise bad_request("the protobuf body is truncated")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> dict[int, list[Any]]:
    """Field number -> the values (ints for varints, bytes for length-delimited) in order."""
    out: dict[int, list[Any]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value: Any
            value, pos = _read_varint(data, pos)
        elif wire == 2:
            size, pos = _read_varint(data, pos)
            if pos + size > len(data):
                raise bad_request("the protobuf body is truncated")
            value, pos = data[pos : pos + size], pos + size
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise bad_request(f"unsupported protobuf wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _scalar(kind: Any, value: Any) -> Any:
    if kind == "string":
        return bytes(value).decode() if isinstance(value, bytes) else ""
    if kind == "bytes":
        return base64.b64encode(value if isinstance(value, bytes) else b"").decode()
    if kind == "bool":
        return bool(_varint_value(value))
    if kind == "int":
        return _varint_value(value)
    if kind == "time":
        return _time(_fields(value)) if isinstance(value, bytes) else None
    if isinstance(kind, dict):
        return _message(value if isinstance(value, bytes) else b"", kind)
    raise bad_request(f"unsupported protobuf field kind {kind!r}")


def _message(data: bytes, schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, values in _fields(data).items():
        if number not in schema:
            continue
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            entries = {}
            for entry in values:
                f = _fields(entry)
                entries[_scalar("string", f.get(1, [b""])[-1])] = _scalar(kind[1], f.get(2, [b""])[-1])
            out[name] = entries
        elif isinstance(kind, tuple) and kind[0] == "repeated":
            out[name] = [_scalar(kind[1], v) for v in values]
        else:
            out[name] = _scalar(kind, values[-1])
        if out[name] in ("", 0, False, None, [], {}):
            del out[name]  # proto2 sends zero values; the JSON form omits them (omitempty)
    return out


def decode(body: bytes) -> dict[str, Any]:
    """A protobuf-encoded object as JSON; 415 for a kind this server does not decode."""
    if not body.startswith(MAGIC):
        raise bad_request("the protobuf body lacks the k8s envelope")
    unknown = _fields(body[len(MAGIC) :])
    type_meta = _message(unknown.get(1, [b""])[-1], {1: ("apiVersion", "string"), 2: ("kind", "string")})
    key = (str(type_meta.get("apiVersion", "")), str(type_meta.get("kind", "")))
    if key not in KINDS:
        raise KubeError(
            415, "UnsupportedMediaType", f"protobuf is not supported for {key[1] or 'this kind'}; send JSON"
        )
    obj = _message(unknown.get(2, [b""])[-1], KINDS[key])
    return {"apiVersion": key[0], "kind": key[1], **obj}
