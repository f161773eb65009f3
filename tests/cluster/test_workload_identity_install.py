"""Managed identity (workload identity) classic clusters end to end, with the official SDK
(azure-mgmt-redhatopenshift, 2025-07-25) against a real `aro rp` whose simulator holds the identities and the
network: the role sets catalog; an install that resolves the identities' ids, gives the cluster an OIDC
issuer, federates one credential per operator service account and assigns each operator its role on the
managed resource group; the install's dynamic checks in ARO-RP's words; resuming after a failure creates
nothing twice; the delete removes what the install made (and only that)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.redhatopenshift import AzureRedHatOpenShiftClient
from azure.mgmt.redhatopenshift import models as m

from aro.api.rolesets import shipped
from aro.cluster.identities import federated_credential_name, role_assignment_name
from tests.api.fixtures import OPERATORS
from tests.cluster.customer import Customer, simulator
from tests.conftest import RPProcess
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm
from tests.frontend.test_sdk import StaticToken

ROLES = {r.operator_name: r for r in shipped()[2].platform_workload_identity_roles}  # 4.18


@pytest.fixture(scope="module")
def wi_rp(start_rp: StartRP) -> RPProcess:
    # re-queued steps come back quickly (the resume test)
    return start_rp(ARO_CLOUD_SIMULATOR_NETWORK_CHECKS="all", ARO_BACKEND_RETRY_SECONDS="0.1")


@pytest.fixture
def customer(wi_rp: RPProcess) -> Iterator[Customer]:
    with simulator(wi_rp) as sim, Arm(wi_rp) as arm:
        c = Customer(sim)
        arm.register(c.sub)
        yield c


@pytest.fixture
def client(wi_rp: RPProcess, customer: Customer) -> Iterator[AzureRedHatOpenShiftClient]:
    c = AzureRedHatOpenShiftClient(
        StaticToken(),  # type: ignore[arg-type]
        customer.sub,
        base_url=wi_rp.base_url,
        connection_verify=str(wi_rp.ca_file),
        polling_interval=0.05,
    )
    with c:
        yield c


def mi_cluster(customer: Customer, name: str, cluster_identity: str, ops: dict[str, str]) -> m.OpenShiftCluster:
    """What `az aro create --enable-managed-identity --assign-cluster-identity ... --assign-platform-workload-
    identity ...` sends, as SDK models, on a fresh virtual network."""
    vnet = customer.vnet(rg=f"net-{name}")
    return m.OpenShiftCluster(
        location="eastus",
        cluster_profile=m.ClusterProfile(
            pull_secret='{"auths":{"registry.example.com":{"auth":"eA=="}}}',
            domain=name,
            resource_group_id=f"/subscriptions/{customer.sub}/resourceGroups/aro-{name}",
            fips_validated_modules="Disabled",
            version="",
        ),
        network_profile=m.NetworkProfile(
            pod_cidr="10.128.0.0/14", service_cidr="172.30.0.0/16", outbound_type="", preconfigured_nsg="Disabled"
        ),
        master_profile=m.MasterProfile(vm_size="Standard_D8s_v5", subnet_id=f"{vnet}/subnets/master"),
        worker_profiles=[
            m.WorkerProfile(
                name="worker", vm_size="Standard_D4s_v5", disk_size_gb=128, subnet_id=f"{vnet}/subnets/worker", count=3
            )
        ],
        apiserver_profile=m.APIServerProfile(visibility="Public"),
        ingress_profiles=[m.IngressProfile(name="default", visibility="Public")],
        platform_workload_identity_profile=m.PlatformWorkloadIdentityProfile(
            platform_workload_identities={op: m.PlatformWorkloadIdentity(resource_id=rid) for op, rid in ops.items()}
        ),
        identity=m.ManagedServiceIdentity(
            type="UserAssigned", user_assigned_identities={cluster_identity: m.UserAssignedIdentity()}
        ),
    )


def create(client: AzureRedHatOpenShiftClient, name: str, oc: m.OpenShiftCluster) -> m.OpenShiftCluster:
    return client.open_shift_clusters.begin_create_or_update("clusters", name, oc).result(timeout=60)


def refused(client: AzureRedHatOpenShiftClient, name: str, oc: m.OpenShiftCluster) -> Any:
    with pytest.raises(HttpResponseError) as info:
        create(client, name, oc)
    assert client.open_shift_clusters.get("clusters", name).provisioning_state == "Failed"
    return info.value.error


# --- the catalog -------------------------------------------------------------------------------------------


def test_the_role_sets_through_the_sdk(client: AzureRedHatOpenShiftClient) -> None:
    listed = list(client.platform_workload_identity_role_sets.list("eastus"))
    assert [s.name for s in listed] == ["4.16", "4.17", "4.18", "4.19", "4.20", "4.21"]
    one = client.platform_workload_identity_role_set.get("eastus", "4.18")
    assert one.type == "Microsoft.RedHatOpenShift/PlatformWorkloadIdentityRoleSet"
    assert one.properties is not None and one.properties.open_shift_version == "4.18"
    roles = {r.operator_name: r for r in one.properties.platform_workload_identity_roles or []}
    assert set(roles) == set(OPERATORS)
    assert roles["machine-api"].role_definition_name == "Azure Red Hat OpenShift Machine API Operator"
    with pytest.raises(ResourceNotFoundError) as info:
        client.platform_workload_identity_role_set.get("eastus", "4.99")
    assert info.value.error is not None and info.value.error.code == "ResourceNotFound"
    assert info.value.error.message == (
        "The Resource platformWorkloadIdentityRoleSet with version '4.99' was not found in the namespace "
        "'Microsoft.RedHatOpenShift' for api version '2025-07-25'."
    )
    with pytest.raises(HttpResponseError) as bad:  # another location
        list(client.platform_workload_identity_role_sets.list("westus"))
    assert bad.value.status_code == 400


# --- install and delete ----------------------------------------------------------------------------------


def test_a_managed_identity_cluster_installs_and_deletes(
    client: AzureRedHatOpenShiftClient, customer: Customer
) -> None:
    cluster_id, ops = customer.identities()
    done = create(client, "mi", mi_cluster(customer, "mi", cluster_id, ops))
    assert done.provisioning_state == "Succeeded" and done.service_principal_profile is None

    # the ids of every identity, as the identities themselves say
    assert done.identity is not None and done.identity.type == "UserAssigned"
    own = customer.get(cluster_id, "2023-01-31")
    assert own is not None
    assert done.identity.tenant_id == own["properties"]["tenantId"]
    (shown,) = (done.identity.user_assigned_identities or {}).values()
    assert (shown.client_id, shown.principal_id) == (own["properties"]["clientId"], own["properties"]["principalId"])
    pwis = (done.platform_workload_identity_profile or m.PlatformWorkloadIdentityProfile()).platform_workload_identities
    assert pwis is not None and set(pwis) == set(OPERATORS)
    principals: dict[str, str] = {}
    for op, pwi in pwis.items():
        res = customer.get(ops[op], "2023-01-31")
        assert res is not None
        assert (pwi.resource_id, pwi.client_id, pwi.object_id) == (
            ops[op],
            res["properties"]["clientId"],
            res["properties"]["principalId"],
        )
        principals[op] = res["properties"]["principalId"]

    # the OIDC issuer: ARO's shape (regional host, tenant, cluster document id)
    issuer = done.cluster_profile.oidc_issuer if done.cluster_profile else None
    assert issuer is not None and issuer.startswith(f"https://eastus.oic.aroapp.io/{own['properties']['tenantId']}/")

    # one federated credential per operator service account, named as ARO-RP names them
    for op, rid in ops.items():
        creds = {c["name"]: c["properties"] for c in customer.credentials(rid)}
        accounts = ROLES[op].service_accounts
        assert creds == {
            federated_credential_name("mi", op, sa): {"issuer": issuer, "subject": sa, "audiences": ["openshift"]}
            for sa in accounts
        }

    # each operator's role on the managed resource group, under a deterministic name
    rg = done.cluster_profile.resource_group_id if done.cluster_profile else ""
    assert rg
    assigned = {a["name"]: a["properties"] for a in customer.role_assignments(rg)}
    expected = {
        role_assignment_name(rg, ROLES[op].role_definition_guid, principals[op]): (
            principals[op],
            f"/subscriptions/{customer.sub}/providers/Microsoft.Authorization/roleDefinitions/{ROLES[op].role_definition_guid}",
        )
        for op in OPERATORS
    }
    assert {k: (v["principalId"], v["roleDefinitionId"]) for k, v in assigned.items() if k in expected} == expected

    # the delete: credentials and role assignments go, the customer's identities stay
    client.open_shift_clusters.begin_delete("clusters", "mi").result(timeout=60)
    for rid in ops.values():
        assert customer.credentials(rid) == []
        assert customer.get(rid, "2023-01-31") is not None
    assert customer.get(rg, "2021-04-01") is None


def test_a_missing_platform_identity_fails_the_install(client: AzureRedHatOpenShiftClient, customer: Customer) -> None:
    cluster_id, ops = customer.identities()
    customer.delete(ops["ingress"], "2023-01-31")
    error = refused(client, "gone", mi_cluster(customer, "gone", cluster_id, ops))
    assert error.code == "InvalidPlatformWorkloadIdentity"
    assert error.target == '.properties.platformWorkloadIdentityProfile.platformWorkloadIdentities["ingress"]'
    assert error.message == (
        "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/ingress' under resource group 'ids' was not "
        "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    )
    for rid in ops.values():  # nothing federated
        if rid != ops["ingress"]:
            assert customer.credentials(rid) == []


def test_an_identity_already_federated_elsewhere_is_refused(
    client: AzureRedHatOpenShiftClient, customer: Customer
) -> None:
    cluster_id, ops = customer.identities()
    customer.put(
        f"{ops['image-registry']}/federatedIdentityCredentials/other",
        {
            "properties": {
                "issuer": "https://issuer.example.com/x",
                "subject": "system:serviceaccount:a:b",
                "audiences": ["openshift"],
            }
        },
        "2023-01-31",
    )
    error = refused(client, "shared", mi_cluster(customer, "shared", cluster_id, ops))
    assert error.code == "PlatformWorkloadIdentityContainsInvalidCredential"
    assert (
        error.target
        == "properties.platformWorkloadIdentityProfile.platformWorkloadIdentities.image-registry.resourceId"
    )
    assert error.message == (
        f"Unexpected federated credential 'other' found on platform workload identity '{ops['image-registry']}' used "
        "for role 'image-registry'. Please ensure this identity is only used for this cluster and does not have any "
        "existing federated identity credentials."
    )


def test_a_resumed_install_creates_nothing_twice(
    wi_rp: RPProcess, client: AzureRedHatOpenShiftClient, customer: Customer
) -> None:
    """A credential PUT that keeps failing (past the SDK's retries) re-queues the step; the step runs again
    from its start and the credentials and role assignments it had made stay single."""
    cluster_id, ops = customer.identities()
    third = federated_credential_name("resume", "disk-csi-driver", ROLES["disk-csi-driver"].service_accounts[1])
    rules = [
        {
            "operation": "putResource",
            "mode": "fail",
            "count": 8,
            "match": third,
            "status": 503,
            "code": "ServiceUnavailable",
        }
    ]
    assert customer.sim.put("/simulator/faults", json=rules).status_code in (200, 204)
    started = time.monotonic()
    done = create(client, "resume", mi_cluster(customer, "resume", cluster_id, ops))
    assert done.provisioning_state == "Succeeded"
    left = customer.sim.get("/simulator/faults").json()
    assert left and left[0]["count"] == 0, left  # every failure was spent: the step did re-run
    for op, rid in ops.items():
        assert len(customer.credentials(rid)) == len(ROLES[op].service_accounts)
    rg = done.cluster_profile.resource_group_id if done.cluster_profile else ""
    assert (
        len([a for a in customer.role_assignments(rg) if a["properties"]["principalType"] == "ServicePrincipal"]) == 8
    )
    assert time.monotonic() - started < 60


def test_a_patch_swaps_the_cluster_identity(client: AzureRedHatOpenShiftClient, customer: Customer) -> None:
    """az aro update --assign-cluster-identity: a PATCH naming another cluster identity swaps it; the new
    identity's ids are resolved by the update."""
    cluster_id, ops = customer.identities()
    create(client, "swap", mi_cluster(customer, "swap", cluster_id, ops))
    other = str(customer.identity("ids", "aro-cluster-2")["id"])
    update = m.OpenShiftClusterUpdate(
        identity=m.ManagedServiceIdentity(
            type="UserAssigned", user_assigned_identities={other: m.UserAssignedIdentity()}
        )
    )
    done = client.open_shift_clusters.begin_update("clusters", "swap", update).result(timeout=60)
    assert done.identity is not None
    (key,) = (done.identity.user_assigned_identities or {}).keys()
    assert key == other
    res = customer.get(other, "2023-01-31")
    assert res is not None
    assert (done.identity.user_assigned_identities or {})[key].principal_id == res["properties"]["principalId"]


def test_federated_credential_names_are_aro_rps() -> None:
    sa = "system:serviceaccount:openshift-workload:workload"
    name = federated_credential_name("cluster", "identity", sa)
    digest = int.from_bytes(hashlib.sha224(b"cluster_workload-workload-identity").digest(), "big")
    encoded = ""
    while digest:
        digest, r = divmod(digest, 36)
        encoded = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + encoded
    assert name == f"cluster_workload_{encoded}"
    long = federated_credential_name("c" * 100, "identity", sa)
    assert len(long) == 120 and long.startswith("c" * 70)


def test_role_assignment_names_are_stable_and_distinct() -> None:
    rg = "/subscriptions/s/resourceGroups/aro-x"
    a = role_assignment_name(rg, "0336e1d3-7a87-462b-b6db-342b63f7802c", "p1")
    assert a == role_assignment_name(rg.upper(), "0336E1D3-7A87-462B-B6DB-342B63F7802C", "p1")
    assert a != role_assignment_name(rg, "0336e1d3-7a87-462b-b6db-342b63f7802c", "p2")


def test_a_cluster_identity_serves_one_cluster(client: AzureRedHatOpenShiftClient, customer: Customer) -> None:
    """ARO-RP keeps the cluster identity unique among clusters (its ``clientIdKey``): 400 at the PUT."""
    cluster_id, ops = customer.identities()
    create(client, "first", mi_cluster(customer, "first", cluster_id, ops))
    with pytest.raises(HttpResponseError) as info:
        client.open_shift_clusters.begin_create_or_update(
            "clusters", "second", mi_cluster(customer, "second", cluster_id, ops)
        )
    assert info.value.status_code == 400 and info.value.error is not None
    assert (info.value.error.code, info.value.error.message, info.value.error.target) == (
        "DuplicateClientID",
        f"The provided user assigned identity '{cluster_id}' is already in use by a cluster.",
        None,
    )
