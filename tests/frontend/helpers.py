"""Helpers of the frontend conformance suite: request bodies, an ARM client that checks the headers of
every response, waiting for provisioning states, and snapshots of the store (through the Store API)."""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any

import httpx

from tests.conftest import RPProcess
from tests.fixtures.clusters import CLIENT_SECRET, PULL_SECRET, PULL_SECRET_AUTH, SECRETS, cli_body
from tests.fixtures.store import StoreView

__all__ = ["CLIENT_SECRET", "PULL_SECRET", "PULL_SECRET_AUTH", "SECRETS", "cli_body"]  # re-exported

STABLE = "2025-07-25"
PREVIEW = "2019-12-31-preview"
PROVIDER = "Microsoft.RedHatOpenShift"
LOCATION = "eastus"
TERMINAL = {"Succeeded", "Failed", "Canceled"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_sub() -> str:
    return str(uuid.uuid4())


def cluster_path(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{PROVIDER}/openShiftClusters/{name}"


def rg_list_path(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{PROVIDER}/openShiftClusters"


def sub_list_path(sub: str) -> str:
    return f"/subscriptions/{sub}/providers/{PROVIDER}/openShiftClusters"


def location_path(sub: str, location: str = LOCATION) -> str:
    return f"/subscriptions/{sub}/providers/{PROVIDER}/locations/{location}"


def seed_body() -> dict[str, Any]:
    """The seed README's 2019-12-31-preview create body: location and the base64 pull secret only."""
    return {"location": LOCATION, "properties": {"pullSecret": base64.b64encode(PULL_SECRET.encode()).decode()}}


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret {secret[:12]}... leaked in a response body"


def error_of(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert isinstance(err.get("code"), str) and isinstance(err.get("message"), str), body
    return err


class Arm:
    """An httpx client on the RP (verifying the generated CA). Every response is checked: a fresh
    ``x-ms-request-id`` UUID, and ``application/json`` whenever there is a body."""

    def __init__(self, rp: RPProcess, **kwargs: Any):
        self.rp = rp
        self.request_ids: set[str] = set()
        self.client = rp.client(event_hooks={"response": [self._check]}, **kwargs)

    def __enter__(self) -> Arm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def _check(self, r: httpx.Response) -> None:
        rid = r.headers.get("x-ms-request-id", "")
        where = f"{r.request.method} {r.request.url} -> {r.status_code}"
        assert UUID.match(rid), f"no x-ms-request-id UUID on {where}"
        assert rid not in self.request_ids, f"x-ms-request-id {rid} reused on {where}"
        self.request_ids.add(rid)
        if int(r.headers.get("content-length", "0")) > 0:
            assert r.headers.get("content-type", "").startswith("application/json"), where

    # --- requests ----------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        version: str | None = STABLE,
        json: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        query = dict(params or {})
        if version is not None:
            query["api-version"] = version
        return self.client.request(method, path, params=query, json=json, content=content, headers=headers)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, json=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, json=body, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def absolute(self, url: str) -> httpx.Response:
        """GET an absolute URL handed out by the RP (Azure-AsyncOperation, Location, nextLink)."""
        return self.client.get(url)

    # --- flows -------------------------------------------------------------------------------------

    def register(self, sub: str, state: str = "Registered") -> httpx.Response:
        r = self.put(
            f"/subscriptions/{sub}", {"state": state, "properties": {"tenantId": str(uuid.uuid4())}}, version="2.0"
        )
        assert r.status_code in (200, 201), r.text
        return r

    def wait(self, path: str, states: set[str], *, version: str = STABLE, timeout: float = 30) -> dict[str, Any]:
        """Poll GET until the provisioningState is in ``states`` ("gone": until 404); returns the body."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            r = self.get(path, version=version)
            if r.status_code == 404 and "gone" in states:
                return {}
            assert r.status_code == 200, r.text
            last = r.json()
            if last["properties"]["provisioningState"] in states:
                return dict(last)
            time.sleep(0.05)
        raise AssertionError(f"{path} not in {states} after {timeout}s: {last}")

    def wait_operation(self, url: str, *, timeout: float = 30) -> dict[str, Any]:
        """Poll an Azure-AsyncOperation URL until its status is terminal."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            r = self.absolute(url)
            assert r.status_code == 200, r.text
            last = r.json()
            if last["status"] in TERMINAL:
                return dict(last)
            time.sleep(0.05)
        raise AssertionError(f"operation {url} not terminal after {timeout}s: {last}")

    def start_create(self, sub: str, rg: str, name: str, body: dict[str, Any] | None = None) -> httpx.Response:
        r = self.put(cluster_path(sub, rg, name), cli_body(sub, name) if body is None else body)
        assert r.status_code == 201, r.text
        return r

    def create(self, sub: str, rg: str, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create a cluster (2025-07-25) and wait until it Succeeded; returns its GET body."""
        self.start_create(sub, rg, name, body)
        return self.wait(cluster_path(sub, rg, name), {"Succeeded"})

    # --- the store ---------------------------------------------------------------------------------

    def rows(self, sub: str) -> list[tuple[str, Any]]:
        """Every document of the subscription's partition (clusters, operations, the subscription), as
        the store holds them (with their etags: any write changes the snapshot)."""
        return StoreView(self.rp.data_dir).partition(sub)
