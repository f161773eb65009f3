"""The official SDK (azure-mgmt-redhatopenshifthcp 1.0.0, api-version 2026-10-01, unmodified, ARMPolling)
drives a hosted cluster through its life against a real `aro rp`, and the real `kubectl` follows the
cluster through the admin credential the RP signs:

versions -> create a cluster at X.Y -> a node pool (2 replicas, labels, taints) -> requestAdminCredential
with a CSR -> kubectl get nodes (2, with the labels and taints) -> scale to 3, then 0 -> revokeCredentials
-> the same kubeconfig gets 401 -> delete the node pool, then the cluster -> 404, the management-cluster
namespace and the managed resource group gone.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.redhatopenshifthcp import RedHatOpenShiftHcpMgmtClient
from azure.mgmt.redhatopenshifthcp import models as m

from tests.backend.helpers import simulator_client
from tests.conftest import RPProcess
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import new_sub
from tests.frontend.test_sdk import StaticToken
from tests.hcp.helpers import cluster_model, kubectl, new_key_and_csr, node_pool_model, with_key


@pytest.fixture(scope="module")
def hcp_rp(start_rp: StartRP) -> RPProcess:
    return start_rp()


@pytest.fixture(scope="module")
def client(hcp_rp: RPProcess) -> Iterator[tuple[RedHatOpenShiftHcpMgmtClient, str]]:
    sub = new_sub()
    c = RedHatOpenShiftHcpMgmtClient(
        StaticToken(),  # type: ignore[arg-type]
        sub,
        base_url=hcp_rp.base_url,
        connection_verify=str(hcp_rp.ca_file),
        polling_interval=0.05,
    )
    with c:
        yield c, sub


def _nodes(kubeconfig: Path) -> list[dict[str, Any]]:
    return list(json.loads(kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"])


def _until(what: str, fn: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_the_sdk_drives_a_hosted_cluster_and_kubectl_follows(
    client: tuple[RedHatOpenShiftHcpMgmtClient, str], hcp_rp: RPProcess, tmp_path: Path
) -> None:
    c, sub = client
    rg = "hcp-rg"

    versions = list(c.hcp_open_shift_versions.list("eastus"))
    stable = {v.name for v in versions if v.properties and v.properties.channel_group == "stable"}
    assert {"4.20.8", "4.21.0", "4.22.0"} <= stable, stable
    assert all(v.properties.channel_group in ("stable", "fast") for v in versions if v.properties)
    one = c.hcp_open_shift_versions.get("eastus", "4.20.8")
    assert one.properties is not None and one.properties.enabled is True

    cluster = c.hcp_open_shift_clusters.begin_create_or_update(rg, "hcp1", cluster_model(sub, rg, "hcp1")).result()
    assert cluster.properties is not None
    assert cluster.properties.provisioning_state == "Succeeded"
    assert cluster.properties.version is not None and cluster.properties.version.id == "4.20"
    assert cluster.properties.api is not None and cluster.properties.api.url
    assert cluster.properties.console is not None and cluster.properties.console.url
    assert cluster.properties.dns is not None and cluster.properties.dns.base_domain
    assert cluster.properties.status is not None
    assert [v.version for v in cluster.properties.status.active_versions or []] == ["4.20"]
    managed_rg = cluster.properties.platform.managed_resource_group  # type: ignore[union-attr]
    assert managed_rg
    with httpx.Client(base_url=hcp_rp.base_url, verify=ssl.create_default_context(cafile=str(hcp_rp.ca_file))) as h:
        admin = h.get(f"/admin{cluster.id}").json()["hcpOpenShiftCluster"]["properties"]
    pods = {p["name"]: p for p in admin["controlPlane"]}
    assert pods["etcd-0"]["phase"] == "Running" and pods["kube-apiserver-2"]["release"].startswith("4.20.")
    assert "signer" not in admin and "credentials" not in admin, "the admin view has no secrets"

    pool = c.node_pools.begin_create_or_update(
        rg,
        "hcp1",
        "workers",
        node_pool_model(
            replicas=2,
            labels=[m.Label(key="team", value="payments")],
            taints=[m.Taint(key="dedicated", value="payments", effect="NoSchedule")],
        ),
    ).result()
    assert pool.properties is not None and pool.properties.provisioning_state == "Succeeded"
    assert [p.name for p in c.node_pools.list_by_parent(rg, "hcp1")] == ["workers"]

    key, csr = new_key_and_csr()
    credential = c.hcp_open_shift_clusters.begin_request_admin_credential(
        rg, "hcp1", m.HcpOpenShiftClusterAdminCredentialRequest(certificate_signing_request=csr)
    ).result()
    assert credential.kubeconfig and credential.expiration_timestamp is not None
    remaining = credential.expiration_timestamp.timestamp() - time.time()
    assert 23 * 3600 < remaining <= 24 * 3600 + 60
    kubeconfig = tmp_path / "admin.kubeconfig"
    kubeconfig.write_text(with_key(credential.kubeconfig, key))

    nodes = _nodes(kubeconfig)
    assert len(nodes) == 2
    for node in nodes:
        assert node["metadata"]["labels"]["team"] == "payments"
        assert node["metadata"]["labels"]["hypershift.openshift.io/nodePool"] == "workers"
        assert {"key": "dedicated", "value": "payments", "effect": "NoSchedule"} in node["spec"]["taints"]

    for count in (3, 0):
        c.node_pools.begin_update(rg, "hcp1", "workers", {"properties": {"replicas": count}}).result()
        assert len(_nodes(kubeconfig)) == count

    c.hcp_open_shift_clusters.begin_revoke_credentials(rg, "hcp1").result()
    refused = kubectl(kubeconfig, "get", "nodes", check=False)
    assert refused.returncode != 0 and "Unauthorized" in refused.stderr, refused.stderr

    c.node_pools.begin_delete(rg, "hcp1", "workers").result()
    with pytest.raises(ResourceNotFoundError):
        c.node_pools.get(rg, "hcp1", "workers")
    namespace = _management_namespace(hcp_rp, sub, managed_rg)
    c.hcp_open_shift_clusters.begin_delete(rg, "hcp1").result()
    with pytest.raises(ResourceNotFoundError):
        c.hcp_open_shift_clusters.get(rg, "hcp1")

    with simulator_client(hcp_rp.ready_info()["simulator"], hcp_rp.ca_file) as sim:
        assert sim.get(f"/management/api/v1/namespaces/{namespace}").status_code == 404
        rg_status = sim.get(f"/subscriptions/{sub}/resourceGroups/{managed_rg}", params={"api-version": "2022-09-01"})
        assert rg_status.status_code == 404, rg_status.text


def _management_namespace(rp: RPProcess, sub: str, managed_rg: str) -> str:
    """The control plane's namespace on the management cluster: the one naming the managed resource group."""
    with simulator_client(rp.ready_info()["simulator"], rp.ca_file) as sim:
        listed = sim.get("/management/api/v1/namespaces")
        assert listed.status_code == 200, listed.text
        wanted = f"/subscriptions/{sub}/resourcegroups/{managed_rg}".lower()
        for ns in listed.json()["items"]:
            annotations = ns["metadata"].get("annotations") or {}
            if annotations.get("aro.openshift.io/managed-resource-group", "").lower() == wanted:
                pods = sim.get(f"/management/api/v1/namespaces/{ns['metadata']['name']}/pods").json()["items"]
                assert {"etcd-0", "kube-apiserver-0"} <= {p["metadata"]["name"] for p in pods}
                return str(ns["metadata"]["name"])
    raise AssertionError("no management-cluster namespace holds the cluster's control plane")


def test_api_versions_belong_to_their_types(hcp_rp: RPProcess) -> None:
    """2026-10-01 on a classic route and 2025-07-25 on a hosted route are both 400 InvalidResourceType."""
    sub = new_sub()
    base = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.RedHatOpenShift"
    with httpx.Client(base_url=hcp_rp.base_url, verify=ssl.create_default_context(cafile=str(hcp_rp.ca_file))) as h:
        for path, version in (("openShiftClusters/x", "2026-10-01"), ("hcpOpenShiftClusters/x", "2025-07-25")):
            r = h.get(f"{base}/{path}", params={"api-version": version})
            assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidResourceType", r.text
            assert version not in r.json()["error"]["message"].split("supported api-versions are")[1]
