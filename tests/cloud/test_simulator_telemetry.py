"""Every simulated cluster's telemeter-client (``_telemetry``): real HTTPS both ways -- the simulator under
uvicorn (or in-process over ASGI, its uploads still real HTTPS), and a small HTTPS receiver here, serving a
certificate of the same test CA, that records what arrives.

Clusters are made as the other simulator tests make them: a classic one from a resource group and a
deployment whose master VMs carry the client CA, a hosted one from a management namespace (pods, the
``kas-client-ca`` secret) and a scale set; the ``aro-telemeter`` secret goes into each cluster's own API,
authenticated with a client certificate of that CA."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from aro.cloud.arm import ArmCloud
from aro.cloud.simulator import SimulatorConfig, TlsFiles, create_app
from aro.cloud.simulator import _telemetry as telemetry
from aro.cloud.simulator._telemetrydata import parse_secret, vm_capacity

from .conftest import SUB, Simulator
from .templates import vm_template

GIB = 1024**3
RG_API = {"api-version": "2022-09-01"}
VMSS_API = {"api-version": "2024-07-01"}
CLIENT_CA_PATH = "/etc/kubernetes/static-pod-resources/configmaps/client-ca/ca-bundle.crt"
SECRETS = "/api/v1/namespaces/openshift-monitoring/secrets"
INTERVAL = 0.25


# -- an HTTPS receiver ---------------------------------------------------------------------------------------


@dataclass
class Upload:
    path: str
    at: float  # monotonic
    method: str
    headers: dict[str, str]
    body: dict[str, Any]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # pytest owns the signals


class Receiver:
    """Records every request; answers ``status[path]`` (200 by default); holds requests while ``release``
    is clear; counts the requests it holds (in total and per path)."""

    def __init__(self, tls: TlsFiles) -> None:
        self.tls = tls
        self.uploads: list[Upload] = []
        self.status: dict[str, int] = {}
        self.release = asyncio.Event()
        self.release.set()
        self.holding: dict[str, int] = {}
        self.peak_total = 0
        self.peak_per_path = 0
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        path = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.uploads.append(Upload(path, time.monotonic(), scope["method"], headers, json.loads(b"".join(chunks))))
        self.holding[path] = self.holding.get(path, 0) + 1
        self.peak_total = max(self.peak_total, sum(self.holding.values()))
        self.peak_per_path = max(self.peak_per_path, self.holding[path])
        try:
            await self.release.wait()
        finally:
            self.holding[path] -= 1
        status = self.status.get(path, 200)
        body = b'{"accepted":true}' if status < 300 else b"ledger unavailable: " + b"x" * (1024 * 1024)
        headers_out = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": body})

    def at(self, path: str) -> list[Upload]:
        return [u for u in self.uploads if u.path == path]

    async def start(self) -> None:
        config = uvicorn.Config(
            self,
            host="127.0.0.1",
            port=0,
            ssl_certfile=str(self.tls.cert_file),
            ssl_keyfile=str(self.tls.key_file),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            assert not self._task.done(), "the receiver did not start"
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"https://127.0.0.1:{port}"

    async def stop(self) -> None:
        self.release.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


@pytest.fixture
async def receiver(tls: TlsFiles) -> AsyncIterator[Receiver]:
    r = Receiver(tls)
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


# -- helpers -------------------------------------------------------------------------------------------------


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, within: float = 10.0) -> Any:
    """Poll ``check`` until it returns something truthy (returned), failing at the deadline."""
    deadline = time.monotonic() + within
    while True:
        got = await check()
        if got:
            return got
        assert time.monotonic() < deadline, f"not before the deadline: {what}"
        await asyncio.sleep(0.02)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass(frozen=True)
class ClientPKI:
    ca_pem: str
    cert_file: Path
    key_file: Path
    cert_der: bytes


def client_pki(directory: Path, name: str) -> ClientPKI:
    """A cluster's client CA and a ``system:admin`` (``system:masters``) certificate it signed."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} client CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "system:admin"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    return ClientPKI(ca_pem, cert_file, key_file, cert.public_bytes(serialization.Encoding.DER))


def cluster_client(sim: Simulator, path: str, pki: ClientPKI) -> httpx.AsyncClient:
    """A client of one cluster's API over the simulator's HTTPS, with the cluster's client certificate."""
    context = ssl.create_default_context(cafile=str(sim.tls.ca_file))
    context.load_cert_chain(pki.cert_file, pki.key_file)
    return httpx.AsyncClient(base_url=f"{sim.base_url}{path}", verify=context)


