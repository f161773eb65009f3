"""``rbac.authorization.k8s.io/v1``: Roles and RoleBindings (namespaced), ClusterRoles and ClusterRoleBindings
(cluster-scoped), stored like every other kind (``_kubeobjects``: the same quota and size bounds), and the
authorizer that reads them.

Validation, as the API server's (422 ``Invalid``, every failing field a cause):

- a rule needs ``verbs``; it names either resources (``apiGroups`` and ``resources`` both required,
  ``resourceNames`` optional; ``pods/log``, ``*/scale`` and ``*`` as RBAC knows them) or ``nonResourceURLs``
  (never both, and never in a Role: non-resource rules are cluster-wide); every entry is a string;
- a binding needs ``roleRef`` -- ``apiGroup: rbac.authorization.k8s.io``, ``kind: Role | ClusterRole`` (a
  ClusterRoleBinding: ClusterRole only), ``name`` -- which is immutable; each subject is a ``User`` or
  ``Group`` (``apiGroup: rbac.authorization.k8s.io``) or a ``ServiceAccount`` (``apiGroup: ""``, a DNS name;
  ``namespace`` required in a ClusterRoleBinding, the binding's own by default in a RoleBinding);
- names are path segments (``system:controller:x`` is fine); a ClusterRole's ``aggregationRule`` is kept
  but nothing aggregates. There are no bootstrap roles (no ``cluster-admin``, ``view``...): a cluster starts
  with none.

Evaluation (``Rbac.allows``): a request is allowed when a rule grants it -- from a ClusterRole through a
ClusterRoleBinding (anywhere), or from a Role or ClusterRole through a RoleBinding in the request's namespace
-- matching verb, API group, resource (with the subresource: a ``pods`` rule does not grant ``pods/log``) and,
when the rule lists any, the name; ``*`` is a wildcard in every list. Subjects match by user name, group, or
service account (``system:serviceaccount:<ns>:<name>``).

Escalation (``Rbac.escalation``): writing a Role or ClusterRole needs every permission it grants (or the
verb ``escalate`` on it); writing a binding needs every permission of the role it references (or the verb
``bind`` on that role). A missing referenced role is a 404. system:masters skips both checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._kubeauth import Identity
from ._kubeauthz import Attributes, builtin_read
from ._kubeerrors import KubeError, invalid_fields, not_found
from ._kuberesources import RESOURCES, Resource, meta

if TYPE_CHECKING:
    from ._kubeobjects import KubeObjects

Object = dict[str, Any]
GROUP = "rbac.authorization.k8s.io"
VERSION = "v1"
_SUBJECT_KINDS = ("ServiceAccount", "User", "Group")
_MAX_LISTED = 20  # uncovered rules named in an escalation message
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# -- validation -------------------------------------------------------------------------------------------


class _Causes:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, reason: str, field: str, message: str) -> None:
        self.items.append({"reason": reason, "message": message, "field": field})

    def required(self, field: str, detail: str = "") -> None:
        self.add("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))

    def invalid(self, field: str, value: Any, detail: str) -> None:
        self.add("FieldValueInvalid", field, f"Invalid value: {json.dumps(value)}: {detail}")

    def unsupported(self, field: str, value: Any, supported: Iterable[str]) -> None:
        values = ", ".join(json.dumps(s) for s in supported)
        self.add("FieldValueNotSupported", field, f"Unsupported value: {json.dumps(value)}: supported values: {values}")

    def raise_if_any(self, kind: str, new: Object) -> None:
        if self.items:
            raise invalid_fields(f"{kind}.{GROUP}", str(meta(new).get("name", "")), self.items, GROUP)


def _strings(causes: _Causes, field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        causes.invalid(field, value, "must be a list of strings")
        return []
    return value


def _rules(causes: _Causes, new: Object, namespaced: bool) -> None:
    rules = new.get("rules")
    if rules is None:
        return
    if not isinstance(rules, list):
        causes.invalid("rules", rules, "must be a list of rules")
        return
    for i, rule in enumerate(rules):
        at = f"rules[{i}]"
        if not isinstance(rule, dict):
            causes.invalid(at, rule, "must be an object")
            continue
        verbs = _strings(causes, f"{at}.verbs", rule.get("verbs"))
        groups = _strings(causes, f"{at}.apiGroups", rule.get("apiGroups"))
        resources = _strings(causes, f"{at}.resources", rule.get("resources"))
        _strings(causes, f"{at}.resourceNames", rule.get("resourceNames"))
        urls = _strings(causes, f"{at}.nonResourceURLs", rule.get("nonResourceURLs"))
        if not verbs:
            causes.required(f"{at}.verbs", "verbs must contain at least one value")
        if urls:
            if namespaced:
                causes.invalid(f"{at}.nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs")
            if groups or resources:
                causes.invalid(
                    f"{at}.nonResourceURLs", urls, "rules cannot apply to both regular resources and non-resource URLs"
                )
            continue
        if not groups:
            causes.required(f"{at}.apiGroups", "resource rules must supply at least one api group")
        if not resources:
            causes.required(f"{at}.resources", "resource rules must supply at least one resource")


def _role(namespaced: bool) -> Any:
    def prepare(new: Object, old: Object | None) -> None:
        causes = _Causes()
        _rules(causes, new, namespaced)
        if not namespaced and new.get("aggregationRule") is not None and not isinstance(new["aggregationRule"], dict):
            causes.invalid("aggregationRule", new["aggregationRule"], "must be an object")
        causes.raise_if_any("Role" if namespaced else "ClusterRole", new)

    return prepare


def _binding(namespaced: bool) -> Any:
    kind = "RoleBinding" if namespaced else "ClusterRoleBinding"
    role_kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)

    def prepare(new: Object, old: Object | None) -> None:
        causes = _Causes()
        ref = new.get("roleRef")
        if not isinstance(ref, dict):
            causes.required("roleRef")
        else:
            if ref.get("apiGroup") != GROUP:
                causes.unsupported("roleRef.apiGroup", ref.get("apiGroup", ""), (GROUP,))
            if ref.get("kind") not in role_kinds:
                causes.unsupported("roleRef.kind", ref.get("kind", ""), role_kinds)
            name = ref.get("name")
            if not isinstance(name, str) or not name:
                causes.required("roleRef.name")
            elif name in (".", "..") or "/" in name or "%" in name:
                causes.invalid("roleRef.name", name, "may not contain '/' or '%', or be '.' or '..'")
            if old is not None and old.get("roleRef") != ref:
                causes.invalid("roleRef", ref, "cannot change roleRef")
        subjects = new.get("subjects")
        if subjects is not None and not isinstance(subjects, list):
            causes.invalid("subjects", subjects, "must be a list of subjects")
            subjects = []
        for i, subject in enumerate(subjects or []):
            at = f"subjects[{i}]"
            if not isinstance(subject, dict):
                causes.invalid(at, subject, "must be an object")
                continue
            name, skind, group = subject.get("name"), subject.get("kind"), subject.get("apiGroup", "")
            if not isinstance(name, str) or not name:
                causes.required(f"{at}.name")
            if skind == "ServiceAccount":
                if group not in ("", None):
                    causes.unsupported(f"{at}.apiGroup", group, ("",))
                if isinstance(name, str) and name and not _dns_subdomain(name):
                    causes.invalid(f"{at}.name", name, "a lowercase RFC 1123 subdomain is required")
                if not namespaced and not subject.get("namespace"):
                    causes.required(f"{at}.namespace")
            elif skind in ("User", "Group"):
                if group != GROUP:
                    causes.unsupported(f"{at}.apiGroup", group, (GROUP,))
            else:
                causes.unsupported(f"{at}.kind", skind or "", _SUBJECT_KINDS)
        causes.raise_if_any(kind, new)

    return prepare


def _dns_subdomain(name: str) -> bool:
    return len(name) <= 253 and _SUBDOMAIN.match(name) is not None


RBAC_RESOURCES: dict[str, Resource] = {
    r.plural: r
    for r in (
        Resource(
            "clusterrolebindings",
            "ClusterRoleBinding",
            False,
            (),
            _binding(False),
            group=GROUP,
            path_segment_names=True,
        ),
        Resource("clusterroles", "ClusterRole", False, (), _role(False), group=GROUP, path_segment_names=True),
        Resource("rolebindings", "RoleBinding", True, (), _binding(True), group=GROUP, path_segment_names=True),
        Resource("roles", "Role", True, (), _role(True), group=GROUP, path_segment_names=True),
    )
}
_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


def api_group() -> Object:
    version = {"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": GROUP, "versions": [version], "preferredVersion": version}


def api_resource_list() -> Object:
    resources = [
        {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(_VERBS),
        }
        for r in RBAC_RESOURCES.values()
    ]
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{GROUP}/{VERSION}", "resources": resources}


# -- rules ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def of(cls, raw: Any) -> Rule | None:
        if not isinstance(raw, dict):
            return None

        def strings(key: str) -> tuple[str, ...]:
            value = raw.get(key)
            return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

        return cls(
            strings("verbs"),
            strings("apiGroups"),
            strings("resources"),
            strings("resourceNames"),
            strings("nonResourceURLs"),
        )

    def allows(self, attrs: Attributes) -> bool:
        if not ("*" in self.verbs or attrs.verb in self.verbs):
            return False
        if attrs.path:
            return any(_url_matches(u, attrs.path) for u in self.non_resource_urls)
        if not ("*" in self.api_groups or attrs.group in self.api_groups):
            return False
        combined = attrs.combined
        if not any(
            r == "*" or r == combined or (attrs.subresource and r == "*/" + attrs.subresource) for r in self.resources
        ):
            return False
        return not self.resource_names or (attrs.name or "") in self.resource_names

    def atoms(self) -> Iterator[Rule]:
        """The rule broken down into one-verb, one-resource (one-name) rules (``validation.BreakdownRule``)."""
        for verb in self.verbs:
            for group in self.api_groups:
                for resource in self.resources:
                    if self.resource_names:
                        for name in self.resource_names:
                            yield Rule((verb,), (group,), (resource,), (name,))
                    else:
                        yield Rule((verb,), (group,), (resource,))
            for url in self.non_resource_urls:
                yield Rule((verb,), non_resource_urls=(url,))

    def covers(self, sub: Rule) -> bool:
        """Whether this (owner's) rule grants everything ``sub`` does (``validation.ruleCovers``)."""
        verbs = "*" in self.verbs or set(sub.verbs) <= set(self.verbs)
        groups = "*" in self.api_groups or set(sub.api_groups) <= set(self.api_groups)
        if not sub.resource_names:
            names = not self.resource_names
        else:
            names = not self.resource_names or set(sub.resource_names) <= set(self.resource_names)
        urls = all(any(_url_matches(u, want) for u in self.non_resource_urls) for want in sub.non_resource_urls)
        return verbs and groups and names and urls and _resources_cover(self.resources, sub.resources)

    def describe(self) -> str:
        parts = []
        for label, values in (
            ("APIGroups", self.api_groups),
            ("Resources", self.resources),
            ("ResourceNames", self.resource_names),
            ("NonResourceURLs", self.non_resource_urls),
            ("Verbs", self.verbs),
        ):
            if values or label in ("Verbs",):
                parts.append(f"{label}:[{' '.join(json.dumps(v) for v in values)}]")
        return "{" + ", ".join(parts) + "}"


def _url_matches(rule_url: str, path: str) -> bool:
    if rule_url == "*" or rule_url == path:
        return True
    return rule_url.endswith("*") and path.startswith(rule_url.rstrip("*"))


def _resources_cover(owner: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    if "*" in owner:
        return True
    for resource in wanted:
        if resource in owner:
            continue
        if "/" not in resource or "*/" + resource.split("/", 1)[1] not in owner:
            return False
    return True


def rules_of(role: Object | None) -> list[Rule]:
    raw = (role or {}).get("rules")
    found = [Rule.of(r) for r in raw] if isinstance(raw, list) else []
    return [r for r in found if r is not None]


def _applies(subject: Any, identity: Identity, binding_namespace: str) -> bool:
    if not isinstance(subject, dict):
        return False
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(name) and name == identity.user
    if kind == "Group":
        return bool(name) and name in identity.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return bool(name) and identity.user == f"system:serviceaccount:{namespace}:{name}"
    return False


def builtin_rules(identity: Identity) -> list[Rule]:
    """The built-in reader rule (``_kubeauthz.builtin_read``) as RBAC rules, for the escalation check."""
    if not builtin_read(identity, Attributes("get", "configmaps")):
        return []
    plurals = [p for p in (*RESOURCES, *RBAC_RESOURCES) if p != "secrets"]
    return [Rule(("get", "list", "watch"), ("*",), (*plurals, "pods/log"))]


class Rbac:
    """One cluster's RBAC, read from its stored objects inside the request's transaction (database thread)."""

    def __init__(self, objects: KubeObjects, cluster: str) -> None:
        self.objects = objects
        self.cluster = cluster

    def _role_rules(self, ref: Any, namespace: str) -> list[Rule]:
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            return []
        if ref.get("kind") == "ClusterRole":
            return rules_of(self.objects.get(self.cluster, "clusterroles", "", ref["name"]))
        if ref.get("kind") == "Role" and namespace:
            return rules_of(self.objects.get(self.cluster, "roles", namespace, ref["name"]))
        return []

    def rules_for(self, identity: Identity, namespace: str | None) -> Iterator[Rule]:
        """Every rule granted to ``identity`` cluster-wide, and (``namespace``) in that namespace."""
        for binding in self.objects.iterate(self.cluster, "clusterrolebindings", None, None):
            if any(_applies(s, identity, "") for s in binding.get("subjects") or []):
                yield from self._role_rules(binding.get("roleRef"), "")
        if namespace:
            for binding in self.objects.iterate(self.cluster, "rolebindings", namespace, None):
                if any(_applies(s, identity, namespace) for s in binding.get("subjects") or []):
                    yield from self._role_rules(binding.get("roleRef"), namespace)

    def allows(self, identity: Identity, attrs: Attributes) -> bool:
        namespace = attrs.namespace if not attrs.path else None
        return any(rule.allows(attrs) for rule in self.rules_for(identity, namespace))

    def escalation(self, identity: Identity, resource: Resource, namespace: str, obj: Object) -> None:
        """Raise 403 when writing ``obj`` (a role or binding, as it would be stored) would grant ``identity``
        (not system:masters: the caller checks) permissions it does not hold."""
        name = str(meta(obj).get("name", ""))
        ns = namespace if resource.namespaced else ""
        if resource.plural in ("roles", "clusterroles"):
            if self.allows(identity, Attributes("escalate", resource.plural, GROUP, "", ns or None, name)):
                return
            wanted = rules_of(obj)
        else:
            ref = obj.get("roleRef") or {}
            ref_plural = "roles" if ref.get("kind") == "Role" else "clusterroles"
            ref_name = str(ref.get("name", ""))
            bind = Attributes("bind", ref_plural, GROUP, "", ns or None, ref_name)
            if self.allows(identity, bind):
                return
            ref_ns = ns if ref_plural == "roles" else ""
            role = self.objects.get(self.cluster, ref_plural, ref_ns, ref_name)
            if role is None:
                raise not_found(f"{ref_plural}.{GROUP}", ref_name)
            wanted = rules_of(role)
        owner = [*self.rules_for(identity, ns or None), *builtin_rules(identity)]
        missing: list[Rule] = []
        for rule in wanted:
            for atom in rule.atoms():
                if not any(o.covers(atom) for o in owner):
                    missing.append(atom)
        if not missing:
            return
        listed = "\n".join(r.describe() for r in missing[:_MAX_LISTED])
        more = f"\n... and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
        groups = " ".join(json.dumps(g) for g in identity.groups)
        raise KubeError(
            403,
            "Forbidden",
            f'{resource.qualified} "{name}" is forbidden: user "{identity.user}" (groups=[{groups}]) is attempting to '
            f"grant RBAC permissions not currently held:\n{listed}{more}",
            name=name,
            kind=resource.plural,
            group=GROUP,
        )
