"""The cluster's ARM template: network, load balancers, outbound IPs, DNS, storage and VMs.

Fully concrete (no ARM expressions but ``[resourceGroup().location]``): the same template deploys to
Azure or to the simulator in incremental mode, and redeploying it is idempotent.

The master VMs carry ``osProfile.customData``: base64 of the Ignition config of
``assets.master_ignition`` -- the cluster CA (``properties.clusterPki.caCert``) as the API server's client
CA, so the admin kubeconfig's client certificate authenticates, and the API server's serving certificate
and key (as a master's Ignition carries them), which the cluster API presents to clients naming its host.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from aro.api.cluster import OpenShiftCluster
from aro.cluster import assets

MASTERS = 3
LOCATION = "[resourceGroup().location]"


def _ip(seed: str, n: int = 0) -> str:
    """A stable public-looking IPv4 address for simulated public IPs (Azure assigns real ones)."""
    h = hashlib.sha256(f"{seed}/{n}".encode()).digest()
    return f"20.{h[0]}.{h[1]}.{max(1, h[2] % 255)}"


def dns_zone(oc: OpenShiftCluster, location: str) -> str:
    return f"{oc.properties.cluster_profile.domain}.{location}.aroapp.io"


def outbound_ip_count(oc: OpenShiftCluster) -> int:
    lb = oc.properties.network_profile.load_balancer_profile
    return lb.managed_outbound_ips.count if lb and lb.managed_outbound_ips else 1


def worker_vm_names(oc: OpenShiftCluster) -> list[str]:
    infra = oc.properties.infra_id
    names = []
    for profile in oc.properties.worker_profiles:
        names += [f"{infra}-{profile.name}-{i}" for i in range(profile.count)]
    return names


def master_custom_data(oc: OpenShiftCluster) -> str | None:
    """The masters' customData (base64 of their Ignition config); None before the cluster has its PKI."""
    pki = oc.properties.cluster_pki
    if pki is None or not pki.ca_cert:
        return None
    ignition = json.dumps(
        assets.master_ignition(pki.ca_cert, pki.apiserver_cert, pki.apiserver_key),
        separators=(",", ":"),
        sort_keys=True,
    )
    return base64.b64encode(ignition.encode()).decode()


def _vm(name: str, size: str, disk_gb: int, subnet: str, role: str, custom_data: str | None = None) -> dict[str, Any]:
    vm: dict[str, Any] = {
        "type": "Microsoft.Compute/virtualMachines",
        "apiVersion": "2024-07-01",
        "name": name,
        "location": LOCATION,
        "tags": {"aro-role": role},
        "properties": {
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {"osDisk": {"diskSizeGB": disk_gb, "createOption": "FromImage"}},
            "networkProfile": {"networkInterfaces": [{"properties": {"subnetId": subnet}}]},
        },
    }
    if custom_data is not None:
        vm["properties"]["osProfile"] = {"computerName": name, "customData": custom_data}
    return vm


def build(oc: OpenShiftCluster, location: str, *, bootstrap: bool) -> dict[str, Any]:
    props = oc.properties
    infra = props.infra_id
    zone = dns_zone(oc, location)
    api_ip, ingress_ip = _ip(infra, 0), _ip(infra, 1)
    resources: list[dict[str, Any]] = [
        {
            "type": "Microsoft.Storage/storageAccounts",
            "apiVersion": "2023-05-01",
            "name": f"cluster{props.storage_suffix}",
            "location": LOCATION,
            "sku": {"name": "Standard_LRS"},
            "kind": "StorageV2",
            "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False},
        },
        {
            "type": "Microsoft.Network/networkSecurityGroups",
            "apiVersion": "2024-05-01",
            "name": f"{infra}-nsg",
            "location": LOCATION,
            "properties": {"securityRules": []},
        },
        {
            "type": "Microsoft.Network/publicIPAddresses",
            "apiVersion": "2024-05-01",
            "name": f"{infra}-pip-v4",
            "location": LOCATION,
            "properties": {"publicIPAllocationMethod": "Static", "ipAddress": api_ip},
        },
        {
            "type": "Microsoft.Network/publicIPAddresses",
            "apiVersion": "2024-05-01",
            "name": f"{infra}-default-v4",
            "location": LOCATION,
            "properties": {"publicIPAllocationMethod": "Static", "ipAddress": ingress_ip},
        },
        *outbound_ips(oc),
        {
            "type": "Microsoft.Network/loadBalancers",
            "apiVersion": "2024-05-01",
            "name": infra,
            "location": LOCATION,
            "properties": {"frontendIPConfigurations": [{"name": "public-lb-ip-v4"}]},
        },
        {
            "type": "Microsoft.Network/loadBalancers",
            "apiVersion": "2024-05-01",
            "name": f"{infra}-internal",
            "location": LOCATION,
            "properties": {"frontendIPConfigurations": [{"name": "internal-lb-ip-v4"}]},
        },
        {
            "type": "Microsoft.Network/dnsZones",
            "apiVersion": "2018-05-01",
            "name": zone,
            "location": "global",
        },
        {
            "type": "Microsoft.Network/dnsZones/A",
            "apiVersion": "2018-05-01",
            "name": f"{zone}/api",
            "properties": {"TTL": 300, "ARecords": [{"ipv4Address": api_ip}]},
        },
        {
            "type": "Microsoft.Network/dnsZones/A",
            "apiVersion": "2018-05-01",
            "name": f"{zone}/*.apps",
            "properties": {"TTL": 300, "ARecords": [{"ipv4Address": ingress_ip}]},
        },
    ]
    master = props.master_profile
    if bootstrap:
        resources.append(_vm(f"{infra}-bootstrap", master.vm_size, 120, master.subnet_id, "bootstrap"))
    custom_data = master_custom_data(oc)
    resources += [
        _vm(f"{infra}-master-{i}", master.vm_size, 1024, master.subnet_id, "master", custom_data)
        for i in range(MASTERS)
    ]
    for profile in props.worker_profiles:
        resources += [
            _vm(
                f"{infra}-{profile.name}-{i}",
                profile.vm_size,
                profile.disk_size_gb,
                profile.subnet_id,
                "worker",
            )
            for i in range(profile.count)
        ]
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": resources,
        "outputs": {
            "apiServerIp": {"type": "string", "value": api_ip},
            "ingressIp": {"type": "string", "value": ingress_ip},
        },
    }


def outbound_ips(oc: OpenShiftCluster) -> list[dict[str, Any]]:
    infra = oc.properties.infra_id
    return [
        {
            "type": "Microsoft.Network/publicIPAddresses",
            "apiVersion": "2024-05-01",
            "name": f"{infra}-outbound-pip-{i}",
            "location": LOCATION,
            "properties": {"publicIPAllocationMethod": "Static", "ipAddress": _ip(infra, 100 + i)},
        }
        for i in range(outbound_ip_count(oc))
    ]
