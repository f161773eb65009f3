"""What an operator sees: progress in the operation status, the admin view, /metrics, JSON logs."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.backend.helpers import V, body, cluster_url, operation, simulator_client, wait_operation, wait_state


def test_progress_admin_view_metrics_and_logs(rp_factory: Any) -> None:
    hang = '[{"operation": "clusterReady", "mode": "hang", "count": null}]'
    rp = rp_factory(env={"ARO_CLOUD_SIMULATOR_FAULTS": hang})
    with rp.client() as c:
        created = c.put(
            cluster_url("obs"),
            params={"api-version": V},
            json=body("obs"),
            headers={"x-ms-correlation-request-id": "corr-1234", "x-ms-client-request-id": "client-5678"},
        )
        assert created.status_code == 201
        deadline = time.monotonic() + 30
        while (op := operation(c, created)).get("currentStep") != "api_ready":
            assert time.monotonic() < deadline, op
            time.sleep(0.02)
        assert op["status"] == "Creating" and 0 < op["percentComplete"] < 100

        admin = c.get(f"/admin{cluster_url('obs')}")
        assert admin.status_code == 200
        doc = admin.json()
        progress = doc["openShiftCluster"]["properties"]["install"]
        assert progress["currentStep"] == "install.api_ready"
        assert "install.deploy_cluster_resources" in progress["completedSteps"]
        assert doc["leaseOwner"] and doc["dequeues"] == 1
        text = admin.text
        for secret in ("pullSecret", "clientSecret", "kubeadminPassword", "adminKubeconfig", "caKey", "enc:v1:"):
            assert secret not in text, f"{secret} in the admin view"
        listed = c.get("/admin/providers/Microsoft.RedHatOpenShift/openShiftClusters").json()["value"]
        assert [d["key"] for d in listed] == [cluster_url("obs").lower()]

        with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
            sim.delete("/simulator/faults")
        assert wait_operation(c, created)["status"] == "Succeeded"
        done = operation(c, created)
        assert "currentStep" not in done and "percentComplete" not in done
        wait_state(c, "obs", {"Succeeded"})
        c.get(cluster_url("missing"), params={"api-version": V})

        metrics = c.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    m = metrics.text
    assert 'aro_operations_total{kind="Creating",result="Succeeded"} 1.0' in m
    assert 'aro_step_duration_seconds_count{ok="true",step="deploy_cluster_resources"} 1.0' in m
    assert "aro_backend_workers 200.0" in m and "aro_backend_workers_busy" in m
    assert "aro_backend_claims_total 1.0" in m and "aro_backend_lease_losses_total 0.0" in m
    item = (
        "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/microsoft.redhatopenshift"
        "/openshiftclusters/{resourceName}"
    )
    assert f'aro_http_requests_total{{method="GET",route="{item}",status="404"}} 1.0' in m
    assert f'aro_http_request_duration_seconds_count{{method="PUT",route="{item}"}} 1.0' in m

    lines = [json.loads(line) for line in rp.log().splitlines() if line.startswith("{")]
    put = [entry for entry in lines if entry.get("msg") == "request" and entry.get("method") == "PUT"]
    assert put and put[0]["correlationId"] == "corr-1234" and put[0]["clientRequestId"] == "client-5678"
    assert put[0]["requestId"] and put[0]["status"] == 201
    steps = [entry for entry in lines if entry.get("msg") == "step"]
    assert steps and all(entry["docKey"] == cluster_url("obs").lower() and entry["leaseOwner"] for entry in steps)
