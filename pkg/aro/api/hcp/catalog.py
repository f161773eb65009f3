"""The catalogs of hosted clusters: installable OpenShift versions (``hcpOpenShiftVersions``, shipped as
``versions.json``) and the operator identity role sets (``hcpOperatorIdentityRoleSets``).

Both satisfy ``aro.api.kind.CatalogEntry`` (``name``, ``enabled``, ``default``). A version's ``name`` is
the OpenShift version (``4.20.8``); the same version may be listed in several channel groups, so the
catalog's resource name is ``resource_name`` (``4.20.8`` in ``stable``, ``4.20.8-fast`` elsewhere, as
Cluster Service names them).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from aro.api.hcp.versioning import EXPERIMENTAL_CHANNEL_GROUPS, Version, parse_full, parse_minor
from aro.api.resource import Model

STABLE = "stable"
VERSIONS_FILE = "versions.json"


class HcpVersion(Model):
    name: str  # "4.20.8"
    channel_group: str = STABLE
    enabled: bool = True  # may be used to create clusters and node pools
    end_of_life_timestamp: str = ""  # RFC 3339
    default: bool = False

    @property
    def resource_name(self) -> str:
        return self.name if self.channel_group == STABLE else f"{self.name}-{self.channel_group}"

    @property
    def parsed(self) -> Version:
        v = parse_full(self.name)
        if v is None:  # load_versions refuses such entries
            raise ValueError(f"not a version: {self.name!r}")
        return v

    def end_of_life(self) -> dt.datetime | None:
        return parse_timestamp(self.end_of_life_timestamp) if self.end_of_life_timestamp else None

    def available(self, now: dt.datetime) -> bool:
        """Enabled and not past its end of life."""
        eol = self.end_of_life()
        return self.enabled and (eol is None or now < eol)


def utcnow() -> dt.datetime:
    """The clock validation judges end of life by (tests replace it)."""
    return dt.datetime.now(dt.UTC)


def parse_timestamp(text: str) -> dt.datetime:
    """RFC 3339 (``Z`` or an offset) -> an aware datetime; ValueError otherwise."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return value


