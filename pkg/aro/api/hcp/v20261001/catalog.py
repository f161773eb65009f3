"""The 2026-10-01 representation of the hosted-cluster catalogs: ``locations/{l}/hcpOpenShiftVersions`` and
``locations/{l}/hcpOperatorIdentityRoleSets`` entries, as ARM proxy resources."""

from __future__ import annotations

from typing import Any

from aro.api.hcp.catalog import HcpVersion, OperatorIdentityRoles, RoleSet
from aro.api.resource import RESOURCE_PROVIDER

VERSION_TYPE = f"{RESOURCE_PROVIDER}/locations/hcpOpenShiftVersions"
ROLE_SET_TYPE = f"{RESOURCE_PROVIDER}/locations/hcpOperatorIdentityRoleSets"


def _name(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


def render_version(entry: HcpVersion, resource_id: str) -> dict[str, Any]:
    return {
        "id": resource_id,
        "name": _name(resource_id),
        "type": VERSION_TYPE,
        "properties": {
            "channelGroup": entry.channel_group,
            "enabled": entry.enabled,
            "endOfLifeTimestamp": entry.end_of_life_timestamp,
        },
    }


def _operators(operators: list[OperatorIdentityRoles]) -> list[dict[str, Any]]:
    return [
        {
            "name": o.name,
            "required": o.required,
            "roleDefinitions": [{"name": r.name, "resourceId": r.resource_id} for r in o.role_definitions],
        }
        for o in operators
    ]


def render_role_set(entry: RoleSet, resource_id: str) -> dict[str, Any]:
    return {
        "id": resource_id,
        "name": _name(resource_id),
        "type": ROLE_SET_TYPE,
        "properties": {
            "controlPlaneOperators": _operators(entry.control_plane_operators),
            "dataPlaneOperators": _operators(entry.data_plane_operators),
        },
    }
