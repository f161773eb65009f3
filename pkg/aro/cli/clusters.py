"""The ``aro cluster`` operations over the RP's public ARM API, as ``az aro`` performs them.

Bodies are the 2025-07-25 ones ``az aro create`` sends (see the checklist, section C); scaling workers uses
2019-12-31-preview, the one api-version whose PATCH may change ``workerProfiles[].count``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aro.cli.client import ArmClient
from aro.cli.common import PROVIDER, get_path, resource_group_of, subnet_id
from aro.cli.errors import ArmError, CliError, UsageError
from aro.cli.lro import Poller
from aro.cli.output import Printer, TableSpec

API_VERSION = "2025-07-25"
PREVIEW_API_VERSION = "2019-12-31-preview"  # PATCH of workerProfiles[].count

DEFAULT_POD_CIDR = "10.128.0.0/14"
DEFAULT_SERVICE_CIDR = "172.30.0.0/16"
DEFAULT_MASTER_VM_SIZE = "Standard_D8s_v5"
DEFAULT_WORKER_VM_SIZE = "Standard_D4s_v5"
DEFAULT_WORKER_DISK_SIZE_GB = 128
DEFAULT_WORKER_COUNT = 3


# --- bodies ----------------------------------------------------------------------------------------


def random_id() -> str:
    """az aro's ``generate_random_id``: a lowercase letter and seven lowercase letters or digits."""
    return secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(string.ascii_lowercase + string.digits) for _ in range(7)
    )


def read_pull_secret(value: str | None) -> str:
    """``@FILE`` reads the pull secret from FILE; anything else is the pull secret itself."""
    if not value:
        return ""
    if not value.startswith("@"):
        return value.strip()
    path = Path(value[1:]).expanduser()
    try:
        return path.read_text().strip()
    except OSError as e:
        raise UsageError(f"cannot read the pull secret file {path}: {e.strerror or e}") from None


@dataclass
class CreateOptions:
    location: str | None = None  # default: the client's configured location
    pull_secret: str = ""
    client_id: str | None = None
    client_secret: str | None = None
    domain: str | None = None
    cluster_resource_group: str | None = None
    version: str = ""  # "" lets the RP pick its default version
    worker_count: int = DEFAULT_WORKER_COUNT
    master_vm_size: str = DEFAULT_MASTER_VM_SIZE
    worker_vm_size: str = DEFAULT_WORKER_VM_SIZE
    worker_disk_size_gb: int = DEFAULT_WORKER_DISK_SIZE_GB
    pod_cidr: str = DEFAULT_POD_CIDR
    service_cidr: str = DEFAULT_SERVICE_CIDR
    vnet: str | None = None  # default: {name}-vnet
    vnet_resource_group: str | None = None  # default: the cluster's resource group
    master_subnet: str = "master"  # a name in the vnet, or a full subnet resource id
    worker_subnet: str = "worker"
    apiserver_visibility: str = "Public"
    ingress_visibility: str = "Public"
    fips: bool = False
    tags: dict[str, str] = field(default_factory=dict)


def create_body(subscription: str, rg: str, name: str, location: str, o: CreateOptions) -> dict[str, Any]:
    """The PUT body of ``az aro create`` (read-only fields excluded)."""
    rid = random_id()
    domain = o.domain or rid
    cluster_rg = o.cluster_resource_group or f"aro-{rid}"
    vnet = o.vnet or f"{name}-vnet"
    vnet_rg = o.vnet_resource_group or rg
    toggle = "Enabled" if o.fips else "Disabled"
    body: dict[str, Any] = {
        "location": location,
        "properties": {
            "clusterProfile": {
                "pullSecret": o.pull_secret,
                "domain": domain,
                "resourceGroupId": f"/subscriptions/{subscription}/resourceGroups/{cluster_rg}",
                "fipsValidatedModules": toggle,
                "version": o.version,
            },
            "networkProfile": {
                "podCidr": o.pod_cidr,
                "serviceCidr": o.service_cidr,
                "outboundType": "",
                "preconfiguredNSG": "Disabled",
            },
            "masterProfile": {
                "vmSize": o.master_vm_size,
                "subnetId": subnet_id(subscription, vnet_rg, vnet, o.master_subnet),
                "encryptionAtHost": "Disabled",
            },
            "workerProfiles": [
                {
                    "name": "worker",
                    "vmSize": o.worker_vm_size,
                    "diskSizeGB": o.worker_disk_size_gb,
                    "subnetId": subnet_id(subscription, vnet_rg, vnet, o.worker_subnet),
                    "count": o.worker_count,
                    "encryptionAtHost": "Disabled",
                }
            ],
            "apiserverProfile": {"visibility": o.apiserver_visibility},
            "ingressProfiles": [{"name": "default", "visibility": o.ingress_visibility}],
            "servicePrincipalProfile": {
                "clientId": o.client_id or str(uuid.uuid4()),
                "clientSecret": o.client_secret or secrets.token_urlsafe(24),
            },
        },
    }
    if o.tags:
        body["tags"] = dict(o.tags)
    return body


