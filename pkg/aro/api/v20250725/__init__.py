"""api-version 2025-07-25: the current stable contract (strict updates, see ``updatepolicy``)."""

from __future__ import annotations

from aro.api.actions import admin_credentials, kubeadmin_credentials, openshift_version_to_external
from aro.api.defaults import apply_defaults
from aro.api.pipeline import ClusterCodec, VersionedClusterAPI
from aro.api.v20250725 import convert, models, validate
from aro.api.v20250725.updatepolicy import UPDATE_POLICY
from aro.api.version import Version

API_VERSION = "2025-07-25"

CODEC = ClusterCodec(
    model=models.OpenShiftCluster,
    policy=UPDATE_POLICY,
    render=convert.render,
    to_internal=convert.to_internal,
    create_defaults=apply_defaults,
    replace_base=convert.skeleton,
    check=validate.check,
)

VERSION = Version(
    api_version=API_VERSION,
    cluster=VersionedClusterAPI(CODEC),
    actions={"listcredentials": kubeadmin_credentials, "listadmincredentials": admin_credentials},
    version_to_external=openshift_version_to_external,
    cluster_model=models.OpenShiftCluster,
    cluster_update_model=models.OpenShiftClusterUpdate,
)

__all__ = ["API_VERSION", "VERSION"]
