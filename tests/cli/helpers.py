"""Running `aro cluster` in-process (typer's CliRunner) or as a subprocess against the package's RP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from click.testing import Result
from typer.testing import CliRunner

from tests.conftest import REPO, RPProcess

V = "2025-07-25"
PROVIDER = "Microsoft.RedHatOpenShift"


def clean_environ() -> dict[str, str]:
    """os.environ without the RP's (ARO_*) and the client's (AROCLI_*) configuration."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ARO_", "AROCLI_"))}


@dataclass
class Cli:
    rp: RPProcess
    home: Path
    subscription: str = field(default_factory=lambda: str(uuid.uuid4()))

    def env(self, **extra: str | None) -> dict[str, str | None]:
        return {
            "AROCLI_ENDPOINT": self.rp.base_url,
            "AROCLI_CA_FILE": str(self.rp.ca_file),
            "AROCLI_SUBSCRIPTION": self.subscription,
            "AROCLI_POLL_INTERVAL": "0.05",
            "AROCLI_LOCATION": None,
            "AROCLI_CONFIG": None,
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "FORCE_COLOR": None,  # rich would draw the live display and colours into the captured output
            "TTY_COMPATIBLE": None,
            **extra,
        }

    def run(self, *args: str, input: str | None = None, **env: str | None) -> Result:
        """`aro cluster ARGS` in-process."""
        from aro_cmd.main import app

        return CliRunner().invoke(app, ["cluster", *args], env=self.env(**env), input=input)

    def proc(self, *args: str, cwd: Path = REPO, **env: str | None) -> subprocess.CompletedProcess[str]:
        """`aro cluster ARGS` through the real entry point, stdin not a terminal."""
        full = clean_environ()
        for k, v in self.env(**env).items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        return subprocess.run(
            [sys.executable, "-m", "aro_cmd.main", "cluster", *args],
            cwd=cwd,
            env=full,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def path(self, rg: str, name: str) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{rg}/providers/{PROVIDER}/openShiftClusters/{name}"

    def get(self, rg: str, name: str) -> httpx.Response:
        with self.rp.client() as c:
            return c.get(self.path(rg, name), params={"api-version": V})

    def wait_state(self, rg: str, name: str, want: set[str], timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            r = self.get(rg, name)
            if r.status_code == 200:
                body: dict[str, Any] = r.json()
                state = body["properties"]["provisioningState"]
                if state in want:
                    return body
            time.sleep(0.05)
        raise AssertionError(f"{name}: {state} not in {want} after {timeout}s")
