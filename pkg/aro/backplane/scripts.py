"""The managed-scripts catalog (openshift/managed-scripts' layout and ``hack/metadata.schema.json``): SRE
scripts a managed job runs on a cluster, each with the permissions it gets there.

A catalog is a directory of ``<group>/<name>/metadata.yaml`` plus the script file the metadata names; the
script's ``canonicalName`` is ``<group>/<name>``. The metadata's fields, as in the schema
(``additionalProperties: false`` at every level here):

- required: ``file`` (a file of the same directory), ``name`` (= the directory's name), ``description``,
  ``author``, ``language`` (``python`` | ``bash``), ``allowedGroups`` (who may see and run it),
  ``customerDataAccess`` (bool);
- optional: ``shortDescription``, ``labels[{key, description, values[]}]``,
  ``envs[{key, description, optional}]`` (the only environment the script gets: a job's parameters),
  ``rbac{roles[{namespace, rules[]}], clusterRoleRules[]}`` (a rule: ``verbs``, ``apiGroups``,
  ``resources`` required; ``resourceNames``; ``nonResourceURLs`` in cluster rules only) and
  ``clusterVersions[]`` (``X.Y.Z`` or ``X.Y.*``).

``load_catalog`` validates the whole directory (sizes bounded: ``MAX_*``) and raises ``CatalogError``
naming the file and the field of the first problem; the processes refuse to start on one (``aro.run``).
``shipped_directory()`` is the catalog shipped with the package (``managed-scripts/``), used unless
``backplane.scriptsDirectory`` names another.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_SCRIPTS = 500
MAX_METADATA_BYTES = 64 * 1024
MAX_SCRIPT_BYTES = 256 * 1024  # the script travels in a ConfigMap (1 MiB at most) and in the job document
MAX_TEXT = 4096  # description
MAX_SHORT = 256  # every other string
MAX_ITEMS = 64  # entries of any list
LANGUAGES = ("python", "bash")

_DIR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CLUSTER_VERSION = re.compile(r"^\d+\.\d+\.\d+$|^\d+\.\d+\.\*$")
# What a parameter may not override: the job's runtime (the kubelet's own variables) and the shells'
# start-up hooks.
RESERVED_ENVS = frozenset(
    {
        "PATH",
        "HOME",
        "KUBECONFIG",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "BASH_ENV",
        "ENV",
        "IFS",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONINSPECT",
    }
)
RESERVED_ENV_PREFIXES = ("KUBERNETES_", "BASH_FUNC_")

_TOP = frozenset(
    {
        "file",
        "name",
        "shortDescription",
        "description",
        "author",
        "language",
        "allowedGroups",
        "labels",
        "envs",
        "rbac",
        "clusterVersions",
        "customerDataAccess",
    }
)
_REQUIRED = ("file", "name", "description", "author", "language", "allowedGroups", "customerDataAccess")
_RULE = frozenset({"verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"})
_RULE_REQUIRED = ("verbs", "apiGroups", "resources")


class CatalogError(Exception):
    """An invalid catalog: ``str()`` names the file and the field (``<file>: <field>: <problem>``)."""


@dataclass(frozen=True)
class EnvDecl:
    key: str
    description: str
    optional: bool

    def to_api(self) -> dict[str, Any]:
        return {"key": self.key, "description": self.description, "optional": self.optional}


@dataclass(frozen=True)
class ManagedScript:
    group: str
    name: str
    file: str
    description: str
    short_description: str
    author: str
    language: str
    allowed_groups: tuple[str, ...]
    customer_data_access: bool
    envs: tuple[EnvDecl, ...]
    labels: tuple[dict[str, Any], ...]
    roles: tuple[dict[str, Any], ...]  # [{namespace, rules[]}]
    cluster_role_rules: tuple[dict[str, Any], ...]
    cluster_versions: tuple[str, ...]
    body: str = field(repr=False)
    digest: str = ""  # sha256 of the script file

    @property
    def canonical_name(self) -> str:
        return f"{self.group}/{self.name}"

    @property
    def path(self) -> str:
        return f"{self.group}/{self.name}/{self.file}"

    def allows(self, groups: Iterable[str]) -> bool:
        return not set(self.allowed_groups).isdisjoint(groups)

    def env(self, key: str) -> EnvDecl | None:
        return next((e for e in self.envs if e.key == key), None)

    def to_api(self) -> dict[str, Any]:
        """backplane-api's ``Script``."""
        return {
            "path": self.path,
            "canonicalName": self.canonical_name,
            "description": self.description,
            "shortDescription": self.short_description,
            "author": self.author,
            # no git host: the file's path and the digest of what runs identify it exactly
            "permalink": f"managed-scripts/{self.path}@sha256:{self.digest}",
            "envs": [e.to_api() for e in self.envs],
            "rbac": {
                "roles": [dict(r) for r in self.roles],
                "clusterRoleRules": [dict(r) for r in self.cluster_role_rules],
            },
            "allowedGroups": list(self.allowed_groups),
            "labels": [dict(label) for label in self.labels],
            "language": self.language,
            "customerDataAccess": self.customer_data_access,
        }


