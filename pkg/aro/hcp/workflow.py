"""The hosted-cluster kinds' backends: which step list carries out which request, and the pause.

Clusters and node pools can be paused (``aro.hcp.pause``): their create and update lists begin with
``{prefix}.reconciliation_active`` (the condition is True again once they run); a cluster's update then
records its feature set (``aro.hcp.admin``) and ends with its power change (hibernation, ``aro.hcp.power``;
node pools keep a hibernating cluster's VMs stopped). A cluster's etcd backups and restores (admin actions,
``aro.hcp.backup``, ``aro.hcp.restore``) run while it is paused.
"""

from __future__ import annotations

from typing import Any

from aro.api.hcp.cluster import REQUEST_CREDENTIAL, REVOKE_CREDENTIALS, HcpOpenShiftCluster
from aro.api.hcp.etcdbackup import ETCD_BACKUP, ETCD_RESTORE
from aro.api.hcp.externalauth import ExternalAuth
from aro.api.hcp.nodepool import NodePool
from aro.api.hcpopenshiftclusters import EXTERNAL_AUTHS, HCP_OPENSHIFT_CLUSTERS, NODE_POOLS
from aro.api.resource import Request
from aro.hcp import admin, backup, cluster, credentials, externalauth, nodepool, power, recover, restore
from aro.hcp.context import HostedContext
from aro.hcp.pause import CLUSTER_PAUSE, NODE_POOL_PAUSE, resumed
from aro.steps import Workflow

CLUSTERS: Workflow[HcpOpenShiftCluster, HostedContext[HcpOpenShiftCluster]] = Workflow(
    kind=HCP_OPENSHIFT_CLUSTERS,
    steps={
        Request.CREATE: resumed("hcp.create", cluster.CREATE),
        Request.UPDATE: resumed(
            "hcp.update", admin.with_feature_set("hcp.update", [*cluster.UPDATE, *power.CLUSTER_STEPS])
        ),
        Request.DELETE: cluster.DELETE,
        REQUEST_CREDENTIAL: credentials.REQUEST,
        REVOKE_CREDENTIALS: credentials.REVOKE,
        ETCD_BACKUP: backup.BACKUP,
        ETCD_RESTORE: restore.RESTORE,
        recover.RECOVER: recover.STEPS,
    },
    context=HostedContext.of,
    pause=CLUSTER_PAUSE,
    monitor=recover.check,
)

NODE_POOLS_WORKFLOW: Workflow[NodePool, HostedContext[NodePool]] = Workflow(
    kind=NODE_POOLS,
    steps={
        Request.CREATE: resumed("nodepool.create", power.node_pool_steps(nodepool.CREATE)),
        Request.UPDATE: resumed("nodepool.update", power.node_pool_steps(nodepool.UPDATE)),
        Request.DELETE: nodepool.DELETE,
    },
    context=HostedContext.of,
    pause=NODE_POOL_PAUSE,
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
