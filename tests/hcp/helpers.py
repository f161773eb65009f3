"""Helpers of the hosted-cluster tests: bodies as the official SDK builds them, CSRs, kubectl."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from azure.mgmt.redhatopenshifthcp import models as m
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PROVIDER = "Microsoft.RedHatOpenShift"
ADMIN_CN = "system:customer-break-glass:system-admin"

CONTROL_PLANE_OPERATORS = (
    "cluster-api-azure",
    "control-plane",
    "cloud-controller-manager",
    "ingress",
    "disk-csi-driver",
    "file-csi-driver",
    "image-registry",
    "cloud-network-config",
)
DATA_PLANE_OPERATORS = ("disk-csi-driver", "file-csi-driver", "image-registry")


def uami(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"


def network_ids(sub: str, rg: str, vnet: str = "vnet", subnet: str = "subnet", nsg: str = "nsg") -> tuple[str, str]:
    base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network"
    return f"{base}/virtualNetworks/{vnet}/subnets/{subnet}", f"{base}/networkSecurityGroups/{nsg}"


def cluster_model(sub: str, rg: str, name: str, version: str = "4.20", **platform: Any) -> m.HcpOpenShiftCluster:
    """A cluster as a client of the SDK creates one: user-assigned operator identities, subnet and NSG."""
    subnet, nsg = network_ids(sub, rg, subnet=f"{name}-subnet", nsg=f"{name}-nsg")
    cp = {op: uami(sub, rg, f"{name}-cp-{op}") for op in CONTROL_PLANE_OPERATORS}
    dp = {op: uami(sub, rg, f"{name}-dp-{op}") for op in DATA_PLANE_OPERATORS}
    service = uami(sub, rg, f"{name}-service")
    identities = {i: m.UserAssignedIdentity() for i in [*cp.values(), service]}
    return m.HcpOpenShiftCluster(
        location="eastus",
        tags={"team": "sre"},
        identity=m.ManagedServiceIdentity(type="UserAssigned", user_assigned_identities=identities),
        properties=m.HcpOpenShiftClusterProperties(
            version=m.VersionProfile(id=version, channel_group="stable"),
            platform=m.PlatformProfile(
                subnet_id=platform.get("subnet_id", subnet),
                network_security_group_id=platform.get("nsg_id", nsg),
                managed_resource_group=platform.get("managed_resource_group"),
                operators_authentication=m.OperatorsAuthenticationProfile(
                    user_assigned_identities=m.UserAssignedIdentitiesProfile(
                        control_plane_operators=cp, data_plane_operators=dp, service_managed_identity=service
                    )
                ),
            ),
        ),
    )


def node_pool_model(version: str = "4.20.8", replicas: int = 2, **extra: Any) -> m.NodePool:
    return m.NodePool(
        location="eastus",
        properties=m.NodePoolProperties(
            version=m.NodePoolVersionProfile(id=version, channel_group="stable"),
            platform=m.NodePoolPlatformProfile(vm_size="Standard_D8s_v3"),
            replicas=replicas,
            labels=extra.get("labels"),
            taints=extra.get("taints"),
        ),
    )


def new_key_and_csr(cn: str = ADMIN_CN, orgs: tuple[str, ...] = ("system:masters",)) -> tuple[str, str]:
    """(private key PEM, CSR PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)] + [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs
    ]
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs)).sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, csr.public_bytes(serialization.Encoding.PEM).decode()


def with_key(kubeconfig: str, key_pem: str) -> str:
    """The returned kubeconfig holds the certificate only: add the caller's private key."""
    config = yaml.safe_load(kubeconfig)
    for user in config["users"]:
        assert "client-key-data" not in user["user"], "the RP must not hand out a private key"
        user["user"]["client-key-data"] = base64.b64encode(key_pem.encode()).decode()
    return yaml.safe_dump(config)


def kubectl_binary() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise AssertionError("kubectl is not installed: it is part of the machine image and these tests need it")
    return found


def kubectl(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = str(kubeconfig.parent)  # no ~/.kube cache shared between tests
    proc = subprocess.run(
        [kubectl_binary(), "--kubeconfig", str(kubeconfig), "--request-timeout=20s", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc
