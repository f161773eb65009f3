"""`aro login`, `aro logout` and `aro ocm`: the RP's account ledger -- OCM's Account Management Service API,
``/api/accounts_mgmt/v1/...`` on the ARM endpoint -- used as ocm-cli uses OCM (library side; the typer
wiring is aro_cmd.ocm).

- ``login``: ``POST /api/auth/token`` (a development RP issues tokens to loopback clients), then the OCM
  config file (``aro.cli.ocmconfig``); ``logout`` removes the token from it
- ``Ocm``: one HTTPS client per command, with the bearer token; every answer outside 2xx is an ``OcmError``
  carrying OCM's ``reason``
- ``check_path``, ``parse_parameters``, ``resource_path``, ``read_body``: the command line, checked before
  anything is read or sent
- ``run``: the one error path -- ``aro: <reason>`` on stderr; exit 1 (the RP's error, a client failure),
  2 (usage, not logged in), 130 (Ctrl-C)

Where the RP is: ``--url``/``--ca-file`` > ``AROCLI_ENDPOINT``/``AROCLI_CA_FILE`` > the config file's
``url``/``ca_file`` > client.yaml > https://localhost:8443 with ./.aro/certs/ca.crt (``aro.cli.settings``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
from rich.markup import escape

from aro.cli.client import USER_AGENT, ssl_context, transport_error
from aro.cli.errors import EXIT_INTERRUPTED, CliError, UsageError
from aro.cli.ocmconfig import CLIENT_ID, TOKEN_KEYS, TOKEN_PATH, OcmConfig, config_path, load, save
from aro.cli.output import Printer
from aro.cli.settings import Settings, resolve

AMS = "/api/accounts_mgmt/v1"
MAX_PATH = 2048
MAX_PARAMETERS = 50
MAX_PARAMETER_VALUE = 4096
MAX_BODY_BYTES = 1024 * 1024
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
LOGIN_ADVICE = "run 'aro login'"
_COLLECTIONS = ("subscriptions", "organizations", "accounts", "plans")
NOUNS = (
    "subscriptions|organizations|accounts|plans [ID], subscription|organization|account|plan ID, "
    "current_account, or a path /api/..."
)
_PATH_CHARS = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/-]*\Z")
_PARAMETER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z")
_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,63}\Z")  # a plan id has dashes (OCP-ARO)
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class OcmError(CliError):
    """The RP answered outside 2xx: OCM's error envelope (its ``reason``), or another body (the status line)."""

    def __init__(self, reason: str, status: int, body: dict[str, Any] | None = None, hint: str | None = None):
        super().__init__(reason, hint)
        self.status = status
        self.body = body

    @classmethod
    def from_response(cls, response: httpx.Response) -> OcmError:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        hint = "run 'aro login' (again) for a token of this RP" if response.status_code == 401 else None
        if isinstance(body, dict) and body.get("kind") == "Error" and body.get("reason"):
            return cls(str(body["reason"]), response.status_code, body, hint)
        text = response.text.strip()
        status = f"{response.status_code} {response.reason_phrase}".strip()
        return cls(f"the RP answered {status}" + (f": {text[:300]}" if text else ""), response.status_code, None, hint)

    def detail(self) -> str:
        """``status: 403, code: ACCT-MGMT-403, operation id: ...``."""
        parts = [f"status: {self.status}"]
        if self.body is not None:
            if self.body.get("code"):
                parts.append(f"code: {self.body['code']}")
            if self.body.get("operation_id"):
                parts.append(f"operation id: {self.body['operation_id']}")
        return ", ".join(parts)


# --- the command line --------------------------------------------------------------------------------------


def check_path(path: str) -> str:
    """A raw path for ``aro ocm get|post|patch|delete``: ``/api/...``, printable, no query, bounded."""
    shown = repr(path[:80] + ("..." if len(path) > 80 else ""))
    if not path.startswith("/api/"):
        raise UsageError(f"invalid PATH {shown}: it must start with /api/ (e.g. {AMS}/subscriptions)")
    if len(path) > MAX_PATH:
        raise UsageError(f"invalid PATH {shown}: longer than {MAX_PATH} characters")
    if any(c.isspace() or not c.isprintable() for c in path):
        raise UsageError(f"invalid PATH {shown}: it must not contain whitespace or control characters")
    if "?" in path:
        raise UsageError(f"invalid PATH {shown}: give query parameters with --parameter/-p KEY=VALUE")
    if not _PATH_CHARS.match(path):
        bad = next(c for c in path if not _PATH_CHARS.match(c))
        raise UsageError(f"invalid PATH {shown}: the character {bad!r} is not allowed (percent-encode it)")
    if any(segment in (".", "..") for segment in path.split("/")) or "//" in path:
        raise UsageError(f"invalid PATH {shown}: empty, '.' and '..' segments are not allowed")
    return path


def check_id(value: str) -> str:
    if not _ID.match(value):
        raise UsageError(f"invalid ID {value[:80]!r}: an AMS id is 1-64 letters, digits and dashes")
    return value