@dataclass(frozen=True)
class Catalog:
    scripts: Mapping[str, ManagedScript] = field(default_factory=dict)  # by canonical name
    directory: str = ""

    def find(self, canonical_name: str) -> ManagedScript | None:
        return self.scripts.get(canonical_name)

    def visible_to(self, groups: Iterable[str]) -> list[ManagedScript]:
        wanted = frozenset(groups)
        return [s for _, s in sorted(self.scripts.items()) if s.allows(wanted)]


def shipped_directory() -> Path:
    return Path(__file__).resolve().parent / "managed-scripts"


# -- validation -------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.file}: {where}: {problem}" if where else f"{self.file}: {problem}")

    def obj(self, value: Any, where: str, allowed: frozenset[str], required: Iterable[str] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where or "(document)", "must be an object")
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                raise self.fail(f"{where}.{key}" if where else str(key), "is not a known field")
        for key in required:
            if key not in value:
                raise self.fail(f"{where}.{key}" if where else key, "is required")
        return value

    def text(self, value: Any, where: str, limit: int = MAX_SHORT, *, empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(where, "must be a string")
        if not empty and not value.strip():
            raise self.fail(where, "must not be empty")
        if len(value) > limit:
            raise self.fail(where, f"is longer than {limit} characters")
        if "\x00" in value:
            raise self.fail(where, "must not contain NUL")
        return value

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "must be true or false")
        return value

    def items(self, value: Any, where: str, *, empty: bool = True) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "must be a list")
        if not empty and not value:
            raise self.fail(where, "must not be empty")
        if len(value) > MAX_ITEMS:
            raise self.fail(where, f"has more than {MAX_ITEMS} entries")
        return value

    def strings(self, value: Any, where: str, *, empty: bool = True, blank: bool = False) -> list[str]:
        return [self.text(v, f"{where}[{i}]", empty=blank) for i, v in enumerate(self.items(value, where, empty=empty))]

    def rule(self, value: Any, where: str, *, cluster: bool) -> dict[str, Any]:
        rule = self.obj(value, where, _RULE, _RULE_REQUIRED)
        out: dict[str, Any] = {}
        out["verbs"] = self.strings(rule["verbs"], f"{where}.verbs", empty=False)
        out["apiGroups"] = self.strings(rule["apiGroups"], f"{where}.apiGroups", blank=True)  # "" is core
        out["resources"] = self.strings(rule["resources"], f"{where}.resources")
        if "resourceNames" in rule:
            out["resourceNames"] = self.strings(rule["resourceNames"], f"{where}.resourceNames")
        if "nonResourceURLs" in rule:
            if not cluster:
                raise self.fail(f"{where}.nonResourceURLs", "is only allowed in clusterRoleRules")
            out["nonResourceURLs"] = self.strings(rule["nonResourceURLs"], f"{where}.nonResourceURLs")
        if not out["resources"] and not out.get("nonResourceURLs"):
            raise self.fail(f"{where}.resources", "must not be empty")
        return out


