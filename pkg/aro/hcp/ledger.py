"""A hosted cluster in the ledger: its plan (``OCP``/``ARO-HCP``) and where its facts live."""

from __future__ import annotations

from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.cloud.kube import KubeAPI
from aro.hcp.context import HostedContext, backend_api
from aro.ledger.model import HOSTED_PLAN
from aro.steps.ledger import ClusterLedger


async def admin_api(ctx: HostedContext[HcpOpenShiftCluster]) -> KubeAPI:
    return backend_api(ctx.cloud, ctx.hub)


def _external_id(oc: HcpOpenShiftCluster) -> str:
    return oc.properties.cluster_id


def _console(oc: HcpOpenShiftCluster) -> str:
    return oc.properties.console.url


def _version(oc: HcpOpenShiftCluster) -> str:
    return oc.properties.release


LEDGER: ClusterLedger[HcpOpenShiftCluster] = ClusterLedger(HOSTED_PLAN, _external_id, _console, _version, admin_api)
