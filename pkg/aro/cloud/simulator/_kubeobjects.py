"""The stored Kubernetes objects of every simulated cluster, in the simulator's SQLite database.

One table, ``kube_objects``, keyed by (cluster, resource, namespace, name); cluster-scoped objects have
namespace ``''``. A cluster is a string key: ``classic:<resource group id>``, ``management`` or
``hosted:<management namespace>``. Every write takes the next value of one counter (``kube_rv``) as the
object's ``metadata.resourceVersion``; a list answers with the counter's current value.

What the server does on write, as the API server does it:

- create: ``uid``, ``creationTimestamp`` and ``resourceVersion`` are set (client values dropped);
  ``generateName`` gets 5 random characters; the namespace must exist; a new namespace gets a ``default``
  ServiceAccount.
- update: ``uid`` and ``creationTimestamp`` are kept; a ``resourceVersion`` (or ``uid``) in the body that
  is not the stored one is a 409 ``Conflict``; an update that changes nothing keeps the resourceVersion.
- delete: answers the object as it was; deleting a namespace deletes everything in it at once (there is
  no ``Terminating`` phase to wait through); ``purge`` forgets a whole cluster (``purge_hooks`` hear it).
- ``admit(new, old)`` (create, update): a last check of the object as it would be stored (RBAC's escalation
  check, ``_kuberbac``).
- pods are created ``Pending`` and turn ``Running`` (``_kuberesources.run_pod``) once the simulator's step
  delay has passed -- settled on the next read, nothing sleeps; except the pods the kubelet executes
  (``executes``, ``_kubelet``), whose status only the kubelet writes (``set_pod_status``).
- a Secret of type ``kubernetes.io/service-account-token`` gets ``data.token`` (base64 of a random opaque
  token, kept across updates) and ``data.namespace``; the token's SHA-256 is indexed, so the token
  authenticates as its service account until the secret is deleted.

Bounds: ``max_objects`` per cluster (a 403 ``Forbidden`` "exceeded quota" past it) and
``max_object_bytes`` per object (413). Watchers (``watch(fn)``) hear of every write and delete, inside the
same transaction (a rolled-back write was heard too: ``_kubewatch`` publishes on commit only). All methods
run on the store's database thread, inside ``Store.run``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ._kubeerrors import KubeError, already_exists, bad_request, not_found
from ._kuberesources import RESOURCES, SA_NAME_ANNOTATION, SA_TOKEN_TYPE, Resource, iso_seconds, meta, prepare, run_pod

Object = dict[str, Any]
Watcher = Callable[[str, str, str, Object], None]  # (cluster, resource, "ADDED" | "MODIFIED" | "DELETED", object)
Admit = Callable[[Object, Object | None], None]  # (the object as it would be stored, the stored one): raise to refuse

SCHEMA = """
CREATE TABLE IF NOT EXISTS kube_objects (
  cluster TEXT NOT NULL, resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  body TEXT NOT NULL, rv INTEGER NOT NULL, token TEXT, due REAL,
  PRIMARY KEY (cluster, resource, namespace, name));
