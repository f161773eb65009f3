"""What an error in a step does to the operation (kopf-style outcomes) and the operation deadlines:

- a temporary error (the cloud answering 503 for longer than the SDK retries) re-queues the step with a
  backoff; the operation keeps running, and the install succeeds once the fault clears;
- a permanent error (a 400 from the cloud) fails the operation at once;
- past its deadline an operation fails with OperationTimedOut -- while it waits, or while its temporary
  errors keep it re-queued.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.backend.helpers import cluster_doc, create, operation, simulator_client, wait_operation, wait_state
from tests.conftest import RPProcess

# the SDK retries once, quickly; a re-queued step waits 0.2 s, doubling up to 0.5 s
FAST_RETRIES = {
    "ARO_CLOUD_RETRY_TOTAL": "1",
    "ARO_CLOUD_RETRY_BACKOFF_FACTOR": "0.01",
    "ARO_BACKEND_RETRY_SECONDS": "0.2",
    "ARO_BACKEND_RETRY_MAX_SECONDS": "0.5",
}
UNAVAILABLE = {"operation": "createResourceGroup", "status": 503, "code": "ServiceUnavailable", "count": None}


def faults(rp: RPProcess, *rules: dict[str, Any]) -> None:
    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
        assert sim.put("/simulator/faults", json=list(rules)).status_code == 200


def record(rp: RPProcess, name: str) -> dict[str, Any]:
    doc = cluster_doc(rp.data_dir, name) or {}
    return dict(doc.get("openShiftCluster", {}).get("properties", {}).get("install") or {})


def test_a_temporary_error_requeues_until_it_clears(rp_factory: Any) -> None:
    rp: RPProcess = rp_factory(env={"ARO_CLOUD_SIMULATOR_FAULTS": json.dumps([UNAVAILABLE]), **FAST_RETRIES})
    with rp.client() as c:
        created = create(c, "flaky")
        deadline = time.monotonic() + 30
        while record(rp, "flaky").get("retries", 0) < 3:  # re-queued three times, still running
            assert time.monotonic() < deadline, record(rp, "flaky")
            time.sleep(0.05)
        progress = record(rp, "flaky")
        assert progress["delayedError"]["code"] == "ServiceUnavailable"
        assert "install.ensure_resource_group" not in progress["completedSteps"]
        requeued = [r for r in progress["history"] if r.get("outcome") == "requeued"]
        assert len(requeued) >= 3 and all(r["step"] == "install.ensure_resource_group" for r in requeued)
        assert operation(c, created)["status"] == "Creating"
        assert c.get(created.headers["azure-asyncoperation"]).json()["status"] == "Creating"

        faults(rp)  # the cloud recovers
        assert wait_operation(c, created)["status"] == "Succeeded"
        assert wait_state(c, "flaky", {"Succeeded"})["properties"]["provisioningState"] == "Succeeded"
        done = record(rp, "flaky")
        assert done["retries"] == 0 and "install.ensure_billing_record" in done["completedSteps"]
        metrics = c.get("/metrics").text
    assert 'aro_operation_requeues_total{resource="openShiftClusters"}' in metrics
    assert (cluster_doc(rp.data_dir, "flaky") or {})["dequeues"] == 0, "re-queues are not counted as attempts"


def test_a_permanent_error_fails_the_operation(rp_factory: Any) -> None:
    quota = {"operation": "createResourceGroup", "status": 400, "code": "QuotaExceeded", "message": "No quota."}
    rp: RPProcess = rp_factory(env={"ARO_CLOUD_SIMULATOR_FAULTS": json.dumps([quota]), **FAST_RETRIES})
    with rp.client() as c:
        created = create(c, "noquota")
        op = wait_operation(c, created)
        assert op["status"] == "Failed" and op["error"]["code"] == "QuotaExceeded", op
        failed = wait_state(c, "noquota", {"Failed"})
    assert failed["properties"]["provisioningState"] == "Failed"
    assert record(rp, "noquota")["retries"] == 0


def _deadline_error(c: httpx.Client, created: httpx.Response) -> dict[str, Any]:
    op = wait_operation(c, created)
    assert op["status"] == "Failed", op
    result = c.get(created.headers["azure-asyncoperation"].replace("operationsstatus", "operationresults"))
    assert result.status_code == 500 and result.json()["error"] == op["error"], result.text
    return dict(op["error"])


def test_an_operation_past_its_deadline_fails(rp_factory: Any) -> None:
    hang = '[{"operation": "clusterReady", "mode": "hang", "count": null}]'
    rp: RPProcess = rp_factory(env={"ARO_CLOUD_SIMULATOR_FAULTS": hang, "ARO_BACKEND_CREATE_DEADLINE_SECONDS": "2"})
    with rp.client() as c:
        started = time.monotonic()
        created = create(c, "slow")
        error = _deadline_error(c, created)
        assert time.monotonic() - started >= 2
        assert error["code"] == "OperationTimedOut"
        assert (
            error["message"] == "The create operation did not complete within its deadline of 2 seconds and has failed."
        )
        assert wait_state(c, "slow", {"Failed"})["properties"]["provisioningState"] == "Failed"


def test_temporary_errors_past_the_deadline_fail_with_the_last_error(rp_factory: Any) -> None:
    env = {"ARO_CLOUD_SIMULATOR_FAULTS": json.dumps([UNAVAILABLE]), **FAST_RETRIES}
    rp: RPProcess = rp_factory(env=env | {"ARO_BACKEND_CREATE_DEADLINE_SECONDS": "2"})
    with rp.client() as c:
        error = _deadline_error(c, create(c, "never"))
    assert error["code"] == "OperationTimedOut"
    assert "The last error was ServiceUnavailable" in error["message"]
    assert record(rp, "never")["retries"] >= 2
