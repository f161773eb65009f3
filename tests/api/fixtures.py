"""Request bodies and clusters shared by the api tests."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from aro.api.cluster import EffectiveOutboundIP, OpenShiftCluster, WorkerProfile
from aro.api.errors import CloudError
from aro.api.openshiftclusters import OPENSHIFT_CLUSTERS
from aro.api.resource import OperationProgress, ProvisioningState, SystemData
from aro.api.version import ResourceAPI, ValidationContext
from tests.fixtures.clusters import cluster_body, subnet_id

SUB = "11111111-2222-3333-4444-555555555555"
RG = "myRG"
NAME = "myCluster"
RESOURCE_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RedHatOpenShift/openShiftClusters/{NAME}"
CTX = ValidationContext(
    resource_id=RESOURCE_ID,
    subscription_id=SUB,
    resource_group=RG,
    name=NAME,
    location="eastus",
    versions=("4.16.30", "4.17.27", "4.18.34"),
    default_version="4.18.34",
    resource_type="Microsoft.RedHatOpenShift/openShiftClusters",
)
PULL_SECRET = json.dumps({"auths": {"cloud.openshift.com": {"auth": "dXNlcjpwYXNz", "email": "me@example.com"}}})
CLIENT_SECRET = "sp-s3cret-value"
KUBEADMIN_PASSWORD = "kubeadmin-s3cret"
ADMIN_KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {token: admin-s3cret}}]\n"
SECRETS = (PULL_SECRET, CLIENT_SECRET, KUBEADMIN_PASSWORD, ADMIN_KUBECONFIG, "dXNlcjpwYXNz")

ClusterAPI = ResourceAPI[OpenShiftCluster]
V2025: ClusterAPI = OPENSHIFT_CLUSTERS.version("2025-07-25").resource
V2019: ClusterAPI = OPENSHIFT_CLUSTERS.version("2019-12-31-preview").resource


def subnet(name: str, vnet: str = "aro-vnet", rg: str = "vnet-rg", sub: str = SUB) -> str:
    return subnet_id(sub, name, vnet, rg)


def msi(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name


def cli_body() -> dict[str, Any]:
    """What ``az aro create`` sends with api-version 2025-07-25 (service principal cluster): the recorded
    body of the reference checklist, section C, with ``--pull-secret`` and ``--tags env=test`` given (without
    them the CLI sends ``"pullSecret": ""`` and no tags: see the ``pull-secret-empty``/``tags-null`` cases)."""
    return cluster_body(
        SUB,
        domain="k2x7mq9a",
        pull_secret=PULL_SECRET,
        client_secret=CLIENT_SECRET,
        client_id="66666666-7777-8888-9999-000000000000",
        tags={"env": "test"},
        master_subnet="master-subnet",
        worker_subnet="worker-subnet",
    )


# The operators of the role set of every shipped minor version (aro/api/rolesets.json): one identity each.
OPERATORS = (
    "cloud-controller-manager",
    "ingress",
    "machine-api",
    "disk-csi-driver",
    "cloud-network-config",
    "image-registry",
    "file-csi-driver",
    "aro-operator",
)


def wi_body() -> dict[str, Any]:
    """What ``az aro create --enable-managed-identity`` sends: workload identities instead of an SP."""
    body = cli_body()
    del body["properties"]["servicePrincipalProfile"]
    body["properties"]["platformWorkloadIdentityProfile"] = {
        "platformWorkloadIdentities": {op: {"resourceId": msi(op)} for op in OPERATORS}
    }
    body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {msi("cluster"): {}}}
    return body


def provisioned(oc: OpenShiftCluster) -> OpenShiftCluster:
    """``oc`` as the backend leaves it after a successful install (read-only and backend fields set)."""
    oc = oc.copy_deep()
    p = oc.properties
    p.provisioning_state = ProvisioningState.SUCCEEDED
    p.last_provisioning_state = ProvisioningState.CREATING
    p.infra_id = "mycluster-x7k2p"
    p.storage_suffix = "x7k2p"
    p.kubeadmin_password = KUBEADMIN_PASSWORD
    p.admin_kubeconfig = ADMIN_KUBECONFIG
    p.progress = OperationProgress(phase="install", completed_steps=["install.ensure_resource_group"])
    p.console_profile.url = "https://console-openshift-console.apps.k2x7mq9a.eastus.aroapp.io/"
    p.apiserver_profile.url = "https://api.k2x7mq9a.eastus.aroapp.io:6443/"
    p.apiserver_profile.ip = "20.1.2.3"
    for ing in p.ingress_profiles:
        ing.ip = "20.1.2.4"
    p.worker_profiles_status = [
        WorkerProfile(name=f"worker-{i}", vm_size="Standard_D4s_v5", count=1, subnet_id=subnet("worker-subnet"))
        for i in range(3)
    ]
    p.cluster_profile.oidc_issuer = "https://oidc.example.com/issuer"
    lb = p.network_profile.load_balancer_profile
    if lb is not None:
        lb.effective_outbound_ips = [EffectiveOutboundIP(id="/subscriptions/x/publicIPAddresses/ip1")]
    oc.system_data = SystemData(created_by="me@example.com", created_by_type="User", created_at="2025-01-01T00:00:00Z")
    return oc


def created(api: ClusterAPI = V2025, body: dict[str, Any] | None = None) -> OpenShiftCluster:
    """A provisioned cluster created through ``api`` (default: the az CLI body, 2025-07-25)."""
    return provisioned(api.put(cli_body() if body is None else body, None, CTX))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def deep(value: Any) -> Any:
    return copy.deepcopy(value)


def expect_error(call: Callable[[], Any], code: str, target: str | None) -> Any:
    """Run ``call``; it must raise a 400 CloudError with ``code`` and ``target``."""
    with pytest.raises(CloudError) as info:
        call()
    err = info.value
    assert (err.status, err.code, err.target) == (400, code, target), str(err)
    return err


Body = dict[str, Any]
Change = Callable[[Body], Any]
DELETE = object()


def props(body: Body) -> Body:
    p: Body = body["properties"]
    return p


def setp(path: str, value: Any) -> Callable[[Body], None]:
    """A change that sets (or, with ``DELETE``, removes) ``path`` in a body: dotted, digits index lists."""

    def change(body: Body) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if value is DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = copy.deepcopy(value)

    return change


def both(*changes: Callable[[Body], Any]) -> Callable[[Body], None]:
    def change(body: Body) -> None:
        for c in changes:
            c(body)

    return change


def on_wi(change: Callable[[Body], Any]) -> Callable[[Body], Body]:
    """``change`` applied to the workload-identity body instead of the service-principal one."""

    def replace(_: Body) -> Body:
        body = wi_body()
        change(body)
        return body

    return replace


def applied(change: Change, base: Callable[[], Body] = cli_body) -> Any:
    """``base()`` after ``change`` (which edits it in place, or returns a replacement)."""
    body = base()
    out = change(body)
    return body if out is None else out
