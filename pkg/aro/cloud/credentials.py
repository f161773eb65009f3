"""Static bearer-token credentials for azure-core (the simulator accepts any non-empty token, or the one it
was configured with).

``StaticTokenCredential`` implements the sync ``TokenCredential``/``SupportsTokenInfo`` protocols.
azure-core's async authentication policy calls credentials through ``await_result``, so the same object
also works with ``.aio`` clients such as ``ResourceManagementClient``. Code that itself awaits
``get_token`` uses ``StaticTokenCredential(token).aio()`` -- an ``AsyncStaticTokenCredential``.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

_LIFETIME_SECONDS = 3600


class StaticTokenCredential:
    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("token must not be empty")
        self.token = token

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + _LIFETIME_SECONDS)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, int(time.time()) + _LIFETIME_SECONDS)

    def close(self) -> None:
        pass

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def aio(self) -> AsyncStaticTokenCredential:
        return AsyncStaticTokenCredential(self.token)


class AsyncStaticTokenCredential:
    """The ``AsyncTokenCredential``/``AsyncSupportsTokenInfo`` twin of ``StaticTokenCredential``."""

    def __init__(self, token: str) -> None:
        self._sync = StaticTokenCredential(token)

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        return self._sync.get_token(*scopes)

    async def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        return self._sync.get_token_info(*scopes)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> AsyncStaticTokenCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass
