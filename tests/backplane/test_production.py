"""The backplane in production mode (client certificates for the ARM routes, OIDC tokens for the ledger and
the backplane): an SRE with a token of the issuer and no client certificate logs in and drives kubectl
through the proxy; the exemption from the certificate check is exactly ``/backplane/`` (``/BACKPLANE/``,
``/backplane``, ``/backplanex/`` and the ARM routes still want the certificate, tokens or not); a token's
``system:`` groups are never impersonated and a ``system:`` user is refused."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from tests.backend.helpers import V, body, cluster_url
from tests.backplane.helpers import kubectl, ok, proxy_kubeconfig, until
from tests.conftest import RPProcess
from tests.ledger.helpers import AMS
from tests.ledger.test_oidc import Issuer, certs, issuer, prod
from tests.security.test_production import Certs, _ctx, client

__all__ = ["certs", "issuer", "prod"]  # the ledger's production RP with an OIDC issuer, one per module

FORBIDDEN = {"error": {"code": "Forbidden", "message": "Forbidden."}}


def bearer(prod: RPProcess, certs: Certs, token: str | None) -> httpx.Client:
    """No client certificate: the token alone."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=prod.base_url, verify=_ctx(certs), headers=headers, timeout=30)


def test_only_backplane_paths_skip_the_certificate(prod: RPProcess, certs: Certs, issuer: Issuer) -> None:
    sre = issuer.token(org_id=str(uuid.uuid4()), groups=["aro-sre"], preferred_username="sre-olivia")
    with bearer(prod, certs, None) as c:
        r = c.get("/backplane/login/" + "0" * 32)
        assert r.status_code == 401 and r.json()["statusCode"] == 401, r.text  # the backplane's own answer
    with bearer(prod, certs, sre) as c:
        r = c.get("/backplane/login/" + "0" * 32)
        assert r.status_code == 404 and r.json()["statusCode"] == 404, r.text
        for path in (
            "/BACKPLANE/login/" + "0" * 32,
            "/Backplane/cluster/x/api",
            "/backplane",
            "/backplanex/login/x",
            f"/subscriptions/{uuid.uuid4()}/providers/Microsoft.RedHatOpenShift/openShiftClusters?api-version={V}",
            "/admin/providers/Microsoft.RedHatOpenShift/openShiftClusters",
        ):
            r = c.get(path)
            assert r.status_code == 403 and r.json() == FORBIDDEN, (path, r.text)


def test_an_sre_without_a_certificate_uses_kubectl_through_the_proxy(
    prod: RPProcess, certs: Certs, issuer: Issuer, tmp_path: Path
) -> None:
    sub = str(uuid.uuid4())
    path = cluster_url("prodbp", sub=sub)
    with client(prod, certs, "arm") as arm:
        registered = {"state": "Registered", "properties": {"tenantId": str(uuid.uuid4())}}
        reg = arm.put(f"/subscriptions/{sub}", params={"api-version": "2.0"}, json=registered)
        assert reg.status_code in (200, 201), reg.text
        r = arm.put(path, params={"api-version": V}, json=body("prodbp", sub=sub))
        assert r.status_code == 201, r.text

        def succeeded() -> bool:
            r = arm.get(path, params={"api-version": V})
            return bool(r.json()["properties"]["provisioningState"] == "Succeeded")

        until("the cluster to succeed", succeeded, 90)

    # an SRE's token (another organization than the customer's: SREs see every one), with a system: group
    sre = issuer.token(org_id=str(uuid.uuid4()), groups=["aro-sre", "system:masters"], preferred_username="sre-olivia")

    def cluster_id() -> str:
        with bearer(prod, certs, sre) as c:
            r = c.get(AMS + "/subscriptions", params={"search": f"cloud_account_id = '{sub}'"})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return str(items[0]["cluster_id"]) if items and items[0].get("cluster_id") else ""

    cid = until("the cluster's ledger subscription", cluster_id, 60)
    with bearer(prod, certs, sre) as c:
        r = c.get(f"/backplane/login/{cid}")
        assert r.status_code == 200 and r.json()["proxy_uri"] == f"/backplane/cluster/{cid}/", r.text

    kubeconfig = proxy_kubeconfig(tmp_path, prod, cid, sre, ca_pem=certs.ca.read_text())
    nodes = ok(kubectl(kubeconfig, "get", "nodes"))
    assert "prodbp" in nodes and "master-0" in nodes, nodes
    me = json.loads(ok(kubectl(kubeconfig, "auth", "whoami", "-o", "json")))["status"]["userInfo"]
    assert me["username"] == "sre-olivia" and me["groups"] == ["aro-sre", "system:authenticated"]  # no system:masters

    # a token naming a reserved Kubernetes user is no SRE's
    system = issuer.token(org_id=str(uuid.uuid4()), groups=["aro-sre"], preferred_username="system:admin")
    with bearer(prod, certs, system) as c:
        r = c.get(f"/backplane/cluster/{cid}/api/v1/nodes")
        assert r.status_code == 403 and "reserved" in r.json()["message"], r.text
