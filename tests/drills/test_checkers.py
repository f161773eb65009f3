"""The drills' checkers, on made-up evidence: each one must flag what it exists to catch (a drill whose
checker cannot fail proves nothing)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.drills.chaos import INSTALL_STEPS, analyse
from tests.drills.test_fuzz import arm_envelope_problem
from tests.drills.test_lost_update import Journal, Patch, Seen, classify_412s

A = "host-a-101-aaaaaa-00000001"  # lease owners: <host>-<pid>-<pool>-<claim>
B = "host-b-202-bbbbbb-00000002"


def doc(runs: list[dict[str, Any]], completed: list[str] | None = None) -> dict[str, Any]:
    install = {"completedSteps": INSTALL_STEPS if completed is None else completed, "history": runs}
    return {
        "key": "/subscriptions/s/resourcegroups/rg/providers/p/openshiftclusters/c1",
        "openShiftCluster": {"properties": {"install": install}},
    }


def run(step: str, owner: str, started: float, ended: float | None) -> dict[str, Any]:
    return {"step": step, "owner": owner, "started": started, "ended": ended}


def request(owner: str, step: str, ts: float) -> dict[str, Any]:
    return {"leaseOwner": owner, "step": step, "ts": ts, "durationMs": 10.0, "method": "PUT", "path": "/x"}


def clean_runs() -> list[dict[str, Any]]:
    """A's first step is cut by a kill at t=1.5; B redoes it and runs the rest."""
    runs = [run(INSTALL_STEPS[0], A, 1.0, None), run(INSTALL_STEPS[0], B, 4.0, 4.5)]
    runs += [run(step, B, 5.0 + i, 5.5 + i) for i, step in enumerate(INSTALL_STEPS[1:])]
    return runs


def test_a_clean_takeover_passes() -> None:
    f = analyse([doc(clean_runs())], [request(A, INSTALL_STEPS[0], 1.2), request(B, INSTALL_STEPS[0], 4.1)], {101: 1.5})
    assert f.violations == [] and f.takeovers == 1 and f.interrupted_runs == 1


def test_overlapping_workers_are_flagged() -> None:
    # A was killed only at 4.3 and its run's last request was served at 4.2, after B had started at 4.0: two
    # workers on one cluster at once (an unended run lasts until its last request, and no longer than the kill:
    # a live worker gives up a run it could not renew the lease of before the lease can run out)
    f = analyse([doc(clean_runs())], [request(A, INSTALL_STEPS[0], 4.2)], {101: 4.3})
    assert any("before" in v for v in f.violations), f.violations
    # killed at 4.2 with no request after 1.0: the run may have ended long before B began -- not an overlap
    assert not any("before" in v for v in analyse([doc(clean_runs())], [], {101: 4.2}).violations)
    # A was never killed and left its run open: bounded by its last request, which came after B started
    f = analyse([doc(clean_runs())], [request(A, INSTALL_STEPS[0], 4.3)], {})
    assert f.abandoned_runs == 1 and f.violations


def test_a_repeated_completed_step_is_flagged() -> None:
    runs = clean_runs()
    runs.insert(1, run(INSTALL_STEPS[0], A, 1.0, 1.4))
    runs[0]["started"], runs[1]["started"] = 0.5, 1.0
    runs[0]["ended"] = 0.9
    f = analyse([doc(runs)], [], {101: 1.5})
    assert any("ran again" in v for v in f.violations), f.violations


def test_cloud_requests_outside_a_run_are_flagged() -> None:
    f = analyse([doc(clean_runs())], [request(B, INSTALL_STEPS[0], 4.8)], {101: 1.5})  # after B's run ended
    assert any("outside its run" in v for v in f.violations), f.violations
    f = analyse([doc(clean_runs())], [request("host-c-303-cccccc-00000003", "validate", 2.0)], {101: 1.5})
    assert any("no run" in v for v in f.violations), f.violations
    f = analyse([doc(clean_runs())], [request(A, INSTALL_STEPS[3], 1.2)], {101: 1.5})  # a step A never ran
    assert any("no run of that step" in v for v in f.violations), f.violations


def test_a_killed_workers_request_served_after_the_next_run_began_is_flagged() -> None:
    # sent before the kill at 1.5 and served at 1.7: in flight, fine; served at 4.2, after B began: flagged
    assert analyse([doc(clean_runs())], [request(A, INSTALL_STEPS[0], 1.7)], {101: 1.5}).violations == []
    f = analyse([doc(clean_runs())], [request(A, INSTALL_STEPS[0], 4.2)], {101: 1.5})
    assert any("outside its run" in v for v in f.violations), f.violations


def test_unfinished_installs_are_flagged() -> None:
    f = analyse([doc(clean_runs(), completed=INSTALL_STEPS[:-1])], [], {101: 1.5})
    assert any("completed steps" in v for v in f.violations), f.violations


def test_a_spurious_412_is_flagged() -> None:
    j = Journal()
    j.seen = [Seen('"e1"', "Succeeded", 0.0, 0.1), Seen('"e1"', "Succeeded", 0.5, 0.6)]  # still current at 0.5
    j.patches = [Patch("c00r0", '"e1"', 412, "PreconditionFailed", 0.2, 0.3)]
    assert classify_412s(j)["spurious"] == 1
    j.seen[1] = Seen('"e2"', "Updating", 0.15, 0.19)  # superseded before the PATCH left
    assert classify_412s(j) == {"before": 1}


def test_non_arm_errors_are_flagged() -> None:
    def response(status: int, content: bytes, content_type: str = "application/json") -> Any:
        return SimpleNamespace(status_code=status, content=content, headers={"content-type": content_type})

    assert arm_envelope_problem(response(400, b'{"error":{"code":"X","message":"m"}}')) is None
    assert arm_envelope_problem(response(200, b"[]")) is None
    for bad in (
        response(400, b'{"detail":"Not Found"}'),
        response(404, b'{"error":{"code":"","message":"m"}}'),
        response(415, b'{"error":{"code":"X"}}'),
        response(400, b"Bad Request", "text/plain"),
        response(500, b'{"error":{"code":"X","message":"Traceback (most recent call last)"}}'),
        response(400, b'{"error":{"code":"X","message":"m"},"extra":1}'),
        response(400, b'{"error":{"code":"X","message":"failed in aro.backend.operations"}}'),
    ):
        assert arm_envelope_problem(bad), bad
    # a message may quote what the request sent, even if it looks like a module path; only that is spared
    echo = response(400, b'{"error":{"code":"X","message":"api version \'aro.backend.x\' is unknown"}}')
    assert arm_envelope_problem(echo, "/p?api-version=aro.backend.x") is None
    assert arm_envelope_problem(echo, "/p?api-version=2025-07-25")
