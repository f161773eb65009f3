"""Wall-clock timestamps as the RP writes them (ARM's RFC 3339 UTC with microseconds)."""

from __future__ import annotations

import datetime as dt

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime(_FORMAT)


def epoch_of(timestamp: str) -> float | None:
    """Seconds since the epoch of a timestamp ``utc_now`` wrote (or any RFC 3339 one); None if unreadable."""
    try:
        parsed = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
