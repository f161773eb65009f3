"""Bounded retries of authorization failures on ARM, like ARO's ``AuthorizationRetryingAction``.

Right after a role assignment is created (or a service principal is), ARM answers 403
``AuthorizationFailed`` (or Entra refuses the new principal) for a few minutes until the change has
propagated. ``AuthorizationRetryPolicy`` -- the outermost policy of ``ArmCloud``'s pipelines -- retries:

- an ARM 401, or a 403 whose error code is ``AuthorizationFailed``/``LinkedAuthorizationFailed``;
- a credential that fails to get a token (``ClientAuthenticationError`` raised inside the pipeline);

every ``interval`` seconds until ``seconds`` have passed, then raises ``AuthorizationRetryExhausted`` /
``CredentialRetryExhausted`` (mapped to a ``CloudError`` by ``aro.cloud.arm.cloud_error``). It sits before
the authentication policy, so each attempt asks the credential again (azure-core's bearer policy drops
its cached token on a 401). Other 403s (e.g. ``RequestDisallowedByPolicy``) are not retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy

_AUTHORIZATION_CODES = frozenset({"authorizationfailed", "linkedauthorizationfailed"})

log = logging.getLogger("aro.cloud.arm")


class AuthorizationRetryExhausted(HttpResponseError):
    """ARM kept refusing the RP's identity (401, or 403 ``AuthorizationFailed``) for ``seconds``."""

    def __init__(self, response: Any, seconds: float) -> None:
        super().__init__(response=response)
        self.seconds = seconds


class CredentialRetryExhausted(ClientAuthenticationError):
    """The RP's credential could not obtain a token for ``seconds`` (the last failure is ``__cause__``)."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message=message)
        self.seconds = seconds


def _is_authorization_error(response: Any) -> bool:
    status = response.status_code
    if status == 401:
        return True
    if status != 403:
        return False
    try:
        text = response.text()
    except Exception:  # body unavailable (streamed): a 403 from ARM is an authorization error
        return True
    return any(code in text.lower() for code in _AUTHORIZATION_CODES)


class AuthorizationRetryPolicy(AsyncHTTPPolicy[Any, Any]):
    """Outermost policy: retry authorization failures for a bounded time (see the module docstring).

    It sits before the authentication policy, so every attempt asks the credential again (azure-core's
    bearer policy drops its cached token on a 401)."""

    def __init__(self, seconds: float, interval: float) -> None:
        super().__init__()
        self._seconds = seconds
        self._interval = interval

    async def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        started = time.monotonic()
        deadline = started + self._seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.next.send(request)
            except ClientAuthenticationError as e:  # the credential failed to get a token
                if time.monotonic() + self._interval > deadline:
                    raise CredentialRetryExhausted(str(e.message or e), time.monotonic() - started) from e
                log.warning("credential failed; retrying", extra={"attempt": attempt, "error": str(e)[:300]})
            else:
                if not _is_authorization_error(response.http_response):
                    return response
                if time.monotonic() + self._interval > deadline:
                    raise AuthorizationRetryExhausted(response.http_response, time.monotonic() - started)
                log.warning(
                    "authorization failed; retrying",
                    extra={"attempt": attempt, "status": response.http_response.status_code},
                )
            await asyncio.sleep(self._interval)
