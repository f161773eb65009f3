"""ARM's subscription lifecycle notification (``PUT /subscriptions/{id}?api-version=2.0``), validated as
ARM sends it; anything else is a 400 with ARM's error envelope and nothing is stored.

- api-version ``2.0`` only (400 ``InvalidResourceType`` otherwise, missing included);
- the body: a JSON object; ``state`` one of ``SubscriptionState``; ``registrationDate`` a string of at
  most ``MAX_TEXT`` characters; ``properties`` an object (or absent/null);
- ``properties.tenantId`` a GUID; ``locationPlacementId``, ``quotaId``, ``spendingLimit`` strings of at most
  ``MAX_TEXT`` characters; ``registeredFeatures`` a list of at most ``MAX_FEATURES`` ``{name, state}``
  objects of such strings; ``managedByTenants`` a list of at most ``MAX_TENANTS`` ``{tenantId: GUID}``;
  ``accountOwner`` (PII) an object, never kept. Other members of ``properties`` are not kept.
"""

from __future__ import annotations

import re
from typing import Any

from aro.api import errors
from aro.api.errors import CloudError
from aro.database.subscriptions import SubscriptionState

API_VERSION = "2.0"
MAX_TEXT = 256
MAX_FEATURES = 1000
MAX_TENANTS = 100
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_TEXT_PROPERTIES = ("locationPlacementId", "quotaId", "spendingLimit")


def _invalid(target: str, reason: str) -> CloudError:
    return CloudError(400, errors.INVALID_PARAMETER, f"The provided {target} is invalid: {reason}.", target)


def check_api_version(api_version: str) -> None:
    if api_version != API_VERSION:
        raise CloudError(
            400,
            errors.INVALID_RESOURCE_TYPE,
            f"The resource type 'subscriptions' could not be found for api version '{api_version[:32]}'. "
            f"The supported api-versions are '{API_VERSION}'.",
        )


def _text(value: Any, target: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _invalid(target, f"it must be a string of at most {MAX_TEXT} characters")
    return value


def _guid(value: Any, target: str) -> str:
    if not isinstance(value, str) or not value.isascii() or _GUID.match(value) is None:
        raise _invalid(target, "it must be a GUID")
    return value


def _list(value: Any, target: str, limit: int) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, dict) for v in value):
        raise _invalid(target, f"it must be a list of at most {limit} objects")
    return value


def _properties(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid("properties", "it must be a JSON object")
    out: dict[str, Any] = {}
    if value.get("tenantId") is not None:
        out["tenantId"] = _guid(value["tenantId"], "properties.tenantId")
    for name in _TEXT_PROPERTIES:
        if value.get(name) is not None:
            out[name] = _text(value[name], f"properties.{name}")
    if value.get("registeredFeatures") is not None:
        features = _list(value["registeredFeatures"], "properties.registeredFeatures", MAX_FEATURES)
        out["registeredFeatures"] = [
            {
                "name": _text(f.get("name"), f"properties.registeredFeatures[{i}].name"),
                "state": _text(f.get("state"), f"properties.registeredFeatures[{i}].state"),
            }
            for i, f in enumerate(features)
        ]
    if value.get("managedByTenants") is not None:
        tenants = _list(value["managedByTenants"], "properties.managedByTenants", MAX_TENANTS)
        out["managedByTenants"] = [
            {"tenantId": _guid(t.get("tenantId"), f"properties.managedByTenants[{i}].tenantId")}
            for i, t in enumerate(tenants)
        ]
    if value.get("accountOwner") is not None and not isinstance(value["accountOwner"], dict):
        raise _invalid("properties.accountOwner", "it must be a JSON object")
    return out


def check_notification(body: Any) -> tuple[SubscriptionState, dict[str, Any]]:
    """The notification's state and what may be kept of it (``state``, ``registrationDate``, the known
    ``properties``), or a 400."""
    if not isinstance(body, dict):
        raise CloudError(400, errors.INVALID_REQUEST_CONTENT, "The request content must be a JSON object.")
    state_value = body.get("state")
    try:
        state = SubscriptionState(state_value if isinstance(state_value, str) else "")
    except ValueError:
        shown = state_value[:64] if isinstance(state_value, str) else state_value if state_value is None else "?"
        raise CloudError(
            400,
            errors.INVALID_PARAMETER,
            f"The provided state '{shown}' is invalid; expected one of "
            + ", ".join(s.value for s in SubscriptionState)
            + ".",
            "state",
        ) from None
    kept: dict[str, Any] = {"state": state.value, "properties": _properties(body.get("properties"))}
    if body.get("registrationDate") is not None:
        kept["registrationDate"] = _text(body["registrationDate"], "registrationDate")
    return state, kept
