"""Where the RP keeps snapshots (a hosted cluster's etcd backups): one JSON document per snapshot, sealed
with the RP's AES-GCM ``Sealer`` like the install graph (a snapshot holds the cluster's secrets), under a
name the caller chooses (``hcp-etcd-snapshots/{clusterId}/{backupId}.json``).

``SnapshotStore`` is the interface; ``cloud.snapshot_store`` is the RP's, next to ``graph_store``:

- ``BlobSnapshotStore`` (``aro.cloud.blob``) when ``cloud.blob`` is configured: blob ``{name}`` in the
  configured container; the URL is the blob's (https; http for a storage emulator).
- ``FileSnapshotStore`` otherwise (the embedded default): file ``{dataDirectory}/{name}``, written
  atomically (a temporary file, fsync, rename); the URL is ``file://`` + its absolute path. It is shared
  only by processes that share the data directory.

``save`` overwrites (a backup step that runs again after a crash writes the same name). ``name_of(url)``
says whether a URL is one of this store's (exactly its base, then a valid name): a restore opens nothing
else. ``load`` opens the sealed document with the name as associated data, so a snapshot copied to another
name, tampered with, or sealed under another key fails with ``SnapshotIntegrityError``; a missing one is a
400 ``InvalidRequestContent`` (the request named it).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, unquote

from aro.api import errors
from aro.api.errors import CloudError
from aro.util.crypto import DecryptError, Sealer

__all__ = ["FileSnapshotStore", "SnapshotIntegrityError", "SnapshotStore", "open_snapshot", "seal_snapshot"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*\Z")


class SnapshotIntegrityError(CloudError):
    """A stored snapshot failed authentication: tampered with, moved, or sealed under another key."""


class SnapshotStore(Protocol):
    def url_of(self, name: str) -> str: ...

    def name_of(self, url: str) -> str | None:
        """The name of the snapshot ``url`` points at in this store; None when it is not this store's."""
        ...

    async def save(self, name: str, snapshot: Mapping[str, Any]) -> str:
        """Seal and write (overwriting); returns the snapshot's URL."""
        ...

    async def load(self, url: str) -> dict[str, Any]:
        """Open the snapshot at ``url`` (400 when it is not this store's or is missing)."""
        ...

    async def close(self) -> None: ...


def check_name(name: str) -> str:
    if not _NAME.match(name) or ".." in name.split("/"):
        raise ValueError(f"invalid snapshot name {name!r}")
    return name


def _context(name: str) -> bytes:
    return f"aro-snapshot:{name}".encode()


def seal_snapshot(sealer: Sealer, name: str, snapshot: Mapping[str, Any]) -> bytes:
    plaintext = json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
    return sealer.seal(plaintext, _context(name)).encode()


def open_snapshot(sealer: Sealer, name: str, raw: bytes, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(sealer.open(raw.decode("ascii"), _context(name)))
    except (DecryptError, UnicodeDecodeError, ValueError) as e:
        raise SnapshotIntegrityError(
            400,
            errors.INVALID_REQUEST_CONTENT,
            f"The snapshot {where} failed authentication ({e}): it was not written by this resource provider "
            "under this name, or was tampered with.",
            "snapshotURL",
        ) from e
    if not isinstance(doc, dict):
        raise SnapshotIntegrityError(400, errors.INVALID_REQUEST_CONTENT, f"The snapshot {where} is not an object.")
    return doc


def not_ours(url: str) -> CloudError:
    return CloudError(
        400,
        errors.INVALID_REQUEST_CONTENT,
        f"The snapshot '{url[:200]}' is not in this resource provider's snapshot store.",
        "snapshotURL",
    )


def missing(url: str) -> CloudError:
    return CloudError(400, errors.INVALID_REQUEST_CONTENT, f"The snapshot '{url[:200]}' does not exist.", "snapshotURL")


class FileSnapshotStore:
    def __init__(self, root: Path, sealer: Sealer) -> None:
        self.root = Path(root).expanduser().resolve()
        self._sealer = sealer
        self._base = self.root.as_uri()

    def url_of(self, name: str) -> str:
        return f"{self._base}/{quote(check_name(name))}"

    def name_of(self, url: str) -> str | None:
        if not url.startswith(self._base + "/"):
            return None
        name = unquote(url[len(self._base) + 1 :])
        try:
            return check_name(name)
        except ValueError:
            return None

    def _write(self, name: str, data: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def save(self, name: str, snapshot: Mapping[str, Any]) -> str:
        data = seal_snapshot(self._sealer, check_name(name), snapshot)
        try:
            await asyncio.to_thread(self._write, name, data)
        except OSError as e:
            raise CloudError(500, errors.INTERNAL_SERVER_ERROR, f"Writing snapshot {name}: {e}") from e
        return self.url_of(name)

    async def load(self, url: str) -> dict[str, Any]:
        name = self.name_of(url)
        if name is None:
            raise not_ours(url)
        try:
            raw = await asyncio.to_thread((self.root / name).read_bytes)
        except FileNotFoundError:
            raise missing(url) from None
        except OSError as e:
            raise CloudError(500, errors.INTERNAL_SERVER_ERROR, f"Reading snapshot {name}: {e}") from e
        return open_snapshot(self._sealer, name, raw, f"'{name}'")

    async def close(self) -> None:
        return None
