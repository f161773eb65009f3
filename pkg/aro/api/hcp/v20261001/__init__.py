"""api-version 2026-10-01 of ARO-HCP's hosted clusters, node pools and external auths (the contract of the
SDK ``azure-mgmt-redhatopenshifthcp`` 1.0.0), and the catalogs' renderers."""

from __future__ import annotations

from aro.api.hcp import featureset
from aro.api.hcp.cluster import REQUEST_CREDENTIAL, REVOKE_CREDENTIALS, HcpOpenShiftCluster
from aro.api.hcp.clusterrules import validate_cluster
from aro.api.hcp.externalauth import ExternalAuth
from aro.api.hcp.externalauthrules import validate_external_auth
from aro.api.hcp.nodepool import NodePool
from aro.api.hcp.nodepoolrules import validate_node_pool
from aro.api.hcp.v20261001 import (
    actions,
    clusterconvert,
    clustermodels,
    externalauthconvert,
    externalauthmodels,
    nodepoolconvert,
    nodepoolmodels,
)
from aro.api.hcp.v20261001.catalog import render_role_set, render_version
from aro.api.pipeline import VersionCodec, VersionedResourceAPI
from aro.api.version import AsyncAction, ValidationContext, Version

API_VERSION = "2026-10-01"


def _validate_cluster(oc: HcpOpenShiftCluster, ctx: ValidationContext, creating: bool) -> None:
    """ARO-HCP's field rules, then the admin feature set's: TechPreviewNoUpgrade blocks minor upgrades."""
    validate_cluster(oc, ctx, creating)
    featureset.check_upgrade(oc, ctx, creating)


CLUSTER_CODEC = VersionCodec(
    hub=HcpOpenShiftCluster,
    model=clustermodels.HcpOpenShiftCluster,
    policy=clusterconvert.POLICY,
    render=clusterconvert.render,
    to_internal=clusterconvert.to_internal,
    create_defaults=clusterconvert.create_defaults,
    validate=_validate_cluster,
    replace_base=clusterconvert.replace_base,
    keep_on_replace=clusterconvert.keep_on_replace,
)

CLUSTER: Version[HcpOpenShiftCluster] = Version(
    api_version=API_VERSION,
    resource=VersionedResourceAPI(CLUSTER_CODEC),
    actions={
        "requestadmincredential": AsyncAction(
            REQUEST_CREDENTIAL, result=actions.credential_result, accept=actions.accept_credential_request
        ),
        "revokecredentials": AsyncAction(REVOKE_CREDENTIALS, result=None, accept=actions.accept_revocation),
    },
    model=clustermodels.HcpOpenShiftCluster,
    update_model=clustermodels.HcpOpenShiftClusterUpdate,
)

NODE_POOL_CODEC = VersionCodec(
    hub=NodePool,
    model=nodepoolmodels.NodePool,
    policy=nodepoolconvert.POLICY,
    render=nodepoolconvert.render,
    to_internal=nodepoolconvert.to_internal,
    create_defaults=nodepoolconvert.create_defaults,
    validate=validate_node_pool,
    replace_base=nodepoolconvert.replace_base,
    keep_on_replace=nodepoolconvert.keep_on_replace,
)

NODE_POOL: Version[NodePool] = Version(
    api_version=API_VERSION,
    resource=VersionedResourceAPI(NODE_POOL_CODEC),
    model=nodepoolmodels.NodePool,
    update_model=nodepoolmodels.NodePoolUpdate,
)

EXTERNAL_AUTH_CODEC = VersionCodec(
    hub=ExternalAuth,
    model=externalauthmodels.ExternalAuth,
    policy=externalauthconvert.POLICY,
    render=externalauthconvert.render,
    to_internal=externalauthconvert.to_internal,
    create_defaults=externalauthconvert.create_defaults,
    validate=validate_external_auth,
    replace_base=externalauthconvert.replace_base,
    tracked=False,
)

EXTERNAL_AUTH: Version[ExternalAuth] = Version(
    api_version=API_VERSION,
    resource=VersionedResourceAPI(EXTERNAL_AUTH_CODEC),
    model=externalauthmodels.ExternalAuth,
    update_model=externalauthmodels.ExternalAuth,
)

__all__ = ["API_VERSION", "CLUSTER", "EXTERNAL_AUTH", "NODE_POOL", "render_role_set", "render_version"]
