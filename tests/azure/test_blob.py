"""The encrypted install graph in blob storage, against Azurite (see conftest for version and flags)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from azure.storage.blob.aio import BlobServiceClient

from aro.cloud.blob import GraphIntegrityError, GraphStore
from aro.env.config import BlobConfig
from aro.util.crypto import Sealer
from tests.azure.conftest import ACCOUNT_KEY, Azurite

GRAPH = {
    "*tls.RootCA": {"cert": "-----BEGIN CERTIFICATE-----\nMIIB...", "key": "-----BEGIN PRIVATE KEY-----\nsecretkey"},
    "*kubeconfig.AdminClient": "apiVersion: v1\nkind: Config\nusers: [{name: admin}]\n",
    "*password.KubeadminPassword": "abcde-fghij-klmno-pqrst",
    "*bootstrap.Bootstrap": {"ignition": {"version": "3.2.0"}, "storage": {"files": []}},
}


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(os.urandom(32))


@pytest.fixture
async def store(azurite: Azurite, sealer: Sealer, request: pytest.FixtureRequest) -> AsyncIterator[GraphStore]:
    container = f"aro{abs(hash(request.node.name)) % 10**8}"  # one container per test
    s = GraphStore.from_config(BlobConfig(connection_string=azurite.connection_string, container=container), sealer)
    yield s
    await s.close()


async def raw_blob(azurite: Azurite, container: str, name: str) -> bytes:
    async with BlobServiceClient.from_connection_string(azurite.connection_string) as svc:
        return bytes(await (await svc.get_blob_client(container, name).download_blob()).readall())


async def put_raw_blob(azurite: Azurite, container: str, name: str, data: bytes) -> None:
    async with BlobServiceClient.from_connection_string(azurite.connection_string) as svc:
        await svc.get_blob_client(container, name).upload_blob(data, overwrite=True)


async def test_write_then_read_back_equal_and_idempotent(store: GraphStore) -> None:
    assert await store.load_graph("c1-abcde") is None
    await store.save_graph("c1-abcde", GRAPH)
    await store.save_graph("c1-abcde", GRAPH)  # a re-run after a crash: same outcome
    assert await store.load_graph("c1-abcde") == GRAPH
    await store.delete_graph("c1-abcde")
    await store.delete_graph("c1-abcde")
    assert await store.load_graph("c1-abcde") is None


async def test_the_blob_holds_ciphertext_only(store: GraphStore, azurite: Azurite) -> None:
    await store.save_graph("c2-abcde", GRAPH)
    raw = await raw_blob(azurite, store.container_name, "c2-abcde/graph")
    assert raw.startswith(b"enc:v1:")
    for plain in (b"secretkey", b"abcde-fghij-klmno-pqrst", b"BEGIN", b"kubeconfig", b"ignition"):
        assert plain not in raw, f"{plain!r} stored in plaintext"


async def test_tampered_or_moved_blob_is_a_clear_error(store: GraphStore, azurite: Azurite) -> None:
    await store.save_graph("c3-abcde", GRAPH)
    raw = bytearray(await raw_blob(azurite, store.container_name, "c3-abcde/graph"))
    raw[40] = ord("A") if raw[40] != ord("A") else ord("B")  # flip one base64 character of the ciphertext
    await put_raw_blob(azurite, store.container_name, "c3-abcde/graph", bytes(raw))
    with pytest.raises(GraphIntegrityError) as e:
        await store.load_graph("c3-abcde")
    assert "failed authentication" in e.value.message and "c3-abcde/graph" in e.value.message

    await store.save_graph("c4-abcde", GRAPH)  # a valid graph copied under another cluster's name
    await put_raw_blob(
        azurite, store.container_name, "c5-abcde/graph", await raw_blob(azurite, store.container_name, "c4-abcde/graph")
    )
    with pytest.raises(GraphIntegrityError):
        await store.load_graph("c5-abcde")

    await put_raw_blob(azurite, store.container_name, "c6-abcde/graph", b"\xff\xfe not even text")
    with pytest.raises(GraphIntegrityError):
        await store.load_graph("c6-abcde")


async def test_another_key_cannot_open_it(store: GraphStore, azurite: Azurite) -> None:
    await store.save_graph("c7-abcde", GRAPH)
    cfg = BlobConfig(account_url=azurite.account_url, account_key=ACCOUNT_KEY, container=store.container_name)
    other = GraphStore.from_config(cfg, Sealer(os.urandom(32)))
    try:
        with pytest.raises(GraphIntegrityError) as e:
            await other.load_graph("c7-abcde")
        assert "secrets.keyFile" in e.value.message
    finally:
        await other.close()


def test_not_configured_means_no_store(tmp_path: Path) -> None:
    from aro.cloud.azure import graph_store_for
    from aro.env.config import load

    assert not BlobConfig().configured
    config = load(environ={"ARO_DATA_DIRECTORY": str(tmp_path)})
    assert graph_store_for(config, Sealer(os.urandom(32))) is None


def test_missing_azurite_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.azure.conftest import _unavailable

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        _unavailable("azurite missing")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _unavailable("azurite missing")
