"""Upgrades through the official SDK against a real `aro rp`: the control plane rolls its pods one replica
at a time while ``status.activeVersions`` shows both release lines; a node pool rolls its nodes surge 1 /
unavailable 0 (kubectl follows: 3 -> 4 -> 3 nodes, never fewer than 3 Ready, every kubelet replaced);
the skew rules answer 400 naming the rule. Plus the roll planners as pure functions.

The RP polls its conditions every 0.3 s (simulated machines start in 0.05 s): a surged node stays in the
list until the next poll retires the oldest stale one, long enough for kubectl to see 4 nodes.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.redhatopenshifthcp import RedHatOpenShiftHcpMgmtClient
from azure.mgmt.redhatopenshifthcp import models as m

from aro.api.hcp.catalog import HcpVersion
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.hcp import rollout
from aro.hcp.cluster import release_for
from aro.hcp.nodepool import kubelet_version, release_of_kubelet
from tests.backend.helpers import simulator_client
from tests.backend.test_resilience import deploy
from tests.conftest import RPProcess
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import new_sub
from tests.frontend.test_sdk import StaticToken
from tests.hcp.helpers import cluster_model, kubectl, new_key_and_csr, node_pool_model, with_key

MRG_ANNOTATION = "aro.openshift.io/managed-resource-group"
A = "hypershift.openshift.io/release"
ENV = {"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0.05", "ARO_BACKEND_CONDITION_POLL_SECONDS": "0.3"}
Client = RedHatOpenShiftHcpMgmtClient


@pytest.fixture(scope="module")
def up_rp(start_rp: StartRP) -> RPProcess:
    return start_rp(**ENV)


@pytest.fixture(scope="module")
def client(up_rp: RPProcess) -> Iterator[tuple[Client, str]]:
    sub = new_sub()
    c = Client(
        StaticToken(),  # type: ignore[arg-type]
        sub,
        base_url=up_rp.base_url,
        connection_verify=str(up_rp.ca_file),
        polling_interval=0.05,
    )
    with c:
        yield c, sub


def _refused(call: Callable[[], Any]) -> str:
    with pytest.raises(HttpResponseError) as info:
        call()
    err = info.value
    assert err.status_code == 400 and err.error is not None, err
    assert err.error.target == "properties.version.id", err.error
    return str(err.error.message)


def _until(what: str, fn: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := fn()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def _cluster(c: Client, sub: str, rg: str, name: str, version: str) -> m.HcpOpenShiftCluster:
    model = cluster_model(sub, rg, name, version=version, managed_resource_group=f"{name}-mrg")
    return c.hcp_open_shift_clusters.begin_create_or_update(rg, name, model).result()


def _namespace(rp: RPProcess, sub: str, managed_rg: str) -> str:
    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
        return _namespace_at(sim, sub, managed_rg)


# --- the control plane ---------------------------------------------------------------------------------------


def test_the_control_plane_rolls_one_replica_at_a_time(client: tuple[Client, str], up_rp: RPProcess) -> None:
    c, sub = client
    rg = "cp-rg"
    _cluster(c, sub, rg, "cp", "4.20")
    ns = _namespace(up_rp, sub, "cp-mrg")

    message = _refused(
        lambda: c.hcp_open_shift_clusters.begin_update(rg, "cp", {"properties": {"version": {"id": "4.22"}}})
    )
    assert "only an upgrade to the next minor is allowed: expected 4.21 after 4.20" in message

    poller = c.hcp_open_shift_clusters.begin_update(rg, "cp", {"properties": {"version": {"id": "4.21"}}})
    seen_versions: list[list[str]] = []
    progressing: set[str] = set()
    releases_seen: list[set[str]] = []
    with simulator_client(up_rp.ready_info()["simulator"], up_rp.ca_file) as sim:
        while not poller.done():
            got = c.hcp_open_shift_clusters.get(rg, "cp").properties
            assert got is not None and got.status is not None
            seen_versions.append([v.version for v in got.status.active_versions or []])
            progressing |= {
                x.message for x in got.status.conditions or [] if x.type == "Progressing" and x.status == "True"
            }
            pods = sim.get(f"/management/api/v1/namespaces/{ns}/pods").json()["items"]
            running = {p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running"}
            assert len(running) >= 17, f"more than one replica away at once: {len(running)} of 18 running"
            releases_seen.append({p["metadata"]["annotations"][A] for p in pods})
    done = poller.result().properties
    assert done is not None and done.provisioning_state == "Succeeded"
    assert done.status is not None and [v.version for v in done.status.active_versions or []] == ["4.21"]
    assert ["4.20", "4.21"] in seen_versions, seen_versions
    assert progressing == {"Upgrading from 4.20.12 to 4.21.6."}, progressing
    assert {"4.20.12", "4.21.6"} in releases_seen, "the pods never ran both releases at once"

    with simulator_client(up_rp.ready_info()["simulator"], up_rp.ca_file) as sim:
        pods = sim.get(f"/management/api/v1/namespaces/{ns}/pods").json()["items"]
    assert len(pods) == 18 and {p["metadata"]["annotations"][A] for p in pods} == {"4.21.6"}

    message = _refused(
        lambda: c.hcp_open_shift_clusters.begin_update(rg, "cp", {"properties": {"version": {"id": "4.20"}}})
    )
    assert "may not decrease from 4.21" in message


def test_skew_rules_name_the_rule_and_the_node_pool(client: tuple[Client, str]) -> None:
    c, sub = client
    rg = "rules-rg"
    _cluster(c, sub, rg, "rules", "4.22")
    c.node_pools.begin_create_or_update(rg, "rules", "old", node_pool_model("4.20.9", replicas=1)).result()

    message = _refused(
        lambda: c.node_pools.begin_update(rg, "rules", "old", {"properties": {"version": {"id": "4.23.0"}}})
    )
    assert "invalid upgrade path from 4.20.9 to 4.23.0: skipping more than 2 minor versions is not allowed" in message
    message = _refused(
        lambda: c.node_pools.begin_update(rg, "rules", "old", {"properties": {"version": {"id": "4.20.8"}}})
    )
    assert "may not decrease from 4.20.9" in message
    message = _refused(
        lambda: c.hcp_open_shift_clusters.begin_update(rg, "rules", {"properties": {"version": {"id": "4.23"}}})
    )
    assert (
        "node pool 'old' at version 4.20.9 must be within 2 minor versions of the control plane version 4.23" in message
    )


# --- node pools ----------------------------------------------------------------------------------------------


def _nodes(kubeconfig: Path) -> list[dict[str, Any]]:
    return list(json.loads(kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"])


def _kubeconfig(c: Client, rg: str, name: str, path: Path) -> Path:
    key, csr = new_key_and_csr()
    credential = c.hcp_open_shift_clusters.begin_request_admin_credential(
        rg, name, m.HcpOpenShiftClusterAdminCredentialRequest(certificate_signing_request=csr)
    ).result()
    path.write_text(with_key(str(credential.kubeconfig), key))
    return path


def _ready(node: dict[str, Any]) -> bool:
    return any(x["type"] == "Ready" and x["status"] == "True" for x in node["status"]["conditions"])


def _observe_roll(poller: Any, kubeconfig: Path) -> list[list[tuple[str, str, bool]]]:
    """(name, kubelet, ready) of every node, each time kubectl lists them, until the update is done."""
    seen = []
    while not poller.done():
        seen.append(
            [(n["metadata"]["name"], n["status"]["nodeInfo"]["kubeletVersion"], _ready(n)) for n in _nodes(kubeconfig)]
        )
    poller.result()
    return seen


def _collapse(values: list[int]) -> list[int]:
    """Runs of the same value as one: [3, 3, 4, 3] -> [3, 4, 3]."""
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


def test_a_node_pool_upgrade_rolls_its_nodes_one_at_a_time(
    client: tuple[Client, str], up_rp: RPProcess, tmp_path: Path
) -> None:
    c, sub = client
    rg = "roll-rg"
    _cluster(c, sub, rg, "roll", "4.21")
    c.node_pools.begin_create_or_update(rg, "roll", "workers", node_pool_model("4.20.8", replicas=3)).result()

    message = _refused(
        lambda: c.node_pools.begin_update(rg, "roll", "workers", {"properties": {"version": {"id": "4.22.0"}}})
    )
    assert "must not exceed the control plane version 4.21" in message

    kubeconfig = _kubeconfig(c, rg, "roll", tmp_path / "roll.kubeconfig")
    before = _nodes(kubeconfig)
    old = {n["metadata"]["name"] for n in before}
    assert len(old) == 3 and {n["status"]["nodeInfo"]["kubeletVersion"] for n in before} == {"v1.33.8"}
    oldest = sorted(old)[0]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": {"nodeName": oldest, "containers": [{"name": "app", "image": "registry.example.com/app:1"}]},
    }
    (tmp_path / "pod.json").write_text(json.dumps(pod))
    kubectl(kubeconfig, "apply", "-f", str(tmp_path / "pod.json"))

    poller = c.node_pools.begin_update(rg, "roll", "workers", {"properties": {"version": {"id": "4.21.3"}}})
    seen = _observe_roll(poller, kubeconfig)

    counts = [len(s) for s in seen]
    assert min(sum(ready for _, _, ready in s) for s in seen) >= 3, "fewer than 3 Ready nodes during the roll"
    assert set(counts) == {3, 4}, _collapse(counts)  # surge 1, never more, and seen
    names = {name for s in seen for name, _, _ in s}
    kubelets = {(name in old, kubelet) for s in seen for name, kubelet, _ in s}
    assert kubelets == {(True, "v1.33.8"), (False, "v1.34.3")}, "a node changed its kubelet in place"
    after = _nodes(kubeconfig)
    new = {n["metadata"]["name"] for n in after}
    assert len(after) == 3 and not new & old, (old, new)
    assert {n["status"]["nodeInfo"]["kubeletVersion"] for n in after} == {"v1.34.3"}
    assert names <= old | new, "a node came and went that is neither an old nor a final one: a second surge"

    got = c.node_pools.get(rg, "roll", "workers").properties
    assert got is not None and got.provisioning_state == "Succeeded"
    assert got.status is not None and [v.version for v in got.status.active_versions or []] == ["4.21.3"]
    assert kubectl(kubeconfig, "get", "pod", "app", "-n", "default", check=False).returncode != 0, "not drained"

    vmss = "/subscriptions/{}/resourceGroups/roll-mrg/providers/Microsoft.Compute/virtualMachineScaleSets/workers"
    with simulator_client(up_rp.ready_info()["simulator"], up_rp.ca_file) as sim:
        listed = sim.get(vmss.format(sub) + "/virtualMachines", params={"api-version": "2024-07-01"}).json()["value"]
        scale_set = sim.get(vmss.format(sub), params={"api-version": "2024-07-01"}).json()
    assert sorted(int(vm["instanceId"]) for vm in listed) == [3, 4, 5], "one surge instance per old one, no more"
    assert scale_set["sku"]["capacity"] == 3 and "aro-rollout-capacity" not in scale_set["tags"]

    # labels are baked in for new nodes only: no roll
    c.node_pools.begin_update(
        rg, "roll", "workers", {"properties": {"labels": [{"key": "tier", "value": "gold"}]}}
    ).result()
    assert {n["metadata"]["name"] for n in _nodes(kubeconfig)} == new

    message = _refused(
        lambda: c.node_pools.begin_update(rg, "roll", "workers", {"properties": {"version": {"id": "4.21.1"}}})
    )
    assert "may not decrease from 4.21.3" in message


def test_an_autoscaled_pool_rolls_within_max_plus_one(
    client: tuple[Client, str], up_rp: RPProcess, tmp_path: Path
) -> None:
    c, sub = client
    rg = "auto-rg"
    _cluster(c, sub, rg, "auto", "4.21")
    body: Any = m.NodePool(
        location="eastus",
        properties=m.NodePoolProperties(
            version=m.NodePoolVersionProfile(id="4.20.8", channel_group="stable"),
            platform=m.NodePoolPlatformProfile(vm_size="Standard_D8s_v3"),
            auto_scaling=m.NodePoolAutoScaling(min=1, max=2),
        ),
    )
    c.node_pools.begin_create_or_update(rg, "auto", "scaler", body).result()
    vmss = f"/subscriptions/{sub}/resourceGroups/auto-mrg/providers/Microsoft.Compute/virtualMachineScaleSets/scaler"
    kubeconfig = _kubeconfig(c, rg, "auto", tmp_path / "auto.kubeconfig")
    with simulator_client(up_rp.ready_info()["simulator"], up_rp.ca_file) as sim:
        r = sim.put("/simulator/autoscaler", json={"scaleSet": vmss, "demand": 2})
        assert r.status_code == 200 and r.json()["capacity"] == 2, r.text
        _until("2 nodes", lambda: len(_nodes(kubeconfig)) == 2)

        poller = c.node_pools.begin_update(rg, "auto", "scaler", {"properties": {"version": {"id": "4.21.0"}}})
        seen = _observe_roll(poller, kubeconfig)
        assert max(len(s) for s in seen) <= 3 and min(sum(r for _, _, r in s) for s in seen) >= 2, seen
        after = _nodes(kubeconfig)
        assert len(after) == 2 and {n["status"]["nodeInfo"]["kubeletVersion"] for n in after} == {"v1.34.0"}

        # the autoscaler owns the count again
        r = sim.put("/simulator/autoscaler", json={"scaleSet": vmss, "demand": 0})
        assert r.status_code == 200 and r.json()["autoscaled"] is True and r.json()["capacity"] == 1, r.text
    _until("1 node", lambda: len(_nodes(kubeconfig)) == 1)


# --- kill -9 in the middle of both rolls ---------------------------------------------------------------------


def test_a_killed_backend_resumes_both_rolls_without_repeating_a_move(rp_factory: Any, tmp_path: Path) -> None:
    """Separate simulator, frontend and backend processes: the backend is killed once the node pool's surge
    instance exists and once the control plane runs both releases; a second backend takes over (after the
    lease) and finishes each roll from what it finds -- one surge per old node, no pod rolled twice."""
    d = deploy(rp_factory, tmp_path, {"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0.1"})
    backend = d.backend(rp_factory)
    sub, rg = new_sub(), "kill-rg"
    c = Client(
        StaticToken(),  # type: ignore[arg-type]
        sub,
        base_url=d.frontend.base_url,
        connection_verify=str(d.frontend.ca_file),
        polling_interval=0.05,
    )
    vmss = f"/subscriptions/{sub}/resourceGroups/kill-mrg/providers/Microsoft.Compute/virtualMachineScaleSets/workers"
    with c, simulator_client(d.simulator.base_url, d.simulator.ca_file) as sim:
        _cluster(c, sub, rg, "kill", "4.20")
        c.node_pools.begin_create_or_update(rg, "kill", "workers", node_pool_model("4.20.8", replicas=3)).result()

        def instance_ids() -> list[int]:
            listed = sim.get(f"{vmss}/virtualMachines", params={"api-version": "2024-07-01"}).json()["value"]
            return sorted(int(vm["instanceId"]) for vm in listed)

        poller = c.node_pools.begin_update(rg, "kill", "workers", {"properties": {"version": {"id": "4.20.12"}}})
        _until("the first surge instance", lambda: max(instance_ids()) >= 3)
        backend.kill()
        assert instance_ids() != [3, 4, 5], "killed after the roll, not during it"
        backend = d.backend(rp_factory)
        got = poller.result().properties
        assert got is not None and got.provisioning_state == "Succeeded"
        assert instance_ids() == [3, 4, 5], "one surge instance per old one, also across the takeover"
        kubeconfig = _kubeconfig(c, rg, "kill", tmp_path / "kill.kubeconfig")
        assert [n["status"]["nodeInfo"]["kubeletVersion"] for n in _nodes(kubeconfig)] == ["v1.33.12"] * 3

        ns = _namespace_at(sim, sub, "kill-mrg")
        poller = c.hcp_open_shift_clusters.begin_update(rg, "kill", {"properties": {"version": {"id": "4.21"}}})

        def rolled() -> dict[str, str]:
            pods = sim.get(f"/management/api/v1/namespaces/{ns}/pods").json()["items"]
            at = {
                p["metadata"]["name"]: p["metadata"]["uid"] for p in pods if p["metadata"]["annotations"][A] == "4.21.6"
            }
            return at if 3 <= len(at) < len(pods) else {}

        before_kill = _until("some pods at the new release", rolled)
        backend.kill()
        d.backend(rp_factory)
        done = poller.result().properties
        assert done is not None and done.status is not None
        assert [v.version for v in done.status.active_versions or []] == ["4.21"]
        pods = sim.get(f"/management/api/v1/namespaces/{ns}/pods").json()["items"]
        assert {p["metadata"]["annotations"][A] for p in pods} == {"4.21.6"} and len(pods) == 18
        uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods}
        assert {name: uids[name] for name in before_kill} == before_kill, "a pod at the new release was rolled again"


def _namespace_at(sim: Any, sub: str, managed_rg: str) -> str:
    wanted = f"/subscriptions/{sub}/resourcegroups/{managed_rg}".lower()
    for ns in sim.get("/management/api/v1/namespaces").json()["items"]:
        if (ns["metadata"].get("annotations") or {}).get(MRG_ANNOTATION, "").lower() == wanted:
            return str(ns["metadata"]["name"])
    raise AssertionError("no control plane namespace")


# --- the planners, as pure functions ---------------------------------------------------------------------------


def _pod(release: str, phase: str = "Running", deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"annotations": {A: release}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase}}


@pytest.mark.parametrize(
    ("pods", "move"),
    [
        ({"a": _pod("2"), "b": _pod("2")}, rollout.PodMove(rollout.DONE)),
        ({"a": _pod("2"), "b": _pod("1")}, rollout.PodMove(rollout.REPLACE, "b")),
        ({"a": _pod("1"), "b": _pod("1")}, rollout.PodMove(rollout.REPLACE, "a")),  # in order
        ({"a": _pod("2", "Pending"), "b": _pod("1")}, rollout.PodMove(rollout.WAIT, "a")),  # one at a time
        ({"a": _pod("1", deleting=True), "b": _pod("1")}, rollout.PodMove(rollout.WAIT, "a")),
        ({"b": _pod("1")}, rollout.PodMove(rollout.CREATE, "a")),
    ],
)
def test_the_next_pod_move(pods: dict[str, Any], move: rollout.PodMove) -> None:
    assert rollout.next_pod_move(["a", "b"], pods, "2", A) == move


def _node(kubelet: str, ready: bool = True) -> dict[str, Any]:
    return {
        "status": {"nodeInfo": {"kubeletVersion": kubelet}, "conditions": [{"type": "Ready", "status": str(ready)}]}
    }


def _instances(*ids: int) -> list[rollout.Instance]:
    return [rollout.Instance(i, f"n{i}") for i in ids]


def _is_new(node: dict[str, Any]) -> bool:
    return bool(node["status"]["nodeInfo"]["kubeletVersion"] == "new")


@pytest.mark.parametrize(
    ("ids", "nodes", "target", "kind", "detail"),
    [
        ((0, 1), {"n0": _node("old"), "n1": _node("old")}, 2, rollout.SURGE, 3),
        ((0, 1, 2), {"n0": _node("old"), "n1": _node("old")}, 2, rollout.WAIT, None),  # the surge registers
        ((0, 1, 2), {"n0": _node("old"), "n1": _node("old"), "n2": _node("new", False)}, 2, rollout.WAIT, None),
        ((0, 1, 2), {"n0": _node("old"), "n1": _node("old"), "n2": _node("new")}, 2, rollout.RETIRE, 0),  # oldest
        ((1, 2), {"n0": _node("old"), "n1": _node("old"), "n2": _node("new")}, 2, rollout.WAIT, None),  # n0 leaves
        ((1, 2), {"n1": _node("old"), "n2": _node("new")}, 2, rollout.SURGE, 3),  # the same capacity: no 2nd surge
        ((2, 3), {"n2": _node("new"), "n3": _node("new")}, 2, rollout.DONE, None),
        ((0,), {"n0": _node("old")}, 3, rollout.SURGE, 4),  # a scale-up with the upgrade: up to target + 1
        ((0, 1, 2), {"n0": _node("old"), "n1": _node("new"), "n2": _node("new")}, 1, rollout.RETIRE, 0),
        ((), {}, 0, rollout.DONE, None),
    ],
)
def test_the_next_node_move(
    ids: tuple[int, ...], nodes: dict[str, Any], target: int, kind: str, detail: int | None
) -> None:
    move = rollout.next_node_move(_instances(*ids), nodes, _is_new, target)
    assert move.kind == kind, move
    if kind == rollout.SURGE:
        assert move.capacity == detail
    if kind == rollout.RETIRE:
        assert move.instance is not None and move.instance.instance_id == detail


def test_the_release_a_control_plane_runs() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    versions = [HcpVersion(name=n) for n in ("4.21.0", "4.21.3", "4.22.1")] + [HcpVersion(name="4.21.5", enabled=False)]
    oc = HcpOpenShiftCluster()
    oc.properties.version.id, oc.properties.version.channel_group = "4.21", "stable"
    assert release_for(oc, versions, now) == "4.21.3"  # the newest enabled
    oc.properties.desired_version = "4.21.0"  # an admin's z-stream of this line
    assert release_for(oc, versions, now) == "4.21.0"
    oc.properties.desired_version = "4.20.9"  # of another line: ignored
    assert release_for(oc, versions, now) == "4.21.3"
    oc.properties.version.id = "4.23"
    assert release_for(oc, versions, now) is None


@pytest.mark.parametrize("release", ["4.20.8", "4.21.0", "4.22.3", "5.0.1"])
def test_kubelet_versions_map_back_to_releases(release: str) -> None:
    assert release_of_kubelet(kubelet_version(release)) == release
    assert release_of_kubelet("not-a-version") == ""
