"""List paging: page size from $top (<= 1000) or the configured default; the store's continuation token
travels to the client sealed (AES-GCM) and bound to the list it came from (subscription and scope), as
``$skipToken`` in ``nextLink``. A token altered, or replayed on another subscription or list, is 400."""

from __future__ import annotations

import re
from typing import Any

from aro.api import errors
from aro.api.errors import CloudError
from aro.frontend.arm import ArmRequest
from aro.util.crypto import DecryptError, Sealer

MAX_TOP = 1000


_ASCII_COUNT = re.compile(r"[0-9]{1,4}")


class Pager:
    """``scope`` is the list's key prefix: a token is valid only on the list that issued it."""

    def __init__(self, arm: ArmRequest, scope: str):
        self.arm = arm
        self.scope = scope
        self.sealer: Sealer = arm.services.sealer
        query = arm.request.query_params
        top = _get(query, "$top")
        if top is None:
            self.page_size = arm.config.frontend.page_size
        elif _ASCII_COUNT.fullmatch(top) and 1 <= int(top) <= MAX_TOP:  # ASCII digits only ("²", "٥" are not)
            self.page_size = int(top)
        else:
            raise CloudError(
                400,
                errors.INVALID_PARAMETER,
                f"The value '{top[:40]}' of $top is invalid: use 1 to {MAX_TOP}.",
                "$top",
            )
        token = _get(query, "$skipToken")
        self.continuation: str | None = None
        if token:
            try:
                self.continuation = self.sealer.open_str(token, self._context())
            except DecryptError:
                raise CloudError(
                    400,
                    errors.INVALID_PARAMETER,
                    "The $skipToken is invalid: it is malformed, was altered, or belongs to another subscription.",
                    "$skipToken",
                ) from None

    def _context(self) -> str:
        return "skiptoken|" + self.arm.subscription_id + "|" + self.scope

    def next_link(self, continuation: str) -> str:
        return self.arm.self_url(**{"$skipToken": self.sealer.seal_str(continuation, self._context())})

    def body(self, items: list[Any], continuation: str | None) -> dict[str, Any]:
        """``{value, nextLink?}`` -- ``nextLink`` only when there is more."""
        out: dict[str, Any] = {"value": items}
        if continuation:
            out["nextLink"] = self.next_link(continuation)
        return out


def _get(query: object, name: str) -> str | None:
    from starlette.datastructures import QueryParams

    assert isinstance(query, QueryParams)
    for k, v in query.multi_items():
        if k.lower() == name.lower():
            return v
    return None