def telemeter_values(receiver: Receiver, name: str, cluster_id: str, **overrides: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "url": f"{receiver.url}/upload/{name}",
        "token": f"token-{name}",
        "clusterID": cluster_id,
        "interval": str(INTERVAL),
        "ca.crt": receiver.tls.ca_file.read_text(),
        "consoleURL": f"https://console-openshift-console.apps.{name}.eastus.aroapp.io",
        "version": "4.20.8",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


async def put_telemeter(api: httpx.AsyncClient, values: dict[str, str], *, string_data: bool = False) -> None:
    """Create or replace Secret openshift-monitoring/aro-telemeter in the cluster ``api`` talks to."""
    ns = await api.post("/api/v1/namespaces", json={"metadata": {"name": "openshift-monitoring"}})
    assert ns.status_code in (201, 409), ns.text
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "aro-telemeter", "namespace": "openshift-monitoring"},
    }
    if string_data:
        secret["stringData"] = values
    else:
        secret["data"] = {k: b64(v) for k, v in values.items()}
    if (await api.get(f"{SECRETS}/aro-telemeter")).status_code == 200:
        resp = await api.put(f"{SECRETS}/aro-telemeter", json=secret)
    else:
        resp = await api.post(SECRETS, json=secret)
    assert resp.status_code in (200, 201), resp.text


async def entries(admin: httpx.AsyncClient) -> list[dict[str, Any]]:
    resp = await admin.get("/simulator/telemetry")
    assert resp.status_code == 200, resp.text
    return list(resp.json()["value"])


async def entry(admin: httpx.AsyncClient, cluster_id: str) -> dict[str, Any] | None:
    return next((e for e in await entries(admin) if e["clusterID"] == cluster_id), None)


async def set_enabled(admin: httpx.AsyncClient, cluster_id: str, enabled: bool) -> dict[str, Any]:
    resp = await admin.put(f"/simulator/telemetry/{cluster_id}", json={"enabled": enabled})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def quiet(receiver: Receiver, path: str, seconds: float = 4 * INTERVAL) -> None:
    """Nothing arrives at ``path`` for ``seconds`` (several intervals)."""
    before = len(receiver.at(path))
    await asyncio.sleep(seconds)
    assert len(receiver.at(path)) == before, f"{len(receiver.at(path)) - before} upload(s) after the stop"


def ignition(ca_pem: str) -> str:
    """A master VM's ``customData``: an Ignition config installing the API server's client CA bundle."""
    source = "data:;base64," + b64(ca_pem)
    doc = {
        "ignition": {"version": "3.2.0"},
        "storage": {"files": [{"path": CLIENT_CA_PATH, "contents": {"source": source}}]},
    }
    return b64(json.dumps(doc))


async def make_classic(cloud: ArmCloud, rg: str, infra: str, pki: ClientPKI, workers: int = 2) -> str:
    """A resource group and the installer's VMs: masters Standard_D8s_v3 carrying the client CA, workers
    Standard_D4s_v3. Returns the cluster API's base path."""
    await cloud.create_resource_group(SUB, rg, "eastus", f"/subscriptions/{SUB}/resourceGroups/customer/x/{infra}", {})
    template = vm_template(infra, masters=3, workers=workers)
    for vm in template["resources"]:
        master = "-master-" in vm["name"]
        vm["properties"]["hardwareProfile"]["vmSize"] = "Standard_D8s_v3" if master else "Standard_D4s_v3"
        if master:
            vm["properties"]["osProfile"] = {"customData": ignition(pki.ca_pem)}
    await cloud.deploy(SUB, rg, "installer", template, {})
    return f"/clusters/{SUB}/{rg}"


