"""`aro hcp`: the body builders, the break-glass key/CSR/kubeconfig and the option parsers without an RP
(the action flow against a mock transport), then one end-to-end run against a real `aro rp` subprocess."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from aro.cli.client import ArmClient
from aro.cli.errors import CliError, UsageError
from aro.cli.hcp import API_VERSION, Hcp, newest_release
from aro.cli.hcpbodies import (
    CONTROL_PLANE_OPERATORS,
    DATA_PLANE_OPERATORS,
    ClusterOptions,
    NodePoolOptions,
    Scale,
    cluster_body,
    cluster_update_body,
    nodepool_body,
    nodepool_update_body,
    parse_labels,
    parse_taint,
    parse_taints,
    scale_of,
)
from aro.cli.hcpcreds import ADMIN_CN, ADMIN_ORGANIZATION, new_request, with_private_key
from aro.cli.output import Printer
from aro.cli.settings import resolve
from tests.cli.helpers import Cli, clean_environ
from tests.conftest import REPO

SUB = "11111111-2222-3333-4444-555555555555"
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


# --- bodies ----------------------------------------------------------------------------------------


def test_cluster_body_defaults_compose_network_ids_and_identities() -> None:
    body = cluster_body(SUB, "rg1", "c1", "eastus", ClusterOptions(version="4.20"))
    assert body["location"] == "eastus"
    props = body["properties"]
    assert props["version"] == {"id": "4.20", "channelGroup": "stable"}
    assert props["api"] == {"visibility": "Public"}
    platform = props["platform"]
    net = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Network"
    assert platform["subnetId"] == f"{net}/virtualNetworks/c1-vnet/subnets/default"
    assert platform["networkSecurityGroupId"] == f"{net}/networkSecurityGroups/c1-nsg"
    assert "managedResourceGroup" not in platform and "vnetIntegrationSubnetId" not in platform
    uai = platform["operatorsAuthentication"]["userAssignedIdentities"]
    assert sorted(uai["controlPlaneOperators"]) == sorted(CONTROL_PLANE_OPERATORS)
    assert sorted(uai["dataPlaneOperators"]) == sorted(DATA_PLANE_OPERATORS)
    uami = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    assert uai["controlPlaneOperators"]["ingress"] == f"{uami}/c1-cp-ingress"
    assert uai["dataPlaneOperators"]["disk-csi-driver"] == f"{uami}/c1-dp-disk-csi-driver"
    assert uai["serviceManagedIdentity"] == f"{uami}/c1-service"
    # the RP's rule: every assigned identity used exactly once by a control-plane operator or as the
    # service identity; no data-plane identity assigned; every identity unique
    assert body["identity"]["type"] == "UserAssigned"
    assigned = list(body["identity"]["userAssignedIdentities"])
    used = [*uai["controlPlaneOperators"].values(), uai["serviceManagedIdentity"]]
    assert sorted(assigned) == sorted(used) and len(set(used)) == len(used)
    assert not set(uai["dataPlaneOperators"].values()) & set(assigned)
    assert all(v == {} for v in body["identity"]["userAssignedIdentities"].values())
    assert "tags" not in body


def test_cluster_body_options() -> None:
    subnet = f"/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    nsg = f"/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/networkSecurityGroups/n"
    o = ClusterOptions(
        version="4.21",
        channel_group="fast",
        subnet_id=subnet,
        nsg_id=nsg,
        managed_resource_group="mrg",
        api_visibility="Private",
        vnet_integration_subnet="integration",
        tags={"team": "aro"},
    )
    body = cluster_body(SUB, "rg1", "c1", "westus", o)
    platform = body["properties"]["platform"]
    assert (platform["subnetId"], platform["networkSecurityGroupId"]) == (subnet, nsg)
    assert platform["vnetIntegrationSubnetId"] == subnet.rsplit("/", 1)[0] + "/integration"  # same vnet
    assert platform["managedResourceGroup"] == "mrg"
    assert body["properties"]["api"] == {"visibility": "Private"}
    assert body["properties"]["version"] == {"id": "4.21", "channelGroup": "fast"}
    assert body["tags"] == {"team": "aro"}
    named = cluster_body(SUB, "rg1", "c1", "eastus", ClusterOptions(version="4.20", vnet="v", subnet="w", nsg="n"))
    assert named["properties"]["platform"]["subnetId"].endswith(
        "/rg1/providers/Microsoft.Network/virtualNetworks/v/subnets/w"
    )
    assert named["properties"]["platform"]["networkSecurityGroupId"].endswith("/networkSecurityGroups/n")


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (ClusterOptions(version="4.20", api_visibility="Private"), "needs --vnet-integration-subnet"),
        (ClusterOptions(version="4.20", api_visibility="Internal"), "invalid --api-visibility"),
        (ClusterOptions(version="4.20", subnet_id="/subscriptions/x/s", vnet="v"), "exclusive"),
        (ClusterOptions(version="4.20", nsg_id="/subscriptions/x/n", nsg="n"), "exclusive"),
        (ClusterOptions(version="4.20", nsg_id="my-nsg"), "expected a resource id"),
        (ClusterOptions(version="4.20", subnet_id="my-subnet"), "expected a resource id"),
    ],
)
def test_cluster_body_usage_errors(opts: ClusterOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        cluster_body(SUB, "rg1", "c1", "eastus", opts)


def test_cluster_update_body() -> None:
    assert cluster_update_body() == {}
    body = cluster_update_body(tags={"a": "b"}, version="4.21", authorized_cidrs=["10.0.0.0/8"], node_drain_timeout=30)
    assert body == {
        "tags": {"a": "b"},
        "properties": {
            "version": {"id": "4.21"},
            "api": {"authorizedCidrs": ["10.0.0.0/8"]},
            "nodeDrainTimeoutMinutes": 30,
        },
    }
    assert cluster_update_body(authorized_cidrs=[]) == {"properties": {"api": {"authorizedCidrs": None}}}


def test_taint_parser() -> None:
    assert parse_taint("key=value:NoSchedule") == {"key": "key", "value": "value", "effect": "NoSchedule"}
    assert parse_taint("key:NoSchedule") == {"key": "key", "value": "", "effect": "NoSchedule"}
    assert parse_taint("example.com/gpu=a=b:NoExecute") == {
        "key": "example.com/gpu",
        "value": "a=b",
        "effect": "NoExecute",
    }
    assert parse_taints(["a:NoSchedule,b=1:PreferNoSchedule", ""]) == [
        {"key": "a", "value": "", "effect": "NoSchedule"},
        {"key": "b", "value": "1", "effect": "PreferNoSchedule"},
    ]
    assert parse_taints([""]) == []
    for bad, why in (
        ("key=value", "expected KEY"),
        ("key=value:Sometimes", "the effect must be one of"),
        (":NoSchedule", "expected KEY"),
        ("=v:NoSchedule", "the key is empty"),
    ):
        with pytest.raises(UsageError, match=why):
            parse_taint(bad)


def test_label_parser() -> None:
    assert parse_labels(["env=dev", "team=aro,tier="]) == [
        {"key": "env", "value": "dev"},
        {"key": "team", "value": "aro"},
        {"key": "tier", "value": ""},
    ]
    assert parse_labels([""]) == []
    with pytest.raises(UsageError, match="invalid label 'novalue'"):
        parse_labels(["novalue"])


def test_replicas_and_autoscaling_are_exclusive() -> None:
    assert scale_of(None, None, None, default=2) == Scale(replicas=2)
    assert scale_of(None, None, None) is None
    assert scale_of(3, None, None) == Scale(replicas=3)
    assert scale_of(None, 1, 4) == Scale(autoscale=(1, 4))
    with pytest.raises(UsageError, match="exclusive"):
        scale_of(2, 1, 3)
    with pytest.raises(UsageError, match="go together"):
        scale_of(None, 1, None)
    with pytest.raises(UsageError, match="must be at least"):
        scale_of(None, 5, 2)
    # each mode unsets the other (a merge patch keeps what it does not name)
    assert Scale(replicas=3).properties() == {"replicas": 3, "autoScaling": None}
    assert Scale(autoscale=(1, 4)).properties() == {"replicas": 0, "autoScaling": {"min": 1, "max": 4}}


def test_replicas_with_min_max_is_a_usage_error_on_the_command_line() -> None:
    from aro_cmd.main import app

    env = {"AROCLI_ENDPOINT": "https://localhost:1", "AROCLI_SUBSCRIPTION": SUB, "XDG_CONFIG_HOME": "/nonexistent"}
    args = ["hcp", "nodepool", "create", "--cluster", "c", "-g", "rg", "-n", "np", "--version", "4.20.8"]
    r = CliRunner().invoke(app, [*args, "--replicas", "2", "--min", "1", "--max", "3"], env=env)
    assert r.exit_code == 2 and "--replicas and --min/--max are exclusive" in r.stderr
    scale = CliRunner().invoke(app, ["hcp", "nodepool", "scale", "--cluster", "c", "-g", "rg", "-n", "np"], env=env)
    assert scale.exit_code == 2 and "give --replicas N, or --min N --max M" in scale.stderr
    taint = CliRunner().invoke(app, [*args, "--taint", "k=v"], env=env)
    assert taint.exit_code == 2 and "invalid taint 'k=v'" in taint.stderr


def test_nodepool_bodies() -> None:
    o = NodePoolOptions(
        version="4.20.8",
        scale=Scale(replicas=2),
        labels=parse_labels(["env=dev"]),
        taints=parse_taints(["gpu=true:NoSchedule"]),
        os_disk_size_gib=128,
    )
    assert nodepool_body("eastus", o) == {
        "location": "eastus",
        "properties": {
            "version": {"id": "4.20.8", "channelGroup": "stable"},
            "platform": {"vmSize": "Standard_D8s_v3", "osDisk": {"sizeGiB": 128}},
            "replicas": 2,
            "labels": [{"key": "env", "value": "dev"}],
            "taints": [{"key": "gpu", "value": "true", "effect": "NoSchedule"}],
        },
    }
    auto = nodepool_body("eastus", NodePoolOptions(version="4.20.8", scale=Scale(autoscale=(1, 3))))
    assert auto["properties"]["autoScaling"] == {"min": 1, "max": 3} and auto["properties"]["replicas"] == 0
    with pytest.raises(UsageError, match="subnet resource id"):
        nodepool_body("eastus", NodePoolOptions(version="4.20.8", scale=Scale(replicas=1), subnet_id="s"))
    assert nodepool_update_body(labels=[], taints=[], version="4.20.9") == {
        "properties": {"version": {"id": "4.20.9"}, "labels": [], "taints": []}
    }


def test_newest_release() -> None:
    def v(name: str, channel: str = "stable", enabled: bool = True) -> dict[str, Any]:
        return {"name": name, "properties": {"channelGroup": channel, "enabled": enabled}}

    catalog = [v("4.20.9"), v("4.20.12"), v("4.20.13", enabled=False), v("4.20.14", "fast"), v("4.21.0"), v("4.20.x")]
    assert newest_release(catalog, "4.20", "stable") == "4.20.12"
    assert newest_release(catalog, "4.20", "fast") == "4.20.14"
    assert newest_release(catalog, "4.22", "stable") is None


@pytest.mark.parametrize(
    ("current", "scale", "sent"),
    [
        ({"replicas": 2}, Scale(autoscale=(1, 4)), {"replicas": 0, "autoScaling": {"min": 1, "max": 4}}),
        ({"replicas": 0, "autoScaling": {"min": 1, "max": 4}}, Scale(replicas=3), {"replicas": 3, "autoScaling": None}),
        ({"replicas": 2}, Scale(replicas=3), {"replicas": 3}),
    ],
)
def test_scale_patches_the_mode_it_switches_to(
    current: dict[str, Any], scale: Scale, sent: dict[str, Any], tmp_path: Path
) -> None:
    patches: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            patches.append(json.loads(request.content))
        return httpx.Response(200, json={"name": "np", "properties": current})

    settings = resolve({"endpoint": "https://rp.example", "subscription": SUB}, env={}, cwd=tmp_path)
    with ArmClient(settings, transport=httpx.MockTransport(handler)) as arm:
        Hcp(arm, Printer(out=io.StringIO(), err=io.StringIO())).scale_nodepool("rg", "c", "np", scale)
    assert patches == [{"properties": sent}]


# --- the break-glass credential --------------------------------------------------------------------


def _ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _sign(csr_pem: str) -> str:
    """What the RP does with the CSR: a client certificate for its subject and key."""
    ca_key, ca = _ca()
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(hours=24))
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _spki(public: Any) -> bytes:
    return bytes(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _kubeconfig(cert_pem: str) -> str:
    """The RP's kubeconfig: the certificate, no key."""
    b64 = base64.b64encode(cert_pem.encode()).decode()
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c1", "cluster": {"server": "https://api.example:443"}}],
            "users": [{"name": ADMIN_CN, "user": {"client-certificate-data": b64}}],
            "contexts": [{"name": ADMIN_CN, "context": {"cluster": "c1", "user": ADMIN_CN}}],
            "current-context": ADMIN_CN,
        }
    )