def resource_path(target: str, id_: str | None) -> str:
    """What ``aro ocm get TARGET [ID]`` reads: a resource named as ocm-cli names them, or a raw PATH."""
    if target.startswith("/"):
        if id_ is not None:
            raise UsageError(f"a PATH takes no ID (got {id_[:80]!r}): put it in the path")
        return check_path(target)
    noun = target.lower()
    if noun == "current_account" or (noun == "account" and id_ is None):
        if id_ is not None:
            raise UsageError(f"'{target}' takes no ID: it is the account of your token")
        return f"{AMS}/current_account"
    plural = noun if noun.endswith("s") else noun + "s"
    if plural in _COLLECTIONS:
        if id_ is not None:
            return f"{AMS}/{plural}/{check_id(id_)}"
        if noun == plural:
            return f"{AMS}/{plural}"
        raise UsageError(f"'aro ocm get {target}' needs an ID (or: aro ocm get {plural})")
    raise UsageError(f"unknown resource {target[:80]!r}: use {NOUNS}")


def parse_parameters(values: Iterable[str]) -> list[tuple[str, str]]:
    """ocm-cli's ``--parameter KEY=VALUE`` (repeatable; a key may repeat) as query parameters."""
    out: list[tuple[str, str]] = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not _PARAMETER.match(key):
            raise UsageError(f"invalid parameter {value[:80]!r}: expected KEY=VALUE (e.g. -p size=10)")
        if len(val) > MAX_PARAMETER_VALUE or any(not c.isprintable() for c in val):
            raise UsageError(
                f"invalid parameter {key!r}: its value must be printable and at most {MAX_PARAMETER_VALUE} characters"
            )
        out.append((key, val))
    if len(out) > MAX_PARAMETERS:
        raise UsageError(f"too many parameters ({len(out)}): at most {MAX_PARAMETERS}")
    return out


def read_body(file: str | None, stdin: IO[bytes], stdin_is_terminal: bool) -> bytes:
    """The JSON body of a POST or PATCH: ``--body FILE``, else stdin (``-`` too); checked to be JSON."""
    if file is None or file == "-":
        if stdin_is_terminal and file is None:
            raise UsageError("no request body: pipe it to stdin (... < body.json) or pass --body FILE")
        raw, source = stdin.read(MAX_BODY_BYTES + 1), "stdin"
    else:
        try:
            with open(file, "rb") as f:
                raw = f.read(MAX_BODY_BYTES + 1)
        except OSError as e:
            raise UsageError(f"cannot read the body file {file}: {e.strerror or e}") from None
        source = file
    if len(raw) > MAX_BODY_BYTES:
        raise UsageError(f"the request body ({source}) is larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise UsageError(f"the request body ({source}) is empty: give a JSON document")
    try:
        json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"the request body ({source}) is not valid JSON: {e}") from None
    return raw


# --- where the RP is, and who the caller is ----------------------------------------------------------------


