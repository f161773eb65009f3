"""The kubeconfig edits of `aro backplane login|logout|project`, made so that logout undoes login exactly.

Where: the first file of ``$KUBECONFIG``, else ``~/.kube/config`` (created when absent); ``--multi`` writes
``~/.kube/<clusterId>/config`` instead. Read and written as YAML (PyYAML ``safe_load``/``safe_dump``),
atomically (a temporary file renamed over it), mode 0600, under kubectl's own lock (``<file>.lock``).

What login adds, for cluster id ``<id>`` (names chosen unique per cluster; the display name is in the
context's extension and in the messages)::

    clusters:  - name: <id>             server: <backplane URL>/backplane/cluster/<id>/
                                        certificate-authority: <CA file>  (when one is configured)
                                        proxy-url: <proxy>                (when one is configured)
    users:     - name: aro-backplane    exec: <~/.kube/aro-token>, client.authentication.k8s.io/v1,
                                        interactiveMode: Never, env OCM_CONFIG=<the OCM config login used>
    contexts:  - name: <id>             cluster: <id>, user: aro-backplane, namespace: default (-n)
    current-context: <id>

Each entry carries the extension ``aro.backplane``: what marks it as login's (an entry of the same name
without it is never overwritten: login refuses), and in the context what logout restores -- the
current-context before login (``previousContext``; absent when there was none) and, for the first backplane
context of a file, how the file was (``file``: created by login, empty, which top-level keys were absent or
null). Logout removes the context, its cluster and the shared user once no context uses them, restores the
current-context, and when no backplane context remains the file's own shape (deleting a file login created).
Several logins stack: logging out of each restores the context that was current before it.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aro.cli.common import write_private
from aro.cli.errors import CliError, UsageError

MARK = "aro.backplane"
USER = "aro-backplane"
EXEC_API_VERSION = "client.authentication.k8s.io/v1"
TOKEN_SCRIPT = "aro-token"
DEFAULT_NAMESPACE = "default"
MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024
LOCK_TIMEOUT_SECONDS = 10.0
SERVER_PATH = re.compile(r"/backplane/cluster/([A-Za-z0-9]+)/?")
NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
LIST_KEYS = ("clusters", "contexts", "users")
_SET_IF_ABSENT = {"apiVersion": "v1", "kind": "Config"}
_KIND_OF = {"clusters": "cluster", "contexts": "context", "users": "user"}


# --- where -----------------------------------------------------------------------------------------------


def home_of(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def kube_dir(env: Mapping[str, str]) -> Path:
    return home_of(env) / ".kube"


def kubeconfig_paths(env: Mapping[str, str]) -> list[Path]:
    """kubectl's files: ``$KUBECONFIG`` (a path list), else ``~/.kube/config``."""
    listed = [Path(p).expanduser() for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [kube_dir(env) / "config"]


def kubeconfig_path(env: Mapping[str, str]) -> Path:
    """The file login writes: the first of ``$KUBECONFIG``, else ``~/.kube/config``."""
    return kubeconfig_paths(env)[0]


def multi_path(env: Mapping[str, str], cluster_id: str, base: Path | None = None) -> Path:
    """``--multi``: ``~/.kube/<clusterId>/config`` (``--kube-path DIR``: ``DIR/<clusterId>/config``)."""
    return (base if base is not None else kube_dir(env)) / cluster_id / "config"


def token_script_path(env: Mapping[str, str]) -> Path:
    return kube_dir(env) / TOKEN_SCRIPT


def known_kubeconfigs(env: Mapping[str, str]) -> list[Path]:
    """Every file a backplane context may be in: ``$KUBECONFIG``'s, ``~/.kube/config``, ``~/.kube/*/config``."""
    found = [*kubeconfig_paths(env), kube_dir(env) / "config"]
    with contextlib.suppress(OSError):
        found += sorted(p for p in kube_dir(env).glob("*/config") if p.is_file())
    out: list[Path] = []
    for p in found:
        if p not in out:
            out.append(p)
    return out


# --- the file --------------------------------------------------------------------------------------------


@dataclass
class Kubeconfig:
    """One read of a kubeconfig file: ``doc`` is its YAML (None: absent or empty)."""

    path: Path
    doc: Any
    existed: bool

    @classmethod
    def read(cls, path: Path) -> Kubeconfig:
        try:
            with path.open("rb") as f:
                raw = f.read(MAX_KUBECONFIG_BYTES + 1)
        except FileNotFoundError:
            return cls(path, None, False)
        except OSError as e:
            raise CliError(f"cannot read the kubeconfig {path}: {e.strerror or e}") from None
        if len(raw) > MAX_KUBECONFIG_BYTES:
            raise UsageError(f"the kubeconfig {path} is larger than {MAX_KUBECONFIG_BYTES} bytes")
        try:
            doc = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise UsageError(f"the kubeconfig {path} is not valid YAML: {e}") from None
        if doc is not None and not isinstance(doc, dict):
            raise UsageError(f"the kubeconfig {path} is not a mapping (apiVersion, clusters, contexts, users)")
        for key in LIST_KEYS:
            if isinstance(doc, dict) and doc.get(key) is not None and not isinstance(doc[key], list):
                raise UsageError(f"the kubeconfig {path} is not valid: {key!r} is not a list")
        return cls(path, doc, True)


@contextlib.contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """kubectl's lock of a kubeconfig (client-go creates ``<file>.lock`` exclusively while it writes)."""
    lock = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise CliError(f"cannot create {path.parent}: {e.strerror or e}") from None
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
            break
        except FileExistsError:
            if time.monotonic() >= deadline:
                raise CliError(
                    f"the kubeconfig {path} is locked ({lock} exists)",
                    f"if no kubectl or aro is writing it, remove {lock}",
                ) from None
            time.sleep(0.05)
        except OSError as e:
            raise CliError(f"cannot lock the kubeconfig {path}: {e.strerror or e}") from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)


