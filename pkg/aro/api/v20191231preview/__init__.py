"""api-version 2019-12-31-preview: the seed README's version (lenient create, scalable workers)."""

from __future__ import annotations

from aro.api.actions import kubeadmin_credentials
from aro.api.cluster import OpenShiftCluster
from aro.api.clustervalidation import ClusterRules, validate_cluster
from aro.api.defaults import apply_defaults, apply_lenient_defaults, keep_current_when_empty
from aro.api.pipeline import VersionCodec, VersionedResourceAPI
from aro.api.v20191231preview import convert, models, validate
from aro.api.v20191231preview.updatepolicy import UPDATE_POLICY
from aro.api.version import ValidationContext, Version

API_VERSION = "2019-12-31-preview"
RULES = ClusterRules(pull_secret_target=validate.PULL_SECRET, require_credentials=False)


def create_defaults(oc: OpenShiftCluster, ctx: ValidationContext) -> None:
    apply_lenient_defaults(oc, ctx)
    apply_defaults(oc, ctx)


def validate_2019(oc: OpenShiftCluster, ctx: ValidationContext, creating: bool) -> None:
    validate_cluster(oc, ctx, creating=creating, rules=RULES)


CODEC = VersionCodec(
    hub=OpenShiftCluster,
    model=models.OpenShiftCluster,
    policy=UPDATE_POLICY,
    render=convert.render,
    to_internal=convert.to_internal,
    create_defaults=create_defaults,
    validate=validate_2019,
    replace_base=convert.current,
    check=validate.check,
    keep_on_replace=keep_current_when_empty,
    lenient_replace=True,
)

VERSION = Version(
    api_version=API_VERSION,
    resource=VersionedResourceAPI(CODEC),
    actions={"credentials": kubeadmin_credentials},
    model=models.OpenShiftCluster,
    update_model=models.OpenShiftCluster,
)

__all__ = ["API_VERSION", "VERSION"]
