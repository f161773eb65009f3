"""The admin API's inspector: a diagnostics archive per cluster (both kinds) that holds what an SRE needs
and no secret, and the control plane's metrics of the configured metrics set."""

from __future__ import annotations

import io
import tarfile

import httpx

from tests.conftest import RPProcess
from tests.fixtures.clusters import SECRETS
from tests.frontend.conftest import StartRP
from tests.frontend.helpers import Arm, cluster_path, new_sub
from tests.hcp.helpers import PROVIDER, cluster_model, new_key_and_csr, node_pool_model

V = "2026-10-01"


def _raw(arm: Arm, url: str) -> httpx.Response:
    """A GET whose body is not JSON (the archive, the metrics), outside the ARM client's JSON checks."""
    with arm.rp.client() as c:
        return c.get(url)


def _files(archive: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _hosted(arm: Arm, sub: str, name: str) -> str:
    path = f"/subscriptions/{sub}/resourceGroups/diag-rg/providers/{PROVIDER}/hcpOpenShiftClusters/{name}"
    assert arm.put(path, cluster_model(sub, "diag-rg", name).as_dict(), version=V).status_code == 201
    arm.wait(path, {"Succeeded"}, version=V)
    pool = path + "/nodePools/np"
    assert arm.put(pool, node_pool_model(replicas=1).as_dict(), version=V).status_code == 201
    arm.wait(pool, {"Succeeded"}, version=V)
    _key, csr = new_key_and_csr()
    r = arm.post(path + "/requestAdminCredential", json={"certificateSigningRequest": csr}, version=V)
    arm.wait_operation(r.headers["azure-asyncoperation"])
    return path


def test_diagnostics_of_a_hosted_and_a_classic_cluster_hold_no_secret(arm: Arm) -> None:
    sub = new_sub()
    hosted = _hosted(arm, sub, "diag")
    r = _raw(arm, f"/admin{hosted}/diagnostics")
    assert r.status_code == 200 and r.headers["content-type"] == "application/gzip", r.text
    files = _files(r.content)
    names = {n.removeprefix("diagnostics/") for n in files}
    assert {"resource.json", "operations.json", "children/nodePools/np.json"} <= names, names
    assert {"management/pods.json", "cluster/nodes.json", "cluster/namespaces.json"} <= names, names
    assert "etcd-0" in files["diagnostics/management/pods.json"]
    assert "hypershift.openshift.io/nodePool" in files["diagnostics/cluster/nodes.json"]
    text = "\n".join(files.values())
    for marker in ("BEGIN EC PRIVATE KEY", "BEGIN PRIVATE KEY", "CERTIFICATE REQUEST", "client-certificate-data"):
        assert marker not in text, f"{marker} in the diagnostics"
    assert '"signer"' not in files["diagnostics/resource.json"]
    assert '"credentials"' not in files["diagnostics/resource.json"]

    classic = arm.create(sub, "diag-rg", "classic")
    r = _raw(arm, f"/admin{classic['id']}/diagnostics")
    assert r.status_code == 200, r.text
    files = _files(r.content)
    text = "\n".join(files.values())
    assert "-master-0" in files["diagnostics/cluster/nodes.json"]
    for marker in (*SECRETS, "BEGIN EC PRIVATE KEY", "BEGIN PRIVATE KEY", "kubeadminPassword"):
        assert marker not in text, f"{marker} in the diagnostics"
    assert any(n.endswith("simulator/requests.json") for n in files)
    assert arm.get(f"/admin{cluster_path(sub, 'diag-rg', 'missing')}/diagnostics", version=None).status_code == 404


def _metric_names(text: str) -> set[str]:
    return {line.split("{", 1)[0].split(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def test_control_plane_metrics_follow_the_metrics_set(start_rp: StartRP) -> None:
    seen: dict[str, set[str]] = {}
    for metrics_set in ("Telemetry", "SRE", "all"):
        rp: RPProcess = start_rp(ARO_HCP_METRICS_SET=metrics_set)
        with Arm(rp) as arm:
            path = _hosted(arm, new_sub(), "metrics")
            r = _raw(arm, f"/admin{path}/controlplane/metrics")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text
            seen[metrics_set.lower()] = _metric_names(r.text)
        rp.kill()
    assert seen["telemetry"] and seen["telemetry"] < seen["sre"] < seen["all"], seen
    assert "etcd_server_has_leader" in seen["telemetry"]


def test_an_unknown_metrics_set_stops_start_up() -> None:
    from aro.env.config import ConfigError, load

    try:
        load(environ={"ARO_HCP_METRICS_SET": "Everything"})
    except ConfigError as e:
        assert "hcp.metricsSet" in str(e)
    else:
        raise AssertionError("accepted an unknown metrics set")
