"""What the toy kind proves beyond the shared tests: an action that runs as an operation is carried out by
the step list of its request (dispatch by the operation's request, not by the provisioning state), and
its result is rendered by the kind."""

from __future__ import annotations

from tests.fixtures.kinds import CLUSTERS, TOYS_FIXTURE
from tests.frontend.helpers import Arm, new_sub
from tests.kinds.test_every_kind import RG, create


def test_an_async_action_runs_the_step_list_of_its_request(arm: Arm) -> None:
    sub = new_sub()
    create(arm, TOYS_FIXTURE, sub, "paintc", "brush")
    path = TOYS_FIXTURE.path(sub, RG, "paintc", "brush")
    v = TOYS_FIXTURE.api_version

    r = arm.post(path + "/paint", version=v)
    assert r.status_code == 202, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    result = arm.absolute(r.headers["location"])
    assert result.status_code == 200 and result.json() == {"painted": 1}, result.text
    toy = arm.get(path, version=v).json()["properties"]
    assert (toy["painted"], toy["built"], toy["provisioningState"]) == (1, 2, "Succeeded")

    admin = arm.get(f"/admin{path}").json()
    record = admin["toy"]["properties"]["progress"]
    assert (record["request"], record["completedSteps"]) == ("Paint", ["toy.paint"])

    unknown = arm.post(path + "/polish", version=v)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NotFound", unknown.text
    assert arm.post(CLUSTERS.path(sub, RG, "paintc") + "/paint", version="2025-07-25").status_code == 404
