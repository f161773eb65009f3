"""Where the client finds the RP: flags > ``AROCLI_*`` environment > client config file > development defaults.

The ``AROCLI_`` prefix is deliberate: ``ARO_*`` is the RP's own configuration, which rejects unknown keys.

The config file is ``$AROCLI_CONFIG`` or ``$XDG_CONFIG_HOME/aro/client.yaml`` (``~/.config/aro/client.yaml``)::

    endpoint: https://localhost:8443
    caFile: ~/src/aro/.aro/certs/ca.crt   # a relative path is relative to this file
    clientCertFile: ~/.aro/admin.crt       # production: the client certificate (ARM or admin identity)
    clientKeyFile: ~/.aro/admin.key        # its key, unless clientCertFile holds it too
    subscription: 00000000-0000-0000-0000-000000000001
    location: eastus
    pollIntervalSeconds: 2
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from aro.cli.errors import UsageError

DEV_ENDPOINT = "https://localhost:8443"
DEV_CA_FILE = Path(".aro/certs/ca.crt")
DEV_SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
DEV_LOCATION = "eastus"
DEFAULT_POLL_INTERVAL = 2.0
MAX_POLL_INTERVAL = 60.0

# setting name -> (environment variable, config-file key)
KEYS: dict[str, tuple[str, str]] = {
    "endpoint": ("AROCLI_ENDPOINT", "endpoint"),
    "ca_file": ("AROCLI_CA_FILE", "caFile"),
    "client_cert": ("AROCLI_CLIENT_CERT", "clientCertFile"),
    "client_key": ("AROCLI_CLIENT_KEY", "clientKeyFile"),
    "subscription": ("AROCLI_SUBSCRIPTION", "subscription"),
    "location": ("AROCLI_LOCATION", "location"),
    "poll_interval": ("AROCLI_POLL_INTERVAL", "pollIntervalSeconds"),
}
_RX_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Settings:
    endpoint: str
    ca_file: Path | None  # None: the system trust store
    subscription: str
    location: str
    poll_interval: float
    config_file: Path | None = None  # the client config file that was read, if any
    client_cert: Path | None = None  # a PEM client certificate presented in the TLS handshake (production)
    client_key: Path | None = None  # its private key (None: in client_cert)


def config_path(env: Mapping[str, str]) -> tuple[Path, bool]:
    """The client config file, and whether it was named explicitly (then it must exist)."""
    if env.get("AROCLI_CONFIG"):
        return Path(env["AROCLI_CONFIG"]).expanduser(), True
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "aro" / "client.yaml", False


def _read_file(path: Path, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise UsageError(f"client config file {path} (AROCLI_CONFIG) does not exist")
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise UsageError(f"client config file {path}: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"client config file {path}: expected a mapping of settings")
    known = {key for _, key in KEYS.values()}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise UsageError(
            f"client config file {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return data


def resolve(
    flags: Mapping[str, str | None] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Combine flags, environment, config file and defaults; every bad value is a UsageError naming its source."""
    flags = flags or {}
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path, required = config_path(env)
    file = _read_file(path, required)

    def pick(name: str) -> tuple[str | None, str]:
        var, key = KEYS[name]
        if flags.get(name) not in (None, ""):
            return str(flags[name]), f"--{name.replace('_', '-')}"
        if env.get(var):
            return env[var], var
        if file.get(key) not in (None, ""):
            return str(file[key]), f"{path}: {key}"
        return None, "default"

    endpoint, source = pick("endpoint")
    endpoint = (endpoint or DEV_ENDPOINT).rstrip("/")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise UsageError(f"invalid endpoint {endpoint!r} ({source}): expected https://HOST[:PORT]")

    def file_setting(name: str, what: str) -> Path | None:
        value, source = pick(name)
        if value is None:
            return None
        found = Path(value).expanduser()
        if not found.is_absolute():
            found = (path.parent if source.startswith(str(path)) else cwd) / found
        if not found.is_file():
            raise UsageError(f"{what} {found} ({source}) does not exist")
        return found

    ca_file = file_setting("ca_file", "CA bundle")
    if ca_file is None:
        default_ca = cwd / DEV_CA_FILE
        ca_file = default_ca if default_ca.is_file() else None
    client_cert = file_setting("client_cert", "client certificate")
    client_key = file_setting("client_key", "client key")
    if client_key is not None and client_cert is None:
        raise UsageError("a client key without a client certificate: pass --client-cert (or AROCLI_CLIENT_CERT)")

    subscription, source = pick("subscription")
    subscription = subscription or DEV_SUBSCRIPTION
    if not _RX_UUID.match(subscription):
        raise UsageError(f"invalid subscription {subscription!r} ({source}): expected a UUID")

    location, _ = pick("location")

    interval_value, source = pick("poll_interval")
    try:
        poll_interval = float(interval_value) if interval_value is not None else DEFAULT_POLL_INTERVAL
    except ValueError:
        raise UsageError(f"invalid poll interval {interval_value!r} ({source}): expected seconds") from None
    if not 0 <= poll_interval <= MAX_POLL_INTERVAL:
        raise UsageError(f"invalid poll interval {interval_value!r} ({source}): use 0 to {MAX_POLL_INTERVAL:g}")

    return Settings(
        endpoint=endpoint,
        ca_file=ca_file,
        subscription=subscription.lower(),
        location=location or DEV_LOCATION,
        poll_interval=poll_interval,
        config_file=path if file else None,
        client_cert=client_cert,
        client_key=client_key,
    )
