"""The real Azure CLI (PyPI ``azure-cli``, unmodified) against `aro rp`'s simulator as the local Azure front door.

``make test`` installs the CLI into its own cached venv and passes its path in ``ARO_AZ_CLI``; without it
these tests fail under ``CI=true`` and are skipped (with the reason printed) elsewhere. Each ``Az`` has its
own configuration directory, so the tests never read or write the user's ``~/.azure``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RPProcess, free_port

DEFAULT_AZ = Path.home() / ".cache" / "aro" / "azure-cli-2.91.0" / "bin" / "az"
COMMAND_SECONDS = 180


def az_binary() -> str:
    configured = os.environ.get("ARO_AZ_CLI") or (str(DEFAULT_AZ) if DEFAULT_AZ.exists() else None)
    found = configured if configured and Path(configured).exists() else shutil.which("az")
    if found is None:
        reason = "the Azure CLI is not installed (`make azcli` installs it; ARO_AZ_CLI names it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the Azure CLI for the az tests: {reason}")
        print(f"skipping: {reason}")
        pytest.skip(reason)
    return found


class AzError(AssertionError):
    def __init__(self, args: list[str], proc: subprocess.CompletedProcess[str]) -> None:
        self.returncode = proc.returncode
        self.stderr = proc.stderr
        self.stdout = proc.stdout
        super().__init__(f"az {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}")


@dataclass
class Az:
    """Runs ``az`` with its own config directory, trusting the RP's development CA."""

    binary: str
    config_dir: Path
    ca_file: Path
    env: dict[str, str] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)

    proxy: str | None = None

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "USER")}
        return {
            **keep,
            "AZURE_CONFIG_DIR": str(self.config_dir),
            "REQUESTS_CA_BUNDLE": str(self.ca_file),  # what Azure Stack users set for a private CA
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",  # MSAL must not ask login.microsoftonline.com
            "AZURE_CORE_COLLECT_TELEMETRY": "no",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_LOGIN_EXPERIENCE_V2": "off",
            "KUBECONFIG": str(self.config_dir / "kubeconfig-unused"),
            # `az aro` calls https://management.azure.com whatever cloud is set: the simulator's CONNECT proxy
            **({"HTTPS_PROXY": self.proxy, "NO_PROXY": "localhost,127.0.0.1"} if self.proxy else {}),
            **self.env,
        }

    def run(self, *args: str, check: bool = True, timeout: float = COMMAND_SECONDS) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        proc = subprocess.run(
            [self.binary, *args],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.config_dir,
        )
        self.timings.append((" ".join(args[:3]), time.monotonic() - started))
        if check and proc.returncode != 0:
            raise AzError(list(args), proc)
        return proc

    def json(self, *args: str) -> Any:
        out = self.run(*args, "--output", "json").stdout
        return json.loads(out) if out.strip() else None

    def fails(self, *args: str) -> AzError:
        proc = self.run(*args, check=False)
        assert proc.returncode != 0, f"az {' '.join(args)} succeeded:\n{proc.stdout}"
        return AzError(list(args), proc)


@pytest.fixture(scope="module")
def az_rp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RPProcess]:
    """`aro rp` without simulated latency; polling paced by Retry-After: 1 (az's pollers need one)."""
    rp = RPProcess(
        tmp_path_factory.mktemp("az-rp") / "data",
        free_port(),
        "rp",
        env={
            "ARO_FRONTEND_RETRY_AFTER_SECONDS": "1",
            "ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0",
            "ARO_CLOUD_SIMULATOR_NETWORK_CHECKS": "all",
        },
    )
    rp.start()
    yield rp
    rp.kill()


@pytest.fixture(scope="module")
def az(az_rp: RPProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Az]:
    cfg = tmp_path_factory.mktemp("az-config")
    runner = Az(az_binary(), cfg, az_rp.ca_file, proxy=az_rp.ready_info()["proxy"])
    yield runner
    slowest = sorted(runner.timings, key=lambda t: -t[1])[:8]
    total = sum(t for _, t in runner.timings)
    print(
        f"\naz: {len(runner.timings)} commands, {total:.1f} s; slowest: "
        + ", ".join(f"{c} {t:.1f}s" for c, t in slowest)
    )


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    """Keep each phase's report on the item, so an ordered walk can tell that a step failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)
