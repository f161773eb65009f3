"""Request and response values shared by the simulator's route modules."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import ArmError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class Request:
    method: str
    segs: list[str]  # path segments as sent (empty segments dropped)
    lsegs: list[str]  # the same, lower-cased, for matching
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str
    receive: Receive
    client_cert_der: bytes | None = None  # the verified TLS client certificate, if one was presented
    header_list: list[tuple[str, str]] = field(default_factory=list)  # every header (lower-cased names)
    query_string: str = ""  # the raw query, as sent (the cluster APIs' audit log)
    client_ip: str = ""  # the peer's address
    raw_path: str = ""  # the path as sent, percent-encoded (what the front door forwards)

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError as e:
            raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: {e}.") from e
        if not isinstance(value, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
        return value

    async def wait_disconnect(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass


@dataclass
class Response:
    status: int
    body: Any = None  # JSON value, or str for text/plain, or None
    headers: dict[str, str] = field(default_factory=dict)
    stream: AsyncIterator[bytes] | None = None  # a streamed JSON body (a watch), sent chunk by chunk
