"""``GET|POST /backplane/login/{clusterId}`` through a real `aro rp`: the proxy's address for a Succeeded
classic and hosted cluster (by the ledger's cluster id); 404 for an unknown id; 401 without or with a bad
token, 403 for a user who is not an SRE (and for a reserved ``system:`` user name); 400 with the reason
while the cluster is being created, paused by an admin (hosted) or hibernating -- and 200 again once it
is not; the backplane's paths are case-sensitive."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import httpx
import pytest

from tests.backplane.helpers import (
    SRE,
    Cluster,
    Shared,
    bearer,
    create_classic,
    create_hosted,
    issue_token,
    until,
    wait_cluster_id,
)
from tests.conftest import RPProcess
from tests.frontend.helpers import Arm
from tests.ledger.helpers import installs_held, register


def login(rp: RPProcess, token: str | None, cluster_id: str, method: str = "GET") -> httpx.Response:
    with bearer(rp, token) as c:
        return c.request(method, f"/backplane/login/{cluster_id}")


def refused(r: httpx.Response, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"statusCode", "message"} and body["statusCode"] == status, body
    for word in words:
        assert word in body["message"], body


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_answers_the_proxy_uri_of_both_kinds(
    bp_rp: RPProcess, sre_token: str, shared: Shared, method: str
) -> None:
    for cluster in shared.both():
        r = login(bp_rp, sre_token, cluster.cluster_id, method)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"proxy_uri", "statusCode", "message"}, body
        assert body["proxy_uri"] == f"/backplane/cluster/{cluster.cluster_id}/"
        assert body["statusCode"] == 200 and cluster.name in body["message"] and SRE in body["message"]
        assert r.headers["content-type"].startswith("application/json") and r.headers.get("x-ms-request-id")


def test_unknown_cluster_and_bad_callers_are_refused(bp_rp: RPProcess, sre_token: str, shared: Shared) -> None:
    cid = shared.classic.cluster_id
    refused(login(bp_rp, sre_token, "0" * 32), 404, "0" * 32)
    refused(login(bp_rp, sre_token, "x" * 65), 400, "not valid")
    refused(login(bp_rp, None, cid), 401, "Bearer")
    refused(login(bp_rp, "not-a-token", cid), 401, "not valid")
    customer = issue_token(bp_rp, "carol", ("developers",), organization=shared.tenant)
    refused(login(bp_rp, customer, cid), 403, "carol")  # the cluster's own organization, but no SRE
    impostor = issue_token(bp_rp, "system", ("aro-sre",))
    assert login(bp_rp, impostor, cid).status_code == 200  # "system" is a name like any other
    # a method login does not take, a path under /backplane no route has: the backplane's envelope
    with bearer(bp_rp, sre_token) as c:
        refused(c.delete(f"/backplane/login/{cid}"), 405)
        refused(c.get("/backplane/nothing-here"), 404, "/backplane/nothing-here")
        # case-sensitive: /BACKPLANE/... is no backplane path (the ARM API's 404), nor is another id casing
        upper = c.get(f"/BACKPLANE/login/{cid}")
        assert upper.status_code == 404 and "error" in upper.json(), upper.text
        assert cid.swapcase() != cid, cid
        refused(c.get(f"/backplane/login/{cid.swapcase()}"), 404)


def test_a_cluster_being_created_is_refused_until_it_succeeded(
    bp_rp: RPProcess, sre_token: str, arm: Arm, sim: httpx.Client
) -> None:
    sub = str(uuid.uuid4())
    register(arm.client, sub)
    with installs_held(sim):
        classic = create_classic(arm, sub, "held-rg", "heldclassic")
        hosted = create_hosted(arm, sub, "held-rg", "heldhosted")
        for cluster in (classic, hosted):
            cluster.cluster_id = wait_cluster_id(bp_rp, sre_token, sub, cluster.name)
            state = "Creating" if cluster.kind == "classic" else "Provisioning"
            r = login(bp_rp, sre_token, cluster.cluster_id)
            refused(r, 400, cluster.name, state, "not Succeeded", "login failed")
    for cluster in (classic, hosted):
        arm.wait(cluster.path, {"Succeeded"}, version=cluster.version, timeout=90)
        assert login(bp_rp, sre_token, cluster.cluster_id).status_code == 200


def _admin_patch(arm: Arm, cluster: Cluster, props: dict[str, object]) -> httpx.Response:
    return arm.patch(f"/admin{cluster.path}", {"properties": props}, version=None)


def test_a_paused_hosted_cluster_is_refused_until_the_pause_ends(bp_rp: RPProcess, sre_token: str, arm: Arm) -> None:
    sub = str(uuid.uuid4())
    register(arm.client, sub)
    cluster = create_hosted(arm, sub, "pause-rg", "paused")
    arm.wait(cluster.path, {"Succeeded"}, version=cluster.version, timeout=90)
    cluster.cluster_id = wait_cluster_id(bp_rp, sre_token, sub, cluster.name)
    assert login(bp_rp, sre_token, cluster.cluster_id).status_code == 200

    r = _admin_patch(arm, cluster, {"pausedUntil": "true"})
    assert r.status_code == 200, r.text
    refused(login(bp_rp, sre_token, cluster.cluster_id), 400, "paused", "login failed")
    r = _admin_patch(arm, cluster, {"pausedUntil": "false"})
    assert r.status_code == 200, r.text
    assert login(bp_rp, sre_token, cluster.cluster_id).status_code == 200

    # a dated pause ends by itself: refused until then, entered after
    end = int(time.time()) + 3
    until_ = dt.datetime.fromtimestamp(end, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _admin_patch(arm, cluster, {"pausedUntil": until_}).status_code == 200
    refused(login(bp_rp, sre_token, cluster.cluster_id), 400, "paused")
    until("the dated pause to end", lambda: login(bp_rp, sre_token, cluster.cluster_id).status_code == 200, 15)
    assert time.time() >= end - 1


@pytest.mark.parametrize("kind", ["classic", "hosted"])
def test_a_hibernating_cluster_is_refused(bp_rp: RPProcess, sre_token: str, arm: Arm, kind: str) -> None:
    sub = str(uuid.uuid4())
    register(arm.client, sub)
    make = create_classic if kind == "classic" else create_hosted
    cluster = make(arm, sub, "hib-rg", f"hib{kind}")
    arm.wait(cluster.path, {"Succeeded"}, version=cluster.version, timeout=90)
    cluster.cluster_id = wait_cluster_id(bp_rp, sre_token, sub, cluster.name)
    assert login(bp_rp, sre_token, cluster.cluster_id).status_code == 200

    r = _admin_patch(arm, cluster, {"powerState": "Hibernating"})
    assert r.status_code in (200, 202), r.text
    # hibernating from the moment the request is accepted (before its operation stopped the machines)
    refused(login(bp_rp, sre_token, cluster.cluster_id), 400, "hibernating", "login failed")
    arm.wait(cluster.path, {"Succeeded"}, version=cluster.version, timeout=90)
    refused(login(bp_rp, sre_token, cluster.cluster_id), 400, "hibernating")

    r = _admin_patch(arm, cluster, {"powerState": "Running"})
    assert r.status_code in (200, 202), r.text
    arm.wait(cluster.path, {"Succeeded"}, version=cluster.version, timeout=90)
    until("the resumed cluster to be entered", lambda: login(bp_rp, sre_token, cluster.cluster_id).status_code == 200)
