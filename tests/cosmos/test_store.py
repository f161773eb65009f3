"""CosmosStore beyond the shared contract: how it sets up (development creates, production verifies, one-line
errors), what it stores, TLS settings, and 429 throttling; `aro` start-up in database.mode cosmos."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import azure.identity.aio
import pytest
from azure.core.credentials import AccessToken
from azure.cosmos import PartitionKey
from azure.cosmos.aio import CosmosClient

from aro.database import Conflict
from aro.database.cosmos import COSMOS_SYSTEM_PROPERTIES, CosmosSetupError, CosmosStore
from aro.env import load
from aro.run import open_store
from aro.util.pki import ensure_dev_serving_cert
from tests.conftest import ARO, REPO
from tests.database import cosmos_server as local_cosmos
from tests.database.cosmos_server import CosmosServer
from tests.database.targets import CONTAINERS, ITEMS


def store_for(server: CosmosServer, database: str, **kw: Any) -> CosmosStore:
    options: dict[str, Any] = {"key": server.key, "ca_file": str(server.ca_file), **kw}
    return CosmosStore(server.endpoint, CONTAINERS, database=database, **options)


def raw_client(server: CosmosServer) -> CosmosClient:
    return CosmosClient(server.endpoint, server.key, connection_verify=False)


async def test_documents_carry_etag_and_ts_but_no_cosmos_system_properties(cosmos_server: CosmosServer) -> None:
    db = cosmos_server.new_database()
    store = await store_for(cosmos_server, db).open()
    try:
        items = store.container(ITEMS.name)
        doc = await items.create({"id": "a", "partitionKey": "p", "key": "/a", "etag": "mine", "ts": 1})
        got = await items.get("p", "a")
        assert got == doc and doc["etag"] != "mine" and doc["ts"] > 1
        assert not set(COSMOS_SYSTEM_PROPERTIES) & set(doc)
    finally:
        await store.close()
    async with raw_client(cosmos_server) as client:
        raw = await client.get_database_client(db).get_container_client(ITEMS.name).read_item("a", partition_key="p")
    assert "etag" not in raw and "ts" not in raw, "our etag/ts are Cosmos's _etag/_ts, never stored twice"
    assert raw["_etag"] == doc["etag"] and raw["_ts"] == doc["ts"]


async def test_changing_key_to_an_existing_one_is_a_conflict(cosmos_server: CosmosServer) -> None:
    store = await store_for(cosmos_server, cosmos_server.new_database()).open()
    try:
        items = store.container(ITEMS.name)
        await items.create({"id": "a", "partitionKey": "p", "key": "/a"})
        b = await items.create({"id": "b", "partitionKey": "p", "key": "/b"})
        with pytest.raises(Conflict):
            await items.replace({**b, "key": "/a"})
    finally:
        await store.close()


async def test_production_mode_verifies_and_names_what_is_missing(cosmos_server: CosmosServer) -> None:
    db = cosmos_server.new_database("prod")
    with pytest.raises(CosmosSetupError, match=f"has no database '{db}'") as e:
        await store_for(cosmos_server, db, create=False).open()
    assert "\n" not in str(e.value)
    async with raw_client(cosmos_server) as client:
        database = await client.create_database(db)
        await database.create_container(ITEMS.name, partition_key=PartitionKey("/partitionKey"))
        with pytest.raises(CosmosSetupError, match=f"container '{ITEMS.name}' lacks the unique key policy /key"):
            await store_for(cosmos_server, db, create=False).open()
        await database.delete_container(ITEMS.name)
        await database.create_container(ITEMS.name, partition_key=PartitionKey("/id"))
        with pytest.raises(CosmosSetupError, match=f"container '{ITEMS.name}' is partitioned by"):
            await store_for(cosmos_server, db, create=False).open()
    dev = await store_for(cosmos_server, cosmos_server.new_database("dev")).open()  # development: created
    await dev.close()


async def test_open_store_in_production_mode_does_not_create(cosmos_server: CosmosServer, tmp_path: Path) -> None:
    db = cosmos_server.new_database("prod")
    tls = {f"ARO_FRONTEND_TLS_{k}": str(tmp_path / k) for k in ("CERT_FILE", "KEY_FILE", "CA_FILE")}
    subjects = {"ARO_FRONTEND_AUTH_ARM_CLIENT_SUBJECT": "arm", "ARO_FRONTEND_AUTH_ADMIN_CLIENT_SUBJECT": "admin"}
    subjects["ARO_CLOUD_SIMULATOR_HOSTED_IN_PRODUCTION"] = "true"
    config = load(environ={**cosmos_server.env(db), **tls, **subjects, "ARO_MODE": "production"})
    with pytest.raises(CosmosSetupError, match=f"has no database '{db}'"):
        await open_store(config)
    store = await open_store(load(environ=cosmos_server.env(db)))  # development mode creates it
    await store.close()
    await (await open_store(config)).close()  # now production mode finds everything


async def test_tls_is_verified_against_the_configured_ca(cosmos_server: CosmosServer, tmp_path: Path) -> None:
    other_ca = ensure_dev_serving_cert(tmp_path / "other").ca_file
    started = time.monotonic()
    with pytest.raises(CosmosSetupError, match="cannot reach Cosmos DB"):
        await CosmosStore(
            cosmos_server.endpoint, CONTAINERS, database="x", key=cosmos_server.key, ca_file=str(other_ca)
        ).open()
    print(f"\nwrong CA refused in {time.monotonic() - started:.1f}s")
    store = await CosmosStore(
        cosmos_server.endpoint, CONTAINERS, database=cosmos_server.new_database(), key=cosmos_server.key, verify=False
    ).open()
    await store.close()


@pytest.fixture(scope="module")
def throttling_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CosmosServer]:
    server = local_cosmos.start(tmp_path_factory.mktemp("throttling"), "--throttle-every", "2")
    yield server
    server.stop()


async def test_throttled_requests_are_retried_after_the_servers_delay(throttling_server: CosmosServer) -> None:
    store = await store_for(throttling_server, throttling_server.new_database()).open()
    try:
        items = store.container(ITEMS.name)
        for i in range(10):  # every second document request answers 429 (x-ms-retry-after-ms: 20)
            doc = await items.create({"id": f"d{i}", "partitionKey": "p", "key": f"/t/{i}", "state": "Creating"})
            await items.replace({**doc, "n": i})
        assert await items.count(prefix="/t/") == 10
        assert len((await items.list_page(prefix="/t/", max_items=5)).items) == 5
        assert await items.dequeue("owner", 30) is not None
    finally:
        await store.close()


def test_aro_refuses_cosmos_mode_without_an_endpoint(tmp_path: Path) -> None:
    env = {"ARO_DATABASE_MODE": "cosmos", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [*ARO, "backend", "--data-dir", str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "aro: configuration error: database.cosmos.endpoint: required when database.mode is cosmos"
    )


class FakeCredential:
    """Stands in for DefaultAzureCredential (the local server accepts any bearer token)."""

    instances: list[FakeCredential] = []

    def __init__(self) -> None:
        self.scopes: list[str] = []
        self.closed = False
        FakeCredential.instances.append(self)

    async def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.scopes += scopes
        return AccessToken("fake-token", int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


async def test_without_a_key_azure_identity_is_used(
    cosmos_server: CosmosServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", FakeCredential)
    store = await store_for(cosmos_server, cosmos_server.new_database(), key=None).open()
    try:
        await store.container(ITEMS.name).create({"id": "a", "partitionKey": "p"})
    finally:
        await store.close()
    (credential,) = FakeCredential.instances
    assert credential.scopes and all(s.endswith("/.default") for s in credential.scopes)
    assert credential.closed, "the store closes the credential it made"
