"""Requests against clusters that are busy or failed, on RPs configured for it: a slow cloud
(``ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS=2``: a create stays Creating for seconds) and a failing one
(every template deployment fails). Writes while non-terminal and writes after a failed create are
400 RequestNotAllowed (our choice among ARM's 409/400, as ARO) and change nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import RPProcess
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm, cli_body, cluster_path, error_of, new_sub


@pytest.fixture(scope="module")
def slow(start_rp: StartRP) -> RPProcess:
    return start_rp(ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS="2")


@pytest.fixture(scope="module")
def failing(start_rp: StartRP) -> RPProcess:
    return start_rp(ARO_CLOUD_SIMULATOR_FAULTS=json.dumps([{"operation": "deploy", "mode": "fail", "count": 100}]))


def refused(arm: Arm, sub: str, method: str, url: str, body: Any, message: str) -> None:
    before = arm.rows(sub)
    r = arm.request(method, url, json=body)
    assert r.status_code == 400, (method, url, r.text)
    err = error_of(r)
    assert err["code"] == "RequestNotAllowed" and message in err["message"], err
    # the backend may record install progress meanwhile; the operations and the subscription must not change
    after = arm.rows(sub)
    assert [row for row in after if row[0] != "openShiftClusters"] == [
        row for row in before if row[0] != "openShiftClusters"
    ]


def test_writes_and_credentials_are_refused_while_creating(slow: RPProcess) -> None:
    with Arm(slow) as arm:
        sub = new_sub()
        path = cluster_path(sub, "rg", "busy")
        created = arm.start_create(sub, "rg", "busy")
        op_url = created.headers["Azure-AsyncOperation"]
        result_url = op_url.replace("/operationsstatus/", "/operationresults/")

        running = arm.absolute(result_url)
        assert running.status_code == 202 and running.content == b"", running.text
        assert running.headers["Location"] == result_url
        assert arm.absolute(op_url).json()["status"] == "Creating"

        message = "provisioningState 'Creating'"
        refused(arm, sub, "PUT", path, cli_body(sub, "busy"), message)
        refused(arm, sub, "PATCH", path, {"tags": {"a": "b"}}, message)
        refused(arm, sub, "DELETE", path, None, message)
        refused(arm, sub, "POST", path + "/listCredentials", None, "Creating")
        refused(arm, sub, "POST", path + "/listAdminCredentials", None, "Creating")

        got = arm.get(path)
        assert got.status_code == 200 and got.json()["properties"]["provisioningState"] == "Creating"
        assert [
            c["name"]
            for c in arm.get(f"/subscriptions/{sub}/providers/Microsoft.RedHatOpenShift/openShiftClusters").json()[
                "value"
            ]
        ] == ["busy"]
        assert arm.absolute(op_url).json()["status"] == "Creating", "the create's operation is unchanged"


def test_a_failed_create_can_only_be_deleted(failing: RPProcess) -> None:
    with Arm(failing) as arm:
        sub = new_sub()
        path = cluster_path(sub, "rg", "broken")
        created = arm.start_create(sub, "rg", "broken")
        op_url = created.headers["Azure-AsyncOperation"]
        op = arm.wait_operation(op_url)
        assert op["status"] == "Failed" and op["error"]["code"] and op["error"]["message"], op
        assert "Traceback" not in json.dumps(op)
        failed = arm.wait(path, {"Failed"})
        assert failed["properties"]["provisioningState"] == "Failed"

        result = arm.absolute(op_url.replace("/operationsstatus/", "/operationresults/"))
        assert result.status_code >= 400 and error_of(result)["code"] == op["error"]["code"], result.text

        message = "Delete the cluster"
        refused(arm, sub, "PUT", path, failed, message)
        refused(arm, sub, "PATCH", path, {"tags": {"a": "b"}}, message)
        refused(arm, sub, "POST", path + "/listCredentials", None, "Failed")

        r = arm.delete(path)
        assert r.status_code == 202, r.text
        assert arm.wait_operation(r.headers["Azure-AsyncOperation"])["status"] == "Succeeded"
        arm.wait(path, {"gone"})