def test_csr_subject_and_key() -> None:
    request = new_request()
    csr = x509.load_pem_x509_csr(request.csr_pem.encode())
    assert csr.is_signature_valid
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [ADMIN_CN]
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [ADMIN_ORGANIZATION]
    assert ADMIN_CN == "system:customer-break-glass:system-admin" and ADMIN_ORGANIZATION == "system:masters"
    public = csr.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"
    key = serialization.load_pem_private_key(request.key_pem.encode(), password=None)
    assert _spki(key.public_key()) == _spki(public)
    assert request.body() == {"certificateSigningRequest": request.csr_pem}
    assert request.csr_pem.startswith("-----BEGIN CERTIFICATE REQUEST-----")


def test_kubeconfig_gets_the_private_key() -> None:
    request = new_request()
    original = _kubeconfig(_sign(request.csr_pem))
    done = yaml.safe_load(with_private_key(original, request.key_pem))
    user = done["users"][0]["user"]
    assert base64.b64decode(user["client-key-data"]).decode() == request.key_pem
    assert user["client-certificate-data"] == yaml.safe_load(original)["users"][0]["user"]["client-certificate-data"]
    assert done["current-context"] == ADMIN_CN and done["clusters"] == yaml.safe_load(original)["clusters"]
    # a base64-encoded kubeconfig is accepted too
    encoded = base64.b64encode(original.encode()).decode()
    assert "client-key-data" in with_private_key(encoded, request.key_pem)


