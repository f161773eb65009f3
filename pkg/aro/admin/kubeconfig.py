"""Read a cluster document straight from the store, decrypt it, and return its admin kubeconfig."""

from __future__ import annotations

from aro.api.cluster import OpenShiftCluster
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
from aro.api.resource import ProvisioningState
from aro.api.template import template
from aro.database import Store
from aro.database.codec import SealedCodec
from aro.database.containers import partition_of


class AdminError(Exception):
    """A refusal with a message for the operator."""


async def admin_kubeconfig(store: Store, codec: SealedCodec[OpenShiftCluster], resource_id: str) -> str:
    rid = "/" + resource_id.strip("/")
    matched = template(OPENSHIFT_CLUSTERS.route).match(rid)
    if matched is None or matched[1] != rid:
        raise AdminError(
            f"'{resource_id}' is not a cluster resource id "
            "(/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.RedHatOpenShift/openShiftClusters/NAME)"
        )
    params = matched[0]
    doc = await store.container(OPENSHIFT_CLUSTERS.container_name).get_by_key(
        rid.lower(), partition_of(params["subscriptionId"])
    )
    if doc is None:
        raise AdminError(f"cluster {resource_id} not found")
    oc = codec.decode(doc)
    state = oc.properties.provisioning_state
    if state is not ProvisioningState.SUCCEEDED:
        raise AdminError(f"cluster {resource_id} is {state.value}, not Succeeded: no admin kubeconfig to give")
    if not oc.properties.admin_kubeconfig:
        raise AdminError(f"cluster {resource_id} has no admin kubeconfig")
    return oc.properties.admin_kubeconfig
