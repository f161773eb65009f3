from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aro.database.store import Store
from tests.database.targets import open_target


@dataclass
class Target:
    """One store under test: ``spec`` describes it; ``open()`` gives another handle onto the same data."""

    spec: dict[str, Any]
    open: Callable[[], Awaitable[Store]]


def _sqlite(tmp_path: Path) -> dict[str, Any]:
    return {"kind": "sqlite", "path": str(tmp_path / "contract.db")}


IMPLEMENTATIONS: dict[str, Callable[[Path], dict[str, Any]]] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    spec = IMPLEMENTATIONS[request.param](tmp_path)
    return Target(spec, lambda: open_target(spec))


@pytest.fixture
async def store(target: Target) -> AsyncIterator[Store]:
    s = await target.open()
    yield s
    await s.close()
