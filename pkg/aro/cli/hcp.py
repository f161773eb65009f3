"""The ``aro hcp`` operations: hosted clusters (``hcpOpenShiftClusters``), their node pools and the versions
catalog, over the RP's ARM API at api-version 2026-10-01, as the SDK ``azure-mgmt-redhatopenshifthcp``
performs them.

Creates answer 201 + Azure-AsyncOperation; PATCH, DELETE and the cluster's actions answer 202 + Location +
Azure-AsyncOperation. Waiting polls the Azure-AsyncOperation (``aro.cli.lro``); an action's result is then
read at its Location (requestAdminCredential 200 with the credential, revokeCredentials 204).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from aro.cli.client import ArmClient
from aro.cli.common import PROVIDER, get_path, resource_group_of
from aro.cli.errors import ArmError, CliError, UsageError
from aro.cli.hcpbodies import (
    ClusterOptions,
    NodePoolOptions,
    Scale,
    cluster_body,
    nodepool_body,
    nodepool_update_body,
)
from aro.cli.hcpcreds import new_request, with_private_key
from aro.cli.lro import Poller
from aro.cli.output import Printer, TableSpec

API_VERSION = "2026-10-01"
MAX_RESULT_POLLS = 30

# --- rendering -------------------------------------------------------------------------------------


def _nodes(np: Any) -> str | None:
    auto = get_path(np, "properties", "autoScaling")
    if isinstance(auto, dict) and auto:
        return f"{auto.get('min')}-{auto.get('max')} (autoscaling)"
    replicas = get_path(np, "properties", "replicas")
    return None if replicas is None else str(replicas)


def _parent_of(resource_id: str) -> str:
    """The cluster name in a node pool's id."""
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    i = lowered.index("hcpopenshiftclusters") if "hcpopenshiftclusters" in lowered else -1
    return parts[i + 1] if 0 <= i < len(parts) - 1 else ""


def _pairs(items: Any, taint: bool = False) -> str:
    if not isinstance(items, list):
        return ""
    out = []
    for i in items:
        if not isinstance(i, dict):
            continue
        text = f"{i.get('key')}={i.get('value')}" if i.get("value") else str(i.get("key"))
        out.append(f"{text}:{i.get('effect')}" if taint else text)
    return ",".join(out)


CLUSTER_TABLE: TableSpec = (
    ("Name", "ResourceGroup", "Location", "ProvisioningState", "Version", "ChannelGroup", "ApiVisibility", "ApiServer"),
    lambda c: (
        c.get("name"),
        resource_group_of(str(c.get("id", ""))),
        c.get("location"),
        get_path(c, "properties", "provisioningState"),
        get_path(c, "properties", "version", "id"),
        get_path(c, "properties", "version", "channelGroup"),
        get_path(c, "properties", "api", "visibility"),
        get_path(c, "properties", "api", "url"),
    ),
)
NODEPOOL_TABLE: TableSpec = (
    ("Name", "Cluster", "ProvisioningState", "Version", "VmSize", "Nodes", "Labels", "Taints"),
    lambda n: (
        n.get("name"),
        _parent_of(str(n.get("id", ""))),
        get_path(n, "properties", "provisioningState"),
        get_path(n, "properties", "version", "id"),
        get_path(n, "properties", "platform", "vmSize"),
        _nodes(n),
        _pairs(get_path(n, "properties", "labels")),
        _pairs(get_path(n, "properties", "taints"), taint=True),
    ),
)
VERSIONS_TABLE: TableSpec = (
    ("Version", "ChannelGroup", "Enabled", "EndOfLife"),
    lambda v: (
        v.get("name"),
        get_path(v, "properties", "channelGroup"),
        get_path(v, "properties", "enabled"),
        get_path(v, "properties", "endOfLifeTimestamp"),
    ),
)
CREDENTIAL_TABLE: TableSpec = (
    ("Kubeconfig", "ExpirationTimestamp"),
    lambda c: (c.get("kubeconfig"), c.get("expirationTimestamp")),
)

_RX_RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def release_key(name: str) -> tuple[int, int, int] | None:
    """``X.Y.Z`` as numbers; None for anything else (a pre-release, a nightly)."""
    m = _RX_RELEASE.match(name)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def newest_release(versions: list[Any], minor: str, channel_group: str) -> str | None:
    """The newest enabled ``X.Y.Z`` of ``minor`` (``X.Y``) in ``channel_group``."""
    found: list[tuple[tuple[int, int, int], str]] = []
    for v in versions:
        name = str(v.get("name") or "")
        key = release_key(name)
        props = v.get("properties") or {}
        if key is None or f"{key[0]}.{key[1]}" != minor:
            continue
        if props.get("channelGroup") == channel_group and props.get("enabled") is True:
            found.append((key, name))
    return max(found)[1] if found else None


