"""The simulator's own ARM error (it shares no code with the RP)."""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """Rendered as ``{"error": {"code", "message", "details"?}}`` with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


def not_found(what: str, rid: str) -> ArmError:
    return ArmError(404, "ResourceNotFound", f"The {what} '{rid}' was not found.")


def rg_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
