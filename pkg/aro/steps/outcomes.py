"""What an exception out of a step means, in the kopf style.

- **Temporary**: retry later. The work is re-queued (after ``delay``, else the backend's exponential
  backoff) and the operation keeps running until its deadline: a ``TemporaryError`` a step raises itself
  ("not yet"), a ``CloudError`` the cloud layer marked ``temporary`` (a 429/5xx that outlasted the SDK's
  retries, an unreachable endpoint), or a timeout of a single call.
- **Permanent**: fail the operation now with this ARM error: any other ``CloudError``.
- Anything else is a bug: the operation fails with a plain ``InternalServerError`` (no internals shown).

Cancellation, lease loss and shutdown are not outcomes: they propagate.
"""

from __future__ import annotations

from dataclasses import dataclass

from aro.api import errors
from aro.api.errors import CloudError


class TemporaryError(Exception):
    """Raised by a step: not done yet, try again after ``delay`` seconds (None: the backend's backoff)."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.delay = delay


@dataclass(frozen=True)
class Outcome:
    error: CloudError
    temporary: bool
    delay: float | None = None  # temporary only; None = the backend's backoff
    bug: bool = False  # an unexpected exception (log it with its traceback)


def classify(exc: Exception) -> Outcome:
    if isinstance(exc, TemporaryError):
        return Outcome(CloudError(503, "RetryableError", exc.message, temporary=True), True, exc.delay)
    if isinstance(exc, CloudError):
        return Outcome(exc, exc.temporary)
    if isinstance(exc, TimeoutError):
        return Outcome(CloudError(504, "GatewayTimeout", "A request to the cloud timed out.", temporary=True), True)
    return Outcome(errors.internal_server_error(), False, bug=True)
