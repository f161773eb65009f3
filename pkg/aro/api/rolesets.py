"""The platform workload identity role sets of classic clusters (``locations/{l}/platformWorkloadIdentityRoleSets``):
per OpenShift minor version, the operators that run with a user-assigned identity of their own, the built-in
role each needs, the service accounts its pods run as (the subjects of the identity's federated credentials)
and the in-cluster secret that carries the identity's client id.

Shipped as ``rolesets.json`` (the shape of ARO-RP's ``hack/devtools/platform_workload_identity_role_sets.yaml``:
role groups shared by several versions). ``roles_for`` is ARO-RP's ``PlatformWorkloadIdentityRolesByVersion``:
the roles a cluster needs for its version and, when ``upgradeableTo`` names a later minor, that one's too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import Field, ValidationError

from aro.api.resource import Model

ROLE_SETS_FILE = "rolesets.json"
MAX_VERSIONS, MAX_ROLES, MAX_SERVICE_ACCOUNTS = 100, 50, 20  # Azure: 20 federated credentials per identity
_MINOR = re.compile(r"^(\d{1,4})\.(\d{1,4})\Z")
_VERSION = re.compile(r"^(\d{1,4})\.(\d{1,4})\.(\d{1,6})([-+][0-9A-Za-z.+-]{0,64})?\Z")
_OPERATOR = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
_ROLE_DEFINITION = re.compile(r"^/providers/Microsoft\.Authorization/roleDefinitions/[0-9a-f-]{36}\Z", re.I)
_SERVICE_ACCOUNT = re.compile(r"^system:serviceaccount:[a-z0-9][-a-z0-9.]{0,252}:[a-z0-9][-a-z0-9.]{0,252}\Z")


class SecretLocation(Model):
    namespace: str = ""
    name: str = ""


class PlatformWorkloadIdentityRole(Model):
    operator_name: str
    role_definition_name: str
    role_definition_id: str  # /providers/Microsoft.Authorization/roleDefinitions/<guid>
    service_accounts: list[str] = Field(default_factory=list)  # system:serviceaccount:<namespace>:<name>
    secret_location: SecretLocation = Field(default_factory=SecretLocation)

    @property
    def role_definition_guid(self) -> str:
        return self.role_definition_id.rsplit("/", 1)[-1]


class PlatformWorkloadIdentityRoleSet(Model):
    """One minor version's role set; a catalog entry (``aro.api.kind.CatalogEntry``) named by the version."""

    open_shift_version: str  # "4.18"
    platform_workload_identity_roles: list[PlatformWorkloadIdentityRole] = Field(default_factory=list)
    enabled: bool = True
    default: bool = False

    @property
    def name(self) -> str:
        return self.open_shift_version


