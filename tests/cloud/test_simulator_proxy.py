"""The CONNECT proxy that sends ``management.azure.com`` to the simulator (``_proxy``): a real simulator
server with a certificate for that name from the development CA, a real proxy, and httpx as the client
(``proxy=``, verifying with the CA) -- the same path `az aro` takes with ``HTTPS_PROXY``."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aro.cloud.simulator import SimulatorConfig, create_app
from aro.cloud.simulator._proxy import CloudProxy
from aro.cloud.simulator.server import SimulatorServer
from aro.util import pki


@dataclass
class Door:
    proxy: CloudProxy
    ca_file: Path


@pytest.fixture
async def door(tmp_path: Path) -> AsyncIterator[Door]:
    certs = pki.ensure_dev_serving_cert(tmp_path / "certs")
    ca = pki.KeyPair(certs.ca_file.read_text(), (tmp_path / "certs" / "ca.key").read_text())
    app = create_app(SimulatorConfig(tmp_path / "sim", token="t"))
    public = pki.issue(ca, "management.azure.com", dns_names=("management.azure.com",))
    app.serving_certs.put(public.cert_pem + ca.cert_pem, public.key_pem)
    server = SimulatorServer(app, cert_file=certs.cert_file, key_file=certs.key_file, port=0)
    await server.start()
    proxy = CloudProxy(("127.0.0.1", server.port), max_tunnels=2, idle_seconds=5)
    await proxy.start()
    try:
        yield Door(proxy, certs.ca_file)
    finally:
        await proxy.stop()
        await server.stop()


async def test_public_arm_host_reaches_the_simulator(door: Door) -> None:
    verify = ssl.create_default_context(cafile=str(door.ca_file))
    async with httpx.AsyncClient(proxy=door.proxy.url, verify=verify) as c:
        r = await c.get("https://management.azure.com/metadata/endpoints", params={"api-version": "2022-09-01"})
        assert r.status_code == 200
        assert r.json()["resourceManager"] == "https://management.azure.com/"
        # a bearer-protected ARM route answers through the same tunnel kind
        r = await c.get("https://management.azure.com/subscriptions/s/resourcegroups", params={"api-version": "1"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "AuthenticationFailed"


async def test_without_the_ca_the_handshake_fails(door: Door) -> None:
    async with httpx.AsyncClient(proxy=door.proxy.url) as c:  # the system trust store
        with pytest.raises(httpx.ConnectError):
            await c.get("https://management.azure.com/metadata/endpoints?api-version=2022-09-01")


async def raw(door: Door, head: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", door.proxy.port)
    writer.write(head)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(1024), 5)
    writer.close()
    return answer


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", b"403"),
        (b"CONNECT management.azure.com:80 HTTP/1.1\r\n\r\n", b"403"),
        (b"GET http://management.azure.com/ HTTP/1.1\r\nHost: management.azure.com\r\n\r\n", b"405"),
        (b"CONNECT management.azure.com:443 HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", b"431"),
    ],
)
async def test_refusals(door: Door, head: bytes, status: bytes) -> None:
    answer = await raw(door, head)
    assert answer.startswith(b"HTTP/1.1 " + status), answer


async def test_tunnels_are_bounded(door: Door) -> None:
    held = []
    for _ in range(2):
        reader, writer = await asyncio.open_connection("127.0.0.1", door.proxy.port)
        writer.write(b"CONNECT management.azure.com:443 HTTP/1.1\r\n\r\n")
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        held.append(writer)
    assert (await raw(door, b"CONNECT management.azure.com:443 HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 503")
    for writer in held:
        writer.close()
