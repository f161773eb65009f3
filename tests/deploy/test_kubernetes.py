"""deploy/kubernetes: both overlays render with `kubectl kustomize`, and what they render is an RP that can
start -- the ConfigMap's aro.yaml loads through the real loader (aro.env.config) and passes the start-up
checks of aro.run, the pods mount every file that config names, probe the path the app serves, run as
non-root with a read-only root filesystem, reference only Secrets and ConfigMaps that exist (or are the
documented external Secrets), and outlive backend.shutdownSeconds on SIGTERM.

The checks are functions returning the problems they find; ``test_checkers_catch_broken_manifests`` feeds
them broken copies of the production render, so a check that cannot fail is caught too.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from aro.env.config import CloudMode, Config, ConfigError, DatabaseMode, Mode, load

REPO = Path(__file__).resolve().parents[2]
KUSTOMIZE = REPO / "deploy" / "kubernetes"
DOCS = REPO / "docs" / "deployment.md"
OVERLAYS = ("development", "production")
CONFIG_PATH = "/etc/aro/aro.yaml"
# Created by the operator, never rendered (their values are secret); each is described in docs/deployment.md.
EXTERNAL_SECRETS = {"aro-tls", "aro-client-ca", "aro-secrets-key"}
NAMESPACES = {"development": "aro-dev", "production": "aro"}
Obj = dict[str, Any]


# --- rendering ----------------------------------------------------------------------------------------------


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@functools.cache
def _render(directory: Path) -> tuple[Obj, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        reason = "kubectl is not installed: deploy/kubernetes cannot be rendered (`kubectl kustomize`)"
        if _ci():
            pytest.fail(reason)
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    proc = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"kubectl kustomize {directory} failed:\n{proc.stderr}"
    objects = tuple(d for d in yaml.safe_load_all(proc.stdout) if d is not None)
    assert objects, f"kubectl kustomize {directory} rendered nothing"
    return objects


def render(overlay: str) -> list[Obj]:
    """A fresh copy (tests and checkers may mutate it)."""
    return copy.deepcopy(list(_render(KUSTOMIZE / "overlays" / overlay)))


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def get(objects: list[Obj], kind: str, name: str) -> Obj:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def config_map(objects: list[Obj]) -> Obj:
    (cm,) = [o for o in of_kind(objects, "ConfigMap") if o["metadata"]["name"].startswith("aro-config-")]
    return cm


def load_config(objects: list[Obj], tmp_path: Path) -> Config:
    """The rendered aro.yaml through the real loader (an empty environment: the file alone must be valid)."""
    path = tmp_path / "aro.yaml"
    path.write_text(config_map(objects)["data"]["aro.yaml"])
    return load(path, environ={})


def pod_specs(objects: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    for d in of_kind(objects, "Deployment"):
        yield d, d["spec"]["template"]["spec"]


def containers(spec: Obj) -> list[Obj]:
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def main_container(deployment: Obj) -> Obj:
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    container: Obj = c
    return container


def mount_for(container: Obj, path: str) -> tuple[Obj, str] | None:
    """The volumeMount that holds ``path`` (the longest mountPath prefix) and the path inside the volume."""
    best: tuple[Obj, str] | None = None
    p = PurePosixPath(path)
    for m in container.get("volumeMounts", []):
        mp = PurePosixPath(m["mountPath"])
        if (p == mp or mp in p.parents) and (best is None or len(str(mp)) > len(best[0]["mountPath"])):
            best = (m, str(p.relative_to(mp)))
    return best


def volume(spec: Obj, name: str) -> Obj:
    found: list[Obj] = [v for v in spec.get("volumes", []) if v["name"] == name]
    assert len(found) == 1, f"volume {name}: {len(found)} in the pod"
    return found[0]


_UNITS = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity(q: str | int | float) -> float:
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(q))
    assert m and m.group(2) in _UNITS, f"unparsed quantity {q!r}"
    return float(m.group(1)) * _UNITS[m.group(2)]


# --- checkers: each returns the problems it found -------------------------------------------------------------


def security_problems(objects: list[Obj]) -> list[str]:
    out: list[str] = []
    for d, spec in pod_specs(objects):
        name = d["metadata"]["name"]
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True or not psc.get("runAsUser"):
            out.append(f"{name}: pod must run as a non-root uid (runAsNonRoot, runAsUser)")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            out.append(f"{name}: pod seccompProfile must be RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            out.append(f"{name}: the RP needs no Kubernetes API token (automountServiceAccountToken: false)")
        if spec.get("enableServiceLinks") is not False:
            out.append(f"{name}: enableServiceLinks must be false (ARO_* service variables break the config)")
        for c in containers(spec):
            where = f"{name}/{c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("runAsNonRoot") is not True or sc.get("runAsUser", 1) == 0:
                out.append(f"{where}: runAsNonRoot")
            if sc.get("readOnlyRootFilesystem") is not True:
                out.append(f"{where}: readOnlyRootFilesystem")
            if sc.get("allowPrivilegeEscalation") is not False or sc.get("privileged"):
                out.append(f"{where}: allowPrivilegeEscalation must be false")
            caps = sc.get("capabilities", {})
            if caps.get("drop") != ["ALL"] or caps.get("add"):
                out.append(f"{where}: capabilities must drop ALL and add none")
            if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                out.append(f"{where}: seccompProfile RuntimeDefault")
            res = c.get("resources", {})
            for key in ("cpu", "memory"):
                req, lim = res.get("requests", {}).get(key), res.get("limits", {}).get(key)
                if req is None or lim is None:
                    out.append(f"{where}: {key} request and limit")
                elif quantity(req) > quantity(lim):
                    out.append(f"{where}: {key} request above its limit")
            image = str(c.get("image", ""))
            if ":" not in image.rpartition("/")[2] and "@" not in image:
                out.append(f"{where}: image without a tag ({image!r}): the images transformer missed it")
    return out


def reference_problems(objects: list[Obj]) -> list[str]:
    """Mounts name volumes, volumes are used, and what volumes/env reference exists (or is external)."""
    out: list[str] = []
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for d, spec in pod_specs(objects):
        name = d["metadata"]["name"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounted: set[str] = set()
        for c in containers(spec):
            for m in c.get("volumeMounts", []):
                mounted.add(m["name"])
                if m["name"] not in volumes:
                    out.append(f"{name}/{c['name']}: volumeMount {m['name']} has no volume")
            for e in c.get("env", []):
                ref = e.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    secret = ref["secretKeyRef"]["name"]
                    if ("Secret", secret) not in names and secret not in EXTERNAL_SECRETS:
                        out.append(f"{name}: env {e['name']} references unknown Secret {secret}")
                if "configMapKeyRef" in ref and ("ConfigMap", ref["configMapKeyRef"]["name"]) not in names:
                    out.append(f"{name}: env {e['name']} references unknown ConfigMap")
        for v in volumes.values():
            if v["name"] not in mounted:
                out.append(f"{name}: volume {v['name']} is mounted by no container")
            sources = [v] + [s for s in v.get("projected", {}).get("sources", [])]
            for s in sources:
                if "secret" in s:
                    secret = s["secret"].get("secretName") or s["secret"].get("name")
                    if ("Secret", secret) not in names and secret not in EXTERNAL_SECRETS:
                        out.append(f"{name}: volume {v['name']} references unknown Secret {secret}")
                if "configMap" in s and ("ConfigMap", s["configMap"]["name"]) not in names:
                    out.append(f"{name}: volume {v['name']} references unknown ConfigMap {s['configMap']['name']}")
            if "persistentVolumeClaim" in v:
                claim = v["persistentVolumeClaim"]["claimName"]
                if ("PersistentVolumeClaim", claim) not in names:
                    out.append(f"{name}: volume {v['name']} references unknown PersistentVolumeClaim {claim}")
        if ("ServiceAccount", spec.get("serviceAccountName", "default")) not in names:
            out.append(f"{name}: serviceAccountName {spec.get('serviceAccountName')} is not rendered")
    return out


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def label_problems(objects: list[Obj], instance: str) -> list[str]:
    out: list[str] = []
    for o in objects:
        labels = o["metadata"].get("labels", {})
        where = f"{o['kind']}/{o['metadata']['name']}"
        want = {"app.kubernetes.io/part-of": "aro", "app.kubernetes.io/managed-by": "kustomize"}
        want["app.kubernetes.io/instance"] = instance
        if o["kind"] != "Namespace":
            want["app.kubernetes.io/name"] = "aro"
        for k, v in want.items():
            if labels.get(k) != v:
                out.append(f"{where}: label {k}={v}")
    for d, spec in pod_specs(objects):
        where = d["metadata"]["name"]
        pod = d["spec"]["template"]["metadata"]["labels"]
        if not pod.get("app.kubernetes.io/component"):
            out.append(f"{where}: pod label app.kubernetes.io/component")
        if not _selects(d["spec"]["selector"]["matchLabels"], pod):
            out.append(f"{where}: the Deployment's selector does not select its own pods")
        for t in spec.get("topologySpreadConstraints", []):
            if not _selects(t["labelSelector"]["matchLabels"], pod):
                out.append(f"{where}: topologySpreadConstraint on {t['topologyKey']} does not select its pods")
    return out


def pdb_problems(objects: list[Obj]) -> list[str]:
    """Each PodDisruptionBudget selects the pods of exactly one Deployment, and lets a drain proceed."""
    out: list[str] = []
    deployments = of_kind(objects, "Deployment")
    for pdb in of_kind(objects, "PodDisruptionBudget"):
        name = pdb["metadata"]["name"]
        selector = pdb["spec"]["selector"]["matchLabels"]
        hits = [d for d in deployments if _selects(selector, d["spec"]["template"]["metadata"]["labels"])]
        if len(hits) != 1:
            out.append(f"PodDisruptionBudget/{name}: selects {len(hits)} Deployments' pods")
            continue
        replicas = hits[0]["spec"].get("replicas", 1)
        min_available = pdb["spec"].get("minAvailable")
        if not isinstance(min_available, int) or not 1 <= min_available < replicas:
            out.append(f"PodDisruptionBudget/{name}: minAvailable {min_available!r} with {replicas} replicas")
    return out


def service_problems(objects: list[Obj]) -> list[str]:
    out: list[str] = []
    for svc in of_kind(objects, "Service"):
        name = svc["metadata"]["name"]
        hits = [
            d
            for d in of_kind(objects, "Deployment")
            if _selects(svc["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        if len(hits) != 1:
            out.append(f"Service/{name}: selects {len(hits)} Deployments' pods")
            continue
        ports = {p["name"]: p["containerPort"] for p in main_container(hits[0]).get("ports", [])}
        for p in svc["spec"]["ports"]:
            target = p["targetPort"]
            if (ports.get(target) if isinstance(target, str) else target) not in ports.values():
                out.append(f"Service/{name}: targetPort {target!r} is no port of {hits[0]['metadata']['name']}")
    return out


CHECKERS: dict[str, Callable[[list[Obj]], list[str]]] = {
    "security": security_problems,
    "references": reference_problems,
    "pdbs": pdb_problems,
    "services": service_problems,
}


# --- the renders --------------------------------------------------------------------------------------------


def test_development_renders_one_rp_on_a_claim() -> None:
    objects = render("development")
    assert {(o["kind"], o["metadata"]["name"]) for o in objects if o["kind"] != "ConfigMap"} == {
        ("Namespace", "aro-dev"),
        ("ServiceAccount", "aro"),
        ("PersistentVolumeClaim", "aro-data"),
        ("Deployment", "aro-rp"),
    }, "development: one `aro rp` Deployment, its claim, no Service (loopback only) and no PDB (one pod)"
    config_map(objects)
    rp = get(objects, "Deployment", "aro-rp")
    assert rp["spec"]["replicas"] == 1
    assert rp["spec"]["strategy"] == {"type": "Recreate"}, "two pods must never open the SQLite file at once"
    assert main_container(rp)["command"] == ["aro", "rp", "--config", CONFIG_PATH]
    claim = get(objects, "PersistentVolumeClaim", "aro-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert quantity(claim["spec"]["resources"]["requests"]["storage"]) >= 2**30


def test_production_renders_the_split_rp() -> None:
    objects = render("production")
    assert {(o["kind"], o["metadata"]["name"]) for o in objects if o["kind"] != "ConfigMap"} == {
        ("Namespace", "aro"),
        ("ServiceAccount", "aro"),
        ("Service", "aro-frontend"),
        ("Deployment", "aro-frontend"),
        ("Deployment", "aro-backend"),
        ("PodDisruptionBudget", "aro-frontend"),
        ("PodDisruptionBudget", "aro-backend"),
    }
    assert not of_kind(objects, "PersistentVolumeClaim"), "production keeps no state in the cluster"
    assert not of_kind(objects, "Secret"), "secret values are never rendered: the Secrets are external"
    frontend, backend = get(objects, "Deployment", "aro-frontend"), get(objects, "Deployment", "aro-backend")
    assert frontend["spec"]["replicas"] >= 2
    assert backend["spec"]["replicas"] >= 3
    assert main_container(frontend)["command"] == ["aro", "frontend", "--config", CONFIG_PATH]
    assert main_container(backend)["command"] == ["aro", "backend", "--config", CONFIG_PATH]
    assert {p["spec"]["minAvailable"] for p in of_kind(objects, "PodDisruptionBudget")} == {2}
    svc = get(objects, "Service", "aro-frontend")
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(443, "https")]
    # every image from the overlay's images: setting, a pinned tag
    assert {c["image"] for _, spec in pod_specs(objects) for c in containers(spec)} == {
        "registry.example.com/aro:0.1.0"
    }
    sa = get(objects, "ServiceAccount", "aro")
    assert "azure.workload.identity/client-id" in sa["metadata"]["annotations"]
    for d, _ in pod_specs(objects):
        assert d["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"] == "true"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_pass_every_check(overlay: str) -> None:
    objects = render(overlay)
    assert of_kind(objects, "Deployment"), "nothing to check"
    for name, check in CHECKERS.items():
        assert check(objects) == [], name
    assert label_problems(objects, f"aro-{overlay}") == []
    for o in objects:
        if o["kind"] != "Namespace":
            assert o["metadata"].get("namespace") == NAMESPACES[overlay], f"{o['kind']}/{o['metadata']['name']}"


def test_base_renders_and_passes_every_check() -> None:
    """The base alone (a production-shaped split RP) is valid too: overlays start from something sound."""
    objects = copy.deepcopy(list(_render(KUSTOMIZE / "base")))
    assert len(of_kind(objects, "Deployment")) == 2
    for name, check in CHECKERS.items():
        assert check(objects) == [], name


def test_external_secrets_are_documented() -> None:
    referenced = set()
    for _, spec in pod_specs(render("production")):
        for v in spec.get("volumes", []):
            for s in [v] + v.get("projected", {}).get("sources", []):
                if "secret" in s:
                    referenced.add(s["secret"].get("secretName") or s["secret"].get("name"))
    assert referenced == EXTERNAL_SECRETS
    docs = DOCS.read_text()
    for name in EXTERNAL_SECRETS:
        assert f"`{name}`" in docs, f"docs/deployment.md must say what to put in Secret {name}"
    assert "secret" not in {o["kind"].lower() for o in render("development")}, "development needs no Secret"


# --- the config, through the real loader ---------------------------------------------------------------------


def test_base_config_loads() -> None:
    config = load(KUSTOMIZE / "base" / "aro.yaml", environ={})
    assert config.mode is Mode.PRODUCTION and config.database.mode is DatabaseMode.COSMOS


def test_production_config_loads_and_passes_start_up_checks(tmp_path: Path) -> None:
    from aro.run import catalogs_for, connection_limits, frontend_tls, scripts_catalog

    config = load_config(render("production"), tmp_path)
    assert config.mode is Mode.PRODUCTION
    assert config.database.mode is DatabaseMode.COSMOS and config.database.cosmos.endpoint  # run.open_store
    assert config.cloud.mode is CloudMode.AZURE
    assert config.frontend.auth.arm_client_subject and config.frontend.auth.admin_client_subject
    assert config.secrets.key_file, "every pod must use one key: secrets.keyFile"
    assert not config.database.cosmos.key and not config.cloud.azure.client_secret, "no secret in a ConfigMap"
    tls = frontend_tls(config)
    assert tls.require_client_cert and tls.ca_file == config.frontend.tls.ca_file
    catalogs_for(config)
    scripts_catalog(config)
    connection_limits(config)


def test_development_config_loads_and_passes_start_up_checks(tmp_path: Path) -> None:
    from aro.run import catalogs_for, scripts_catalog

    config = load_config(render("development"), tmp_path)
    assert config.mode is Mode.DEVELOPMENT
    assert config.database.mode is DatabaseMode.EMBEDDED
    assert config.cloud.mode is CloudMode.SIMULATOR and not config.cloud.simulator.endpoint, "hosted by aro rp"
    assert config.secrets.key_file is None, "one process: the key is generated onto the claim"
    catalogs_for(config)
    scripts_catalog(config)
    # development mode refuses a listener off loopback: the overlay must not "fix" the Service that way
    with pytest.raises(ConfigError, match="frontend.host"):
        load(tmp_path / "aro.yaml", environ={"ARO_FRONTEND_HOST": "0.0.0.0"})
    with pytest.raises(ConfigError, match="cloud.simulator.host"):
        load(tmp_path / "aro.yaml", environ={"ARO_CLOUD_SIMULATOR_HOST": "0.0.0.0"})


def test_service_links_would_break_the_config(tmp_path: Path) -> None:
    """What enableServiceLinks: false prevents: the variables Kubernetes would inject for the Service."""
    objects = render("production")
    load_config(objects, tmp_path)
    env: dict[str, str] = {}
    for svc in of_kind(objects, "Service"):
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        port = svc["spec"]["ports"][0]["port"]
        env |= {
            f"{prefix}_SERVICE_HOST": "10.0.0.10",
            f"{prefix}_SERVICE_PORT": str(port),
            f"{prefix}_PORT": f"tcp://10.0.0.10:{port}",
            f"{prefix}_PORT_{port}_TCP": f"tcp://10.0.0.10:{port}",
        }
    assert any(k.startswith("ARO_") for k in env)
    with pytest.raises(ConfigError):
        load(tmp_path / "aro.yaml", environ=env)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_database_per_overlay(overlay: str, tmp_path: Path) -> None:
    objects = render(overlay)
    config = load_config(objects, tmp_path)
    assert (config.database.mode is DatabaseMode.COSMOS) == (overlay == "production")
    assert bool(of_kind(objects, "PersistentVolumeClaim")) == (overlay == "development")


# --- the pods against the config ---------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_mount_what_the_config_names(overlay: str, tmp_path: Path) -> None:
    objects = render(overlay)
    config = load_config(objects, tmp_path)
    cm_name = config_map(objects)["metadata"]["name"]
    checked = 0
    for d, spec in pod_specs(objects):
        c = main_container(d)
        role = c["command"][1]
        # the config file: the generated ConfigMap's aro.yaml
        found = mount_for(c, CONFIG_PATH)
        assert found is not None, f"{role}: {CONFIG_PATH} is not mounted"
        m, rel = found
        src = volume(spec, m["name"])
        assert src.get("configMap", {}).get("name") == cm_name and (m.get("subPath") or rel) == "aro.yaml"
        # dataDirectory and /tmp: writable volumes (the root filesystem is read-only)
        for path in (config.data_directory, "/tmp"):
            found = mount_for(c, path)
            assert found is not None and found[1] == ".", f"{role}: {path} must be a volume of its own"
            assert not found[0].get("readOnly"), f"{role}: {path} must be writable"
            v = volume(spec, found[0]["name"])
            assert "emptyDir" in v or "persistentVolumeClaim" in v, f"{role}: {path}"
        data = volume(spec, mount_for(c, config.data_directory)[0]["name"])  # type: ignore[index]
        assert ("persistentVolumeClaim" in data) == (config.database.mode is DatabaseMode.EMBEDDED), (
            f"{role}: the embedded store needs a claim, Cosmos DB does not"
        )
        # TLS files (the frontend), from the external Secrets, by the file names the config uses
        tls = config.frontend.tls
        if role == "frontend":
            assert tls.cert_file and tls.key_file and tls.ca_file
            for path in (tls.cert_file, tls.key_file, tls.ca_file):
                found = mount_for(c, path)
                assert found is not None, f"frontend: {path} is not mounted"
                v = volume(spec, found[0]["name"])
                sources = v.get("projected", {}).get("sources", []) + ([v] if "secret" in v else [])
                items = {i["path"] for s in sources for i in s["secret"].get("items", [])}
                assert found[1] in items, f"frontend: no Secret provides {path}"
        # the AEAD key: copied from the Secret to mode 0600 by the init container (test_secrets_key_copy)
        if config.secrets.key_file:
            found = mount_for(c, config.secrets.key_file)
            assert found is not None, f"{role}: {config.secrets.key_file} is not mounted"
            (init,) = [i for i in spec.get("initContainers", []) if i["name"] == "secrets-key"]
            source, destination = init["command"][-2:]
            assert destination == config.secrets.key_file
            dest_mount = mount_for(init, destination)
            assert dest_mount is not None and dest_mount[0]["name"] == found[0]["name"]
            src_mount = mount_for(init, source)
            assert src_mount is not None
            secret = volume(spec, src_mount[0]["name"])["secret"]
            assert secret["secretName"] == "aro-secrets-key"
            assert src_mount[1] in {i["path"] for i in secret["items"]}
        checked += 1
    assert checked == len(of_kind(objects, "Deployment")) >= 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grace_period_outlasts_shutdown(overlay: str, tmp_path: Path) -> None:
    objects = render(overlay)
    shutdown = load_config(objects, tmp_path).backend.shutdown_seconds
    for d, spec in pod_specs(objects):
        pre_stop = 0.0
        hook = main_container(d).get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        if hook:
            m = re.search(r"sleep\((\d+(?:\.\d+)?)\)", " ".join(hook))
            assert m, f"{d['metadata']['name']}: unparsed preStop {hook}"
            pre_stop = float(m.group(1))
        # run.py: the servers and the pool stop within shutdownSeconds + 0.5 s, the rest within + 1 s
        assert spec["terminationGracePeriodSeconds"] >= pre_stop + shutdown + 5, d["metadata"]["name"]


def test_production_probes(tmp_path: Path) -> None:
    from aro.frontend.auth import _OPEN_PATHS

    objects = render("production")
    config = load_config(objects, tmp_path)
    frontend = main_container(get(objects, "Deployment", "aro-frontend"))
    ports = {p["name"]: p["containerPort"] for p in frontend["ports"]}
    assert list(ports.values()) == [config.frontend.port]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get_ = frontend[probe]["httpGet"]
        # the kubelet presents no client certificate: only the open path answers it in production mode
        assert get_["path"] == "/healthz/ready" and get_["path"] in _OPEN_PATHS, probe
        assert get_["scheme"] == "HTTPS", probe
        port = get_["port"]
        assert (ports[port] if isinstance(port, str) else port) == config.frontend.port, probe
    backend = main_container(get(objects, "Deployment", "aro-backend"))
    assert not backend.get("ports"), "`aro backend` listens on no port"
    assert not {"startupProbe", "readinessProbe", "livenessProbe"} & set(backend), "nothing to probe (see comment)"


def test_development_probes_run_inside_the_pod(tmp_path: Path) -> None:
    objects = render("development")
    config = load_config(objects, tmp_path)
    rp = main_container(get(objects, "Deployment", "aro-rp"))
    assert not rp.get("ports"), "everything listens on loopback"
    url = f"https://127.0.0.1:{config.frontend.port}/healthz/ready"
    ca = f"{config.data_directory}/certs/ca.crt"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert set(rp[probe]) & {"httpGet", "tcpSocket", "grpc"} == set(), f"{probe}: the pod IP has no listener"
        script = " ".join(rp[probe]["exec"]["command"])
        assert url in script and ca in script, probe


def test_secrets_key_copy(tmp_path: Path) -> None:
    """The init container's copy turns a Secret file (group-readable under fsGroup) into one the RP accepts."""
    from aro.util.crypto import load_or_create_key

    spec = get(render("production"), "Deployment", "aro-backend")["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    assert init["command"][:2] == ["python3", "-c"]
    script = init["command"][2]
    source = tmp_path / "aead.key"
    source.write_bytes(b"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n")  # base64 of 32 bytes
    source.chmod(0o440)  # what the kubelet makes of a Secret file when fsGroup is set
    with pytest.raises(PermissionError):
        load_or_create_key(source)
    destination = tmp_path / "copy" / "aead.key"
    destination.parent.mkdir()
    subprocess.run([sys.executable, "-c", script, str(source), str(destination)], check=True, timeout=30)
    assert stat.S_IMODE(destination.stat().st_mode) == 0o600
    assert load_or_create_key(destination) == b"0123456789abcdef0123456789abcdef"


# --- the checks can fail ---------------------------------------------------------------------------------------


def _frontend_spec(objects: list[Obj]) -> Obj:
    spec: Obj = get(objects, "Deployment", "aro-frontend")["spec"]["template"]["spec"]
    return spec


BREAKAGES: dict[str, tuple[str, Callable[[list[Obj]], None]]] = {
    "root": ("security", lambda o: _frontend_spec(o)["containers"][0]["securityContext"].pop("runAsNonRoot")),
    "writable root": (
        "security",
        lambda o: _frontend_spec(o)["initContainers"][0]["securityContext"].update(readOnlyRootFilesystem=False),
    ),
    "capabilities": (
        "security",
        lambda o: _frontend_spec(o)["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
    ),
    "no limits": ("security", lambda o: _frontend_spec(o)["containers"][0]["resources"].pop("limits")),
    "service links": ("security", lambda o: _frontend_spec(o).pop("enableServiceLinks")),
    "untagged image": ("security", lambda o: _frontend_spec(o)["containers"][0].update(image="aro")),
    "dangling mount": (
        "references",
        lambda o: _frontend_spec(o)["containers"][0]["volumeMounts"].append({"name": "nope", "mountPath": "/x"}),
    ),
    "unknown secret": (
        "references",
        lambda o: volume(_frontend_spec(o), "secrets-key-source")["secret"].update(secretName="typo"),
    ),
    "unknown config map": (
        "references",
        lambda o: volume(_frontend_spec(o), "config")["configMap"].update(name="aro-config"),  # the unhashed name
    ),
    "pdb selector": (
        "pdbs",
        lambda o: get(o, "PodDisruptionBudget", "aro-backend")["spec"]["selector"]["matchLabels"].update(
            {"app.kubernetes.io/component": "worker"}
        ),
    ),
    "pdb blocks drains": (
        "pdbs",
        lambda o: get(o, "PodDisruptionBudget", "aro-frontend")["spec"].update(minAvailable=3),
    ),
    "service port": ("services", lambda o: get(o, "Service", "aro-frontend")["spec"]["ports"][0].update(targetPort=80)),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_checkers_catch_broken_manifests(breakage: str) -> None:
    checker, breaks = BREAKAGES[breakage]
    objects = render("production")
    assert CHECKERS[checker](objects) == []
    breaks(objects)
    assert CHECKERS[checker](objects), f"{checker} missed: {breakage}"


def test_label_checker_catches_a_selector_mismatch() -> None:
    objects = render("production")
    d = get(objects, "Deployment", "aro-backend")
    d["spec"]["template"]["spec"]["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"][
        "app.kubernetes.io/component"
    ] = "frontend"
    assert label_problems(objects, "aro-production")
    assert label_problems(render("development"), "aro-production"), "the instance label is checked"
