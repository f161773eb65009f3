"""2025-07-25 <-> internal conversion.

Contract (ARO's, see STYLE item 6):
- ``render`` never changes its input; with ``secrets=False`` (what clients see) it never includes the pull
  secret, the client secret or any backend-only field; zero values are dropped by the caller (``prune``).
- ``to_internal`` writes only the fields this version maps, onto an existing internal cluster, so fields it
  does not know (and read-only / backend fields) survive a PUT.
- ``skeleton`` is the base a PUT replace is overlaid on: the fields a client cannot send back (secrets) and
  the version, as ARO keeps them.
"""

from __future__ import annotations

from typing import Any

from aro.api import cluster as api
from aro.api.external import or_empty, or_none, reuse_by_name
from aro.api.rolesets import PlatformWorkloadIdentityRoleSet
from aro.api.v20250725 import models as m


def render(oc: api.OpenShiftCluster, secrets: bool) -> dict[str, Any]:
    p = oc.properties
    cp = p.cluster_profile
    return {
        "id": oc.id,
        "name": oc.name,
        "type": oc.type,
        "location": oc.location,
        "tags": dict(oc.tags) or None,
        "systemData": oc.system_data.model_dump(by_alias=True, exclude_none=True) if oc.system_data else None,
        "identity": _identity_out(oc.identity),
        "properties": {
            "provisioningState": p.provisioning_state.value,
            "clusterProfile": {
                "pullSecret": cp.pull_secret if secrets else None,
                "domain": cp.domain,
                "version": cp.version,
                "resourceGroupId": cp.resource_group_id,
                "fipsValidatedModules": cp.fips_validated_modules,
                "oidcIssuer": cp.oidc_issuer,
            },
            "consoleProfile": {"url": p.console_profile.url},
            "servicePrincipalProfile": _sp_out(p.service_principal_profile, secrets),
            "platformWorkloadIdentityProfile": _pwi_out(p.platform_workload_identity_profile),
            "networkProfile": _network_out(p.network_profile),
            "masterProfile": {
                "vmSize": p.master_profile.vm_size,
                "subnetId": p.master_profile.subnet_id,
                "encryptionAtHost": p.master_profile.encryption_at_host,
                "diskEncryptionSetId": p.master_profile.disk_encryption_set_id,
            },
            "workerProfiles": [_worker_out(w) for w in p.worker_profiles],
            "workerProfilesStatus": [_worker_out(w) for w in p.worker_profiles_status] or None,
            "apiserverProfile": {
                "visibility": p.apiserver_profile.visibility,
                "url": p.apiserver_profile.url,
                "ip": p.apiserver_profile.ip,
            },
            "ingressProfiles": [{"name": i.name, "visibility": i.visibility, "ip": i.ip} for i in p.ingress_profiles],
        },
    }


def openshift_version(v: api.OpenShiftVersion, resource_id: str) -> dict[str, Any]:
    """One entry of the versions catalog, as an ARM proxy resource."""
    return {
        "id": resource_id,
        "name": v.version,
        "type": "Microsoft.RedHatOpenShift/locations/openShiftVersions",
        "properties": {"version": v.version},
    }


ROLE_SET_TYPE = "Microsoft.RedHatOpenShift/PlatformWorkloadIdentityRoleSet"


def role_set(entry: PlatformWorkloadIdentityRoleSet, resource_id: str) -> dict[str, Any]:
    """One entry of ``locations/{l}/platformWorkloadIdentityRoleSets``, as ARO-RP renders it: named by the
    minor version, ARO-RP's type, no id (its role set documents carry none), the operators' roles only
    (service accounts and secret locations stay internal)."""
    return {
        "name": entry.open_shift_version,
        "type": ROLE_SET_TYPE,
        "properties": {
            "openShiftVersion": entry.open_shift_version,
            "platformWorkloadIdentityRoles": [
                {
                    "operatorName": r.operator_name,
                    "roleDefinitionName": r.role_definition_name,
                    "roleDefinitionId": r.role_definition_id,
                }
                for r in entry.platform_workload_identity_roles
            ],
        },
    }


def skeleton(oc: api.OpenShiftCluster) -> dict[str, Any]:
    cp = oc.properties.cluster_profile
    props: dict[str, Any] = {"clusterProfile": {"pullSecret": cp.pull_secret, "version": cp.version}}
    sp = oc.properties.service_principal_profile
    if sp is not None:
        props["servicePrincipalProfile"] = {"clientSecret": sp.client_secret}
    return {"properties": props}


def _identity_out(identity: api.ManagedServiceIdentity | None) -> dict[str, Any] | None:
    if identity is None:
        return None
    return {
        "type": identity.type,
        "principalId": identity.principal_id,
        "tenantId": identity.tenant_id,
        "userAssignedIdentities": {
            k: {"principalId": v.principal_id, "clientId": v.client_id}
            for k, v in identity.user_assigned_identities.items()
        },
    }


def _sp_out(sp: api.ServicePrincipalProfile | None, secrets: bool) -> dict[str, Any] | None:
    if sp is None:
        return None
    return {"clientId": sp.client_id, "clientSecret": sp.client_secret if secrets else None}


def _pwi_out(pwi: api.PlatformWorkloadIdentityProfile | None) -> dict[str, Any] | None:
    if pwi is None:
        return None
    return {
        "upgradeableTo": pwi.upgradeable_to,
        "platformWorkloadIdentities": {
            k: {"resourceId": v.resource_id, "clientId": v.client_id, "objectId": v.object_id}
            for k, v in pwi.platform_workload_identities.items()
        },
    }


