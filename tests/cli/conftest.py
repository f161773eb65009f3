"""Fixtures of the `aro cluster` / hack-script tests: one real `aro rp` subprocess for the package (HTTPS,
generated CA, hosted simulator), with a small page size so lists span several pages, and a short simulated
step delay so a create lasts several polls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.helpers import Cli
from tests.conftest import RPProcess, free_port

RP_ENV = {"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0.03", "ARO_FRONTEND_PAGE_SIZE": "2"}


@pytest.fixture(scope="package")
def rp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RPProcess]:
    p = RPProcess(tmp_path_factory.mktemp("cli-rp") / "data", free_port(), "rp", env=dict(RP_ENV))
    p.start()
    yield p
    p.kill()


@pytest.fixture(scope="module")
def cli(rp: RPProcess, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The `aro cluster` client of one test module: its own subscription, home and working directory."""
    home = tmp_path_factory.mktemp("cli-home")
    return Cli(rp, home)
