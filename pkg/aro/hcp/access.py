"""What the SRE backplane knows of a hosted cluster (``hcpOpenShiftClusters``) and how it reaches its API:
the kind's ``ClusterAccess`` (``aro.backplane.target``), read from the cluster's document through the
kind's codec; built by ``aro.run`` with the process's cloud.

- ``facts``: name, provisioning state, paused (HyperShift's ``pausedUntil`` pausing now:
  ``aro.api.hcp.pausing``), hibernating (``aro.api.hcp.cluster.is_hibernating``: ``power_state`` other
  than ``Running``), region (``location``), managed resource group id
  (``/subscriptions/{sub}/resourceGroups/{platform.managedResourceGroup}``; "" before the create set it),
  console URL (``console.url``). None when the document does not exist.
- ``upstream``: the cluster's API on the management cluster (``Cloud.hosted_endpoint`` of its namespace)
  and a ``system:masters`` client certificate of ``BACKPLANE_USER`` from the cluster's current client CA
  (``aro.hcp.context.client_certificate``: a day's validity, cached per CA; a credential revocation
  replaces the CA, so the backplane is never locked out by one). 409 before the create made the CA and
  the namespace; 503 in a process without a cloud (``aro frontend`` with no simulator endpoint or Azure
  configured): the facts (login, console) still work there, the proxy does not.
"""

from __future__ import annotations

import time

from aro.api.hcp import pausing
from aro.api.hcp.cluster import HcpOpenShiftCluster, is_hibernating
from aro.backplane.errors import BackplaneError
from aro.backplane.target import ClusterFacts, Upstream
from aro.cloud.base import Cloud
from aro.database import Store
from aro.database.codec import SealedCodec
from aro.database.containers import partition_of
from aro.hcp.context import CLUSTERS_CONTAINER, client_certificate

BACKPLANE_USER = "system:aro-backplane"


def subscription_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""


class HostedAccess:
    """``ClusterAccess`` of ``hcpOpenShiftClusters``."""

    def __init__(self, store: Store, codec: SealedCodec[HcpOpenShiftCluster], cloud: Cloud | None) -> None:
        self._clusters = store.container(CLUSTERS_CONTAINER)
        self._codec = codec
        self._cloud = cloud

    async def _cluster(self, resource_id: str) -> tuple[str, HcpOpenShiftCluster] | None:
        sub = subscription_of(resource_id)
        if not sub:
            return None
        doc = await self._clusters.get_by_key(resource_id.lower(), partition_of(sub))
        return None if doc is None else (sub, self._codec.decode(doc))

    async def facts(self, resource_id: str) -> ClusterFacts | None:
        found = await self._cluster(resource_id)
        if found is None:
            return None
        sub, hub = found
        p = hub.properties
        group = p.platform.managed_resource_group
        return ClusterFacts(
            name=hub.name,
            provisioning_state=p.provisioning_state.value,
            paused=pausing.paused_until(p.paused_until, time.time()) is not None,
            hibernating=is_hibernating(hub),
            region=hub.location,
            managed_resource_group_id=f"/subscriptions/{sub}/resourceGroups/{group}" if group else "",
            console_url=p.console.url,
        )

    async def upstream(self, resource_id: str) -> Upstream:
        found = await self._cluster(resource_id)
        if found is None:
            raise BackplaneError(404, "The cluster was not found (it was deleted)")
        _, hub = found
        p = hub.properties
        if p.signer is None or not p.signer.ca_cert or not p.management_namespace:
            raise BackplaneError(409, f"cluster {hub.name} has no API credential yet: its create has not made one")
        if self._cloud is None:
            raise BackplaneError(503, "This RP process has no cloud configured: it cannot reach hosted clusters' APIs")
        endpoint = self._cloud.hosted_endpoint(p.management_namespace)
        cert = client_certificate(p.signer.ca_cert, p.signer.ca_key, BACKPLANE_USER)
        return Upstream(url=endpoint.url, ca_pem=endpoint.ca_pem, cert_pem=cert.cert_pem, key_pem=cert.key_pem)