# --- operations ------------------------------------------------------------------------------------


class Hcp:
    """One invocation's hosted-cluster operations (one ArmClient, one Printer)."""

    def __init__(self, arm: ArmClient, printer: Printer):
        self.arm = arm
        self.printer = printer
        self.settings = arm.settings
        self.poller = Poller(arm, printer.stderr)

    # paths

    def cluster_path(self, rg: str, name: str = "") -> str:
        sub = self.settings.subscription
        base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{PROVIDER}/hcpOpenShiftClusters"
        return f"{base}/{name}" if name else base

    def nodepool_path(self, rg: str, cluster: str, name: str = "") -> str:
        base = f"{self.cluster_path(rg, cluster)}/nodePools"
        return f"{base}/{name}" if name else base

    # helpers

    def _request(self, method: str, url: str, body: Any, ok: tuple[int, ...], **headers: str) -> httpx.Response:
        return self.arm.request(method, url, api_version=API_VERSION, body=body, headers=headers or None, ok=ok)

    def _wait(self, initial: httpx.Response, title: str, url: str, state: str | None = None) -> None:
        self.poller.wait(initial, title=title, resource_url=url, api_version=API_VERSION, initial_state=state)

    def _json(self, url: str) -> Any:
        return self.arm.json("GET", url, api_version=API_VERSION)

    def _action_result(self, initial: httpx.Response) -> httpx.Response:
        """The result of a finished action at the Location it was given (202 while not ready)."""
        location = initial.headers.get("location")
        if not location:
            raise CliError(f"the RP accepted {initial.request.url.path} without a Location for its result")
        for _ in range(MAX_RESULT_POLLS):
            r = self.arm.request("GET", location, api_version=API_VERSION, ok=(200, 202, 204))
            if r.status_code != 202:
                return r
            self.poller.sleep(self.settings.poll_interval)
        raise CliError(f"the operation's result at {location} is still not ready")

    def _create(self, url: str, body: Any, what: str, title: str, wait: bool, hint: str) -> Any:
        # If-None-Match: a create never silently replaces an existing resource (412 instead).
        try:
            r = self._request("PUT", url, body, (200, 201), **{"If-None-Match": "*"})
        except ArmError as e:
            if e.status == 412:
                raise CliError(f"{what} already exists", "change it with `update`, or delete it first") from None
            raise
        if not wait:
            return r.json()
        try:
            self._wait(r, title, url)
        except ArmError as e:
            if e.status is None:  # the operation failed (not the polling)
                e.hint = hint
            raise
        return self._json(url)

    def _patch(self, url: str, body: Any, title: str, wait: bool) -> Any:
        r = self._request("PATCH", url, body, (200, 201, 202))
        if r.status_code == 202 and wait:
            self._wait(r, title, url)
        elif r.status_code == 202:
            self.printer.note(f"{title[0].lower()}{title[1:]} (not waiting: --no-wait)")
        return self._json(url)

    def _delete(self, url: str, what: str, wait: bool) -> None:
        self._json(url)  # a missing resource is ResourceNotFound, not a silent 204
        r = self._request("DELETE", url, None, (200, 202, 204))
        if r.status_code == 202 and wait:
            self._wait(r, f"Deleting {what}", url, state="Deleting")
            self.printer.note(f"{what} deleted", style="green")
        elif r.status_code == 202:
            self.printer.note(f"deleting {what} (not waiting: --no-wait)")

    # clusters

    def create_cluster(self, rg: str, name: str, opts: ClusterOptions, wait: bool = True) -> Any:
        body = cluster_body(self.settings.subscription, rg, name, opts.location or self.settings.location, opts)
        return self._create(
            self.cluster_path(rg, name),
            body,
            f"hosted cluster {name!r} in resource group {rg!r}",
            f"Creating hosted cluster {name!r}",
            wait,
            f"the cluster is Failed: remove it with `aro hcp cluster delete {name} -g {rg} --yes`",
        )

    def show_cluster(self, rg: str, name: str) -> Any:
        return self._json(self.cluster_path(rg, name))

    def list_clusters(self, rg: str | None = None) -> list[Any]:
        sub = self.settings.subscription
        url = self.cluster_path(rg) if rg else f"/subscriptions/{sub}/providers/{PROVIDER}/hcpOpenShiftClusters"
        return list(self.arm.pages(url, api_version=API_VERSION))

    def update_cluster(self, rg: str, name: str, body: dict[str, Any], wait: bool = True) -> Any:
        return self._patch(self.cluster_path(rg, name), body, f"Updating hosted cluster {name!r}", wait)

    def delete_cluster(self, rg: str, name: str, wait: bool = True) -> None:
        self._delete(self.cluster_path(rg, name), f"hosted cluster {name!r}", wait)

    def request_admin_credential(self, rg: str, name: str) -> tuple[str, str]:
        """A kubeconfig for ``system:customer-break-glass:system-admin`` with the private key generated here,
        and its expiration (RFC 3339)."""
        request = new_request()
        url = self.cluster_path(rg, name)
        r = self._request("POST", url + "/requestAdminCredential", request.body(), (200, 202))
        if r.status_code == 202:
            self._wait(r, f"Requesting an admin credential for {name!r}", url)
            r = self._action_result(r)
        body = r.json() if r.content else None
        kubeconfig = body.get("kubeconfig") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(kubeconfig, str) or not kubeconfig:
            raise CliError("the RP's admin credential has no 'kubeconfig'")
        return with_private_key(kubeconfig, request.key_pem), str(body.get("expirationTimestamp") or "")

    def revoke_credentials(self, rg: str, name: str, wait: bool = True) -> None:
        url = self.cluster_path(rg, name)
        r = self._request("POST", url + "/revokeCredentials", None, (200, 202, 204))
        if r.status_code != 202:
            return
        if not wait:
            self.printer.note(f"revoking the credentials of {name!r} (not waiting: --no-wait)")
            return
        self._wait(r, f"Revoking the credentials of {name!r}", url)
        self._action_result(r)
        self.printer.note(f"every admin credential issued for {name!r} is revoked", style="green")

    # node pools

    def create_nodepool(self, rg: str, cluster: str, name: str, opts: NodePoolOptions, wait: bool = True) -> Any:
        """``opts.version`` "" picks the newest enabled X.Y.Z of the cluster's X.Y in the channel group."""
        parent = self.show_cluster(rg, cluster)  # its location; a missing cluster is ResourceNotFound
        if not opts.version:
            minor = str(get_path(parent, "properties", "version", "id") or "")
            found = newest_release(self.versions(parent.get("location")), minor, opts.channel_group)
            if found is None:
                raise UsageError(
                    f"no enabled {minor}.z version in channel group {opts.channel_group!r}: pass --version"
                )
            opts.version = found
            self.printer.note(f"node pool version: {found} (the newest {minor}.z in {opts.channel_group})")
        return self._create(
            self.nodepool_path(rg, cluster, name),
            nodepool_body(str(parent.get("location") or self.settings.location), opts),
            f"node pool {name!r} of cluster {cluster!r}",
            f"Creating node pool {name!r} of {cluster!r}",
            wait,
            f"the node pool is Failed: remove it with `aro hcp nodepool delete --cluster {cluster} -g {rg} -n {name} "
            "--yes`",
        )

    def show_nodepool(self, rg: str, cluster: str, name: str) -> Any:
        return self._json(self.nodepool_path(rg, cluster, name))

    def list_nodepools(self, rg: str, cluster: str) -> list[Any]:
        return list(self.arm.pages(self.nodepool_path(rg, cluster), api_version=API_VERSION))

    def update_nodepool(self, rg: str, cluster: str, name: str, body: dict[str, Any], wait: bool = True) -> Any:
        title = f"Updating node pool {name!r} of {cluster!r}"
        return self._patch(self.nodepool_path(rg, cluster, name), body, title, wait)

    def scale_nodepool(self, rg: str, cluster: str, name: str, scale: Scale, wait: bool = True) -> Any:
        current = self.show_nodepool(rg, cluster, name)
        body = nodepool_update_body(scale=scale)
        props = body["properties"]
        if props.get("autoScaling", {}) is None and not get_path(current, "properties", "autoScaling"):
            del props["autoScaling"]  # a fixed size already: no autoscaling to switch off
        return self.update_nodepool(rg, cluster, name, body, wait)

    def delete_nodepool(self, rg: str, cluster: str, name: str, wait: bool = True) -> None:
        self._delete(self.nodepool_path(rg, cluster, name), f"node pool {name!r} of {cluster!r}", wait)

    # versions

    def versions(self, location: str | None = None, channel_group: str | None = None) -> list[Any]:
        loc = location or self.settings.location
        url = f"/subscriptions/{self.settings.subscription}/providers/{PROVIDER}/locations/{loc}/hcpOpenShiftVersions"
        items = list(self.arm.pages(url, api_version=API_VERSION))
        if channel_group:
            items = [v for v in items if get_path(v, "properties", "channelGroup") == channel_group]
        return items
