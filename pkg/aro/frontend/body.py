"""Reading a JSON request body, bounded: one reader for every API the frontend serves (ARM, the ledger).
Each API turns a ``BodyError`` into its own error envelope."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from starlette.requests import Request

JSON = "application/json"
MAX_JSON_DEPTH = 64  # ARM and AMS bodies nest < 10 levels


class BodyProblem(StrEnum):
    TOO_LARGE = "too large"
    MEDIA_TYPE = "media type"
    EMPTY = "empty"
    INVALID = "invalid"


class BodyError(Exception):
    def __init__(self, problem: BodyProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


def plain_answer(e: BodyError) -> tuple[int, str]:
    """The status and message a non-ARM API (the ledger, the backplane) answers a bad body with."""
    if e.problem is BodyProblem.TOO_LARGE:
        return 413, e.detail
    if e.problem is BodyProblem.MEDIA_TYPE:
        return 415, f"The content type '{e.detail[:64]}' is not supported: send application/json"
    if e.problem is BodyProblem.EMPTY:
        return 400, "The request body is empty"
    return 400, f"The request body is not valid JSON: {e.detail[:200]}"


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


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


async def read_json(request: Request, limit: int, *, required: bool = True) -> Any:
    """The body as JSON: ``BodyError`` when it is over ``limit`` bytes (declared or sent), not JSON by its
    content type, empty while ``required`` (else None), malformed, NaN/Infinity or nested too deep."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise BodyError(BodyProblem.TOO_LARGE, f"The request body is larger than the limit of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(BodyProblem.TOO_LARGE, f"The request body is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    if not raw.strip():
        if content_type and not is_json(content_type):
            raise BodyError(BodyProblem.MEDIA_TYPE, content_type)
        if required:
            raise BodyError(BodyProblem.EMPTY, "the body is empty")
        return None
    if not is_json(content_type):
        raise BodyError(BodyProblem.MEDIA_TYPE, content_type or "(none)")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise BodyError(BodyProblem.INVALID, f"it is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BodyError(BodyProblem.INVALID, str(e)) from None
    if raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH and _too_deep(body):  # cheap test first
        raise BodyError(BodyProblem.INVALID, f"it is nested deeper than {MAX_JSON_DEPTH} levels")
    return body
