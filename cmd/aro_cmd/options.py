"""What the client commands (`aro cluster`, `aro hcp`) share: ``commands(app)`` registers ``fn(inv, **options)``
as a command of ``app`` with the connection options (--endpoint, --ca-file, --subscription) appended and its
body run through ``aro.cli.run`` (one client, one error path); and the options every command spells alike."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from aro.cli import Format, run

CONNECTION_HELP = (
    "Connection: --endpoint/--ca-file/--subscription (--client-cert/--client-key for a production RP), else "
    "AROCLI_ENDPOINT/AROCLI_CA_FILE/AROCLI_SUBSCRIPTION (AROCLI_CLIENT_CERT/AROCLI_CLIENT_KEY), else "
    "~/.config/aro/client.yaml ($AROCLI_CONFIG), else https://localhost:8443 with ./.aro/certs/ca.crt."
)
CONNECTION = "Connection"
_CONNECTION_OPTIONS = [
    inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None, typer.Option(flag, help=help_, rich_help_panel=CONNECTION, show_default=False)
        ],
    )
    for name, flag, help_ in (
        ("endpoint", "--endpoint", "RP URL [env AROCLI_ENDPOINT; default https://localhost:8443]"),
        ("ca_file", "--ca-file", "CA bundle that signs the RP's certificate [env AROCLI_CA_FILE]"),
        ("subscription", "--subscription", "subscription id [env AROCLI_SUBSCRIPTION]"),
        ("client_cert", "--client-cert", "client certificate, PEM (production RP) [env AROCLI_CLIENT_CERT]"),
        ("client_key", "--client-key", "its private key, unless in --client-cert [env AROCLI_CLIENT_KEY]"),
    )
]

Registrar = Callable[[str], Callable[[Callable[..., None]], Callable[..., None]]]


def commands(app: typer.Typer) -> Registrar:
    """``@command(NAME)`` for ``app``."""

    def command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        def register(fn: Callable[..., None]) -> Callable[..., None]:
            sig = inspect.signature(fn, eval_str=True)
            params = [*list(sig.parameters.values())[1:], *_CONNECTION_OPTIONS]

            def wrapper(**kwargs: Any) -> None:
                flags = {p.name: kwargs.pop(p.name) for p in _CONNECTION_OPTIONS}
                code = run(lambda inv: fn(inv, **kwargs), flags)
                if code:
                    raise typer.Exit(code)

            wrapper.__signature__ = sig.replace(parameters=params, return_annotation=None)  # type: ignore[attr-defined]
            wrapper.__annotations__ = {p.name: p.annotation for p in params}
            wrapper.__doc__ = fn.__doc__
            wrapper.__name__ = fn.__name__
            app.command(name)(wrapper)
            return fn

        return register

    return command


ResourceGroup = Annotated[str, typer.Option("--resource-group", "-g", help="resource group", show_default=False)]
ListResourceGroup = Annotated[
    str | None, typer.Option("--resource-group", "-g", help="resource group (default: the whole subscription)")
]
Output = Annotated[Format, typer.Option("--output", "-o", help="output format")]
NoWait = Annotated[bool, typer.Option("--no-wait", help="return once the RP accepted the request")]
Location = Annotated[str | None, typer.Option("--location", "-l", help="location [env AROCLI_LOCATION; eastus]")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]
Force = Annotated[bool, typer.Option("--force", help="overwrite an existing file")]
Tags = Annotated[list[str] | None, typer.Option("--tags", help="KEY=VALUE (repeatable)")]
UpdateTags = Annotated[
    list[str] | None, typer.Option("--tags", help='KEY=VALUE (repeatable; replaces all tags; "" clears)')
]
