"""requestAdminCredential / revokeCredentials (2026-10-01): the CSR rules, what is recorded, the result, the
gate while a revocation runs."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from azure.mgmt.redhatopenshifthcp import models as sdk
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aro.api import errors
from aro.api.errors import CloudError
from aro.api.hcp.cluster import REQUEST_CREDENTIAL, REVOKE_CREDENTIALS, HcpOpenShiftCluster
from aro.api.hcp.credentials import REQUIRED_COMMON_NAME, REQUIRED_ORGANIZATION, credential_gate
from aro.api.hcp.v20261001 import CLUSTER
from aro.api.resource import ProvisioningState, Request
from aro.api.version import AsyncAction
from tests.api.hcp.fixtures import CLUSTERS, created_cluster, expect_error, targets, wire

CSR = "certificateSigningRequest"
BAD = errors.INVALID_REQUEST_CONTENT


def action(name: str) -> AsyncAction[HcpOpenShiftCluster]:
    entry = CLUSTER.actions[name]
    assert isinstance(entry, AsyncAction)
    return entry


REQUEST, REVOKE = action("requestadmincredential"), action("revokecredentials")


def csr(cn: str | None = REQUIRED_COMMON_NAME, orgs: tuple[str, ...] = (REQUIRED_ORGANIZATION,)) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    req = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs)).sign(key, hashes.SHA256())
    return req.public_bytes(serialization.Encoding.PEM).decode()


def body(pem: str) -> dict[str, Any]:
    """What the SDK sends."""
    return wire(sdk.HcpOpenShiftClusterAdminCredentialRequest(certificate_signing_request=pem))


def accept(entry: AsyncAction[HcpOpenShiftCluster], oc: HcpOpenShiftCluster, payload: Any, op: str = "op-1") -> None:
    assert entry.accept is not None
    entry.accept(oc, payload, op)


def test_the_actions_run_as_operations() -> None:
    assert (REQUEST.request, REVOKE.request) == (REQUEST_CREDENTIAL, REVOKE_CREDENTIALS)
    assert REVOKE.result is None


def test_a_break_glass_csr_is_recorded_and_its_credential_returned() -> None:
    oc = created_cluster()
    pem = csr()
    accept(REQUEST, oc, body(pem), "op-1")
    [issue] = oc.properties.credentials
    assert (issue.operation_id, issue.csr, issue.kubeconfig, issue.revoked) == ("op-1", pem, "", False)
    issue.kubeconfig, issue.expiration_timestamp = "apiVersion: v1\nkind: Config\n", "2026-12-02T22:00:00Z"
    assert REQUEST.result is not None
    out = REQUEST.result(oc, "op-1")
    back = sdk.HcpOpenShiftClusterAdminCredential(out)
    assert back.kubeconfig == "apiVersion: v1\nkind: Config\n"
    assert back.expiration_timestamp.year == 2026
    assert "credentials" not in str(CLUSTERS.to_external(oc)) and pem not in str(CLUSTERS.to_external(oc))


def test_result_of_an_unknown_or_revoked_credential_is_gone() -> None:
    oc = created_cluster()
    accept(REQUEST, oc, body(csr()), "op-1")
    assert REQUEST.result is not None
    result = REQUEST.result
    with pytest.raises(CloudError) as info:
        result(oc, "op-1")  # not issued yet
    assert info.value.status == 404
    oc.properties.credentials[0].kubeconfig = "k"
    oc.properties.credentials[0].revoked = True
    with pytest.raises(CloudError):
        result(oc, "op-1")


def tampered() -> str:
    der = x509.load_pem_x509_csr(csr().encode()).public_bytes(serialization.Encoding.DER)
    der = der[:-1] + bytes([der[-1] ^ 0x01])
    lines = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{lines}-----END CERTIFICATE REQUEST-----\n"


def certificate_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, REQUIRED_COMMON_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (lambda: body(csr(cn="system:admin")), "common name"),
        (lambda: body(csr(cn=None)), "common name"),
        (lambda: body(csr(orgs=("system:authenticated",))), "organization"),
        (lambda: body(csr(orgs=(REQUIRED_ORGANIZATION, "other"))), "organization"),
        (lambda: body(csr(orgs=())), "organization"),
        (lambda: body(certificate_pem()), "CERTIFICATE REQUEST"),
        (lambda: body("not a pem"), "CERTIFICATE REQUEST"),
        (lambda: body("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), "parse"),
        (lambda: body(tampered()), "signature"),
        (lambda: None, "Missing required"),
        (lambda: {}, "Missing required"),
        (lambda: {CSR: ""}, "Missing required"),
    ],
)
def test_refused_requests(payload: Any, reason: str) -> None:
    oc = created_cluster()
    err = expect_error(lambda: accept(REQUEST, oc, payload()), BAD, CSR)
    assert reason in err.message
    assert oc.properties.credentials == []


def test_wrong_common_name_and_organization_are_both_reported() -> None:
    oc = created_cluster()
    err = expect_error(
        lambda: accept(REQUEST, oc, body(csr(cn="me", orgs=("you",)))), errors.MULTIPLE_ERRORS_OCCURRED, None
    )
    assert targets(err) == [CSR, CSR]


def test_body_must_be_an_object_of_strings() -> None:
    oc = created_cluster()
    expect_error(lambda: accept(REQUEST, oc, ["csr"]), BAD, None)
    expect_error(lambda: accept(REQUEST, oc, {CSR: 42}), BAD, CSR)


def test_revocation_is_recorded_and_blocks_credential_actions() -> None:
    oc = created_cluster()
    accept(REVOKE, oc, None, "op-revoke")
    oc.properties.provisioning_state = ProvisioningState.UPDATING  # the revocation runs as the operation
    assert oc.properties.revocation_operation_id == "op-revoke"
    for request, message in ((REQUEST_CREDENTIAL, "being revoked"), (REVOKE_CREDENTIALS, "already being revoked")):
        with pytest.raises(CloudError) as info:
            credential_gate(oc, request)
        assert (info.value.status, info.value.code, info.value.headers) == (409, "Conflict", {"Retry-After": "10"})
        assert message in info.value.message
    with pytest.raises(CloudError) as info:  # other requests: the usual gate only
        credential_gate(oc, Request.UPDATE)
    assert "while resource is 'Updating'" in info.value.message and not info.value.headers
    oc.properties.provisioning_state = ProvisioningState.FAILED  # a revocation that failed blocks nothing
    credential_gate(oc, REQUEST_CREDENTIAL)


def test_gate_refuses_credential_actions_while_the_cluster_is_busy() -> None:
    oc = created_cluster()
    credential_gate(oc, REQUEST_CREDENTIAL)
    oc.properties.provisioning_state = ProvisioningState.UPDATING
    with pytest.raises(CloudError) as info:
        credential_gate(oc, REQUEST_CREDENTIAL)
    assert info.value.status == 409 and "Cannot request credential" in info.value.message
    with pytest.raises(CloudError):
        credential_gate(oc, Request.UPDATE)