CREATE INDEX IF NOT EXISTS kube_objects_token ON kube_objects(token) WHERE token IS NOT NULL;
CREATE INDEX IF NOT EXISTS kube_objects_due ON kube_objects(due) WHERE due IS NOT NULL;
CREATE INDEX IF NOT EXISTS kube_objects_ns ON kube_objects(cluster, namespace);
CREATE TABLE IF NOT EXISTS kube_rv (id INTEGER PRIMARY KEY CHECK (id = 1), rv INTEGER NOT NULL);
INSERT OR IGNORE INTO kube_rv VALUES (1, 1);
"""

_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class KubeObjects:
    def __init__(
        self,
        db: Callable[[], sqlite3.Connection],
        pod_start_seconds: Callable[[], float],
        max_objects: int,
        max_object_bytes: int,
    ) -> None:
        self._db = db
        self._pod_start_seconds = pod_start_seconds
        self.max_objects = max_objects
        self.max_object_bytes = max_object_bytes
        self._watchers: list[Watcher] = []
        self.purge_hooks: list[Callable[[str], None]] = []  # told of each purged cluster (database thread)
        self.executes: Callable[[Object], bool] = lambda pod: False  # the kubelet runs it: no fake start

    def watch(self, fn: Watcher) -> None:
        self._watchers.append(fn)

    @property
    def db(self) -> sqlite3.Connection:
        return self._db()

    # -- counters and settling ----------------------------------------------------------------------------

    def resource_version(self) -> str:
        return str(self.db.execute("SELECT rv FROM kube_rv WHERE id = 1").fetchone()[0])

    def _bump(self) -> int:
        (rv,) = self.db.execute("UPDATE kube_rv SET rv = rv + 1 WHERE id = 1 RETURNING rv").fetchone()
        return int(rv)

    def settle(self, now: float) -> None:
        """Start every pod whose start time has come (one look-up in a partial index when none has)."""
        rows = self.db.execute(
            "SELECT cluster, resource, namespace, name, body FROM kube_objects WHERE due IS NOT NULL AND due <= ?",
            (now,),
        ).fetchall()
        for row in rows:
            obj = json.loads(row["body"])
            run_pod(obj, now)
            self._write(row["cluster"], row["resource"], row["namespace"], row["name"], obj, None, None)

    def fail_pod(self, cluster: str, namespace: str, name: str, message: str) -> Object | None:
        """Fault injection: the pod's containers crashed (phase Failed, not ready); None when absent."""
        obj = self.get(cluster, "pods", namespace, name)
        if obj is None:
            return None
        status = obj.setdefault("status", {})
        status["phase"] = "Failed"
        status["reason"] = "Error"
        status["message"] = message
        for c in status.get("conditions") or []:
            if c.get("type") in ("Ready", "ContainersReady"):
                c["status"] = "False"
        for c in status.get("containerStatuses") or []:
            c["ready"] = False
            c["state"] = {"terminated": {"exitCode": 1, "reason": "Error", "message": message}}
        return self._write(cluster, "pods", namespace, name, obj, None, None)

    def set_pod_status(self, cluster: str, namespace: str, name: str, uid: str, status: Object) -> Object | None:
        """The kubelet's status write (watchers hear it); None when the pod is gone or was replaced."""
        obj = self.get(cluster, "pods", namespace, name)
        if obj is None or meta(obj).get("uid") != uid:
            return None
        obj["status"] = status
        return self._write(cluster, "pods", namespace, name, obj, None, None)

    # -- reads ----------------------------------------------------------------------------------------------

    def get(self, cluster: str, resource: str, namespace: str, name: str) -> Object | None:
        row = self.db.execute(
            "SELECT body FROM kube_objects WHERE cluster = ? AND resource = ? AND namespace = ? AND name = ?",
            (cluster, resource, namespace, name),
        ).fetchone()
        return None if row is None else dict(json.loads(row["body"]))

    def exists(self, cluster: str, resource: str, namespace: str, name: str) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM kube_objects WHERE cluster = ? AND resource = ? AND namespace = ? AND name = ?",
                (cluster, resource, namespace, name),
            ).fetchone()
            is not None
        )

    def iterate(
        self, cluster: str, resource: str, namespace: str | None, after: tuple[str, str] | None
    ) -> Iterator[Object]:
        """Objects in (namespace, name) order, optionally in one namespace, starting after a key."""
        sql = "SELECT body FROM kube_objects WHERE cluster = ? AND resource = ?"
        args: list[Any] = [cluster, resource]
        if namespace is not None:
            sql += " AND namespace = ?"
            args.append(namespace)
        if after is not None:
            sql += " AND (namespace > ? OR (namespace = ? AND name > ?))"
            args += [after[0], after[0], after[1]]
        for row in self.db.execute(sql + " ORDER BY namespace, name", args):
            yield json.loads(row["body"])

    def token_owner(self, cluster: str, token: str) -> tuple[str, str] | None:
        """(namespace, service account) of the service-account token secret holding ``token``."""
        row = self.db.execute(
            "SELECT namespace, body FROM kube_objects WHERE token = ? AND cluster = ? AND resource = 'secrets'",
            (token_hash(token), cluster),
        ).fetchone()
        if row is None:
            return None
        annotations = meta(json.loads(row["body"])).get("annotations") or {}
        return str(row["namespace"]), str(annotations.get(SA_NAME_ANNOTATION, ""))

    # -- writes ---------------------------------------------------------------------------------------------

    def _write(
        self,
        cluster: str,
        resource: str,
        namespace: str,
        name: str,
        obj: Object,
        token: str | None,
        due: float | None,
        event: str = "MODIFIED",
    ) -> Object:
        rv = self._bump()
        meta(obj)["resourceVersion"] = str(rv)
        body = json.dumps(obj, separators=(",", ":"))
        if len(body) > self.max_object_bytes:
            raise KubeError(413, "RequestEntityTooLarge", f"the object is larger than {self.max_object_bytes} bytes")
        self.db.execute(
            "INSERT INTO kube_objects (cluster, resource, namespace, name, body, rv, token, due)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cluster, resource, namespace, name) DO UPDATE SET"
            " body = excluded.body, rv = excluded.rv, token = COALESCE(excluded.token, token), due = excluded.due",
            (cluster, resource, namespace, name, body, rv, token, due),
        )
        for fn in self._watchers:
            fn(cluster, resource, event, obj)
        return obj

    def create(
        self,
        cluster: str,
        res: Resource,
        namespace: str,
        obj: Object,
        now: float | None = None,
        admit: Admit | None = None,
    ) -> Object:
        now = time.time() if now is None else now
        obj = copy.deepcopy(obj)
        m = obj.setdefault("metadata", {})
        if isinstance(m, dict) and not m.get("name") and isinstance(m.get("generateName"), str):
            m["name"] = m["generateName"] + "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(5))
        ns = namespace if res.namespaced else ""
        obj = prepare(res, obj, None, ns, None)
        m = meta(obj)
        name = str(m["name"])
        if res.namespaced and not self.exists(cluster, "namespaces", "", ns):
            raise not_found("namespaces", ns)
        if self.exists(cluster, res.plural, ns, name):
            raise already_exists(res.qualified, name)
        if admit is not None:
            admit(obj, None)
        (count,) = self.db.execute("SELECT COUNT(*) FROM kube_objects WHERE cluster = ?", (cluster,)).fetchone()
        if count >= self.max_objects:
            raise KubeError(
                403,
                "Forbidden",
                f'{res.qualified} "{name}" is forbidden: exceeded quota: {self.max_objects} objects per cluster',
                name=name,
                kind=res.plural,
            )
        for key in ("resourceVersion", "deletionTimestamp", "selfLink", "managedFields"):
            m.pop(key, None)
        m["uid"] = str(uuid.uuid4())
        m["creationTimestamp"] = iso_seconds(now)
        token = None
        if res.plural == "secrets" and obj.get("type") == SA_TOKEN_TYPE:
            raw = secrets.token_urlsafe(32)
            token = token_hash(raw)
            obj.setdefault("data", {})
            obj["data"]["token"] = base64.b64encode(raw.encode()).decode()
            obj["data"]["namespace"] = base64.b64encode(ns.encode()).decode()
        due = now + self._pod_start_seconds() if res.plural == "pods" and not self.executes(obj) else None
        out = self._write(cluster, res.plural, ns, name, obj, token, due, "ADDED")
        if res.plural == "namespaces":
            self.create(cluster, RESOURCES["serviceaccounts"], name, {"metadata": {"name": "default"}}, now)
        return out

    def ensure_namespace(self, cluster: str, name: str) -> None:
        if not self.exists(cluster, "namespaces", "", name):
            self.create(cluster, RESOURCES["namespaces"], "", {"metadata": {"name": name}})

    def update(
        self, cluster: str, res: Resource, namespace: str, name: str, obj: Object, admit: Admit | None = None
    ) -> Object:
        ns = namespace if res.namespaced else ""
        given = meta(obj).get("name")
        if given != name:
            raise bad_request(f"the name of the object ({given}) does not match the name on the URL ({name})")
        old = self.get(cluster, res.plural, ns, name)
        if old is None:
            raise not_found(res.qualified, name)
        obj = prepare(res, copy.deepcopy(obj), old, ns, name)
        m, old_m = meta(obj), meta(old)
        for key, what in (("resourceVersion", "the object has been modified"), ("uid", "the UID does not match")):
            if m.get(key) not in (None, "", old_m.get(key)):
                raise KubeError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {res.qualified} "{name}": {what}; please apply your changes '
                    "to the latest version and try again",
                    name=name,
                    kind=res.plural,
                )
        m["uid"], m["creationTimestamp"] = old_m.get("uid"), old_m.get("creationTimestamp")
        m["resourceVersion"] = old_m.get("resourceVersion")
        for key in ("deletionTimestamp", "managedFields", "selfLink"):
            m.pop(key, None)
        if res.plural == "secrets" and old.get("type") == SA_TOKEN_TYPE:
            obj.setdefault("data", {}).update(
                {k: v for k, v in (old.get("data") or {}).items() if k in ("token", "namespace")}
            )
        if obj == old:
            return old
        if admit is not None:
            admit(obj, old)
        due = None
        if res.plural == "pods" and (old.get("status") or {}).get("phase") == "Pending":
            row = self.db.execute(
                "SELECT due FROM kube_objects WHERE cluster = ? AND resource = 'pods' AND namespace = ? AND name = ?",
                (cluster, ns, name),
            ).fetchone()
            due = row["due"] if row is not None else None
        return self._write(cluster, res.plural, ns, name, obj, None, due)

    def delete(
        self, cluster: str, res: Resource, namespace: str, name: str, preconditions: Object | None = None
    ) -> Object:
        ns = namespace if res.namespaced else ""
        old = self.get(cluster, res.plural, ns, name)
        if old is None:
            raise not_found(res.qualified, name)
        for key in ("uid", "resourceVersion"):
            want = (preconditions or {}).get(key)
            if want not in (None, "") and want != meta(old).get(key):
                raise KubeError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {res.qualified} "{name}": Precondition failed: {key} in '
                    f"precondition: {want}, {key} in object meta: {meta(old).get(key)}",
                    name=name,
                    kind=res.plural,
                )
        self.db.execute(
            "DELETE FROM kube_objects WHERE cluster = ? AND resource = ? AND namespace = ? AND name = ?",
            (cluster, res.plural, ns, name),
        )
        contents: list[tuple[str, Object]] = []
        if res.plural == "namespaces":
            rows = self.db.execute(
                "DELETE FROM kube_objects WHERE cluster = ? AND namespace = ? RETURNING resource, body", (cluster, name)
            ).fetchall()
            contents = [(str(r["resource"]), json.loads(r["body"])) for r in rows]
            old.setdefault("status", {})["phase"] = "Terminating"
            meta(old)["deletionTimestamp"] = iso_seconds(time.time())
        self._bump()
        for fn in self._watchers:
            for resource, obj in contents:
                fn(cluster, resource, "DELETED", obj)
            fn(cluster, res.plural, "DELETED", old)
        return old

    def purge(self, cluster: str) -> None:
        """Forget a whole cluster (its resource group or its management namespace is gone)."""
        self.db.execute("DELETE FROM kube_objects WHERE cluster = ?", (cluster,))
        for hook in self.purge_hooks:
            hook(cluster)

    def all_of(self, cluster: str, resource: str, name: str) -> Iterator[tuple[str, Object]]:
        """(namespace, object) of every object named ``name`` of a resource, in every namespace."""
        rows = self.db.execute(
            "SELECT namespace, body FROM kube_objects WHERE cluster = ? AND resource = ? AND name = ?",
            (cluster, resource, name),
        )
        for row in rows:
            yield str(row["namespace"]), json.loads(row["body"])
