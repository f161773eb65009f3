"""A hosted cluster deleted while its create still runs (ARO-HCP accepts the delete): the running create is
superseded -- its operation ends ``Canceled``, never reporting the delete's as done nor writing its own
end over the delete -- and the delete runs at once, even though the create was held forever (a hang fault)."""

from __future__ import annotations

import time
import uuid

from tests.backend.helpers import simulator_client
from tests.conftest import RPProcess
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm
from tests.ledger.helpers import HCP_VERSION, hcp_body, hcp_path, installs_held


def test_a_delete_supersedes_a_running_create(start_rp: StartRP) -> None:
    rp: RPProcess = start_rp(ARO_BACKEND_LEASE_SECONDS="3")  # heartbeats every 0.5 s
    sub = str(uuid.uuid4())
    path = hcp_path(sub, "rg", "held")
    with Arm(rp) as arm, simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim, installs_held(sim):
        created = arm.put(path, hcp_body(sub, "rg", "held"), version=HCP_VERSION)
        assert created.status_code == 201, created.text
        create_op = created.headers["azure-asyncoperation"]
        deadline = time.monotonic() + 30
        while arm.absolute(create_op).json().get("currentStep") != "control_plane_ready":  # the create waits, held
            assert time.monotonic() < deadline
            time.sleep(0.05)

        deleted = arm.delete(path, version=HCP_VERSION)
        assert deleted.status_code == 202, deleted.text
        arm.wait(path, {"gone"}, version=HCP_VERSION)  # the fault still holds: the delete did not wait for the create
        assert arm.wait_operation(deleted.headers["azure-asyncoperation"])["status"] == "Succeeded"
        create = arm.wait_operation(create_op)
        assert create["status"] == "Canceled" and create["error"]["code"] == "OperationCanceled", create
