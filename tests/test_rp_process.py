"""`aro rp` as a user runs it: HTTPS with a generated CA, readiness, clean shutdown, config errors."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ARO, REPO


def test_rp_serves_https_with_generated_ca_and_stops_cleanly(rp_factory: Any, tmp_path: Path) -> None:
    rp = rp_factory()
    print(f"\naro rp start-to-ready: {rp.ready_seconds:.3f}s (first start, certificates generated)")
    with rp.client() as c:  # verifies the server certificate against the generated CA
        r = c.get("/healthz/ready")
    assert r.status_code == 200
    with pytest.raises(httpx.ConnectError):  # plain trust store: self-signed CA is not trusted
        httpx.get(rp.base_url + "/healthz/ready")
    ca_before = rp.ca_file.read_bytes()
    assert (rp.data_dir / "certs" / "server.key").stat().st_mode & 0o777 == 0o600
    assert rp.stop(signal.SIGTERM) == 0
    assert '"msg": "stopped"' in rp.log()

    again = rp_factory(data_dir=rp.data_dir)
    print(f"aro rp start-to-ready: {again.ready_seconds:.3f}s (second start, certificates reused)")
    assert again.ca_file.read_bytes() == ca_before, "certificates are generated once and reused"
    with again.client() as c:
        assert c.get("/healthz/ready").status_code == 200
    assert again.stop(signal.SIGINT) == 0


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--port", "70000"], {}, "frontend.port"),
        ([], {"ARO_BACKEND_LEASE_SECONDS": "soon"}, "backend.leaseSeconds"),
        ([], {"ARO_MODE": "production"}, "frontend.tls.certFile"),
    ],
)
def test_bad_configuration_is_one_line_not_a_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], needle: str
) -> None:
    import os

    r = subprocess.run(
        [*ARO, "rp", "--data-dir", str(tmp_path / "d"), *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_port_in_use_is_a_clear_error(rp_factory: Any, tmp_path: Path) -> None:
    first = rp_factory()
    r = subprocess.run(
        [*ARO, "rp", "--data-dir", str(tmp_path / "other"), "--port", str(first.port)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
