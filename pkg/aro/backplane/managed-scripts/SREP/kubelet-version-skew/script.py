"""Compares every node's kubelet version with the API server's (Python's standard library only).

The cluster API is reached with the credentials of $KUBECONFIG's current context (a JSON kubeconfig is
read directly, any other through `kubectl config view --raw --minify -o json`): a bearer token (``token``
or ``tokenFile``) or a client certificate, the server verified with the kubeconfig's CA (for its
``tls-server-name`` when set). Without a kubeconfig, the pod's service-account token is used.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
from typing import Any

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
VERSION = re.compile(r"^v?(\d+)\.(\d+)")


class Cluster:
    def __init__(self, server: str, context: ssl.SSLContext, token: str | None, server_name: str | None) -> None:
        parts = urllib.parse.urlsplit(server)
        self.host = parts.hostname or ""
        self.port = parts.port or 443
        self.base = parts.path.rstrip("/")
        self.context = context
        self.token = token
        self.server_name = server_name or self.host

    def get(self, path: str) -> Any:
        sock = socket.create_connection((self.host, self.port), timeout=30)
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=30)
        conn.sock = self.context.wrap_socket(sock, server_hostname=self.server_name)
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        try:
            conn.request("GET", self.base + path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise SystemExit(f"GET {path}: HTTP {resp.status}: {body[:300].decode(errors='replace')}")
        return json.loads(body)


def _kubeconfig(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        config = json.loads(text)
    except ValueError:
        out = subprocess.run(
            ["kubectl", "config", "view", "--raw", "--minify", "-o", "json"], capture_output=True, text=True, check=True
        )
        config = json.loads(out.stdout)
    return config if isinstance(config, dict) else {}


def _named(items: list[dict[str, Any]] | None, name: str | None) -> dict[str, Any]:
    for item in items or []:
        if item.get("name") == name:
            return item
    return (items or [{}])[0]


def _write(tmp: str, name: str, data: str, b64: bool) -> str:
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(base64.b64decode(data) if b64 else data.encode())
    return path


def connect() -> Cluster:
    path = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    if not path:
        with open(os.path.join(SA_DIR, "token"), encoding="utf-8") as f:
            sa_token = f.read().strip()
        ctx = ssl.create_default_context(cafile=os.path.join(SA_DIR, "ca.crt"))
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        return Cluster(f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}", ctx, sa_token, None)
    config = _kubeconfig(path)
    context = _named(config.get("contexts"), config.get("current-context")).get("context") or {}
    cluster = _named(config.get("clusters"), context.get("cluster")).get("cluster") or {}
    user = _named(config.get("users"), context.get("user")).get("user") or {}
    base = os.path.dirname(os.path.abspath(path))
    with tempfile.TemporaryDirectory() as tmp:
        if cluster.get("certificate-authority-data"):
            ctx = ssl.create_default_context(cafile=_write(tmp, "ca.crt", cluster["certificate-authority-data"], True))
        elif cluster.get("certificate-authority"):
            ctx = ssl.create_default_context(cafile=os.path.join(base, cluster["certificate-authority"]))
        else:
            ctx = ssl.create_default_context()
        if cluster.get("insecure-skip-tls-verify"):
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if user.get("client-certificate-data"):
            cert = _write(tmp, "tls.crt", user["client-certificate-data"], True)
            key = _write(tmp, "tls.key", user["client-key-data"], True)
            ctx.load_cert_chain(cert, key)
        elif user.get("client-certificate"):
            ctx.load_cert_chain(os.path.join(base, user["client-certificate"]), os.path.join(base, user["client-key"]))
    token: str | None = user.get("token")
    if not token and user.get("tokenFile"):
        with open(os.path.join(base, user["tokenFile"]), encoding="utf-8") as f:
            token = f.read().strip()
    return Cluster(str(cluster["server"]), ctx, token, cluster.get("tls-server-name"))


def minor(version: str) -> tuple[int, int] | None:
    m = VERSION.match(version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def main() -> int:
    raw = os.environ.get("MAX_MINOR_SKEW", "2") or "2"
    if not raw.isdigit():
        print(f"MAX_MINOR_SKEW must be a number, not {raw!r}", file=sys.stderr)
        return 2
    skew = int(raw)
    api = connect()
    server = str(api.get("/version").get("gitVersion", ""))
    server_minor = minor(server)
    if server_minor is None:
        print(f"the API server's version {server!r} cannot be read", file=sys.stderr)
        return 2
    nodes = api.get("/api/v1/nodes").get("items") or []
    outside = 0
    print(f"API server {server}; {len(nodes)} nodes; kubelets may be up to {skew} minor versions older")
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        kubelet = str(((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", ""))
        got = minor(kubelet)
        if got is None or got[0] != server_minor[0] or got[1] > server_minor[1] or server_minor[1] - got[1] > skew:
            outside += 1
            print(f"OUTSIDE SKEW  {node['metadata']['name']}  kubelet {kubelet or 'unknown'}")
        else:
            print(f"ok            {node['metadata']['name']}  kubelet {kubelet}")
    print(f"{outside} of {len(nodes)} nodes are outside the supported skew")
    return 1 if outside else 0


if __name__ == "__main__":
    sys.exit(main())
