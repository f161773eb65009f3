"""The cluster APIs' audit log (``GET /simulator/audit``): every request, who made it and who it acted as
(impersonation -- what a backplane proxy's requests look like), what it touched and how it ended; streams
audited when they start and when they end; one bounded ring per cluster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import TOKEN, Simulator
from .kubectl import Kubectl, kubectl_binary
from .kubeutil import management

SRE = "sre@example.com"


@pytest.fixture
def sim_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    overrides = getattr(request, "param", {})
    return {"step_delay_seconds": 0.05, "token": TOKEN, "kubernetes_version": "v1.32.4", **overrides}


@pytest.fixture
def kubectl(tmp_path: Path) -> Kubectl:
    return Kubectl(kubectl_binary(), tmp_path / "home")


async def audit(sim: Simulator, server: str, **params: str) -> list[dict[str, Any]]:
    assert sim.admin is not None
    resp = await sim.admin.get("/simulator/audit", params={"server": server, **params})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["kind"], body["apiVersion"]) == ("EventList", "audit.k8s.io/v1")
    return list(body["items"])


def when(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")


async def test_the_audit_log_shows_who_acted_as_whom(sim: Simulator, kubectl: Kubectl, tmp_path: Path) -> None:
    admin = management(sim, tmp_path)
    server = f"{sim.base_url}/management"
    # as a backplane proxy does: its own admin identity, impersonating the SRE
    as_sre = ("--as", SRE, "--as-group", "sre-team")
    (await kubectl(admin, *as_sre, "get", "pods", "-n", "default")).ok()
    denied = await kubectl(admin, *as_sre, "get", "secrets", "-n", "kube-system")
    assert denied.code != 0
    (await kubectl(admin, "create", "configmap", "mine", "--from-literal=k=v")).ok()

    events = await audit(sim, server, user=SRE)
    assert events and all((e.get("impersonatedUser") or {}).get("username") == SRE for e in events)
    listed = next(e for e in events if e.get("objectRef", {}).get("resource") == "pods")
    assert listed["stage"] == "ResponseComplete" and listed["level"] == "Metadata"
    assert listed["verb"] == "list" and listed["requestURI"].startswith("/api/v1/namespaces/default/pods?")
    assert listed["user"] == {"username": "simulator-admin", "groups": ["system:masters", "system:authenticated"]}
    assert listed["impersonatedUser"] == {"username": SRE, "groups": ["sre-team", "system:authenticated"]}
    assert listed["objectRef"] == {"resource": "pods", "namespace": "default", "apiVersion": "v1"}
    assert listed["responseStatus"]["code"] == 200
    assert listed["sourceIPs"] == ["127.0.0.1"] and listed["userAgent"].startswith("kubectl")
    assert when(listed["requestReceivedTimestamp"]) <= when(listed["stageTimestamp"])
    secrets = next(e for e in events if e.get("objectRef", {}).get("resource") == "secrets")
    assert secrets["responseStatus"]["code"] == 403 and secrets["responseStatus"]["reason"] == "Forbidden"
    assert f'User "{SRE}" cannot list resource "secrets"' in secrets["responseStatus"]["message"]

    everything = await audit(sim, server)
    assert len(everything) > len(events)  # discovery, and the admin's own requests
    creates = [e for e in everything if e["verb"] == "create"]
    assert [(c["objectRef"], c["responseStatus"]["code"]) for c in creates] == [
        ({"resource": "configmaps", "namespace": "default", "name": "mine", "apiVersion": "v1"}, 201)
    ]
    assert "impersonatedUser" not in creates[0] and creates[0]["user"]["username"] == "simulator-admin"
    stamps = [when(e["stageTimestamp"]) for e in everything]
    assert stamps == sorted(stamps)  # oldest first
    assert {e["user"].get("username") for e in await audit(sim, server, user="simulator-admin")} == {"simulator-admin"}

    async with httpx.AsyncClient(verify=sim.ssl, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        # the Audit-Id header names the event; a watch is audited when it starts and when it ends
        resp = await http.get(f"{server}/api/v1/namespaces/default/configmaps/mine", headers={"User-Agent": "probe"})
        audit_id = resp.headers["audit-id"]
        watch = await http.get(f"{server}/api/v1/configmaps", params={"watch": "true", "timeoutSeconds": "0.2"})
        assert watch.status_code == 200
        anonymous = await http.get(f"{server}/readyz", headers={"Authorization": ""})
        assert anonymous.status_code == 200
        # another cluster has a ring of its own, even one that does not exist
        assert (await http.get(f"{sim.base_url}/hostedclusters/nope/api")).status_code == 404
    events = await audit(sim, server)
    got = [e for e in events if e["auditID"] == audit_id]
    assert len(got) == 1 and got[0]["verb"] == "get" and got[0]["userAgent"] == "probe"
    assert got[0]["objectRef"] == {"resource": "configmaps", "namespace": "default", "name": "mine", "apiVersion": "v1"}
    watched = [e for e in events if e["verb"] == "watch"]
    assert [e["stage"] for e in watched] == ["ResponseStarted", "ResponseComplete"]
    assert watched[0]["auditID"] == watched[1]["auditID"]
    assert events[-1]["requestURI"] == "/readyz" and events[-1]["user"]["username"] == "system:anonymous"
    hosted = await audit(sim, "https://elsewhere:1234/hostedclusters/nope")
    assert [(e["requestURI"], e["responseStatus"]["code"]) for e in hosted] == [("/api", 404)]

    assert sim.admin is not None
    assert (await sim.admin.get("/simulator/audit", params={"server": "https://x/other"})).status_code == 400
    async with httpx.AsyncClient(verify=sim.ssl) as anonymous_admin:
        assert (await anonymous_admin.get(f"{sim.base_url}/simulator/audit?server={server}")).status_code == 401


@pytest.mark.parametrize("sim_config", [{"kube_audit_events": 5}], indirect=True)
async def test_the_audit_log_is_a_bounded_ring(sim: Simulator) -> None:
    server = f"{sim.base_url}/management"
    async with httpx.AsyncClient(verify=sim.ssl, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for i in range(8):
            assert (await http.get(f"{server}/api/v1/namespaces/default/configmaps/c{i}")).status_code == 404
    events = await audit(sim, server)
    assert [e["objectRef"]["name"] for e in events] == ["c3", "c4", "c5", "c6", "c7"]
    assert all(e["responseStatus"]["code"] == 404 for e in events)
