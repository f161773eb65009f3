"""``GET /backplane/cloud/console/{clusterId}``: a link to the cluster's managed resource group in the cloud
console (``ocm backplane cloud console``), for an SRE.

- 200 ``{"clusterID", "consoleLink", "region"}``: the link the process's ``Backplane.console_link`` makes
  (the cloud's; valid for ``backplane.consoleLinkSeconds``) to the group of the cluster's managed resource
  group id, and the cluster's region;
- 400 when the cluster has no managed resource group yet (an install that has not made it); 404 for an
  unknown cluster id; 401 / 403 for the caller; 503 when this process has no console link provider (a
  frontend without a cloud); 404 when the cloud no longer has the group, 502 when the cloud failed.

A console link is not refused for a paused or hibernating cluster: looking at the cloud resources of a
cluster that is down is what it is for.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from aro.api.errors import CloudError
from aro.backplane.errors import BackplaneError
from aro.frontend.backplane.common import BackplaneDep, Sre, answer

router = APIRouter()


def _group(resource_group_id: str) -> tuple[str, str] | None:
    """(subscription, resource group name) of ``/subscriptions/{s}/resourceGroups/{rg}``."""
    parts = resource_group_id.strip("/").split("/")
    if len(parts) != 4 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
        return None
    if not parts[1] or not parts[3]:
        return None
    return parts[1], parts[3]


@router.get("/cloud/console/{cluster_id}")
async def cloud_console(cluster_id: str, sre: Sre, backplane: BackplaneDep) -> Response:
    view = await backplane.targets.find(cluster_id)
    group = _group(view.facts.managed_resource_group_id)
    if group is None:
        name = view.facts.name or view.cluster_id
        raise BackplaneError(400, f"cluster {name} has no managed resource group yet, cloud console failed")
    if backplane.console_link is None:
        raise BackplaneError(503, "This RP process has no cloud to make console links with")
    try:
        link = await backplane.console_link(group[0], group[1], backplane.settings.console_link_seconds)
    except CloudError as e:
        if e.status == 404:
            raise BackplaneError(404, f"The managed resource group {group[1]} was not found in the cloud") from None
        raise BackplaneError(502, f"The cloud could not make a console link: {e.message}") from None
    return answer({"clusterID": view.cluster_id, "consoleLink": link, "region": view.facts.region})
