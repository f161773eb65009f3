"""A classic cluster in the ledger: its plan (``OCP``/``ARO``) and where its facts live."""

from __future__ import annotations

from aro.api.cluster import OpenShiftCluster
from aro.cloud.kube import KubeAPI
from aro.cluster.context import ClusterContext
from aro.ledger.model import CLASSIC_PLAN
from aro.steps.ledger import ClusterLedger
from aro.util import kubeconfig


async def admin_api(ctx: ClusterContext) -> KubeAPI:
    """The cluster's API with its admin kubeconfig's client certificate."""
    return ctx.cloud.cluster_api(ctx.endpoint, *kubeconfig.client_credentials(ctx.oc.properties.admin_kubeconfig))


def _external_id(oc: OpenShiftCluster) -> str:
    return oc.properties.cluster_id


def _console(oc: OpenShiftCluster) -> str:
    return oc.properties.console_profile.url


def _version(oc: OpenShiftCluster) -> str:
    return oc.properties.cluster_profile.version


LEDGER: ClusterLedger[OpenShiftCluster] = ClusterLedger(CLASSIC_PLAN, _external_id, _console, _version, admin_api)
