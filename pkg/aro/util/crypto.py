"""AEAD encryption of secrets at rest (AES-256-GCM) and sealing of opaque tokens.

Ciphertext format: ``"enc:v1:" + base64url(nonce(12) || ciphertext+tag)``. The key is 32 bytes, from a key
file (mode 0600), generated into the data directory on first use when none is configured.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "enc:v1:"


class DecryptError(Exception):
    """Ciphertext was tampered with, truncated or sealed under another key or context."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("AEAD key must be 32 bytes")
        self._aead = AESGCM(key)
        self._key = key

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one other purpose (HKDF-SHA256 of the key; e.g. signing tokens), so one key
        file serves every process of the RP without the purposes sharing a key."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aro:" + purpose.encode()).derive(self._key)

    def seal(self, plaintext: bytes, context: bytes = b"") -> str:
        nonce = os.urandom(12)
        blob = nonce + self._aead.encrypt(nonce, plaintext, context)
        return PREFIX + base64.urlsafe_b64encode(blob).decode().rstrip("=")

    def open(self, sealed: str, context: bytes = b"") -> bytes:
        if not sealed.startswith(PREFIX):
            raise DecryptError("not a sealed value")
        body = sealed[len(PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, TypeError):
            raise DecryptError("malformed sealed value") from None
        if len(blob) < 12 + 16:
            raise DecryptError("malformed sealed value")
        try:
            return self._aead.decrypt(blob[:12], blob[12:], context)
        except InvalidTag:
            raise DecryptError("sealed value failed authentication") from None

    def seal_str(self, plaintext: str, context: str = "") -> str:
        return self.seal(plaintext.encode(), context.encode())

    def open_str(self, sealed: str, context: str = "") -> str:
        return self.open(sealed, context.encode()).decode()


def load_or_create_key(path: Path) -> bytes:
    """Read a 32-byte key (raw or base64) from ``path``; create it with mode 0600 if absent."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise PermissionError(f"{path}: key file must not be readable by group or others (chmod 600)")
        raw = path.read_bytes().strip()
        if len(raw) == 32:
            return raw
        key = base64.b64decode(raw)
        if len(key) != 32:
            raise ValueError(f"{path}: expected a 32-byte key (raw or base64)")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(key) + b"\n")
    try:
        os.link(tmp, path)  # atomic and exclusive: a complete file or none
    except FileExistsError:  # another process won the race: use its key
        return load_or_create_key(path)
    finally:
        tmp.unlink(missing_ok=True)
    return key