async def make_hosted(
    admin: httpx.AsyncClient,
    ns: str,
    pki: ClientPKI,
    *,
    capacity: int = 2,
    pods: int = 2,
    size: str = "Standard_E4s_v5",
) -> str:
    """A management namespace (control-plane pods, ``kas-client-ca``) and a managed resource group with a
    scale set of ``capacity`` instances. Returns the hosted cluster API's base path."""
    mrg = f"/subscriptions/{SUB}/resourceGroups/{ns}-managed"
    assert (await admin.put(mrg, params=RG_API, json={"location": "eastus"})).status_code in (200, 201)
    namespace = {"metadata": {"name": ns, "annotations": {"aro.openshift.io/managed-resource-group": mrg}}}
    assert (await admin.post("/management/api/v1/namespaces", json=namespace)).status_code == 201
    for i in range(pods):
        pod = {"metadata": {"name": f"kube-apiserver-{i}"}, "spec": {"containers": [{"name": "kas", "image": "kas"}]}}
        assert (await admin.post(f"/management/api/v1/namespaces/{ns}/pods", json=pod)).status_code == 201
    ca_secret = {"metadata": {"name": "kas-client-ca"}, "stringData": {"ca.crt": pki.ca_pem}}
    assert (await admin.post(f"/management/api/v1/namespaces/{ns}/secrets", json=ca_secret)).status_code == 201
    vmss = {
        "location": "eastus",
        "sku": {"name": size, "tier": "Standard", "capacity": capacity},
        "properties": {"virtualMachineProfile": {"osProfile": {"computerNamePrefix": "workers"}}},
    }
    scale_set = f"{mrg}/providers/Microsoft.Compute/virtualMachineScaleSets/workers"
    assert (await admin.put(scale_set, params=VMSS_API, json=vmss)).status_code in (200, 201)
    return f"/hostedclusters/{ns}"


def parse_time(text: str) -> dt.datetime:
    assert text.endswith("Z") and len(text) == len("2026-12-06T10:00:00.123456Z"), text
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


# -- classic -------------------------------------------------------------------------------------------------


async def test_classic_cluster_pushes_telemetry_until_its_resource_group_goes(
    sim: Simulator, cloud: ArmCloud, receiver: Receiver, tmp_path: Path
) -> None:
    admin = sim.admin
    assert admin is not None
    pki = client_pki(tmp_path / "pki", "c1")
    rg, cluster_id = "aro-c1-telemetry", "5d9a2b2e-6c1e-4a43-9a57-0b0e8f1a2c31"
    async with cluster_client(sim, await make_classic(cloud, rg, "c1-abcde", pki), pki) as api:
        assert await entry(admin, cluster_id) is None
        written = time.monotonic()
        await put_telemeter(api, telemeter_values(receiver, "c1", cluster_id))

    path = "/upload/c1"
    first = (await wait_for(lambda: _some(receiver.at(path)), "the first upload", within=5))[0]
    assert first.at - written < 2.0  # at once, not after a scan period or an interval
    assert first.method == "POST"
    assert first.headers["authorization"] == "Bearer token-c1"
    assert first.headers["content-type"] == "application/json"
    body = first.body
    assert set(body) == {
        "cluster_id",
        "timestamp",
        "health_state",
        "state",
        "openshift_version",
        "console_url",
        "cloud_provider",
        "region",
        "nodes",
        "cpu",
        "memory",
        "critical_alerts_firing",
        "operators_condition_failing",
    }
    assert body["cluster_id"] == cluster_id
    assert abs((dt.datetime.now(dt.UTC) - parse_time(body["timestamp"])).total_seconds()) < 30
    assert (body["health_state"], body["state"]) == ("healthy", "ready")
    assert (body["openshift_version"], body["cloud_provider"], body["region"]) == ("4.20.8", "azure", "eastus")
    assert body["console_url"] == "https://console-openshift-console.apps.c1.eastus.aroapp.io"
    assert body["nodes"] == {"total": 5, "master": 3, "compute": 2}
    assert body["cpu"]["total"] == 3 * 8 + 2 * 4 and body["memory"]["total"] == (3 * 32 + 2 * 16) * GIB
    for what in ("cpu", "memory"):
        assert 0.25 * body[what]["total"] - 0.01 <= body[what]["used"] <= 0.45 * body[what]["total"] + 0.01
    assert (body["critical_alerts_firing"], body["operators_condition_failing"]) == (0, 0)

    # every INTERVAL seconds: count over a window, with generous bounds
    window = 8 * INTERVAL
    before = len(receiver.at(path))
    await asyncio.sleep(window)
    counted = len(receiver.at(path)) - before
    assert window / INTERVAL / 2 <= counted <= window / INTERVAL + 2, counted

    listed = await entry(admin, cluster_id)
    assert listed is not None
    assert listed["cluster"] == f"classic:/subscriptions/{SUB}/resourcegroups/{rg}"
    assert (listed["flavour"], listed["enabled"], listed["intervalSeconds"]) == ("classic", True, INTERVAL)
    assert listed["lastStatus"] == 200 and listed["lastError"] is None and listed["failed"] == 0
    assert len(receiver.at(path)) - 1 <= listed["sent"] <= len(receiver.at(path))
    parse_time(listed["lastSent"])

    # a clusterReady fault makes the cluster unhealthy (as /readyz sees it), and telemetry does not consume it
    await sim.set_faults({"operation": "clusterReady", "mode": "fail", "match": rg, "count": 1})
    seen = len(receiver.at(path))
    await wait_for(
        lambda: _unhealthy_count(receiver.at(path)[seen:], 2), "two unhealthy uploads under the fault", within=5
    )
    assert (await sim.faults())[0]["count"] == 1
    await sim.set_faults()
    seen = len(receiver.at(path))
    await wait_for(lambda: _last_health(receiver.at(path)[seen:], "healthy"), "healthy again", within=5)

    # the simulator stops a cluster's telemetry, and resumes it
    stopped = await set_enabled(admin, cluster_id, False)
    assert stopped["enabled"] is False and stopped["clusterID"] == cluster_id
    await quiet(receiver, path)
    assert (await entry(admin, cluster_id) or {})["sent"] == stopped["sent"]
    resumed_from = len(receiver.at(path))
    assert (await set_enabled(admin, cluster_id, True))["enabled"] is True
    await wait_for(lambda: _more(receiver.at(path), resumed_from + 2), "uploads resumed", within=5)

    # the control routes' errors
    unknown = await admin.put("/simulator/telemetry/00000000-0000-0000-0000-000000000000", json={"enabled": False})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NotFound"
    for bad in ({"enabled": "no"}, {"enabled": True, "extra": 1}, {}, [True]):
        resp = await admin.put(f"/simulator/telemetry/{cluster_id}", json=bad)
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidRequestContent", bad
    assert (await admin.put(f"/simulator/telemetry/{cluster_id}", content=b"{nope")).status_code == 400
    assert (await admin.delete(f"/simulator/telemetry/{cluster_id}")).status_code == 405
    assert (await admin.get(f"/simulator/telemetry/{cluster_id.upper()}")).json()["clusterID"] == cluster_id
    async with httpx.AsyncClient(base_url=sim.base_url, verify=sim.ssl) as anonymous:
        assert (await anonymous.get("/simulator/telemetry")).status_code == 401

    # deleting the resource group deletes the cluster: it stops
    await cloud.delete_resource_group(SUB, rg)
    await wait_for(lambda: _absent(admin, cluster_id), "the entry gone with its resource group", within=5)
    await quiet(receiver, path)


