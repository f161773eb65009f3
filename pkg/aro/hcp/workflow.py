"""The hosted-cluster kinds' backends: which step list carries out which request."""

from __future__ import annotations

from typing import Any

from aro.api.hcp.cluster import REQUEST_CREDENTIAL, REVOKE_CREDENTIALS, HcpOpenShiftCluster
from aro.api.hcp.externalauth import ExternalAuth
from aro.api.hcp.nodepool import NodePool
from aro.api.hcpopenshiftclusters import EXTERNAL_AUTHS, HCP_OPENSHIFT_CLUSTERS, NODE_POOLS
from aro.api.resource import Request
from aro.hcp import cluster, credentials, externalauth, nodepool
from aro.hcp.context import HostedContext
from aro.steps import Workflow

CLUSTERS: Workflow[HcpOpenShiftCluster, HostedContext[HcpOpenShiftCluster]] = Workflow(
    kind=HCP_OPENSHIFT_CLUSTERS,
    steps={
        Request.CREATE: cluster.CREATE,
        Request.UPDATE: cluster.UPDATE,
        Request.DELETE: cluster.DELETE,
        REQUEST_CREDENTIAL: credentials.REQUEST,
        REVOKE_CREDENTIALS: credentials.REVOKE,
    },
    context=HostedContext.of,
)

NODE_POOLS_WORKFLOW: Workflow[NodePool, HostedContext[NodePool]] = Workflow(
    kind=NODE_POOLS,
    steps={Request.CREATE: nodepool.CREATE, Request.UPDATE: nodepool.UPDATE, Request.DELETE: nodepool.DELETE},
    context=HostedContext.of,
)

EXTERNAL_AUTHS_WORKFLOW: Workflow[ExternalAuth, HostedContext[ExternalAuth]] = Workflow(
    kind=EXTERNAL_AUTHS,
    steps={
        Request.CREATE: externalauth.CREATE,
        Request.UPDATE: externalauth.UPDATE,
        Request.DELETE: externalauth.DELETE,
    },
    context=HostedContext.of,
)

WORKFLOWS: tuple[Workflow[Any, Any], ...] = (CLUSTERS, NODE_POOLS_WORKFLOW, EXTERNAL_AUTHS_WORKFLOW)
