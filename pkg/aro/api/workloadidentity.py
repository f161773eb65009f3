"""The rules of a workload identity (managed identity) cluster, in ARO-RP's codes, targets and words.

- ``check_identities`` (ARO-RP's static ``validatePlatformIdentities`` and
  ``validatePlatformWorkloadIdentityProfile``, and on an update the part of ``validateDelta`` about operator
  identities): either a service principal or identities; the cluster identity and the platform workload
  identities require each other; exactly one cluster identity; well-formed, distinct identity ids.
- ``check_role_set`` (ARO-RP's frontend ``validatePlatformWorkloadIdentities``, re-run by the install as its
  dynamic validation does): exactly the operators of the role set of the cluster's minor version (and of
  ``upgradeableTo``'s, when that is a later minor).

A cluster "uses workload identity" as ARO-RP's ``UsesWorkloadIdentity``: a platform workload identity
profile and no service principal profile.
"""

from __future__ import annotations

import re

from aro.api.cluster import OpenShiftCluster, PlatformWorkloadIdentity
from aro.api.errors import INVALID_PARAMETER, PROPERTY_CHANGE_NOT_ALLOWED, CloudError
from aro.api.rolesets import MissingRoleSet, PlatformWorkloadIdentityRoleSet, RequiredRoles, roles_for

PLATFORM_WORKLOAD_IDENTITY_MISMATCH = "PlatformWorkloadIdentityMismatch"
INVALID_PLATFORM_WORKLOAD_IDENTITY = "InvalidPlatformWorkloadIdentity"
PLATFORM_WORKLOAD_IDENTITY_CONTAINS_INVALID_CREDENTIAL = "PlatformWorkloadIdentityContainsInvalidCredential"
MAX_PLATFORM_IDENTITIES = 50

SP_PATH = "properties.servicePrincipalProfile"
PWI_PATH = "properties.platformWorkloadIdentityProfile"
PWIS_PATH = f"{PWI_PATH}.platformWorkloadIdentities"
# ARO-RP's target of the role-set mismatch (its casing).
MISMATCH_TARGET = "properties.PlatformWorkloadIdentityProfile.PlatformWorkloadIdentities"

# azcore's arm.ParseResourceID, as far as the rule needs it: /subscriptions/{s}/resourceGroups/{rg}/providers/
# {namespace}/{type}/{name}[/{type}/{name}]...; ``type`` is the last resource type.
_ARM_ID = re.compile(
    r"^/subscriptions/[^/\s]+/resourceGroups/[^/\s]+/providers/[^/\s]+/(?P<rest>[^/\s]+/[^/\s]+(/[^/\s]+/[^/\s]+)*)\Z",
    re.I,
)
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\Z"
)


def uses_workload_identity(oc: OpenShiftCluster) -> bool:
    p = oc.properties
    return p.platform_workload_identity_profile is not None and p.service_principal_profile is None


def resource_type(resource_id: str) -> str | None:
    """The last resource type of an ARM id (``userAssignedIdentities``), None if it is not one."""
    m = _ARM_ID.match(resource_id)
    if m is None:
        return None
    segments = m["rest"].split("/")
    return segments[-2]


def check_identities(oc: OpenShiftCluster, current: OpenShiftCluster | None, creating: bool) -> None:
    """The static rules (first error wins, in ARO-RP's order). ``current``: the cluster as it was (update)."""
    p = oc.properties
    pwi, sp = p.platform_workload_identity_profile, p.service_principal_profile
    if pwi is None and sp is None and creating:  # an update of a credential-less 2019 cluster stays possible
        raise _invalid(SP_PATH, "Must provide either an identity or service principal credentials.")
    if pwi is not None and sp is not None and (sp.client_id or sp.client_secret):
        raise _invalid(SP_PATH, "Cannot use identities and service principal credentials at the same time.")
    if (oc.identity is not None) != (pwi is not None):
        raise _invalid("identity", "Cluster identity and platform workload identities require each other.")
    if oc.identity is not None and len(oc.identity.user_assigned_identities) != 1:
        raise _invalid("identity", "The provided cluster identity is invalid; there should be exactly one.")
    if pwi is not None and not pwi.platform_workload_identities:
        raise _invalid(PWIS_PATH, "The set of platform workload identities cannot be empty.")
    if oc.identity is not None:
        for key in oc.identity.user_assigned_identities:
            if resource_type(key) != "userAssignedIdentities":
                # ARO-RP answers 500 (its ClusterMsiResourceId fails later); a 400 names the field instead.
                raise _invalid(
                    "identity.userAssignedIdentities", f"The provided user-assigned identity '{key[:300]}' is invalid."
                )
    if pwi is not None:
        _profile(pwi.platform_workload_identities, pwi.upgradeable_to)
    if current is not None and current.properties.platform_workload_identity_profile is not None:
        _delta(oc, current)


