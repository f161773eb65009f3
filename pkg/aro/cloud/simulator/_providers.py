"""Resource providers, their registration per subscription, and the regions -- ARM's "what and where".

| request | answer |
|---|---|
| GET ``/providers`` / ``/providers/{ns}`` | 200 ``{"value": [provider]}`` / the provider (no registration state) |
| GET ``/subscriptions/{s}/providers`` / ``.../{ns}`` | the same with the subscription's ``registrationState`` |
| POST ``/subscriptions/{s}/providers/{ns}/register`` | 200 the provider, ``Registering`` (``Registered`` at once
  without a step delay, or when it is registered already) |
| POST ``/subscriptions/{s}/providers/{ns}/unregister`` | 200 the provider, ``Unregistering`` (likewise) |
| GET ``/subscriptions/{s}/locations`` | 200 ``{"value": [location]}`` |

An unknown namespace is 404 ``InvalidResourceNamespace``; a malformed subscription id 400
``InvalidSubscriptionId``. Any well-formed subscription id has registrations (the RP's customers bring their
own). ``Microsoft.RedHatOpenShift`` starts ``NotRegistered``, every other namespace ``Registered``; a
registration in flight settles on read once the simulator's step delay has passed (``provider_registrations``).

Registering (or unregistering) ``Microsoft.RedHatOpenShift`` sends the RP ARM's subscription lifecycle
notification (``PUT /subscriptions/{id}?api-version=2.0``, ``{"state": "Registered" | "Unregistered",
"registrationDate", "properties": {"tenantId", "registeredFeatures", ...}}``) through the front door
(``_frontdoor``) before the state changes: an RP that refuses or cannot be reached fails the call with its
error and the registration stays as it was. Re-registering re-sends it, as ARM does.

The resource types' api-versions are data, kept by hand: ``tests/cloud/test_simulator_providers.py`` checks
the ``Microsoft.RedHatOpenShift`` ones against what the RP serves.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._directory import RP_FIRST_PARTY_APP_ID, check_subscription_id
from ._errors import ArmError
from ._http import Request, Response

if TYPE_CHECKING:
    from ._app import SimulatorApp

ARO_NAMESPACE = "Microsoft.RedHatOpenShift"

SCHEMA = """
CREATE TABLE IF NOT EXISTS provider_registrations (
  subscription TEXT NOT NULL, namespace TEXT NOT NULL, state TEXT NOT NULL, due REAL, changed REAL NOT NULL,
  PRIMARY KEY (subscription, namespace));
