"""The official Python SDK (azure-mgmt-redhatopenshift, api-version 2025-07-25, ARMPolling) against a real
`aro rp` over HTTPS: the calls `az aro` makes, with the body it sends built from the SDK models."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.redhatopenshift import AzureRedHatOpenShiftClient
from azure.mgmt.redhatopenshift import models as m

from tests.conftest import RPProcess
from tests.fixtures.clusters import client_id_for
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import CLIENT_SECRET, PULL_SECRET, new_sub

PAGE_SIZE = 5


class StaticToken:
    """A TokenCredential with a fixed bearer token (the RP does not authenticate in development mode)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("static-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo("static-token", int(time.time()) + 3600)


@pytest.fixture(scope="module")
def sdk_rp(start_rp: StartRP) -> RPProcess:
    return start_rp(ARO_FRONTEND_PAGE_SIZE=str(PAGE_SIZE))


@pytest.fixture(scope="module")
def client(sdk_rp: RPProcess) -> Iterator[tuple[AzureRedHatOpenShiftClient, str]]:
    sub = new_sub()
    c = AzureRedHatOpenShiftClient(
        StaticToken(),  # type: ignore[arg-type]
        sub,
        base_url=sdk_rp.base_url,
        connection_verify=str(sdk_rp.ca_file),
        polling_interval=0.05,
    )
    with c:
        yield c, sub


def cli_cluster(sub: str, name: str) -> m.OpenShiftCluster:
    """What `az aro create` sends (reference checklist, section C), as SDK models."""
    vnet = f"/subscriptions/{sub}/resourceGroups/vnet-rg/providers/Microsoft.Network/virtualNetworks/aro-vnet"
    domain = name.replace("-", "")
    return m.OpenShiftCluster(
        location="eastus",
        tags={"env": "test"},
        cluster_profile=m.ClusterProfile(
            pull_secret=PULL_SECRET,
            domain=domain,
            resource_group_id=f"/subscriptions/{sub}/resourceGroups/aro-{domain}",
            fips_validated_modules="Disabled",
            version="",
        ),
        network_profile=m.NetworkProfile(
            pod_cidr="10.128.0.0/14", service_cidr="172.30.0.0/16", outbound_type="", preconfigured_nsg="Disabled"
        ),
        master_profile=m.MasterProfile(
            vm_size="Standard_D8s_v5", subnet_id=f"{vnet}/subnets/master-{domain}", encryption_at_host="Disabled"
        ),
        worker_profiles=[
            m.WorkerProfile(
                name="worker",
                vm_size="Standard_D4s_v5",
                disk_size_gb=128,
                subnet_id=f"{vnet}/subnets/worker-{domain}",
                count=3,
                encryption_at_host="Disabled",
            )
        ],
        apiserver_profile=m.APIServerProfile(visibility="Public"),
        ingress_profiles=[m.IngressProfile(name="default", visibility="Public")],
        service_principal_profile=m.ServicePrincipalProfile(
            client_id=client_id_for(domain), client_secret=CLIENT_SECRET
        ),
    )


def test_sdk_create_get_list_update_credentials_delete(client: tuple[AzureRedHatOpenShiftClient, str]) -> None:
    c, sub = client
    clusters = c.open_shift_clusters
    names = [f"sdk-{i:02d}" for i in range(12)]
    pollers = [clusters.begin_create_or_update("rg", n, cli_cluster(sub, n)) for n in names]
    created = [p.result() for p in pollers]
    for name, oc in zip(names, created, strict=True):
        assert oc.name == name and oc.provisioning_state == "Succeeded"
        assert (
            oc.id
            == f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.RedHatOpenShift/openShiftClusters/{name}"
        )
        assert oc.cluster_profile is not None and oc.cluster_profile.version == "4.18.34"
        assert oc.cluster_profile.pull_secret is None
        assert oc.service_principal_profile is not None and oc.service_principal_profile.client_secret is None

    one = clusters.get("rg", "sdk-00")
    assert one.provisioning_state == "Succeeded" and one.apiserver_profile is not None
    assert one.apiserver_profile.url and one.console_profile is not None and one.console_profile.url

    pages = [list(page) for page in clusters.list_by_resource_group("rg").by_page()]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert sorted(oc.name for p in pages for oc in p) == names
    assert sorted(oc.name for oc in clusters.list()) == names

    update = m.OpenShiftClusterUpdate(
        tags={"team": "aro"},
        network_profile=m.NetworkProfile(
            load_balancer_profile=m.LoadBalancerProfile(managed_outbound_ips=m.ManagedOutboundIPs(count=3))
        ),
    )
    updated = clusters.begin_update("rg", "sdk-00", update).result()
    assert updated.provisioning_state == "Succeeded" and updated.tags == {"team": "aro"}
    lb = updated.network_profile.load_balancer_profile if updated.network_profile else None
    assert lb is not None and lb.managed_outbound_ips is not None and lb.managed_outbound_ips.count == 3
    assert lb.effective_outbound_ips is not None and len(lb.effective_outbound_ips) == 3

    creds = clusters.list_credentials("rg", "sdk-00")
    assert creds.kubeadmin_username == "kubeadmin" and creds.kubeadmin_password
    kubeconfig = base64.b64decode(clusters.list_admin_credentials("rg", "sdk-00").kubeconfig or "").decode()
    assert one.apiserver_profile.url in kubeconfig

    versions = [v.properties.version for v in c.open_shift_versions.list("eastus") if v.properties]
    assert "4.18.34" in versions
    ops = {op.name for op in c.operations.list()}
    assert "Microsoft.RedHatOpenShift/openShiftClusters/write" in ops

    # the RP's 400 reaches the caller as the SDK's error (worker profiles are immutable in 2025-07-25)
    scale = m.OpenShiftClusterUpdate(worker_profiles=[m.WorkerProfile(name="worker", count=4)])
    with pytest.raises(HttpResponseError) as refused:
        clusters.begin_update("rg", "sdk-01", scale)
    assert refused.value.status_code == 400 and refused.value.error is not None
    assert refused.value.error.code == "PropertyChangeNotAllowed"
    assert refused.value.error.target == "properties.workerProfiles['worker'].count"

    clusters.begin_delete("rg", "sdk-00").result()
    with pytest.raises(ResourceNotFoundError):
        clusters.get("rg", "sdk-00")
    assert len(list(clusters.list_by_resource_group("rg"))) == 11
