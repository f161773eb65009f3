"""Install: reserve the cluster's account subscription, validate (the request, then the identities and the
network against the cloud: ``identities``, ``network``), the OIDC issuer of a workload identity cluster,
managed resource group, install assets (persisted, encrypted, to blob storage when configured), ARM
deployment, the operators' role assignments and federated credentials, the NSG on the subnets, wait for the
API, remove bootstrap, record cluster data, the subscription's console URL and the cluster's telemetry,
billing; then the subscription becomes Active (``aro.steps.ledger``)."""

from __future__ import annotations

import secrets
import string
import uuid
from urllib.parse import quote

from aro.api import errors
from aro.api.cluster import OpenShiftCluster
from aro.api.errors import CloudError
from aro.cluster import assets, identities, network, template
from aro.cluster.common import api_ready, update_cluster_data
from aro.cluster.context import ClusterContext
from aro.cluster.ledger import LEDGER
from aro.database import Conflict
from aro.steps import Action, Condition, Step
from aro.util.clock import utc_now

_LOWER = string.ascii_lowercase + string.digits


async def validate(ctx: ClusterContext) -> None:
    props = ctx.oc.properties
    rg_id = props.cluster_profile.resource_group_id
    parts = rg_id.split("/")
    if len(parts) != 5 or parts[1].lower() != "subscriptions" or parts[3].lower() != "resourcegroups":
        raise CloudError(
            400,
            errors.INVALID_PARAMETER,
            f"The resource group id '{rg_id}' is invalid.",
            "properties.clusterProfile.resourceGroupId",
        )
    if not props.worker_profiles:
        raise CloudError(
            400, errors.INVALID_PARAMETER, "The cluster has no worker profile.", "properties.workerProfiles"
        )


async def ensure_infra_id(ctx: ClusterContext) -> None:
    if ctx.oc.properties.infra_id and ctx.oc.properties.cluster_id:
        return
    base = "".join(c for c in ctx.oc.name.lower() if c.isalnum() or c == "-")[:20].strip("-") or "aro"
    infra = f"{base}-{''.join(secrets.choice(_LOWER) for _ in range(5))}"
    suffix = "".join(secrets.choice(_LOWER) for _ in range(10))
    cluster_id = str(uuid.uuid4())  # the OpenShift cluster id (the installer's clusterID)

    def mutate(oc: OpenShiftCluster) -> None:
        oc.properties.infra_id = oc.properties.infra_id or infra
        oc.properties.storage_suffix = oc.properties.storage_suffix or suffix
        oc.properties.cluster_id = oc.properties.cluster_id or cluster_id

    await ctx.update(mutate)


async def ensure_resource_group(ctx: ClusterContext) -> None:
    sub, rg = ctx.managed_resource_group
    await ctx.cloud.create_resource_group(sub, rg, ctx.oc.location, ctx.oc.id, {"aro-cluster": ctx.oc.name})


async def generate_install_assets(ctx: ClusterContext) -> None:
    if ctx.oc.properties.cluster_pki is not None and ctx.oc.properties.admin_kubeconfig:
        return
    api_host = f"api.{template.dns_zone(ctx.oc, ctx.oc.location)}"
    material, kubeconfig, password = assets.generate(ctx.oc, ctx.endpoint, api_host)

    def mutate(oc: OpenShiftCluster) -> None:
        oc.properties.cluster_pki = material
        oc.properties.admin_kubeconfig = kubeconfig
        oc.properties.kubeadmin_password = password

    await ctx.update(mutate)


async def persist_install_graph(ctx: ClusterContext) -> None:
    """Write the install assets, sealed, to blob ``{infraId}/graph`` (as ARO keeps the installer's graph).
    Skipped when blob storage is not configured; idempotent (the graph is a function of the document)."""
    store = ctx.cloud.graph_store
    if store is None:
        return
    p = ctx.oc.properties
    pki = p.cluster_pki.model_dump(by_alias=True) if p.cluster_pki is not None else {}
    files = {"/etc/kubernetes/ca.crt": pki.get("caCert", ""), "/etc/kubernetes/admin.kubeconfig": p.admin_kubeconfig}
    ignition = {
        "ignition": {"version": "3.2.0"},
        "storage": {
            "files": [
                {"path": path, "mode": 0o600, "contents": {"source": "data:," + quote(text, safe="")}}
                for path, text in files.items()
            ]
        },
    }
    await store.save_graph(
        p.infra_id,
        {
            "*tls.RootCA": {"cert": pki.get("caCert"), "key": pki.get("caKey")},
            "*tls.KubeAPIServerServingCert": {"cert": pki.get("apiserverCert"), "key": pki.get("apiserverKey")},
            "*tls.AdminKubeConfigClientCert": {"cert": pki.get("adminClientCert")},
            "*kubeconfig.AdminClient": p.admin_kubeconfig,
            "*password.KubeadminPassword": p.kubeadmin_password,
            "*bootstrap.Bootstrap": ignition,
            "clusterId": ctx.oc.id.lower(),
        },
    )


async def deploy_cluster_resources(ctx: ClusterContext) -> None:
    sub, rg = ctx.managed_resource_group
    await ctx.cloud.deploy(sub, rg, "cluster", template.build(ctx.oc, ctx.oc.location, bootstrap=True), {})


async def remove_bootstrap(ctx: ClusterContext) -> None:
    sub, rg = ctx.managed_resource_group
    vm = (
        f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/"
        f"{ctx.oc.properties.infra_id}-bootstrap"
    )
    await ctx.cloud.delete_resource(vm, "2024-07-01")


async def ensure_billing_record(ctx: ClusterContext) -> None:
    doc = {
        "id": ctx.cluster_doc_id,
        "partitionKey": ctx.subscription_id.lower(),
        "key": ctx.cluster_doc_id,
        "clusterKey": ctx.oc.id.lower(),
        "billing": {"creationTime": utc_now(), "location": ctx.oc.location, "tenantId": ctx.tenant_id},
    }
    try:
        await ctx.billing.create(doc)
    except Conflict:
        pass  # created before a crash: the first creationTime stands


STEPS: list[Step[ClusterContext]] = [
    LEDGER.reserve("install.ledger_reserve"),
    Action("install.validate", validate),
    Action("install.workload_identity_ids", identities.resolve_identities),  # ARO's dynamic validation ...
    Action("install.validate_network", network.validate_network),  # ... of identities, vnet and subnets
    Action("install.ensure_infra_id", ensure_infra_id),
    LEDGER.record_external_id("install.ledger_external_id"),
    Action("install.ensure_oidc_issuer", identities.ensure_oidc_issuer),
    Action("install.ensure_resource_group", ensure_resource_group),
    Action("install.generate_install_assets", generate_install_assets),
    Action("install.persist_install_graph", persist_install_graph),
    Action("install.deploy_cluster_resources", deploy_cluster_resources),
    Action("install.workload_identity_role_assignments", identities.ensure_role_assignments),
    Action("install.federate_identity_credentials", identities.federate_identities),
    Action("install.attach_nsgs", network.attach_nsgs),
    Condition(
        "install.api_ready",
        api_ready,
        ClusterContext.condition_timeout,
        ClusterContext.poll_interval,
        "The cluster API server did not become ready in time.",
    ),
    Action("install.remove_bootstrap", remove_bootstrap),
    Action("install.update_cluster_data", update_cluster_data),
    LEDGER.record_console("install.ledger_console_url"),
    LEDGER.configure_telemetry("install.configure_telemetry"),
    Action("install.ensure_billing_record", ensure_billing_record),
    LEDGER.activate("install.ledger_activate"),
]
