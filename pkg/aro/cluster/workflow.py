"""The cluster's backend: which step list carries out which request."""

from __future__ import annotations

from aro.api.cluster import OpenShiftCluster
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
from aro.api.resource import Request
from aro.cluster import delete, install, maintenance, update
from aro.cluster.context import ClusterContext
from aro.steps import Workflow

WORKFLOW: Workflow[OpenShiftCluster, ClusterContext] = Workflow(
    kind=OPENSHIFT_CLUSTERS,
    steps={
        Request.CREATE: install.STEPS,
        Request.UPDATE: update.STEPS,
        Request.DELETE: delete.STEPS,
        Request.ADMIN_UPDATE: maintenance.STEPS,
    },
    context=ClusterContext.of,
)
