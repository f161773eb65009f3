"""Fixtures of the reliability drills: the scale, and the fixtures of the suites they build on (the
frontend suite's `aro rp` per module and its checking ARM client; the local Cosmos DB server)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.database.conftest import cosmos_server
from tests.database.conftest import pytest_terminal_summary as _cosmos_notes
from tests.drills.scale import FIGURES, Scale, current
from tests.frontend.conftest import arm, rp, start_rp

__all__ = ["arm", "cosmos_server", "rp", "scale", "start_rp"]


@pytest.fixture(scope="session")
def scale() -> Scale:
    return current()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    _cosmos_notes(terminalreporter)
    if not FIGURES:
        return
    terminalreporter.section(f"reliability drills ({current().name}): figures")
    for drill, figures in FIGURES.items():
        terminalreporter.write_line(f"{drill}:")
        for name, value in figures.items():
            terminalreporter.write_line(f"  {name}: {value}")
