"""`aro admin`: operator commands that read the store directly."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from aro_cmd.rp import ConfigOpt, DataDirOpt, load_config

admin = typer.Typer(no_args_is_help=True, help="Operator commands (read the store directly).")


@admin.command("kubeconfig")
def kubeconfig_cmd(
    resource_id: Annotated[str, typer.Argument(help="the cluster's ARM resource id")],
    file: Annotated[Path, typer.Option("--file", "-f", help="where to write the kubeconfig ('-' = stdout)")] = Path(
        "admin.kubeconfig"
    ),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Write a Succeeded cluster's admin kubeconfig (decrypted from the store)."""
    from aro.admin.kubeconfig import AdminError, admin_kubeconfig
    from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
    from aro.database.codec import SealedCodec
    from aro.run import open_store, sealer_for

    cfg = load_config(config, {"dataDirectory": data_dir and str(data_dir)})

    async def fetch() -> str:
        store = await open_store(cfg)
        try:
            return await admin_kubeconfig(store, SealedCodec.of(OPENSHIFT_CLUSTERS, sealer_for(cfg)), resource_id)
        finally:
            await store.close()

    try:
        text = asyncio.run(fetch())
    except AdminError as e:
        typer.echo(f"aro admin: {e}", err=True)
        raise typer.Exit(1) from None
    if str(file) == "-":
        sys.stdout.write(text)
        return
    if file.exists() and not force:
        typer.echo(f"aro admin: {file} exists; use --force to overwrite", err=True)
        raise typer.Exit(1)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    typer.echo(f"wrote {file}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(admin, name="admin")
