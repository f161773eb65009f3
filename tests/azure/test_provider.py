"""`make_cloud` for `cloud.mode: azure`: which credential, which token scope, which cluster endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.identity.aio import ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential

from aro.cloud.azure import AzureCloud, arm_scope, credential_for
from aro.env.config import AzureConfig, ConfigError, load
from aro.run import make_cloud
from aro.util.pki import ensure_dev_serving_cert

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


async def test_the_credential_follows_from_the_keys_set() -> None:
    cases = [
        (AzureConfig(tenant_id=TENANT, client_id="c", client_secret="s"), ClientSecretCredential),
        (AzureConfig(client_id="c"), ManagedIdentityCredential),
        (AzureConfig(tenant_id=TENANT), DefaultAzureCredential),
        (AzureConfig(), DefaultAzureCredential),
    ]
    for cfg, kind in cases:
        cred = credential_for(cfg)
        try:
            assert isinstance(cred, kind), cfg
        finally:
            await cred.close()


def test_a_secret_needs_tenant_and_client() -> None:
    with pytest.raises(ConfigError) as e:
        load(environ={"ARO_CLOUD_AZURE_CLIENT_SECRET": "s", "ARO_CLOUD_AZURE_CLIENT_ID": "c"})
    assert "cloud.azure.clientSecret: needs cloud.azure.tenantId" in str(e.value)


@pytest.mark.parametrize(
    ("endpoint", "scope"),
    [
        ("https://management.azure.com", "https://management.azure.com/.default"),
        ("https://management.azure.com/", "https://management.azure.com/.default"),
        ("https://management.usgovcloudapi.net", "https://management.core.usgovcloudapi.net/.default"),
        ("https://management.chinacloudapi.cn", "https://management.chinacloudapi.cn/.default"),
        ("https://arm.private.example:8443", "https://arm.private.example:8443/.default"),
    ],
)
def test_arm_token_scope_per_cloud(endpoint: str, scope: str) -> None:
    assert arm_scope(AzureConfig(arm_endpoint=endpoint)) == scope
    assert arm_scope(AzureConfig(arm_endpoint=endpoint, arm_scope="https://x/.default")) == "https://x/.default"


async def test_make_cloud_azure_mode(tmp_path: Path) -> None:
    base = {"ARO_DATA_DIRECTORY": str(tmp_path), "ARO_CLOUD_MODE": "azure", "ARO_LOCATION": "westeurope"}
    config = load(
        environ={
            **base,
            "ARO_CLOUD_AZURE_TENANT_ID": TENANT,
            "ARO_CLOUD_AZURE_CLIENT_ID": "c",
            "ARO_CLOUD_AZURE_CLIENT_SECRET": "s",
        }
    )
    cloud = make_cloud(config, None)
    try:
        assert isinstance(cloud, AzureCloud) and cloud.base_url == "https://management.azure.com"
        endpoint = cloud.cluster_endpoint("sub", "rg", "mydomain")
        assert endpoint.url == "https://api.mydomain.westeurope.aroapp.io:6443"
        assert cloud.cluster_endpoint("sub", "rg", "my.custom.example").url == "https://api.my.custom.example:6443"
        assert cloud.graph_store is None, "no blob storage configured: the graph step is skipped"
    finally:
        await cloud.close()

    templated = load(
        environ={
            **base,
            "ARO_CLOUD_AZURE_CLUSTER_ENDPOINT_TEMPLATE": "https://k.example/{resource_group}",
            "ARO_CLOUD_BLOB_ACCOUNT_URL": "https://acct.blob.core.windows.net",
        }
    )
    cloud = make_cloud(templated, None)
    try:
        assert cloud.cluster_endpoint("sub", "rg1", "d").url == "https://k.example/rg1"
        assert cloud.graph_store is not None
    finally:
        await cloud.close()


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"ARO_CLOUD_AZURE_ARM_ENDPOINT": "http://management.azure.com"}, "cloud.azure.armEndpoint"),
        (
            {
                "ARO_CLOUD_AZURE_AUTHORITY": "http://login.example",
                "ARO_CLOUD_AZURE_TENANT_ID": TENANT,
                "ARO_CLOUD_AZURE_CLIENT_ID": "c",
                "ARO_CLOUD_AZURE_CLIENT_SECRET": "s",
            },
            "cloud.azure",
        ),
    ],
)
def test_bad_azure_settings_are_config_errors(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    config = load(environ={"ARO_DATA_DIRECTORY": str(tmp_path), "ARO_CLOUD_MODE": "azure", **env})
    with pytest.raises(ConfigError) as e:
        make_cloud(config, None)
    assert needle in str(e.value)


async def test_simulator_mode_carries_the_graph_store_when_configured(tmp_path: Path) -> None:
    ensure_dev_serving_cert(tmp_path / "certs")
    config = load(
        environ={
            "ARO_DATA_DIRECTORY": str(tmp_path),
            "ARO_CLOUD_BLOB_CONNECTION_STRING": "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/a;",
        }
    )
    cloud = make_cloud(config, "https://127.0.0.1:1")
    try:
        assert cloud.graph_store is not None
    finally:
        await cloud.close()
