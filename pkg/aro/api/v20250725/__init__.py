"""api-version 2025-07-25: the current stable contract (strict updates, see ``updatepolicy``)."""

from __future__ import annotations

from aro.api import workloadidentity
from aro.api.actions import admin_credentials, kubeadmin_credentials
from aro.api.cluster import OpenShiftCluster
from aro.api.clustervalidation import ClusterRules, validate_cluster
from aro.api.defaults import apply_defaults, keep_current_when_empty
from aro.api.pipeline import VersionCodec, VersionedResourceAPI
from aro.api.v20250725 import convert, models, validate
from aro.api.v20250725.updatepolicy import UPDATE_POLICY
from aro.api.version import ValidationContext, Version

API_VERSION = "2025-07-25"
RULES = ClusterRules()


def validate_2025(oc: OpenShiftCluster, ctx: ValidationContext, creating: bool) -> None:
    # ARO-RP's order: the identities first, the properties, then the identities against the role set.
    current = ctx.current if isinstance(ctx.current, OpenShiftCluster) else None
    workloadidentity.check_identities(oc, current, creating)
    validate_cluster(oc, ctx, creating=creating, rules=RULES)
    workloadidentity.check_role_set(oc)


CODEC = VersionCodec(
    hub=OpenShiftCluster,
    model=models.OpenShiftCluster,
    policy=UPDATE_POLICY,
    render=convert.render,
    to_internal=convert.to_internal,
    create_defaults=apply_defaults,
    validate=validate_2025,
    replace_base=convert.skeleton,
    check=validate.check,
    keep_on_replace=keep_current_when_empty,
    # ARO-RP: a PATCH naming a cluster identity replaces the one the cluster had.
    patch_whole=(("tags",), ("identity", "userAssignedIdentities")),
)

VERSION = Version(
    api_version=API_VERSION,
    resource=VersionedResourceAPI(CODEC),
    actions={"listcredentials": kubeadmin_credentials, "listadmincredentials": admin_credentials},
    model=models.OpenShiftCluster,
    update_model=models.OpenShiftClusterUpdate,
)

# The versions catalog (locations/{location}/openShiftVersions) as this api-version renders it.
render_openshift_version = convert.openshift_version
# ... and the platform workload identity role sets (locations/{location}/platformWorkloadIdentityRoleSets).
render_role_set = convert.role_set

__all__ = ["API_VERSION", "VERSION", "render_openshift_version", "render_role_set"]
