"""Create-time defaults (all versions) and the lenient set of 2019-12-31-preview."""

from __future__ import annotations

import re

from aro.api import defaults
from aro.api.cluster import (
    LoadBalancerProfile,
    ManagedOutboundIPs,
    OpenShiftCluster,
    WorkerProfile,
)
from tests.api.fixtures import CTX, NAME, RG, SUB


def blank() -> OpenShiftCluster:
    """An internal cluster as a converter leaves it when the request left everything empty."""
    oc = OpenShiftCluster()
    p = oc.properties
    p.cluster_profile.fips_validated_modules = ""
    p.network_profile.outbound_type = ""
    p.network_profile.preconfigured_nsg = ""
    p.master_profile.encryption_at_host = ""
    p.apiserver_profile.visibility = ""
    p.worker_profiles = [WorkerProfile(name="worker", encryption_at_host="")]
    return oc


def test_apply_defaults_fills_empty_values() -> None:
    oc = blank()
    defaults.apply_defaults(oc, CTX)
    p = oc.properties
    assert p.cluster_profile.version == CTX.default_version
    assert re.fullmatch(r"[a-z][a-z0-9]{7}", p.cluster_profile.domain)
    assert p.cluster_profile.resource_group_id == f"/subscriptions/{SUB}/resourceGroups/aro-{p.cluster_profile.domain}"
    assert p.cluster_profile.fips_validated_modules == "Disabled"
    assert p.network_profile.outbound_type == "Loadbalancer"
    assert p.network_profile.preconfigured_nsg == "Disabled"
    lb = p.network_profile.load_balancer_profile
    assert lb is not None and lb.managed_outbound_ips is not None and lb.managed_outbound_ips.count == 1
    assert p.master_profile.encryption_at_host == "Disabled"
    assert p.worker_profiles[0].encryption_at_host == "Disabled"


def test_apply_defaults_keeps_given_values() -> None:
    oc = blank()
    p = oc.properties
    p.cluster_profile.version = "4.17.27"
    p.cluster_profile.domain = "mydomain"
    p.cluster_profile.resource_group_id = "/subscriptions/x/resourceGroups/mine"
    p.cluster_profile.fips_validated_modules = "Enabled"
    p.network_profile.load_balancer_profile = LoadBalancerProfile(managed_outbound_ips=ManagedOutboundIPs(count=4))
    defaults.apply_defaults(oc, CTX)
    assert (p.cluster_profile.version, p.cluster_profile.domain) == ("4.17.27", "mydomain")
    assert p.cluster_profile.resource_group_id == "/subscriptions/x/resourceGroups/mine"
    assert p.cluster_profile.fips_validated_modules == "Enabled"
    assert p.network_profile.load_balancer_profile.managed_outbound_ips is not None
    assert p.network_profile.load_balancer_profile.managed_outbound_ips.count == 4


def test_no_outbound_ips_for_user_defined_routing() -> None:
    oc = blank()
    oc.properties.network_profile.outbound_type = "UserDefinedRouting"
    defaults.apply_defaults(oc, CTX)
    assert oc.properties.network_profile.load_balancer_profile is None


def test_random_domains_differ_and_are_dns_labels() -> None:
    domains = {defaults.random_domain() for _ in range(50)}
    assert len(domains) > 45
    assert all(re.fullmatch(r"[a-z][a-z0-9]{7}", d) for d in domains)


def test_lenient_defaults() -> None:
    oc = blank()
    oc.properties.worker_profiles = []
    defaults.apply_lenient_defaults(oc, CTX)
    p = oc.properties
    vnet = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/{NAME}-vnet"
    assert (p.network_profile.pod_cidr, p.network_profile.service_cidr) == ("10.128.0.0/14", "172.30.0.0/16")
    assert (p.master_profile.vm_size, p.master_profile.subnet_id) == ("Standard_D8s_v5", f"{vnet}/subnets/master")
    assert [(w.name, w.vm_size, w.disk_size_gb, w.subnet_id, w.count) for w in p.worker_profiles] == [
        ("worker", "Standard_D4s_v5", 128, f"{vnet}/subnets/worker", 3)
    ]
    assert p.apiserver_profile.visibility == "Public"
    assert [(i.name, i.visibility) for i in p.ingress_profiles] == [("default", "Public")]


def test_lenient_defaults_fill_only_gaps() -> None:
    oc = blank()
    p = oc.properties
    p.worker_profiles = [WorkerProfile(name="worker", count=5, disk_size_gb=0)]
    p.apiserver_profile.visibility = "Private"
    p.network_profile.pod_cidr = "10.0.0.0/16"
    defaults.apply_lenient_defaults(oc, CTX)
    assert (p.worker_profiles[0].count, p.worker_profiles[0].disk_size_gb) == (5, 128)
    assert p.apiserver_profile.visibility == "Private"
    assert p.network_profile.pod_cidr == "10.0.0.0/16"