def settings_for(
    url: str | None,
    ca_file: str | None,
    config: OcmConfig | None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Flags > ``AROCLI_*`` > the OCM config file's ``url``/``ca_file`` > client.yaml > development defaults."""
    env = os.environ if env is None else env
    settings = resolve({"endpoint": url, "ca_file": ca_file}, env, cwd)
    if config is None:
        return settings
    if not (url or env.get("AROCLI_ENDPOINT")) and config.url:
        endpoint = config.url.rstrip("/")
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise config.invalid(f"'url' {endpoint[:200]!r} is not https://HOST[:PORT]")
        settings = replace(settings, endpoint=endpoint)
    if not (ca_file or env.get("AROCLI_CA_FILE")) and config.ca_file is not None:
        if not config.ca_file.is_file():
            raise UsageError(
                f"the CA bundle {config.ca_file} ({config.path}: ca_file) does not exist",
                "pass --ca-file (or AROCLI_CA_FILE), or run 'aro login' again",
            )
        settings = replace(settings, ca_file=config.ca_file)
    return settings


def utc(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_of(config: OcmConfig | None, env: Mapping[str, str], now: float | None = None) -> str:
    """The config file's access token; none, or one past its ``expires_at``: not logged in (UsageError)."""
    path = config.path if config is not None else config_path(env)
    if config is None or config.access_token is None:
        raise UsageError(f"not logged in: {LOGIN_ADVICE}", f"there is no access token in {path}")
    expires = config.expires_at
    if expires is not None and expires <= (time.time() if now is None else now):
        who = f" of {config.user}" if config.user else ""
        raise UsageError(f"not logged in: the token{who} expired at {utc(expires)}: {LOGIN_ADVICE}")
    return config.access_token


# --- requests --------------------------------------------------------------------------------------------


class Ocm:
    """One HTTPS client per command (timeouts, TLS verified with the CA, the bearer token when given)."""

    def __init__(self, settings: Settings, token: str | None, transport: httpx.BaseTransport | None = None):
        parts = urlsplit(settings.endpoint)
        if token and parts.scheme != "https" and parts.hostname not in _LOOPBACK:
            raise UsageError(f"refusing to send the access token in clear text to {settings.endpoint}")
        self.settings = settings
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            base_url=settings.endpoint,
            verify=ssl_context(settings),
            timeout=TIMEOUT,
            headers=headers,
            transport=transport,
            follow_redirects=False,
        )

    def __enter__(self) -> Ocm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def request(
        self, method: str, path: str, params: Sequence[tuple[str, str]] = (), body: bytes | None = None
    ) -> httpx.Response:
        """A 2xx answer, else the RP's OcmError (an unreachable RP is a CliError)."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            response = self.http.request(method, path, params=list(params) or None, content=body, headers=headers)
        except httpx.HTTPError as e:
            raise self._transport_error(e) from None
        if not 200 <= response.status_code < 300:
            raise OcmError.from_response(response)
        return response

    def _transport_error(self, e: httpx.HTTPError) -> CliError:
        hint = "is the RP running? (make run) Set its URL with --url, AROCLI_ENDPOINT or 'aro login --url'."
        return transport_error(e, self.settings, hint)


def print_response(printer: Printer, response: httpx.Response) -> None:
    """The answer on stdout: JSON pretty-printed, another body as it is, no body (204) nothing."""
    if response.status_code == 204 or not response.content.strip():
        return
    try:
        value = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text
        printer.out.write(text if text.endswith("\n") else text + "\n")
        printer.out.flush()
        return
    printer.json(value)


def call(
    printer: Printer,
    method: str,
    path: str,
    params: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    url: str | None = None,
    ca_file: str | None = None,
) -> None:
    """``aro ocm METHOD PATH`` once its arguments are checked: the token, the request, the answer."""
    config = load(os.environ)
    token = token_of(config, os.environ)
    with Ocm(settings_for(url, ca_file, config), token) as ocm:
        print_response(printer, ocm.request(method, path, params, body))


# --- login and logout --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    path: Path  # the config file written
    endpoint: str
    user: str
    organization_id: str
    tenant_id: str
    expires_at: int


def login(settings: Settings, user: str, organization: str | None, groups: Sequence[str]) -> Login:
    """Ask the RP for a token and write the config file; the RP's refusal is its OcmError."""
    request: dict[str, Any] = {"username": user, "groups": list(groups)}
    if organization:
        request["organization"] = organization
    with Ocm(settings, None) as ocm:
        response = ocm.request("POST", TOKEN_PATH, body=json.dumps(request).encode())
    try:
        answer = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        answer = None
    org = answer.get("organization") if isinstance(answer, dict) else None
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("access_token"), str)
        or not answer["access_token"]
        or not isinstance(answer.get("expires_at"), int)
        or not isinstance(org, dict)
        or not isinstance(org.get("id"), str)
    ):
        raise CliError(f"the RP answered POST {TOKEN_PATH} with a body that is not a token")
    data: dict[str, Any] = {
        "url": settings.endpoint,
        "token_url": settings.endpoint + TOKEN_PATH,
        "client_id": CLIENT_ID,
        "access_token": answer["access_token"],
        "user": user,
        "expires_at": answer["expires_at"],
        "organization": {"id": org["id"], "external_id": str(org.get("external_id") or "")},
    }
    if settings.ca_file is not None:
        data["ca_file"] = str(settings.ca_file.resolve())
    path = config_path(os.environ)
    save(path, data)
    return Login(path, settings.endpoint, user, org["id"], data["organization"]["external_id"], answer["expires_at"])


def logout(env: Mapping[str, str]) -> tuple[Path, str | None]:
    """Remove the token from the config file (keeping the rest); the user logged out, or None (no token)."""
    path = config_path(env)
    config = load(env)
    if config is None or not any(config.data.get(k) for k in TOKEN_KEYS):
        return path, None
    save(path, {k: v for k, v in config.data.items() if k not in TOKEN_KEYS})
    return path, config.user or "(unknown user)"


# --- the error path --------------------------------------------------------------------------------------


def report(printer: Printer, e: CliError) -> None:
    printer.stderr.print(escape(f"aro: {e.message}"), style="bold red")
    if isinstance(e, OcmError):
        printer.stderr.print(escape(f"  {e.detail()}"), style="dim")
    if e.hint:
        printer.stderr.print(escape(e.hint), style="yellow")


def run(
    action: Callable[[Printer], object],
    printer: Printer | None = None,
    reporter: Callable[[Printer, CliError], None] = report,
) -> int:
    """Run one command; its exit code (0 on success) after printing any error on stderr (``reporter``)."""
    printer = printer or Printer()
    try:
        action(printer)
        return 0
    except CliError as e:
        reporter(printer, e)
        return e.exit_code
    except KeyboardInterrupt:
        printer.note("interrupted", "yellow")
        return EXIT_INTERRUPTED