# -- hosted --------------------------------------------------------------------------------------------------


async def test_hosted_cluster_pushes_telemetry_until_its_namespace_goes(
    sim: Simulator, receiver: Receiver, tmp_path: Path
) -> None:
    admin = sim.admin
    assert admin is not None
    pki = client_pki(tmp_path / "pki", "h1")
    ns, cluster_id = "ocm-aro-h1", "0b8f3a0e-93c1-4a51-8d0c-2f7c8a1e9b44"
    path = "/upload/h1"
    async with cluster_client(sim, await make_hosted(admin, ns, pki, capacity=2), pki) as api:
        await put_telemeter(api, telemeter_values(receiver, "h1", cluster_id), string_data=True)

        def healthy_with(nodes: int) -> Callable[[], Awaitable[Upload | None]]:
            async def check() -> Upload | None:
                return next(
                    (
                        u
                        for u in reversed(receiver.at(path))
                        if u.body["health_state"] == "healthy" and u.body["nodes"]["total"] == nodes
                    ),
                    None,
                )

            return check

        upload = await wait_for(healthy_with(2), "a healthy upload with both nodes", within=5)
        body = upload.body
        assert upload.headers["authorization"] == "Bearer token-h1" and body["cluster_id"] == cluster_id
        assert body["state"] == "ready" and body["region"] == "eastus" and body["openshift_version"] == "4.20.8"
        assert body["nodes"] == {"total": 2, "master": 0, "compute": 2}
        assert (body["cpu"]["total"], body["memory"]["total"]) == (2 * 4, 2 * 32 * GIB)
        listed = await entry(admin, cluster_id)
        assert listed is not None
        assert (listed["cluster"], listed["flavour"]) == (f"hosted:{ns}", "hosted")

        # a control-plane pod fails: the cluster reports unhealthy, and still reports
        failed = await admin.post("/simulator/pods/fail", json={"namespace": ns, "name": "kube-apiserver-1"})
        assert failed.status_code == 200
        seen = len(receiver.at(path))
        sick = await wait_for(lambda: _last_health(receiver.at(path)[seen:], "unhealthy"), "unhealthy", within=5)
        assert sick.body["state"] == "not_ready"

        # the node pool grows: the next uploads count the new node
        vmss = {
            "location": "eastus",
            "sku": {"name": "Standard_E4s_v5", "capacity": 3},
            "properties": {"virtualMachineProfile": {"osProfile": {"computerNamePrefix": "workers"}}},
        }
        mrg = f"/subscriptions/{SUB}/resourceGroups/{ns}-managed"
        scale_set = f"{mrg}/providers/Microsoft.Compute/virtualMachineScaleSets/workers"
        assert (await admin.put(scale_set, params=VMSS_API, json=vmss)).status_code == 200
        await wait_for(lambda: _last_nodes(receiver.at(path), 3), "three nodes", within=5)

    # deleting the management namespace deletes the hosted cluster: it stops
    assert (await admin.delete(f"/management/api/v1/namespaces/{ns}")).status_code == 200
    await wait_for(lambda: _absent(admin, cluster_id), "the entry gone with its namespace", within=5)
    await quiet(receiver, path)