def test_kubeconfig_for_another_key_is_refused() -> None:
    signed_for_other = _kubeconfig(_sign(new_request().csr_pem))
    with pytest.raises(CliError, match="no client certificate for the key"):
        with_private_key(signed_for_other, new_request().key_pem)
    with pytest.raises(CliError, match="has no users"):
        with_private_key("apiVersion: v1\nkind: Config\n", new_request().key_pem)
    with pytest.raises(CliError, match="neither a kubeconfig"):
        with_private_key("not base64!", new_request().key_pem)


def test_request_admin_credential_flow_against_a_mock_rp(tmp_path: Path) -> None:
    """POST 202 (Location + Azure-AsyncOperation) -> poll the status -> GET Location 200 -> the kubeconfig
    with the generated key, for the certificate the RP signed from the CSR it was sent."""
    cluster = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.RedHatOpenShift/hcpOpenShiftClusters/c1"
    ops = f"https://rp.example/subscriptions/{SUB}/providers/Microsoft.RedHatOpenShift/locations/eastus"
    seen: list[str] = []
    issued: dict[str, str] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        assert request.url.params["api-version"] == API_VERSION
        if request.method == "POST":
            issued["cert"] = _sign(json.loads(request.content)["certificateSigningRequest"])
            return httpx.Response(
                202,
                headers={
                    "Location": f"{ops}/hcpOperationResults/op1?api-version={API_VERSION}",
                    "Azure-AsyncOperation": f"{ops}/hcpOperationStatuses/op1?api-version={API_VERSION}",
                },
            )
        if request.url.path.endswith("/hcpOperationStatuses/op1"):
            return httpx.Response(200, json={"id": "op1", "status": "Succeeded"})
        if request.url.path.endswith("/hcpOperationResults/op1"):
            body = {"kubeconfig": _kubeconfig(issued["cert"]), "expirationTimestamp": "2030-01-01T00:00:00Z"}
            return httpx.Response(200, json=body)
        assert request.url.path == cluster
        return httpx.Response(200, json={"name": "c1", "properties": {"provisioningState": "Succeeded"}})

    settings = resolve({"endpoint": "https://rp.example", "subscription": SUB}, env={}, cwd=tmp_path)
    err = io.StringIO()
    with ArmClient(settings, transport=httpx.MockTransport(handler)) as arm:
        hcp = Hcp(arm, Printer(out=io.StringIO(), err=err))
        hcp.poller.sleep = lambda _: None
        text, expires = hcp.request_admin_credential("rg1", "c1")
    assert expires == "2030-01-01T00:00:00Z"
    assert seen[0] == f"POST {cluster}/requestAdminCredential" and seen[-1].endswith("/hcpOperationResults/op1")
    user = yaml.safe_load(text)["users"][0]["user"]
    key = serialization.load_pem_private_key(base64.b64decode(user["client-key-data"]), password=None)
    cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
    assert _spki(key.public_key()) == _spki(cert.public_key())
    assert "Requesting an admin credential for 'c1'" in err.getvalue()


