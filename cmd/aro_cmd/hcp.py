"""`aro hcp`: hosted clusters (ARO-HCP, api-version 2026-10-01), their node pools and the versions catalog,
through the RP's public ARM API. Thin typer wiring over aro.cli.hcp (``aro_cmd.options.commands``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from aro.cli import Format, Invocation
from aro.cli.common import confirm, parse_tags, refuse_existing, write_private_file
from aro.cli.errors import UsageError
from aro.cli.hcp import CLUSTER_TABLE, CREDENTIAL_TABLE, NODEPOOL_TABLE, VERSIONS_TABLE
from aro.cli.hcpbodies import (
    DEFAULT_CHANNEL_GROUP,
    DEFAULT_REPLICAS,
    DEFAULT_VM_SIZE,
    ClusterOptions,
    NodePoolOptions,
    cluster_update_body,
    nodepool_update_body,
    parse_cidrs,
    parse_labels,
    parse_taints,
    scale_of,
)
from aro_cmd.options import (
    CONNECTION_HELP,
    Force,
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

hcp = typer.Typer(
    no_args_is_help=True,
    help=f"Hosted control plane clusters (ARO-HCP, api-version 2026-10-01). {CONNECTION_HELP}",
)
cluster = typer.Typer(no_args_is_help=True, help="Manage hosted clusters (hcpOpenShiftClusters).")
nodepool = typer.Typer(no_args_is_help=True, help="Manage the node pools of a hosted cluster.")
hcp.add_typer(cluster, name="cluster")
hcp.add_typer(nodepool, name="nodepool")
cluster_command, nodepool_command, hcp_command = commands(cluster), commands(nodepool), commands(hcp)

ClusterName = Annotated[str, typer.Option("--name", "-n", help="cluster name", show_default=False)]
ParentCluster = Annotated[str, typer.Option("--cluster", "-c", help="the hosted cluster", show_default=False)]
PoolName = Annotated[str, typer.Option("--name", "-n", help="node pool name", show_default=False)]
ChannelGroup = Annotated[str, typer.Option("--channel-group", help="stable|fast (candidate|nightly: AFEC)")]
DrainTimeout = Annotated[
    int | None, typer.Option("--node-drain-timeout", min=0, max=10080, help="node drain timeout in minutes")
]
Replicas = Annotated[int | None, typer.Option("--replicas", min=0, help="a fixed number of nodes")]
Min = Annotated[int | None, typer.Option("--min", min=0, help="autoscaling: fewest nodes (with --max)")]
Max = Annotated[int | None, typer.Option("--max", min=0, help="autoscaling: most nodes (with --min)")]
Labels = Annotated[list[str] | None, typer.Option("--label", help="KEY=VALUE (repeatable)")]
Taints = Annotated[list[str] | None, typer.Option("--taint", help="KEY=VALUE:EFFECT or KEY:EFFECT (repeatable)")]


# --- aro hcp cluster -------------------------------------------------------------------------------


@cluster_command("create")
def cluster_create(
    inv: Invocation,
    resource_group: ResourceGroup,
    name: ClusterName,
    version: Annotated[str, typer.Option("--version", help="OpenShift version X.Y", show_default=False)],
    channel_group: ChannelGroup = DEFAULT_CHANNEL_GROUP,
    location: Location = None,
    subnet_id: Annotated[str | None, typer.Option("--subnet-id", help="the worker subnet's resource id")] = None,
    vnet: Annotated[str | None, typer.Option("--vnet", help="vnet in -g (default: NAME-vnet)")] = None,
    subnet: Annotated[str, typer.Option("--subnet", help="subnet name in --vnet")] = "default",
    nsg_id: Annotated[str | None, typer.Option("--nsg-id", help="the network security group's resource id")] = None,
    nsg: Annotated[str | None, typer.Option("--nsg", help="network security group in -g (default: NAME-nsg)")] = None,
    vnet_integration_subnet: Annotated[
        str | None, typer.Option("--vnet-integration-subnet", help="subnet name in the vnet, or id (Private API)")
    ] = None,
    managed_resource_group: Annotated[
        str | None, typer.Option("--managed-resource-group", help="default: aro-hcp-NAME-UUID")
    ] = None,
    api_visibility: Annotated[str, typer.Option("--api-visibility", help="Public|Private")] = "Public",
    tags: Tags = None,
    no_wait: NoWait = False,
    output: Output = Format.JSON,
) -> None:
    """Create a hosted cluster and wait until it is Succeeded (progress on stderr). Its operator identities
    are NAME-cp-OPERATOR, NAME-dp-OPERATOR and NAME-service in -g."""
    opts = ClusterOptions(
        version=version,
        location=location,
        channel_group=channel_group,
        subnet_id=subnet_id,
        vnet=vnet,
        subnet=subnet,
        nsg_id=nsg_id,
        nsg=nsg,
        vnet_integration_subnet=vnet_integration_subnet,
        managed_resource_group=managed_resource_group,
        api_visibility=api_visibility,
        tags=parse_tags(tags or []),
    )
    inv.printer.result(inv.hcp.create_cluster(resource_group, name, opts, wait=not no_wait), output, CLUSTER_TABLE)


@cluster_command("show")
def cluster_show(
    inv: Invocation, resource_group: ResourceGroup, name: ClusterName, output: Output = Format.JSON
) -> None:
    """Show a hosted cluster."""
    inv.printer.result(inv.hcp.show_cluster(resource_group, name), output, CLUSTER_TABLE)


@cluster_command("list")
def cluster_list(inv: Invocation, resource_group: ListResourceGroup = None, output: Output = Format.TABLE) -> None:
    """List the hosted clusters of a resource group or of the subscription."""
    inv.printer.result(inv.hcp.list_clusters(resource_group), output, CLUSTER_TABLE)


@cluster_command("update")
def cluster_update(
    inv: Invocation,
    resource_group: ResourceGroup,
    name: ClusterName,
    tags: UpdateTags = None,
    version: Annotated[str | None, typer.Option("--version", help="upgrade the control plane to X.Y")] = None,
    authorized_cidrs: Annotated[
        list[str] | None,
        typer.Option("--authorized-cidrs", help='API server allow-list (repeatable or comma-separated; "" clears)'),
    ] = None,
    node_drain_timeout: DrainTimeout = None,
    no_wait: NoWait = False,
    output: Output = Format.JSON,
) -> None:
    """Update a hosted cluster (tags, version, authorized CIDRs, node drain timeout) and wait."""
    body = cluster_update_body(
        tags=parse_tags(tags) if tags is not None else None,
        version=version,
        authorized_cidrs=parse_cidrs(authorized_cidrs) if authorized_cidrs is not None else None,
        node_drain_timeout=node_drain_timeout,
    )
    inv.printer.result(inv.hcp.update_cluster(resource_group, name, body, wait=not no_wait), output, CLUSTER_TABLE)


@cluster_command("delete")
def cluster_delete(
    inv: Invocation, resource_group: ResourceGroup, name: ClusterName, yes: Yes = False, no_wait: NoWait = False
) -> None:
    """Delete a hosted cluster and its node pools (asks first unless --yes)."""
    confirm(
        f"Delete hosted cluster {name!r} in resource group {resource_group!r}?",
        assume_yes=yes,
        interactive=sys.stdin.isatty(),
    )
    inv.hcp.delete_cluster(resource_group, name, wait=not no_wait)


@cluster_command("request-admin-credential")
def cluster_request_admin_credential(
    inv: Invocation,
    resource_group: ResourceGroup,
    name: ClusterName,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="where to write it ('-' = stdout) [default: ./NAME.kubeconfig]")
    ] = None,
    force: Force = False,
    output: Output = Format.TABLE,
) -> None:
    """Request a break-glass admin kubeconfig (valid about 24 h): a key and CSR generated here, the RP signs
    it; the kubeconfig is written with the key (mode 0600; an existing file is kept unless --force)."""
    path = file if file is not None else Path(f"{name}.kubeconfig")
    if str(path) != "-":
        refuse_existing(path, force)  # before asking the RP for a credential
    text, expires = inv.hcp.request_admin_credential(resource_group, name)
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        inv.printer.note(f"expires {expires}")
        return
    write_private_file(path, text, force)
    inv.printer.note(f"wrote {path}; kubectl --kubeconfig {path} get nodes", style="green")
    inv.printer.result({"kubeconfig": str(path), "expirationTimestamp": expires}, output, CREDENTIAL_TABLE)


@cluster_command("revoke-credentials")
def cluster_revoke_credentials(
    inv: Invocation, resource_group: ResourceGroup, name: ClusterName, yes: Yes = False, no_wait: NoWait = False
) -> None:
    """Revoke every admin credential issued for a hosted cluster (asks first unless --yes)."""
    confirm(
        f"Revoke every admin credential of hosted cluster {name!r} in resource group {resource_group!r}?",
        assume_yes=yes,
        interactive=sys.stdin.isatty(),
    )
    inv.hcp.revoke_credentials(resource_group, name, wait=not no_wait)


# --- aro hcp nodepool ------------------------------------------------------------------------------


@nodepool_command("create")
def nodepool_create(
    inv: Invocation,
    cluster: ParentCluster,
    resource_group: ResourceGroup,
    name: PoolName,
    version: Annotated[
        str, typer.Option("--version", help="X.Y.Z (default: the newest enabled of the cluster's X.Y)")
    ] = "",
    channel_group: ChannelGroup = DEFAULT_CHANNEL_GROUP,
    vm_size: Annotated[str, typer.Option("--vm-size")] = DEFAULT_VM_SIZE,
    replicas: Replicas = None,
    min_: Min = None,
    max_: Max = None,
    label: Labels = None,
    taint: Taints = None,
    subnet_id: Annotated[str | None, typer.Option("--subnet-id", help="default: the cluster's subnet")] = None,
    os_disk_size_gib: Annotated[int | None, typer.Option("--os-disk-size-gib", min=64)] = None,
    tags: Tags = None,
    no_wait: NoWait = False,
    output: Output = Format.JSON,
) -> None:
    """Create a node pool (--replicas N, default 2, or autoscaling --min/--max) and wait."""
    scale = scale_of(replicas, min_, max_, default=DEFAULT_REPLICAS)
    assert scale is not None
    opts = NodePoolOptions(
        version=version,
        scale=scale,
        channel_group=channel_group,
        vm_size=vm_size,
        subnet_id=subnet_id,
        os_disk_size_gib=os_disk_size_gib,
        labels=parse_labels(label or []),
        taints=parse_taints(taint or []),
        tags=parse_tags(tags or []),
    )
    result = inv.hcp.create_nodepool(resource_group, cluster, name, opts, wait=not no_wait)
    inv.printer.result(result, output, NODEPOOL_TABLE)


@nodepool_command("show")
def nodepool_show(
    inv: Invocation, cluster: ParentCluster, resource_group: ResourceGroup, name: PoolName, output: Output = Format.JSON
) -> None:
    """Show a node pool."""
    inv.printer.result(inv.hcp.show_nodepool(resource_group, cluster, name), output, NODEPOOL_TABLE)


@nodepool_command("list")
def nodepool_list(
    inv: Invocation, cluster: ParentCluster, resource_group: ResourceGroup, output: Output = Format.TABLE
) -> None:
    """List the node pools of a hosted cluster."""
    inv.printer.result(inv.hcp.list_nodepools(resource_group, cluster), output, NODEPOOL_TABLE)


@nodepool_command("scale")
def nodepool_scale(
    inv: Invocation,
    cluster: ParentCluster,
    resource_group: ResourceGroup,
    name: PoolName,
    replicas: Replicas = None,
    min_: Min = None,
    max_: Max = None,
    no_wait: NoWait = False,
    output: Output = Format.JSON,
) -> None:
    """Scale a node pool to --replicas N, or switch it to autoscaling with --min/--max (and back), and wait."""
    scale = scale_of(replicas, min_, max_)
    if scale is None:
        raise UsageError("give --replicas N, or --min N --max M")
    result = inv.hcp.scale_nodepool(resource_group, cluster, name, scale, wait=not no_wait)
    inv.printer.result(result, output, NODEPOOL_TABLE)


@nodepool_command("update")
def nodepool_update(
    inv: Invocation,
    cluster: ParentCluster,
    resource_group: ResourceGroup,
    name: PoolName,
    version: Annotated[str | None, typer.Option("--version", help="upgrade the nodes to X.Y.Z")] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help='KEY=VALUE (repeatable; replaces all labels; "" clears)')
    ] = None,
    taint: Annotated[
        list[str] | None, typer.Option("--taint", help='KEY[=VALUE]:EFFECT (repeatable; replaces all; "" clears)')
    ] = None,
    node_drain_timeout: DrainTimeout = None,
    tags: UpdateTags = None,
    no_wait: NoWait = False,
    output: Output = Format.JSON,
) -> None:
    """Update a node pool (version, labels, taints, drain timeout, tags) and wait. Labels apply to new nodes."""
    body = nodepool_update_body(
        version=version,
        labels=parse_labels(label) if label is not None else None,
        taints=parse_taints(taint) if taint is not None else None,
        node_drain_timeout=node_drain_timeout,
        tags=parse_tags(tags) if tags is not None else None,
    )
    result = inv.hcp.update_nodepool(resource_group, cluster, name, body, wait=not no_wait)
    inv.printer.result(result, output, NODEPOOL_TABLE)


@nodepool_command("delete")
def nodepool_delete(
    inv: Invocation,
    cluster: ParentCluster,
    resource_group: ResourceGroup,
    name: PoolName,
    yes: Yes = False,
    no_wait: NoWait = False,
) -> None:
    """Delete a node pool (asks first unless --yes)."""
    confirm(f"Delete node pool {name!r} of cluster {cluster!r}?", assume_yes=yes, interactive=sys.stdin.isatty())
    inv.hcp.delete_nodepool(resource_group, cluster, name, wait=not no_wait)


# --- aro hcp versions ------------------------------------------------------------------------------


@hcp_command("versions")
def versions(
    inv: Invocation,
    location: Location = None,
    channel_group: Annotated[str | None, typer.Option("--channel-group", help="only this channel group")] = None,
    output: Output = Format.TABLE,
) -> None:
    """List the OpenShift versions hosted clusters and node pools may use (hcpOpenShiftVersions)."""
    inv.printer.result(inv.hcp.versions(location, channel_group), output, VERSIONS_TABLE)


def register(app: typer.Typer) -> None:
    app.add_typer(hcp, name="hcp")
