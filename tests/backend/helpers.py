"""Helpers for the backend end-to-end tests: cluster bodies, waiting for states, reading the store."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.clusters import cluster_body
from tests.fixtures.store import StoreView

SUB = "11111111-2222-3333-4444-555555555555"
V = "2025-07-25"


def cluster_url(name: str, rg: str = "rg", sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.RedHatOpenShift/openShiftClusters/{name}"


def body(name: str, sub: str = SUB, workers: int = 3) -> dict[str, Any]:
    """A 2025-07-25 create body as `az aro create` sends it."""
    return cluster_body(
        sub,
        domain=name[:8] + "dom",
        cluster_resource_group=f"aro-{name}",
        pull_secret='{"auths":{"registry.example.com":{"auth":"c2VjcmV0"}}}',
        client_secret="sp-s3cret-value",
        tags={"team": "aro"},
        vnet="vnet",
        workers=workers,
        outbound_type=None,
    )


def create(c: httpx.Client, name: str, **kw: Any) -> httpx.Response:
    r = c.put(cluster_url(name), params={"api-version": V}, json=body(name, **kw))
    assert r.status_code == 201, r.text
    return r


def wait_state(c: httpx.Client, name: str, want: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = c.get(cluster_url(name), params={"api-version": V})
        if r.status_code == 404 and "404" in want:
            return {}
        if r.status_code == 200:
            last = r.json()
            if last["properties"]["provisioningState"] in want:
                return last
        time.sleep(0.05)
    raise AssertionError(
        f"{name} not in {want} after {timeout}s: {last.get('properties', {}).get('provisioningState')}"
    )


def operation(c: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    url = response.headers["azure-asyncoperation"]
    r = c.get(url)
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait_operation(c: httpx.Client, response: httpx.Response, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op = operation(c, response)
        if op["status"] in ("Succeeded", "Failed", "Canceled"):
            return op
        time.sleep(0.05)
    raise AssertionError("operation did not finish")


def store_docs(data_dir: Path, container: str) -> list[dict[str, Any]]:
    """Every document of a container of the embedded store (through the Store API)."""
    return StoreView(data_dir).documents(container)


def cluster_doc(data_dir: Path, name: str) -> dict[str, Any] | None:
    return StoreView(data_dir).by_key("openShiftClusters", cluster_url(name).lower())


def simulator_requests(data_dir: Path) -> list[dict[str, Any]]:
    """The simulator's request log (JSON lines in its data directory)."""
    path = data_dir / "simulator" / "requests.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def simulator_client(sim_url: str, ca: Path) -> httpx.Client:
    import ssl

    return httpx.Client(
        base_url=sim_url,
        headers={"Authorization": "Bearer aro-simulator-token"},
        verify=ssl.create_default_context(cafile=str(ca)),
    )
