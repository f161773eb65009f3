"""`aro login`, `aro logout` and `aro ocm`: the RP's account ledger (OCM's Account Management Service API at
`/api`) the way ocm-cli talks to OCM. Thin typer wiring over aro.cli.ocm (its ``run``: one error path)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from aro.cli import Printer
from aro.cli.ocm import (
    AMS,
    NOUNS,
    call,
    check_path,
    login,
    logout,
    parse_parameters,
    read_body,
    resource_path,
    run,
    utc,
)
from aro.cli.settings import resolve

CONFIG_HELP = (
    "The token is kept in $OCM_CONFIG, else ~/.ocm.json (written by `aro login`). The RP: --url/--ca-file, else "
    "AROCLI_ENDPOINT/AROCLI_CA_FILE, else the config file's url/ca_file, else https://localhost:8443."
)
ocm = typer.Typer(
    no_args_is_help=True,
    help="The account ledger's AMS API (/api/accounts_mgmt/v1), like ocm-cli: the answer's JSON on stdout. "
    + CONFIG_HELP,
)

CONNECTION = "Connection"
Url = Annotated[
    str | None,
    typer.Option(
        "--url", "--endpoint", help="RP URL (env AROCLI_ENDPOINT)", rich_help_panel=CONNECTION, show_default=False
    ),
]
CaFile = Annotated[
    str | None,
    typer.Option("--ca-file", help="CA bundle of the RP (env AROCLI_CA_FILE)", rich_help_panel=CONNECTION),
]
Parameters = Annotated[
    list[str] | None,
    typer.Option(
        "--parameter", "-p", help="query parameter KEY=VALUE (repeatable), e.g. -p search=\"status = 'Active'\""
    ),
]
Path_ = Annotated[str, typer.Argument(metavar="PATH", help=f"a path, e.g. {AMS}/subscriptions/ID", show_default=False)]
Body = Annotated[str | None, typer.Option("--body", help="read the JSON body from FILE ('-' = stdin; default: stdin)")]


def _exit(code: int) -> None:
    if code:
        raise typer.Exit(code)


def _send(
    method: str, path: str, parameters: list[str] | None, body: str | None, url: str | None, ca: str | None
) -> None:
    def action(printer: Printer) -> None:
        checked, params = check_path(path), parse_parameters(parameters or [])
        content = read_body(body, sys.stdin.buffer, sys.stdin.isatty()) if method in ("POST", "PATCH") else None
        call(printer, method, checked, params, content, url, ca)

    _exit(run(action))


@ocm.command("get")
def get(
    target: Annotated[str, typer.Argument(metavar="RESOURCE|PATH", help=NOUNS, show_default=False)],
    id_: Annotated[str | None, typer.Argument(metavar="[ID]", help="the resource's id", show_default=False)] = None,
    parameter: Parameters = None,
    url: Url = None,
    ca_file: CaFile = None,
) -> None:
    """GET a resource (subscriptions, subscription ID, organization ID, current_account) or a PATH."""

    def action(printer: Printer) -> None:
        path, params = resource_path(target, id_), parse_parameters(parameter or [])
        call(printer, "GET", path, params, None, url, ca_file)

    _exit(run(action))


@ocm.command("post")
def post(path: Path_, body: Body = None, parameter: Parameters = None, url: Url = None, ca_file: CaFile = None) -> None:
    """POST a JSON body (stdin, or --body FILE) to PATH, e.g. a label: {"key": "k", "value": "v"}."""
    _send("POST", path, parameter, body, url, ca_file)


@ocm.command("patch")
def patch(
    path: Path_, body: Body = None, parameter: Parameters = None, url: Url = None, ca_file: CaFile = None
) -> None:
    """PATCH PATH with a JSON body (stdin, or --body FILE), e.g. a subscription's {"display_name": "x"}."""
    _send("PATCH", path, parameter, body, url, ca_file)


@ocm.command("delete")
def delete(path: Path_, parameter: Parameters = None, url: Url = None, ca_file: CaFile = None) -> None:
    """DELETE PATH (prints nothing on 204)."""
    _send("DELETE", path, parameter, None, url, ca_file)


@ocm.command("whoami")
def whoami(url: Url = None, ca_file: CaFile = None) -> None:
    """Show the account of the token (GET current_account): user name and organization."""
    _exit(run(lambda printer: call(printer, "GET", f"{AMS}/current_account", (), None, url, ca_file)))


def login_cmd(
    user: Annotated[
        str | None, typer.Option("--user", help="user name (default: $USER, else developer)", show_default=False)
    ] = None,
    organization: Annotated[
        str | None,
        typer.Option(
            "--organization",
            help="organization id, or Azure tenant id (default: the RP's default tenant)",
        ),
    ] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="a group of the user (repeatable)")] = None,
    url: Url = None,
    ca_file: CaFile = None,
) -> None:
    """Get a token of a development RP for the account ledger, into $OCM_CONFIG (else ~/.ocm.json, mode 0600)."""
    name = user or os.environ.get("USER") or "developer"

    def action(printer: Printer) -> None:
        done = login(resolve({"endpoint": url, "ca_file": ca_file}), name, organization, group or [])
        groups = f" (groups: {', '.join(group)})" if group else ""
        printer.note(f"Logged in to {done.endpoint} as {done.user}{groups}", style="green")
        printer.note(f"  organization: {done.organization_id} (Azure tenant {done.tenant_id or 'unknown'})")
        printer.note(f"  token valid until {utc(done.expires_at)}; wrote {done.path}")

    _exit(run(action))


def logout_cmd() -> None:
    """Remove the token from $OCM_CONFIG (else ~/.ocm.json); nothing to remove is no error."""

    def action(printer: Printer) -> None:
        path, user = logout(os.environ)
        printer.note(f"Logged out {user} (removed the token from {path})" if user else f"Not logged in ({path})")

    _exit(run(action))


def register(app: typer.Typer) -> None:
    app.command("login")(login_cmd)
    app.command("logout")(logout_cmd)
    app.add_typer(ocm, name="ocm")
