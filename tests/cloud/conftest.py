"""Fixtures: a real simulator under uvicorn on HTTPS (loopback, free port, throwaway CA) driven through
``ArmCloud`` -- and hence the real azure-mgmt-resource SDK."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.cloud.arm import ArmCloud
from aro.cloud.credentials import StaticTokenCredential
from aro.cloud.simulator import FaultRule, SimulatorApp, SimulatorConfig, TlsFiles, create_app, generate_tls
from aro.cloud.simulator.server import SimulatorServer

SUB = "11111111-2222-3333-4444-555555555555"
TOKEN = "test-token"


@contextlib.asynccontextmanager
async def asgi_simulator(data_dir: Path, **config: Any) -> AsyncIterator[SimulatorApp]:
    """The simulator app in-process (driven over ``httpx.ASGITransport``: ``asgi_client``), shut down after."""
    app = create_app(SimulatorConfig(data_dir, **config))
    try:
        yield app
    finally:
        await app.shutdown()


def asgi_client(app: SimulatorApp, token: str = "t", base_url: str = "https://sim") -> httpx.AsyncClient:
    """A client of an in-process simulator app with a bearer token."""
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url=base_url, headers={"Authorization": f"Bearer {token}"})


class Simulator:
    """One simulator data directory; the server can be stopped and started again over it."""

    def __init__(self, data_dir: Path, tls: TlsFiles, **config: Any) -> None:
        self.data_dir = data_dir
        self.tls = tls
        self.config = config
        self.server: SimulatorServer | None = None
        self._clouds: list[ArmCloud] = []
        self.admin: httpx.AsyncClient | None = None
        self.ssl = ssl.create_default_context(cafile=str(tls.ca_file))

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    async def start(self) -> None:
        app = create_app(SimulatorConfig(self.data_dir, **self.config))
        self.server = SimulatorServer(app, cert_file=self.tls.cert_file, key_file=self.tls.key_file, port=0)
        await self.server.start()
        self.admin = httpx.AsyncClient(
            base_url=self.base_url,
            verify=self.ssl,
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    async def stop(self) -> None:
        for cloud in self._clouds:
            await cloud.close()
        self._clouds = []
        if self.admin is not None:
            await self.admin.aclose()
            self.admin = None
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def cloud(self, token: str = TOKEN, **kwargs: Any) -> ArmCloud:
        kwargs.setdefault("polling_interval", 0.02)
        kwargs.setdefault("retry_backoff_factor", 0.01)
        cloud = ArmCloud(self.base_url, StaticTokenCredential(token), self.tls.ca_file, **kwargs)
        self._clouds.append(cloud)
        return cloud

    async def set_faults(self, *rules: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.admin is not None
        resp = await self.admin.put("/simulator/faults", json=list(rules))
        resp.raise_for_status()
        return list(resp.json())

    async def faults(self) -> list[dict[str, Any]]:
        assert self.admin is not None
        return list((await self.admin.get("/simulator/faults")).json())

    async def get_resource(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        """GET one resource by id from the simulator's ARM API (None when it answers 404)."""
        assert self.admin is not None
        resp = await self.admin.get(resource_id, params={"api-version": api_version})
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return dict(resp.json())

    async def requests(self, **params: str) -> list[dict[str, Any]]:
        assert self.admin is not None
        resp = await self.admin.get("/simulator/requests", params=params)
        resp.raise_for_status()
        return list(resp.json()["value"])


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return generate_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def sim_config() -> dict[str, Any]:
    """Override per test (e.g. via ``@pytest.mark.parametrize``/indirect) or mutate before ``sim`` starts."""
    return {"step_delay_seconds": 0.05, "token": TOKEN}


@pytest.fixture
async def sim(tmp_path: Path, tls: TlsFiles, sim_config: dict[str, Any]) -> AsyncIterator[Simulator]:
    config = dict(sim_config)
    faults = tuple(FaultRule.from_json(r) for r in config.pop("faults", ()))
    simulator = Simulator(tmp_path / "sim", tls, faults=faults, **config)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
def cloud(sim: Simulator) -> ArmCloud:
    return sim.cloud()
