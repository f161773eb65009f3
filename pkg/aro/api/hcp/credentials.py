"""Break-glass admin credentials of a hosted cluster: the CSR a ``requestAdminCredential`` must carry, what
the frontend records on the cluster when it accepts one (and a ``revokeCredentials``), and the 409s while a
revocation runs.

The CSR (mandatory since 2026-09-01-preview) is a PEM ``CERTIFICATE REQUEST`` with a valid self-signature,
subject CN exactly ``system:customer-break-glass:system-admin`` and O exactly ``[system:masters]``. The
backend signs it with the cluster's break-glass CA (``properties.signer``) for about 24 hours and stores
the kubeconfig -- the signed certificate, never a private key -- on the same ``CredentialIssue``.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from aro.api.errors import CONFLICT, NOT_FOUND, CloudError
from aro.api.hcp.cluster import REQUEST_CREDENTIAL, REVOKE_CREDENTIALS, CredentialIssue, HcpOpenShiftCluster
from aro.api.kind import conflict_gate
from aro.api.resource import Resource

REQUIRED_COMMON_NAME = "system:customer-break-glass:system-admin"
REQUIRED_ORGANIZATION = "system:masters"
CREDENTIAL_VALIDITY_SECONDS = 86400
RETRY_AFTER_SECONDS = "10"


def csr_errors(pem: str) -> list[str]:
    """What is wrong with ``pem`` as a break-glass CSR (empty: nothing)."""
    text = pem.strip()
    if not text.startswith("-----BEGIN CERTIFICATE REQUEST-----"):
        return ["failed to decode PEM block as CERTIFICATE REQUEST"]
    try:
        csr = x509.load_pem_x509_csr(text.encode())
    except ValueError as exc:
        return [f"failed to parse certificate request: {exc}"]
    out: list[str] = []
    try:
        signed = csr.is_signature_valid
    except Exception:  # an unsupported key or signature algorithm
        signed = False
    if not signed:
        out.append("the certificate request's signature is invalid")
    cns = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if cns != [REQUIRED_COMMON_NAME]:
        out.append(f"subject common name must be {REQUIRED_COMMON_NAME!r}")
    orgs = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    if orgs != [REQUIRED_ORGANIZATION]:
        out.append(f"subject organization must be exactly [{REQUIRED_ORGANIZATION!r}]")
    return out


def record_request(oc: HcpOpenShiftCluster, operation_id: str, csr: str) -> None:
    """An accepted requestAdminCredential: the backend's RequestCredential steps sign ``csr``."""
    oc.properties.credentials.append(CredentialIssue(operation_id=operation_id, csr=csr))


def record_revocation(oc: HcpOpenShiftCluster, operation_id: str) -> None:
    """An accepted revokeCredentials: blocks new requests and revocations until the backend clears it."""
    oc.properties.revocation_operation_id = operation_id


def issued(oc: HcpOpenShiftCluster, operation_id: str) -> CredentialIssue:
    """The credential a finished RequestCredential operation issued; 404 once it is gone or revoked."""
    for c in oc.properties.credentials:
        if c.operation_id == operation_id and c.kubeconfig and not c.revoked:
            return c
    raise CloudError(404, NOT_FOUND, f"The credential issued by operation '{operation_id}' is no longer available.")


def credential_gate(current: Resource, request: str) -> None:
    """The clusters' action gate: ARO-HCP's ``conflict_gate`` with its wording for the credential actions,
    and the revocation in flight (409 with ``Retry-After: 10``)."""
    verbs = {REQUEST_CREDENTIAL: "request credential", REVOKE_CREDENTIALS: "revoke credentials"}
    if request not in verbs:
        conflict_gate(current, request)
        return
    state = current.properties.provisioning_state
    # a revocation runs as the cluster's operation (the cluster is Updating until it finished)
    revoking = isinstance(current, HcpOpenShiftCluster) and current.properties.revocation_operation_id
    if state.terminal or not revoking:
        if not state.terminal:
            raise CloudError(
                409,
                CONFLICT,
                f"Cannot {verbs[request]} while resource is {state.value!r}.",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        return
    if request == REQUEST_CREDENTIAL:
        message = "Cannot request credential while credentials are being revoked."
    else:
        message = "Credentials are already being revoked."
    raise CloudError(409, CONFLICT, message, headers={"Retry-After": RETRY_AFTER_SECONDS})
