"""The cluster's backend: which step list carries out which request. An admin update is a power change
(hibernation, ``power``) or a maintenance task; an update of a hibernating cluster keeps it stopped."""

from __future__ import annotations

from aro.api.cluster import OpenShiftCluster
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
from aro.api.resource import Request
from aro.cluster import delete, install, maintenance, power, update
from aro.cluster.common import update_cluster_data
from aro.cluster.context import ClusterContext
from aro.steps import Workflow

WORKFLOW: Workflow[OpenShiftCluster, ClusterContext] = Workflow(
    kind=OPENSHIFT_CLUSTERS,
    steps={
        Request.CREATE: install.STEPS,
        Request.UPDATE: power.while_hibernating("update", update.STEPS, needs_api=(update_cluster_data,)),
        Request.DELETE: delete.STEPS,
        Request.ADMIN_UPDATE: [*power.STEPS, *maintenance.STEPS],
    },
    context=ClusterContext.of,
)
