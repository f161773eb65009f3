"""Identifiers as AMS spells them: 27 base62 characters (a KSUID: a 4-byte timestamp and 16 random bytes),
case-sensitive, e.g. ``1svZIyseCY2KM9J1V0OYaAIxWjB``."""

from __future__ import annotations

import hashlib
import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_EPOCH = 1_400_000_000  # KSUID's epoch
ID_PATTERN = re.compile(r"^[0-9A-Za-z]{1,64}\Z")


def _base62(raw: bytes, width: int = 27) -> str:
    n = int.from_bytes(raw, "big")
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(reversed(out)).rjust(width, "0")[-width:]


def new_id(now: float | None = None) -> str:
    """A fresh, time-ordered id."""
    stamp = int((time.time() if now is None else now) - _EPOCH) & 0xFFFFFFFF
    return _base62(stamp.to_bytes(4, "big") + os.urandom(16))


def stable_id(*parts: str) -> str:
    """The same id for the same parts (an account's id from its issuer and user name)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return _base62(digest[:20])


def valid_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))
