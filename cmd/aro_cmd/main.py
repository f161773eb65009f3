"""The `aro` command."""

from __future__ import annotations

import typer

from aro_cmd import admin, backplane, cluster, hcp, ocm, rp

app = typer.Typer(no_args_is_help=True, add_completion=False, help="aro: a resource provider for OpenShift clusters")
rp.register(app)
admin.register(app)
cluster.register(app)
hcp.register(app)
ocm.register(app)
backplane.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
