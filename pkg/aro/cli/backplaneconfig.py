"""Where the backplane is, as backplane-cli reads it: ``$BACKPLANE_CONFIG``, else
``~/.config/backplane/config.json``; JSON; every key but ours read past (an SRE's file also holds ``pd-key``,
``jira-token``, ...)::

    {
      "url": "https://localhost:8443",          # the backplane API: the RP frontend
      "proxy-url": "http://proxy.example:3128", # or a list (the first is used); HTTPS proxy to the backplane
      "ca-file": "/home/sre/src/aro/.aro/certs/ca.crt"   # ours: the CA of the backplane's certificate
    }

The URL: ``--url`` > ``BACKPLANE_URL`` > the file's ``url`` > the OCM config's ``url`` (``aro login``). The CA:
the file's ``ca-file`` (relative to the file) > the OCM config's ``ca_file`` when the backplane is the RP the
token came from (same origin) > the system trust store. The proxy: ``--proxy`` > the file's ``proxy-url``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aro.cli.errors import UsageError
from aro.cli.ocmconfig import OcmConfig

ENV_CONFIG = "BACKPLANE_CONFIG"
ENV_URL = "BACKPLANE_URL"
MAX_CONFIG_BYTES = 1024 * 1024
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def home_of(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def config_path(env: Mapping[str, str]) -> Path:
    """``$BACKPLANE_CONFIG``, else ``$HOME/.config/backplane/config.json`` (as backplane-cli: not XDG)."""
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    return home_of(env) / ".config" / "backplane" / "config.json"


@dataclass(frozen=True)
class BackplaneConfig:
    url: str  # no trailing slash
    url_source: str  # where it came from, for messages
    ca_file: Path | None  # None: the system trust store
    proxy_url: str | None
    path: Path  # the backplane config file (read when it exists)

    def endpoint(self, path: str) -> str:
        """The URL of a backplane path (``/backplane/...``)."""
        return self.url + path


def read_file(path: Path) -> dict[str, Any]:
    """The file as a JSON object; {} when there is none."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise UsageError(f"cannot read the backplane config file {path}: {e.strerror or e}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise UsageError(f"the backplane config file {path} is larger than {MAX_CONFIG_BYTES} bytes")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"the backplane config file {path} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise UsageError(f"the backplane config file {path} is not a JSON object")
    return data


def check_url(value: str, source: str) -> str:
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(f"invalid backplane URL {value[:200]!r} ({source}): expected https://HOST[:PORT]")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise UsageError(f"refusing to send the access token in clear text to {url} ({source}): use https")
    return url


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def _text(data: Mapping[str, Any], key: str, path: Path) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UsageError(f"the backplane config file {path} is not valid: {key!r} must be a string")
    return value


def _proxy(data: Mapping[str, Any], path: Path) -> str | None:
    value = data.get("proxy-url")
    if isinstance(value, list):  # backplane-cli takes a list and uses the first that answers; we take the first
        value = next((v for v in value if isinstance(v, str) and v), None)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UsageError(f"the backplane config file {path} is not valid: 'proxy-url' must be a string or a list")
    return value


def load(
    env: Mapping[str, str],
    ocm: OcmConfig | None,
    url: str | None = None,
    proxy: str | None = None,
) -> BackplaneConfig:
    """The backplane's URL, CA and proxy from the flags, the environment, the file and the OCM config."""
    path = config_path(env)
    data = read_file(path)
    chosen: tuple[str, str] | None = None
    if url:
        chosen = (url, "--url")
    elif env.get(ENV_URL):
        chosen = (env[ENV_URL], ENV_URL)
    elif (file_url := _text(data, "url", path)) is not None:
        chosen = (file_url, f"{path}: url")
    elif ocm is not None and ocm.url:
        chosen = (ocm.url, f"{ocm.path}: url")
    if chosen is None:
        raise UsageError(
            f"no backplane URL: run 'aro login' (its RP is the backplane), or set BACKPLANE_URL, or 'url' in {path}"
        )
    endpoint = check_url(*chosen)

    ca_file: Path | None = None
    if (file_ca := _text(data, "ca-file", path)) is not None:
        ca_file = Path(file_ca).expanduser()
        if not ca_file.is_absolute():
            ca_file = path.parent / ca_file
        if not ca_file.is_file():
            raise UsageError(f"the CA bundle {ca_file} ({path}: ca-file) does not exist")
    elif ocm is not None and ocm.ca_file is not None and ocm.url and _origin(ocm.url) == _origin(endpoint):
        if not ocm.ca_file.is_file():
            raise UsageError(
                f"the CA bundle {ocm.ca_file} ({ocm.path}: ca_file) does not exist",
                f"run 'aro login' again, or set 'ca-file' in {path}",
            )
        ca_file = ocm.ca_file

    proxy_url = proxy or _proxy(data, path)
    if proxy_url is not None:
        parts = urlsplit(proxy_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"invalid proxy URL {proxy_url[:200]!r}: expected http://HOST:PORT")
    return BackplaneConfig(endpoint, chosen[1], ca_file.resolve() if ca_file else None, proxy_url, path)