# -- failures, secret changes, the enabled flag --------------------------------------------------------------


async def test_failed_uploads_are_retried_and_secret_changes_apply_at_once(
    sim: Simulator, receiver: Receiver, tmp_path: Path
) -> None:
    admin = sim.admin
    assert admin is not None
    pki = client_pki(tmp_path / "pki", "h2")
    cluster_id, path = "7c1d4e2a-1111-4b2c-9d3e-5f6a7b8c9d0e", "/upload/h2"
    receiver.status[path] = 500
    async with cluster_client(sim, await make_hosted(admin, "ocm-aro-h2", pki), pki) as api:
        values = telemeter_values(receiver, "h2", cluster_id)
        await put_telemeter(api, values)

        # a receiver answering 500: recorded, retried every interval, nothing counted as sent
        await wait_for(lambda: _more(receiver.at(path), 3), "three attempts", within=5)
        failing = await wait_for(lambda: _entry_where(admin, cluster_id, failed=2), "two failures recorded")
        assert failing["lastStatus"] == 500 and failing["sent"] == 0 and failing["lastSent"] is None
        assert failing["lastError"].startswith("HTTP 500: ledger unavailable: xxx") and len(failing["lastError"]) < 300
        receiver.status[path] = 200
        healed = await wait_for(lambda: _entry_where(admin, cluster_id, sent=1), "a successful upload after 500s")
        assert healed["lastStatus"] == 200 and healed["lastError"] is None

        # without ca.crt the system trust store verifies the receiver: the test CA is not in it
        arrived = len(receiver.at(path))
        await put_telemeter(api, telemeter_values(receiver, "h2", cluster_id, **{"ca.crt": None}))
        untrusted = await wait_for(
            lambda: _entry_where(admin, cluster_id, error="CERTIFICATE_VERIFY_FAILED"), "a TLS failure", within=5
        )
        assert untrusted["lastStatus"] is None
        assert len(receiver.at(path)) == arrived  # never got past the handshake

        # nobody listening: a connection error; a new token is used from the next upload on
        closed = receiver.url.rsplit(":", 1)[0] + ":1"
        await put_telemeter(api, telemeter_values(receiver, "h2", cluster_id, url=f"{closed}/upload/h2"))
        await wait_for(lambda: _entry_where(admin, cluster_id, error="Connect"), "a connection error", within=5)
        await put_telemeter(api, telemeter_values(receiver, "h2", cluster_id, token="rotated"))
        rotated = await wait_for(lambda: _token_seen(receiver, path, "Bearer rotated"), "the new token", within=5)
        assert rotated.body["cluster_id"] == cluster_id

        # an invalid secret is listed with its problem and sends nothing
        await put_telemeter(api, telemeter_values(receiver, "h2", cluster_id, interval="soon", url="http://x/y"))
        invalid = await wait_for(lambda: _entry_where(admin, cluster_id, error="invalid aro-telemeter"), "invalid")
        assert "interval" in invalid["lastError"] and "https" in invalid["lastError"]
        assert invalid["intervalSeconds"] is None
        await quiet(receiver, path)

        # the enabled flag belongs to the cluster id: it survives the secret being deleted and written again
        await put_telemeter(api, values)
        await wait_for(lambda: _entry_where(admin, cluster_id, error=None), "valid again", within=5)
        await set_enabled(admin, cluster_id, False)
        assert (await api.delete(f"{SECRETS}/aro-telemeter")).status_code == 200
        await wait_for(lambda: _absent(admin, cluster_id), "the entry gone with its secret", within=5)
        stopped_at = len(receiver.at(path))
        await put_telemeter(api, values)
        rebuilt = await wait_for(lambda: entry(admin, cluster_id), "the entry rebuilt", within=5)
        assert rebuilt["enabled"] is False and rebuilt["sent"] == 0
        await quiet(receiver, path)
        assert len(receiver.at(path)) == stopped_at
        await set_enabled(admin, cluster_id, True)
        await wait_for(lambda: _more(receiver.at(path), stopped_at + 1), "sending again", within=5)


