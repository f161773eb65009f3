"""The `aro` command. The server commands (`aro rp|frontend|backend|simulator`) load only their own
module: a client command's dependencies would only delay the RP's start."""

from __future__ import annotations

import sys

import typer

from aro_cmd import rp

SERVER_COMMANDS = frozenset({"rp", "frontend", "backend", "simulator"})
HELP = "aro: a resource provider for OpenShift clusters"


def build(server_only: bool = False) -> typer.Typer:
    app = typer.Typer(no_args_is_help=True, add_completion=False, help=HELP)
    rp.register(app)
    if not server_only:
        from aro_cmd import admin, backplane, cluster, hcp, ocm

        admin.register(app)
        cluster.register(app)
        hcp.register(app)
        ocm.register(app)
        backplane.register(app)
    return app


_app: list[typer.Typer] = []


def __getattr__(name: str) -> typer.Typer:
    """``aro_cmd.main.app``: every command (built on first use, for tests and embedding)."""
    if name != "app":
        raise AttributeError(name)
    if not _app:
        _app.append(build())
    return _app[0]


def main() -> None:
    build(server_only=sys.argv[1:2] != [] and sys.argv[1] in SERVER_COMMANDS)()


if __name__ == "__main__":
    main()