# --- end to end ------------------------------------------------------------------------------------


def _aro(cli: Cli, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`aro ARGS` through the real entry point, stdin not a terminal."""
    env = clean_environ()
    for k, v in cli.env().items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run(
        [sys.executable, "-m", "aro_cmd.main", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _ok(r: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "Traceback" not in r.stderr
    return r


def _kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cache = kubeconfig.parent / "kube-cache"  # not ~/.kube/cache: shared by every run, keyed by host:port alone
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), "--request-timeout", "20s", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _node_count(kubeconfig: Path, want: int, tries: int = 100) -> list[dict[str, Any]]:
    """The nodes kubectl lists, once there are ``want`` of them (the pool settles after its operation)."""
    import time

    items: list[dict[str, Any]] = []
    for _ in range(tries):
        r = _kubectl(kubeconfig, "get", "nodes", "-o", "json")
        assert r.returncode == 0, r.stderr
        items = json.loads(r.stdout)["items"]
        if len(items) == want:
            return items
        time.sleep(0.1)
    raise AssertionError(f"kubectl shows {len(items)} nodes, not {want}")


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")
def test_end_to_end_hosted_cluster(cli: Cli, tmp_path: Path) -> None:
    rg, name = "hcprg", "hcp1"
    cluster = ["-g", rg, "-n", name]
    pool = ["--cluster", name, "-g", rg, "-n", "np1"]

    versions = _ok(_aro(cli, "hcp", "versions", "--channel-group", "stable", "-o", "json", cwd=tmp_path))
    catalog = json.loads(versions.stdout)
    assert catalog and all(v["properties"]["channelGroup"] == "stable" for v in catalog)
    release = newest_release(catalog, "4.20", "stable")
    assert release is not None

    created = _ok(_aro(cli, "hcp", "cluster", "create", *cluster, "--version", "4.20", "--tags", "e2e=1", cwd=tmp_path))
    body = json.loads(created.stdout)
    assert body["properties"]["provisioningState"] == "Succeeded" and body["tags"] == {"e2e": "1"}
    assert f"Creating hosted cluster {name!r}: operation: Accepted" in created.stderr
    assert "operation: Succeeded" in created.stderr

    np = _ok(
        _aro(
            cli,
            "hcp",
            "nodepool",
            "create",
            *pool,
            "--version",
            release,
            "--replicas",
            "2",
            "--label",
            "env=e2e",
            "--taint",
            "dedicated=e2e:NoSchedule",
            cwd=tmp_path,
        )
    )
    props = json.loads(np.stdout)["properties"]
    assert props["provisioningState"] == "Succeeded" and props["replicas"] == 2
    assert props["labels"] == [{"key": "env", "value": "e2e"}]
    assert props["taints"] == [{"key": "dedicated", "value": "e2e", "effect": "NoSchedule"}]

    cred = _ok(_aro(cli, "hcp", "cluster", "request-admin-credential", *cluster, cwd=tmp_path))
    kubeconfig = tmp_path / f"{name}.kubeconfig"
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    assert "ExpirationTimestamp" in cred.stdout and "wrote" in cred.stderr
    again = _aro(cli, "hcp", "cluster", "request-admin-credential", *cluster, cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr

    nodes = _node_count(kubeconfig, 2)
    assert all(n["metadata"]["labels"].get("env") == "e2e" for n in nodes)

    scaled = _ok(_aro(cli, "hcp", "nodepool", "scale", *pool, "--replicas", "3", cwd=tmp_path))
    assert json.loads(scaled.stdout)["properties"]["replicas"] == 3
    _node_count(kubeconfig, 3)

    _ok(_aro(cli, "hcp", "cluster", "revoke-credentials", *cluster, "--yes", cwd=tmp_path))
    refused = _kubectl(kubeconfig, "get", "nodes")
    assert refused.returncode != 0
    assert "Unauthorized" in refused.stderr or "401" in refused.stderr, refused.stderr

    _ok(_aro(cli, "hcp", "nodepool", "delete", *pool, "--yes", cwd=tmp_path))
    _ok(_aro(cli, "hcp", "cluster", "delete", *cluster, "--yes", cwd=tmp_path))
    gone = _aro(cli, "hcp", "cluster", "show", *cluster, cwd=tmp_path)
    assert gone.returncode == 1 and "(ResourceNotFound)" in gone.stderr
