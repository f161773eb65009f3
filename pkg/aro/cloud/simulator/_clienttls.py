"""Client certificates over the simulator's TLS: which CAs the handshake accepts, and how the verified
certificate reaches the app.

OpenSSL only accepts a client certificate it can verify against the serving context's trust store (with
``CERT_OPTIONAL``, a client without one still connects; one with an unverifiable certificate fails the
handshake). So the store must hold every client CA of every simulated cluster: ``ClientTrust`` keeps the
set, loads it into each serving ``ssl.SSLContext`` it is attached to, and loads each CA that appears later
(a classic cluster's master VM written, a hosted cluster's ``kas-client-ca`` secret written) into the live
contexts -- ``load_verify_locations`` on a live context applies to every later handshake. CAs are never
removed from the store: the handshake is only the first gate; the app checks each request's certificate
against the cluster's CURRENT client CA (``_kubeauth``), which is how a rotated-out CA stops working.

``ClientCertProtocol`` is uvicorn's httptools protocol with the ASGI TLS extension on every request::

    scope["extensions"]["tls"] = {"client_cert_der": bytes | None, "client_cert_name": str | None,
                                  "tls_version": str}

(the same keys ``aro.util.serve.TLSInfoProtocol`` adds for the RP; the simulator imports nothing of the RP).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
import tempfile
import threading
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class ClientTrust:
    """Thread-safe: ``add`` runs on the database thread, ``attach`` on the server's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, bytes] = {}  # SHA-256 of the DER -> DER
        self._contexts: list[ssl.SSLContext] = []

    def attach(self, context: ssl.SSLContext) -> None:
        with self._lock:
            self._contexts.append(context)
            for der in self._known.values():
                context.load_verify_locations(cadata=der)

    def add(self, bundle: str) -> int:
        """Trust every CA certificate in a PEM bundle; returns how many were new."""
        try:
            certs = x509.load_pem_x509_certificates(bundle.encode())
        except ValueError:
            return 0
        added = 0
        with self._lock:
            for cert in certs:
                der = cert.public_bytes(serialization.Encoding.DER)
                digest = hashlib.sha256(der).hexdigest()
                if digest in self._known:
                    continue
                self._known[digest] = der
                added += 1
                for context in self._contexts:
                    context.load_verify_locations(cadata=der)
        return added

    def __len__(self) -> int:
        return len(self._known)


class ServingCerts:
    """Per-cluster serving certificates, chosen by SNI: a classic cluster's API server presents the
    certificate its masters were given (their Ignition ``customData``, ``_kubenodes.serving_pair``) to a
    client that names one of its DNS names (kubeconfig ``tls-server-name``); any other client gets the
    simulator's own certificate. A renewed certificate replaces the old one for later handshakes.

    A cluster's context trusts that cluster's client CAs only (``client_cas``, added to as they rotate; the
    app still checks each request against the cluster's current CA): loading every cluster's CA into every
    cluster's context cost memory and CPU in the square of the number of clusters (4.8 GB at 1,000). Without
    ``client_cas`` the context trusts what the default one does (``ClientTrust`` is attached to it).
    Thread-safe: ``put`` runs on the database thread, the SNI callback on the server's."""

    def __init__(self, trust: ClientTrust) -> None:
        self._trust = trust
        self._lock = threading.Lock()
        self._by_name: dict[str, tuple[str, ssl.SSLContext]] = {}  # dns name -> (cert PEM, context)
        self._cas: dict[int, set[str]] = {}  # id(context) -> SHA-256 of the CAs it trusts
        self._min_version = ssl.TLSVersion.TLSv1_2

    def attach(self, context: ssl.SSLContext) -> None:
        self._min_version = context.minimum_version
        context.sni_callback = self._select

    def put(self, cert_pem: str, key_pem: str, client_cas: str | None = None) -> None:
        try:
            cert = x509.load_pem_x509_certificate(cert_pem.encode())
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
                x509.DNSName
            )
        except (ValueError, x509.ExtensionNotFound):
            return
        with self._lock:
            current = [self._by_name.get(n.lower()) for n in names]
            if current and all(c is not None and c[0] == cert_pem for c in current):
                context = current[0][1]  # type: ignore[index]
                if client_cas and id(context) in self._cas:
                    _trust_cas(context, client_cas, self._cas[id(context)])
                return
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = self._min_version
        with tempfile.TemporaryDirectory(prefix="aro-sim-serving-") as tmp:
            cert_file, key_file = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
            for path, content in ((cert_file, cert_pem), (key_file, key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(content)
            try:
                context.load_cert_chain(cert_file, key_file)
            except ssl.SSLError:
                return
        context.verify_mode = ssl.CERT_OPTIONAL
        if client_cas:
            trusted: set[str] = set()
            _trust_cas(context, client_cas, trusted)
        else:
            self._trust.attach(context)
        with self._lock:
            if client_cas:
                self._cas[id(context)] = trusted
            for name in names:
                old = self._by_name.get(name.lower())
                if old is not None:
                    self._cas.pop(id(old[1]), None)
                self._by_name[name.lower()] = (cert_pem, context)

    def _select(self, sslobj: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        if server_name:
            with self._lock:
                found = self._by_name.get(server_name.lower())
            if found is not None:
                sslobj.context = found[1]

    def __len__(self) -> int:
        return len(self._by_name)


def _trust_cas(context: ssl.SSLContext, bundle: str, trusted: set[str]) -> None:
    """Load the CA certificates of a PEM bundle ``context`` does not trust yet (``trusted``: their digests)."""
    try:
        certs = x509.load_pem_x509_certificates(bundle.encode())
    except ValueError:
        return
    for cert in certs:
        der = cert.public_bytes(serialization.Encoding.DER)
        digest = hashlib.sha256(der).hexdigest()
        if digest not in trusted:
            context.load_verify_locations(cadata=der)
            trusted.add(digest)


class ClientCertProtocol(HttpToolsProtocol):
    _tls: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._tls = tls_info(transport)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            self.scope["extensions"] = {"tls": self._tls}  # type: ignore[dict-item]


def tls_info(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    sslobj = transport.get_extra_info("ssl_object")
    if sslobj is None:
        return None
    der = sslobj.getpeercert(binary_form=True)
    name = None
    if der:
        name = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    return {"client_cert_der": der or None, "client_cert_name": name, "tls_version": sslobj.version()}
