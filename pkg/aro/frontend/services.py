"""What the frontend's handlers use, in one frozen object on the app (``Services``), reached through one
typed dependency instead of untyped ``app.state`` reads."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from starlette.requests import HTTPConnection

from aro.api.kind import CatalogEntry, Kinds, ResourceKind
from aro.api.resource import Resource
from aro.backplane.service import Backplane
from aro.database.codec import SealedCodec, codecs_for
from aro.database.store import Doc, Store
from aro.env.config import Config
from aro.ledger.identity import DevelopmentIssuer, Identity
from aro.ledger.service import Ledger
from aro.util.crypto import Sealer
from aro.util.metrics import Metrics

H = TypeVar("H", bound=Resource)


@dataclass
class Readiness:
    """What must be true before /healthz/ready answers 200 (set by the process that hosts the app)."""

    store_open: bool = False
    backend_polling: bool = True  # a frontend-only process has no backend to wait for
    extra: dict[str, bool] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.store_open and self.backend_polling and all(self.extra.values())


class RenderCache:
    """Rendered GET bodies by (document key, etag, api-version). The etag changes on every write of the
    document, so an entry can never be stale; pollers of a resource (SDKs, the CLI) skip decode + render.
    Bounded (least recently used out first); secrets are never rendered, so never cached."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def get(self, key: str, etag: str, api_version: str) -> bytes | None:
        k = (key + "|" + api_version, etag)
        body = self._items.get(k)
        if body is not None:
            self._items.move_to_end(k)
        return body

    def put(self, key: str, etag: str, api_version: str, body: bytes) -> None:
        self._items[(key + "|" + api_version, etag)] = body
        if len(self._items) > self.size:
            self._items.popitem(last=False)


class Inspector(Protocol):
    """What the admin API reads beyond the store (the management cluster, the cluster APIs, the cloud's
    request log): built by ``aro.admin.inspect`` and handed in, so the frontend never imports the cloud.
    Both raise ``CloudError`` (404 when the kind has no such view)."""

    async def diagnostics(self, kind: ResourceKind[Any], doc: Doc) -> bytes:
        """A tar.gz of everything about one resource an SRE needs, secrets removed."""
        ...

    async def control_plane_metrics(self, kind: ResourceKind[Any], doc: Doc) -> str:
        """The control plane's metrics (Prometheus text), of the configured metrics set."""
        ...


@dataclass(frozen=True)
class Services:
    config: Config
    store: Store
    sealer: Sealer
    kinds: Kinds
    catalogs: Mapping[str, Sequence[CatalogEntry]]  # catalog kind name -> its entries
    metrics: Metrics
    readiness: Readiness
    codecs: Mapping[str, SealedCodec[Any]] = field(default_factory=dict)  # container -> codec
    render_cache: RenderCache = field(default_factory=RenderCache)
    inspector: Inspector | None = None  # None: the diagnostics and metrics routes answer 503
    ledger: Ledger | None = None  # the account ledger (/api/accounts_mgmt, telemetry, capability gate)
    identity: Identity | None = None  # bearer tokens of the ledger's API
    token_issuer: DevelopmentIssuer | None = None  # development: `aro login` tokens (POST /api/auth/token)
    backplane: Backplane | None = None  # the SRE backplane (/backplane/...); None: its routes answer 503

    def __post_init__(self) -> None:
        if not self.codecs:
            object.__setattr__(self, "codecs", codecs_for(self.kinds, self.sealer))

    def codec(self, kind: ResourceKind[H]) -> SealedCodec[H]:
        codec: SealedCodec[H] = self.codecs[kind.container_name]
        return codec


def services_of(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services
