"""2026-10-01 hosted cluster updates: what may change (and how), what may not, PUT replace semantics."""

from __future__ import annotations

from typing import Any

import pytest

from aro.api import errors
from aro.api.hcp.cluster import CredentialIssue, HcpOpenShiftCluster, SignerPKI
from aro.api.hcp.common import ActiveVersion
from tests.api.hcp.fixtures import (
    AFEC,
    CLUSTERS,
    DELETE,
    Body,
    cluster_body,
    cluster_ctx,
    created_cluster,
    expect_error,
    setp,
    subnet,
    uami,
)

P = "properties"
PL = f"{P}.platform"
BAD = errors.INVALID_REQUEST_CONTENT
IMMUTABLE = errors.PROPERTY_CHANGE_NOT_ALLOWED


def patch(oc: HcpOpenShiftCluster, body: Body, **ctx: Any) -> HcpOpenShiftCluster:
    return CLUSTERS.patch(body, oc, cluster_ctx(**ctx))


def props(**values: Any) -> Body:
    body: Body = {}
    for path, value in values.items():
        setp(body, f"{P}.{path.replace('__', '.')}", value)
    return body


def at(version: str) -> HcpOpenShiftCluster:
    return created_cluster(setp(cluster_body(), f"{P}.version.id", version))


def test_mutable_fields_change() -> None:
    oc = created_cluster()
    body = {
        "tags": {"env": "prod"},
        P: {
            "version": {"id": "4.21"},
            "api": {"authorizedCidrs": ["192.0.2.0/24"]},
            "autoscaling": {"maxNodesTotal": 250, "podPriorityThreshold": 5},
            "nodeDrainTimeoutMinutes": 60,
            "imageDigestMirrors": [{"source": "quay.io/openshift", "mirrors": ["mirror.example.com/openshift"]}],
        },
    }
    new = patch(oc, body)
    p = new.properties
    assert new.tags == {"env": "prod"}
    assert (p.version.id, p.api.authorized_cidrs, p.node_drain_timeout_minutes) == ("4.21", ["192.0.2.0/24"], 60)
    assert (p.autoscaling.max_nodes_total, p.autoscaling.pod_priority_threshold) == (250, 5)
    assert p.autoscaling.max_pod_grace_period_seconds == 600  # untouched by the patch
    assert p.image_digest_mirrors[0].mirrors == ["mirror.example.com/openshift"]
    assert oc.properties.version.id == "4.20"  # the input is never mutated


def test_authorized_cidrs_can_be_removed() -> None:
    assert patch(created_cluster(), props(api__authorizedCidrs=None)).properties.api.authorized_cidrs is None


@pytest.mark.parametrize(
    ("path", "value", "target"),
    [
        ("network.podCidr", "10.132.0.0/14", f"{P}.network.podCidr"),
        ("network.hostPrefix", 24, f"{P}.network.hostPrefix"),
        ("dns.baseDomainPrefix", "other", f"{P}.dns.baseDomainPrefix"),
        ("api.visibility", "Private", f"{P}.api.visibility"),
        ("ingress.type", "Private", f"{P}.ingress.type"),
        ("platform.subnetId", subnet("other"), f"{PL}.subnetId"),
        ("platform.managedResourceGroup", "another-rg", f"{PL}.managedResourceGroup"),
        ("platform.outboundType", "None", f"{PL}.outboundType"),
        (
            "platform.operatorsAuthentication.userAssignedIdentities.serviceManagedIdentity",
            uami("other"),
            f"{PL}.operatorsAuthentication.userAssignedIdentities.serviceManagedIdentity",
        ),
        (
            "platform.containerRegistry",
            {"managedIdentity": uami("acr")},
            f"{PL}.containerRegistry.managedIdentity",
        ),
        ("clusterImageRegistry.state", "Disabled", f"{P}.clusterImageRegistry.state"),
        ("cryptoRestrictions", "FIPS", f"{P}.cryptoRestrictions"),
        (
            "etcd",
            {"dataEncryption": {"keyManagementMode": "CustomerManaged"}},
            f"{P}.etcd.dataEncryption.keyManagementMode",
        ),
    ],
)
def test_immutable_fields(path: str, value: Any, target: str) -> None:
    oc = created_cluster()
    expect_error(lambda: patch(oc, setp({}, f"{P}.{path}", value)), IMMUTABLE, target)


def test_operator_identities_are_immutable() -> None:
    oc = created_cluster()
    base = f"{PL}.operatorsAuthentication.userAssignedIdentities.controlPlaneOperators"
    body = setp({}, f"{base}.ingress", uami("ingress2"))
    expect_error(lambda: patch(oc, body), IMMUTABLE, f"{base}['ingress']")


def test_resource_ids_compare_case_insensitively() -> None:
    oc = created_cluster()
    new = patch(oc, props(platform__subnetId=subnet("workers").upper()))
    assert new.properties.platform.subnet_id == subnet("workers").upper()


@pytest.mark.parametrize(
    ("start", "to", "reason"),
    [
        ("4.21", "4.20", "may not decrease"),
        ("4.20", "4.22", "next minor"),
        ("4.20", "4.20.9", "MAJOR.MINOR"),
    ],
)
def test_version_changes_are_limited(start: str, to: str, reason: str) -> None:
    oc = at(start)
    err = expect_error(lambda: patch(oc, props(version__id=to)), BAD, f"{P}.version.id")
    assert reason in err.message


