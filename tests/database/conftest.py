from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aro.database.store import Store
from tests.database import cosmos_server as local_cosmos
from tests.database.targets import open_target


@dataclass
class Target:
    """One store under test: ``spec`` describes it; ``open()`` gives another handle onto the same data."""

    spec: dict[str, Any]
    open: Callable[[], Awaitable[Store]]


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    return {"kind": "sqlite", "path": str(tmp_path / "contract.db")}


def _cosmos(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    server: local_cosmos.CosmosServer = request.getfixturevalue("cosmos_server")
    return server.spec(server.new_database("contract"))  # a fresh database per test


IMPLEMENTATIONS: dict[str, Callable[[pytest.FixtureRequest, Path], dict[str, Any]]] = {
    "sqlite": _sqlite,
    "cosmos": _cosmos,
}


@pytest.fixture(scope="session")
def cosmos_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local Cosmos DB server, started once per run (a failure in CI, a skip elsewhere, when node or
    node_modules is missing). Other test directories reuse it by importing this fixture."""
    yield local_cosmos.shared(request.config, tmp_path_factory)


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    spec = IMPLEMENTATIONS[request.param](request, tmp_path)
    return Target(spec, lambda: open_target(spec))


@pytest.fixture
async def store(target: Target) -> AsyncIterator[Store]:
    s = await target.open()
    yield s
    await s.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the local server's gaps and how they are handled (once, whichever conftest runs it)."""
    if local_cosmos.NOTES and not local_cosmos.SUMMARY_PRINTED:
        local_cosmos.SUMMARY_PRINTED = True
        terminalreporter.section("local Cosmos DB server: gaps and how they are handled")
        for note in local_cosmos.NOTES:
            terminalreporter.write_line(f"- {note}")
