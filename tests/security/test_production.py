"""Production mode: TLS 1.2+, client-certificate authentication per route family, no auto-registration,
and no secret in the logs of a full lifecycle."""

from __future__ import annotations

import base64
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from aro.util import pki
from tests.backend.helpers import SUB, V, cluster_url, create, wait_operation, wait_state
from tests.conftest import RPProcess


@dataclass
class Certs:
    dir: Path
    ca: Path

    def client(self, name: str) -> tuple[str, str]:
        return str(self.dir / f"{name}.crt"), str(self.dir / f"{name}.key")


def _write(directory: Path, name: str, pair: pki.KeyPair) -> None:
    (directory / f"{name}.crt").write_text(pair.cert_pem)
    (directory / f"{name}.key").write_text(pair.key_pem)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def make_certs(d: Path) -> Certs:
    """A CA, the RP's serving certificate, and client certificates (arm, admin, someone; a foreign one)."""
    ca = pki.new_ca("test RP CA")
    (d / "ca.crt").write_text(ca.cert_pem)
    _write(d, "server", pki.issue(ca, "localhost", dns_names=("localhost",), ip_addresses=("127.0.0.1",)))
    for cn in ("arm", "admin", "someone"):
        _write(d, cn, pki.issue(ca, cn, server=False, client=True))
    other = pki.new_ca("another CA")
    _write(d, "foreign", pki.issue(other, "arm", server=False, client=True))  # right name, wrong issuer
    return Certs(d, d / "ca.crt")


def start_production(certs: Certs, data: Path, **extra: str) -> RPProcess:
    """A production-mode `aro rp` with the certificates of ``certs`` (ARM identity "arm", admin "admin") and
    ``extra`` environment; returned once ready."""
    from tests.conftest import free_port

    env = {
        "ARO_MODE": "production",
        "ARO_FRONTEND_TLS_CERT_FILE": str(certs.dir / "server.crt"),
        "ARO_FRONTEND_TLS_KEY_FILE": str(certs.dir / "server.key"),
        "ARO_FRONTEND_TLS_CA_FILE": str(certs.ca),
        "ARO_FRONTEND_AUTH_ARM_CLIENT_SUBJECT": "arm",
        "ARO_FRONTEND_AUTH_ADMIN_CLIENT_SUBJECT": "admin",
        "ARO_CLOUD_SIMULATOR_HOSTED_IN_PRODUCTION": "true",  # production refuses the hosted simulator otherwise
        **extra,
    }
    rp = RPProcess(data, free_port(), env=env)
    rp.start(wait=False)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(rp.base_url + "/healthz/ready", verify=_ctx(certs)).status_code == 200:
                return rp
        except httpx.HTTPError:
            pass
        assert rp.proc is not None and rp.proc.poll() is None, rp.log()
        assert time.monotonic() < deadline, rp.log()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def prod(certs: Certs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RPProcess]:
    rp = start_production(certs, tmp_path_factory.mktemp("prod") / "data")
    try:
        yield rp
    finally:
        rp.stop()


def _ctx(certs: Certs, cert: tuple[str, str] | None = None, **kw: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(certs.ca))
    if cert:
        ctx.load_cert_chain(*cert)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def client(prod: RPProcess, certs: Certs, who: str | None) -> httpx.Client:
    return httpx.Client(base_url=prod.base_url, verify=_ctx(certs, certs.client(who) if who else None), timeout=30)


PUBLIC = f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/openShiftClusters?api-version={V}"
ADMIN = "/admin/providers/Microsoft.RedHatOpenShift/openShiftClusters"
# an operation's status (a missing one: 404 once authenticated); the admin API's operations are polled here
OPERATION = (
    f"/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/locations/eastus/hcpOperationStatuses/"
    "00000000-0000-4000-8000-000000000000?api-version=2026-10-01"
)


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        (None, PUBLIC, 403),
        ("someone", PUBLIC, 403),
        ("admin", PUBLIC, 403),
        ("arm", ADMIN, 403),
        ("arm", "/metrics", 403),
        ("arm", PUBLIC, 200),
        ("admin", ADMIN, 200),
        ("admin", "/metrics", 200),
        (None, "/healthz/ready", 200),
        ("admin", OPERATION, 404),
        ("arm", OPERATION, 404),
        ("someone", OPERATION, 403),
    ],
)
def test_routes_accept_only_their_identity(
    prod: RPProcess, certs: Certs, who: str | None, path: str, status: int
) -> None:
    with client(prod, certs, who) as c:
        r = c.get(path)
    assert r.status_code == status, r.text
    if status == 403:
        assert r.json() == {"error": {"code": "Forbidden", "message": "Forbidden."}}


def test_certificate_from_another_ca_fails_the_handshake(prod: RPProcess, certs: Certs) -> None:
    with pytest.raises(httpx.HTTPError), client(prod, certs, "foreign") as c:
        c.get(PUBLIC)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_tls_below_1_2_is_refused_by_the_server(prod: RPProcess, certs: Certs) -> None:
    import socket

    def handshake(ctx: ssl.SSLContext) -> str | None:
        with (
            socket.create_connection(("127.0.0.1", prod.port)) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as t,
        ):
            return t.version()

    ctx = _ctx(certs, certs.client("arm"))
    ctx.set_ciphers("ALL:@SECLEVEL=0")  # this client CAN speak TLS 1.0/1.1
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    assert handshake(ctx) == "TLSv1.2"  # control: the same client connects when 1.2 is allowed
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    # the server ends the handshake (an alert, or asyncio's plain close): not a client-side refusal
    with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION|UNEXPECTED_EOF"):
        handshake(ctx)


def test_unknown_subscription_is_not_auto_registered(prod: RPProcess, certs: Certs) -> None:
    other = "99999999-0000-0000-0000-000000000000"
    with client(prod, certs, "arm") as c:
        r = c.put(cluster_url("x", sub=other), params={"api-version": V}, json={"location": "eastus"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidSubscriptionState"


def test_no_secret_in_the_logs_of_a_full_lifecycle(prod: RPProcess, certs: Certs) -> None:
    with client(prod, certs, "arm") as c:
        reg = c.put(
            f"/subscriptions/{SUB}",
            params={"api-version": "2.0"},
            json={
                "state": "Registered",
                "properties": {
                    "tenantId": "00000000-0000-0000-0000-0000000000aa",
                    "accountOwner": {"email": "o@x.com"},
                },
            },
        )
        assert reg.status_code in (200, 201)
        create(c, "logs")
        wait_state(c, "logs", {"Succeeded"})
        password = c.post(cluster_url("logs") + "/listCredentials", params={"api-version": V}).json()[
            "kubeadminPassword"
        ]
        kubeconfig = base64.b64decode(
            c.post(cluster_url("logs") + "/listAdminCredentials", params={"api-version": V}).json()["kubeconfig"]
        ).decode()
        assert wait_operation(c, c.delete(cluster_url("logs"), params={"api-version": V}))["status"] == "Succeeded"
    log = prod.log()
    assert '"msg": "request"' in log, "the log under test is empty"
    client_key_b64 = kubeconfig.split("client-key-data: ")[1].split()[0]
    for secret in (
        password,
        "sp-s3cret-value",
        "registry.example.com",
        "c2VjcmV0",
        client_key_b64,
        "PRIVATE KEY",
        "o@x.com",
    ):
        assert secret not in log, f"secret {secret[:12]!r}... found in the log"
