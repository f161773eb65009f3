"""The client's errors: an ARM error from the RP (exit 1), a client-side failure (exit 1) or a usage error (exit 2)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure on the client's side (RP unreachable, unreadable file, ...): one line, then an optional hint."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CliError):
    """The command line (or client configuration) is wrong."""

    exit_code = EXIT_USAGE


@dataclass
class ArmError(Exception):
    """An ARM error body ``{"error": {code, message, target?, details?}}``, from an HTTP response (``status``)
    or from a failed asynchronous operation (``status`` None)."""

    code: str
    message: str
    target: str | None = None
    details: list[ArmError] = field(default_factory=list)
    status: int | None = None
    request_id: str | None = None
    hint: str | None = None  # what the user may do next (printed after the error)

    exit_code = EXIT_ERROR

    def __post_init__(self) -> None:
        super().__init__(f"({self.code}) {self.message}")

    @classmethod
    def from_error(cls, error: Any, status: int | None = None, request_id: str | None = None) -> ArmError:
        """From the inner ``error`` object (tolerating missing or malformed fields)."""
        if not isinstance(error, dict):
            return cls("Unknown", str(error), status=status, request_id=request_id)
        details = error.get("details")
        return cls(
            code=str(error.get("code") or "Unknown"),
            message=str(error.get("message") or ""),
            target=str(error["target"]) if error.get("target") else None,
            details=[cls.from_error(d) for d in details] if isinstance(details, list) else [],
            status=status,
            request_id=request_id,
        )

    @classmethod
    def from_response(cls, response: httpx.Response) -> ArmError:
        request_id = response.headers.get("x-ms-request-id")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return cls.from_error(body["error"], response.status_code, request_id)
        text = response.text.strip()
        reason = response.reason_phrase or "error"
        return cls(
            code=f"HTTP{response.status_code}",
            message=f"{response.status_code} {reason}" + (f": {text[:300]}" if text else ""),
            status=response.status_code,
            request_id=request_id,
        )
