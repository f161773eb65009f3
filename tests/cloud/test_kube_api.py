"""The simulator's cluster APIs driven by the real ``kubectl``: classic clusters (client certificates from
the RP's own install assets), RBAC, service-account tokens and impersonation, the management cluster,
hosted clusters (client CA rotation, nodes from VM scale sets), trust across a restart. The rules in
detail, in-process: ``test_kube_rules``."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from aro.api.cluster import MasterProfile, OpenShiftCluster, WorkerProfile
from aro.cloud.arm import ArmCloud
from aro.cluster import assets, template
from aro.util import pki

from .conftest import SUB, TOKEN, Simulator
from .kubectl import Kubectl, kubectl_binary, write_kubeconfig

VMSS_API = "2024-07-01"
CUSTOMER_RG = f"/subscriptions/{SUB}/resourceGroups/customer"


@pytest.fixture
def sim_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    # /usr/bin/kubectl may be gcloud's dispatcher, which runs the kubectl matching the server's version
    # (1.32 sends protobuf bodies for its typed create commands, 1.30 JSON)
    version = getattr(request, "param", "v1.32.4")
    return {"step_delay_seconds": 0.05, "token": TOKEN, "kubernetes_version": version}


@pytest.fixture
def kubectl(tmp_path: Path) -> Kubectl:
    return Kubectl(kubectl_binary(), tmp_path / "home")


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll ``check`` until it holds (the simulator's step delay applies), failing at the deadline."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.02)


def rp_cluster(infra: str, workers: int = 2) -> OpenShiftCluster:
    oc = OpenShiftCluster(
        id=f"{CUSTOMER_RG}/providers/Microsoft.RedHatOpenShift/openShiftClusters/{infra}",
        name=infra,
        location="eastus",
    )
    p = oc.properties
    p.infra_id, p.storage_suffix = infra, infra.replace("-", "")[:10]
    p.cluster_profile.domain = infra
    subnet = f"{CUSTOMER_RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/master"
    p.master_profile = MasterProfile(vm_size="Standard_D8s_v5", subnet_id=subnet)
    p.worker_profiles = [WorkerProfile(name="worker", vm_size="Standard_D4s_v5", subnet_id=subnet, count=workers)]
    return oc


async def install_classic(sim: Simulator, cloud: ArmCloud, tmp: Path, infra: str) -> tuple[Path, str]:
    """What the RP's install does for the cluster API: the PKI and admin kubeconfig (``assets``), then the
    template (``template``) deployed into the managed resource group. Returns (kubeconfig file, url)."""
    rg = f"aro-{infra}"
    oc = rp_cluster(infra)
    await cloud.create_resource_group(SUB, rg, "eastus", oc.id, {})
    endpoint = cloud.cluster_endpoint(SUB, rg, infra)
    material, kubeconfig, _ = assets.generate(oc, endpoint, f"api.{infra}.eastus.aroapp.io")
    oc.properties.cluster_pki = material
    await cloud.deploy(SUB, rg, "cluster", template.build(oc, "eastus", bootstrap=False), {})
    path = tmp / f"{infra}.kubeconfig"
    path.write_text(kubeconfig)
    return path, endpoint.url


def sim_ca(sim: Simulator) -> str:
    return sim.tls.ca_file.read_text()


# -- classic clusters -------------------------------------------------------------------------------------


async def test_classic_admin_kubeconfig_lists_nodes_and_foreign_certificates_are_refused(
    sim: Simulator, cloud: ArmCloud, kubectl: Kubectl, tmp_path: Path
) -> None:
    admin, url = await install_classic(sim, cloud, tmp_path, "c1-abcde")
    other, _ = await install_classic(sim, cloud, tmp_path, "c2-fghij")

    table = (await kubectl(admin, "get", "nodes")).lines()
    assert table[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert sorted(rows) == [f"c1-abcde-master-{i}" for i in range(3)] + [f"c1-abcde-worker-{i}" for i in range(2)]
    assert rows["c1-abcde-master-0"][1:3] == ["Ready", "master"] and rows["c1-abcde-worker-1"][2] == "worker"
    wide = (await kubectl(admin, "get", "nodes", "-o", "wide")).lines()
    assert "CONTAINER-RUNTIME" in wide[0] and len(wide) == 6
    assert (await kubectl(admin, "get", "no", "c1-abcde-master-1", "-o", "json")).json()["kind"] == "Node"
    me = (await kubectl(admin, "auth", "whoami", "-o", "json")).json()["status"]["userInfo"]
    assert (me["username"], me["groups"]) == ("system:admin", ["system:masters", "system:authenticated"])

    # a certificate of another cluster, presented to this cluster's API (this cluster's server, CA and
    # tls-server-name), does not get past the handshake: a classic cluster's API trusts its own client CAs only
    # (kube-apiserver would answer 401; trusting every cluster's CA in every cluster's TLS context cost memory
    # and CPU in the square of the number of clusters)
    mixed = yaml.safe_load(admin.read_text())
    mixed["users"][0]["user"] = yaml.safe_load(other.read_text())["users"][0]["user"]
    foreign = tmp_path / "foreign.kubeconfig"
    foreign.write_text(yaml.safe_dump(mixed))
    refused = await kubectl(foreign, "--request-timeout=0.5s", "get", "nodes")
    assert refused.code != 0 and "c1-abcde-master-0" not in refused.out
    assert (await kubectl(other, "get", "nodes")).code == 0, "the other cluster's certificate works at its own API"
    # a certificate from a CA nobody knows does not get past the TLS handshake (asyncio closes the connection
    # without the TLS alert: kubectl sees EOF and retries until its request timeout)
    stranger = pki.new_ca("stranger")
    cert = pki.issue(stranger, "system:admin", organization="system:masters", server=False, client=True)
    strange = write_kubeconfig(tmp_path / "stranger", url, sim_ca(sim), cert_pem=cert.cert_pem, key_pem=cert.key_pem)
    failed = await kubectl(strange, "--request-timeout=0.5s", "get", "nodes")
    assert failed.code != 0 and "c1-abcde-master-0" not in failed.out

    # derived nodes are read-only; the health endpoints stay anonymous; the rest is not
    assert "MethodNotAllowed" in (await kubectl(admin, "delete", "node", "c1-abcde-master-0")).err
    async with httpx.AsyncClient(verify=sim.ssl) as anonymous:
        for path, status in (
            ("/readyz", 200),
            ("/livez", 200),
            ("/version", 200),
            ("/api", 401),
            ("/api/v1/pods", 401),
        ):
            assert (await anonymous.get(url + path)).status_code == status, path
        body = (await anonymous.get(url + "/api/v1/namespaces")).json()
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "Unauthorized", 401)
    # the RP's backend lists nodes without credentials (SimulatorConfig.anonymous_node_reads)
    assert len(await cloud.cluster_nodes(cloud.cluster_endpoint(SUB, "aro-c1-abcde", "c1-abcde"))) == 5


@pytest.mark.parametrize("sim_config", ["v1.30.7", "v1.32.4"], indirect=True)
async def test_configmaps_crud_and_label_selectors(
    sim: Simulator, cloud: ArmCloud, kubectl: Kubectl, tmp_path: Path
) -> None:
    admin, _ = await install_classic(sim, cloud, tmp_path, "c3-klmno")
    for name, labels in (("a", "env=prod,tier=web"), ("b", "env=dev"), ("c", "")):
        (await kubectl(admin, "create", "configmap", name, f"--from-literal=key={name}")).ok()
        if labels:
            (await kubectl(admin, "label", "configmap", name, *labels.split(","))).ok()
    again = await kubectl(admin, "create", "configmap", "a", "--from-literal=key=x")
    assert again.code != 0 and 'configmaps "a" already exists' in again.err

    async def names(selector: str) -> list[str]:
        result = await kubectl(admin, "get", "cm", "-l", selector, "-o", "jsonpath={.items[*].metadata.name}")
        return result.ok().out.split()

    expected = {
        "env=prod": ["a"],
        "env==dev": ["b"],
        "env!=prod": ["b", "c"],
        "env": ["a", "b"],
        "!env": ["c"],
        "env in (prod,dev)": ["a", "b"],
        "env notin (prod)": ["b", "c"],
        "env=prod,tier=web": ["a"],
        "env=prod,tier=db": [],
    }
    found = await asyncio.gather(*(names(selector) for selector in expected))
    assert dict(zip(expected, found, strict=True)) == expected
    bad = await kubectl(admin, "get", "cm", "-l", "env in (prod")
    assert bad.code != 0

    got = (await kubectl(admin, "get", "configmap", "a", "-o", "json")).json()
    assert got["data"] == {"key": "a"} and got["metadata"]["labels"] == {"env": "prod", "tier": "web"}
    assert (
        got["metadata"]["uid"] and int(got["metadata"]["resourceVersion"]) > 0 and got["metadata"]["creationTimestamp"]
    )
    listed = (await kubectl(admin, "get", "cm")).lines()
    assert listed[0].split() == ["NAME", "DATA", "AGE"] and [row.split()[0] for row in listed[1:]] == ["a", "b", "c"]
    by_field = await kubectl(admin, "get", "cm", "--field-selector", "metadata.name=b", "-o", "name")
    assert by_field.lines() == ["configmap/b"]

    (await kubectl(admin, "delete", "configmap", "a")).ok()
    gone = await kubectl(admin, "get", "configmap", "a")
    assert gone.code != 0 and 'configmaps "a" not found' in gone.err
    everywhere = (await kubectl(admin, "get", "cm", "-A", "-o", "json")).json()
    assert sorted(i["metadata"]["name"] for i in everywhere["items"]) == ["b", "c"]
    namespaces = (await kubectl(admin, "get", "ns", "-o", "name")).lines()
    assert namespaces == ["namespace/default", "namespace/kube-system", "namespace/openshift-config"]


async def test_rbac_service_account_tokens_and_impersonation(
    sim: Simulator, cloud: ArmCloud, kubectl: Kubectl, tmp_path: Path
) -> None:
    admin, url = await install_classic(sim, cloud, tmp_path, "c4-pqrst")
    (await kubectl(admin, "create", "serviceaccount", "reader")).ok()
    # a service account gets exactly what RBAC grants (the built-in reader rule is for humans): bind it a reader role
    resources = "--resource=configmaps,pods,nodes,serviceaccounts"
    (await kubectl(admin, "create", "clusterrole", "reader", "--verb=get,list,watch", resources)).ok()
    binding = ("clusterrolebinding", "reader", "--clusterrole=reader", "--serviceaccount=default:reader")
    (await kubectl(admin, "create", *binding)).ok()
    token_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "reader-token", "annotations": {"kubernetes.io/service-account.name": "reader"}},
    }
    (await kubectl(admin, "create", "-f", "-", stdin=json.dumps(token_secret))).ok()
    (await kubectl(admin, "create", "secret", "generic", "db", "--from-literal=password=hunter2")).ok()
    raw = (await kubectl(admin, "get", "secret", "reader-token", "-o", "jsonpath={.data.token}")).ok().out
    token = base64.b64decode(raw).decode()
    reader = write_kubeconfig(tmp_path / "reader", url, sim_ca(sim), token=token)

    assert (await kubectl(reader, "get", "cm", "-o", "name")).code == 0
    can = await asyncio.gather(*(kubectl(reader, "auth", "can-i", *q) for q in (("list", "pods"), ("get", "secrets"))))
    assert [r.out.strip() for r in can] == ["yes", "no"]
    assert (await kubectl(reader, "get", "nodes", "-o", "name")).lines()[0].startswith("node/")
    for args in (("get", "secrets"), ("get", "secret", "db"), ("create", "configmap", "x"), ("delete", "sa", "reader")):
        denied = await kubectl(reader, *args)
        assert denied.code != 0 and "forbidden: User" in denied.err, args
    assert (
        'User "system:serviceaccount:default:reader" cannot list resource "secrets"'
        in (await kubectl(reader, "get", "secrets")).err
    )
    secret = (await kubectl(admin, "get", "secret", "db", "-o", "json")).json()
    assert base64.b64decode(secret["data"]["password"]) == b"hunter2" and secret["type"] == "Opaque"

    # impersonation: only system:masters may
    as_reader = await kubectl(admin, "--as=system:serviceaccount:default:reader", "get", "secrets")
    assert as_reader.code != 0 and 'User "system:serviceaccount:default:reader" cannot list' in as_reader.err
    assert (await kubectl(admin, "--as=someone", "--as-group=system:masters", "get", "secrets")).code == 0
    escalate = await kubectl(reader, "--as=system:admin", "--as-group=system:masters", "get", "secrets")
    assert escalate.code != 0 and "cannot impersonate" in escalate.err

    # deleting the token's secret invalidates the token at once
    (await kubectl(admin, "delete", "secret", "reader-token")).ok()
    revoked = await kubectl(reader, "get", "cm")
    assert revoked.code != 0 and "Unauthorized" in revoked.err


# -- management and hosted clusters ------------------------------------------------------------------------


async def put_scale_set(sim: Simulator, rid: str, capacity: int, node: dict[str, Any], **tags: str) -> dict[str, Any]:
    assert sim.admin is not None
    custom = base64.b64encode(json.dumps({"node": node}).encode()).decode()
    body = {
        "location": "eastus",
        "tags": tags,
        "sku": {"name": "Standard_D4s_v5", "tier": "Standard", "capacity": capacity},
        "properties": {"virtualMachineProfile": {"osProfile": {"computerNamePrefix": "workers", "customData": custom}}},
    }
    resp = await sim.admin.put(rid, params={"api-version": VMSS_API}, json=body)
    assert resp.status_code in (200, 201), resp.text
    return dict(resp.json())


async def instance_ids(sim: Simulator, rid: str) -> list[int]:
    assert sim.admin is not None
    resp = await sim.admin.get(f"{rid}/virtualMachines", params={"api-version": VMSS_API})
    resp.raise_for_status()
    return [int(i["instanceId"]) for i in resp.json()["value"]]


def control_plane(ns: str, mrg: str) -> list[dict[str, Any]]:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ns, "annotations": {"aro.openshift.io/managed-resource-group": mrg}},
    }
    pods = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"kube-apiserver-{i}", "namespace": ns, "labels": {"app": "kube-apiserver"}},
            "spec": {"containers": [{"name": "kube-apiserver", "image": "quay.io/openshift/kas:4.20"}]},
        }
        for i in range(2)
    ]
    return [namespace, *pods]


def client_ca_secret(ns: str, ca_pem: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "kas-client-ca", "namespace": ns},
            "stringData": {"ca.crt": ca_pem},
        }
    )


async def test_management_cluster_hosts_control_planes_and_hosted_clusters_follow(
    sim: Simulator, cloud: ArmCloud, kubectl: Kubectl, tmp_path: Path
) -> None:
    ns, mrg_name = "ocm-aro-1234abcd-h1", "h1-managed"
    mrg = f"/subscriptions/{SUB}/resourceGroups/{mrg_name}"
    await cloud.create_resource_group(SUB, mrg_name, "eastus", f"{CUSTOMER_RG}/providers/x/y/h1", {})
    management = write_kubeconfig(tmp_path / "mgmt", f"{sim.base_url}/management", sim_ca(sim), token=TOKEN)
    hosted_url = f"{sim.base_url}/hostedclusters/{ns}"
    anonymous = httpx.AsyncClient(verify=sim.ssl)

    async def hosted_readyz() -> int:
        return (await anonymous.get(f"{hosted_url}/readyz")).status_code

    try:
        assert await hosted_readyz() == 404  # no such management namespace yet
        namespace, *pods = control_plane(ns, mrg)
        (await kubectl(management, "create", "-f", "-", stdin=json.dumps(namespace))).ok()
        assert await hosted_readyz() == 503  # no control plane pods yet
        for pod in pods:
            created = await kubectl(management, "create", "-o", "json", "-f", "-", stdin=json.dumps(pod))
            assert created.json()["status"]["phase"] == "Pending"
        # kubectl wait watches the pods turn Ready (the server starts them after its step delay)
        waited = await kubectl(management, "wait", "--for=condition=Ready", "pods", "--all", "-n", ns, "--timeout=10s")
        assert waited.ok().out.count("condition met") == 2
        assert await hosted_readyz() == 200
        running = (await kubectl(management, "get", "pods", "-n", ns)).lines()
        assert running[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] and len(running) == 3
        assert all(line.split()[1:3] == ["1/1", "Running"] for line in running[1:])

        ca1 = pki.new_ca("kas-client-ca-1")
        cert1 = pki.issue(ca1, "system:admin", organization="system:masters", server=False, client=True)
        (await kubectl(management, "create", "-f", "-", stdin=client_ca_secret(ns, ca1.cert_pem))).ok()
        hosted1 = write_kubeconfig(
            tmp_path / "h1", hosted_url, sim_ca(sim), cert_pem=cert1.cert_pem, key_pem=cert1.key_pem
        )
        assert (await kubectl(hosted1, "get", "nodes", "-o", "name")).ok().out == ""

        vmss = f"{mrg}/providers/Microsoft.Compute/virtualMachineScaleSets/workers"
        taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
        node = {"labels": {"pool": "gpu", "tier": "compute"}, "taints": [taint], "kubeletVersion": "v1.33.5"}
        await put_scale_set(sim, vmss, 2, node)

        async def node_names(kubeconfig: Path) -> list[str]:
            return (await kubectl(kubeconfig, "get", "nodes", "-o", "name")).ok().out.split()

        await eventually(lambda: _equals(node_names(hosted1), ["node/workers000000", "node/workers000001"]))
        shown = (await kubectl(hosted1, "get", "nodes", "--show-labels")).lines()
        assert shown[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "LABELS"]
        for line in shown[1:]:
            assert line.split()[1:3] == ["Ready", "worker"] and line.split()[4] == "v1.33.5"
            assert "pool=gpu" in line and "tier=compute" in line and "kubernetes.io/hostname=workers00000" in line
        taints = (await kubectl(hosted1, "get", "nodes", "-o", "jsonpath={.items[*].spec.taints}")).ok().out
        assert [json.loads(t) for t in taints.split()] == [[taint], [taint]]

        # replacing kas-client-ca revokes every certificate of the old CA at once; the new CA is trusted by the
        # TLS layer from then on (loaded into the live context)
        ca2 = pki.new_ca("kas-client-ca-2")
        cert2 = pki.issue(ca2, "system:admin", organization="system:masters", server=False, client=True)
        (await kubectl(management, "replace", "-f", "-", stdin=client_ca_secret(ns, ca2.cert_pem))).ok()
        revoked = await kubectl(hosted1, "get", "nodes")
        assert revoked.code != 0 and "Unauthorized" in revoked.err
        hosted2 = write_kubeconfig(
            tmp_path / "h2", hosted_url, sim_ca(sim), cert_pem=cert2.cert_pem, key_pem=cert2.key_pem
        )
        assert len(await node_names(hosted2)) == 2

        # scale to 3; a retried PUT changes no instance; scale to 0; instance ids only grow
        await put_scale_set(sim, vmss, 3, node)
        assert await instance_ids(sim, vmss) == [0, 1, 2]
        await put_scale_set(sim, vmss, 3, node)
        assert await instance_ids(sim, vmss) == [0, 1, 2]
        await eventually(lambda: _equals(len_of(node_names(hosted2)), 3))
        await put_scale_set(sim, vmss, 0, node)
        await eventually(lambda: _equals(len_of(node_names(hosted2)), 0))
        await put_scale_set(sim, vmss, 1, node)
        assert await instance_ids(sim, vmss) == [3]

        # deleting the management namespace deletes the hosted cluster
        (await kubectl(management, "delete", "namespace", ns)).ok()
        assert await hosted_readyz() == 404
    finally:
        await anonymous.aclose()


async def _equals(value: Awaitable[Any], want: Any) -> bool:
    return await value == want


async def len_of(value: Awaitable[list[str]]) -> int:
    return len(await value)


async def test_restart_keeps_objects_and_trusts_known_client_cas(
    sim: Simulator, cloud: ArmCloud, kubectl: Kubectl, tmp_path: Path
) -> None:
    admin, _ = await install_classic(sim, cloud, tmp_path, "c5-uvwxy")
    (await kubectl(admin, "create", "configmap", "survivor", "--from-literal=k=v")).ok()
    await sim.restart()  # a new process would know the CA only from the store: it is loaded at start-up
    url = f"{sim.base_url}/clusters/{SUB}/aro-c5-uvwxy"
    moved = yaml.safe_load(admin.read_text())  # the new port; (kubectl --server would drop tls-server-name)
    moved["clusters"][0]["cluster"]["server"] = url
    admin.write_text(yaml.safe_dump(moved))
    got = (await kubectl(admin, "get", "configmap", "survivor", "-o", "json")).json()
    assert got["data"] == {"k": "v"}


async def test_an_evicted_cluster_client_stays_open_while_in_use(
    sim: Simulator, cloud: ArmCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-certificate HTTP clients are bounded (``CERT_CLIENTS``); one that leaves the cache while an
    install still holds a ``KubeAPI`` on it is closed only once that is gone (closing it at once failed the
    installs beyond 64 in flight: "Cannot send a request, as the client has been closed")."""
    import gc

    from aro.cloud import arm

    monkeypatch.setattr(arm, "CERT_CLIENTS", 1)
    admins = [await install_classic(sim, cloud, tmp_path, f"ev{i}-abcde") for i in range(2)]

    def api_of(i: int) -> Any:
        user = yaml.safe_load(admins[i][0].read_text())["users"][0]["user"]
        cert = base64.b64decode(user["client-certificate-data"]).decode()
        key = base64.b64decode(user["client-key-data"]).decode()
        return cloud.cluster_api(cloud.cluster_endpoint(SUB, f"aro-ev{i}-abcde", f"ev{i}-abcde"), cert, key)

    held = api_of(0)
    http = held._http
    api_of(1)  # the first client leaves the cache
    assert len(await held.list("nodes")) == 5, "the evicted client still serves the install holding it"
    assert not http.is_closed
    del held
    gc.collect()
    await asyncio.sleep(0.05)
    assert http.is_closed, "once nobody holds it, the evicted client is closed"