def load(path: str | Path | None = None) -> list[PlatformWorkloadIdentityRoleSet]:
    """The role sets of ``path`` (default: the shipped ``rolesets.json``), checked: ``X.Y`` versions listed
    once, operator names unique within a set, role definition ids and service accounts well formed, every
    list bounded. ValueError names the first problem."""
    if path is None:
        text = resources.files("aro.api").joinpath(ROLE_SETS_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    raw = json.loads(text)
    if not isinstance(raw, dict) or not isinstance(raw.get("versions"), list):
        raise ValueError("the role sets file must be an object with a 'versions' list")
    groups = raw.get("roleGroups") or {}
    if not isinstance(groups, dict):
        raise ValueError("'roleGroups' must be an object")
    if len(raw["versions"]) > MAX_VERSIONS:
        raise ValueError(f"at most {MAX_VERSIONS} versions")
    out: list[PlatformWorkloadIdentityRoleSet] = []
    for item in raw["versions"]:
        if not isinstance(item, dict):
            raise ValueError("every version must be an object")
        roles = item.get("roles")
        if isinstance(roles, str):
            if roles not in groups:
                raise ValueError(f"version {item.get('openShiftVersion')!r}: unknown role group {roles!r}")
            roles = groups[roles]
        try:
            entry = PlatformWorkloadIdentityRoleSet.model_validate(
                {"openShiftVersion": item.get("openShiftVersion"), "platformWorkloadIdentityRoles": roles}
            )
        except ValidationError as e:
            raise ValueError(f"version {item.get('openShiftVersion')!r}: {e}") from None
        out.append(entry)
    _check(out)
    return out


def _check(sets: Sequence[PlatformWorkloadIdentityRoleSet]) -> None:
    seen: set[str] = set()
    for s in sets:
        v = s.open_shift_version
        if not _MINOR.match(v):
            raise ValueError(f"version {v!r}: must be X.Y")
        if v in seen:
            raise ValueError(f"version {v!r} is listed twice")
        seen.add(v)
        roles = s.platform_workload_identity_roles
        if not 0 < len(roles) <= MAX_ROLES:
            raise ValueError(f"version {v}: 1..{MAX_ROLES} roles")
        names = [r.operator_name for r in roles]
        if len(set(names)) != len(names):
            raise ValueError(f"version {v}: an operator is listed twice")
        for r in roles:
            if not _OPERATOR.match(r.operator_name):
                raise ValueError(f"version {v}: invalid operator name {r.operator_name!r}")
            if not _ROLE_DEFINITION.match(r.role_definition_id) or not r.role_definition_name:
                raise ValueError(f"version {v}, {r.operator_name}: invalid role definition")
            if not 0 < len(r.service_accounts) <= MAX_SERVICE_ACCOUNTS:
                raise ValueError(f"version {v}, {r.operator_name}: 1..{MAX_SERVICE_ACCOUNTS} service accounts")
            for sa in r.service_accounts:
                if not _SERVICE_ACCOUNT.match(sa):
                    raise ValueError(f"version {v}, {r.operator_name}: invalid service account {sa!r}")


@cache
def shipped() -> tuple[PlatformWorkloadIdentityRoleSet, ...]:
    """The shipped role sets (loaded once)."""
    return tuple(load())


# --- which roles a cluster needs -------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Release:
    """An OpenShift version as ARO-RP's ``version.ParseVersion`` reads it: ``X.Y.Z`` and an optional suffix."""

    major: int
    minor: int
    patch: int

    @property
    def minor_version(self) -> str:
        return f"{self.major}.{self.minor}"


def parse_release(text: str) -> Release | None:
    m = _VERSION.match(text)
    return None if m is None else Release(int(m[1]), int(m[2]), int(m[3]))


@dataclass(frozen=True)
class RequiredRoles:
    """The roles a cluster's identities must match: by operator name (several roles when the current and
    the upgradeable minor versions differ), for the minor version(s) ``versions`` ("4.18" or "4.18 or 4.19")."""

    by_operator: Mapping[str, Sequence[PlatformWorkloadIdentityRole]]
    versions: str

    def matches(self, operators: Iterable[str]) -> bool:
        """ARO-RP's ``MatchesPlatformWorkloadIdentityRoles``: exactly the operators of the role set(s)."""
        names = list(operators)
        return len(names) == len(self.by_operator) and all(n in self.by_operator for n in names)


class MissingRoleSet(ValueError):
    """No role set for a minor version the cluster needs (``minor``)."""

    def __init__(self, minor: str) -> None:
        super().__init__(minor)
        self.minor = minor


def roles_for(
    version: str, upgradeable_to: str | None, sets: Sequence[PlatformWorkloadIdentityRoleSet] | None = None
) -> RequiredRoles:
    """The roles for cluster version ``version`` (``X.Y.Z``) and, when ``upgradeable_to`` is a later minor
    version, that minor's roles too (deduplicated by operator and role definition). ``MissingRoleSet`` when
    a needed minor version has no role set; ValueError for a version that does not parse."""
    current = parse_release(version)
    if current is None:
        raise ValueError(f"invalid version {version!r}")
    minors = [current.minor_version]
    if upgradeable_to is not None:
        target = parse_release(upgradeable_to)
        if target is None:
            raise ValueError(f"invalid version {upgradeable_to!r}")
        if target.minor_version != current.minor_version and current < target:
            minors.append(target.minor_version)
    by_version = {s.open_shift_version: s for s in (shipped() if sets is None else sets)}
    by_operator: dict[str, list[PlatformWorkloadIdentityRole]] = {}
    for minor in minors:
        role_set = by_version.get(minor)
        if role_set is None:
            raise MissingRoleSet(minor)
        for role in role_set.platform_workload_identity_roles:
            known = by_operator.setdefault(role.operator_name, [])
            if all(r.role_definition_id.lower() != role.role_definition_id.lower() for r in known):
                known.append(role)
    return RequiredRoles(by_operator, " or ".join(minors))
