"""`cloud.mode: azure` end to end: a real `aro rp` process whose cloud is the production Azure provider --
azure-identity's ClientSecretCredential against an Entra-compatible token endpoint, azure-mgmt-resource
against an ARM endpoint, azure-storage-blob for the install graph. Only the endpoints differ from
production: ARM and Entra are a separate `aro simulator` process, blob storage is Azurite."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx

from aro.cloud.blob import GraphStore
from aro.env.config import BlobConfig
from aro.util.crypto import Sealer, load_or_create_key
from tests.azure.conftest import CLIENT_ID, TENANT, Azurite
from tests.backend.helpers import (
    SUB,
    V,
    body,
    cluster_doc,
    cluster_url,
    create,
    simulator_requests,
    wait_operation,
    wait_state,
)
from tests.cluster.customer import NETWORK_API, Customer

SECRET = "e2e-client-secret"
ENDPOINT_TEMPLATE = "{base_url}/clusters/{subscription_id}/{resource_group}"


def load_graph(azurite: Azurite, data_dir: Path, infra_id: str) -> dict[str, Any] | None:
    async def load() -> dict[str, Any] | None:
        sealer = Sealer(load_or_create_key(data_dir / "secret.key"))
        store = GraphStore.from_config(BlobConfig(connection_string=azurite.connection_string), sealer)
        try:
            return await store.load_graph(infra_id)
        finally:
            await store.close()

    return asyncio.run(load())


def test_install_update_delete_with_the_azure_provider(
    rp_factory: Any, tmp_path: Path, azurite_or_none: Azurite | None
) -> None:
    # role assignments "propagating": the first two resource-group writes are refused
    faults = [
        {"operation": "createResourceGroup", "status": 403, "code": "AuthorizationFailed", "count": 2, "match": "aro-"}
    ]
    sim_data = tmp_path / "sim"
    sim = rp_factory(
        "simulator",
        data_dir=sim_data,
        env={"ARO_CLOUD_SIMULATOR_TOKEN": SECRET, "ARO_CLOUD_SIMULATOR_FAULTS": json.dumps(faults)},
    )
    sim_url = sim.ready_info()["simulator"]
    env = {
        "ARO_CLOUD_MODE": "azure",
        "ARO_CLOUD_AZURE_ARM_ENDPOINT": sim_url,
        "ARO_CLOUD_AZURE_AUTHORITY": sim_url,
        "ARO_CLOUD_AZURE_TENANT_ID": TENANT,
        "ARO_CLOUD_AZURE_CLIENT_ID": CLIENT_ID,
        "ARO_CLOUD_AZURE_CLIENT_SECRET": SECRET,
        "ARO_CLOUD_AZURE_CA_FILE": str(sim_data / "certs" / "ca.crt"),
        "ARO_CLOUD_AZURE_CLUSTER_ENDPOINT_TEMPLATE": ENDPOINT_TEMPLATE,
        "ARO_CLOUD_AZURE_AUTHORIZATION_RETRY_SECONDS": "30",
        "ARO_CLOUD_AZURE_AUTHORIZATION_RETRY_INTERVAL_SECONDS": "0.1",
    }
    if azurite_or_none is not None:
        env["ARO_CLOUD_BLOB_CONNECTION_STRING"] = azurite_or_none.connection_string
    rp = rp_factory(data_dir=tmp_path / "rp", env=env)
    assert rp.ready_info()["simulator"] is None, "azure mode hosts no simulator"
    assert set(rp.ready_info()["processes"]) == {"backend", "frontend"}

    # azure mode checks the customer's network as ARO-RP does: the vnet the cluster names exists in "Azure"
    headers = {"Authorization": f"Bearer {SECRET}"}
    with httpx.Client(base_url=sim_url, verify=sim.ssl_context(), headers=headers, timeout=30) as arm:
        customer = Customer(arm, SUB)
        props = body("azlife")["properties"]
        subnets = [p["subnetId"].rsplit("/", 1)[1] for p in (props["masterProfile"], props["workerProfiles"][0])]
        vnet = customer.vnet("vnet-rg", "vnet", dict(zip(subnets, ("10.0.0.0/23", "10.0.2.0/23"), strict=True)))
        deadline = time.monotonic() + 30  # the simulator's step delay: Updating, then Succeeded
        while (customer.get(vnet, NETWORK_API) or {}).get("properties", {}).get("provisioningState") != "Succeeded":
            assert time.monotonic() < deadline, "the vnet never reached Succeeded"
            time.sleep(0.05)

    with rp.client() as c:
        created = create(c, "azlife")
        got = wait_state(c, "azlife", {"Succeeded", "Failed"})
        assert got["properties"]["provisioningState"] == "Succeeded", got["properties"].get("lastError", got)
        assert wait_operation(c, created)["status"] == "Succeeded"

        patched = c.patch(cluster_url("azlife"), params={"api-version": V}, json={"tags": {"env": "prod"}})
        assert patched.status_code == 200, patched.text
        assert wait_operation(c, patched)["status"] == "Succeeded"
        assert wait_state(c, "azlife", {"Succeeded"})["tags"] == {"env": "prod"}

        doc = cluster_doc(rp.data_dir, "azlife")
        assert doc is not None
        infra_id = doc["openShiftCluster"]["properties"]["infraId"]
        admin = c.post(cluster_url("azlife") + "/listAdminCredentials", params={"api-version": V})
        kubeconfig = admin.json()["kubeconfig"]
        if azurite_or_none is not None:
            graph = load_graph(azurite_or_none, rp.data_dir, infra_id)
            assert graph is not None, "the install graph was persisted"
            assert graph["*kubeconfig.AdminClient"] == base64.b64decode(kubeconfig).decode()
            assert graph["*tls.RootCA"]["cert"].startswith("-----BEGIN CERTIFICATE-----")
            assert graph["*bootstrap.Bootstrap"]["ignition"]["version"] == "3.2.0"

        deleted = c.delete(cluster_url("azlife"), params={"api-version": V})
        assert deleted.status_code == 202
        assert wait_operation(c, deleted)["status"] == "Succeeded"
        wait_state(c, "azlife", {"404"})
        if azurite_or_none is not None:
            assert load_graph(azurite_or_none, rp.data_dir, infra_id) is None, "the graph is deleted with the cluster"

    assert rp.stop() == 0, "clean shutdown (credential, ARM clients and graph store closed)"
    assert "Unclosed" not in rp.log() and "Traceback" not in rp.log()

    log = simulator_requests(sim_data)
    tokens = [e for e in log if e["path"] == f"/{TENANT}/oauth2/v2.0/token"]
    assert tokens and all(e["method"] == "POST" and e["status"] == 200 for e in tokens), "real Entra-style login"
    arm = [e for e in log if e["path"].lower().startswith("/subscriptions/")]
    assert arm and all(e["status"] != 401 for e in arm), "every ARM call carried an accepted bearer token"
    rg_puts = [e["status"] for e in arm if e["method"] == "PUT" and e["path"].lower().endswith("/aro-azlife")]
    assert rg_puts[:3] == [403, 403, 201], "authorization failures were retried, then the install went on"
    steps = {e.get("step") for e in arm}
    assert {"install.ensure_resource_group", "install.deploy_cluster_resources", "install.remove_bootstrap"} <= steps
