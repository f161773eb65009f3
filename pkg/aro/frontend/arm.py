"""ARM mechanics in one place: path facts, api-version lookup, body reading, responses, LRO headers.

Handlers receive an ``ArmRequest`` (a FastAPI dependency) and return ``reply(...)``; every error is a
``CloudError`` rendered by one exception handler (see app.py).

Where the ARM RPC leaves a choice, or we differ from ARO, deliberately:

- A PUT/PATCH/DELETE on a cluster in a non-terminal provisioningState is 400 ``RequestNotAllowed`` (the
  RPC allows 409 or 400; ARO answers 400), as are a PUT/PATCH after a failed create or delete ("Delete the
  cluster") and the credential actions while Creating or Deleting or after such a failure.
- A resource group name that fails ARM's rule is 404 ``ResourceGroupNotFound`` (ARO: 400): to the caller
  such a group does not exist, which is what ARM itself answers.
- A resource name that fails the rule is 400 ``InvalidResourceName`` on PUT/PATCH (ARO: 400
  ResourceNotFound, which hides why a create was refused) and 404 ``ResourceNotFound`` otherwise.
- An unknown or missing api-version is 400 ``InvalidResourceType`` (as ARO; ARM's front door would answer
  MissingApiVersionParameter / NoRegisteredProviderFound before we are called).
- ETag / If-Match / If-None-Match follow the RPC table (ARO ignores them).
- A body over ``frontend.maxBodyBytes`` (1 MiB) is 400 ``RequestBodyTooLarge`` (ARO: 400 InvalidResource);
  JSON with NaN/Infinity or nested deeper than MAX_JSON_DEPTH is 400 ``InvalidRequestContent``.
- ``$skipToken`` is sealed and bound to the subscription and the list that issued it: anything else 400.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from aro.api import errors
from aro.api.cluster import RESOURCE_PROVIDER, OpenShiftVersion
from aro.api.errors import CloudError
from aro.api.registry import VERSIONS
from aro.api.version import ValidationContext, Version
from aro.env.config import Config

RESOURCE_TYPE_LOWER = "openshiftclusters"
# ARM names: resource group (<= 90 chars) and resource (ARO's rule, after lower-casing). Both are ASCII:
# a value is checked with ``_ascii_match``, as ``str.lower`` maps some non-ASCII letters to ASCII ones
# (KELVIN SIGN -> "k"), which would let a non-ASCII name pass and alias an ASCII one.
_RX_NAME = re.compile(r"^[-a-z0-9_().]{0,89}[-a-z0-9_()]\Z")  # \Z: "$" also matches before a final "\n"
_RX_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# The same rules in either case, for the OpenAPI document.
NAME_PATTERN = r"^[-A-Za-z0-9_().]{0,89}[-A-Za-z0-9_()]$"
UUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"


def _ascii_match(rx: re.Pattern[str], value: str) -> bool:
    return value.isascii() and rx.match(value.lower()) is not None


JSON = "application/json"
MAX_JSON_DEPTH = 64  # ARM bodies nest < 10 levels


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
    return reply(err.status, err.envelope())


@dataclass(frozen=True)
class ArmRequest:
    """What every ARM route needs to know about its request."""

    request: Request
    config: Config
    path: str  # original casing
    segments: tuple[str, ...]  # original-casing path segments
    subscription_id: str  # lower-case
    api_version: str

    @property
    def method(self) -> str:
        return self.request.method

    def version(self) -> Version:
        v = VERSIONS.get(self.api_version)
        if v is None:
            raise invalid_api_version(self.api_version)
        return v

    def segment(self, index: int) -> str:
        return self.segments[index]

    # --- URLs --------------------------------------------------------------------------------------

    @property
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
        params = [(k, v) for k, v in _query_pairs(parts.query) if k.lower() not in {q.lower() for q in query}]
        params += list(query.items())
        path = parts.path if referer else self.path
        return urlunsplit((parts.scheme, parts.netloc, path, urlencode(params), ""))

    def operation_url(self, kind: str, operation_id: str) -> str:
        """Absolute URL of .../locations/{loc}/{operationsstatus|operationresults}/{id}."""
        return (
            f"{self.base_url}/subscriptions/{self.subscription_id}/providers/{RESOURCE_PROVIDER}"
            f"/locations/{self.config.location}/{kind}/{operation_id}?api-version={self.api_version}"
        )

    def async_headers(self, operation_id: str, *, location: bool) -> dict[str, str]:
        headers = {"Azure-AsyncOperation": self.operation_url("operationsstatus", operation_id)}
        if location:
            headers["Location"] = self.operation_url("operationresults", operation_id)
        return headers | self.retry_after()

    def retry_after(self) -> dict[str, str]:
        """``Retry-After`` (integer seconds) for a running async operation; none when configured 0."""
        retry = self.config.frontend.retry_after_seconds
        return {"Retry-After": str(retry)} if retry > 0 else {}

    # --- validation --------------------------------------------------------------------------------

    def validation_context(self, resource_id: str, resource_group: str, name: str) -> ValidationContext:
        """What api-version validation needs to know about a cluster named by this request."""
        catalog: Sequence[OpenShiftVersion] = self.request.app.state.catalog
        return ValidationContext(
            resource_id=resource_id,
            subscription_id=self.subscription_id,
            resource_group=resource_group,
            name=name,
            location=self.config.location,
            versions=tuple(v.version for v in catalog if v.enabled),
            default_version=next((v.version for v in catalog if v.default), ""),
        )

    # --- body --------------------------------------------------------------------------------------

    async def json_body(self, *, required: bool = True) -> Any:
        """The request body as JSON, with ARM's rules: 415 for a non-JSON content type, 400
        InvalidRequestContent for malformed JSON, 400 RequestBodyTooLarge over the limit. An empty body
        is None when not ``required``."""
        limit = self.config.frontend.max_body_bytes
        declared = self.request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise body_too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.request.stream():
            size += len(chunk)
            if size > limit:
                raise body_too_large(limit)
            chunks.append(chunk)
        raw = b"".join(chunks)
        content_type = self.request.headers.get("content-type", "")
        if not raw.strip():
            if content_type and not _is_json(content_type):
                raise unsupported_media_type(content_type)
            if required:
                raise CloudError(
                    400, errors.INVALID_REQUEST_CONTENT, "The request content was invalid: the body is empty."
                )
            return None
        if not _is_json(content_type):
            raise unsupported_media_type(content_type or "(none)")
        try:
            body = json.loads(raw, parse_constant=_reject_constant)
        except RecursionError:
            raise _invalid_content(f"it is nested deeper than {MAX_JSON_DEPTH} levels") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise _invalid_content(str(e)) from None
        if raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH and _too_deep(body):  # cheap test first
            raise _invalid_content(f"it is nested deeper than {MAX_JSON_DEPTH} levels")
        return body


def _invalid_content(reason: str) -> CloudError:
    return CloudError(
        400,
        errors.INVALID_REQUEST_CONTENT,
        f"The request content was invalid and could not be deserialized: {reason}.",
    )


def _reject_constant(name: str) -> Any:
    """NaN, Infinity and -Infinity are not JSON (RFC 8259), though Python's parser accepts them."""
    raise ValueError(f"'{name}' is not a valid JSON value")