def dump(doc: Any) -> str:
    if doc is None:
        return ""
    return str(yaml.safe_dump(doc, default_flow_style=False, sort_keys=False, allow_unicode=True))


def save(path: Path, doc: Any) -> None:
    write_private(path, dump(doc))


# --- entries ---------------------------------------------------------------------------------------------


def entries(doc: Any, key: str) -> list[dict[str, Any]]:
    """The named entries of ``clusters``/``contexts``/``users`` (entries that are not mappings skipped)."""
    value = doc.get(key) if isinstance(doc, dict) else None
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def find(doc: Any, key: str, name: str) -> dict[str, Any] | None:
    return next((e for e in entries(doc, key) if e.get("name") == name), None)


def body(entry: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """An entry's ``cluster``/``context``/``user`` mapping ({} when missing)."""
    value = entry.get(_KIND_OF[key]) if entry else None
    return value if isinstance(value, dict) else {}


def mark_of(entry: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    """Login's extension of an entry, or None when the entry is not login's."""
    for ext in body(entry, key).get("extensions") or []:
        if isinstance(ext, dict) and ext.get("name") == MARK:
            value = ext.get("extension")
            return value if isinstance(value, dict) else {}
    return None


def backplane_contexts(doc: Any) -> list[dict[str, Any]]:
    """The contexts login wrote."""
    return [e for e in entries(doc, "contexts") if mark_of(e, "contexts") is not None]


def cluster_id_of_server(server: Any) -> str | None:
    """backplane-cli's test of a backplane cluster: its server's path is ``/backplane/cluster/<id>/``."""
    if not isinstance(server, str):
        return None
    m = SERVER_PATH.search(server)
    return m.group(1) if m else None


def _marked(kind_body: dict[str, Any], extension: dict[str, Any]) -> dict[str, Any]:
    return {**kind_body, "extensions": [{"name": MARK, "extension": extension}]}


def _upsert(doc: dict[str, Any], key: str, entry: dict[str, Any]) -> None:
    items = doc.get(key)
    if not isinstance(items, list):
        items = doc[key] = []
    for i, e in enumerate(items):
        if isinstance(e, dict) and e.get("name") == entry["name"]:
            items[i] = entry
            return
    items.append(entry)


def _remove(doc: dict[str, Any], key: str, name: str) -> None:
    items = doc.get(key)
    if isinstance(items, list):
        doc[key] = [e for e in items if not (isinstance(e, dict) and e.get("name") == name)]


# --- login, logout, project --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    """What login writes for one cluster."""

    cluster_id: str
    cluster_name: str
    server: str  # backplane URL + proxy_uri
    exec_command: str  # the token script
    exec_env: Mapping[str, str]  # e.g. OCM_CONFIG
    namespace: str = DEFAULT_NAMESPACE
    ca_file: Path | None = None
    proxy_url: str | None = None

    @property
    def context(self) -> str:
        return self.cluster_id

    @property
    def cluster(self) -> str:
        return self.cluster_id


def check_namespace(namespace: str) -> str:
    if not NAMESPACE.match(namespace) or len(namespace) > 63:
        raise UsageError(f"{namespace[:80]!r} is not a valid namespace (RFC 1123: a-z, 0-9 and '-', at most 63)")
    return namespace


def _refuse_foreign(doc: Any, path: Path, key: str, name: str) -> None:
    entry = find(doc, key, name)
    if entry is not None and mark_of(entry, key) is None:
        raise UsageError(
            f"the kubeconfig {path} already has a {_KIND_OF[key]} named {name!r} that aro backplane did not write",
            f"rename or remove it (kubectl config delete-{_KIND_OF[key]} {name}), or log in with --multi",
        )


def _file_record(original: Any, existed: bool) -> dict[str, Any]:
    """How the file was before the first backplane login into it."""
    doc = original if isinstance(original, dict) else {}
    absent = [k for k in (*_SET_IF_ABSENT, *LIST_KEYS) if k not in doc]
    null = [k for k in LIST_KEYS if k in doc and doc[k] is None]
    return {"created": not existed, "empty": existed and original is None, "absentKeys": absent, "nullKeys": null}


def add_login(kc: Kubeconfig, login: Login) -> Any:
    """The document with login's cluster, user and context, the context current (``kc`` is not changed)."""
    check_namespace(login.namespace)
    for key, name in (("clusters", login.cluster), ("contexts", login.context), ("users", USER)):
        _refuse_foreign(kc.doc, kc.path, key, name)
    doc: dict[str, Any] = copy.deepcopy(kc.doc) if isinstance(kc.doc, dict) else {}

    mine = mark_of(find(doc, "contexts", login.context), "contexts")
    others = [mark_of(e, "contexts") or {} for e in backplane_contexts(doc) if e.get("name") != login.context]
    record: dict[str, Any] = {"clusterId": login.cluster_id, "clusterName": login.cluster_name}
    if mine is not None:  # logging in again: what to restore stays what it was
        record.update({k: v for k, v in mine.items() if k in ("previousContext", "file")})
    else:
        if "current-context" in doc:
            record["previousContext"] = doc["current-context"]
        inherited = next((o["file"] for o in others if isinstance(o.get("file"), dict)), None)
        record["file"] = copy.deepcopy(inherited) if inherited is not None else _file_record(kc.doc, kc.existed)
    if "file" not in record:
        record["file"] = _file_record(kc.doc, kc.existed)

    for key, value in _SET_IF_ABSENT.items():
        doc.setdefault(key, value)
    cluster: dict[str, Any] = {"server": login.server}
    if login.ca_file is not None:
        cluster["certificate-authority"] = str(login.ca_file)
    if login.proxy_url:
        cluster["proxy-url"] = login.proxy_url
    mark = {"clusterId": login.cluster_id, "clusterName": login.cluster_name}
    _upsert(doc, "clusters", {"name": login.cluster, "cluster": _marked(cluster, mark)})
    exec_: dict[str, Any] = {"apiVersion": EXEC_API_VERSION, "command": login.exec_command}
    if login.exec_env:
        exec_["env"] = [{"name": k, "value": v} for k, v in login.exec_env.items()]
    exec_.update(
        interactiveMode="Never",
        provideClusterInfo=False,
        installHint="the token comes from `aro token` (the aro CLI); log in with `aro login`",
    )
    _upsert(doc, "users", {"name": USER, "user": _marked({"exec": exec_}, {})})
    context = {"cluster": login.cluster, "user": USER, "namespace": login.namespace}
    _upsert(doc, "contexts", {"name": login.context, "context": _marked(context, record)})
    doc["current-context"] = login.context
    return doc


@dataclass(frozen=True)
class Removal:
    doc: Any  # what to write (None: an empty file)
    delete: bool  # the file was login's: delete it
    cluster_id: str
    cluster_name: str


def remove_login(kc: Kubeconfig, context_name: str) -> Removal:
    """The document without login's context ``context_name`` (UsageError when it is not login's)."""
    doc: dict[str, Any] = copy.deepcopy(kc.doc) if isinstance(kc.doc, dict) else {}
    entry = find(doc, "contexts", context_name)
    record = mark_of(entry, "contexts")
    if entry is None or record is None:
        raise UsageError(f"the context {context_name!r} of {kc.path} was not written by aro backplane login")
    ctx = body(entry, "contexts")
    _remove(doc, "contexts", context_name)
    used = {(body(e, "contexts").get("cluster"), body(e, "contexts").get("user")) for e in entries(doc, "contexts")}
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if isinstance(cluster_name, str) and mark_of(find(doc, "clusters", cluster_name), "clusters") is not None:
        if cluster_name not in {c for c, _ in used}:
            _remove(doc, "clusters", cluster_name)
    if isinstance(user_name, str) and mark_of(find(doc, "users", user_name), "users") is not None:
        if user_name not in {u for _, u in used}:
            _remove(doc, "users", user_name)

    # the contexts logged in after this one go back to what was current before it
    for other in backplane_contexts(doc):
        mark = mark_of(other, "contexts") or {}
        if mark.get("previousContext") == context_name:
            if "previousContext" in record:
                mark["previousContext"] = record["previousContext"]
            else:
                mark.pop("previousContext", None)
    if doc.get("current-context") == context_name:
        if "previousContext" in record:
            doc["current-context"] = record["previousContext"]
        else:
            doc.pop("current-context", None)

    delete = False
    file_record = record.get("file")
    if not backplane_contexts(doc) and isinstance(file_record, dict):
        for key in file_record.get("absentKeys") or []:
            if key in LIST_KEYS and doc.get(key) == []:
                del doc[key]
            elif key in _SET_IF_ABSENT and doc.get(key) == _SET_IF_ABSENT[key]:
                del doc[key]
        for key in file_record.get("nullKeys") or []:
            if key in LIST_KEYS and doc.get(key) == []:
                doc[key] = None
        if doc == {}:
            delete = bool(file_record.get("created"))
            if file_record.get("empty"):
                return Removal(None, False, str(record.get("clusterId", "")), str(record.get("clusterName", "")))
    cluster_id = str(record.get("clusterId") or "")
    return Removal(doc, delete, cluster_id, str(record.get("clusterName") or cluster_id))


def set_namespace(kc: Kubeconfig, context_name: str, namespace: str) -> Any:
    """The document with ``namespace`` in context ``context_name``."""
    check_namespace(namespace)
    doc = copy.deepcopy(kc.doc)
    entry = find(doc, "contexts", context_name)
    if entry is None:
        raise UsageError(f"the kubeconfig {kc.path} has no context {context_name!r}")
    if not isinstance(entry.get("context"), dict):
        entry["context"] = {}
    entry["context"]["namespace"] = namespace
    return doc


# --- the merged view (kubectl's: the first file that sets a thing wins) --------------------------------------


@dataclass(frozen=True)
class Current:
    """The current context as kubectl sees it, and the file that defines it."""

    context: str
    path: Path  # the file whose contexts define it
    cluster: str
    server: str | None
    namespace: str | None
    mark: dict[str, Any] | None  # login's extension, when login wrote it

    @property
    def cluster_id(self) -> str | None:
        """The backplane cluster id of its server, if it is a backplane cluster (backplane-cli's test)."""
        return cluster_id_of_server(self.server)


def current(env: Mapping[str, str]) -> Current:
    """The current context across ``$KUBECONFIG``'s files (UsageError when there is none)."""
    configs = [Kubeconfig.read(p) for p in kubeconfig_paths(env)]
    name = next(
        (kc.doc["current-context"] for kc in configs if isinstance(kc.doc, dict) and kc.doc.get("current-context")),
        None,
    )
    shown = os.pathsep.join(str(kc.path) for kc in configs)
    if not isinstance(name, str):
        raise UsageError(f"no current context in {shown}", "log in first: aro backplane login CLUSTER")
    defined = next((kc for kc in configs if find(kc.doc, "contexts", name) is not None), None)
    if defined is None:
        raise UsageError(f"the current context {name!r} is not defined in {shown}")
    ctx = body(find(defined.doc, "contexts", name), "contexts")
    cluster_name = str(ctx.get("cluster") or "")
    cluster = next((c for kc in configs if (c := find(kc.doc, "clusters", cluster_name)) is not None), None)
    server = body(cluster, "clusters").get("server")
    namespace = ctx.get("namespace")
    return Current(
        name,
        defined.path,
        cluster_name,
        server if isinstance(server, str) else None,
        namespace if isinstance(namespace, str) else None,
        mark_of(find(defined.doc, "contexts", name), "contexts"),
    )


def current_cluster_id(env: Mapping[str, str]) -> str:
    """The backplane cluster of the current context (what `aro backplane` commands act on by default)."""
    cur = current(env)
    cluster_id = cur.cluster_id
    if cluster_id is None:
        raise UsageError(
            f"the current context {cur.context!r} is not a backplane cluster (its server is {cur.server or 'unset'})",
            "log in with 'aro backplane login CLUSTER', or name the cluster",
        )
    return cluster_id


def any_backplane_context(paths: list[Path]) -> bool:
    """Whether any of ``paths`` still holds a context login wrote (an unreadable file counts as one)."""
    for path in paths:
        try:
            kc = Kubeconfig.read(path)
        except CliError:
            return True
        if backplane_contexts(kc.doc):
            return True
    return False