"""

# (name, displayName, geography group, physical location)
REGIONS: tuple[tuple[str, str, str, str], ...] = (
    ("eastus", "East US", "US", "Virginia"),
    ("eastus2", "East US 2", "US", "Virginia"),
    ("centralus", "Central US", "US", "Iowa"),
    ("westus2", "West US 2", "US", "Washington"),
    ("westus3", "West US 3", "US", "Phoenix"),
    ("canadacentral", "Canada Central", "Canada", "Toronto"),
    ("northeurope", "North Europe", "Europe", "Ireland"),
    ("westeurope", "West Europe", "Europe", "Netherlands"),
    ("uksouth", "UK South", "UK", "London"),
    ("francecentral", "France Central", "Europe", "Paris"),
    ("germanywestcentral", "Germany West Central", "Europe", "Frankfurt"),
    ("australiaeast", "Australia East", "Asia Pacific", "New South Wales"),
    ("japaneast", "Japan East", "Asia Pacific", "Tokyo, Saitama"),
    ("southeastasia", "Southeast Asia", "Asia Pacific", "Singapore"),
)
_TRACKED = "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SupportsTags, SupportsLocation"


@dataclass(frozen=True)
class ResourceType:
    name: str
    api_versions: tuple[str, ...]  # newest first, as ARM lists them
    regional: bool = True  # located in every region (else global: no locations)
    capabilities: str = "None"


@dataclass(frozen=True)
class Provider:
    namespace: str
    resource_types: tuple[ResourceType, ...]
    registered_by_default: bool = True
    policy: str = "RegistrationRequired"


_ARO = ("2025-07-25", "2019-12-31-preview")
_HCP = ("2026-10-01",)
_NETWORK = ("2024-05-01", "2024-03-01", "2023-11-01", "2023-09-01", "2023-05-01", "2022-07-01", "2020-11-01")
_COMPUTE = ("2024-07-01", "2024-03-01", "2023-09-01", "2023-03-01", "2022-11-01")
_AUTHZ = ("2022-04-01", "2022-05-01-preview", "2020-10-01-preview", "2018-09-01-preview", "2015-07-01")
_MSI = ("2024-11-30", "2023-07-31-preview", "2023-01-31", "2018-11-30")
_RESOURCES = ("2024-11-01", "2024-03-01", "2023-07-01", "2022-12-01", "2022-09-01", "2021-04-01", "2020-06-01")
_STORAGE = ("2024-01-01", "2023-05-01", "2023-01-01", "2022-09-01", "2021-09-01")
PROVIDERS: dict[str, Provider] = {
    p.namespace.lower(): p
    for p in (
        Provider(
            ARO_NAMESPACE,
            (
                ResourceType("openShiftClusters", _ARO, capabilities=_TRACKED),
                ResourceType("hcpOpenShiftClusters", _HCP, capabilities=_TRACKED),
                ResourceType("hcpOpenShiftClusters/nodePools", _HCP, capabilities=_TRACKED),
                ResourceType("hcpOpenShiftClusters/externalAuths", _HCP),
                ResourceType("locations", _ARO + _HCP),
                ResourceType("locations/operationsstatus", _ARO),
                ResourceType("locations/operationresults", _ARO),
                ResourceType("locations/hcpOperationStatuses", _HCP),
                ResourceType("locations/hcpOperationResults", _HCP),
                ResourceType("locations/openShiftVersions", ("2025-07-25",)),
                ResourceType("locations/platformWorkloadIdentityRoleSets", ("2025-07-25",)),
                ResourceType("locations/hcpOpenShiftVersions", _HCP),
                ResourceType("locations/hcpOperatorIdentityRoleSets", _HCP),
                ResourceType("operations", _HCP + _ARO, regional=False),
            ),
            registered_by_default=False,
        ),
        Provider(
            "Microsoft.Network",
            (
                ResourceType("virtualNetworks", _NETWORK, capabilities=_TRACKED),
                ResourceType("virtualNetworks/subnets", _NETWORK),
                ResourceType("networkSecurityGroups", _NETWORK, capabilities=_TRACKED),
                ResourceType("routeTables", _NETWORK, capabilities=_TRACKED),
                ResourceType("loadBalancers", _NETWORK, capabilities=_TRACKED),
                ResourceType("publicIPAddresses", _NETWORK, capabilities=_TRACKED),
                ResourceType("networkInterfaces", _NETWORK, capabilities=_TRACKED),
                ResourceType("privateDnsZones", ("2024-06-01", "2020-06-01", "2018-09-01"), regional=False),
                ResourceType("dnszones", ("2023-07-01-preview", "2018-05-01"), regional=False),
                ResourceType("locations", _NETWORK, regional=False),
                ResourceType("operations", _NETWORK, regional=False),
            ),
        ),
        Provider(
            "Microsoft.Compute",
            (
                ResourceType("virtualMachines", _COMPUTE, capabilities=_TRACKED),
                ResourceType("virtualMachineScaleSets", _COMPUTE, capabilities=_TRACKED),
                ResourceType("virtualMachineScaleSets/virtualMachines", _COMPUTE),
                ResourceType("disks", ("2024-03-02", "2023-10-02", "2023-04-02", "2022-07-02"), capabilities=_TRACKED),
                ResourceType("locations", _COMPUTE, regional=False),
                ResourceType("operations", _COMPUTE, regional=False),
            ),
        ),
        Provider(
            "Microsoft.Storage",
            (
                ResourceType("storageAccounts", _STORAGE, capabilities=_TRACKED),
                ResourceType("locations", _STORAGE, regional=False),
                ResourceType("operations", _STORAGE, regional=False),
            ),
        ),
        Provider(
            "Microsoft.Authorization",
            (
                ResourceType("roleAssignments", _AUTHZ, regional=False),
                ResourceType("roleDefinitions", _AUTHZ, regional=False),
                ResourceType("permissions", ("2022-04-01", "2018-07-01", "2015-07-01"), regional=False),
                ResourceType("operations", _AUTHZ, regional=False),
            ),
            policy="RegistrationFree",
        ),
        Provider(
            "Microsoft.ManagedIdentity",
            (
                ResourceType("userAssignedIdentities", _MSI, capabilities=_TRACKED),
                ResourceType("userAssignedIdentities/federatedIdentityCredentials", _MSI),
                ResourceType("Identities", _MSI, regional=False),
                ResourceType("operations", _MSI, regional=False),
            ),
        ),
        Provider(
            "Microsoft.Resources",
            (
                ResourceType("resourceGroups", _RESOURCES),
                ResourceType("deployments", _RESOURCES),
                ResourceType("deployments/operations", _RESOURCES),
                ResourceType("subscriptions", _RESOURCES, regional=False),
                ResourceType("tenants", _RESOURCES, regional=False),
                ResourceType("providers", _RESOURCES, regional=False),
                ResourceType("operationStatuses", _RESOURCES, regional=False),
                ResourceType("operations", _RESOURCES, regional=False),
            ),
            policy="RegistrationFree",
        ),
    )
}


def _provider(namespace: str) -> Provider:
    found = PROVIDERS.get(namespace.lower())
    if found is None:
        raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace[:128]}' is invalid.")
    return found


def provider_json(p: Provider, scope: str, state: str | None) -> dict[str, Any]:
    """ARM's provider shape; ``scope``: "" (tenant level) or ``/subscriptions/{s}``."""
    regions = [r[1] for r in REGIONS]
    out: dict[str, Any] = {"id": f"{scope}/providers/{p.namespace}", "namespace": p.namespace}
    if p.namespace == ARO_NAMESPACE:
        out["authorizations"] = [{"applicationId": RP_FIRST_PARTY_APP_ID}]
    out["resourceTypes"] = [
        {
            "resourceType": t.name,
            "locations": regions if t.regional else [],
            "apiVersions": list(t.api_versions),
            "defaultApiVersion": next((v for v in t.api_versions if "preview" not in v), t.api_versions[0]),
            "capabilities": t.capabilities,
        }
        for t in p.resource_types
    ]
    if state is not None:
        out["registrationState"] = state
        out["registrationPolicy"] = p.policy
    return out


