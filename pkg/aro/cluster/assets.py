"""Install assets: the cluster's PKI (CA, API server and admin client certificates), the admin
kubeconfig, the kubeadmin password, and the Ignition config a master boots with."""

from __future__ import annotations

import secrets
import string
from typing import Any
from urllib.parse import quote, urlsplit

from aro.api.cluster import ClusterPKI, OpenShiftCluster
from aro.cloud.base import ClusterEndpoint
from aro.util import kubeconfig, pki

_ALPHABET = string.ascii_letters + string.digits
# where a master's kube-apiserver reads the CA bundle client certificates must chain to (OpenShift's path)
CLIENT_CA_PATH = "/etc/kubernetes/static-pod-resources/configmaps/client-ca/ca-bundle.crt"
SERVING_CERT_PATH = "/etc/kubernetes/static-pod-resources/secrets/serving-cert/tls.crt"
SERVING_KEY_PATH = "/etc/kubernetes/static-pod-resources/secrets/serving-cert/tls.key"


def _file(path: str, content: str, mode: int) -> dict[str, Any]:
    return {"path": path, "mode": mode, "overwrite": True, "contents": {"source": "data:," + quote(content, safe="")}}


def master_ignition(client_ca_pem: str, serving_cert_pem: str = "", serving_key_pem: str = "") -> dict[str, Any]:
    """The Ignition config a master boots with: the API server's client CA bundle and its serving
    certificate and key (the simulator's cluster API reads them from the VM's customData, as a master
    does from its Ignition)."""
    files = [_file(CLIENT_CA_PATH, client_ca_pem, 0o644)]
    if serving_cert_pem and serving_key_pem:
        files += [_file(SERVING_CERT_PATH, serving_cert_pem, 0o644), _file(SERVING_KEY_PATH, serving_key_pem, 0o600)]
    return {"ignition": {"version": "3.2.0"}, "storage": {"files": files}}


def admin_kubeconfig(
    oc: OpenShiftCluster, endpoint: ClusterEndpoint, api_host: str, material: ClusterPKI, key_pem: str
) -> str:
    """The admin kubeconfig: the cluster CA verifies the API server's certificate for ``api_host``
    (``tls-server-name`` when the endpoint's URL names another host, e.g. the simulator's)."""
    return kubeconfig.render(
        cluster_name=oc.name or oc.properties.infra_id,
        server=endpoint.url,
        ca_pem=material.ca_cert,
        user="system:admin",
        client_cert_pem=material.admin_client_cert,
        client_key_pem=key_pem,
        tls_server_name=api_host if urlsplit(endpoint.url).hostname != api_host else "",
    )


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
    return material, admin_kubeconfig(oc, endpoint, api_host, material, admin.key_pem), kubeadmin_password()
