"""The 2026-10-01 bodies of the hosted cluster's asynchronous actions: ``requestAdminCredential`` (a CSR in,
``{kubeconfig, expirationTimestamp}`` out) and ``revokeCredentials`` (no body, no result)."""

from __future__ import annotations

from typing import Any

from aro.api.external import parse, require_object
from aro.api.hcp import credentials
from aro.api.hcp.cluster import HcpOpenShiftCluster
from aro.api.hcp.fielderrors import FieldErrors
from aro.api.hcp.v20261001.clustermodels import AdminCredentialRequest

CSR = "certificateSigningRequest"


def accept_credential_request(oc: HcpOpenShiftCluster, body: Any, operation_id: str) -> None:
    """The CSR is mandatory and must be a break-glass CSR (400 otherwise); it is recorded on ``oc``."""
    errs = FieldErrors()
    if body is None:
        errs.required(CSR)
        errs.raise_if_any()
    request = parse(AdminCredentialRequest, require_object(body))
    csr = request.certificate_signing_request
    if not csr:
        errs.required(CSR)
    else:
        for reason in credentials.csr_errors(csr):
            errs.invalid(CSR, "<PEM>", reason)
    errs.raise_if_any()
    credentials.record_request(oc, operation_id, csr or "")


def credential_result(oc: HcpOpenShiftCluster, operation_id: str) -> dict[str, Any]:
    issued = credentials.issued(oc, operation_id)
    return {"kubeconfig": issued.kubeconfig, "expirationTimestamp": issued.expiration_timestamp}


def accept_revocation(oc: HcpOpenShiftCluster, body: Any, operation_id: str) -> None:
    credentials.record_revocation(oc, operation_id)
