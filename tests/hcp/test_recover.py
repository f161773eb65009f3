"""Seed 8.1: an etcd member failure injected in the simulator shows ``EtcdAvailable=False`` on the
cluster and the backend's monitor recovers the member (a Recover operation), then ``EtcdAvailable=True``."""

from __future__ import annotations

import time
from typing import Any

from tests.backend.helpers import simulator_client
from tests.conftest import RPProcess
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm, new_sub
from tests.hcp.helpers import PROVIDER, cluster_model

V = "2026-10-01"


def _condition(body: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in body["properties"].get("status", {}).get("conditions", []) if c["type"] == kind), None)


def test_a_failed_etcd_member_is_recovered(start_rp: StartRP) -> None:
    rp: RPProcess = start_rp(ARO_BACKEND_MONITOR_SECONDS="0.2", ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS="0.5")
    sub = new_sub()
    path = f"/subscriptions/{sub}/resourceGroups/etcd-rg/providers/{PROVIDER}/hcpOpenShiftClusters/etcd"
    with Arm(rp) as arm, simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
        assert arm.put(path, cluster_model(sub, "etcd-rg", "etcd").as_dict(), version=V).status_code == 201
        arm.wait(path, {"Succeeded"}, version=V, timeout=60)
        ns = arm.get(f"/admin{path}", version=None).json()["hcpOpenShiftCluster"]["properties"]["managementNamespace"]

        r = sim.post("/simulator/pods/fail", json={"namespace": ns, "name": "etcd-1"})
        assert r.status_code == 200 and r.json()["status"]["phase"] == "Failed", r.text

        deadline, degraded = time.monotonic() + 60, None
        while degraded is None:  # the monitor notices and the repair records the failure first
            got = arm.get(path, version=V).json()
            c = _condition(got, "EtcdAvailable")
            if c is not None and c["status"] == "False":
                degraded = c
            assert time.monotonic() < deadline, got
            time.sleep(0.05)
        assert degraded["reason"] == "EtcdMemberFailed" and "etcd-1" in degraded["message"]
        got = arm.wait(path, {"Succeeded"}, version=V, timeout=60)
        c = _condition(got, "EtcdAvailable")
        assert c is not None and c["status"] == "True", got
        pod = sim.get(f"/management/api/v1/namespaces/{ns}/pods/etcd-1").json()
        assert pod["status"]["phase"] == "Running"
