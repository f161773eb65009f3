"""Read a cluster document straight from the store, decrypt it, and return its admin kubeconfig."""

from __future__ import annotations

from aro.api.cluster import ProvisioningState
from aro.database import Store
from aro.database.clusters import ClusterCodec
from aro.database.containers import OPENSHIFT_CLUSTERS, partition_of


class AdminError(Exception):
    """A refusal with a message for the operator."""


async def admin_kubeconfig(store: Store, codec: ClusterCodec, resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    if len(parts) != 8 or parts[0].lower() != "subscriptions" or parts[6].lower() != "openshiftclusters":
        raise AdminError(
            f"'{resource_id}' is not a cluster resource id "
            "(/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.RedHatOpenShift/openShiftClusters/NAME)"
        )
    key = "/" + "/".join(parts).lower()
    doc = await store.container(OPENSHIFT_CLUSTERS.name).get_by_key(key, partition_of(parts[1]))
    if doc is None:
        raise AdminError(f"cluster {resource_id} not found")
    oc = codec.decode(doc)
    state = oc.properties.provisioning_state
    if state is not ProvisioningState.SUCCEEDED:
        raise AdminError(f"cluster {resource_id} is {state.value}, not Succeeded: no admin kubeconfig to give")
    if not oc.properties.admin_kubeconfig:
        raise AdminError(f"cluster {resource_id} has no admin kubeconfig")
    return oc.properties.admin_kubeconfig