def test_version_upgrade_needs_an_available_target() -> None:
    oc = at("4.22")
    expect_error(lambda: patch(oc, props(version__id="4.23")), BAD, f"{P}.version.id")  # past end of life


def test_upgrade_across_majors_follows_the_paths() -> None:
    oc = created_cluster(setp(cluster_body(), f"{P}.version.id", "4.22"))
    assert patch(oc, props(version__id="5.0"), features=AFEC).properties.version.id == "5.0"
    oc = at("4.21")
    expect_error(lambda: patch(oc, props(version__id="5.0"), features=AFEC), BAD, f"{P}.version.id")


def test_unchanged_version_is_not_judged_again() -> None:
    oc = at("4.20")
    only_4_22 = [v for v in cluster_ctx().catalog if v.name.startswith("4.22")]
    assert patch(oc, {"tags": {"a": "b"}}, catalog=only_4_22).tags == {"a": "b"}


def test_channel_group_change_is_refused() -> None:
    oc = created_cluster()
    err = expect_error(lambda: patch(oc, props(version__channelGroup="fast")), BAD, f"{P}.version.channelGroup")
    assert "not supported" in err.message


def kms_body(version: str) -> Body:
    k = {"vaultName": "vault", "visibility": "Public", "activeKey": {"name": "etcd-key", "version": "v1"}}
    body = setp(cluster_body(), f"{P}.version.id", version)
    return setp(
        body, f"{P}.etcd", {"dataEncryption": {"keyManagementMode": "CustomerManaged", "customerManaged": {"kms": k}}}
    )


def test_kms_key_rotation_needs_4_22() -> None:
    key = f"{P}.etcd.dataEncryption.customerManaged.kms.activeKey"
    rotate = setp({}, f"{key}.version", "v2")
    oc = created_cluster(kms_body("4.22"))
    assert patch(oc, rotate).properties.etcd.data_encryption.customer_managed.kms.active_key.version == "v2"  # type: ignore[union-attr]
    oc = created_cluster(kms_body("4.21"))
    expect_error(lambda: patch(oc, rotate), BAD, f"{key}.version")
    expect_error(lambda: patch(oc, setp({}, f"{key}.name", "other")), IMMUTABLE, f"{key}.name")
    expect_error(
        lambda: patch(oc, setp({}, f"{P}.etcd.dataEncryption.customerManaged.kms.vaultName", "v2")),
        IMMUTABLE,
        f"{P}.etcd.dataEncryption.customerManaged.kms.vaultName",
    )


def test_resending_the_create_body_is_no_change() -> None:
    oc = created_cluster()
    new = CLUSTERS.put(cluster_body(), oc, cluster_ctx())
    assert new.properties.platform.managed_resource_group == oc.properties.platform.managed_resource_group
    assert CLUSTERS.to_external(new) == CLUSTERS.to_external(oc)


def test_replace_with_what_get_returned() -> None:
    oc = created_cluster()
    oc.properties.dns.base_domain = "abcd.example.com"
    got = CLUSTERS.to_external(oc)
    new = CLUSTERS.put(got, oc, cluster_ctx())
    assert CLUSTERS.to_external(new) == got


def test_replace_resets_omitted_fields_to_the_defaults() -> None:
    oc = created_cluster(setp(cluster_body(), f"{P}.network.podCidr", "10.132.0.0/14"))
    body = setp(cluster_body(), f"{P}.network", DELETE)
    expect_error(lambda: CLUSTERS.put(body, oc, cluster_ctx()), IMMUTABLE, f"{P}.network.podCidr")
    oc = created_cluster()
    body = setp(cluster_body(), f"{P}.autoscaling", DELETE)
    new = CLUSTERS.put(body, oc, cluster_ctx())
    assert new.properties.autoscaling.max_nodes_total == 0  # mutable: back to the default


def test_backend_fields_survive_updates() -> None:
    oc = created_cluster()
    p = oc.properties
    p.cluster_id, p.management_namespace = "6f1c7a52-1111-2222-3333-444455556666", "ocm-ns"
    p.signer = SignerPKI(ca_cert="c", ca_key="k")
    p.credentials = [CredentialIssue(operation_id="op", csr="csr")]
    p.platform.issuer_url, p.status.active_versions = "https://issuer", [ActiveVersion(version="4.20")]
    new = patch(oc, {"tags": {"x": "y"}})
    q = new.properties
    assert (q.cluster_id, q.management_namespace, q.signer, q.credentials) == (
        p.cluster_id,
        "ocm-ns",
        p.signer,
        p.credentials,
    )
    assert q.platform.issuer_url == "https://issuer" and q.status.active_versions == p.status.active_versions
    new = CLUSTERS.put(cluster_body(), oc, cluster_ctx())
    assert new.properties.signer == p.signer and new.properties.cluster_id == p.cluster_id


def test_provisioning_state_in_a_body_must_match() -> None:
    oc = created_cluster()
    expect_error(lambda: patch(oc, props(provisioningState="Failed")), IMMUTABLE, f"{P}.provisioningState")


def test_field_errors_on_update_are_reported_together() -> None:
    oc = created_cluster()
    body = props(nodeDrainTimeoutMinutes=99999, autoscaling__maxNodesTotal=9999)
    err = expect_error(lambda: patch(oc, body), errors.MULTIPLE_ERRORS_OCCURRED, None)
    assert [d.target for d in err.details] == [f"{P}.autoscaling.maxNodesTotal", f"{P}.nodeDrainTimeoutMinutes"]
