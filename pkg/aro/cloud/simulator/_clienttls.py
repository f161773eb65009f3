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
import ssl
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
