"""Driving the real ``kubectl`` against the simulator: kubeconfigs and an async runner (the simulator
serves from the test's own event loop, so kubectl must never be waited for synchronously)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml


def kubectl_binary() -> str:
    """The kubectl on PATH (or /usr/bin/kubectl); a missing one fails under CI=true, else skips."""
    found = shutil.which("kubectl") or ("/usr/bin/kubectl" if os.path.exists("/usr/bin/kubectl") else None)
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("kubectl is required (CI=true) but is not installed")
        pytest.skip("kubectl is not installed")
    return found


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_kubeconfig(
    path: Path,
    server: str,
    ca_pem: str,
    *,
    cert_pem: str | None = None,
    key_pem: str | None = None,
    token: str | None = None,
) -> Path:
    user: dict[str, str] = {}
    if cert_pem is not None and key_pem is not None:
        user = {"client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}
    if token is not None:
        user["token"] = token
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
        "current-context": "ctx",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str

    def ok(self) -> Result:
        assert self.code == 0, f"kubectl failed ({self.code}): {self.err or self.out}"
        return self

    def json(self) -> Any:
        return json.loads(self.ok().out)

    def lines(self) -> list[str]:
        return self.ok().out.splitlines()


class Kubectl:
    def __init__(self, binary: str, home: Path) -> None:
        self.binary = binary
        self.home = home
        home.mkdir(parents=True, exist_ok=True)

    async def __call__(self, kubeconfig: Path, *args: str, stdin: str | None = None) -> Result:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.home), "KUBECONFIG": str(kubeconfig)}
        proc = await asyncio.create_subprocess_exec(
            self.binary,
            f"--cache-dir={self.home / 'cache'}",
            "--request-timeout=10s",
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        started = time.monotonic()
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin is not None else None), 30)
        if os.environ.get("KUBECTL_TIMING"):
            print(f"kubectl {' '.join(args)}: {time.monotonic() - started:.2f}s")
        return Result(proc.returncode or 0, out.decode(), err.decode())
