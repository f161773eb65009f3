"""Helpers of the ledger's end-to-end tests: an AMS client with a token from a real `aro rp`, waiting for a
subscription to reach a status, the simulator's telemetry switch, a hosted cluster body, OCM's error
envelope, and subscriptions filed the quick way (telemetry of unknown clusters) in two organizations."""

from __future__ import annotations

import base64
import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from aro.ledger.telemetry import TelemetryTokens
from aro.util.crypto import Sealer
from tests.conftest import RPProcess
from tests.hcp.helpers import cluster_model

AMS = "/api/accounts_mgmt/v1"
HCP_VERSION = "2026-10-01"


class Ocm:
    """AMS's API as one user of one organization (a development token from ``POST /api/auth/token``)."""

    def __init__(
        self, rp: RPProcess, user: str = "alice", organization: str | None = None, groups: tuple[str, ...] = ()
    ):
        self.rp = rp
        self.client = rp.client()
        body: dict[str, Any] = {"username": user, "groups": list(groups)}
        if organization:
            body["organization"] = organization
        r = self.client.post("/api/auth/token", json=body)
        assert r.status_code == 200, r.text
        self.token = str(r.json()["access_token"])
        self.organization_id = str(r.json()["organization"]["id"])
        self.client.headers["Authorization"] = f"Bearer {self.token}"

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Ocm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(AMS + path, params=params)

    def subscriptions(self, search: str = "", **params: Any) -> dict[str, Any]:
        r = self.get("/subscriptions", search=search, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["kind"] == "SubscriptionList" and body["size"] == len(body["items"]), body
        return dict(body)

    def wait(
        self, search: str, ok: Callable[[list[dict[str, Any]]], bool], what: str, timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Poll the search until ``ok(items)``; returns the items."""
        deadline = time.monotonic() + timeout
        items: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            items = self.subscriptions(search)["items"]
            if ok(items):
                return items
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}: {items}")


def register(client: httpx.Client, sub: str, tenant: str | None = None) -> str:
    """Register an Azure subscription (as ARM does) in a tenant of its own; returns the tenant id."""
    tenant = tenant or str(uuid.uuid4())
    r = client.put(
        f"/subscriptions/{sub}",
        params={"api-version": "2.0"},
        json={"state": "Registered", "properties": {"tenantId": tenant}},
    )
    assert r.status_code in (200, 201), r.text
    return tenant


def hcp_path(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RedHatOpenShift/hcpOpenShiftClusters/{name}"


def hcp_body(sub: str, rg: str, name: str) -> dict[str, Any]:
    """A hosted cluster as the official SDK serializes it."""
    body: dict[str, Any] = cluster_model(sub, rg, name).as_dict()
    return body


@contextlib.contextmanager
def installs_held(sim: httpx.Client) -> Iterator[None]:
    """Every cluster's API stays not-ready (a simulator "hang" fault) while the block runs: installs wait."""
    r = sim.put("/simulator/faults", json=[{"operation": "clusterReady", "mode": "hang", "count": None}])
    assert r.status_code == 200, r.text
    try:
        yield
    finally:
        sim.delete("/simulator/faults")


def ocm_error(r: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["kind"] == "Error" and body["id"] == str(status) and body["code"] == f"ACCT-MGMT-{status}", body
    assert body["href"] == f"{AMS}/errors/{status}" and body["operation_id"], body
    for word in words:
        assert word in body["reason"], body
    return dict(body)


def report(rp: RPProcess, organization_id: str, external_id: str | None = None) -> str:
    """File a subscription in an organization the quickest way: a telemetry report of an unknown cluster."""
    key = base64.b64decode((rp.data_dir / "secret.key").read_text().strip())
    token = TelemetryTokens(Sealer(key)).issue(organization_id)
    external_id = external_id or str(uuid.uuid4())
    with rp.client() as c:
        r = c.post(
            "/api/telemetry/v1/upload", json={"cluster_id": external_id}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 204, r.text
    return external_id


def two_organizations(rp: RPProcess) -> tuple[Ocm, Ocm, Ocm, dict[str, str]]:
    """alice of organization A (subscriptions a1 and a2), bob of B (b1) and sam, an SRE of a third; the
    subscriptions filed by telemetry reports. Returns (alice, bob, sam, {name: subscription id})."""
    a = Ocm(rp, "alice", str(uuid.uuid4()))
    b = Ocm(rp, "bob", str(uuid.uuid4()))
    sre = Ocm(rp, "sam", str(uuid.uuid4()), groups=("aro-sre",))
    ids: dict[str, str] = {}
    for name, who in (("a1", a), ("a2", a), ("b1", b)):
        external = report(rp, who.organization_id)
        [item] = who.subscriptions(f"external_cluster_id = '{external}'")["items"]
        ids[name] = item["id"]
    return a, b, sre, ids
