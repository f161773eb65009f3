"""A node pool with autoScaling: the simulator's autoscaler (the knob standing in for pending pods) keeps
the node count within min..max, and kubectl follows; switching back to replicas hands the count back."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from azure.mgmt.redhatopenshifthcp import RedHatOpenShiftHcpMgmtClient
from azure.mgmt.redhatopenshifthcp import models as m

from tests.backend.helpers import simulator_client
from tests.conftest import RPProcess
from tests.frontend.helpers import new_sub
from tests.frontend.test_sdk import StaticToken
from tests.hcp.helpers import cluster_model, kubectl, new_key_and_csr, with_key


def _count(kubeconfig: Path) -> int:
    return len(json.loads(kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"])


def _until_count(kubeconfig: Path, want: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (got := _count(kubeconfig)) != want:
        assert time.monotonic() < deadline, f"{got} nodes, not {want}"
        time.sleep(0.2)


def test_autoscaling_stays_within_min_and_max(rp: RPProcess, tmp_path: Path) -> None:
    sub, rg = new_sub(), "auto-rg"
    c = RedHatOpenShiftHcpMgmtClient(
        StaticToken(),  # type: ignore[arg-type]
        sub,
        base_url=rp.base_url,
        connection_verify=str(rp.ca_file),
        polling_interval=0.05,
    )
    model = cluster_model(sub, rg, "auto", managed_resource_group="auto-mrg")
    c.hcp_open_shift_clusters.begin_create_or_update(rg, "auto", model).result()
    pool: Any = m.NodePool(
        location="eastus",
        properties=m.NodePoolProperties(
            version=m.NodePoolVersionProfile(id="4.20.8", channel_group="stable"),
            platform=m.NodePoolPlatformProfile(vm_size="Standard_D8s_v3"),
            auto_scaling=m.NodePoolAutoScaling(min=1, max=3),
        ),
    )
    got = c.node_pools.begin_create_or_update(rg, "auto", "scaler", pool).result()
    assert got.properties is not None and got.properties.auto_scaling is not None
    assert (got.properties.auto_scaling.min, got.properties.auto_scaling.max) == (1, 3)

    key, csr = new_key_and_csr()
    credential = c.hcp_open_shift_clusters.begin_request_admin_credential(
        rg, "auto", m.HcpOpenShiftClusterAdminCredentialRequest(certificate_signing_request=csr)
    ).result()
    kubeconfig = tmp_path / "auto.kubeconfig"
    kubeconfig.write_text(with_key(str(credential.kubeconfig), key))
    assert _count(kubeconfig) == 1  # demand starts at min

    scale_set = (
        f"/subscriptions/{sub}/resourceGroups/auto-mrg/providers/Microsoft.Compute/virtualMachineScaleSets/scaler"
    )
    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
        for demand, want in ((5, 3), (2, 2), (0, 1)):
            r = sim.put("/simulator/autoscaler", json={"scaleSet": scale_set, "demand": demand})
            assert r.status_code == 200 and r.json()["capacity"] == want, r.text
            _until_count(kubeconfig, want)

    # back to a fixed size: the RP owns the count again
    c.node_pools.begin_update(rg, "auto", "scaler", {"properties": {"autoScaling": None, "replicas": 2}}).result()
    _until_count(kubeconfig, 2)
    c.close()
