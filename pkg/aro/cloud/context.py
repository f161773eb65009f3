"""Per-call request context: which lease owner and which step a cloud call is made for.

The backend sets it around each step; ``ArmCloud`` copies it onto every ARM and cluster-API request as
``x-aro-lease-owner`` / ``x-aro-step`` (the simulator logs them, which is how tests prove that no step ran
in two processes at once). It lives in a contextvar, so concurrent steps in one process don't mix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

LEASE_OWNER_HEADER = "x-aro-lease-owner"
STEP_HEADER = "x-aro-step"


@dataclass(frozen=True)
class RequestContext:
    lease_owner: str | None = None
    step: str | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.lease_owner:
            out[LEASE_OWNER_HEADER] = self.lease_owner
        if self.step:
            out[STEP_HEADER] = self.step
        return out


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("aro_cloud_request_context", default=_EMPTY)


def set_request_context(owner: str | None, step: str | None) -> Token[RequestContext]:
    """Set the context for the current task (and tasks it starts); returns a token for ``reset``."""
    return _current.set(RequestContext(owner, step))


def reset_request_context(token: Token[RequestContext]) -> None:
    _current.reset(token)


@contextmanager
def request_context(owner: str | None, step: str | None) -> Iterator[RequestContext]:
    token = set_request_context(owner, step)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current_request_context() -> RequestContext:
    return _current.get()


def request_context_headers() -> dict[str, str]:
    return _current.get().headers()
