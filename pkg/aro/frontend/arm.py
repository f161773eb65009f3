"""ARM mechanics in one place: path facts, named route parameters, body reading, preconditions,
``systemData``, responses, LRO headers -- for every resource type.

Handlers receive an ``ArmRequest`` (a FastAPI dependency) and return ``reply(...)``; every error is a
``CloudError`` rendered by one exception handler (see app.py). Route parameters are read by name from the
original-casing path (``ArmRequest.params``), never by position.

Where the ARM RPC leaves a choice, or we differ from ARO, deliberately:

- A write on a resource whose state does not allow it follows its kind's gate: for clusters 400
  ``RequestNotAllowed`` (the RPC allows 409 or 400; ARO answers 400, see ``aro.api.openshiftclusters``);
  for kinds on the shared default 409 ``Conflict``, as ARO-HCP answers (also for a child written while its
  parent is being created or deleted). A child of a missing parent is 404 ``ParentResourceNotFound``.
- A resource group name that fails ARM's rule is 404 ``ResourceGroupNotFound`` (ARO: 400): to the caller
  such a group does not exist, which is what ARM itself answers.
- A resource name that fails the rule is 400 ``InvalidResourceName`` on PUT/PATCH (ARO: 400
  ResourceNotFound, which hides why a create was refused) and 404 ``ResourceNotFound`` otherwise.
- An unknown or missing api-version is 400 ``InvalidResourceType`` (as ARO; ARM's front door would answer
  MissingApiVersionParameter / NoRegisteredProviderFound before we are called); api-versions are per
  resource type, and the message lists the type's own, by date.
- ETag / If-Match / If-None-Match follow the RPC table (ARO ignores them).
- A body over ``frontend.maxBodyBytes`` (1 MiB) is 400 ``RequestBodyTooLarge`` (ARO: 400 InvalidResource);
  JSON with NaN/Infinity or nested deeper than MAX_JSON_DEPTH is 400 ``InvalidRequestContent``.
- ``$skipToken`` is sealed and bound to the subscription and the list that issued it: anything else 400.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.kind import OperationFamily
from aro.api.resource import RESOURCE_PROVIDER, SystemData
from aro.api.template import template
from aro.api.validation import normalize_location
from aro.database import Doc
from aro.env.config import Config
from aro.frontend.body import JSON, BodyError, BodyProblem, read_json
from aro.frontend.services import Services, services_of
from aro.frontend.systemdata import HEADER as SYSTEM_DATA_HEADER
from aro.frontend.systemdata import parse_system_data

# ARM's resource group rule (<= 90 chars, ASCII: see aro.api.kind.NameRule on why) and UUIDs.
_RX_RESOURCE_GROUP = re.compile(r"^[-a-z0-9_().]{0,89}[-a-z0-9_()]\Z")  # \Z: "$" also matches before "\n"
_RX_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# The same rules in either case, for the OpenAPI document.
RESOURCE_GROUP_PATTERN = r"^[-A-Za-z0-9_().]{0,89}[-A-Za-z0-9_()]$"
UUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"


def _ascii_match(rx: re.Pattern[str], value: str) -> bool:
    return value.isascii() and rx.match(value.lower()) is not None


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    """The one way handlers answer: JSON body (or none), status, extra headers."""
    if body is None:
        return Response(status_code=status, headers=headers)
    return Response(json_bytes(body), status_code=status, media_type=JSON, headers=headers)


def reply_bytes(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    """``reply`` for a body already rendered to JSON bytes."""
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def error_response(err: CloudError) -> Response:
    return reply(err.status, err.envelope(), dict(err.headers) or None)


# --- the request ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArmRequest:
    """What every ARM route needs to know about its request."""

    request: Request
    services: Services
    path: str  # original casing
    params: Mapping[str, str]  # the route's named parameters, original casing
    subscription_id: str  # lower-case ("" outside a subscription)
    api_version: str

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def method(self) -> str:
        return self.request.method

    # --- URLs --------------------------------------------------------------------------------------

    @cached_property  # a PUT's two operation URLs need it: built once (a starlette URL costs ~10 us)
    def base_url(self) -> str:
        """scheme://host of the caller's view of the RP: from Referer (ARM sets it), else the request."""
        referer = self.request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            if parts.scheme in ("http", "https") and parts.netloc:
                return f"{parts.scheme}://{parts.netloc}"
        return str(self.request.base_url).rstrip("/")

    def self_url(self, **query: str) -> str:
        """Absolute URL of this request (from Referer when present) with ``query`` set/replaced."""
        referer = self.request.headers.get("referer")
        parts = urlsplit(referer) if referer else urlsplit(str(self.request.url))
        if not (parts.scheme and parts.netloc):
            parts = urlsplit(str(self.request.url))
        params = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in {q.lower() for q in query}
        ]
        params += list(query.items())
        path = parts.path if referer else self.path
        return urlunsplit((parts.scheme, parts.netloc, path, urlencode(params), ""))

    def operation_url(self, segment: str, operation_id: str) -> str:
        """Absolute URL of .../locations/{loc}/{segment}/{id} (an operation's status or result)."""
        return (
            f"{self.base_url}/subscriptions/{self.subscription_id}/providers/{RESOURCE_PROVIDER}"
            f"/locations/{self.config.location}/{segment}/{operation_id}?api-version={self.api_version}"
        )

    def async_headers(self, family: OperationFamily, operation_id: str, *, location: bool) -> dict[str, str]:
        headers = {"Azure-AsyncOperation": self.operation_url(family.status, operation_id)}
        if location:
            headers["Location"] = self.operation_url(family.result, operation_id)
        return headers | self.retry_after()

    def retry_after(self) -> dict[str, str]:
        """``Retry-After`` (integer seconds) for a running async operation; none when configured 0."""
        retry = self.config.frontend.retry_after_seconds
        return {"Retry-After": str(retry)} if retry > 0 else {}

    # --- body --------------------------------------------------------------------------------------

    async def json_body(self, *, required: bool = True) -> Any:
        """The request body as JSON, with ARM's rules: 415 for a non-JSON content type, 400
        InvalidRequestContent for malformed JSON, 400 RequestBodyTooLarge over the limit. An empty body
        is None when not ``required``."""
        limit = self.config.frontend.max_body_bytes
        try:
            return await read_json(self.request, limit, required=required)
        except BodyError as e:
            if e.problem is BodyProblem.TOO_LARGE:
                raise body_too_large(limit) from None
            if e.problem is BodyProblem.MEDIA_TYPE:
                raise unsupported_media_type(e.detail) from None
            if e.problem is BodyProblem.EMPTY:
                raise CloudError(
                    400, errors.INVALID_REQUEST_CONTENT, "The request content was invalid: the body is empty."
                ) from None
            raise _invalid_content(e.detail) from None


