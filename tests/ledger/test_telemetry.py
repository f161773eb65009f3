"""Telemetry through a real `aro rp` with short thresholds: the simulated clusters report (metrics and
``last_telemetry_date`` appear), a cluster whose reports stop goes ``Stale`` then ``Archived`` and comes back
``Active`` when they resume; a deleted cluster's ``Active`` subscription ages the same way; a report for an
unknown cluster files an unsubscribed subscription (provenance ``Telemetry``), found by search."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aro.ledger.telemetry import TelemetryTokens
from aro.util.crypto import Sealer
from tests.backend.helpers import simulator_client
from tests.conftest import RPProcess
from tests.fixtures.clusters import cli_body
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import cluster_path
from tests.ledger.helpers import HCP_VERSION, Ocm, hcp_body, hcp_path, register

CLASSIC = "2025-07-25"
FAST_LEDGER = {
    "ARO_LEDGER_TELEMETRY_SECONDS": "0.3",
    "ARO_LEDGER_STALE_AFTER_SECONDS": "2",
    "ARO_LEDGER_ARCHIVE_AFTER_SECONDS": "4",
    "ARO_LEDGER_SWEEP_SECONDS": "0.2",
}


@pytest.fixture(scope="module")
def rp(start_rp: StartRP) -> RPProcess:
    return start_rp(**FAST_LEDGER)


@pytest.fixture(scope="module")
def sim(rp: RPProcess) -> Iterator[httpx.Client]:
    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as c:
        yield c


def _one(ocm: Ocm, search: str, ok: Any, what: str, timeout: float = 60) -> dict[str, Any]:
    return ocm.wait(search, lambda items: len(items) == 1 and ok(items[0]), what, timeout)[0]


def test_reports_stop_and_resume(rp: RPProcess, sim: httpx.Client) -> None:
    sub = str(uuid.uuid4())
    with rp.client() as arm, Ocm(rp, "dana", register(arm, sub)) as ocm:
        path = cluster_path(sub, "rg", "talker")
        assert arm.put(path, params={"api-version": CLASSIC}, json=cli_body(sub, "talker")).status_code == 201
        search = f"cloud_account_id = '{sub}'"
        reporting = _one(
            ocm,
            search,
            lambda s: s["status"] == "Active" and s.get("last_telemetry_date"),
            "an Active, reporting cluster",
        )
        [metrics] = reporting["metrics"]
        assert metrics["nodes"]["master"] == 3 and metrics["nodes"]["total"] == 6, metrics  # 3 masters, 3 workers
        assert metrics["cpu"]["total"]["value"] > 0 and metrics["memory"]["total"]["unit"] == "B"
        assert metrics["health_state"] == "healthy" and metrics["console_url"] == reporting["console_url"]
        first = reporting["last_telemetry_date"]
        _one(ocm, search, lambda s: s["last_telemetry_date"] > first, "a later report")

        external = reporting["external_cluster_id"]
        assert sim.put(f"/simulator/telemetry/{external}", json={"enabled": False}).status_code == 200
        stale = _one(ocm, search, lambda s: s["status"] == "Stale", "Stale")
        assert ocm.subscriptions(f"{search} and status = 'Stale'")["total"] == 1
        _one(ocm, search, lambda s: s["status"] == "Archived", "Archived")
        assert sim.put(f"/simulator/telemetry/{external}", json={"enabled": True}).status_code == 200
        back = _one(ocm, search, lambda s: s["status"] == "Active", "Active again")
        assert back["last_telemetry_date"] > stale["last_telemetry_date"]

        # the cluster goes: its Active subscription stays, and ages once the reports stop
        assert arm.delete(path, params={"api-version": CLASSIC}).status_code == 202
        _one(ocm, search, lambda s: s["status"] == "Archived", "the deleted cluster's subscription Archived", 90)


def test_hosted_clusters_report_too(rp: RPProcess) -> None:
    sub = str(uuid.uuid4())
    with rp.client() as arm, Ocm(rp, "erin", register(arm, sub)) as ocm:
        r = arm.put(
            hcp_path(sub, "rg", "hreport"), params={"api-version": HCP_VERSION}, json=hcp_body(sub, "rg", "hreport")
        )
        assert r.status_code == 201, r.text
        reporting = _one(
            ocm,
            f"cloud_account_id = '{sub}' and plan.id = 'OCP-ARO-HCP'",
            lambda s: s["status"] == "Active" and s.get("metrics"),
            "a reporting hosted cluster",
        )
        [metrics] = reporting["metrics"]
        assert metrics["openshift_version"].startswith("4.20.") and metrics["nodes"]["master"] == 0, metrics


def test_unknown_cluster_files_an_unsubscribed_subscription(rp: RPProcess) -> None:
    with rp.client() as arm, Ocm(rp, "frank", register(arm, str(uuid.uuid4()))) as ocm:
        key = base64.b64decode((rp.data_dir / "secret.key").read_text().strip())
        token = TelemetryTokens(Sealer(key)).issue(ocm.organization_id)
        stray = str(uuid.uuid4())
        report = {"cluster_id": stray, "health_state": "healthy", "nodes": {"total": 2, "master": 0, "compute": 2}}
        for _ in range(2):  # the second report updates the same subscription
            r = arm.post("/api/telemetry/v1/upload", json=report, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 204, r.text
        found = ocm.subscriptions(f"provenance = 'Telemetry' and external_cluster_id = '{stray}'")
        assert found["total"] == 1, found
        [item] = found["items"]
        assert item["status"] == "Active" and item["managed"] is False and item["plan"]["id"] == "OCP"

        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        r = arm.post("/api/telemetry/v1/upload", json=report, headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401 and r.json()["kind"] == "Error", r.text
        non_ascii = (token[:-2] + "éé").encode()  # HTTP headers are bytes: a token of other characters is 401
        r = arm.post("/api/telemetry/v1/upload", json=report, headers={"Authorization": b"Bearer " + non_ascii})
        assert r.status_code == 401 and r.json()["kind"] == "Error", r.text
        scheme = {**report, "cluster_id": str(uuid.uuid4()), "console_url": "javascript:alert(1)"}
        r = arm.post("/api/telemetry/v1/upload", json=scheme, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204, r.text
        [filed] = ocm.subscriptions(f"external_cluster_id = '{scheme['cluster_id']}'")["items"]
        assert "console_url" not in filed and filed["metrics"][0]["console_url"] == "", filed  # not an https URL
        r = arm.post(
            "/api/telemetry/v1/upload", json={"cluster_id": "../etc"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 400 and "cluster_id" in r.json()["reason"]
