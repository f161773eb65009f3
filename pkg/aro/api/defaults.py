"""Defaults filled in on create (never on update), on the internal model.

``apply_defaults`` is what every api-version gets (ARO's ``SetDefaults`` plus the default version, domain
and cluster resource group the az CLI would otherwise generate). ``apply_lenient_defaults`` is the extra set
that lets 2019-12-31-preview create a cluster from only ``location`` and ``properties.pullSecret`` (the seed
README's curl flow); run it before ``apply_defaults``.
"""

from __future__ import annotations

import re
import secrets
import string

from aro.api.cluster import (
    IngressProfile,
    LoadBalancerProfile,
    ManagedOutboundIPs,
    OpenShiftCluster,
    WorkerProfile,
)
from aro.api.version import ValidationContext

DISABLED = "Disabled"
LOADBALANCER = "Loadbalancer"
PUBLIC = "Public"

DEFAULT_POD_CIDR = "10.128.0.0/14"
DEFAULT_SERVICE_CIDR = "172.30.0.0/16"
DEFAULT_MASTER_VM_SIZE = "Standard_D8s_v5"
DEFAULT_WORKER_VM_SIZE = "Standard_D4s_v5"
DEFAULT_WORKER_DISK_SIZE_GB = 128
DEFAULT_WORKER_COUNT = 3
DEFAULT_WORKER_PROFILE = "worker"
DEFAULT_INGRESS_PROFILE = "default"
DEFAULT_OUTBOUND_IPS = 1


def random_domain(length: int = 8) -> str:
    """A DNS label like the az CLI generates: a lowercase letter, then lowercase letters and digits."""
    first = secrets.choice(string.ascii_lowercase)
    return first + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(length - 1))


def apply_defaults(oc: OpenShiftCluster, ctx: ValidationContext) -> None:
    """Fill the create-time defaults into ``oc`` (in place)."""
    props = oc.properties
    cp = props.cluster_profile
    if not cp.version:
        cp.version = ctx.default_version
    if not cp.fips_validated_modules:
        cp.fips_validated_modules = DISABLED
    if not cp.domain:
        cp.domain = random_domain()
    if not cp.resource_group_id:
        cp.resource_group_id = f"/subscriptions/{ctx.subscription_id}/resourceGroups/aro-{cp.domain}"

    net = props.network_profile
    if not net.outbound_type:
        net.outbound_type = LOADBALANCER
    if not net.preconfigured_nsg:
        net.preconfigured_nsg = DISABLED
    if net.outbound_type == LOADBALANCER:
        if net.load_balancer_profile is None:
            net.load_balancer_profile = LoadBalancerProfile()
        if net.load_balancer_profile.managed_outbound_ips is None:
            net.load_balancer_profile.managed_outbound_ips = ManagedOutboundIPs(count=DEFAULT_OUTBOUND_IPS)

    if not props.master_profile.encryption_at_host:
        props.master_profile.encryption_at_host = DISABLED
    for wp in props.worker_profiles:
        if not wp.encryption_at_host:
            wp.encryption_at_host = DISABLED


def subnet_id(ctx: ValidationContext, subnet: str) -> str:
    """The subnet the lenient defaults point at: ``{name}-vnet`` in the cluster's resource group (a name
    that is no virtual network name -- parentheses, over 64 characters -- made into one)."""
    vnet = re.sub(r"[^-A-Za-z0-9_.]", "-", ctx.name)[:59] + "-vnet"
    return (
        f"/subscriptions/{ctx.subscription_id}/resourceGroups/{ctx.resource_group}"
        f"/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}"
    )


def apply_lenient_defaults(oc: OpenShiftCluster, ctx: ValidationContext) -> None:
    """Fill everything a 2019-12-31-preview create may omit (in place); only empty values are touched."""
    props = oc.properties
    net = props.network_profile
    net.pod_cidr = net.pod_cidr or DEFAULT_POD_CIDR
    net.service_cidr = net.service_cidr or DEFAULT_SERVICE_CIDR

    master = props.master_profile
    master.vm_size = master.vm_size or DEFAULT_MASTER_VM_SIZE
    master.subnet_id = master.subnet_id or subnet_id(ctx, "master")

    if not props.worker_profiles:
        props.worker_profiles = [WorkerProfile(name=DEFAULT_WORKER_PROFILE)]
    for wp in props.worker_profiles:
        wp.name = wp.name or DEFAULT_WORKER_PROFILE
        wp.vm_size = wp.vm_size or DEFAULT_WORKER_VM_SIZE
        wp.disk_size_gb = wp.disk_size_gb or DEFAULT_WORKER_DISK_SIZE_GB
        wp.subnet_id = wp.subnet_id or subnet_id(ctx, "worker")
        wp.count = wp.count or DEFAULT_WORKER_COUNT

    props.apiserver_profile.visibility = props.apiserver_profile.visibility or PUBLIC
    if not props.ingress_profiles:
        props.ingress_profiles = [IngressProfile(name=DEFAULT_INGRESS_PROFILE, visibility=PUBLIC)]
    for ip in props.ingress_profiles:
        ip.visibility = ip.visibility or PUBLIC


def keep_current_when_empty(new: OpenShiftCluster, current: OpenShiftCluster) -> None:
    """On replace, an empty value in a field that create defaults means "as it is", so that re-sending the
    create body (as `az aro create` or an ARM template redeploy does) is idempotent, not a change."""
    n, c = new.properties, current.properties
    for attr in ("version", "fips_validated_modules", "domain", "resource_group_id"):
        if not getattr(n.cluster_profile, attr):
            setattr(n.cluster_profile, attr, getattr(c.cluster_profile, attr))
    for attr in ("outbound_type", "preconfigured_nsg"):
        if not getattr(n.network_profile, attr):
            setattr(n.network_profile, attr, getattr(c.network_profile, attr))
    current_lb = c.network_profile.load_balancer_profile
    if current_lb is not None and current_lb.managed_outbound_ips is not None:
        if n.network_profile.load_balancer_profile is None:
            n.network_profile.load_balancer_profile = current_lb.model_copy(deep=True)
        elif n.network_profile.load_balancer_profile.managed_outbound_ips is None:
            n.network_profile.load_balancer_profile.managed_outbound_ips = current_lb.managed_outbound_ips.model_copy()
    if not n.master_profile.encryption_at_host:
        n.master_profile.encryption_at_host = c.master_profile.encryption_at_host
    was = {wp.name: wp for wp in c.worker_profiles}
    for wp in n.worker_profiles:
        if not wp.encryption_at_host and wp.name in was:
            wp.encryption_at_host = was[wp.name].encryption_at_host
