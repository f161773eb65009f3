"""The snapshot stores (etcd backups of hosted clusters): Blob storage against Azurite, and the data-directory
default. Both seal the snapshot (no plaintext at rest), know their own URLs only, and refuse a snapshot
that was tampered with or moved to another name."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob.aio import BlobServiceClient

from aro.api.errors import CloudError
from aro.cloud.blob import BlobSnapshotStore
from aro.cloud.snapshots import FileSnapshotStore, SnapshotIntegrityError, SnapshotStore
from aro.env.config import BlobConfig
from aro.util.crypto import Sealer
from tests.azure.conftest import Azurite

SNAPSHOT = {"format": "test", "objects": {"secrets": [{"data": {"password": "aHVudGVyMg=="}, "note": "plain-77"}]}}
NAME = "hcp-etcd-snapshots/0b5e6c1e-0000-4000-8000-000000000001/0b5e6c1e-0000-4000-8000-000000000002.json"


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(os.urandom(32))


@pytest.fixture(params=["file", "blob"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, sealer: Sealer
) -> AsyncIterator[tuple[SnapshotStore, Any]]:
    """(the store, a function writing raw bytes under a name, for tampering)."""
    if request.param == "file":
        s: SnapshotStore = FileSnapshotStore(tmp_path / "snapshots", sealer)

        async def put_raw(name: str, data: bytes) -> None:
            (tmp_path / "snapshots" / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "snapshots" / name).write_bytes(data)

        async def get_raw(name: str) -> bytes:
            return (tmp_path / "snapshots" / name).read_bytes()

        yield s, (put_raw, get_raw)
        return
    azurite: Azurite = request.getfixturevalue("azurite")
    container = f"snap{abs(hash(request.node.name)) % 10**8}"
    s = BlobSnapshotStore.from_config(
        BlobConfig(connection_string=azurite.connection_string, container=container), sealer
    )

    async def put_raw_blob(name: str, data: bytes) -> None:
        async with BlobServiceClient.from_connection_string(azurite.connection_string) as svc:
            await svc.get_blob_client(container, name).upload_blob(data, overwrite=True)

    async def get_raw_blob(name: str) -> bytes:
        async with BlobServiceClient.from_connection_string(azurite.connection_string) as svc:
            return bytes(await (await svc.get_blob_client(container, name).download_blob()).readall())

    yield s, (put_raw_blob, get_raw_blob)
    await s.close()


async def test_save_load_and_the_url(store: tuple[SnapshotStore, Any]) -> None:
    s, (_, get_raw) = store
    url = await s.save(NAME, SNAPSHOT)
    assert url == s.url_of(NAME) and url.endswith("/" + NAME)
    assert url.startswith(("file://", "http://", "https://"))
    assert s.name_of(url) == NAME
    assert await s.save(NAME, SNAPSHOT) == url  # a step run again: overwritten, same URL
    assert await s.load(url) == SNAPSHOT
    raw = await get_raw(NAME)
    assert raw.startswith(b"enc:v1:") and b"plain-77" not in raw and b"aHVudGVyMg" not in raw


async def test_only_its_own_urls(store: tuple[SnapshotStore, Any]) -> None:
    s, _ = store
    url = s.url_of(NAME)
    for other in (
        "https://elsewhere.example.com/aro/" + NAME,
        url.replace(NAME, "../" + NAME),
        url[: url.index(NAME)] + "x/../" + NAME,
        "file:///tmp/" + NAME,
    ):
        assert s.name_of(other) is None, other
        with pytest.raises(CloudError) as info:
            await s.load(other)
        assert info.value.status == 400 and "not in this resource provider's snapshot store" in info.value.message
    with pytest.raises(CloudError) as info:
        await s.load(s.url_of(NAME.replace("0002.json", "0003.json")))
    assert info.value.status == 400 and "does not exist" in info.value.message


async def test_tampered_or_moved_snapshots_do_not_open(store: tuple[SnapshotStore, Any]) -> None:
    s, (put_raw, get_raw) = store
    await s.save(NAME, SNAPSHOT)
    raw = bytearray(await get_raw(NAME))
    moved = NAME.replace("0002.json", "0009.json")
    await put_raw(moved, bytes(raw))  # a valid snapshot under another name
    with pytest.raises(SnapshotIntegrityError):
        await s.load(s.url_of(moved))
    raw[40] = ord("A") if raw[40] != ord("A") else ord("B")
    await put_raw(NAME, bytes(raw))
    with pytest.raises(SnapshotIntegrityError) as info:
        await s.load(s.url_of(NAME))
    assert info.value.status == 400 and "failed authentication" in info.value.message


def test_names_are_checked(tmp_path: Path, sealer: Sealer) -> None:
    s = FileSnapshotStore(tmp_path, sealer)
    for bad in ("", "/abs", "a/../b", "a//b", ".hidden", "a b"):
        with pytest.raises(ValueError):
            s.url_of(bad)
