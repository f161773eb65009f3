"""The capability gate: a write that needs an organization capability (``ResourceKind.capabilities``,
``aro.api.capabilities``) passes only when the ledger's organization of the subscription's tenant has it."""

from __future__ import annotations

from typing import Any

from aro.api.capabilities import CAPABILITY_NOT_ENABLED
from aro.api.errors import CloudError
from aro.api.kind import ResourceKind
from aro.api.resource import Resource
from aro.frontend.arm import ArmRequest


async def require_capabilities(
    arm: ArmRequest, kind: ResourceKind[Any], new: Resource, current: Resource | None, parent: Resource | None
) -> None:
    """403 ``CapabilityNotEnabled`` when the write needs an organization capability (``kind.capabilities``)
    that the tenant's organization in the ledger lacks; nothing is written before this passes."""
    needs = kind.capabilities(new, current)
    if not needs:
        return
    ledger = arm.services.ledger
    if ledger is None:
        raise CloudError(503, "ServiceUnavailable", "The account ledger, which grants capabilities, is not running.")
    ref = parent.properties.ledger if parent is not None else None
    org, enabled = await ledger.capabilities(arm.subscription_id, ref.subscription_id if ref is not None else None)
    for need in needs:
        if need.capability not in enabled:
            raise CloudError(
                403,
                CAPABILITY_NOT_ENABLED,
                f"The organization '{org['id']}' (tenant '{org['organization']['external_id']}') does not have the "
                f"capability '{need.capability}', which {need.gates} requires. An SRE can enable it with a label: "
                f"POST /api/accounts_mgmt/v1/organizations/{org['id']}/labels "
                f'{{"key": "{need.capability}", "value": "true"}}.',
                need.target,
            )
