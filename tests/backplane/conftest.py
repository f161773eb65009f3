"""Fixtures of the backplane's tests: one real `aro rp` for the package (``bp_rp``), its simulator, an SRE's
token, and a classic and a hosted cluster that every test may read but none changes (``shared``); a test
that pauses, hibernates or holds a cluster creates its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.backend.helpers import simulator_client
from tests.backplane.helpers import (
    SRE,
    SRE_GROUPS,
    Shared,
    create_classic,
    create_hosted,
    issue_token,
    wait_cluster_id,
)
from tests.conftest import RPProcess, free_port
from tests.frontend.conftest import start_rp
from tests.frontend.helpers import Arm
from tests.ledger.helpers import register

__all__ = ["start_rp"]


@pytest.fixture(scope="package")
def bp_rp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RPProcess]:
    rp = RPProcess(tmp_path_factory.mktemp("backplane") / "data", free_port(), "rp")
    rp.start()
    try:
        yield rp
    finally:
        rp.kill()


@pytest.fixture(scope="package")
def sim(bp_rp: RPProcess) -> Iterator[httpx.Client]:
    with simulator_client(bp_rp.ready_info()["simulator"], bp_rp.ca_file) as c:
        yield c


@pytest.fixture(scope="package")
def sre_token(bp_rp: RPProcess) -> str:
    return issue_token(bp_rp, SRE, SRE_GROUPS)


@pytest.fixture
def arm(bp_rp: RPProcess) -> Iterator[Arm]:
    with Arm(bp_rp) as a:
        yield a


@pytest.fixture(scope="package")
def shared(bp_rp: RPProcess, sre_token: str) -> Shared:
    """A Succeeded classic cluster and a Succeeded hosted cluster of one customer, by ledger cluster id."""
    sub = str(uuid.uuid4())
    with Arm(bp_rp) as arm:
        tenant = register(arm.client, sub)
        classic = create_classic(arm, sub, "bp-rg", "bpclassic")
        hosted = create_hosted(arm, sub, "bp-rg", "bphosted")
        arm.wait(classic.path, {"Succeeded"}, timeout=90)
        arm.wait(hosted.path, {"Succeeded"}, version=hosted.version, timeout=90)
    classic.cluster_id = wait_cluster_id(bp_rp, sre_token, sub, classic.name)
    hosted.cluster_id = wait_cluster_id(bp_rp, sre_token, sub, hosted.name)
    return Shared(sub=sub, tenant=tenant, classic=classic, hosted=hosted)
