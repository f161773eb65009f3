"""Admin updates of classic clusters (ARO's maintenance tasks): ``PATCH /admin{resourceId}`` with
``maintenanceTask`` runs an AdminUpdate operation in AdminUpdating; CertificatesRenewal issues the API
server's serving certificate and the admin client certificate again, and kubectl works with the new
admin kubeconfig."""

from __future__ import annotations

import base64
import json
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tests.frontend.helpers import Arm, cluster_path, error_of, new_sub
from tests.hcp.helpers import kubectl


def served_certificate(kubeconfig_text: str) -> bytes:
    """The serving certificate a client of this kubeconfig gets (its server, CA and tls-server-name):
    what kubectl sees."""
    cluster = yaml.safe_load(kubeconfig_text)["clusters"][0]["cluster"]
    url = urlsplit(cluster["server"])
    ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    name = cluster.get("tls-server-name") or url.hostname
    with socket.create_connection((url.hostname, url.port or 443), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=name) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der
    return der


def _admin(arm: Arm, path: str) -> dict[str, object]:
    return dict(arm.get(f"/admin{path}", version=None).json()["openShiftCluster"]["properties"])


def test_certificates_renewal_reissues_the_serving_and_admin_certificates(arm: Arm, tmp_path: Path) -> None:
    sub = new_sub()
    path = cluster_path(sub, "maint-rg", "maint")
    arm.create(sub, "maint-rg", "maint")
    before = _admin(arm, path)["clusterPki"]
    old = base64.b64decode(arm.post(path + "/listAdminCredentials").json()["kubeconfig"]).decode()
    assert yaml.safe_load(old)["clusters"][0]["cluster"]["tls-server-name"].startswith("api.")
    served_before = served_certificate(old)

    for body in ({"properties": {"maintenanceTask": "Reboot"}}, {"properties": {"other": 1}}, {"maintenanceTask": 1}):
        before_rows = arm.rows(sub)
        r = arm.patch(f"/admin{path}", body, version=None)
        assert r.status_code == 400 and error_of(r)["code"] == "InvalidRequestContent", r.text
        assert arm.rows(sub) == before_rows

    r = arm.patch(f"/admin{path}", {"properties": {"maintenanceTask": "CertificatesRenewal"}}, version=None)
    assert r.status_code == 202 and r.headers["location"], r.text
    assert r.json()["openShiftCluster"]["properties"]["provisioningState"] == "AdminUpdating"
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    got = arm.wait(path, {"Succeeded"})
    assert got["properties"]["provisioningState"] == "Succeeded"
    after = _admin(arm, path)
    assert after["clusterPki"]["apiserverCert"] != before["apiserverCert"]  # type: ignore[index]
    assert after["clusterPki"]["caCert"] == before["caCert"]  # type: ignore[index]
    assert not after.get("maintenanceTask")

    new = base64.b64decode(arm.post(path + "/listAdminCredentials").json()["kubeconfig"]).decode()
    assert new != old
    served_after = served_certificate(new)
    assert served_after != served_before, "kubectl still sees the old serving certificate"
    pem = after["clusterPki"]["apiserverCert"]  # type: ignore[index]
    assert ssl.DER_cert_to_PEM_cert(served_after).strip() == str(pem).strip()
    for name, config in (("new", new), ("old", old)):  # the old certificate is still the CA's: both work
        f = tmp_path / f"{name}.kubeconfig"
        f.write_text(config)
        nodes = json.loads(kubectl(f, "get", "nodes", "-o", "json").stdout)["items"]
        assert any("-master-0" in n["metadata"]["name"] for n in nodes)

    r = arm.patch(f"/admin{path}", {"properties": {"maintenanceTask": "OperatorUpdate"}}, version=None)
    assert r.status_code == 202, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    assert _admin(arm, path)["clusterPki"]["apiserverCert"] == after["clusterPki"]["apiserverCert"]  # type: ignore[index]


def test_admin_lists_billing_documents(arm: Arm) -> None:
    sub = new_sub()
    arm.create(sub, "bill-rg", "billed")
    found: list[dict[str, object]] = []
    url = "/admin/providers/Microsoft.RedHatOpenShift/billing"
    while url:
        page = arm.absolute(url) if url.startswith("https") else arm.get(url, version=None)
        assert page.status_code == 200, page.text
        found += page.json()["value"]
        url = page.json().get("nextLink", "")
    mine = [d for d in found if str(d.get("clusterKey", "")).endswith("/billed")]
    assert mine and mine[0]["billing"]["creationTime"], mine  # type: ignore[index]
