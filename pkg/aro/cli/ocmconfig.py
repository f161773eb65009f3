"""The OCM-style client config file that ``aro login`` writes and ``aro ocm`` reads, as ocm-cli keeps it:
``$OCM_CONFIG``, else ``~/.ocm.json``; JSON, mode 0600, written atomically (a temporary file in the same
directory, renamed over it)::

    {
      "url": "https://localhost:8443",
      "access_token": "eyJ...",
      "token_url": "https://localhost:8443/api/auth/token",
      "client_id": "aro-cli",
      "user": "alice",
      "expires_at": 1767225600,
      "ca_file": "/home/alice/src/aro/.aro/certs/ca.crt",
      "organization": {"id": "2Vb...", "external_id": "<Azure tenant id>"}
    }

``expires_at`` (epoch seconds), ``ca_file`` and ``organization`` are ours; ocm-cli's other keys
(``refresh_token``, ``scopes``, ``insecure``, ``pager``, ...) are read past.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aro.cli.common import write_private
from aro.cli.errors import UsageError

CLIENT_ID = "aro-cli"
TOKEN_PATH = "/api/auth/token"
FILE_NAME = ".ocm.json"
MAX_CONFIG_BYTES = 256 * 1024
TOKEN_KEYS = ("access_token", "refresh_token", "expires_at")
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: a time a datetime can hold


def config_path(env: Mapping[str, str]) -> Path:
    """``$OCM_CONFIG``, else ``$HOME/.ocm.json``."""
    if env.get("OCM_CONFIG"):
        return Path(env["OCM_CONFIG"]).expanduser()
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / FILE_NAME


@dataclass(frozen=True)
class OcmConfig:
    """One read of the config file (``data``: every key, ours and ocm-cli's)."""

    path: Path
    data: dict[str, Any]

    def _text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.invalid(f"{key!r} must be a string")
        return value

    @property
    def url(self) -> str | None:
        return self._text("url")

    @property
    def access_token(self) -> str | None:
        return self._text("access_token")

    @property
    def user(self) -> str | None:
        return self._text("user")

    @property
    def ca_file(self) -> Path | None:
        """The CA bundle recorded at login (a relative path is relative to the file's directory)."""
        value = self._text("ca_file")
        if value is None:
            return None
        found = Path(value).expanduser()
        return found if found.is_absolute() else self.path.parent / found

    @property
    def expires_at(self) -> float | None:
        value = self.data.get("expires_at")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_EPOCH:
            raise self.invalid("'expires_at' must be epoch seconds")
        return float(value)

    def invalid(self, why: str) -> UsageError:
        return UsageError(f"the OCM config file {self.path} is not valid: {why}", "run 'aro login' to rewrite it")


def load(env: Mapping[str, str]) -> OcmConfig | None:
    """The config file, or None when there is none (a file that is not a JSON object is a UsageError)."""
    path = config_path(env)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UsageError(f"cannot read the OCM config file {path}: {e.strerror or e}") from None
    hint = "run 'aro login' to rewrite it"
    if len(raw) > MAX_CONFIG_BYTES:
        raise UsageError(f"the OCM config file {path} is larger than {MAX_CONFIG_BYTES} bytes", hint)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"the OCM config file {path} is not valid JSON: {e}", hint) from None
    if not isinstance(data, dict):
        raise UsageError(f"the OCM config file {path} is not a JSON object", hint)
    return OcmConfig(path, data)


def save(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file renamed over it, so a reader sees the
    old file or the new one, never a part; the directory is created (0700) when missing."""
    write_private(path, json.dumps(data, indent=2) + "\n")
