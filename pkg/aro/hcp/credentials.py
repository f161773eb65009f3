"""Break-glass admin credentials of a hosted cluster (ARO-HCP's requestAdminCredential and
revokeCredentials).

Request: the frontend checked the CSR and recorded it with the operation's id; the backend signs it with
the cluster's client CA for 24 hours and keeps the kubeconfig -- the signed certificate, *without* a
private key (the caller holds it) -- sealed until the operation's result has been read (48 hours).

Revoke: a new client CA replaces the old one (persisted first, so a crash never loses it), the management
cluster's ``kas-client-ca`` secret is replaced -- from then on the hosted API refuses every certificate
the old CA signed -- and every issued credential is marked revoked, its kubeconfig deleted. While a
revocation runs, new requests and revocations are refused (409, ``Retry-After``; see the kind's gate).
"""

from __future__ import annotations

import datetime as dt

from aro.api.errors import CloudError
from aro.api.hcp.cluster import CredentialIssue, HcpOpenShiftCluster, SignerPKI
from aro.hcp import controlplane
from aro.hcp.context import HostedContext
from aro.steps import Action, Step
from aro.util import kubeconfig, pki
from aro.util.clock import epoch_of, utc_now

Ctx = HostedContext[HcpOpenShiftCluster]
VALID_SECONDS = 24 * 3600
KEEP_SECONDS = 48 * 3600
ADMIN_USER = "system:customer-break-glass:system-admin"


def _pending(oc: HcpOpenShiftCluster, operation_id: str) -> CredentialIssue | None:
    return next((c for c in oc.properties.credentials if c.operation_id == operation_id), None)


def _rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def issue(ctx: Ctx) -> None:
    op = ctx.operation_id
    entry = _pending(ctx.hub, op)
    if entry is None:
        raise CloudError(500, "InternalServerError", "The credential request was not recorded.")
    if entry.kubeconfig:
        return  # issued already (a resumed run)
    signer = ctx.hub.properties.signer
    if signer is None:
        raise CloudError(409, "Conflict", "The cluster has no client CA yet.")
    cert_pem, expires = pki.sign_csr(pki.KeyPair(signer.ca_cert, signer.ca_key), entry.csr, VALID_SECONDS)
    endpoint = ctx.endpoint(ctx.hub)
    config = kubeconfig.render(
        cluster_name=ctx.hub.name,
        server=endpoint.url,
        ca_pem=endpoint.ca_pem,
        user=ADMIN_USER,
        client_cert_pem=cert_pem,
        client_key_pem=None,
    )
    now = dt.datetime.now(dt.UTC).timestamp()

    def mutate(oc: HcpOpenShiftCluster) -> None:
        kept = [
            c for c in oc.properties.credentials if now - (epoch_of(c.issued_at or utc_now()) or now) < KEEP_SECONDS
        ]
        for c in kept:
            if c.operation_id == op and not c.kubeconfig:
                c.kubeconfig, c.expiration_timestamp, c.issued_at = config, _rfc3339(expires), utc_now()
        oc.properties.credentials = kept

    await ctx.update(mutate)


async def rotate_client_ca(ctx: Ctx) -> None:
    """A new client CA, once per revocation (``signer.revocation`` names the revocation it was made for)."""
    op = ctx.operation_id
    current = ctx.hub.properties.signer
    if current is not None and current.revocation == op:
        return
    ca = pki.new_ca(f"customer-break-glass-signer-{ctx.hub.properties.cluster_id[:8]}-{op[:8]}", days=3650)
    fresh = SignerPKI(ca_cert=ca.cert_pem, ca_key=ca.key_pem, revocation=op)

    def mutate(oc: HcpOpenShiftCluster) -> None:
        if oc.properties.signer is None or oc.properties.signer.revocation != op:
            oc.properties.signer = fresh

    await ctx.update(mutate)


async def apply_client_ca(ctx: Ctx) -> None:
    p = ctx.hub.properties
    assert p.signer is not None
    await ctx.management().apply("secrets", controlplane.client_ca(p.management_namespace, p.signer.ca_cert))


async def finish_revocation(ctx: Ctx) -> None:
    def mutate(oc: HcpOpenShiftCluster) -> None:
        for c in oc.properties.credentials:
            c.revoked, c.kubeconfig, c.csr = True, "", ""
        oc.properties.revocation_operation_id = None

    await ctx.update(mutate)


REQUEST: list[Step[Ctx]] = [Action("credentials.issue", issue)]

REVOKE: list[Step[Ctx]] = [
    Action("credentials.rotate_client_ca", rotate_client_ca),
    Action("credentials.apply_client_ca", apply_client_ca),
    Action("credentials.finish_revocation", finish_revocation),
]
