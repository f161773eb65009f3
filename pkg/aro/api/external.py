"""Helpers shared by the external api-version packages: the strict base model, request parsing and
JSON-path rendering.

External models are *strict*: a JSON string where an integer is expected (``"count": "three"``), a tag
value that is not a string or an unknown enum value is a 400 ``InvalidRequestContent`` whose ``target`` is
the JSON path of the offending value (``properties.workerProfiles[0].count``). Unknown fields are ignored.
Every field is optional at the type level; what a request must contain is the static validator's job.
The classic cluster's enums (``Visibility``, ``OutboundType``, ``Toggle``) are the exception: any string
parses (the OpenAPI document still lists the values) and the cluster's field rules refuse an unknown one
with ARO-RP's ``InvalidParameter`` message (``aro.api.clustervalidation``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel

from aro.api.cluster import IngressProfile, WorkerProfile
from aro.api.errors import INVALID_REQUEST_CONTENT, CloudError

# Lenient enums (see the module docstring): the schema lists the values, any string parses.
Visibility = Annotated[str, WithJsonSchema({"type": "string", "enum": ["Public", "Private"]})]
# "" is what clients send for "use the default" (the az CLI sends ``"outboundType": ""``).
OutboundType = Annotated[str, WithJsonSchema({"type": "string", "enum": ["", "Loadbalancer", "UserDefinedRouting"]})]
Toggle = Annotated[str, WithJsonSchema({"type": "string", "enum": ["", "Enabled", "Disabled"]})]
IdentityType = Literal["None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"]
ProvisioningStateName = Literal["Creating", "Updating", "AdminUpdating", "Deleting", "Succeeded", "Failed", "Canceled"]


class ExternalModel(BaseModel):
    """Base of every external (REST) model: camelCase JSON names, strict types, unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True, frozen=False
    )


class TrackedResource(ExternalModel):
    """The ARM tracked-resource envelope every cluster representation shares."""

    id: str | None = None
    name: str | None = None
    type: str | None = None
    location: str | None = None
    tags: dict[str, str] | None = None


M = TypeVar("M", bound=ExternalModel)
N = TypeVar("N", WorkerProfile, IngressProfile)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def render_path(loc: Sequence[int | str]) -> str:
    """``("properties", "workerProfiles", 0, "count")`` -> ``properties.workerProfiles[0].count``.

    String segments that are not plain identifiers (map keys such as resource ids) render as ``['key']``.
    """
    out = ""
    for seg in loc:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif _IDENT.match(seg):
            out += f".{seg}" if out else seg
        else:
            out += f"['{seg}']"
    return out


def require_object(body: Any) -> dict[str, Any]:
    """The request body must be a JSON object."""
    if not isinstance(body, dict):
        raise CloudError(
            400,
            INVALID_REQUEST_CONTENT,
            "The request content was invalid and could not be deserialized: the body must be a JSON object.",
        )
    return body


# Every integer of the REST APIs is an int32 in the published specs (format: int32); a larger value never
# reaches the field rules, the store or the backend. The field rules hold the tighter documented maximums.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _out_of_range(data: Any) -> tuple[str, int] | None:
    """The JSON path and value of the first integer outside int32 in ``data`` (iterative: no recursion)."""
    stack: list[tuple[tuple[int | str, ...], Any]] = [((), data)]
    while stack:
        loc, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((loc + (str(k),), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((loc + (i,), v) for i, v in enumerate(node))
        elif isinstance(node, int) and not isinstance(node, bool) and not INT32_MIN <= node <= INT32_MAX:
            return render_path(loc), node
    return None


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data`` against ``model``; the first type error, or an integer outside int32, becomes
    InvalidRequestContent."""
    bad = _out_of_range(data)
    if bad is not None:
        target, value = bad
        shown = str(value) if abs(value) < 10**20 else "the integer"  # never render thousands of digits
        raise CloudError(
            400,
            INVALID_REQUEST_CONTENT,
            f"The request content was invalid and could not be deserialized: the value of '{target}' is invalid: "
            f"{shown} is outside the range {INT32_MIN} to {INT32_MAX}.",
            target or None,
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        target = render_path(err["loc"])
        reason = _JSON_TYPES.get(err["type"], err["msg"])
        raise CloudError(
            400,
            INVALID_REQUEST_CONTENT,
            f"The request content was invalid and could not be deserialized: "
            f"the value of '{target}' is invalid: {reason}.",
            target or None,
        ) from None


# pydantic error types -> wording in JSON terms (pydantic's own mentions Python classes for some).
_JSON_TYPES = {
    "model_type": "Input should be a JSON object",
    "model_attributes_type": "Input should be a JSON object",
    "dict_type": "Input should be a JSON object",
    "list_type": "Input should be a JSON array",
    "string_type": "Input should be a string",
    "int_type": "Input should be an integer",
}


def prune(value: Any) -> Any:
    """A deep copy of ``value`` without None and empty-string members of objects (the newest ARO versions
    omit zero values). Empty objects and lists are kept: ``{"<identity id>": {}}`` is meaningful."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return copy.deepcopy(value)


def reuse_by_name(existing: Sequence[N], names: Sequence[str], factory: Callable[[], N]) -> list[N]:
    """One internal element per requested name: a deep copy of the existing element of that name (so fields
    this api-version does not know survive), else a new one."""
    by_name = {el.name: el for el in existing}
    out: list[N] = []
    for name in names:
        old = by_name.get(name)
        out.append(old.model_copy(deep=True) if old is not None else factory())
    return out


def or_empty(value: str | None) -> str:
    return value or ""


def or_none(value: str | None) -> str | None:
    """Zero value -> None, so renderers drop it."""
    return value or None
