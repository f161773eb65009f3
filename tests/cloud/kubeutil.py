"""Helpers of the cluster-API tests that drive real ``kubectl`` against the management cluster: the admin
kubeconfig (a simulator bearer token: system:masters), service accounts with token kubeconfigs, polling with
a deadline."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

from .conftest import TOKEN, Simulator
from .kubectl import Kubectl, write_kubeconfig


def management(sim: Simulator, tmp: Path) -> Path:
    """An admin kubeconfig of the management cluster (``simulator-admin`` in system:masters)."""
    return write_kubeconfig(tmp / "management", f"{sim.base_url}/management", sim.tls.ca_file.read_text(), token=TOKEN)


async def service_account(kubectl: Kubectl, admin: Path, sim: Simulator, tmp: Path, namespace: str, name: str) -> Path:
    """Create service account ``name`` in ``namespace`` with a token secret; its token kubeconfig."""
    (await kubectl(admin, "create", "serviceaccount", name, "-n", namespace)).ok()
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": f"{name}-token",
            "namespace": namespace,
            "annotations": {"kubernetes.io/service-account.name": name},
        },
    }
    (await kubectl(admin, "create", "-f", "-", stdin=json.dumps(secret))).ok()
    raw = await kubectl(admin, "get", "secret", f"{name}-token", "-n", namespace, "-o", "jsonpath={.data.token}")
    token = base64.b64decode(raw.ok().out).decode()
    path = write_kubeconfig(
        tmp / f"{namespace}-{name}", f"{sim.base_url}/management", sim.tls.ca_file.read_text(), token=token
    )
    config = yaml.safe_load(path.read_text())
    config["contexts"][0]["context"]["namespace"] = namespace
    path.write_text(json.dumps(config))
    return path


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 15.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy (returned), failing at the deadline."""
    deadline = time.monotonic() + within
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"not met before the deadline: {what or check}"
        await asyncio.sleep(0.05)