def update_body(
    tags: dict[str, str] | None, outbound_ip_count: int | None, workers: dict[str, int] | None = None
) -> dict[str, Any]:
    """The PATCH body (JSON merge patch) with only what changes; ``{}`` when nothing does, as az sends."""
    body: dict[str, Any] = {}
    props: dict[str, Any] = {}
    if tags is not None:
        body["tags"] = tags
    if outbound_ip_count is not None:
        props["networkProfile"] = {"loadBalancerProfile": {"managedOutboundIps": {"count": outbound_ip_count}}}
    if workers is not None:
        # an array is replaced whole by a merge patch: name every profile
        props["workerProfiles"] = [{"name": n, "count": c} for n, c in workers.items()]
    if props:
        body["properties"] = props
    return body


# --- rendering -------------------------------------------------------------------------------------


def _workers(c: Any) -> int | None:
    profiles = get_path(c, "properties", "workerProfiles")
    if not isinstance(profiles, list):
        return None
    return sum(int(p.get("count") or 0) for p in profiles if isinstance(p, dict))


CLUSTER_TABLE: TableSpec = (
    ("Name", "ResourceGroup", "Location", "ProvisioningState", "Version", "Workers", "ApiServer", "Console"),
    lambda c: (
        c.get("name"),
        resource_group_of(str(c.get("id", ""))),
        c.get("location"),
        get_path(c, "properties", "provisioningState"),
        get_path(c, "properties", "clusterProfile", "version"),
        _workers(c),
        get_path(c, "properties", "apiserverProfile", "url"),
        get_path(c, "properties", "consoleProfile", "url"),
    ),
)
CREDENTIALS_TABLE: TableSpec = (
    ("KubeadminUsername", "KubeadminPassword"),
    lambda c: (c.get("kubeadminUsername"), c.get("kubeadminPassword")),
)
VERSIONS_TABLE: TableSpec = (("Version",), lambda v: (v,))


# --- operations ------------------------------------------------------------------------------------


