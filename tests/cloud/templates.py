"""ARM templates shaped like ARO's: base resources, then the VMs the installer would create."""

from __future__ import annotations

from typing import Any

RG_PREFIX = "/subscriptions/{sub}/resourceGroups/{rg}/providers"


def base_template() -> dict[str, Any]:
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "storageSuffix": {"type": "string"},
            "domain": {"type": "string"},
            "infraId": {"type": "string"},
            "apiIp": {"type": "string", "defaultValue": "10.0.0.4"},
        },
        "variables": {"vnet": "[concat(parameters('infraId'), '-vnet')]"},
        "resources": [
            {
                "type": "Microsoft.Storage/storageAccounts",
                "apiVersion": "2023-01-01",
                "name": "[concat('cluster', parameters('storageSuffix'))]",
                "location": "[resourceGroup().location]",
                "sku": {"name": "Standard_LRS"},
                "kind": "StorageV2",
                "properties": {"minimumTlsVersion": "TLS1_2"},
            },
            {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2023-09-01",
                "name": "[variables('vnet')]",
                "location": "[resourceGroup().location]",
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.0.0.0/22"]},
                    "subnets": [
                        {"name": "master", "properties": {"addressPrefix": "10.0.0.0/23"}},
                        {"name": "worker", "properties": {"addressPrefix": "10.0.2.0/23"}},
                    ],
                },
            },
            {
                "type": "Microsoft.Network/loadBalancers",
                "apiVersion": "2023-09-01",
                "name": "[concat(parameters('infraId'), '-internal')]",
                "location": "[resourceGroup().location]",
                "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', variables('vnet'))]"],
                "sku": {"name": "Standard"},
                "properties": {"frontendIPConfigurations": [{"name": "internal-lb-ip-v4"}]},
            },
            {
                "type": "Microsoft.Network/dnsZones",
                "apiVersion": "2018-05-01",
                "name": "[parameters('domain')]",
                "location": "global",
                "properties": {},
            },
            {
                "type": "Microsoft.Network/dnsZones/A",
                "apiVersion": "2018-05-01",
                "name": "[concat(parameters('domain'), '/api')]",
                "dependsOn": ["[resourceId('Microsoft.Network/dnsZones', parameters('domain'))]"],
                "properties": {"TTL": 300, "ARecords": [{"ipv4Address": "[parameters('apiIp')]"}]},
            },
            {
                "type": "Microsoft.Network/dnsZones/A",
                "apiVersion": "2018-05-01",
                "name": "[concat(parameters('domain'), '/*.apps')]",
                "properties": {"TTL": 300, "ARecords": [{"ipv4Address": "10.0.0.5"}]},
            },
        ],
        "outputs": {
            "storageAccount": {"type": "string", "value": "[concat('cluster', parameters('storageSuffix'))]"},
            "infraId": {"type": "string", "value": "[parameters('infraId')]"},
            "literal": {"type": "int", "value": 42},
        },
    }


def vm_template(infra_id: str, masters: int = 3, workers: int = 3) -> dict[str, Any]:
    names = [f"{infra_id}-master-{i}" for i in range(masters)]
    names += [f"{infra_id}-worker-eastus{i + 1}-{i:05d}" for i in range(workers)]
    return {
        "parameters": {"vmSize": {"type": "string", "defaultValue": "Standard_D8s_v5"}},
        "resources": [
            {
                "type": "Microsoft.Compute/virtualMachines",
                "apiVersion": "2024-03-01",
                "name": name,
                "location": "[resourceGroup().location]",
                "properties": {"hardwareProfile": {"vmSize": "[parameters('vmSize')]"}},
            }
            for name in names
        ],
    }
