"""Static validation shared by every api-version of every resource type.

The request-envelope checks (``check_ids``, ``check_location``, ``check_provisioning_state``,
``check_tag_values``) look at the raw body; ``check_tags`` and the helpers below serve the field rules of
each hub type (``aro.api.clustervalidation`` for clusters), which check the internal resource an
api-version converted the request into, so every version enforces the same rules. Error targets are
external JSON paths, which all versions share (list elements by name: ``properties.workerProfiles['worker']``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from typing import Any

from aro.api.errors import (
    MISMATCHING_RESOURCE_ID,
    MISMATCHING_RESOURCE_NAME,
    MISMATCHING_RESOURCE_TYPE,
    CloudError,
    invalid_parameter,
)
from aro.api.external import TrackedResource, parse
from aro.api.immutable import change_not_allowed
from aro.api.resource import ProvisioningState, Resource
from aro.api.version import ValidationContext

MAX_TAGS = 50
MAX_TAG_KEY = 512
MAX_TAG_VALUE = 256
TAG_KEY_FORBIDDEN = set("<>%&\\?/")


# --- request envelope ---------------------------------------------------------------------------------


def normalize_location(location: str) -> str:
    """``East US`` and ``eastus`` name the same location."""
    return "".join(location.split()).lower()


def check_ids(body: Mapping[str, Any], ctx: ValidationContext) -> None:
    """``id``/``name``/``type`` in a body, if present, must match the URL (case-insensitively)."""
    for key, label, code, expected in (
        ("id", "ID", MISMATCHING_RESOURCE_ID, ctx.resource_id),
        ("name", "name", MISMATCHING_RESOURCE_NAME, ctx.name),
        ("type", "type", MISMATCHING_RESOURCE_TYPE, ctx.resource_type),
    ):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or value.casefold() != expected.casefold():
            raise CloudError(
                400,
                code,
                f"The provided resource {label} '{value}' did not match the name in the Url '{expected}'.",
                key,
            )


def check_location(location: str | None, ctx: ValidationContext) -> None:
    if not location or normalize_location(location) != normalize_location(ctx.location):
        raise invalid_parameter("location", f"The provided location '{location or ''}' is invalid.")


def check_provisioning_state(
    body: Mapping[str, Any], current: Resource | None, known: Collection[ProvisioningState] = tuple(ProvisioningState)
) -> None:
    """A ``properties.provisioningState`` in a request must name one of the ``known`` states (create: any,
    as ARO-RP; update: the current one)."""
    props = body.get("properties")
    value = props.get("provisioningState") if isinstance(props, dict) else None
    if value is None:
        return
    target = "properties.provisioningState"
    by_name = {s.value.casefold(): s for s in known}
    state = by_name.get(value.casefold()) if isinstance(value, str) else None
    if state is None:
        raise invalid_parameter(target, f"The provided provisioning state '{value}' is invalid.")
    if current is not None and state != current.properties.provisioning_state:
        raise change_not_allowed(target)


def check_tag_values(raw: Mapping[str, Any]) -> None:
    """Tags are replaced whole, so a ``null`` tag value is not a merge-patch deletion but a tag without a
    string value: 400 InvalidRequestContent (target ``tags.<key>``), as for any other non-string value.
    (The merge drops nulls, which would otherwise silently drop the tag, and with it the rest.)"""
    if isinstance(raw.get("tags"), dict):
        parse(TrackedResource, {"tags": raw["tags"]})


def check_tags(tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise invalid_parameter("tags", f"The number of tags ({len(tags)}) exceeds the maximum of {MAX_TAGS}.")
    for key, value in tags.items():
        bad = TAG_KEY_FORBIDDEN.intersection(key) or any(unicodedata.category(c) == "Cc" for c in key)
        if not key or len(key) > MAX_TAG_KEY or bad:
            raise invalid_parameter(
                "tags",
                f"The tag name '{key}' is invalid: it must be 1-{MAX_TAG_KEY} characters long and must not "
                "contain '<', '>', '%', '&', '\\', '?', '/' or control characters.",
            )
        if len(value) > MAX_TAG_VALUE:
            raise invalid_parameter("tags", f"The value of tag '{key}' is longer than {MAX_TAG_VALUE} characters.")


# --- helpers of the field rules -------------------------------------------------------------------------


def element_path(base: str, name: str, index: int) -> str:
    return f"{base}['{name}']" if name else f"{base}[{index}]"


def one_of(value: str, allowed: tuple[str, ...], target: str, what: str) -> None:
    if value not in allowed:
        raise invalid_parameter(target, f"The provided {what} '{value}' is invalid.")
