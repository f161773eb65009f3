"""Day 2 of hosted clusters through a real `aro rp`'s admin API: paused reconciliation (a dated pause, an
open-ended one lifted while its operation waits, a node pool's), strict admin PATCH validation (nothing
written on a refusal), the TechPreviewNoUpgrade feature set (blocks minor upgrades, allows an admin
z-stream, cannot be undone), and etcd backup and restore checked with kubectl."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx

from tests.frontend.helpers import Arm, error_of, new_sub
from tests.hcp.helpers import PROVIDER, cluster_model, kubectl, new_key_and_csr, node_pool_model, with_key

V = "2026-10-01"
RG = "day2-rg"
PAUSE = "ReconciliationActive"


def cluster_path(sub: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/{PROVIDER}/hcpOpenShiftClusters/{name}"


def create(arm: Arm, sub: str, name: str) -> str:
    path = cluster_path(sub, name)
    model = cluster_model(sub, RG, name, managed_resource_group=f"mrg-{name}")
    r = arm.put(path, model.as_dict(), version=V)
    assert r.status_code == 201, r.text
    arm.wait(path, {"Succeeded"}, version=V)
    return path


def admin_patch(arm: Arm, path: str, props: Any) -> httpx.Response:
    return arm.patch(f"/admin{path}", {"properties": props}, version=None)


def condition(body: dict[str, Any], type_: str) -> dict[str, Any] | None:
    found = [c for c in body["properties"].get("status", {}).get("conditions") or [] if c["type"] == type_]
    return found[0] if found else None


def state(arm: Arm, path: str) -> tuple[str, dict[str, Any]]:
    r = arm.get(path, version=V)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["properties"]["provisioningState"], body


def until(what: str, fn: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not fn():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.05)


def stays(arm: Arm, path: str, seconds: float, want: str = "Updating") -> dict[str, Any]:
    """The resource stays in ``want`` for ``seconds`` (observed every 50 ms); its last body."""
    end = time.monotonic() + seconds
    while True:
        got, body = state(arm, path)
        assert got == want, f"{path}: {got}, not {want}"
        if time.monotonic() >= end:
            return body
        time.sleep(0.05)


def admin_doc(arm: Arm, path: str, field: str = "hcpOpenShiftCluster") -> dict[str, Any]:
    r = arm.get(f"/admin{path}", version=None)
    assert r.status_code == 200, r.text
    return dict(r.json()[field]["properties"])


# --- pause -----------------------------------------------------------------------------------------------


def test_a_dated_pause_holds_an_update_until_its_time(arm: Arm) -> None:
    sub = new_sub()
    path = create(arm, sub, "paused")
    end = int(time.time()) + 8
    value = dt.datetime.fromtimestamp(end, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = admin_patch(arm, path, {"pausedUntil": value})
    assert r.status_code == 200, r.text  # record-only: no operation
    assert "location" not in r.headers and "azure-asyncoperation" not in r.headers
    assert r.json()["hcpOpenShiftCluster"]["properties"]["pausedUntil"] == value
    got, body = state(arm, path)
    assert got == "Succeeded"
    paused = condition(body, PAUSE)
    assert paused is not None and (paused["status"], paused["reason"]) == ("False", "ReconciliationPaused")
    assert paused["message"] == f"Reconciliation paused until {value}"

    r = arm.patch(path, {"tags": {"day": "2"}}, version=V)
    assert r.status_code == 202, r.text
    seen: list[tuple[float, str]] = []
    while True:  # observe until it completes: Updating all the while the pause lasts
        got, body = state(arm, path)
        seen.append((time.time(), got))
        if got != "Updating":
            break
        c = condition(body, PAUSE)
        if time.time() < end - 0.5:
            assert c is not None and c["status"] == "False" and c["message"] == f"Reconciliation paused until {value}"
        assert time.time() < end + 20, "the update did not complete after the pause"
        time.sleep(0.05)
    assert got == "Succeeded", body
    assert seen[-1][0] >= end, f"completed at {seen[-1][0]}, before the pause ended at {end}"
    assert sum(1 for _, s in seen if s == "Updating") > 20  # it was watched while it waited
    assert body["tags"] == {"day": "2"}
    c = condition(body, PAUSE)
    assert c is not None and (c["status"], c["reason"]) == ("True", "ReconciliationActive")
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"


def test_an_open_ended_pause_waits_until_an_admin_lifts_it(arm: Arm) -> None:
    sub = new_sub()
    path = create(arm, sub, "held")
    assert admin_patch(arm, path, {"pausedUntil": True}).status_code == 200
    r = arm.patch(path, {"tags": {"held": "yes"}}, version=V)
    assert r.status_code == 202, r.text
    body = stays(arm, path, 2.0)  # the backend claims it, sees the pause, gives it back
    c = condition(body, PAUSE)
    assert c is not None and c["message"] == "Reconciliation paused until the pause is removed"
    progress = admin_doc(arm, path)["progress"]
    assert progress["pausedSince"] and progress["request"] == "Update"

    # while it waits the cluster is Updating: writes that start an operation are refused...
    r2 = arm.patch(path, {"tags": {"other": "x"}}, version=V)
    assert r2.status_code == 409, r2.text
    r2 = admin_patch(arm, path, {"featureSet": "TechPreviewNoUpgrade"})
    assert r2.status_code == 409, r2.text
    # ...but the pause itself can be lifted, and the waiting update runs at once (not at the next re-check)
    lifted = time.monotonic()
    r2 = admin_patch(arm, path, {"pausedUntil": False})
    assert r2.status_code == 200, r2.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    assert time.monotonic() - lifted < 8, "the update waited for the next re-check instead of being woken"
    got, body = state(arm, path)
    assert got == "Succeeded" and body["tags"] == {"held": "yes"}
    c = condition(body, PAUSE)
    assert c is not None and c["status"] == "True"
    assert admin_doc(arm, path)["progress"]["pausedSeconds"] >= 2.0


def test_bad_pauses_are_refused_and_nothing_is_written(arm: Arm) -> None:
    sub = new_sub()
    path = create(arm, sub, "strict")
    pool = path + "/nodePools/np"
    assert arm.put(pool, node_pool_model(replicas=1).as_dict(), version=V).status_code == 201
    arm.wait(pool, {"Succeeded"}, version=V)
    for target, props, named in (
        (path, {"pausedUntil": "tomorrow"}, "properties.pausedUntil"),
        (path, {"pausedUntil": "2026-01-01 00:00:00Z"}, "properties.pausedUntil"),
        (path, {"pausedUntil": "tru"}, "properties.pausedUntil"),
        (path, {"pausedUntil": "true", "paused": True}, "properties.paused"),
        (pool, {"pausedUntil": "yes"}, "properties.pausedUntil"),
        (pool, {"featureSet": "TechPreviewNoUpgrade"}, "properties.featureSet"),
    ):
        before = arm.rows(sub)
        r = admin_patch(arm, target, props)
        assert r.status_code == 400, r.text
        err = error_of(r)
        assert err["code"] == "InvalidRequestContent" and err["target"] == named, err
        assert arm.rows(sub) == before, f"a refused admin PATCH changed the store: {props}"

    # a node pool's pause holds its update too
    assert admin_patch(arm, pool, {"pausedUntil": "True"}).status_code == 200
    r = arm.patch(pool, {"tags": {"pool": "held"}}, version=V)
    assert r.status_code == 202, r.text
    body = stays(arm, pool, 1.5)
    c = condition(body, PAUSE)
    assert c is not None and c["status"] == "False", body
    assert admin_patch(arm, pool, {"pausedUntil": None}).status_code == 200
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    assert admin_doc(arm, pool, "nodePool")["pausedUntil"] == ""


# --- feature set -----------------------------------------------------------------------------------------


def test_tech_preview_blocks_minor_upgrades_but_not_an_admin_z_stream(arm: Arm) -> None:
    sub = new_sub()
    path = create(arm, sub, "preview")
    running = admin_doc(arm, path)["release"]
    assert running.startswith("4.20.")
    r = admin_patch(arm, path, {"featureSet": "TechPreviewNoUpgrade"})
    assert r.status_code == 202 and r.headers["location"], r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    got, body = state(arm, path)
    c = condition(body, "TechPreviewNoUpgrade")
    assert got == "Succeeded" and c is not None and (c["status"], c["reason"]) == ("True", "FeatureSetEnabled")
    assert "featureSet" not in body["properties"], "the public render gained a non-SDK field"

    before = arm.rows(sub)
    r = arm.patch(path, {"properties": {"version": {"id": "4.21"}}}, version=V)
    assert r.status_code == 400, r.text
    err = error_of(r)
    assert err["message"] == "The cluster has feature set TechPreviewNoUpgrade: minor upgrades are blocked.", err
    assert err["target"] == "properties.version.id"
    assert arm.rows(sub) == before

    z = "4.20.10" if running != "4.20.10" else "4.20.9"
    r = admin_patch(arm, path, {"desiredVersion": z})
    assert r.status_code == 202, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"], timeout=60)["status"] == "Succeeded"
    doc = admin_doc(arm, path)
    assert doc["desiredVersion"] == z and doc["release"] == z
    pods = doc["controlPlane"]
    assert pods and all(p["release"] == z and p["phase"] == "Running" for p in pods), pods
    assert state(arm, path)[1]["properties"]["status"]["activeVersions"] == [{"version": "4.20"}]

    for props in ({"featureSet": ""}, {"featureSet": "Default"}, {"desiredVersion": "4.21.0"}):
        before = arm.rows(sub)
        r = admin_patch(arm, path, props)
        assert r.status_code == 400, r.text
        if "featureSet" in props:
            assert "TechPreviewNoUpgrade cannot be undone" in error_of(r)["message"], r.text
        assert arm.rows(sub) == before


# --- etcd backup and restore -----------------------------------------------------------------------------


def _kubeconfig(arm: Arm, path: str, tmp_path: Path) -> Path:
    key, csr = new_key_and_csr()
    r = arm.post(path + "/requestAdminCredential", json={"certificateSigningRequest": csr}, version=V)
    assert r.status_code == 202, r.text
    assert arm.wait_operation(r.headers["azure-asyncoperation"])["status"] == "Succeeded"
    f = tmp_path / "admin.kubeconfig"
    f.write_text(with_key(arm.absolute(r.headers["location"]).json()["kubeconfig"], key))
    return f


def _names(kubeconfig: Path, *what: str) -> set[str]:
    items = json.loads(kubectl(kubeconfig, "get", *what, "-o", "json").stdout)["items"]
    return {i["metadata"]["name"] for i in items}


def _run(arm: Arm, path: str, action: str, body: Any = None) -> dict[str, Any]:
    r = arm.post(f"/admin{path}/{action}", json=body, version=None)
    assert r.status_code == 202 and r.headers["location"], r.text
    status = arm.wait_operation(r.headers["azure-asyncoperation"])
    assert status["status"] == "Succeeded", status
    result = arm.absolute(r.headers["location"])
    assert result.status_code == 200, result.text
    return dict(result.json())


def test_backup_then_restore_brings_the_objects_back(arm: Arm, tmp_path: Path) -> None:
    sub = new_sub()
    path = create(arm, sub, "dr")
    kc = _kubeconfig(arm, path, tmp_path)
    kubectl(kc, "create", "namespace", "team")
    kubectl(kc, "create", "configmap", "a", "-n", "team", "--from-literal=colour=blue-7f3a")
    kubectl(kc, "create", "secret", "generic", "s", "-n", "default", "--from-literal=password=hunter2-9c1e")

    backup = _run(arm, path, "etcdbackups")
    assert set(backup) == {"id", "snapshotURL", "createdAt"}, backup
    url = backup["snapshotURL"]
    assert url.startswith("file://") and url.endswith(f"/{backup['id']}.json"), url
    snapshot = Path(unquote(urlparse(url).path))
    assert snapshot.is_file() and arm.rp.data_dir.resolve() in snapshot.resolve().parents
    raw = snapshot.read_bytes()
    assert raw.startswith(b"enc:v1:")
    for plain in (b"blue-7f3a", b"hunter2-9c1e", base64.b64encode(b"hunter2-9c1e")):
        assert plain not in raw, "the snapshot holds cluster secrets in plaintext"
    listed = arm.get(f"/admin{path}/etcdbackups", version=None)
    assert listed.status_code == 200, listed.text
    assert [b["snapshotURL"] for b in listed.json()["value"]] == [url]
    assert listed.json()["value"][0]["objects"] >= 4  # namespaces + the configmap + the secret

    # the cluster moves on: B and a namespace appear, A goes, the secret changes
    kubectl(kc, "create", "configmap", "b", "-n", "team", "--from-literal=colour=red")
    kubectl(kc, "delete", "configmap", "a", "-n", "team")
    kubectl(kc, "create", "namespace", "later")
    kubectl(kc, "create", "configmap", "c", "-n", "later", "--from-literal=x=y")
    kubectl(kc, "delete", "secret", "s", "-n", "default")
    kubectl(kc, "create", "secret", "generic", "s", "-n", "default", "--from-literal=password=changed")

    # a URL that is not one of this RP's snapshots: refused, nothing written
    for bad in ("https://evil.example.com/x.json", "s3://bucket/hcp-etcd-snapshots/a/b.json"):
        before = arm.rows(sub)
        r = arm.post(f"/admin{path}/etcdrestore", json={"snapshotURL": bad}, version=None)
        assert r.status_code == 400 and error_of(r)["target"] == "snapshotURL", r.text
        assert arm.rows(sub) == before
    # the layout of one, but not in this RP's store: the backend refuses to open it
    outside = url.replace(urlparse(url).path.split("/hcp-etcd-snapshots/")[0], str(tmp_path))
    r = arm.post(f"/admin{path}/etcdrestore", json={"snapshotURL": outside}, version=None)
    assert r.status_code == 202, r.text
    failed = arm.wait_operation(r.headers["azure-asyncoperation"])
    assert (
        failed["status"] == "Failed" and "not in this resource provider's snapshot store" in failed["error"]["message"]
    )
    assert _names(kc, "configmaps", "-n", "team") == {"b"}  # nothing was changed

    restored = _run(arm, path, "etcdrestore", {"snapshotURL": url})
    assert restored["snapshotURL"] == url and restored["restoredAt"], restored
    assert (restored["created"], restored["replaced"]) == (1, 1) and restored["deleted"] >= 2, restored

    assert _names(kc, "configmaps", "-n", "team") == {"a"}  # A is back, B is gone
    a = json.loads(kubectl(kc, "get", "configmap", "a", "-n", "team", "-o", "json").stdout)
    assert a["data"] == {"colour": "blue-7f3a"}
    assert "later" not in _names(kc, "namespaces") and {"team", "default"} <= _names(kc, "namespaces")
    s = json.loads(kubectl(kc, "get", "secret", "s", "-n", "default", "-o", "json").stdout)
    assert base64.b64decode(s["data"]["password"]) == b"hunter2-9c1e"
    assert "default" in _names(kc, "serviceaccounts", "-n", "team")  # the server's own: untouched

    # restoring again changes nothing
    again = _run(arm, path, "etcdrestore", {"snapshotURL": url})
    assert (again["created"], again["replaced"], again["deleted"]) == (0, 0, 0), again

    # another cluster restored from this one's snapshot: its objects become the snapshot's
    other = create(arm, sub, "dr-copy")
    other_dir = tmp_path / "copy"
    other_dir.mkdir()
    kc2 = _kubeconfig(arm, other, other_dir)
    kubectl(kc2, "create", "namespace", "mine")
    copied = _run(arm, other, "etcdrestore", {"snapshotURL": url})
    assert copied["created"] >= 3, copied  # namespace team, configmap a, secret s
    assert _names(kc2, "configmaps", "-n", "team") == {"a"}
    assert "mine" not in _names(kc2, "namespaces")
    assert arm.get(f"/admin{other}/etcdbackups", version=None).json() == {"value": []}