class Clusters:
    """One invocation's cluster operations (one ArmClient, one Printer)."""

    def __init__(self, arm: ArmClient, printer: Printer):
        self.arm = arm
        self.printer = printer
        self.settings = arm.settings
        self.poller = Poller(arm, printer.stderr)

    def path(self, rg: str, name: str = "") -> str:
        base = f"/subscriptions/{self.settings.subscription}/resourceGroups/{rg}/providers/{PROVIDER}/openShiftClusters"
        return f"{base}/{name}" if name else base

    def _wait(
        self, initial: Any, title: str, url: str, api_version: str = API_VERSION, state: str | None = None
    ) -> None:
        self.poller.wait(initial, title=title, resource_url=url, api_version=api_version, initial_state=state)

    def create(self, rg: str, name: str, opts: CreateOptions, wait: bool = True) -> Any:
        location = opts.location or self.settings.location
        body = create_body(self.settings.subscription, rg, name, location, opts)
        url = self.path(rg, name)
        # If-None-Match: a create never silently replaces an existing cluster (412 instead).
        try:
            r = self.arm.request(
                "PUT", url, api_version=API_VERSION, body=body, headers={"If-None-Match": "*"}, ok=(200, 201)
            )
        except ArmError as e:
            if e.status == 412:
                raise CliError(
                    f"cluster {name!r} already exists in resource group {rg!r}",
                    "change it with `aro cluster update`, or delete it first",
                ) from None
            raise
        if not opts.client_id:
            self.printer.note("no --client-id: using a generated placeholder service principal (development RP)")
        if not wait:
            return r.json()
        try:
            self._wait(r, f"Creating cluster {name!r}", url)
        except ArmError as e:
            if e.status is None:  # the install failed (not the polling)
                e.hint = f"the cluster is Failed: remove it with `aro cluster delete {name} -g {rg} --yes`"
            raise
        return self.show(rg, name)

    def show(self, rg: str, name: str) -> Any:
        return self.arm.json("GET", self.path(rg, name), api_version=API_VERSION)

    def list_clusters(self, rg: str | None = None) -> list[Any]:
        url = (
            self.path(rg)
            if rg
            else f"/subscriptions/{self.settings.subscription}/providers/{PROVIDER}/openShiftClusters"
        )
        return list(self.arm.pages(url, api_version=API_VERSION))

    def update(
        self,
        rg: str,
        name: str,
        *,
        tags: dict[str, str] | None = None,
        outbound_ip_count: int | None = None,
        worker_count: int | None = None,
        worker_profile: str | None = None,
        wait: bool = True,
    ) -> Any:
        url = self.path(rg, name)
        api_version, workers = API_VERSION, None
        if worker_count is not None:
            if outbound_ip_count is not None:
                raise UsageError(
                    "--worker-count (api-version 2019-12-31-preview) cannot be combined with --outbound-ip-count "
                    "(2025-07-25): run two updates"
                )
            api_version = PREVIEW_API_VERSION
            workers = self._scaled_workers(self.show(rg, name), worker_count, worker_profile)
        body = update_body(tags, outbound_ip_count, workers)
        r = self.arm.request("PATCH", url, api_version=api_version, body=body, ok=(200, 201, 202))
        if not wait:
            return r.json() if r.content else self.show(rg, name)
        self._wait(r, f"Updating cluster {name!r}", url, api_version)
        return self.show(rg, name)

    @staticmethod
    def _scaled_workers(cluster: Any, count: int, profile: str | None) -> dict[str, int]:
        current = {
            str(p.get("name")): int(p.get("count") or 0)
            for p in get_path(cluster, "properties", "workerProfiles") or []
            if isinstance(p, dict)
        }
        if profile is None:
            if len(current) != 1:
                raise UsageError(
                    f"the cluster has worker profiles {', '.join(current) or '(none)'}: name one with --worker-profile"
                )
            profile = next(iter(current))
        if profile not in current:
            raise UsageError(f"the cluster has no worker profile {profile!r} (it has {', '.join(current)})")
        return {**current, profile: count}

    def delete(self, rg: str, name: str, wait: bool = True) -> None:
        url = self.path(rg, name)
        self.show(rg, name)  # as az: a missing cluster is ResourceNotFound, not a silent 204
        r = self.arm.request("DELETE", url, api_version=API_VERSION, ok=(200, 202, 204))
        if r.status_code == 202 and wait:
            self._wait(r, f"Deleting cluster {name!r}", url, state="Deleting")
            self.printer.note(f"cluster {name!r} deleted", style="green")
        elif r.status_code == 202:
            self.printer.note(f"deleting cluster {name!r} (not waiting: --no-wait)")

    def list_credentials(self, rg: str, name: str) -> Any:
        return self.arm.json("POST", self.path(rg, name) + "/listCredentials", api_version=API_VERSION)

    def admin_kubeconfig(self, rg: str, name: str) -> str:
        body = self.arm.json("POST", self.path(rg, name) + "/listAdminCredentials", api_version=API_VERSION)
        encoded = body.get("kubeconfig") if isinstance(body, dict) else None
        if not isinstance(encoded, str):
            raise CliError("the RP's listAdminCredentials response has no 'kubeconfig'")
        try:
            return base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise CliError("the RP's admin kubeconfig is not valid base64 text") from None

    def versions(self, location: str | None = None) -> list[str]:
        loc = location or self.settings.location
        url = f"/subscriptions/{self.settings.subscription}/providers/{PROVIDER}/locations/{loc}/openShiftVersions"
        return [
            str(get_path(v, "properties", "version") or v.get("name"))
            for v in self.arm.pages(url, api_version=API_VERSION)
        ]
