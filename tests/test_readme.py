"""The README as a newcomer uses it: every ```bash block of the walkthroughs is extracted and run, in
order, against a real `aro rp` (only the port differs), and `make run` itself is started and stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.azcli.conftest import az_binary
from tests.conftest import FAST, REPO, free_port

README = (REPO / "README.md").read_text()


def walkthrough_blocks() -> list[str]:
    start = README.index("## Five-minute walkthrough")
    end = README.index("## Configuration")
    return re.findall(r"```bash\n(.*?)```", README[start:end], re.S)


def test_readme_opens_with_the_two_commands() -> None:
    first = re.findall(r"```bash\n(.*?)```", README, re.S)[0]
    assert first.splitlines()[0].startswith("make run") and first.splitlines()[1].startswith("make test")


@pytest.mark.slow
def test_walkthrough_runs_command_by_command(rp_factory: Any, tmp_path: Path) -> None:
    work = tmp_path / "newcomer"
    work.mkdir()
    for name in ("hack", ".venv"):
        (work / name).symlink_to(REPO / name)
    rp = rp_factory(data_dir=work / ".aro")
    blocks = walkthrough_blocks()
    assert len(blocks) >= 8
    ready = rp.ready_info()
    script = "set -euo pipefail\n" + "\n".join(blocks)
    for documented, actual in (
        ("https://localhost:8443", rp.base_url),
        ("https://localhost:8444", ready["simulator"]),
        ("http://localhost:8445", ready["proxy"]),
        ("$HOME/.cache/aro/azure-cli-2.91.0/bin", str(Path(az_binary()).parent)),
    ):
        assert documented in script, documented
        script = script.replace(documented, actual)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARO_", "AROCLI_"))}
    r = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    out = r.stdout
    assert '"status":"ready"' in out
    assert '"Creating"' in out and '"Updating"' in out
    assert '"kubeadminUsername": "kubeadmin"' in out
    assert "\n202\n" in out and '"ResourceNotFound"' in out and '"InvalidResourceType"' in out
    assert "\n4\n" in out, "scaled to 4 workers"
    assert re.search(r"^azdemo\s+aro-az\s+eastus\s+Succeeded", out, re.M), "az aro list -o table"
    assert re.search(r"^azdemo-\S+-master-0\s+Ready", out, re.M), "kubectl get nodes with az's kubeconfig"
    assert "client-certificate-data" in (work / "admin.kubeconfig").read_text()
    assert "client-certificate-data" in (work / "demo2.kubeconfig").read_text()
    assert '"username": "alice"' in out and '"display_name": "demo2"' in out, "the ledger: aro login, aro ocm"
    assert '"name": "capability.organization.hypershift"' in out
    hcp = (work / "hcp1.kubeconfig").read_text()  # aro hcp: the signed certificate and the CLI's own key
    assert "client-certificate-data" in hcp and "client-key-data" in hcp


def test_make_run_serves_and_stops(tmp_path: Path) -> None:
    port = free_port()
    args = f"--port {port} --data-dir {tmp_path / 'data'}"
    env = {**os.environ, **FAST}
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"ARGS={args}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"https://localhost:{port}/healthz/ready", verify=False)
                if r.status_code == 200:
                    break
            except (httpx.HTTPError, OSError):
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
