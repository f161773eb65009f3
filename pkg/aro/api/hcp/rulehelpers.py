"""Small helpers the field rules of every hosted-cluster kind share (paths, enums, ranges, tags, ids)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from aro.api.errors import CloudError
from aro.api.hcp import checks
from aro.api.hcp.common import VersionProfile
from aro.api.hcp.fielderrors import FieldErrors
from aro.api.hcp.versioning import channel_groups
from aro.api.validation import check_tags


def key(base: str, k: str) -> str:
    return f"{base}['{k}']"


def idx(base: str, i: int) -> str:
    return f"{base}[{i}]"


def one_of(errs: FieldErrors, value: str, allowed: Collection[str], target: str, *, required: bool = True) -> None:
    if not value:
        if required:
            errs.required(target)
        return
    if value not in allowed:
        errs.invalid(target, value, "supported values: " + ", ".join(f"'{a}'" for a in allowed))


def channel_group(
    errs: FieldErrors, version: VersionProfile, old: VersionProfile | None, features: Collection[str], target: str
) -> bool:
    """A version profile's channel group: one the subscription may use, and not changed after creation.
    True when it is one the subscription may use."""
    allowed = channel_groups(features)
    channel = version.channel_group
    one_of(errs, channel, allowed, target)
    if old is not None and old.channel_group and channel in allowed and channel != old.channel_group:
        errs.invalid(target, channel, "changing the channel group after creation is not supported yet")
    return bool(channel) and channel in allowed


def in_range(errs: FieldErrors, value: int, target: str, low: int | None = None, high: int | None = None) -> None:
    if low is not None and value < low:
        errs.invalid(target, value, f"must be greater than or equal to {low}")
    elif high is not None and value > high:
        errs.invalid(target, value, f"must be less than or equal to {high}")


def max_len(errs: FieldErrors, value: str, target: str, limit: int) -> None:
    if len(value) > limit:
        errs.invalid(target, value, f"must be no more than {limit} characters")


def tags(errs: FieldErrors, values: Mapping[str, str]) -> None:
    try:
        check_tags(values)
    except CloudError as exc:
        errs.message(exc.target or "tags", exc.message)


def identity_type(errs: FieldErrors, value: str) -> None:
    one_of(errs, value, ("None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"), "identity.type")


def resource_id(
    errs: FieldErrors, value: str, target: str, resource_type: str, subscription: str, *, required: bool = False
) -> checks.ResourceId | None:
    """``value`` parsed when it is a well-formed id of ``resource_type`` in ``subscription``."""
    if not value:
        if required:
            errs.required(target)
        return None
    rid, reason = checks.resource_id_error(value, resource_type, subscription)
    if reason is not None:
        errs.invalid(target, value, reason)
        return None
    return rid
