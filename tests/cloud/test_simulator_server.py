"""The simulator outside the ArmCloud path: in-process over ASGI, the standalone entry, odd faults."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.api.errors import CloudError
from aro.cloud.simulator import SimulatorConfig, TlsFiles, create_app
from aro.cloud.simulator.server import SimulatorServer

from .conftest import SUB, Simulator

RG_URL = f"/subscriptions/{SUB}/resourcegroups/rg1?api-version=2025-04-01"
AUTH = {"Authorization": "Bearer t"}


async def test_in_process_over_asgi_transport(tmp_path: Path) -> None:
    app = create_app(SimulatorConfig(tmp_path, faults=[{"operation": "clusterReady", "mode": "fail"}]))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://sim") as http:
            put = await http.put(RG_URL, json={"location": "eastus", "managedBy": "me"}, headers=AUTH)
            assert put.status_code == 201 and put.json()["managedBy"] == "me"
            assert (
                await http.head(RG_URL.upper().replace("API-VERSION", "api-version"), headers=AUTH)
            ).status_code == 204
            ready = await http.get(f"/clusters/{SUB}/RG1/readyz")
            assert ready.status_code == 400  # the configured "fail" rule
            assert (await http.get(f"/clusters/{SUB}/rg1/readyz")).status_code == 503  # no masters
            assert (await http.get(f"/clusters/{SUB}/nope/version")).status_code == 404
            version = (await http.get(f"/clusters/{SUB}/rg1/version")).json()
            assert version["major"] == "1" and version["gitVersion"].startswith("v1.")
    finally:
        await app.shutdown()


async def test_retries_transient_errors(sim: Simulator) -> None:
    await sim.set_faults({"operation": "createResourceGroup", "status": 503, "count": 2})
    rg = await sim.cloud().create_resource_group(SUB, "rg1", "eastus", "owner", {})
    assert rg.name == "rg1"
    assert (await sim.faults())[0]["count"] == 0  # two 503s, retried by the SDK's retry policy
    statuses = [r["status"] for r in await sim.requests() if r["method"] == "PUT" and "/rg1" in r["path"]]
    assert statuses == [503, 503, 201]


async def test_create_resource_group_hang_holds_the_request(sim: Simulator) -> None:
    await sim.set_faults({"operation": "createResourceGroup", "mode": "hang"})
    cloud = sim.cloud()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(cloud.create_resource_group(SUB, "rg1", "eastus", "owner", {}), 0.3)
    assert await cloud.get_resource_group(SUB, "rg1") is None
    await cloud.create_resource_group(SUB, "rg1", "eastus", "owner", {})  # the single hit is spent


async def test_delete_resource_group_fail_fault(sim: Simulator) -> None:
    cloud = sim.cloud()
    await cloud.create_resource_group(SUB, "rg1", "eastus", "owner", {})
    await sim.set_faults({"operation": "deleteResourceGroup", "code": "ScopeLocked", "status": 409})
    with pytest.raises(CloudError) as e:
        await cloud.delete_resource_group(SUB, "rg1")
    assert (e.value.status, e.value.code) == (409, "ScopeLocked")
    assert await cloud.get_resource_group(SUB, "rg1") is not None
    await cloud.delete_resource_group(SUB, "rg1")
    assert await cloud.get_resource_group(SUB, "rg1") is None


def test_standalone_entry(tmp_path: Path, tls: TlsFiles) -> None:
    cmd = [sys.executable, "-c", "import sys; from aro.cloud.simulator.server import main; sys.exit(main())"]
    cmd += ["--data-dir", str(tmp_path), "--port", "0", "--token", "abc", "--step-delay", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on (https://\S+) \(CA (\S+)\)", line)
        assert match, line + (proc.stderr.read() if proc.stderr else "")
        base, ca = match.groups()
        started = time.monotonic()
        resp = httpx.get(f"{base}{RG_URL}", headers={"Authorization": "Bearer abc"}, verify=ca_context(ca))
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "ResourceGroupNotFound"
        assert time.monotonic() - started < 5
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert (tmp_path / "simulator.db").exists() and (tmp_path / "tls" / "ca.pem").exists()


def ca_context(path: str) -> object:
    import ssl

    return ssl.create_default_context(cafile=path)


async def test_busy_port_is_a_clear_error(sim: Simulator, tmp_path: Path) -> None:
    assert sim.server is not None
    other = SimulatorServer(
        create_app(SimulatorConfig(tmp_path / "other")),
        cert_file=sim.tls.cert_file,
        key_file=sim.tls.key_file,
        port=sim.server.port,
    )
    with pytest.raises(RuntimeError, match="cannot listen on 127.0.0.1"):
        await other.start()


async def test_a_hung_operation_finishes_once_no_hang_fault_is_left(sim: Any) -> None:
    """A "hang" holds an operation only while a hang rule lives: clearing the faults lets it finish."""
    c = sim.admin
    assert c is not None
    v = {"api-version": "2022-09-01"}
    rg = "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourcegroups/hung"
    assert (await c.put(rg, params=v, json={"location": "eastus"})).status_code in (200, 201)
    rule = [{"operation": "deleteResourceGroup", "mode": "hang", "match": "hung", "count": None}]
    assert (await c.put("/simulator/faults", json=rule)).status_code == 200
    r = await c.delete(rg, params=v)
    assert r.status_code == 202
    result = r.headers["location"]
    assert (await c.get(result)).status_code == 202
    assert (await c.put("/simulator/faults", json=[])).status_code == 200
    for _ in range(100):
        if (await c.get(result)).status_code != 202:
            break
        await asyncio.sleep(0.05)
    assert (await c.get(rg, params=v)).status_code == 404
