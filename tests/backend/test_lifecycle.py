"""End-to-end through a real `aro rp` subprocess: create -> Succeeded -> credentials -> PATCH -> DELETE,
checked in the API, the store and the cloud simulator."""

from __future__ import annotations

import base64
import ssl
import tempfile
from pathlib import Path
from typing import Any

import httpx
import yaml

from aro.util.pki import verify_issued_by
from tests.backend.helpers import (
    SUB,
    V,
    body,
    cluster_doc,
    cluster_url,
    create,
    operation,
    simulator_client,
    store_docs,
    wait_operation,
    wait_state,
)


def test_cluster_lifecycle(rp_factory: Any) -> None:
    rp = rp_factory()
    sim_url = rp.ready_info()["simulator"]
    with rp.client() as c:
        created = create(c, "life")
        assert created.json()["properties"]["provisioningState"] == "Creating"
        got = wait_state(c, "life", {"Succeeded", "Failed"})
        props = got["properties"]
        assert props["provisioningState"] == "Succeeded", got
        assert props["apiserverProfile"]["url"].startswith("https://") and props["apiserverProfile"]["ip"]
        assert props["consoleProfile"]["url"].startswith("https://console-openshift-console.apps.")
        assert props["ingressProfiles"][0]["ip"]
        assert len(props["workerProfilesStatus"]) == 3
        op = operation(c, created)
        assert op["status"] == "Succeeded" and op["endTime"] >= op["startTime"]

        # credentials: the real generated values
        creds = c.post(cluster_url("life") + "/listCredentials", params={"api-version": V})
        assert creds.status_code == 200
        password = creds.json()["kubeadminPassword"]
        assert creds.json()["kubeadminUsername"] == "kubeadmin" and len(password) == 23
        admin = c.post(cluster_url("life") + "/listAdminCredentials", params={"api-version": V})
        kubeconfig = yaml.safe_load(base64.b64decode(admin.json()["kubeconfig"]))
        user = kubeconfig["users"][0]["user"]
        client_cert = base64.b64decode(user["client-certificate-data"]).decode()
        doc = cluster_doc(rp.data_dir, "life")
        assert doc is not None
        cluster_ca = doc["openShiftCluster"]["properties"]["clusterPki"]["caCert"]
        assert verify_issued_by(client_cert, cluster_ca), "admin client certificate must chain to the cluster CA"
        # the kubeconfig reaches the cluster API with its own CA data: the cluster CA verifies the API
        # server's certificate for its host (tls-server-name, the SNI name)
        cluster = kubeconfig["clusters"][0]["cluster"]
        assert (
            cluster["tls-server-name"]
            == f"api.{doc['openShiftCluster']['properties']['clusterProfile']['domain']}.eastus.aroapp.io"
        )
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as ca:
            ca.write(base64.b64decode(cluster["certificate-authority-data"]).decode())
            ca.flush()
            with httpx.Client(verify=ssl.create_default_context(cafile=ca.name)) as h:
                request = h.build_request(
                    "GET", cluster["server"] + "/version", extensions={"sni_hostname": cluster["tls-server-name"]}
                )
                version = h.send(request)
        assert version.status_code == 200 and version.json()["gitVersion"]

        # secrets are encrypted at rest
        raw = (rp.data_dir / "aro.db").read_bytes() + (rp.data_dir / "aro.db-wal").read_bytes()
        for secret in (password, "sp-s3cret-value", "c2VjcmV0", "BEGIN PRIVATE KEY"):
            assert secret.encode() not in raw, f"{secret!r} stored in plaintext"

        # update: tags replaced, outbound IPs reconciled
        patched = c.patch(
            cluster_url("life"),
            params={"api-version": V},
            json={
                "tags": {"env": "prod"},
                "properties": {"networkProfile": {"loadBalancerProfile": {"managedOutboundIps": {"count": 3}}}},
            },
        )
        assert patched.status_code == 200 and patched.json()["properties"]["provisioningState"] == "Updating"
        assert wait_operation(c, patched)["status"] == "Succeeded"
        got = wait_state(c, "life", {"Succeeded"})
        assert got["tags"] == {"env": "prod"}
        assert len(got["properties"]["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIps"]) == 3
        managed_rg = got["properties"]["clusterProfile"]["resourceGroupId"]
        with simulator_client(sim_url, rp.ca_file) as sim:
            rg = sim.get(managed_rg, params={"api-version": "2021-04-01"})
            assert rg.status_code == 200 and rg.json()["managedBy"].lower() == cluster_url("life").lower()
            assert rg.json()["tags"]["env"] == "prod"

            # delete
            deleted = c.delete(cluster_url("life"), params={"api-version": V})
            assert deleted.status_code == 202 and deleted.headers["location"]
            assert wait_operation(c, deleted)["status"] == "Succeeded"
            wait_state(c, "life", {"404"})
            assert c.get(cluster_url("life"), params={"api-version": V}).status_code == 404
            assert sim.get(managed_rg, params={"api-version": "2021-04-01"}).status_code == 404
            resources = sim.get(managed_rg + "/resources", params={"api-version": "2021-04-01"})
            assert resources.status_code == 404 or resources.json()["value"] == []
    billing = [d for d in store_docs(rp.data_dir, "billing") if d["clusterKey"] == cluster_url("life").lower()]
    assert len(billing) == 1
    assert billing[0]["billing"]["creationTime"] < billing[0]["billing"]["deletionTime"]


