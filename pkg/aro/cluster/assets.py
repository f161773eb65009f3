"""Install assets: the cluster's PKI (CA, API server and admin client certificates), the admin
kubeconfig, the kubeadmin password, and the Ignition config a master boots with."""

from __future__ import annotations

import secrets
import string
from typing import Any
from urllib.parse import quote

from aro.api.cluster import ClusterPKI, OpenShiftCluster
from aro.cloud.base import ClusterEndpoint
from aro.util import kubeconfig, pki

_ALPHABET = string.ascii_letters + string.digits
# where a master's kube-apiserver reads the CA bundle client certificates must chain to (OpenShift's path)
CLIENT_CA_PATH = "/etc/kubernetes/static-pod-resources/configmaps/client-ca/ca-bundle.crt"


def master_ignition(client_ca_pem: str) -> dict[str, Any]:
    """The Ignition config a master boots with: the API server's client CA bundle (public certificates
    only -- it travels in the VM's customData). The simulator's cluster API reads it from there."""
    return {
        "ignition": {"version": "3.2.0"},
        "storage": {
            "files": [
                {
                    "path": CLIENT_CA_PATH,
                    "mode": 0o644,
                    "overwrite": True,
                    "contents": {"source": "data:," + quote(client_ca_pem, safe="")},
                }
            ]
        },
    }


def kubeadmin_password() -> str:
    """Four dash-separated groups of five, like OpenShift's generated kubeadmin password."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4))


def generate(oc: OpenShiftCluster, endpoint: ClusterEndpoint, api_host: str) -> tuple[ClusterPKI, str, str]:
    """Returns (pki, admin kubeconfig, kubeadmin password)."""
    infra = oc.properties.infra_id
    ca = pki.new_ca(f"aro-cluster-ca-{infra}")
    api = pki.issue(ca, api_host, dns_names=(api_host, f"api-int.{api_host.removeprefix('api.')}"))
    admin = pki.issue(ca, "system:admin", organization="system:masters", server=False, client=True, days=365)
    material = ClusterPKI(
        ca_cert=ca.cert_pem,
        ca_key=ca.key_pem,
        apiserver_cert=api.cert_pem,
        apiserver_key=api.key_pem,
        admin_client_cert=admin.cert_pem,
    )
    config = kubeconfig.render(
        cluster_name=oc.name or infra,
        server=endpoint.url,
        ca_pem=endpoint.ca_pem,
        user="system:admin",
        client_cert_pem=admin.cert_pem,
        client_key_pem=admin.key_pem,
    )
    return material, config, kubeadmin_password()
