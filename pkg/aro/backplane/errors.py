"""Backplane errors in backplane-api's shape: ``{"statusCode": N, "message": "..."}``."""

from __future__ import annotations

from typing import Any


class BackplaneError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"statusCode": self.status, "message": self.message}


def not_found(what: str) -> BackplaneError:
    return BackplaneError(404, what)
