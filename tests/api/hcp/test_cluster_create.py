"""2026-10-01 hosted cluster create: SDK round trip, defaults, rendering, and one test per field rule."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from azure.mgmt.redhatopenshifthcp import models as sdk

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.cluster import SECRET_PATHS, CredentialIssue, SignerPKI
from aro.api.hcp.common import Condition
from aro.api.hcp.fielderrors import MULTIPLE_ERRORS_MESSAGE
from tests.api.hcp.fixtures import (
    AFEC,
    CLUSTERS,
    CONTROL_PLANE,
    DELETE,
    NAME,
    OTHER_SUB,
    RG,
    Body,
    cluster_body,
    cluster_ctx,
    contains,
    created_cluster,
    expect_error,
    minimal_cluster_body,
    nsg,
    setp,
    subnet,
    targets,
    uami,
    wire,
)

P = "properties"
PL = f"{P}.platform"
UAI = f"{PL}.operatorsAuthentication.userAssignedIdentities"
BAD = errors.INVALID_REQUEST_CONTENT


def test_sdk_body_round_trips() -> None:
    sent = cluster_body()
    oc = CLUSTERS.put(sent, None, cluster_ctx())
    out = CLUSTERS.to_external(oc)
    back = sdk.HcpOpenShiftCluster(out)
    contains(wire(back), sent)
    assert back.properties.provisioning_state == "Succeeded"
    assert back.properties.platform.managed_resource_group.startswith(f"aro-hcp-{NAME}-")
    assert back.id == oc.id and back.type == "Microsoft.RedHatOpenShift/hcpOpenShiftClusters"


def test_minimal_body_gets_the_defaults() -> None:
    oc = CLUSTERS.put(minimal_cluster_body(), None, cluster_ctx())
    p = oc.properties
    assert p.version.channel_group == "stable"
    assert (p.network.network_type, p.network.pod_cidr, p.network.service_cidr, p.network.machine_cidr) == (
        "OVNKubernetes",
        "10.128.0.0/14",
        "172.30.0.0/16",
        "10.0.0.0/16",
    )
    assert p.network.host_prefix == 23
    assert (p.api.visibility, p.api.authorized_cidrs, p.ingress.type) == ("Public", None, "Public")
    assert p.platform.outbound_type == "LoadBalancer"
    assert re.fullmatch(rf"aro-hcp-{NAME}-[0-9a-f-]{{36}}", p.platform.managed_resource_group)
    a = p.autoscaling
    assert (a.max_nodes_total, a.max_pod_grace_period_seconds, a.max_node_provision_time_seconds) == (0, 600, 900)
    assert a.pod_priority_threshold == -10
    assert p.etcd.data_encryption.key_management_mode == "PlatformManaged"
    assert p.etcd.data_encryption.customer_managed is None
    assert (p.cluster_image_registry.state, p.crypto_restrictions, p.node_drain_timeout_minutes) == (
        "Enabled",
        "None",
        0,
    )


def test_zero_values_are_kept_not_defaulted() -> None:
    body = setp(cluster_body(), f"{P}.autoscaling.podPriorityThreshold", 0)
    assert CLUSTERS.put(body, None, cluster_ctx()).properties.autoscaling.pod_priority_threshold == 0


def test_managed_resource_group_name_uses_at_most_45_characters_of_the_name() -> None:
    name = "a" * 54
    oc = CLUSTERS.put(cluster_body(), None, cluster_ctx(name=name, resource_id=f"/x/{name}"))
    mrg = oc.properties.platform.managed_resource_group
    assert mrg.startswith("aro-hcp-" + "a" * 45 + "-") and len(mrg) == 90


def test_given_managed_resource_group_is_kept() -> None:
    body = setp(cluster_body(), f"{PL}.managedResourceGroup", "my-managed-rg")
    assert CLUSTERS.put(body, None, cluster_ctx()).properties.platform.managed_resource_group == "my-managed-rg"


def test_read_only_fields_in_a_request_are_ignored() -> None:
    body = cluster_body()
    setp(body, f"{P}.dns.baseDomain", "evil.example.com")
    setp(body, f"{P}.console.url", "https://evil")
    setp(body, f"{PL}.issuerUrl", "https://evil")
    setp(body, f"{P}.status", {"conditions": [{"type": "Available", "status": "True"}]})
    p = CLUSTERS.put(body, None, cluster_ctx()).properties
    assert (p.dns.base_domain, p.console.url, p.platform.issuer_url, p.status.conditions) == ("", "", "", [])


def test_render_shows_backend_results_never_backend_only_fields() -> None:
    oc = created_cluster()
    p = oc.properties
    p.dns.base_domain = "abcd.eastus.aroapp-hcp.io"
    p.console.url = "https://console.apps.example"
    p.api.url = "https://api.example:443"
    p.platform.issuer_url = "https://oidc.example/issuer"
    p.status.conditions = [
        Condition(type="Available", status="True", last_transition_time="2026-01-01T00:00:00Z", reason="Ready")
    ]
    p.cluster_id = "6f1c7a52-1111-2222-3333-444455556666"
    p.management_namespace = "ocm-mycluster"
    p.signer = SignerPKI(ca_cert="CERT-PEM", ca_key="SECRET-KEY-PEM")
    p.credentials = [CredentialIssue(operation_id="op1", csr="CSR-PEM", kubeconfig="SECRET-KUBECONFIG")]
    p.revocation_operation_id = "op2"
    out = CLUSTERS.to_external(oc)
    back = sdk.HcpOpenShiftCluster(out).properties
    assert back.dns.base_domain == "abcd.eastus.aroapp-hcp.io"
    assert (back.console.url, back.api.url, back.platform.issuer_url) == (
        "https://console.apps.example",
        "https://api.example:443",
        "https://oidc.example/issuer",
    )
    assert back.status.conditions[0].type == "Available"
    assert back.status.active_versions[0].version == "4.20"
    text = json.dumps(out)
    for leaked in ("6f1c7a52", "ocm-mycluster", "CERT-PEM", "SECRET", "CSR-PEM", "op2", "signer", "credentials"):
        assert leaked not in text
    assert SECRET_PATHS == (("properties", "signer"), ("properties", "credentials"))


def test_strict_types_are_refused_by_the_parser() -> None:
    body = setp(cluster_body(), f"{P}.network.hostPrefix", "23")
    expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx()), BAD, f"{P}.network.hostPrefix")


def rename_identity(body: Body, old: str, new: str) -> Body:
    ids = body["identity"]["userAssignedIdentities"]
    ids[new] = ids.pop(old)
    for group in ("controlPlaneOperators", "dataPlaneOperators"):
        ops = body[P]["platform"]["operatorsAuthentication"]["userAssignedIdentities"][group]
        for k, v in ops.items():
            if v == old:
                ops[k] = new
    return body


def s(path: str, value: Any) -> Callable[[Body], Any]:
    return lambda body: setp(body, path, value)


def ops(group: str, name: str, value: str | None) -> Callable[[Body], Any]:
    def change(body: Body) -> None:
        m = body[P]["platform"]["operatorsAuthentication"]["userAssignedIdentities"][group]
        if value is None:
            del m[name]
        else:
            m[name] = value

    return change


def add_identity(value: str) -> Callable[[Body], Any]:
    return lambda body: body["identity"]["userAssignedIdentities"].__setitem__(value, {})


def private_api(body: Body) -> None:
    setp(body, f"{P}.api.visibility", "Private")
    setp(body, f"{PL}.vnetIntegrationSubnetId", DELETE)


def mirrors(value: Any) -> Callable[[Body], Any]:
    return s(f"{P}.imageDigestMirrors", value)


def kms(**changes: Any) -> Callable[[Body], Any]:
    def change(body: Body) -> None:
        k: dict[str, Any] = {"vaultName": "vault", "visibility": "Public", "activeKey": {"name": "k", "version": "v1"}}
        k.update(changes)
        setp(
            body,
            f"{P}.etcd",
            {"dataEncryption": {"keyManagementMode": "CustomerManaged", "customerManaged": {"kms": k}}},
        )

    return change


OP = f"{UAI}.controlPlaneOperators"
DP = f"{UAI}.dataPlaneOperators"
IDS = "identity.userAssignedIdentities"
KMS = f"{P}.etcd.dataEncryption.customerManaged.kms"

RULES: list[tuple[str, Callable[[Body], Any], list[str]]] = [
    ("version-missing", s(f"{P}.version.id", DELETE), [f"{P}.version.id"]),
    ("version-with-patch", s(f"{P}.version.id", "4.20.8"), [f"{P}.version.id"]),
    ("version-garbage", s(f"{P}.version.id", "latest"), [f"{P}.version.id"]),
    ("version-below-4.20", s(f"{P}.version.id", "4.19"), [f"{P}.version.id"]),
    ("version-5-without-afec", s(f"{P}.version.id", "5.0"), [f"{P}.version.id"]),
    ("version-not-in-catalog", s(f"{P}.version.id", "4.24"), [f"{P}.version.id"]),
    ("version-past-end-of-life", s(f"{P}.version.id", "4.23"), [f"{P}.version.id"]),
    ("channel-candidate-without-afec", s(f"{P}.version.channelGroup", "candidate"), [f"{P}.version.channelGroup"]),
    ("channel-empty", s(f"{P}.version.channelGroup", ""), [f"{P}.version.channelGroup"]),
    ("dns-prefix-too-long", s(f"{P}.dns.baseDomainPrefix", "a" * 16), [f"{P}.dns.baseDomainPrefix"]),
    ("dns-prefix-not-a-label", s(f"{P}.dns.baseDomainPrefix", "My_Prefix"), [f"{P}.dns.baseDomainPrefix"]),
    ("network-type", s(f"{P}.network.networkType", "Calico"), [f"{P}.network.networkType"]),
    ("pod-cidr-garbage", s(f"{P}.network.podCidr", "10.128.0.0"), [f"{P}.network.podCidr"]),
    ("service-cidr-unaligned", s(f"{P}.network.serviceCidr", "172.30.0.1/16"), [f"{P}.network.serviceCidr"]),
    ("machine-cidr-ipv6", s(f"{P}.network.machineCidr", "fd00::/48"), [f"{P}.network.machineCidr"]),
    ("host-prefix-22", s(f"{P}.network.hostPrefix", 22), [f"{P}.network.hostPrefix"]),
    ("host-prefix-27", s(f"{P}.network.hostPrefix", 27), [f"{P}.network.hostPrefix"]),
    ("service-overlaps-pod", s(f"{P}.network.serviceCidr", "10.130.0.0/16"), [f"{P}.network.serviceCidr"]),
    ("machine-overlaps-pod", s(f"{P}.network.machineCidr", "10.128.0.0/24"), [f"{P}.network.machineCidr"]),
    ("api-visibility", s(f"{P}.api.visibility", "Internal"), [f"{P}.api.visibility"]),
    ("authorized-cidrs-empty", s(f"{P}.api.authorizedCidrs", []), [f"{P}.api.authorizedCidrs"]),
    ("authorized-cidrs-501", s(f"{P}.api.authorizedCidrs", ["10.0.0.1"] * 501), [f"{P}.api.authorizedCidrs"]),
    ("authorized-cidr-garbage", s(f"{P}.api.authorizedCidrs.1", "office"), [f"{P}.api.authorizedCidrs[1]"]),
    ("authorized-cidr-ipv6", s(f"{P}.api.authorizedCidrs.0", "2001:db8::/32"), [f"{P}.api.authorizedCidrs[0]"]),
    ("authorized-cidr-whitespace", s(f"{P}.api.authorizedCidrs.0", " 10.0.0.1"), [f"{P}.api.authorizedCidrs[0]"]),
    ("ingress-type", s(f"{P}.ingress.type", "Internal"), [f"{P}.ingress.type"]),
    ("private-api-needs-vnet-integration", private_api, [f"{PL}.vnetIntegrationSubnetId"]),
    ("subnet-missing", s(f"{PL}.subnetId", DELETE), [f"{PL}.subnetId"]),
    ("subnet-not-an-id", s(f"{PL}.subnetId", "workers"), [f"{PL}.subnetId"]),
    ("subnet-wrong-type", s(f"{PL}.subnetId", nsg()), [f"{PL}.subnetId"]),
    (
        "vnet-integration-other-vnet",
        s(f"{PL}.vnetIntegrationSubnetId", subnet("i", vnet="other")),
        [f"{PL}.vnetIntegrationSubnetId"],
    ),
    (
        "vnet-integration-is-subnet",
        s(f"{PL}.vnetIntegrationSubnetId", subnet("workers")),
        [f"{PL}.vnetIntegrationSubnetId"],
    ),
    ("vnet-integration-wrong-type", s(f"{PL}.vnetIntegrationSubnetId", nsg()), [f"{PL}.vnetIntegrationSubnetId"]),
    ("nsg-missing", s(f"{PL}.networkSecurityGroupId", DELETE), [f"{PL}.networkSecurityGroupId"]),
    ("nsg-wrong-type", s(f"{PL}.networkSecurityGroupId", subnet("x")), [f"{PL}.networkSecurityGroupId"]),
    ("nsg-other-subscription", s(f"{PL}.networkSecurityGroupId", nsg(sub=OTHER_SUB)), [f"{PL}.networkSecurityGroupId"]),
    ("outbound-type", s(f"{PL}.outboundType", "UserDefinedRouting"), [f"{PL}.outboundType"]),
    ("managed-rg-is-cluster-rg", s(f"{PL}.managedResourceGroup", RG.lower()), [f"{PL}.managedResourceGroup"]),
    ("managed-rg-bad-name", s(f"{PL}.managedResourceGroup", "rg."), [f"{PL}.managedResourceGroup"]),
    ("operator-not-assigned", ops("controlPlaneOperators", "kms", uami("kms")), [f"{OP}['kms']"]),
    ("identity-not-used", add_identity(uami("extra")), [f"{IDS}['{uami('extra')}']"]),
    (
        "identity-used-twice",
        ops("controlPlaneOperators", "ingress", uami("control-plane")),
        [f"{OP}['ingress']", f"{IDS}['{uami('control-plane')}']", f"{IDS}['{uami('ingress')}']"],
    ),
    (
        "data-plane-identity-assigned",
        add_identity(uami("dp-disk-csi-driver")),
        [f"{DP}['disk-csi-driver']", f"{IDS}['{uami('dp-disk-csi-driver')}']"],
    ),
    (
        "identity-ids-not-unique",
        ops("dataPlaneOperators", "image-registry", uami("dp-disk-csi-driver")),
        [f"{DP}['image-registry']"],
    ),
    ("identity-type", s("identity.type", "Shared"), ["identity.type"]),
    (
        "identity-key-not-an-identity",
        add_identity(nsg()),
        [f"{IDS}['{nsg()}']", f"{IDS}['{nsg()}']"],
    ),
    (
        "registry-identity-other-subscription",
        s(f"{PL}.containerRegistry", {"managedIdentity": uami("acr", sub=OTHER_SUB)}),
        [f"{PL}.containerRegistry.managedIdentity"],
    ),
    ("max-nodes-total-501", s(f"{P}.autoscaling.maxNodesTotal", 501), [f"{P}.autoscaling.maxNodesTotal"]),
    ("max-nodes-total-negative", s(f"{P}.autoscaling.maxNodesTotal", -1), [f"{P}.autoscaling.maxNodesTotal"]),
    (
        "grace-period-0",
        s(f"{P}.autoscaling.maxPodGracePeriodSeconds", 0),
        [f"{P}.autoscaling.maxPodGracePeriodSeconds"],
    ),
    (
        "provision-time-0",
        s(f"{P}.autoscaling.maxNodeProvisionTimeSeconds", 0),
        [f"{P}.autoscaling.maxNodeProvisionTimeSeconds"],
    ),
    ("drain-timeout-too-long", s(f"{P}.nodeDrainTimeoutMinutes", 10081), [f"{P}.nodeDrainTimeoutMinutes"]),
    ("drain-timeout-negative", s(f"{P}.nodeDrainTimeoutMinutes", -1), [f"{P}.nodeDrainTimeoutMinutes"]),
    (
        "etcd-customer-managed-missing",
        s(f"{P}.etcd", {"dataEncryption": {"keyManagementMode": "CustomerManaged"}}),
        [f"{P}.etcd.dataEncryption.customerManaged"],
    ),
    (
        "etcd-mode",
        s(f"{P}.etcd", {"dataEncryption": {"keyManagementMode": "Vault"}}),
        [f"{P}.etcd.dataEncryption.keyManagementMode"],
    ),
    (
        "etcd-platform-managed-with-customer-key",
        s(f"{P}.etcd", {"dataEncryption": {"keyManagementMode": "PlatformManaged", "customerManaged": {}}}),
        [f"{P}.etcd.dataEncryption.customerManaged"],
    ),
    (
        "etcd-kms-missing",
        s(f"{P}.etcd", {"dataEncryption": {"keyManagementMode": "CustomerManaged", "customerManaged": {}}}),
        [f"{P}.etcd.dataEncryption.customerManaged.kms"],
    ),
    ("kms-visibility", kms(visibility="Hidden"), [f"{KMS}.visibility"]),
    ("kms-vault-missing", kms(vaultName=""), [f"{KMS}.vaultName"]),
    ("kms-key-name-missing", kms(activeKey={"version": "v1"}), [f"{KMS}.activeKey.name"]),
    ("kms-key-version-too-long", kms(activeKey={"name": "k", "version": "v" * 256}), [f"{KMS}.activeKey.version"]),
    ("kms-vault-type", kms(keyVaultType="HSM"), [f"{KMS}.keyVaultType"]),
    ("mirrors-241", mirrors([{"source": "quay.io", "mirrors": ["m.example.com"]}] * 241), [f"{P}.imageDigestMirrors"]),
    (
        "mirror-source-uppercase",
        mirrors([{"source": "Quay.io", "mirrors": ["m.example.com"]}]),
        [f"{P}.imageDigestMirrors[0].source"],
    ),
    (
        "mirror-source-scheme",
        mirrors([{"source": "https://quay.io", "mirrors": ["m.example.com"]}]),
        [f"{P}.imageDigestMirrors[0].source"],
    ),
    ("mirror-source-missing", mirrors([{"mirrors": ["m.example.com"]}]), [f"{P}.imageDigestMirrors[0].source"]),
    ("mirrors-empty", mirrors([{"source": "quay.io", "mirrors": []}]), [f"{P}.imageDigestMirrors[0].mirrors"]),
    (
        "mirrors-256",
        mirrors([{"source": "quay.io", "mirrors": ["m.example.com"] * 256}]),
        [f"{P}.imageDigestMirrors[0].mirrors"],
    ),
    (
        "mirror-wildcard",
        mirrors([{"source": "quay.io", "mirrors": ["*.example.com"]}]),
        [f"{P}.imageDigestMirrors[0].mirrors[0]"],
    ),
    ("registry-state", s(f"{P}.clusterImageRegistry.state", "Removed"), [f"{P}.clusterImageRegistry.state"]),
    ("crypto-restrictions", s(f"{P}.cryptoRestrictions", "FIPS-140"), [f"{P}.cryptoRestrictions"]),
    ("tags-51", s("tags", {f"k{i}": "v" for i in range(51)}), ["tags"]),
]


@pytest.mark.parametrize(("change", "expected"), [(c, t) for _, c, t in RULES], ids=[r[0] for r in RULES])
def test_field_rule(change: Callable[[Body], Any], expected: list[str]) -> None:
    body = cluster_body()
    change(body)
    if len(expected) == 1:
        expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx()), BAD, expected[0])
    else:
        err = expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx()), errors.MULTIPLE_ERRORS_OCCURRED, None)
        assert sorted(t or "" for t in targets(err)) == sorted(expected)


def test_subnets_must_not_be_in_the_managed_resource_group() -> None:
    body = minimal_cluster_body()
    setp(body, f"{PL}.managedResourceGroup", "managed")
    setp(body, f"{PL}.subnetId", subnet("workers", rg="MANAGED"))
    expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx()), BAD, f"{PL}.subnetId")


def test_subnet_in_another_subscription() -> None:
    body = minimal_cluster_body()
    setp(body, f"{PL}.subnetId", subnet("workers", sub=OTHER_SUB))
    expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx()), BAD, f"{PL}.subnetId")


def test_operator_identity_in_another_subscription() -> None:
    body = rename_identity(minimal_cluster_body(), uami("cp"), uami("cp", sub=OTHER_SUB))
    expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx()), BAD, f"{OP}['control-plane']")


def test_every_field_error_is_reported_together() -> None:
    body = cluster_body()
    setp(body, f"{P}.version.id", "4.19")
    setp(body, f"{P}.network.hostPrefix", 30)
    setp(body, f"{PL}.outboundType", "None")
    err = expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx()), errors.MULTIPLE_ERRORS_OCCURRED, None)
    assert err.message == MULTIPLE_ERRORS_MESSAGE
    assert targets(err) == [f"{P}.version.id", f"{P}.network.hostPrefix", f"{PL}.outboundType"]
    assert {d.code for d in err.details} == {BAD}
    assert err.body()["details"][0]["target"] == f"{P}.version.id"


@pytest.mark.parametrize(
    ("version", "channel"),
    [("4.20.8", "stable"), ("5.0", "stable"), ("4.23", "candidate"), ("4.23.0-rc.2", "candidate")],
)
def test_experimental_release_features_lift_the_version_limits(version: str, channel: str) -> None:
    body = setp(setp(cluster_body(), f"{P}.version.id", version), f"{P}.version.channelGroup", channel)
    with pytest.raises(CloudError) as refused:
        CLUSTERS.put(body, None, cluster_ctx())
    assert refused.value.status == 400
    assert CLUSTERS.put(body, None, cluster_ctx(features=AFEC)).properties.version.id == version


def test_experimental_version_must_still_be_in_the_catalog() -> None:
    body = setp(cluster_body(), f"{P}.version.id", "4.20.7")
    expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx(features=AFEC)), BAD, f"{P}.version.id")


def test_without_a_catalog_any_supported_minor_is_accepted() -> None:
    body = setp(cluster_body(), f"{P}.version.id", "4.24")
    assert CLUSTERS.put(body, None, cluster_ctx(catalog=())).properties.version.id == "4.24"


def test_fast_channel_uses_its_own_catalog_entries() -> None:
    body = setp(cluster_body(), f"{P}.version.channelGroup", "fast")
    assert CLUSTERS.put(body, None, cluster_ctx()).properties.version.channel_group == "fast"
    body = setp(setp(cluster_body(), f"{P}.version.channelGroup", "fast"), f"{P}.version.id", "5.0")
    expect_error(lambda: CLUSTERS.put(body, None, cluster_ctx(features=AFEC)), BAD, f"{P}.version.id")


def test_every_control_plane_operator_of_the_role_set_is_accepted() -> None:
    assert len(CONTROL_PLANE) == 8
    oc = CLUSTERS.put(cluster_body(), None, cluster_ctx())
    assert set(oc.properties.platform.operators_authentication.user_assigned_identities.control_plane_operators) == set(
        CONTROL_PLANE
    )
