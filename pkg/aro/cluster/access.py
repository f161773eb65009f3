"""What the SRE backplane knows of a classic cluster (``openShiftClusters``) and how it reaches its API: the
kind's ``ClusterAccess`` (``aro.backplane.target``), read from the cluster's document through the kind's
codec (secrets unsealed in memory only), never from the cloud.

- ``facts``: name, provisioning state, hibernating (``aro.api.cluster.is_hibernating``: ``power_state``
  other than ``Running``, from the admin's hibernate request until a resume started the VMs), region
  (``location``), managed resource group id (``clusterProfile.resourceGroupId``), console URL
  (``consoleProfile.url``). Classic clusters have no paused reconciliation: ``paused`` is always False.
  None when the document does not exist.
- ``upstream``: the stored admin kubeconfig -- its server, CA, ``tls-server-name`` and the
  ``system:admin`` client certificate (``system:masters``: it may impersonate) and key. A cluster without
  one (an install that has not written it) is refused with 409, one whose kubeconfig cannot be read with 500.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import yaml

from aro.api.cluster import OpenShiftCluster, is_hibernating
from aro.api.resource import ProvisioningState
from aro.backplane.errors import BackplaneError
from aro.backplane.target import ClusterFacts, Upstream
from aro.database import Store
from aro.database.codec import SealedCodec
from aro.database.containers import partition_of

CONTAINER = "openShiftClusters"


def subscription_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""


def _text(data: Any, what: str) -> str:
    if not isinstance(data, str) or not data:
        return ""
    try:
        return base64.b64decode(data, validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BackplaneError(500, f"The cluster's admin kubeconfig has an unreadable {what}") from None


def upstream_of_kubeconfig(text: str) -> Upstream:
    """The first cluster and user of a kubeconfig with embedded (``-data``) certificates."""
    try:
        config = yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        raise BackplaneError(500, "The cluster's admin kubeconfig is not valid YAML") from None
    clusters = config.get("clusters") if isinstance(config, dict) else None
    users = config.get("users") if isinstance(config, dict) else None
    if not clusters or not users or not isinstance(clusters, list) or not isinstance(users, list):
        raise BackplaneError(500, "The cluster's admin kubeconfig names no cluster or no user")
    cluster = (clusters[0] or {}).get("cluster") or {}
    user = (users[0] or {}).get("user") or {}
    upstream = Upstream(
        url=str(cluster.get("server") or ""),
        ca_pem=_text(cluster.get("certificate-authority-data"), "CA"),
        cert_pem=_text(user.get("client-certificate-data"), "client certificate"),
        key_pem=_text(user.get("client-key-data"), "client key"),
        tls_server_name=str(cluster.get("tls-server-name") or ""),
    )
    if not upstream.url.startswith("https://") or not upstream.cert_pem or not upstream.key_pem:
        raise BackplaneError(500, "The cluster's admin kubeconfig has no https server or no client certificate")
    return upstream


class ClassicAccess:
    """``ClusterAccess`` of ``openShiftClusters``."""

    def __init__(self, store: Store, codec: SealedCodec[OpenShiftCluster]) -> None:
        self._clusters = store.container(CONTAINER)
        self._codec = codec

    async def _cluster(self, resource_id: str) -> OpenShiftCluster | None:
        sub = subscription_of(resource_id)
        if not sub:
            return None
        doc = await self._clusters.get_by_key(resource_id.lower(), partition_of(sub))
        return None if doc is None else self._codec.decode(doc)

    async def facts(self, resource_id: str) -> ClusterFacts | None:
        oc = await self._cluster(resource_id)
        if oc is None:
            return None
        p = oc.properties
        return ClusterFacts(
            name=oc.name,
            provisioning_state=p.provisioning_state.value,
            paused=False,
            hibernating=is_hibernating(oc),
            region=oc.location,
            managed_resource_group_id=p.cluster_profile.resource_group_id,
            console_url=p.console_profile.url,
        )

    async def upstream(self, resource_id: str) -> Upstream:
        oc = await self._cluster(resource_id)
        if oc is None:
            raise BackplaneError(404, "The cluster was not found (it was deleted)")
        if not oc.properties.admin_kubeconfig:
            state = oc.properties.provisioning_state
            why = "its install has not made one yet" if state is not ProvisioningState.SUCCEEDED else "it has none"
            raise BackplaneError(409, f"cluster {oc.name} has no admin credential: {why}")
        return upstream_of_kubeconfig(oc.properties.admin_kubeconfig)
