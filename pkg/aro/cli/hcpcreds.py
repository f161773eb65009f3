"""Break-glass admin credentials of a hosted cluster, client side: the key and the CSR ``aro hcp cluster
request-admin-credential`` sends, and the kubeconfig it writes -- the RP's, which holds the signed
certificate but never a private key, with the key generated here inserted as ``client-key-data``."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aro.cli.errors import CliError

ADMIN_CN = "system:customer-break-glass:system-admin"
ADMIN_ORGANIZATION = "system:masters"


@dataclass(frozen=True)
class CredentialRequest:
    key_pem: str  # PKCS#8, unencrypted: it goes into the kubeconfig
    csr_pem: str

    def body(self) -> dict[str, str]:
        return {"certificateSigningRequest": self.csr_pem}


def new_request() -> CredentialRequest:
    """An EC P-256 key and its CSR for CN ``system:customer-break-glass:system-admin``, O ``system:masters``
    (the subject the RP signs)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ADMIN_ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, ADMIN_CN),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return CredentialRequest(key_pem=key_pem, csr_pem=csr.public_bytes(serialization.Encoding.PEM).decode())


def _load_kubeconfig(value: str) -> object:
    """The kubeconfig the RP returned, parsed (YAML text; a base64 encoding of it is accepted too)."""
    try:
        config = yaml.safe_load(value)
        if not isinstance(config, dict):
            config = yaml.safe_load(base64.b64decode(value, validate=True).decode())
    except (binascii.Error, UnicodeDecodeError):
        raise CliError("the RP's admin credential is neither a kubeconfig nor a base64-encoded one") from None
    except yaml.YAMLError as e:
        raise CliError(f"the RP's admin kubeconfig is not valid YAML: {e}") from None
    return config


def _spki(public: Any) -> bytes:
    return bytes(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _certified_key(cert_pem: bytes) -> bytes:
    try:
        return _spki(x509.load_pem_x509_certificate(cert_pem).public_key())
    except ValueError as e:
        raise CliError(f"the admin kubeconfig's client certificate is not readable: {e}") from None


def with_private_key(kubeconfig: str, key_pem: str) -> str:
    """The kubeconfig with ``client-key-data`` (``key_pem``) added to every user whose client certificate
    certifies that key; a kubeconfig without such a user is an error (the RP signed something else)."""
    config = _load_kubeconfig(kubeconfig)
    if not isinstance(config, dict) or not isinstance(config.get("users"), list):
        raise CliError("the RP's admin kubeconfig has no users")
    ours = _spki(serialization.load_pem_private_key(key_pem.encode(), password=None).public_key())
    key_data = base64.b64encode(key_pem.encode()).decode()
    matched = 0
    for entry in config["users"]:
        user = entry.get("user") if isinstance(entry, dict) else None
        cert_data = user.get("client-certificate-data") if isinstance(user, dict) else None
        if not isinstance(user, dict) or not isinstance(cert_data, str):
            continue
        try:
            cert_pem = base64.b64decode(cert_data, validate=True)
        except binascii.Error:
            raise CliError("the admin kubeconfig's client-certificate-data is not base64") from None
        if _certified_key(cert_pem) != ours:
            continue
        user["client-key-data"] = key_data
        matched += 1
    if not matched:
        raise CliError("the RP's admin kubeconfig has no client certificate for the key this request generated")
    return str(yaml.safe_dump(config, sort_keys=False))
