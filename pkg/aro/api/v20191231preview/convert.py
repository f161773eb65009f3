"""2019-12-31-preview <-> internal conversion (same contract as ``aro.api.v20250725.convert``).

The pull secret travels base64-encoded in ``properties.pullSecret`` and is stored decoded in
``clusterProfile.pull_secret``; it is rendered (canonically re-encoded) only with ``secrets=True``, which
the update differ uses and clients never see.
"""

from __future__ import annotations

import base64
from typing import Any

from aro.api import cluster as api
from aro.api.external import or_empty, prune, reuse_by_name
from aro.api.v20191231preview import models as m
from aro.api.v20191231preview.validate import decode_pull_secret


def render(oc: api.OpenShiftCluster, secrets: bool) -> dict[str, Any]:
    p = oc.properties
    cp = p.cluster_profile
    sp = p.service_principal_profile
    pull_secret = base64.b64encode(cp.pull_secret.encode()).decode() if secrets else None
    return {
        "id": oc.id,
        "name": oc.name,
        "type": oc.type,
        "location": oc.location,
        "tags": dict(oc.tags) or None,
        "properties": {
            "provisioningState": p.provisioning_state.value,
            "pullSecret": pull_secret,
            "clusterProfile": {
                "domain": cp.domain,
                "version": cp.version,
                "resourceGroupId": cp.resource_group_id,
            },
            "consoleProfile": {"url": p.console_profile.url},
            "servicePrincipalProfile": (
                None
                if sp is None
                else {"clientId": sp.client_id, "clientSecret": sp.client_secret if secrets else None}
            ),
            "networkProfile": {
                "podCidr": p.network_profile.pod_cidr,
                "serviceCidr": p.network_profile.service_cidr,
            },
            "masterProfile": {"vmSize": p.master_profile.vm_size, "subnetId": p.master_profile.subnet_id},
            "workerProfiles": [
                {
                    "name": w.name,
                    "vmSize": w.vm_size,
                    "diskSizeGB": w.disk_size_gb,
                    "subnetId": w.subnet_id,
                    "count": w.count,
                }
                for w in p.worker_profiles
            ],
            "apiserverProfile": {
                "visibility": p.apiserver_profile.visibility,
                "url": p.apiserver_profile.url,
                "ip": p.apiserver_profile.ip,
            },
            "ingressProfiles": [{"name": i.name, "visibility": i.visibility, "ip": i.ip} for i in p.ingress_profiles],
        },
    }


def current(oc: api.OpenShiftCluster) -> dict[str, Any]:
    """Base of a (lenient) PUT replace: everything, secrets included, so omitted fields keep their values."""
    return dict(prune(render(oc, True)))


def to_internal(ext: m.OpenShiftCluster, oc: api.OpenShiftCluster) -> None:
    p = ext.properties or m.OpenShiftClusterProperties()
    props = oc.properties

    cp_in, cp = p.cluster_profile or m.ClusterProfile(), props.cluster_profile
    cp.pull_secret = decode_pull_secret(p.pull_secret)
    cp.domain = or_empty(cp_in.domain)
    cp.version = or_empty(cp_in.version)
    cp.resource_group_id = or_empty(cp_in.resource_group_id)

    sp = p.service_principal_profile
    if sp is None:
        props.service_principal_profile = None
    else:
        kept = props.service_principal_profile or api.ServicePrincipalProfile()
        props.service_principal_profile = kept.model_copy(
            update={"client_id": or_empty(sp.client_id), "client_secret": or_empty(sp.client_secret)}
        )

    net_in, net = p.network_profile or m.NetworkProfile(), props.network_profile
    net.pod_cidr = or_empty(net_in.pod_cidr)
    net.service_cidr = or_empty(net_in.service_cidr)

    mp_in = p.master_profile or m.MasterProfile()
    props.master_profile.vm_size = or_empty(mp_in.vm_size)
    props.master_profile.subnet_id = or_empty(mp_in.subnet_id)

    workers_in = p.worker_profiles or []
    props.worker_profiles = reuse_by_name(
        props.worker_profiles, [or_empty(w.name) for w in workers_in], api.WorkerProfile
    )
    for w_in, w in zip(workers_in, props.worker_profiles, strict=True):
        w.name = or_empty(w_in.name)
        w.vm_size = or_empty(w_in.vm_size)
        w.disk_size_gb = w_in.disk_size_gb or 0
        w.subnet_id = or_empty(w_in.subnet_id)
        w.count = w_in.count or 0

    props.apiserver_profile.visibility = or_empty((p.apiserver_profile or m.APIServerProfile()).visibility)

    ingress_in = p.ingress_profiles or []
    props.ingress_profiles = reuse_by_name(
        props.ingress_profiles, [or_empty(i.name) for i in ingress_in], api.IngressProfile
    )
    for i_in, i in zip(ingress_in, props.ingress_profiles, strict=True):
        i.name = or_empty(i_in.name)
        i.visibility = or_empty(i_in.visibility)