def location_json(sub: str, region: tuple[str, str, str, str]) -> dict[str, Any]:
    name, display, group, physical = region
    return {
        "id": f"/subscriptions/{sub}/locations/{name}",
        "name": name,
        "type": "Region",
        "displayName": display,
        "regionalDisplayName": f"({group}) {display}",
        "metadata": {
            "regionType": "Physical",
            "regionCategory": "Recommended",
            "geographyGroup": group,
            "physicalLocation": physical,
        },
    }


class Providers:
    """The provider routes; registration states in ``provider_registrations`` (``_db_*`` on the store's thread)."""

    def __init__(self, app: SimulatorApp) -> None:
        self.app = app
        self.store = app.store
        self.clock = time.time  # when registrations settle (tests move it)

    @staticmethod
    def handles(req: Request) -> bool:
        """``/providers[/{ns}]``, ``/subscriptions/{s}/providers[/{ns}]``, ``.../providers/{ns}/register|unregister``
        POST and ``/subscriptions/{s}/locations`` (what no resource route can be)."""
        lsegs, n = req.lsegs, len(req.lsegs)
        if lsegs[:1] == ["providers"]:
            return n <= 2
        if lsegs[:1] != ["subscriptions"] or n < 3:
            return False
        if n == 3:
            return lsegs[2] in ("providers", "locations")
        if lsegs[2] != "providers":
            return False
        return n == 4 or (n == 5 and req.method == "POST" and lsegs[4] in ("register", "unregister"))

    async def dispatch(self, req: Request) -> Response:
        if req.lsegs[0] == "providers":  # tenant level: no registration state
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on resource providers.")
            if len(req.segs) == 2:
                return Response(200, provider_json(_provider(req.segs[1]), "", None))
            return Response(200, {"value": [provider_json(p, "", None) for p in PROVIDERS.values()]})
        sub = check_subscription_id(req.segs[1]).lower()
        scope = f"/subscriptions/{sub}"
        n = len(req.segs)
        if n == 3 and req.lsegs[2] == "locations":
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on locations.")
            return Response(200, {"value": [location_json(sub, r) for r in REGIONS]})
        if n == 5:
            provider = _provider(req.segs[3])
            state = await self._register(sub, provider, req.lsegs[4] == "register")
            return Response(200, provider_json(provider, scope, state))
        if req.method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on resource providers.")
        if n == 4:
            provider = _provider(req.segs[3])
            return Response(200, provider_json(provider, scope, await self.state(sub, provider.namespace)))
        states = await self.store.run(self._db_states, sub, self.clock())
        value = [provider_json(p, scope, states[key]) for key, p in PROVIDERS.items()]
        return Response(200, {"value": value})

    async def state(self, sub: str, namespace: str) -> str:
        """The subscription's registration state of the namespace (for other modules: the front door may refuse
        an unregistered one as ARM does)."""
        states = await self.store.run(self._db_states, sub.lower(), self.clock())
        return states[_provider(namespace).namespace.lower()]

    async def _register(self, sub: str, provider: Provider, register: bool) -> str:
        if provider.namespace == ARO_NAMESPACE:
            # ARM tells the RP first; a refusal leaves the registration as it was
            await self.app.front_door.notify_subscription(sub, self.notification(register, time.time()))
        delay = self.app.config.step_delay_seconds
        namespace = provider.namespace.lower()
        return await self.store.run(self._db_register, sub, namespace, register, self.clock(), delay)

    def notification(self, register: bool, now: float) -> dict[str, Any]:
        """ARM's subscription lifecycle notification body (``PUT /subscriptions/{id}?api-version=2.0``)."""
        return {
            "state": "Registered" if register else "Unregistered",
            "registrationDate": email.utils.formatdate(now, usegmt=True),
            "properties": {
                "tenantId": self.app.config.tenant_id,
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "registeredFeatures": [],
                "spendingLimit": "Off",
                "managedByTenants": [],
            },
        }

    # -- the store ------------------------------------------------------------------------------------------

    def _db_states(self, sub: str, now: float) -> dict[str, str]:
        """Every namespace's state for the subscription, settling registrations whose time has come."""
        db = self.store.db
        db.execute(
            "UPDATE provider_registrations SET state = CASE state WHEN 'Registering' THEN 'Registered' ELSE "
            "'Unregistered' END, due = NULL, changed = ? WHERE subscription = ? AND due IS NOT NULL AND due <= ?",
            (now, sub, now),
        )
        rows = db.execute("SELECT namespace, state FROM provider_registrations WHERE subscription = ?", (sub,))
        stored = {r["namespace"]: r["state"] for r in rows}
        return {
            k: stored.get(k, "Registered" if p.registered_by_default else "NotRegistered") for k, p in PROVIDERS.items()
        }

    def _db_register(self, sub: str, namespace: str, register: bool, now: float, delay: float) -> str:
        current = self._db_states(sub, now)[namespace]
        final, moving = ("Registered", "Registering") if register else ("Unregistered", "Unregistering")
        if current == final or (current == "NotRegistered" and not register):
            return current
        state, due = (final, None) if delay <= 0 else (moving, now + delay)
        self.store.db.execute(
            "INSERT INTO provider_registrations (subscription, namespace, state, due, changed) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (subscription, namespace) DO UPDATE SET state = excluded.state, due = excluded.due,"
            " changed = excluded.changed",
            (sub, namespace, state, due, now),
        )
        return state
