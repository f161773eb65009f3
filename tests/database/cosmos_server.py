"""The local Cosmos DB protocol server (npm @vercel/cosmosdb-server via hack/cosmos-server.js) for tests:
one per pytest run, shared by every test directory (tests/database, tests/cosmos, ...).

If node or the npm package is missing, tests that need the server fail in CI (``CI`` set) and are
skipped elsewhere, with the reason printed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aro.util.pki import ensure_dev_serving_cert

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "hack" / "cosmos-server.js"
PACKAGE = REPO / "node_modules" / "@vercel" / "cosmosdb-server" / "package.json"
KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="  # any base64

# Printed in the terminal summary (see tests/database/conftest.py): the gaps of the local server that
# the server script or the tests work around, and contract cases skipped for it.
NOTES: list[str] = []
SUMMARY_PRINTED = False


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Fail in CI, skip (with the reason) elsewhere."""
    message = f"local Cosmos DB server unavailable: {reason}"
    if in_ci():
        pytest.fail(message + " (CI: this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


@dataclass
class CosmosServer:
    """A running hack/cosmos-server.js: HTTPS on loopback with a certificate from ``ca_file``."""

    proc: subprocess.Popen[str]
    port: int
    ca_file: Path
    gaps: list[str] = field(default_factory=list)
    key: str = KEY

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def new_database(self, prefix: str = "test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    def env(self, database: str) -> dict[str, str]:
        """ARO_* variables pointing an `aro` process at this server."""
        return {
            "ARO_DATABASE_MODE": "cosmos",
            "ARO_DATABASE_COSMOS_ENDPOINT": self.endpoint,
            "ARO_DATABASE_COSMOS_KEY": self.key,
            "ARO_DATABASE_COSMOS_DATABASE": database,
            "ARO_DATABASE_COSMOS_CA_FILE": str(self.ca_file),
        }

    def spec(self, database: str) -> dict[str, Any]:
        """A tests.database.targets spec for a store on this server."""
        return {
            "kind": "cosmos",
            "endpoint": self.endpoint,
            "key": self.key,
            "database": database,
            "caFile": str(self.ca_file),
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


def start(directory: Path, *extra_args: str, timeout: float = 30) -> CosmosServer:
    """Start a server (certificates generated into ``directory``); skip/fail if it cannot run."""
    node = shutil.which("node")
    if node is None:
        unavailable("`node` is not on PATH (install Node.js 20+)")
    if not PACKAGE.exists():
        unavailable(f"{PACKAGE.relative_to(REPO)} is missing (run `make node_modules/.installed` or `npm ci`)")
    certs = ensure_dev_serving_cert(directory / "certs")
    stderr_path = directory / "cosmos-server.log"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [str(node), str(SCRIPT), "--cert", str(certs.cert_file), "--key", str(certs.key_file), "--exit-with-stdin"]
            + list(extra_args),
            cwd=REPO,
            stdin=subprocess.PIPE,  # kept open: the server exits when this process goes away
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(timeout)
    if not line or not line[0].strip():
        proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        raise RuntimeError(f"cosmos server did not start:\n{stderr_path.read_text()}")
    ready = json.loads(line[0])
    return CosmosServer(proc, int(ready["port"]), certs.ca_file, list(ready.get("gaps", [])))


_shared: CosmosServer | None = None


def shared(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> CosmosServer:
    """The one server of this pytest run (stopped when the run ends)."""
    global _shared
    if _shared is None or _shared.proc.poll() is not None:
        _shared = start(tmp_path_factory.mktemp("cosmos-server"))
        config.add_cleanup(_shared.stop)
        if NOTES:
            return _shared  # restarted after a crash: the notes are there already
        NOTES.extend(f"server: {gap}" for gap in _shared.gaps)
        NOTES.append(
            "queries: the package ignores partition_key= routing; the store also filters on c.partitionKey "
            "in its SQL (correct on real Cosmos DB as well): nothing to work around"
        )
        NOTES.append(
            "no change feed, no DISTINCT/GROUP BY, non-atomic batches, no 429s: the store uses none of these "
            "(429 retries are tested with hack/cosmos-server.js --throttle-every; OFFSET/LIMIT: see above)"
        )
    return _shared
