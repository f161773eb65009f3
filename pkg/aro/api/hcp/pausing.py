"""HyperShift's ``pausedUntil`` (HostedCluster and NodePool), in one place: what a value may be, whether it
pauses reconciliation now and until when, and the ``ReconciliationActive`` condition that reports it.

- ``"true"`` / ``"True"``: paused until the value is removed (``false`` or ""); ``"false"`` / ``"False"``
  and "": not paused; an RFC 3339 date and time (``2026-12-02T10:00:00Z``): paused until then.
- The admin API accepts only those (4-35 characters, as HyperShift's CEL rule); a value that is stored and
  invalid anyway means **not paused** (HyperShift: reason ``ReconciliationInvalidPausedUntil``).
- While paused: ``ReconciliationActive=False``, reason ``ReconciliationPaused``, message "Reconciliation
  paused until <time>" (or "until the pause is removed"); when reconciliation runs again it is True,
  reason ``ReconciliationActive``.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from aro.api.hcp.common import Condition
from aro.api.hcp.conditions import find, set_condition

CONDITION = "ReconciliationActive"
PAUSED = "ReconciliationPaused"
ACTIVE = "ReconciliationActive"
INVALID = "ReconciliationInvalidPausedUntil"
MIN_LENGTH, MAX_LENGTH = 4, 35
TRUE_VALUES = ("true", "True")
FALSE_VALUES = ("false", "False")

# Go's time.RFC3339 as time.Parse reads it: a 'T', seconds, optional fraction, 'Z' or an offset.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})\Z")


def _timestamp(value: str) -> float | None:
    if not _RFC3339.match(value):
        return None
    text = value.replace("Z", "+00:00")
    whole, _, rest = text.partition(".")
    if rest:  # Python reads at most 6 fractional digits
        digits = re.match(r"\d+", rest)
        assert digits is not None
        text = f"{whole}.{digits[0][:6]}{rest[len(digits[0]) :]}"
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def value_error(value: str) -> str | None:
    """Why ``value`` is not a pausedUntil (None: it is one; "" is no pause)."""
    if value == "":
        return None
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        return f"must be {MIN_LENGTH}-{MAX_LENGTH} characters long"
    if value in TRUE_VALUES or value in FALSE_VALUES or _timestamp(value) is not None:
        return None
    return "must be 'true', 'false' or an RFC 3339 date and time (e.g. 2026-12-02T10:00:00Z)"


def paused_until(value: str, now: float) -> float | None:
    """Epoch seconds until which ``value`` pauses reconciliation (``inf``: until it is removed); None when
    it does not pause now (not set, false, a time that has passed, or invalid)."""
    if value in TRUE_VALUES:
        return math.inf
    if value_error(value) is not None:
        return None
    until = _timestamp(value)
    return until if until is not None and until > now else None


def mark_paused(conditions: list[Condition], value: str) -> bool:
    """ReconciliationActive=False for the pause ``value`` (True when anything changed)."""
    when = "the pause is removed" if value in TRUE_VALUES else value
    return set_condition(conditions, CONDITION, "False", PAUSED, f"Reconciliation paused until {when}")


def mark_active(conditions: list[Condition], value: str) -> bool:
    """Reconciliation runs: ReconciliationActive=True -- only where the condition was recorded (a
    resource never paused does not gain it) or the value is invalid (HyperShift's reason says so)."""
    if value_error(value) is not None:
        message = f"Invalid pausedUntil value {value[:40]!r}: reconciliation is active"
        return set_condition(conditions, CONDITION, "True", INVALID, message)
    found = find(conditions, CONDITION)
    if found is None or (found.status, found.reason) == ("True", ACTIVE):
        return False
    return set_condition(conditions, CONDITION, "True", ACTIVE, "Reconciliation active")


def record(conditions: list[Condition], value: str, now: float) -> bool:
    """The condition for ``value`` as of ``now`` (what the admin API writes when it records a pause)."""
    if paused_until(value, now) is not None:
        return mark_paused(conditions, value)
    return mark_active(conditions, value)
