"""One `aro rp` serving every kind, the toy kind included (``tests.fixtures.toy_rp``), per module."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import RPProcess, free_port
from tests.fixtures.kinds import Simulator
from tests.frontend.helpers import Arm


@pytest.fixture(scope="module")
def rp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RPProcess]:
    p = RPProcess(tmp_path_factory.mktemp("kinds") / "data", free_port(), "rp", module="tests.fixtures.toy_rp")
    p.start()
    yield p
    p.kill()


@pytest.fixture(scope="module")
def arm(rp: RPProcess) -> Iterator[Arm]:
    with Arm(rp) as a:
        yield a


@pytest.fixture(scope="module")
def simulator(rp: RPProcess) -> Iterator[Simulator]:
    verify = ssl.create_default_context(cafile=str(rp.ca_file))
    headers = {"Authorization": "Bearer aro-simulator-token"}
    with httpx.Client(base_url=rp.ready_info()["simulator"], verify=verify, headers=headers, timeout=30) as c:
        yield Simulator(c)
