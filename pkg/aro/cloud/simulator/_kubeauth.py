"""Who is calling a cluster API: client certificates, bearer tokens, impersonation.

Authenticators are tried in order, as the API server's union authenticator does; the first that accepts
the request decides it:

1. **Client certificate** (TLS; the server passes the verified leaf in the ASGI ``tls`` extension as
   ``client_cert_der``): it must be directly signed by one of THIS cluster's CURRENT client CAs and be
   inside its validity window (the CA too), with ``clientAuth`` among its extended key usages when it has
   any. User = CN, groups = each O.
2. **Bearer token**: a token the cluster issued (a ``kubernetes.io/service-account-token`` secret whose
   service account exists) is ``system:serviceaccount:<ns>:<sa>`` in ``system:serviceaccounts`` and
   ``system:serviceaccounts:<ns>``; on the management cluster, a simulator bearer token (the ones ARM
   accepts) is ``simulator-admin`` in ``system:masters``.

Presented credentials that no authenticator accepts are a 401 ``Unauthorized``; none at all is
``system:anonymous`` (group ``system:unauthenticated``), which RBAC (``_kubeauthz``) then admits to very
little. Every authenticated identity is also in ``system:authenticated``.

Impersonation: ``Impersonate-User`` (with any number of ``Impersonate-Group``, and ``Impersonate-Uid``)
replaces the identity when the caller may impersonate that user and each group (``_kubeauthz.may_impersonate``:
system:masters, or RBAC's ``impersonate`` verb on ``users`` / ``serviceaccounts`` / ``groups``); else 403.
Groups without a user is a 400.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ._http import Request
from ._kubeerrors import KubeError, bad_request, unauthorized

AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...]
    uid: str = ""

    @property
    def anonymous(self) -> bool:
        return self.user == "system:anonymous"


ANONYMOUS = Identity("system:anonymous", ("system:unauthenticated",))


def service_account(namespace: str, name: str) -> Identity:
    return Identity(
        f"system:serviceaccount:{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED),
    )


@dataclass(frozen=True)
class Credentials:
    client_cert_der: bytes | None
    bearer: str | None
    impersonate_user: str | None
    impersonate_groups: tuple[str, ...]
    impersonate_uid: str | None

    @classmethod
    def of(cls, req: Request) -> Credentials:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        groups = tuple(v.strip() for k, v in req.header_list if k == "impersonate-group" and v.strip())
        return cls(
            req.client_cert_der,
            token.strip() if scheme.lower() == "bearer" and token.strip() else None,
            req.headers.get("impersonate-user") or None,
            groups,
            req.headers.get("impersonate-uid") or None,
        )

    @property
    def presented(self) -> bool:
        return self.client_cert_der is not None or self.bearer is not None


@functools.lru_cache(maxsize=512)
def _ca_certs(bundle: str) -> tuple[x509.Certificate, ...]:
    try:
        return tuple(x509.load_pem_x509_certificates(bundle.encode()))
    except ValueError:
        return ()


def _valid_at(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def verify_client_cert(der: bytes, ca_bundles: list[str], now: dt.datetime | None = None) -> Identity | None:
    """The identity in a client certificate signed by one of the CAs in ``ca_bundles``, else None."""
    now = dt.datetime.now(dt.UTC) if now is None else now
    try:
        leaf = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    if not _valid_at(leaf, now):
        return None
    try:
        usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.CLIENT_AUTH not in usages and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in usages:
            return None
    except x509.ExtensionNotFound:
        pass
    for bundle in ca_bundles:
        for ca in _ca_certs(bundle):
            if not _valid_at(ca, now):
                continue
            try:
                leaf.verify_directly_issued_by(ca)
            except Exception:  # InvalidSignature, an issuer name mismatch (ValueError), an unsupported key (TypeError)
                continue
            cn = [str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
            orgs = [str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
            if not cn or not cn[0]:
                return None
            return Identity(cn[0], (*orgs, AUTHENTICATED))
    return None


def authenticate(
    creds: Credentials,
    client_cas: Callable[[], list[str]],
    token: Callable[[str], Identity | None],
) -> Identity:
    """The caller's identity (before impersonation). ``client_cas`` and ``token`` are asked lazily."""
    if creds.client_cert_der is not None:
        found = verify_client_cert(creds.client_cert_der, client_cas())
        if found is not None:
            return found
    if creds.bearer is not None:
        found = token(creds.bearer)
        if found is not None:
            return found
    if creds.presented:
        raise unauthorized()
    return ANONYMOUS


Impersonation = Callable[[Identity, str, str | None, str], bool]  # (caller, resource, namespace, name)


def _cannot_impersonate(identity: Identity, resource: str, namespace: str | None, name: str) -> KubeError:
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return KubeError(
        403,
        "Forbidden",
        f'{resource} "{name}" is forbidden: User "{identity.user}" cannot impersonate resource "{resource}" in API '
        f'group "" {scope}',
        name=name,
        kind=resource,
    )


def impersonate(identity: Identity, creds: Credentials, allowed: Impersonation) -> Identity:
    """The identity the request acts as. ``allowed(caller, resource, namespace, name)`` judges each
    impersonated name: ``users`` (``serviceaccounts`` in their namespace for a service account) and ``groups``."""
    if creds.impersonate_user is None:
        if creds.impersonate_groups or creds.impersonate_uid:
            raise bad_request("requested impersonation of groups or a uid without impersonating a user")
        return identity
    user = creds.impersonate_user
    parts = user.split(":")
    is_sa = len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]
    target = ("serviceaccounts", parts[2], parts[3]) if is_sa else ("users", None, user)
    if not allowed(identity, *target):
        raise _cannot_impersonate(identity, *target)
    for group in creds.impersonate_groups:
        if not allowed(identity, "groups", None, group):
            raise _cannot_impersonate(identity, "groups", None, group)
    groups = list(creds.impersonate_groups)
    if is_sa:
        groups += ["system:serviceaccounts", f"system:serviceaccounts:{parts[2]}"]
    if user != "system:anonymous" and AUTHENTICATED not in groups:
        groups.append(AUTHENTICATED)
    return Identity(user, tuple(dict.fromkeys(groups)), creds.impersonate_uid or "")
