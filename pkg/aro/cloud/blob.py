"""Blob storage for a cluster's install "graph" (as ARO persists the installer's assets).

The graph -- the install assets (PKI, kubeconfig, ignition config, ...) as a JSON object -- is sealed
with the RP's AES-GCM ``Sealer`` and written to container ``aro`` (configurable), blob ``{infraId}/graph``::

    store = GraphStore.from_config(config.cloud.blob, sealer, credential)
    await store.save_graph("mycluster-abcde", {"clusterPki": {...}, "adminKubeconfig": "..."})
    graph = await store.load_graph("mycluster-abcde")   # None if absent
    await store.close()

- Writing is idempotent: the container is created if missing, the blob overwritten (the plaintext is a
  pure function of the cluster document, so a re-run after a crash writes the same graph).
- The blob holds ``enc:v1:<base64url(nonce || ciphertext+tag)>`` (see ``aro.util.crypto``) with the blob's
  name as associated data, so a blob copied to another cluster's name does not open either. A tampered or
  truncated blob, or one sealed under another ``secrets.keyFile``, raises ``GraphIntegrityError``.
- Storage failures surface as ``CloudError`` (503 ``ServiceUnavailable`` when unreachable).
- Authentication: a connection string, or the account URL with a shared key, or with an azure-identity
  credential (the RP's own in ``cloud.mode: azure``; the identity needs "Storage Blob Data Contributor").

Install steps reach the store through the cloud they were given: ``ctx.cloud.graph_store`` (part of the
``Cloud`` protocol), None when blob storage is not configured (the step is skipped).

``BlobSnapshotStore`` keeps sealed snapshots (hosted clusters' etcd backups, ``aro.cloud.snapshots``) in the
same container; ``blob_service`` is the one place a ``cloud.blob`` section becomes a client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from aro.api.errors import CloudError
from aro.cloud import snapshots
from aro.util.crypto import DecryptError, Sealer

if TYPE_CHECKING:  # azure-storage-blob is imported when a client is made (~100 ms, unused without cloud.blob)
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.storage.blob import ContentSettings
    from azure.storage.blob.aio import BlobServiceClient, ContainerClient

    from aro.env.config import BlobConfig

__all__ = ["GRAPH_BLOB", "BlobSnapshotStore", "GraphIntegrityError", "GraphStore", "blob_service"]

GRAPH_BLOB = "graph"
GRAPH_VERSION = "1"


class GraphIntegrityError(CloudError):
    """The stored graph failed authentication: tampered with, truncated, or sealed under another key."""


def _storage_error(action: str, e: AzureError) -> CloudError:
    if isinstance(e, ServiceRequestError | ServiceResponseError):
        return CloudError(
            503, "ServiceUnavailable", f"Blob storage could not be reached while {action}: {e.message}", temporary=True
        )
    if isinstance(e, ClientAuthenticationError):
        return CloudError(500, "InternalServerError", f"Blob storage refused the RP's credential while {action}.")
    status = e.status_code if isinstance(e, HttpResponseError) and e.status_code else 500
    code = getattr(e, "error_code", None) or "InternalServerError"
    return CloudError(
        status if status >= 500 else 500,
        "InternalServerError",
        f"{action}: {code}: {e.message}",
        temporary=status in (408, 429) or status >= 500 and isinstance(e, HttpResponseError),
    )


def blob_service(
    blob: BlobConfig, credential: AsyncTokenCredential | None = None, ca_file: str | None = None
) -> tuple[BlobServiceClient, tuple[AsyncTokenCredential, ...]]:
    """The blob service of the ``cloud.blob`` config section, and the credentials made for it (closed by
    their owner). Without a connection string or an account key, ``credential`` authenticates (default: a
    new ``DefaultAzureCredential``)."""
    from azure.storage.blob.aio import BlobServiceClient

    kwargs: dict[str, Any] = {"connection_verify": ca_file} if ca_file else {}
    if blob.connection_string:
        return BlobServiceClient.from_connection_string(blob.connection_string, **kwargs), ()
    if not blob.account_url:
        raise ValueError("cloud.blob: set accountUrl or connectionString")
    if blob.account_key:
        return BlobServiceClient(blob.account_url, credential=blob.account_key, **kwargs), ()
    owned: tuple[AsyncTokenCredential, ...] = ()
    if credential is None:
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential(**kwargs)
        owned = (credential,)
    return BlobServiceClient(blob.account_url, credential=credential, **kwargs), owned


def _octet_stream() -> ContentSettings:
    from azure.storage.blob import ContentSettings

    return ContentSettings(content_type="application/octet-stream")


class GraphStore:
    def __init__(
        self,
        service: BlobServiceClient,
        sealer: Sealer,
        container: str = "aro",
        owned: tuple[AsyncTokenCredential, ...] = (),
    ) -> None:
        """``owned``: credentials closed with the store."""
        self._service = service
        self._container: ContainerClient = service.get_container_client(container)
        self._sealer = sealer
        self._owned = owned
        self._container_ready = False

    @classmethod
    def from_config(
        cls,
        blob: BlobConfig,
        sealer: Sealer,
        credential: AsyncTokenCredential | None = None,
        ca_file: str | None = None,
    ) -> GraphStore:
        """From the ``cloud.blob`` config section. Without a connection string or an
        account key, ``credential`` authenticates (default: a new ``DefaultAzureCredential``)."""
        service, owned = blob_service(blob, credential, ca_file)
        return cls(service, sealer, blob.container, owned)

    @staticmethod
    def blob_name(infra_id: str) -> str:
        if not infra_id or "/" in infra_id:
            raise ValueError(f"invalid infraId {infra_id!r}")
        return f"{infra_id}/{GRAPH_BLOB}"

    @property
    def container_name(self) -> str:
        return str(self._container.container_name)

    async def _ensure_container(self) -> None:
        if self._container_ready:
            return
        try:
            await self._container.create_container()
        except ResourceExistsError:
            pass
        except AzureError as e:
            raise _storage_error(f"creating container '{self.container_name}'", e) from e
        self._container_ready = True

    async def save_graph(self, infra_id: str, graph: Mapping[str, Any]) -> None:
        """Seal and write the graph (idempotent: creates the container, overwrites the blob)."""
        name = self.blob_name(infra_id)
        plaintext = json.dumps(graph, sort_keys=True, separators=(",", ":")).encode()
        sealed = self._sealer.seal(plaintext, self._context(name)).encode()
        await self._ensure_container()
        try:
            await self._container.upload_blob(
                name,
                sealed,
                overwrite=True,
                metadata={"arographversion": GRAPH_VERSION},
                content_settings=_octet_stream(),
            )
        except AzureError as e:
            raise _storage_error(f"writing blob '{self.container_name}/{name}'", e) from e

    async def load_graph(self, infra_id: str) -> dict[str, Any] | None:
        """Read and open the graph; None if there is none. Raises ``GraphIntegrityError`` if it does not
        authenticate."""
        name = self.blob_name(infra_id)
        where = f"'{self.container_name}/{name}'"
        try:
            downloader = await self._container.download_blob(name)
            raw = await downloader.readall()
        except ResourceNotFoundError:
            return None
        except AzureError as e:
            raise _storage_error(f"reading blob {where}", e) from e
        try:
            plaintext = self._sealer.open(raw.decode("ascii"), self._context(name))
            graph = json.loads(plaintext)
        except (DecryptError, UnicodeDecodeError, ValueError) as e:
            raise GraphIntegrityError(
                500,
                "InternalServerError",
                f"The install graph {where} failed authentication ({e}): it was tampered with or truncated, "
                "or sealed under another secrets.keyFile.",
            ) from e
        if not isinstance(graph, dict):
            raise GraphIntegrityError(500, "InternalServerError", f"The install graph {where} is not a JSON object.")
        return graph

    async def delete_graph(self, infra_id: str) -> None:
        """Delete the graph; absent: no-op."""
        try:
            await self._container.delete_blob(self.blob_name(infra_id))
        except ResourceNotFoundError:
            return
        except AzureError as e:
            raise _storage_error(f"deleting the graph of '{infra_id}'", e) from e

    @staticmethod
    def _context(name: str) -> bytes:
        return f"aro-install-graph:{name}".encode()

    async def close(self) -> None:
        await self._container.close()
        await self._service.close()
        for credential in self._owned:
            await credential.close()


class BlobSnapshotStore:
    """``aro.cloud.snapshots.SnapshotStore`` in Blob storage: blob ``{name}`` in the ``cloud.blob``
    container, sealed (see ``aro.cloud.snapshots``); the URL is the blob's."""

    def __init__(self, service: BlobServiceClient, sealer: Sealer, container: str = "aro", owned: Sequence[Any] = ()):
        self._service = service
        self._container: ContainerClient = service.get_container_client(container)
        self._sealer = sealer
        self._owned = tuple(owned)
        self._base = str(self._container.url).rstrip("/")
        self._container_ready = False

    @classmethod
    def from_config(
        cls,
        blob: BlobConfig,
        sealer: Sealer,
        credential: AsyncTokenCredential | None = None,
        ca_file: str | None = None,
    ) -> BlobSnapshotStore:
        service, owned = blob_service(blob, credential, ca_file)
        return cls(service, sealer, blob.container, owned)

    def url_of(self, name: str) -> str:
        return f"{self._base}/{quote(snapshots.check_name(name))}"

    def name_of(self, url: str) -> str | None:
        if not url.startswith(self._base + "/"):
            return None
        try:
            return snapshots.check_name(unquote(url[len(self._base) + 1 :]))
        except ValueError:
            return None

    async def save(self, name: str, snapshot: Mapping[str, Any]) -> str:
        data = snapshots.seal_snapshot(self._sealer, snapshots.check_name(name), snapshot)
        if not self._container_ready:
            try:
                await self._container.create_container()
            except ResourceExistsError:
                pass
            except AzureError as e:
                raise _storage_error(f"creating container '{self._container.container_name}'", e) from e
            self._container_ready = True
        try:
            await self._container.upload_blob(name, data, overwrite=True, content_settings=_octet_stream())
        except AzureError as e:
            raise _storage_error(f"writing snapshot '{name}'", e) from e
        return self.url_of(name)

    async def load(self, url: str) -> dict[str, Any]:
        name = self.name_of(url)
        if name is None:
            raise snapshots.not_ours(url)
        try:
            raw = await (await self._container.download_blob(name)).readall()
        except ResourceNotFoundError:
            raise snapshots.missing(url) from None
        except AzureError as e:
            raise _storage_error(f"reading snapshot '{name}'", e) from e
        return snapshots.open_snapshot(self._sealer, name, bytes(raw), f"'{name}'")

    async def close(self) -> None:
        await self._container.close()
        await self._service.close()
        for credential in self._owned:
            await credential.close()