def _invalid_content(reason: str) -> CloudError:
    return CloudError(
        400,
        errors.INVALID_REQUEST_CONTENT,
        f"The request content was invalid and could not be deserialized: {reason}.",
    )


def body_too_large(limit: int) -> CloudError:
    return CloudError(
        400,
        errors.REQUEST_BODY_TOO_LARGE,
        f"The request body is larger than the limit of {limit} bytes.",
    )


def unsupported_media_type(content_type: str) -> CloudError:
    return CloudError(
        415,
        errors.UNSUPPORTED_MEDIA_TYPE,
        f"The content media type '{content_type}' is not supported. Only 'application/json' is supported.",
    )


def new_operation_id() -> str:
    return str(uuid.uuid4())


# --- preconditions and systemData -------------------------------------------------------------------------


def http_etag(doc: Doc) -> str:
    return f'"{doc["etag"]}"'


def _etag_matches(header: str, doc: Doc) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or http_etag(doc) in tags or doc["etag"] in tags or f"W/{http_etag(doc)}" in tags


def check_preconditions(request: Request, doc: Doc | None) -> None:
    """If-Match / If-None-Match per the ARM RPC table (412 PreconditionFailed)."""
    if_match = request.headers.get("if-match")
    if_none_match = request.headers.get("if-none-match")
    if if_match is not None and (doc is None or not _etag_matches(if_match, doc)):
        raise CloudError(
            412,
            errors.PRECONDITION_FAILED,
            "The condition specified by If-Match was not met: the resource has changed or does not exist.",
        )
    if if_none_match is not None and doc is not None and _etag_matches(if_none_match, doc):
        raise CloudError(
            412,
            errors.PRECONDITION_FAILED,
            "The condition specified by If-None-Match was not met: the resource already exists.",
        )


