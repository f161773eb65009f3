"""Kubeconfig rendering."""

from __future__ import annotations

import base64

import yaml


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def render(
    *,
    cluster_name: str,
    server: str,
    ca_pem: str,
    user: str,
    client_cert_pem: str,
    client_key_pem: str | None,
    tls_server_name: str = "",
) -> str:
    """A kubeconfig with one cluster, one certificate-authenticated user and a current context
    (``client_key_pem`` None: without the key, which the holder of the certificate adds -- as ARO-HCP's
    break-glass credentials)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}
                | ({"tls-server-name": tls_server_name} if tls_server_name else {}),
            }
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate-data": _b64(client_cert_pem)}
                | ({"client-key-data": _b64(client_key_pem)} if client_key_pem is not None else {}),
            }
        ],
        "contexts": [{"name": user, "context": {"cluster": cluster_name, "user": user, "namespace": "default"}}],
        "current-context": user,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def client_credentials(text: str) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a kubeconfig's first user; ("", "") when it has none."""
    config = yaml.safe_load(text or "{}") or {}
    users = config.get("users") if isinstance(config, dict) else None
    if not users:
        return "", ""
    user = users[0].get("user") or {}
    cert, key = user.get("client-certificate-data"), user.get("client-key-data")
    if not cert or not key:
        return "", ""
    return base64.b64decode(cert).decode(), base64.b64decode(key).decode()
