"""`aro cluster`: manage clusters through the RP's public ARM API, in the spirit of `az aro`.

Thin typer wiring over aro.cli (``aro_cmd.options.commands``: the connection options and one error path).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from aro.cli import Format, Invocation
from aro.cli.clusters import (
    CLUSTER_TABLE,
    CREDENTIALS_TABLE,
    VERSIONS_TABLE,
    CreateOptions,
    read_pull_secret,
)
from aro.cli.common import confirm, parse_tags, write_private_file
from aro_cmd.options import (
    CONNECTION_HELP,
    ListResourceGroup,
    Location,
    NoWait,
    Output,
    ResourceGroup,
    Tags,
    UpdateTags,
    Yes,
    commands,
)

cluster = typer.Typer(
    no_args_is_help=True,
    help=f"Manage clusters through the RP's ARM API (like az aro). {CONNECTION_HELP}",
)
command = commands(cluster)

Name = Annotated[str, typer.Argument(help="cluster name", show_default=False)]


@command("create")
def create(
    inv: Invocation,
    name: Name,
    resource_group: ResourceGroup,
    location: Location = None,
    pull_secret: Annotated[
        str | None, typer.Option("--pull-secret", help="pull secret, or @FILE to read it from FILE")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="service principal client id (default: a placeholder)")
    ] = None,
    client_secret: Annotated[str | None, typer.Option("--client-secret", help="service principal secret")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="cluster domain (default: random)")] = None,
    cluster_resource_group: Annotated[
        str | None, typer.Option("--cluster-resource-group", help="managed resource group (default: aro-RANDOM)")
    ] = None,
    version: Annotated[str, typer.Option("--version", help="OpenShift version (default: the RP's)")] = "",
    worker_count: Annotated[int, typer.Option("--worker-count", min=1, help="number of worker VMs")] = 3,
    master_vm_size: Annotated[str, typer.Option("--master-vm-size")] = "Standard_D8s_v5",
    worker_vm_size: Annotated[str, typer.Option("--worker-vm-size")] = "Standard_D4s_v5",
    worker_vm_disk_size_gb: Annotated[int, typer.Option("--worker-vm-disk-size-gb", min=128)] = 128,
    pod_cidr: Annotated[str, typer.Option("--pod-cidr")] = "10.128.0.0/14",
    service_cidr: Annotated[str, typer.Option("--service-cidr")] = "172.30.0.0/16",
    vnet: Annotated[str | None, typer.Option("--vnet", help="virtual network (default: NAME-vnet)")] = None,
    vnet_resource_group: Annotated[
        str | None, typer.Option("--vnet-resource-group", help="the vnet's resource group (default: -g)")
    ] = None,
    master_subnet: Annotated[str, typer.Option("--master-subnet", help="subnet name or resource id")] = "master",
    worker_subnet: Annotated[str, typer.Option("--worker-subnet", help="subnet name or resource id")] = "worker",
    apiserver_visibility: Annotated[str, typer.Option("--apiserver-visibility", help="Public|Private")] = "Public",
    ingress_visibility: Annotated[str, typer.Option("--ingress-visibility", help="Public|Private")] = "Public",
    fips: Annotated[bool, typer.Option("--fips", help="FIPS validated modules")] = False,
    tags: Tags = None,
    no_wait: NoWait = False,
    output: Output = Format.JSON,
) -> None:
    """Create a cluster and wait until it is Succeeded (progress on stderr; exit 1 if the install fails)."""
    opts = CreateOptions(
        location=location,
        pull_secret=read_pull_secret(pull_secret),
        client_id=client_id,
        client_secret=client_secret,
        domain=domain,
        cluster_resource_group=cluster_resource_group,
        version=version,
        worker_count=worker_count,
        master_vm_size=master_vm_size,
        worker_vm_size=worker_vm_size,
        worker_disk_size_gb=worker_vm_disk_size_gb,
        pod_cidr=pod_cidr,
        service_cidr=service_cidr,
        vnet=vnet,
        vnet_resource_group=vnet_resource_group,
        master_subnet=master_subnet,
        worker_subnet=worker_subnet,
        apiserver_visibility=apiserver_visibility,
        ingress_visibility=ingress_visibility,
        fips=fips,
        tags=parse_tags(tags or []),
    )
    result = inv.clusters.create(resource_group, name, opts, wait=not no_wait)
    inv.printer.result(result, output, CLUSTER_TABLE)


@command("show")
def show(inv: Invocation, name: Name, resource_group: ResourceGroup, output: Output = Format.JSON) -> None:
    """Show a cluster."""
    inv.printer.result(inv.clusters.show(resource_group, name), output, CLUSTER_TABLE)


@command("list")
def list_(
    inv: Invocation,
    resource_group: ListResourceGroup = None,
    output: Output = Format.TABLE,
) -> None:
    """List the clusters of a resource group or of the subscription (every page)."""
    inv.printer.result(inv.clusters.list_clusters(resource_group), output, CLUSTER_TABLE)


@command("update")
def update(
    inv: Invocation,
    name: Name,
    resource_group: ResourceGroup,
    tags: UpdateTags = None,
    outbound_ip_count: Annotated[
        int | None, typer.Option("--outbound-ip-count", min=1, max=20, help="managed outbound IPs (1-20)")
    ] = None,
    worker_count: Annotated[
        int | None, typer.Option("--worker-count", min=1, help="scale workers (api-version 2019-12-31-preview)")
    ] = None,
    worker_profile: Annotated[
        str | None, typer.Option("--worker-profile", help="the worker profile --worker-count scales")
    ] = None,
    no_wait: NoWait = False,
    output: Output = Format.JSON,
) -> None:
    """Update a cluster (tags, outbound IPs, worker count) and wait until it is Succeeded."""
    result = inv.clusters.update(
        resource_group,
        name,
        tags=parse_tags(tags) if tags is not None else None,
        outbound_ip_count=outbound_ip_count,
        worker_count=worker_count,
        worker_profile=worker_profile,
        wait=not no_wait,
    )
    inv.printer.result(result, output, CLUSTER_TABLE)


@command("delete")
def delete(
    inv: Invocation,
    name: Name,
    resource_group: ResourceGroup,
    yes: Yes = False,
    no_wait: NoWait = False,
) -> None:
    """Delete a cluster (asks first unless --yes; without a terminal, --yes is required)."""
    confirm(
        f"Delete cluster {name!r} in resource group {resource_group!r}?",
        assume_yes=yes,
        interactive=sys.stdin.isatty(),
    )
    inv.clusters.delete(resource_group, name, wait=not no_wait)


@command("list-credentials")
def list_credentials(inv: Invocation, name: Name, resource_group: ResourceGroup, output: Output = Format.JSON) -> None:
    """Show the kubeadmin username and password."""
    inv.printer.result(inv.clusters.list_credentials(resource_group, name), output, CREDENTIALS_TABLE)


@command("get-admin-kubeconfig")
def get_admin_kubeconfig(
    inv: Invocation,
    name: Name,
    resource_group: ResourceGroup,
    file: Annotated[Path, typer.Option("--file", "-f", help="where to write it ('-' = stdout)")] = Path("kubeconfig"),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write the admin kubeconfig (mode 0600; an existing file is kept unless --force)."""
    text = inv.clusters.admin_kubeconfig(resource_group, name)
    if str(file) == "-":
        sys.stdout.write(text)
        return
    write_private_file(file, text, force)
    inv.printer.note(f"wrote {file}; export KUBECONFIG={file.resolve()}", style="green")


@command("versions")
def versions(inv: Invocation, location: Location = None, output: Output = Format.TABLE) -> None:
    """List the OpenShift versions the RP installs."""
    inv.printer.result(inv.clusters.versions(location), output, VERSIONS_TABLE)


def register(app: typer.Typer) -> None:
    app.add_typer(cluster, name="cluster")
