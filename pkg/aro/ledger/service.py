"""The ledger as the RP's processes use it: one object over the store (``Ledger``), with its settings.

The backend's steps reserve, record and release a cluster's subscription through it and learn where the
cluster must send telemetry; the frontend serves the AMS API, the telemetry upload and the capability gate
from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aro.api import capabilities
from aro.database import Doc, Store
from aro.database.subscriptions import Subscriptions as AzureSubscriptions
from aro.database.subscriptions import tenant_of
from aro.ledger.accounts import Accounts
from aro.ledger.labels import Labels
from aro.ledger.organizations import Organizations, is_tenant_id
from aro.ledger.subscriptions import Subscriptions
from aro.ledger.telemetry import TelemetryTokens
from aro.util.crypto import Sealer


@dataclass
class LedgerSettings:
    telemetry_seconds: float = 60.0
    stale_after_seconds: float = 3600.0
    archive_after_seconds: float = 7 * 86400.0
    sweep_seconds: float = 30.0
    telemetry_url: str | None = None  # None: clusters are not told to send telemetry
    telemetry_ca: str = ""  # PEM that verifies telemetry_url ("" = the system trust store)
    default_capabilities: Sequence[str] = field(default_factory=lambda: sorted(capabilities.NAMES))
    default_tenant_id: str = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class TelemetryTarget:
    """What a cluster is told (the ``aro-telemeter`` Secret): where and how often to report, and how."""

    url: str
    token: str
    interval_seconds: float
    ca: str


class Ledger:
    def __init__(self, store: Store, sealer: Sealer, settings: LedgerSettings) -> None:
        self.store = store
        self.settings = settings
        self.labels = Labels(store)
        self.organizations = Organizations(store, self.labels, settings.default_capabilities)
        self.subscriptions = Subscriptions(store)
        self.accounts = Accounts(store)
        self.tokens = TelemetryTokens(sealer)

    async def tenant(self, azure_subscription_id: str) -> str:
        """The Azure tenant of a subscription, as ARM registered it (else ``ledger.defaultTenantId``)."""
        tenant = tenant_of(await AzureSubscriptions(self.store).get(azure_subscription_id))
        return tenant if tenant and is_tenant_id(tenant) else self.settings.default_tenant_id

    async def organization_of(self, azure_subscription_id: str) -> Doc:
        return await self.organizations.for_tenant(await self.tenant(azure_subscription_id))

    async def capabilities(
        self, azure_subscription_id: str, subscription_id: str | None = None
    ) -> tuple[Doc, frozenset[str]]:
        """The organization of an Azure subscription's tenant and the capabilities it has."""
        org = await self.organization_of(azure_subscription_id)
        return org, await self.labels.capabilities(org["id"], subscription_id)

    def telemetry(self, organization_id: str) -> TelemetryTarget | None:
        s = self.settings
        if not s.telemetry_url:
            return None
        return TelemetryTarget(s.telemetry_url, self.tokens.issue(organization_id), s.telemetry_seconds, s.telemetry_ca)