def _too_deep(body: Any) -> bool:
    """True if ``body`` nests objects/arrays deeper than MAX_JSON_DEPTH (the recursive code downstream --
    merge patch, validation -- must never meet a RecursionError, which would be a 500)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _query_pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


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


def invalid_api_version(api_version: str, resource_type: str = "openShiftClusters") -> CloudError:
    supported = ", ".join(sorted(VERSIONS))
    return CloudError(
        400,
        errors.INVALID_RESOURCE_TYPE,
        f"The resource type '{resource_type}' could not be found in the namespace '{RESOURCE_PROVIDER}' "
        f"for api version '{api_version}'. The supported api-versions are '{supported}'.",
    )


def new_operation_id() -> str:
    return str(uuid.uuid4())


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
    if not _ascii_match(_RX_NAME, value):
        raise CloudError(404, errors.RESOURCE_GROUP_NOT_FOUND, f"Resource group '{value}' could not be found.")


def check_resource_name(value: str, method: str) -> None:
    if _ascii_match(_RX_NAME, value):
        return
    if method in ("PUT", "PATCH"):
        raise CloudError(
            400,
            "InvalidResourceName",
            f"The resource name '{value[:100]}' is invalid: use 1-90 letters, digits, '-', '_', '(', ')' "
            "or '.', not ending in '.'.",
        )
    raise CloudError(
        404,
        errors.RESOURCE_NOT_FOUND,
        f"The Resource 'Microsoft.RedHatOpenShift/openShiftClusters/{value[:100]}' was not found.",
    )


def check_operation_id(value: str) -> str:
    if not _ascii_match(_RX_UUID, value):
        raise CloudError(400, errors.INVALID_OPERATION_ID, f"The provided operation id '{value[:64]}' is invalid.")
    return value.lower()


def check_location(value: str, config: Config) -> None:
    if value.lower() != config.location.lower():
        raise CloudError(400, errors.INVALID_LOCATION, f"The provided location '{value}' is malformed or invalid.")


# Resource types (lower-case) of our namespace with routes: a path naming any other type gets 400.
KNOWN_TYPES = frozenset({RESOURCE_TYPE_LOWER, "locations", "deployments", "operations"})


def unrouted(path: str) -> CloudError:
    """The error for a path no route serves. As ARO's path validation: a path naming an ARM resource of
    another namespace -> 400 InvalidResourceNamespace, of an unknown type of ours -> 400
    InvalidResourceType (a malformed subscription id -> 400 InvalidSubscriptionID); else 404 NotFound."""
    segments = [s for s in path.split("/") if s]
    low = [s.lower() for s in segments]
    if len(low) >= 2 and low[0] == "subscriptions":
        try:
            check_subscription_id(segments[1])
        except CloudError as e:
            return e
        at = 4 if len(low) > 4 and low[2] == "resourcegroups" else 2
        if len(low) > at + 1 and low[at] == "providers":
            if low[at + 1] != RESOURCE_PROVIDER.lower():
                return CloudError(
                    400,
                    errors.INVALID_RESOURCE_NAMESPACE,
                    f"The resource namespace '{segments[at + 1][:100]}' is invalid.",
                )
            if len(low) > at + 2 and low[at + 2] not in KNOWN_TYPES:
                return CloudError(
                    400,
                    errors.INVALID_RESOURCE_TYPE,
                    f"The resource type '{segments[at + 2][:100]}' could not be found in the namespace "
                    f"'{RESOURCE_PROVIDER}'.",
                )
    return CloudError(404, errors.NOT_FOUND, "The requested path could not be found.")


async def _arm_request(  # async: a sync dependency runs in the anyio thread pool (~80 us a request)
    request: Request, api_version: Annotated[str | None, Query(alias="api-version")] = None
) -> ArmRequest:
    config: Config = request.app.state.config
    path: str = request.scope.get("aro.path", request.url.path)
    segments = tuple(s for s in path.split("/") if s)
    sub = check_subscription_id(segments[1]) if len(segments) > 1 and segments[0].lower() == "subscriptions" else ""
    return ArmRequest(request, config, path, segments, sub, api_version or "")


Arm = Annotated[ArmRequest, Depends(_arm_request)]