def _script(group: str, directory: Path, metadata_file: Path, display: str) -> ManagedScript:
    check = _Checker(display)
    try:
        raw = metadata_file.read_bytes()
    except OSError as e:
        raise check.fail("", f"cannot be read: {e.strerror}") from None
    if len(raw) > MAX_METADATA_BYTES:
        raise check.fail("", f"is larger than {MAX_METADATA_BYTES} bytes")
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise check.fail("", "is not UTF-8") from None
    except yaml.YAMLError as e:
        raise check.fail("", f"is not valid YAML: {str(e)[:200]}") from None
    meta = check.obj(doc, "", _TOP, _REQUIRED)

    name = check.text(meta["name"], "name")
    if name != directory.name:
        raise check.fail("name", f"must equal the directory's name {directory.name!r}, not {name!r}")
    file = check.text(meta["file"], "file")
    if not _FILE_NAME.match(file) or file == "metadata.yaml":
        raise check.fail("file", "must name a script file in the same directory")
    language = check.text(meta["language"], "language")
    if language not in LANGUAGES:
        raise check.fail("language", f"must be one of {', '.join(LANGUAGES)}")
    allowed = check.strings(meta["allowedGroups"], "allowedGroups", empty=False)

    envs: list[EnvDecl] = []
    for i, item in enumerate(check.items(meta.get("envs", []), "envs")):
        where = f"envs[{i}]"
        env = check.obj(item, where, frozenset({"key", "description", "optional"}), ("key",))
        key = check.text(env["key"], f"{where}.key")
        if not _ENV_KEY.match(key):
            raise check.fail(f"{where}.key", "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
        if key in RESERVED_ENVS or key.startswith(RESERVED_ENV_PREFIXES):
            raise check.fail(f"{where}.key", f"{key} is reserved for the job's runtime")
        if any(d.key == key for d in envs):
            raise check.fail(f"{where}.key", f"{key} is declared twice")
        description = check.text(env.get("description", ""), f"{where}.description", MAX_TEXT, empty=True)
        optional = check.flag(env.get("optional", False), f"{where}.optional")
        envs.append(EnvDecl(key, description, optional))

    labels: list[dict[str, Any]] = []
    for i, item in enumerate(check.items(meta.get("labels", []), "labels")):
        where = f"labels[{i}]"
        label = check.obj(item, where, frozenset({"key", "description", "values"}), ("key",))
        out: dict[str, Any] = {"key": check.text(label["key"], f"{where}.key")}
        if "description" in label:
            out["description"] = check.text(label["description"], f"{where}.description", MAX_TEXT, empty=True)
        if "values" in label:
            out["values"] = check.strings(label["values"], f"{where}.values")
        labels.append(out)

    roles: list[dict[str, Any]] = []
    cluster_rules: list[dict[str, Any]] = []
    if "rbac" in meta:
        rbac = check.obj(meta["rbac"], "rbac", frozenset({"roles", "clusterRoleRules"}))
        for i, item in enumerate(check.items(rbac.get("roles", []), "rbac.roles")):
            where = f"rbac.roles[{i}]"
            role = check.obj(item, where, frozenset({"namespace", "rules"}), ("namespace", "rules"))
            namespace = check.text(role["namespace"], f"{where}.namespace")
            if not _NAMESPACE.match(namespace):
                raise check.fail(f"{where}.namespace", "must be a namespace name (a DNS-1123 label)")
            if any(r["namespace"] == namespace for r in roles):
                raise check.fail(f"{where}.namespace", f"{namespace} has a role already: merge its rules")
            rules = [
                check.rule(r, f"{where}.rules[{j}]", cluster=False)
                for j, r in enumerate(check.items(role["rules"], f"{where}.rules", empty=False))
            ]
            roles.append({"namespace": namespace, "rules": rules})
        for i, item in enumerate(check.items(rbac.get("clusterRoleRules", []), "rbac.clusterRoleRules")):
            cluster_rules.append(check.rule(item, f"rbac.clusterRoleRules[{i}]", cluster=True))

    versions = check.strings(meta.get("clusterVersions", []), "clusterVersions")
    for i, v in enumerate(versions):
        if not _CLUSTER_VERSION.match(v):
            raise check.fail(f"clusterVersions[{i}]", "must be X.Y.Z or X.Y.*")

    script_file = directory / file
    display_script = display.rsplit("/", 1)[0] + "/" + file
    if script_file.is_symlink() or not script_file.is_file():
        raise check.fail("file", f"{display_script} is not a regular file")
    try:
        body_bytes = script_file.read_bytes()
    except OSError as e:
        raise check.fail("file", f"{display_script} cannot be read: {e.strerror}") from None
    if not body_bytes.strip():
        raise check.fail("file", f"{display_script} is empty")
    if len(body_bytes) > MAX_SCRIPT_BYTES:
        raise check.fail("file", f"{display_script} is larger than {MAX_SCRIPT_BYTES} bytes")
    try:
        body = body_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise check.fail("file", f"{display_script} is not UTF-8 text") from None
    if "\x00" in body:
        raise check.fail("file", f"{display_script} contains NUL")

    return ManagedScript(
        group=group,
        name=name,
        file=file,
        description=check.text(meta["description"], "description", MAX_TEXT),
        short_description=check.text(meta.get("shortDescription", ""), "shortDescription", empty=True),
        author=check.text(meta["author"], "author"),
        language=language,
        allowed_groups=tuple(allowed),
        customer_data_access=check.flag(meta["customerDataAccess"], "customerDataAccess"),
        envs=tuple(envs),
        labels=tuple(labels),
        roles=tuple(roles),
        cluster_role_rules=tuple(cluster_rules),
        cluster_versions=tuple(versions),
        body=body,
        digest=hashlib.sha256(body_bytes).hexdigest(),
    )


def load_catalog(directory: Path) -> Catalog:
    """Every ``<group>/<name>/metadata.yaml`` of ``directory``, validated (``CatalogError`` on the first
    problem). Files directly under ``directory`` or a group (a README) are ignored; a script directory
    without ``metadata.yaml`` is an error."""
    root = Path(directory)
    if not root.is_dir():
        raise CatalogError(f"{root}: is not a directory")
    scripts: dict[str, ManagedScript] = {}
    for group_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not _DIR_NAME.match(group_dir.name):
            raise CatalogError(f"{group_dir}: is not a valid group name ({_DIR_NAME.pattern})")
        for script_dir in sorted(p for p in group_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            display = f"{root}/{group_dir.name}/{script_dir.name}/metadata.yaml"
            if not _DIR_NAME.match(script_dir.name):
                raise CatalogError(f"{script_dir}: is not a valid script name ({_DIR_NAME.pattern})")
            metadata = script_dir / "metadata.yaml"
            if not metadata.is_file():
                raise CatalogError(f"{display}: is missing")
            if len(scripts) >= MAX_SCRIPTS:
                raise CatalogError(f"{root}: has more than {MAX_SCRIPTS} scripts")
            script = _script(group_dir.name, script_dir, metadata, display)
            scripts[script.canonical_name] = script
    return Catalog(scripts, str(root))
