"""Fixtures for the Azure provider: the simulator (ARM + an Entra-compatible token endpoint) and Azurite.

Azurite is npm ``azurite``, installed project-locally (``npm ci``: package.json pins 3.35.0, the last
release whose ``engines`` accepts Node 20; 3.36+ want Node 22). It is started on a free loopback port with
``--skipApiVersionCheck`` because the blob SDK (azure-storage-blob 12.31) sends a newer ``x-ms-version``
than Azurite 3.35 knows and Azurite refuses unknown versions. We chose the flag over pinning the client's
``api_version``: production code should speak the SDK's default version to real Azure, and a lagging
test server must not bend it (the same rule as for the Cosmos test server). The calls we make (create
container, put/get/delete blob) are unchanged across those versions.

Without Azurite (or node) the blob tests skip with the reason printed -- except in CI (``CI=true``),
where a missing Azurite fails them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aro.cloud.simulator import TlsFiles, generate_tls
from tests.cloud.conftest import TOKEN, Simulator
from tests.conftest import REPO, free_port

# Azurite's well-known development account (public, documented by Microsoft; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
SIM_TOKEN = TOKEN  # the simulator's one credential: bearer token, or client secret at its token endpoint
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "f3a9c2d1-0000-4000-8000-00000000c11e"


@dataclass(frozen=True)
class Azurite:
    port: int

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.account_url};"
        )


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"Azurite is required in CI: {reason}", pytrace=False)
    print(f"\nskipping: {reason}")
    pytest.skip(reason)


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"azurite exited {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"azurite not listening on {port} after {timeout}s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    binary = REPO / "node_modules" / ".bin" / "azurite-blob"
    if shutil.which("node") is None:
        _unavailable("node is not installed (Azurite needs Node.js)")
    if not binary.exists():
        _unavailable(f"{binary.relative_to(REPO)} not found; run `npm ci` in the repository")
    work = tmp_path_factory.mktemp("azurite")
    log = work / "azurite.log"
    port = free_port()
    cmd = [
        str(binary),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",  # see the module docstring
        "--disableTelemetry",
        "--silent",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=work, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_listening(proc, port, log)
        yield Azurite(port)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def azurite_or_none(request: pytest.FixtureRequest) -> Azurite | None:
    """Azurite when available; None (reason printed) outside CI when it is not."""
    try:
        found: Azurite = request.getfixturevalue("azurite")
        return found
    except pytest.skip.Exception as e:
        print(f"\nrunning without blob storage: {e}")
        return None


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return generate_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def sim(tmp_path: Path, tls: TlsFiles) -> AsyncIterator[Simulator]:
    """An in-process simulator whose one credential is ``SIM_TOKEN`` (bearer token or client secret)."""
    simulator = Simulator(tmp_path / "sim", tls, token=SIM_TOKEN, step_delay_seconds=0.0)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()
