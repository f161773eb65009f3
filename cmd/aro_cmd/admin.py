"""`aro admin`: operator (SRE) commands. Day-2 changes and views go through the RP's admin API (`/admin` +
a resource's ARM id; thin typer wiring over aro.cli.admin); `kubeconfig` reads the store directly."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from aro.cli import Format, Invocation
from aro.cli.admin import (
    ACCEPTED_TABLE,
    BACKUP_TABLE,
    CLASSIC,
    DOCUMENT_TABLE,
    FeatureSet,
    Kind,
    ListType,
    MaintenanceTask,
    Target,
    paused_until,
)
from aro.cli.common import confirm, refuse_existing, write_private_file
from aro_cmd.options import CONNECTION_HELP, Force, NoWait, Output, Yes, commands
from aro_cmd.rp import ConfigOpt, DataDirOpt, load_config

admin = typer.Typer(
    no_args_is_help=True,
    help="Operator commands: day-2 changes and views over the RP's admin API (a production RP wants the admin "
    "client certificate, --client-cert); `kubeconfig` reads the store directly. Address a resource with --id "
    "ARM_ID, or -g RG -n NAME [--type hcp|classic]; a node pool with -n CLUSTER --nodepool POOL. " + CONNECTION_HELP,
)
admin_command = commands(admin)

ADDRESSING = "Resource"
Id = Annotated[
    str | None,
    typer.Option("--id", help="the resource's ARM id (instead of -g/-n)", rich_help_panel=ADDRESSING),
]
ResourceGroup = Annotated[
    str | None, typer.Option("--resource-group", "-g", help="resource group", rich_help_panel=ADDRESSING)
]
Name = Annotated[
    str | None,
    typer.Option("--name", "-n", help="cluster name (a node pool's with --cluster)", rich_help_panel=ADDRESSING),
]
ClusterType = Annotated[
    Kind | None,
    typer.Option("--type", help="what -n names [default: hcp]", rich_help_panel=ADDRESSING, show_default=False),
]
Cluster = Annotated[
    str | None,
    typer.Option("--cluster", help="node pool -n of this hosted cluster", rich_help_panel=ADDRESSING),
]
NodePool = Annotated[
    str | None,
    typer.Option("--nodepool", help="node pool POOL of hosted cluster -n", rich_help_panel=ADDRESSING),
]


def _target(
    inv: Invocation,
    id_: str | None,
    rg: str | None,
    name: str | None,
    kind: Kind | None = None,
    cluster: str | None = None,
    nodepool: str | None = None,
) -> Target:
    return inv.admin.target(
        resource_id=id_, resource_group=rg, name=name, cluster=cluster, nodepool=nodepool, kind=kind
    )


# --- admin updates ---------------------------------------------------------------------------------


@admin_command("pause")
def pause(
    inv: Invocation,
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    cluster: Cluster = None,
    nodepool: NodePool = None,
    until: Annotated[
        str | None, typer.Option("--until", help="RFC 3339 time the pause ends (e.g. 2030-01-02T15:04:05Z)")
    ] = None,
    forever: Annotated[bool, typer.Option("--forever", help="until `aro admin resume` (the default)")] = False,
    no_wait: NoWait = False,
    output: Output = Format.TABLE,
) -> None:
    """Pause the reconciliation of a hosted cluster or node pool (pausedUntil), and wait."""
    value = paused_until(until, forever)
    target = _target(inv, id_, resource_group, name, None, cluster, nodepool)
    inv.printer.result(inv.admin.pause(target, value, wait=not no_wait), output, DOCUMENT_TABLE)


@admin_command("resume")
def resume(
    inv: Invocation,
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    cluster: Cluster = None,
    nodepool: NodePool = None,
    no_wait: NoWait = False,
    output: Output = Format.TABLE,
) -> None:
    """Resume the reconciliation of a paused hosted cluster or node pool (pausedUntil "false"), and wait."""
    target = _target(inv, id_, resource_group, name, None, cluster, nodepool)
    inv.printer.result(inv.admin.resume(target, wait=not no_wait), output, DOCUMENT_TABLE)


@admin_command("feature-set")
def feature_set(
    inv: Invocation,
    value: Annotated[FeatureSet, typer.Argument(help="the feature set", show_default=False)],
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    yes: Yes = False,
    no_wait: NoWait = False,
    output: Output = Format.TABLE,
) -> None:
    """Set a hosted cluster's feature set (irreversible: asks first unless --yes), and wait."""
    target = _target(inv, id_, resource_group, name)
    confirm(
        f"Set the feature set of {target.describe()} to {value.value} (irreversible; it blocks minor upgrades)?",
        assume_yes=yes,
        interactive=sys.stdin.isatty(),
    )
    inv.printer.result(inv.admin.feature_set(target, value, wait=not no_wait), output, DOCUMENT_TABLE)