def load_versions(path: str | Path | None = None) -> list[HcpVersion]:
    """The versions catalog from ``path`` (default: the ``versions.json`` shipped in this package),
    validated: ``X.Y.Z`` names (a pre-release only in candidate and nightly), known channel groups, RFC 3339
    end-of-life timestamps, unique (name, channel group), at most one default."""
    if path is None:
        text = resources.files("aro.api.hcp").joinpath(VERSIONS_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    raw = json.loads(text)
    items = raw.get("versions") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise ValueError("the versions catalog must be a list (or an object with a 'versions' list)")
    try:
        versions = [HcpVersion.model_validate(item) for item in items]
    except ValidationError as exc:
        raise ValueError(f"invalid versions catalog entry: {exc}") from None
    check_versions(versions)
    return versions


def check_versions(versions: Sequence[HcpVersion]) -> None:
    seen: set[tuple[str, str]] = set()
    for v in versions:
        parsed = parse_full(v.name)
        if parsed is None:
            raise ValueError(f"version {v.name!r}: the name must be X.Y.Z")
        if v.channel_group not in EXPERIMENTAL_CHANNEL_GROUPS:
            raise ValueError(f"version {v.name!r}: unknown channel group {v.channel_group!r}")
        if parsed.pre and v.channel_group not in ("candidate", "nightly"):
            raise ValueError(f"version {v.name!r}: a pre-release belongs to candidate or nightly")
        if v.end_of_life_timestamp:
            try:
                v.end_of_life()
            except ValueError:
                raise ValueError(f"version {v.name!r}: invalid endOfLifeTimestamp") from None
        key = (v.name, v.channel_group)
        if key in seen:
            raise ValueError(f"version {v.name!r} is listed twice in channel group {v.channel_group!r}")
        seen.add(key)
    if sum(v.default for v in versions) > 1:
        raise ValueError("at most one version may be the default")


def in_channel(versions: Iterable[Any], channel: str) -> list[HcpVersion]:
    return [v for v in versions if isinstance(v, HcpVersion) and v.channel_group == channel]


def find(versions: Iterable[Any], name: str, channel: str) -> HcpVersion | None:
    return next((v for v in in_channel(versions, channel) if v.name == name), None)


def newest_enabled(versions: Iterable[Any], minor: str, channel: str, now: dt.datetime) -> HcpVersion | None:
    """The newest z-stream of release line ``minor`` (``X.Y``) in ``channel`` that is enabled and not past
    its end of life: what a control plane at ``X.Y`` runs."""
    line = parse_minor(minor)
    if line is None:
        return None
    candidates = [v for v in in_channel(versions, channel) if v.available(now) and v.parsed.line == line.line]
    return max(candidates, key=lambda v: v.parsed, default=None)


# --- operator identity role sets ------------------------------------------------------------------------


class RoleDefinition(Model):
    name: str = ""
    resource_id: str = ""  # /providers/Microsoft.Authorization/roleDefinitions/<guid>


class OperatorIdentityRoles(Model):
    name: str = ""
    required: str = "Always"  # Always | OnEnablement
    role_definitions: list[RoleDefinition] = Field(default_factory=list)


class RoleSet(Model):
    name: str  # the release line it applies to, "4.20"
    control_plane_operators: list[OperatorIdentityRoles] = Field(default_factory=list)
    data_plane_operators: list[OperatorIdentityRoles] = Field(default_factory=list)
    enabled: bool = True
    default: bool = False


def _role(name: str, guid: str) -> RoleDefinition:
    return RoleDefinition(name=name, resource_id=f"/providers/Microsoft.Authorization/roleDefinitions/{guid}")


# Azure's built-in roles for the ARO-HCP operators (Cluster Service's azure-operators-managed-identities).
ROLES = {
    "cluster-api-azure": _role(
        "Azure Red Hat OpenShift Hosted Control Planes Cluster API Provider", "88366f10-ed47-4cc0-9fab-c8a06148393e"
    ),
    "control-plane": _role(
        "Azure Red Hat OpenShift Hosted Control Planes Control Plane Operator", "fc0c873f-45e9-4d0d-a7d1-585aab30c6ed"
    ),
    "cloud-controller-manager": _role(
        "Azure Red Hat OpenShift Cloud Controller Manager", "a1f96423-95ce-4224-ab27-4e3dc72facd4"
    ),
    "ingress": _role("Azure Red Hat OpenShift Cluster Ingress Operator", "0336e1d3-7a87-462b-b6db-342b63f7802c"),
    "disk-csi-driver": _role("Azure Red Hat OpenShift Disk Storage Operator", "5b7237c5-45e1-49d6-bc18-a1f62f400748"),
    "file-csi-driver": _role("Azure Red Hat OpenShift File Storage Operator", "0d7aedc0-15fd-4a67-a412-efad370c947e"),
    "image-registry": _role("Azure Red Hat OpenShift Image Registry Operator", "8b32b316-c2f5-4ddf-b05b-83dacd2d08b5"),
    "cloud-network-config": _role("Azure Red Hat OpenShift Network Operator", "be7a6435-15ae-4171-8f30-4a343eff9e8f"),
    "kms": _role("Key Vault Crypto User", "12338af0-0e69-4776-bea7-57ae8d297424"),
}
SERVICE_MANAGED_IDENTITY_ROLE = _role(
    "Azure Red Hat OpenShift Hosted Control Planes Service Managed Identity", "c0ff367d-66d8-445e-917c-583feb0ef0d4"
)
CONTROL_PLANE_OPERATORS = (
    "cluster-api-azure",
    "control-plane",
    "cloud-controller-manager",
    "ingress",
    "disk-csi-driver",
    "file-csi-driver",
    "image-registry",
    "cloud-network-config",
    "kms",
)
DATA_PLANE_OPERATORS = ("disk-csi-driver", "file-csi-driver", "image-registry")
OPTIONAL_OPERATORS = frozenset({"kms"})  # required only when the feature is enabled (etcd KMS encryption)


def _operators(names: Sequence[str]) -> list[OperatorIdentityRoles]:
    return [
        OperatorIdentityRoles(
            name=n,
            required="OnEnablement" if n in OPTIONAL_OPERATORS else "Always",
            role_definitions=[ROLES[n].model_copy()],
        )
        for n in names
    ]


def default_role_sets(lines: Sequence[str] = ("4.20", "4.21", "4.22")) -> list[RoleSet]:
    """One role set per release line (the same operators for every line so far)."""
    return [
        RoleSet(
            name=line,
            control_plane_operators=_operators(CONTROL_PLANE_OPERATORS),
            data_plane_operators=_operators(DATA_PLANE_OPERATORS),
            default=line == lines[-1],
        )
        for line in lines
    ]


DEFAULT_ROLE_SETS: list[RoleSet] = default_role_sets()