# -- in-process: the bounds, the timeout, shutdown -------------------------------------------------------------


def with_client_certificate(app: Any, der: bytes) -> Any:
    """The ASGI app as uvicorn would call it for a hosted cluster client presenting ``der`` over TLS."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), "tls": {"client_cert_der": der}}}
        await app(scope, receive, send)

    return wrapped


def telemetry_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("aro-simulator-telemetry") and not t.done()]


async def test_in_flight_bounds_and_a_clean_shutdown_over_asgi(
    tmp_path: Path, receiver: Receiver, tls: TlsFiles
) -> None:
    app = create_app(SimulatorConfig(tmp_path / "sim", token="t"))
    pki = client_pki(tmp_path / "pki", "many")
    admin = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://sim", headers={"Authorization": "Bearer t"}
    )
    hosted = httpx.AsyncClient(transport=httpx.ASGITransport(app=with_client_certificate(app, pki.cert_der)))
    clusters = 34
    receiver.release.clear()  # hold every upload
    try:
        for i in range(clusters):
            base = await make_hosted(admin, f"ocm-aro-m{i}", pki, capacity=0, pods=0)
            hosted.base_url = httpx.URL(f"https://sim{base}")
            await put_telemeter(hosted, telemeter_values(receiver, f"m{i}", f"cluster-{i}"))
        await wait_for(lambda: _value(sum(receiver.holding.values()) >= telemetry.MAX_IN_FLIGHT), "32 in flight")
        await asyncio.sleep(4 * INTERVAL)  # every cluster is due by now: none more may start
        assert receiver.peak_total == telemetry.MAX_IN_FLIGHT == 32
        assert receiver.peak_per_path == 1
        assert len(await entries(admin)) == clusters

        receiver.release.set()
        everyone = {f"/upload/m{i}" for i in range(clusters)}
        await wait_for(lambda: _value(everyone <= {u.path for u in receiver.uploads}), "every cluster sent")
        await wait_for(lambda: _all_sent(admin, clusters), "every cluster's upload counted")
        assert receiver.peak_per_path == 1 and receiver.peak_total <= 32
        assert telemetry_tasks()
    finally:
        await app.shutdown()
        await admin.aclose()
        await hosted.aclose()
    assert telemetry_tasks() == []  # the sender and its uploads are gone
    after = len(receiver.uploads)
    await asyncio.sleep(4 * INTERVAL)
    assert len(receiver.uploads) == after


async def test_an_upload_that_hangs_times_out_and_is_retried(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "UPLOAD_TIMEOUT_SECONDS", 0.5)
    app = create_app(SimulatorConfig(tmp_path / "sim", token="t"))
    pki = client_pki(tmp_path / "pki", "slow")
    admin = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://sim", headers={"Authorization": "Bearer t"}
    )
    receiver.release.clear()
    try:
        base = await make_hosted(admin, "ocm-aro-slow", pki, capacity=1, pods=1)
        transport = httpx.ASGITransport(app=with_client_certificate(app, pki.cert_der))
        async with httpx.AsyncClient(transport=transport, base_url=f"https://sim{base}") as hosted:
            await put_telemeter(hosted, telemeter_values(receiver, "slow", "slow-1"))
        timed_out = await wait_for(lambda: _entry_where(admin, "slow-1", failed=2), "two timeouts", within=5)
        assert timed_out["lastError"] == "timed out after 0.5s" and timed_out["sent"] == 0
        assert timed_out["lastStatus"] is None
        assert len(receiver.at("/upload/slow")) >= 2  # each attempt reached the receiver
    finally:
        receiver.release.set()
        await app.shutdown()
        await admin.aclose()


# -- the data ------------------------------------------------------------------------------------------------


def test_vm_sizes_and_the_secret_contract() -> None:
    assert vm_capacity("Standard_D8s_v3") == (8, 32) and vm_capacity("Standard_D4s_v3") == (4, 16)
    assert vm_capacity("Standard_D16s_v3") == (16, 64) and vm_capacity("standard_d4s_v5") == (4, 16)
    assert vm_capacity("Standard_D8s_v5") == (8, 32) and vm_capacity("Standard_D4ps_v5") == (4, 16)
    assert vm_capacity("Standard_D4ls_v5") == (4, 8) and vm_capacity("Standard_E16s_v5") == (16, 128)
    assert vm_capacity("Standard_E64s_v3") == (64, 432) and vm_capacity("Standard_F8s_v2") == (8, 16)
    assert vm_capacity("Standard_F4s") == (4, 8)
    for unknown in ("Standard_D4_v2", "Standard_M128s", "", None, "Standard_D0s_v5"):
        assert vm_capacity(unknown) == (4, 16), unknown

    def secret(**values: str) -> dict[str, Any]:
        return {"data": {k: b64(v) for k, v in values.items()}}

    ok = parse_secret(secret(url="https://t.example/u", token="x", clusterID="id-1", interval="0.5"))
    assert ok is not None and ok.problem is None and ok.interval == 0.5 and ok.ca is None
    fast = parse_secret(secret(url="https://t.example/u", token="x", clusterID="id-1", interval="1e-9"))
    assert fast is not None and fast.problem is None and fast.interval == 0.05  # at most 20 a second
    assert parse_secret(secret(url="https://t.example/u", token="x", interval="1")) is None  # no cluster id
    assert parse_secret(None) is None
    bad = parse_secret(secret(clusterID="id-2", url="ftp://t", interval="0", **{"ca.crt": "not a pem"}))
    assert bad is not None and bad.problem is not None
    for part in ("url must be", "token is missing", "interval must be a positive", "ca.crt holds no PEM"):
        assert part in bad.problem, part
    garbled = parse_secret({"data": {"clusterID": b64("id-3"), "token": "%%%"}})
    assert garbled is not None and garbled.problem is not None and "data.token is not base64" in garbled.problem


# -- small checks ----------------------------------------------------------------------------------------------


async def _value(value: Any) -> Any:
    return value


async def _some(items: list[Upload]) -> list[Upload]:
    return items


async def _more(items: list[Upload], n: int) -> bool:
    return len(items) >= n


async def _unhealthy_count(items: list[Upload], n: int) -> bool:
    return sum(1 for u in items if u.body["health_state"] == "unhealthy") >= n


async def _last_health(items: list[Upload], health: str) -> Upload | None:
    return items[-1] if items and items[-1].body["health_state"] == health else None


async def _last_nodes(items: list[Upload], total: int) -> bool:
    return bool(items) and items[-1].body["nodes"] == {"total": total, "master": 0, "compute": total}


async def _token_seen(receiver: Receiver, path: str, authorization: str) -> Upload | None:
    return next((u for u in receiver.at(path) if u.headers["authorization"] == authorization), None)


async def _absent(admin: httpx.AsyncClient, cluster_id: str) -> bool:
    return await entry(admin, cluster_id) is None


async def _all_sent(admin: httpx.AsyncClient, n: int) -> bool:
    listed = await entries(admin)
    return len(listed) == n and all(e["sent"] >= 1 for e in listed)


async def _entry_where(
    admin: httpx.AsyncClient,
    cluster_id: str,
    *,
    failed: int | None = None,
    sent: int | None = None,
    error: str | None | bool = False,
) -> dict[str, Any] | None:
    """The entry once it has at least ``failed`` failures / ``sent`` uploads and ``error`` in its lastError
    (None: no error)."""
    found = await entry(admin, cluster_id)
    if found is None:
        return None
    if failed is not None and found["failed"] < failed:
        return None
    if sent is not None and found["sent"] < sent:
        return None
    if error is None and found["lastError"] is not None:
        return None
    if isinstance(error, str) and error not in (found["lastError"] or ""):
        return None
    return found