def system_data(request: Request, current: SystemData | None, creating: bool) -> SystemData | None:
    """Merge ARM's x-ms-arm-resource-system-data header (non-empty fields, validated by
    ``aro.frontend.systemdata``: 400 naming the header when bad) into the stored systemData."""
    header = parse_system_data(request.headers.get(SYSTEM_DATA_HEADER))
    if not header:
        return current
    merged = (current.model_copy() if current else SystemData()).model_dump(by_alias=True, exclude_none=True)
    for field in ("createdBy", "createdByType", "createdAt") if creating else ():
        if field in header:
            merged[field] = header[field]
    for field in ("lastModifiedBy", "lastModifiedByType", "lastModifiedAt"):
        if field in header:
            merged[field] = header[field]
    return SystemData.model_validate(merged)


# --- path validation -------------------------------------------------------------------------------


def check_subscription_id(value: str) -> str:
    if not _ascii_match(_RX_UUID, value):
        raise CloudError(
            400,
            errors.INVALID_SUBSCRIPTION_ID,
            f"The provided subscription identifier '{value}' is malformed or invalid.",
        )
    return value.lower()


def check_resource_group(value: str) -> None:
    if not _ascii_match(_RX_RESOURCE_GROUP, value):
        raise CloudError(404, errors.RESOURCE_GROUP_NOT_FOUND, f"Resource group '{value}' could not be found.")


def check_operation_id(value: str) -> str:
    if not _ascii_match(_RX_UUID, value):
        raise CloudError(400, errors.INVALID_OPERATION_ID, f"The provided operation id '{value[:64]}' is invalid.")
    return value.lower()


def check_location(value: str, config: Config) -> None:
    if normalize_location(value) != normalize_location(config.location):
        raise CloudError(400, errors.INVALID_LOCATION, f"The provided location '{value}' is malformed or invalid.")


_ARM_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)(?:/resourcegroups/(?P<rg>[^/]+))?"
    r"(?:/providers/(?P<namespace>[^/]+)(?:/(?P<type>[^/]+))?)?",
    re.IGNORECASE,
)


def unrouted(path: str, known_types: frozenset[str]) -> CloudError:
    """The error for a path no route serves. As ARO's path validation: a path naming an ARM resource of
    another namespace -> 400 InvalidResourceNamespace, of an unknown type of ours -> 400
    InvalidResourceType (a malformed subscription id -> 400 InvalidSubscriptionID); else 404 NotFound.
    ``known_types``: the lower-case type segments of our namespace that have routes."""
    m = _ARM_PATH.match(re.sub("/+", "/", path))
    if m is not None:
        try:
            check_subscription_id(m["sub"])
        except CloudError as e:
            return e
        namespace, rtype = m["namespace"], m["type"]
        if namespace is not None and namespace.lower() != RESOURCE_PROVIDER.lower():
            return CloudError(
                400, errors.INVALID_RESOURCE_NAMESPACE, f"The resource namespace '{namespace[:100]}' is invalid."
            )
        if namespace is not None and rtype is not None and rtype.lower() not in known_types:
            return CloudError(
                400,
                errors.INVALID_RESOURCE_TYPE,
                f"The resource type '{rtype[:100]}' could not be found in the namespace '{RESOURCE_PROVIDER}'.",
            )
    return CloudError(404, errors.NOT_FOUND, "The requested path could not be found.")


async def _arm_request(  # async: a sync dependency runs in the anyio thread pool (~80 us a request)
    request: Request, api_version: Annotated[str | None, Query(alias="api-version")] = None
) -> ArmRequest:
    path: str | None = request.scope.get("aro.path")
    if path is None:  # not behind ARMMiddleware (building ``request.url`` costs ~4 us: not on every request)
        path = request.url.path
    route = request.scope.get("route")
    params: dict[str, str] = {}
    route_path = getattr(route, "path", None)
    if isinstance(route_path, str):
        matched = template(route_path).match(path)
        if matched is not None:
            params = matched[0]
    sub = params.get("subscriptionId")
    return ArmRequest(
        request, services_of(request), path, params, check_subscription_id(sub) if sub else "", api_version or ""
    )


Arm = Annotated[ArmRequest, Depends(_arm_request)]
