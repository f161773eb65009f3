"""``GET /backplane/cloud/console/{clusterId}`` through a real `aro rp` (its cloud is the simulator): an SRE
gets a link to the cluster's managed resource group in the cloud console, valid for
``backplane.consoleLinkSeconds`` (900 by default); the link opens the group's page without any other
credential; another user or no token gets nothing. (The 400 / 503 / 502 answers: ``test_routes.py``.)"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.backplane.helpers import Shared, bearer, issue_token
from tests.conftest import RPProcess
from tests.frontend.helpers import Arm


@pytest.mark.parametrize("kind", ["classic", "hosted"])
def test_an_sre_gets_a_console_link_to_the_managed_resource_group(
    bp_rp: RPProcess, sre_token: str, shared: Shared, arm: Arm, kind: str
) -> None:
    cluster = shared.classic if kind == "classic" else shared.hosted
    with bearer(bp_rp, sre_token) as c:
        asked = time.time()
        r = c.get(f"/backplane/cloud/console/{cluster.cluster_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"clusterID", "consoleLink", "region"}, body
        assert body["clusterID"] == cluster.cluster_id and body["region"] == "eastus"
    admin = arm.get(f"/admin{cluster.path}", version=None)  # the managed resource group the cluster records
    assert admin.status_code == 200, admin.text
    group = _managed_group(admin.json(), kind)
    link = urlsplit(body["consoleLink"])
    assert link.scheme == "https" and link.path == f"/console/subscriptions/{shared.sub}/resourceGroups/{group}"
    query = parse_qs(link.query)
    assert set(query) == {"expires", "signature"}
    assert asked + 900 - 5 <= int(query["expires"][0]) <= time.time() + 900 + 5  # backplane.consoleLinkSeconds

    # the link is the credential: no token, the simulator's CA
    page = httpx.get(body["consoleLink"], verify=bp_rp.ssl_context())
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert group in page.text
    forged = httpx.get(body["consoleLink"].replace("signature=", "signature=x"), verify=bp_rp.ssl_context())
    assert forged.status_code == 403


def _managed_group(admin_view: dict[str, object], kind: str) -> str:
    if kind == "classic":
        doc = admin_view["openShiftCluster"]
        assert isinstance(doc, dict)
        return str(doc["properties"]["clusterProfile"]["resourceGroupId"]).rsplit("/", 1)[1]
    doc = admin_view["hcpOpenShiftCluster"]
    assert isinstance(doc, dict)
    return str(doc["properties"]["platform"]["managedResourceGroup"])


def test_only_an_sre_gets_a_console_link(bp_rp: RPProcess, shared: Shared) -> None:
    path = f"/backplane/cloud/console/{shared.classic.cluster_id}"
    with bearer(bp_rp, None) as c:
        r = c.get(path)
        assert r.status_code == 401 and r.json()["statusCode"] == 401, r.text
    with bearer(bp_rp, issue_token(bp_rp, "carol", ("developers",), organization=shared.tenant)) as c:
        r = c.get(path)
        assert r.status_code == 403 and "carol" in r.json()["message"], r.text
    with bearer(bp_rp, issue_token(bp_rp, "sre-sam", ("aro-sre",))) as c:
        r = c.get("/backplane/cloud/console/" + "0" * 32)
        assert r.status_code == 404 and r.json() == {"statusCode": 404, "message": f"Cluster {'0' * 32} was not found"}