def _network_out(net: api.NetworkProfile) -> dict[str, Any]:
    lb = net.load_balancer_profile
    lb_out: dict[str, Any] | None = None
    if lb is not None:
        mo = lb.managed_outbound_ips
        lb_out = {
            "managedOutboundIps": {"count": mo.count} if mo is not None else None,
            "effectiveOutboundIps": [{"id": e.id} for e in lb.effective_outbound_ips] or None,
        }
    return {
        "podCidr": net.pod_cidr,
        "serviceCidr": net.service_cidr,
        "outboundType": net.outbound_type,
        "preconfiguredNSG": net.preconfigured_nsg,
        "loadBalancerProfile": lb_out,
    }


def _worker_out(w: api.WorkerProfile) -> dict[str, Any]:
    return {
        "name": w.name,
        "vmSize": w.vm_size,
        "diskSizeGB": w.disk_size_gb,
        "subnetId": w.subnet_id,
        "count": w.count,
        "encryptionAtHost": w.encryption_at_host,
        "diskEncryptionSetId": w.disk_encryption_set_id,
    }


def to_internal(ext: m.OpenShiftCluster, oc: api.OpenShiftCluster) -> None:
    oc.identity = _identity_in(ext.identity, oc.identity)
    p = ext.properties or m.OpenShiftClusterProperties()
    props = oc.properties

    cp_in, cp = p.cluster_profile or m.ClusterProfile(), props.cluster_profile
    cp.pull_secret = or_empty(cp_in.pull_secret)
    cp.domain = or_empty(cp_in.domain)
    cp.version = or_empty(cp_in.version)
    cp.resource_group_id = or_empty(cp_in.resource_group_id)
    cp.fips_validated_modules = or_empty(cp_in.fips_validated_modules)

    sp = p.service_principal_profile
    props.service_principal_profile = (
        None
        if sp is None
        else api.ServicePrincipalProfile(client_id=or_empty(sp.client_id), client_secret=or_empty(sp.client_secret))
    )
    props.platform_workload_identity_profile = _pwi_in(
        p.platform_workload_identity_profile, props.platform_workload_identity_profile
    )
    _network_in(p.network_profile or m.NetworkProfile(), props.network_profile)

    mp_in, mp = p.master_profile or m.MasterProfile(), props.master_profile
    mp.vm_size = or_empty(mp_in.vm_size)
    mp.subnet_id = or_empty(mp_in.subnet_id)
    mp.encryption_at_host = or_empty(mp_in.encryption_at_host)
    mp.disk_encryption_set_id = or_none(mp_in.disk_encryption_set_id)

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
        w.encryption_at_host = or_empty(w_in.encryption_at_host)
        w.disk_encryption_set_id = or_none(w_in.disk_encryption_set_id)

    props.apiserver_profile.visibility = or_empty((p.apiserver_profile or m.APIServerProfile()).visibility)

    ingress_in = p.ingress_profiles or []
    props.ingress_profiles = reuse_by_name(
        props.ingress_profiles, [or_empty(i.name) for i in ingress_in], api.IngressProfile
    )
    for i_in, i in zip(ingress_in, props.ingress_profiles, strict=True):
        i.name = or_empty(i_in.name)
        i.visibility = or_empty(i_in.visibility)


def _identity_in(
    ext: m.ManagedServiceIdentity | None, old: api.ManagedServiceIdentity | None
) -> api.ManagedServiceIdentity | None:
    if ext is None:
        return None
    new = old.model_copy(deep=True) if old is not None else api.ManagedServiceIdentity()
    new.type = ext.type or "None"
    previous = new.user_assigned_identities
    new.user_assigned_identities = {
        key: previous.get(key) or api.UserAssignedIdentity() for key in ext.user_assigned_identities or {}
    }
    return new


def _pwi_in(
    ext: m.PlatformWorkloadIdentityProfile | None, old: api.PlatformWorkloadIdentityProfile | None
) -> api.PlatformWorkloadIdentityProfile | None:
    if ext is None:
        return None
    new = old.model_copy(deep=True) if old is not None else api.PlatformWorkloadIdentityProfile()
    new.upgradeable_to = or_none(ext.upgradeable_to)
    previous = new.platform_workload_identities
    identities: dict[str, api.PlatformWorkloadIdentity] = {}
    for name, wi in (ext.platform_workload_identities or {}).items():
        resource_id = or_empty(wi.resource_id)
        kept = previous.get(name)
        # client/object ids are resolved by the backend; keep them only while the identity is unchanged.
        if kept is not None and kept.resource_id.casefold() == resource_id.casefold():
            identities[name] = kept
        else:
            identities[name] = api.PlatformWorkloadIdentity(resource_id=resource_id)
    new.platform_workload_identities = identities
    return new


def _network_in(ext: m.NetworkProfile, net: api.NetworkProfile) -> None:
    net.pod_cidr = or_empty(ext.pod_cidr)
    net.service_cidr = or_empty(ext.service_cidr)
    net.outbound_type = or_empty(ext.outbound_type)
    net.preconfigured_nsg = or_empty(ext.preconfigured_nsg)
    # managedOutboundIps.count is the one mutable network field: an omitted value keeps the current one.
    lb = ext.load_balancer_profile
    count = lb.managed_outbound_ips.count if lb is not None and lb.managed_outbound_ips is not None else None
    if count is not None:
        if net.load_balancer_profile is None:
            net.load_balancer_profile = api.LoadBalancerProfile()
        net.load_balancer_profile.managed_outbound_ips = api.ManagedOutboundIPs(count=count)
