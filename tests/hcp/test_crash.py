"""kill -9 of the backend in the middle of a node pool scale and of a cluster delete (separate `aro
simulator`, `aro frontend` and `aro backend` processes on one data directory): a second backend takes the
work over after the lease expires and finishes it, and no VM or node is duplicated."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.backend.helpers import simulator_client
from tests.backend.test_resilience import deploy
from tests.fixtures.store import StoreView
from tests.frontend.helpers import Arm, new_sub
from tests.hcp.helpers import PROVIDER, cluster_model, node_pool_model

V = "2026-10-01"
RG = "crash-rg"
SLOW = {"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0.3"}


def _progress(data: Path, container: str, field: str, key: str, partition: str) -> dict[str, Any]:
    doc = StoreView(data).by_key(container, key.lower(), partition.lower())
    return dict(((doc or {}).get(field) or {}).get("properties", {}).get("progress") or {})


def _kill_when(backend: Any, data: Path, container: str, field: str, key: str, sub: str, steps: set[str]) -> str:
    """kill -9 the backend once the resource's current step is one of ``steps``; returns that step."""
    deadline = time.monotonic() + 60
    while True:
        current = _progress(data, container, field, key, sub).get("currentStep")
        if current in steps:
            backend.kill()
            return str(current)
        assert time.monotonic() < deadline, f"never reached {steps}"
        time.sleep(0.01)


def test_kill_9_during_a_scale_and_during_a_cluster_delete(rp_factory: Any, tmp_path: Path) -> None:
    d = deploy(rp_factory, tmp_path, SLOW)
    sub = new_sub()
    cluster = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{PROVIDER}/hcpOpenShiftClusters/crash"
    pool = f"{cluster}/nodePools/workers"
    backend = d.backend(rp_factory)
    with Arm(d.frontend) as arm:
        body = cluster_model(sub, RG, "crash", managed_resource_group="crash-mrg").as_dict()
        assert arm.put(cluster, body, version=V).status_code == 201
        arm.wait(cluster, {"Succeeded"}, version=V, timeout=90)
        assert arm.put(pool, node_pool_model(replicas=2).as_dict(), version=V).status_code == 201
        arm.wait(pool, {"Succeeded"}, version=V, timeout=90)

        # scale 2 -> 5: killed while the scale set is being written
        assert arm.patch(pool, {"properties": {"replicas": 5}}, version=V).status_code == 202
        step = _kill_when(backend, d.data, "hcpNodePools", "nodePool", pool, sub, {"nodepool.update.apply_scale_set"})
        assert step == "nodepool.update.apply_scale_set"
        backend = d.backend(rp_factory)
        got = arm.wait(pool, {"Succeeded", "Failed"}, version=V, timeout=90)
        assert got["properties"]["provisioningState"] == "Succeeded", got
        vmss = (
            f"/subscriptions/{sub}/resourceGroups/crash-mrg/providers/Microsoft.Compute/"
            "virtualMachineScaleSets/workers/virtualMachines"
        )
        with simulator_client(d.simulator.base_url, d.simulator.ca_file) as sim:
            instances = sim.get(vmss, params={"api-version": "2024-07-01"})
            assert instances.status_code == 200, instances.text
            ids = [vm["instanceId"] for vm in instances.json()["value"]]
        assert len(ids) == 5 == len(set(ids)), ids
        record = _progress(d.data, "hcpNodePools", "nodePool", pool, sub)
        owners = {run["owner"].rsplit("-", 1)[0] for run in record["history"]}
        assert len(owners) == 2, "the second backend finished what the first started"

        # the cluster's delete: killed while its node pool is deleted or its control plane goes
        assert arm.delete(cluster, version=V).status_code == 202
        _kill_when(
            backend,
            d.data,
            "hcpOpenShiftClusters",
            "hcpOpenShiftCluster",
            cluster,
            sub,
            {
                "hcpopenshiftclusters.delete_children",
                "hcp.delete.delete_control_plane",
                "hcp.delete.control_plane_gone",
                "hcp.delete.delete_resource_group",
            },
        )
        d.backend(rp_factory)
        arm.wait(cluster, {"gone"}, version=V, timeout=120)
        assert arm.get(pool, version=V).status_code == 404
    with simulator_client(d.simulator.base_url, d.simulator.ca_file) as sim:
        rg = sim.get(f"/subscriptions/{sub}/resourceGroups/crash-mrg", params={"api-version": "2022-09-01"})
        assert rg.status_code == 404, rg.text
        namespaces = sim.get("/management/api/v1/namespaces").json()["items"]
        assert not [n for n in namespaces if "crash" in n["metadata"]["name"]], namespaces
    left = StoreView(d.data).partition(sub)
    assert {c for c, _ in left} <= {"subscriptions", "asyncOperations", "billing"}, left
