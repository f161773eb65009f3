"""api-version 2019-12-31-preview: the seed README's version (lenient create, scalable workers)."""

from __future__ import annotations

from aro.api.actions import kubeadmin_credentials
from aro.api.cluster import OpenShiftCluster
from aro.api.defaults import apply_defaults, apply_lenient_defaults
from aro.api.pipeline import ClusterCodec, VersionedClusterAPI
from aro.api.v20191231preview import convert, models, validate
from aro.api.v20191231preview.updatepolicy import UPDATE_POLICY
from aro.api.validation import ClusterRules
from aro.api.version import ValidationContext, Version

API_VERSION = "2019-12-31-preview"


def create_defaults(oc: OpenShiftCluster, ctx: ValidationContext) -> None:
    apply_lenient_defaults(oc, ctx)
    apply_defaults(oc, ctx)


CODEC = ClusterCodec(
    model=models.OpenShiftCluster,
    policy=UPDATE_POLICY,
    render=convert.render,
    to_internal=convert.to_internal,
    create_defaults=create_defaults,
    replace_base=convert.current,
    check=validate.check,
    rules=ClusterRules(pull_secret_target=validate.PULL_SECRET, require_credentials=False),
    lenient_replace=True,
)

VERSION = Version(
    api_version=API_VERSION,
    cluster=VersionedClusterAPI(CODEC),
    actions={"credentials": kubeadmin_credentials},
    cluster_model=models.OpenShiftCluster,
    cluster_update_model=models.OpenShiftCluster,
)

__all__ = ["API_VERSION", "VERSION"]