def test_subscription_deleted_removes_its_clusters(rp_factory: Any) -> None:
    rp = rp_factory(env={"ARO_BACKEND_RETRY_LATER_SECONDS": "0.5"})
    with rp.client() as c:
        for n in range(3):
            create(c, f"sub{n}")
        for n in range(3):
            assert wait_state(c, f"sub{n}", {"Succeeded"})
        r = c.put(f"/subscriptions/{SUB}", params={"api-version": "2.0"}, json={"state": "Deleted", "properties": {}})
        assert r.status_code == 200
        for n in range(3):
            wait_state(c, f"sub{n}", {"404"}, timeout=60)
        listed = c.get(
            f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/openShiftClusters", params={"api-version": V}
        )
        assert listed.json()["value"] == []
        refused = c.put(cluster_url("after"), params={"api-version": V}, json=body("after"))
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "InvalidSubscriptionState"
    subs = store_docs(rp.data_dir, "subscriptions")
    assert subs[0]["subscription"]["state"] == "Deleted" and subs[0]["deleting"] is False


def test_admin_kubeconfig_script(rp_factory: Any, tmp_path: Path) -> None:
    import subprocess

    from tests.conftest import REPO

    hang = '[{"operation": "clusterReady", "mode": "hang", "count": null}]'
    rp = rp_factory(env={"ARO_CLOUD_SIMULATOR_FAULTS": hang})
    rid = cluster_url("kc")
    script = REPO / "hack" / "get-admin-kubeconfig.sh"
    out = tmp_path / "admin.kubeconfig"
    with rp.client() as c:
        create(c, "kc")
        early = subprocess.run([script, "-d", str(rp.data_dir), "-f", str(out), rid], capture_output=True, text=True)
        assert early.returncode != 0 and "not Succeeded" in early.stderr and not out.exists()
        with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
            assert sim.delete("/simulator/faults").status_code in (200, 204)
        wait_state(c, "kc", {"Succeeded"})
        admin = c.post(rid + "/listAdminCredentials", params={"api-version": V}).json()["kubeconfig"]
    ok = subprocess.run([script, "-d", str(rp.data_dir), "-f", str(out), rid], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert out.read_text() == base64.b64decode(admin).decode()
    assert out.stat().st_mode & 0o777 == 0o600
    again = subprocess.run([script, "-d", str(rp.data_dir), "-f", str(out), rid], capture_output=True, text=True)
    assert again.returncode != 0 and "exists" in again.stderr
    missing = subprocess.run(
        [script, "-d", str(rp.data_dir), "-f", str(tmp_path / "x"), cluster_url("nope")], capture_output=True, text=True
    )
    assert missing.returncode != 0 and "not found" in missing.stderr
    assert subprocess.run([script, "-h"], capture_output=True, text=True).stdout.startswith("usage:")


def test_sigterm_mid_install_releases_the_lease_and_restart_resumes(rp_factory: Any) -> None:
    import signal
    import time

    env = {"ARO_CLOUD_SIMULATOR_STEP_DELAY_SECONDS": "0.5", "ARO_CLOUD_SIMULATOR_PORT": "0"}
    rp = rp_factory(env=env)
    with rp.client() as c:
        create(c, "term")
        deadline = time.monotonic() + 30
        while not (
            (cluster_doc(rp.data_dir, "term") or {}).get("openShiftCluster", {}).get("properties", {}).get("install")
            or {}
        ).get("currentStep"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    started = time.monotonic()
    assert rp.stop(signal.SIGTERM) == 0
    print(f"\nSIGTERM mid-install: stopped in {time.monotonic() - started:.2f}s")
    doc = cluster_doc(rp.data_dir, "term")
    assert doc is not None and not doc.get("leaseOwner"), "lease released on shutdown"
    assert doc["openShiftCluster"]["properties"]["provisioningState"] == "Creating"
    again = rp_factory(data_dir=rp.data_dir, env=env)
    with again.client() as c:
        assert wait_state(c, "term", {"Succeeded", "Failed"})["properties"]["provisioningState"] == "Succeeded"
