"""``GET|POST /backplane/login/{clusterId}``: an SRE asks to enter a cluster (what ``ocm backplane login``
calls before it writes a kubeconfig whose server is the backplane's proxy).

- 200 ``{"proxy_uri": "/backplane/cluster/{clusterId}/", "statusCode": 200, "message": "..."}``: the
  path under this RP where the cluster's API answers as the SRE (``aro.frontend.backplane.proxy``);
- 400 when the cluster may not be entered (not ``Succeeded``, paused by an admin, hibernating -- the
  message says which: ``refuse_unless_usable``), 404 for a cluster id the ledger does not know (or whose
  cluster was deleted), 401 / 403 for the caller (``common.authenticate_sre``).

Nothing is written: a login is a check and the proxy's address. The proxy makes the same check on every
request, so a cluster that becomes unusable after the login is refused there too.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from aro.backplane.target import refuse_unless_usable
from aro.frontend.backplane.common import BackplaneDep, Sre, answer

router = APIRouter()

CLUSTER_PREFIX = "/backplane/cluster/"


def proxy_uri(cluster_id: str) -> str:
    return f"{CLUSTER_PREFIX}{cluster_id}/"


@router.api_route("/login/{cluster_id}", methods=["GET", "POST"])
async def login(cluster_id: str, sre: Sre, backplane: BackplaneDep) -> Response:
    view = await backplane.targets.find(cluster_id)
    refuse_unless_usable(view, "login")
    name = view.facts.name or view.cluster_id
    return answer(
        {
            "proxy_uri": proxy_uri(view.cluster_id),
            "statusCode": 200,
            "message": f"Logged in to cluster {name} ({view.cluster_id}) as {sre.username}",
        }
    )