@admin_command("desired-version")
def desired_version(
    inv: Invocation,
    version: Annotated[str, typer.Argument(help="X.Y.Z", show_default=False)],
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    no_wait: NoWait = False,
    output: Output = Format.TABLE,
) -> None:
    """Move a hosted cluster's control plane to the release X.Y.Z (instead of the newest of its X.Y), and wait."""
    target = _target(inv, id_, resource_group, name)
    inv.printer.result(inv.admin.desired_version(target, version, wait=not no_wait), output, DOCUMENT_TABLE)


@admin_command("maintenance")
def maintenance(
    inv: Invocation,
    task: Annotated[MaintenanceTask, typer.Argument(help="the maintenance task", show_default=False)],
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="classic cluster name", rich_help_panel=ADDRESSING)
    ] = None,
    no_wait: NoWait = False,
    output: Output = Format.TABLE,
) -> None:
    """Run a maintenance task on a classic cluster and wait (OperatorUpdate redeploys, CertificatesRenewal
    re-issues its certificates, Everything does both)."""
    target = _target(inv, id_, resource_group, name, None if id_ else Kind(CLASSIC))
    inv.printer.result(inv.admin.maintenance(target, task, wait=not no_wait), output, DOCUMENT_TABLE)


# --- etcd backups ----------------------------------------------------------------------------------


@admin_command("backup")
def backup(
    inv: Invocation,
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    no_wait: NoWait = False,
    output: Output = Format.TABLE,
) -> None:
    """Back up a hosted cluster's etcd and wait; prints the backup (id, snapshotURL, createdAt)."""
    target = _target(inv, id_, resource_group, name)
    result = inv.admin.backup(target, wait=not no_wait)
    inv.printer.result(result, output, ACCEPTED_TABLE if result.get("status") == "Accepted" else BACKUP_TABLE)


@admin_command("backups")
def backups(
    inv: Invocation,
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    output: Output = Format.TABLE,
) -> None:
    """List a hosted cluster's etcd backups (oldest first)."""
    inv.printer.result(inv.admin.backups(_target(inv, id_, resource_group, name)), output, BACKUP_TABLE)


@admin_command("restore")
def restore(
    inv: Invocation,
    snapshot_url: Annotated[
        str, typer.Option("--snapshot-url", help="an etcd backup's snapshotURL", show_default=False)
    ],
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    yes: Yes = False,
    no_wait: NoWait = False,
    output: Output = Format.TABLE,
) -> None:
    """Restore a hosted cluster's etcd from a backup and wait (replaces its state: asks first unless --yes)."""
    target = _target(inv, id_, resource_group, name)
    confirm(
        f"Replace the etcd state of {target.describe()} with the backup at {snapshot_url}?",
        assume_yes=yes,
        interactive=sys.stdin.isatty(),
    )
    result = inv.admin.restore(target, snapshot_url, wait=not no_wait)
    accepted = isinstance(result, dict) and result.get("status") == "Accepted"
    inv.printer.result(result, output, ACCEPTED_TABLE if accepted else DOCUMENT_TABLE)


# --- views -----------------------------------------------------------------------------------------


@admin_command("diagnostics")
def diagnostics(
    inv: Invocation,
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    kind: ClusterType = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="where to write it ('-' = stdout) [default: ./NAME-diagnostics.tar.gz]"),
    ] = None,
    force: Force = False,
) -> None:
    """Download a cluster's diagnostics: a tar.gz (mode 0600; an existing file is kept unless --force)."""
    target = _target(inv, id_, resource_group, name, kind)
    path = file if file is not None else Path(f"{target.name}-diagnostics.tar.gz")
    if str(path) != "-":
        refuse_existing(path, force)  # before asking the RP for it
    archive = inv.admin.diagnostics(target)
    if str(path) == "-":
        sys.stdout.buffer.write(archive)
        sys.stdout.flush()
        return
    write_private_file(path, archive, force)
    inv.printer.note(f"wrote {path} ({len(archive)} bytes); tar tzf {path}", style="green")


@admin_command("metrics")
def metrics(
    inv: Invocation,
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    kind: ClusterType = None,
) -> None:
    """Print a cluster's control-plane metrics (Prometheus text)."""
    text = inv.admin.metrics(_target(inv, id_, resource_group, name, kind))
    if not text:
        inv.printer.note("(no metrics)")
        return
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


@admin_command("show")
def show(
    inv: Invocation,
    id_: Id = None,
    resource_group: ResourceGroup = None,
    name: Name = None,
    kind: ClusterType = None,
    cluster: Cluster = None,
    nodepool: NodePool = None,
    output: Output = Format.JSON,
) -> None:
    """Show a resource's stored document (lease, operation, step progress and history; secrets removed)."""
    target = _target(inv, id_, resource_group, name, kind, cluster, nodepool)
    inv.printer.result(inv.admin.show(target), output, DOCUMENT_TABLE)


@admin_command("list")
def list_(
    inv: Invocation,
    kind: Annotated[ListType, typer.Option("--type", help="what to list")] = ListType.HCP,
    output: Output = Format.TABLE,
) -> None:
    """List every stored document of a type, across subscriptions."""
    inv.printer.result(inv.admin.list_documents(kind), output, DOCUMENT_TABLE)


# --- read from the store ---------------------------------------------------------------------------


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