def _profile(identities: dict[str, PlatformWorkloadIdentity], upgradeable_to: str | None) -> None:
    if len(identities) > MAX_PLATFORM_IDENTITIES:
        raise _invalid(PWIS_PATH, f"At most {MAX_PLATFORM_IDENTITIES} platform workload identities are allowed.")
    seen: set[str] = set()
    for name, identity in identities.items():
        resource_id = identity.resource_id
        lowered = resource_id.lower()
        if lowered in seen:
            raise _invalid(
                f"{PWI_PATH}.PlatformWorkloadIdentities", f"ResourceID {lowered[:300]} used by multiple identities."
            )
        seen.add(lowered)
        target = f"{PWI_PATH}.PlatformWorkloadIdentities[{name[:100]}].resourceID"
        kind = resource_type(resource_id)
        if kind is None:
            raise _invalid(target, f"ResourceID {resource_id[:300]} formatted incorrectly.")
        if name == "":
            raise _invalid(target, "Operator name is empty.")
        if kind != "userAssignedIdentities":
            raise _invalid(target, "Resource must be a user assigned identity.")
    if upgradeable_to is not None and not _SEMVER.match(upgradeable_to):
        raise _invalid(
            f"{PWI_PATH}.UpgradeableTo[{upgradeable_to[:100]}]",
            "UpgradeableTo must be a valid OpenShift version in the format 'x.y.z'.",
        )


def _delta(oc: OpenShiftCluster, current: OpenShiftCluster) -> None:
    pwi = oc.properties.platform_workload_identity_profile
    if pwi is None:
        raise _invalid(PWI_PATH, f"The field '{PWI_PATH}' is required.")
    old = current.properties.platform_workload_identity_profile
    assert old is not None
    for name in old.platform_workload_identities:
        if name not in pwi.platform_workload_identities:
            message = "Operator identity cannot be removed or have its name changed."
            raise CloudError(400, PROPERTY_CHANGE_NOT_ALLOWED, message, PWIS_PATH)


def required_roles(oc: OpenShiftCluster, sets: list[PlatformWorkloadIdentityRoleSet] | None = None) -> RequiredRoles:
    """The roles the cluster's identities must match (``check_role_set``'s first half); 400 InvalidParameter
    when its minor version (or ``upgradeableTo``'s) has no role set."""
    pwi = oc.properties.platform_workload_identity_profile
    upgradeable = pwi.upgradeable_to if pwi is not None else None
    try:
        return roles_for(oc.properties.cluster_profile.version, upgradeable, sets)
    except MissingRoleSet as e:
        raise CloudError(
            400,
            INVALID_PARAMETER,
            f"No PlatformWorkloadIdentityRoleSet found for the requested or upgradeable OpenShift minor version "
            f"'{e.minor}'. Please retry with different OpenShift version, and if the issue persists, raise an "
            "Azure support ticket",
        ) from None
    except ValueError:
        raise _invalid(
            "properties.clusterProfile.version",
            f"The requested OpenShift version '{oc.properties.cluster_profile.version[:100]}' is invalid.",
        ) from None


def check_role_set(oc: OpenShiftCluster, sets: list[PlatformWorkloadIdentityRoleSet] | None = None) -> RequiredRoles:
    """A workload identity cluster's identities name exactly the operators of its role set(s); the roles
    (for the install). Service principal clusters: nothing to check (empty roles)."""
    if not uses_workload_identity(oc):
        return RequiredRoles({}, "")
    roles = required_roles(oc, sets)
    pwi = oc.properties.platform_workload_identity_profile
    assert pwi is not None
    if not roles.matches(pwi.platform_workload_identities):
        raise mismatch(roles)
    return roles


def mismatch(roles: RequiredRoles) -> CloudError:
    names = " ".join(sorted(roles.by_operator))
    return CloudError(
        400,
        PLATFORM_WORKLOAD_IDENTITY_MISMATCH,
        "There's a mismatch between the required and expected set of platform workload identities for the "
        f"requested OpenShift minor version '{roles.versions}'. The required platform workload identities are "
        f"'[{names}]'",
        MISMATCH_TARGET,
    )


def _invalid(target: str, message: str) -> CloudError:
    return CloudError(400, INVALID_PARAMETER, message, target)
