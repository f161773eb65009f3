"""Fixtures of the frontend conformance suite: one real `aro rp` subprocess per test module."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import RPProcess, free_port
from tests.frontend.helpers import Arm

StartRP = Callable[..., RPProcess]


@pytest.fixture(scope="module")
def start_rp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartRP]:
    """Start `aro rp` (HTTPS, generated CA, hosted simulator, FAST defaults) with extra environment;
    every process is killed at the end of the module."""
    procs: list[RPProcess] = []

    def start(**env: str) -> RPProcess:
        p = RPProcess(tmp_path_factory.mktemp("rp") / "data", free_port(), "rp", env=dict(env))
        procs.append(p)
        return p.start()

    yield start
    for p in procs:
        p.kill()


@pytest.fixture(scope="module")
def rp(start_rp: StartRP) -> RPProcess:
    """The module's RP, with the default configuration (page size 10)."""
    return start_rp()


@pytest.fixture(scope="module")
def arm(rp: RPProcess) -> Iterator[Arm]:
    with Arm(rp) as a:
        yield a
