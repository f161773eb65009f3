"""ARM's ``x-ms-arm-resource-system-data`` header, validated: what a write may store as ``systemData``.

ARM sets the header on every PUT and PATCH (a JSON object of six optional strings). A header that breaks
the rules below is refused -- 400 ``InvalidParameter`` whose target is the header, nothing stored -- rather
than dropped: a bad value means something between ARM and the RP is broken, and silently keeping the old
values would hide it.

- the header: at most ``MAX_HEADER`` characters, a JSON object (unknown members are ignored);
- every known member: a string or null (null and "" mean "not sent");
- ``createdBy`` / ``lastModifiedBy``: at most ``MAX_PRINCIPAL`` characters, no control character (Unicode
  Cc, NUL included) and no bidirectional formatting character (U+200E/F, U+202A-E, U+2066-9, U+061C);
- ``createdByType`` / ``lastModifiedByType``: ``User``, ``Application``, ``ManagedIdentity`` or ``Key``;
- ``createdAt`` / ``lastModifiedAt``: an RFC 3339 date-time (``2024-01-02T03:04:05.1234567Z``, with
  ``Z`` or a numeric offset) naming a real instant.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timedelta, timezone

from aro.api import errors
from aro.api.errors import CloudError

HEADER = "x-ms-arm-resource-system-data"
MAX_HEADER = 4096
MAX_PRINCIPAL = 256
IDENTITY_TYPES = ("User", "Application", "ManagedIdentity", "Key")
PRINCIPALS = ("createdBy", "lastModifiedBy")
TYPES = ("createdByType", "lastModifiedByType")
TIMES = ("createdAt", "lastModifiedAt")
FIELDS = PRINCIPALS + TYPES + TIMES

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z"
)


def _refuse(reason: str) -> CloudError:
    return CloudError(400, errors.INVALID_PARAMETER, f"The header '{HEADER}' is invalid: {reason}.", HEADER)


def is_rfc3339(value: str) -> bool:
    m = _RFC3339.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(m[i]) for i in range(1, 7))
    try:
        offset = timedelta(0) if m[8] else timedelta(hours=int(m[10]), minutes=int(m[11]))
        datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:  # a day, hour or offset out of range
        return False
    return True


def _principal_ok(value: str) -> bool:
    return all(unicodedata.category(c) != "Cc" and c not in _BIDI for c in value)


def parse_system_data(raw: str | None) -> dict[str, str]:
    """The header's non-empty known members, validated; {} when the header is absent or empty."""
    if not raw:
        return {}
    if len(raw) > MAX_HEADER:
        raise _refuse(f"it is longer than {MAX_HEADER} characters")
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        raise _refuse("it is not JSON") from None
    if not isinstance(header, dict):
        raise _refuse("it is not a JSON object")
    out: dict[str, str] = {}
    for field in FIELDS:
        value = header.get(field)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise _refuse(f"'{field}' is not a string")
        if field in PRINCIPALS and (len(value) > MAX_PRINCIPAL or not _principal_ok(value)):
            raise _refuse(
                f"'{field}' must be at most {MAX_PRINCIPAL} characters, without control or bidirectional characters"
            )
        if field in TYPES and value not in IDENTITY_TYPES:
            raise _refuse(f"'{field}' must be one of {', '.join(IDENTITY_TYPES)}")
        if field in TIMES and not is_rfc3339(value):
            raise _refuse(f"'{field}' is not an RFC 3339 date-time")
        out[field] = value
    return out
