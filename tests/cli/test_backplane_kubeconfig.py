"""The kubeconfig edits of `aro backplane login|logout|project` (aro.cli.kubeconfig), on files: login adds a
cluster, the exec user and a context; logout gives back exactly the file there was (compared as parsed YAML),
also when there was none, when it was empty, when it had other contexts, after several logins, and after
kubectl itself rewrote it."""

from __future__ import annotations

import copy
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from aro.cli import kubeconfig as kube
from aro.cli.errors import UsageError

A = "a" * 32
B = "b" * 32
URL = "https://localhost:8443"

OTHER = {
    "apiVersion": "v1",
    "kind": "Config",
    "preferences": {"colors": True},
    "clusters": [
        {"name": "kind-dev", "cluster": {"server": "https://127.0.0.1:6443", "insecure-skip-tls-verify": True}}
    ],
    "users": [{"name": "kind-dev", "user": {"token": "secret"}}],
    "contexts": [
        {"name": "kind-dev", "context": {"cluster": "kind-dev", "user": "kind-dev"}},
        {"name": "kind-dev-ns", "context": {"cluster": "kind-dev", "user": "kind-dev", "namespace": "ns"}},
    ],
    "current-context": "kind-dev",
    "extensions": [{"name": "someone.else", "extension": {"x": 1}}],
}


def entry(cluster_id: str, name: str = "demo", namespace: str = "default", ca: Path | None = None) -> kube.Login:
    return kube.Login(
        cluster_id=cluster_id,
        cluster_name=name,
        server=f"{URL}/backplane/cluster/{cluster_id}/",
        exec_command="/home/sre/.kube/aro-token",
        exec_env={"OCM_CONFIG": "/home/sre/.ocm.json"},
        namespace=namespace,
        ca_file=ca,
    )


def write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc) if doc is not None else "")


def parsed(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def login(path: Path, e: kube.Login) -> None:
    with kube.locked(path):
        kube.save(path, kube.add_login(kube.Kubeconfig.read(path), e))


def logout(path: Path, context: str) -> kube.Removal:
    removal = kube.remove_login(kube.Kubeconfig.read(path), context)
    if removal.delete:
        path.unlink()
    else:
        kube.save(path, removal.doc)
    return removal


def test_login_adds_cluster_user_and_context(tmp_path: Path) -> None:
    path = tmp_path / "config"
    ca = tmp_path / "ca.crt"
    login(path, entry(A, ca=ca))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config"]  # no temporary or lock file left
    doc = parsed(path)
    assert doc["apiVersion"] == "v1" and doc["kind"] == "Config" and doc["current-context"] == A
    [cluster] = doc["clusters"]
    assert cluster["name"] == A
    assert cluster["cluster"]["server"] == f"{URL}/backplane/cluster/{A}/"
    assert cluster["cluster"]["certificate-authority"] == str(ca)
    assert cluster["cluster"]["extensions"] == [
        {"name": "aro.backplane", "extension": {"clusterId": A, "clusterName": "demo"}}
    ]
    [user] = doc["users"]
    assert user["name"] == "aro-backplane"
    assert user["user"]["exec"] == {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "/home/sre/.kube/aro-token",
        "env": [{"name": "OCM_CONFIG", "value": "/home/sre/.ocm.json"}],
        "interactiveMode": "Never",
        "provideClusterInfo": False,
        "installHint": "the token comes from `aro token` (the aro CLI); log in with `aro login`",
    }
    assert "token" not in user["user"]  # no secret in the kubeconfig
    [context] = doc["contexts"]
    assert context["name"] == A
    assert {k: v for k, v in context["context"].items() if k != "extensions"} == {
        "cluster": A,
        "user": "aro-backplane",
        "namespace": "default",
    }
    mark = context["context"]["extensions"][0]["extension"]
    assert mark["clusterId"] == A and mark["clusterName"] == "demo" and "previousContext" not in mark
    assert mark["file"] == {
        "created": True,
        "empty": False,
        "absentKeys": ["apiVersion", "kind", "clusters", "contexts", "users"],
        "nullKeys": [],
    }


def test_login_writes_a_proxy_and_no_ca_when_there_is_none(tmp_path: Path) -> None:
    path = tmp_path / "config"
    e = entry(A)
    login(path, kube.Login(**{**e.__dict__, "proxy_url": "http://proxy.example:3128"}))
    cluster = parsed(path)["clusters"][0]["cluster"]
    assert cluster["proxy-url"] == "http://proxy.example:3128" and "certificate-authority" not in cluster


def test_logout_deletes_the_file_login_created(tmp_path: Path) -> None:
    path = tmp_path / "config"
    login(path, entry(A))
    removal = logout(path, A)
    assert removal.delete and removal.cluster_id == A and removal.cluster_name == "demo"
    assert not path.exists()


def test_logout_restores_a_file_with_other_contexts(tmp_path: Path) -> None:
    path = tmp_path / "config"
    write(path, OTHER)
    login(path, entry(A))
    doc = parsed(path)
    assert doc["current-context"] == A
    assert [c["name"] for c in doc["contexts"]] == ["kind-dev", "kind-dev-ns", A]
    assert doc["users"][0] == OTHER["users"][0] and doc["preferences"] == OTHER["preferences"]
    assert doc["extensions"] == OTHER["extensions"]
    removal = logout(path, A)
    assert not removal.delete
    assert parsed(path) == OTHER


@pytest.mark.parametrize(
    "original",
    [
        None,  # an empty file
        {"apiVersion": "v1", "kind": "Config", "clusters": None, "contexts": None, "users": None},
        {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": [], "current-context": ""},
        {"preferences": {}},
        {"apiVersion": "v1", "current-context": "gone"},  # a dangling current-context comes back as it was
    ],
)
def test_logout_restores_the_files_own_shape(tmp_path: Path, original: Any) -> None:
    path = tmp_path / "config"
    write(path, original)
    login(path, entry(A))
    logout(path, A)
    assert path.exists() and parsed(path) == original


def test_logins_stack_and_unstack(tmp_path: Path) -> None:
    path = tmp_path / "config"
    write(path, OTHER)
    login(path, entry(A, "demo"))
    login(path, entry(B, "prod"))
    doc = parsed(path)
    assert doc["current-context"] == B
    assert [u["name"] for u in doc["users"]] == ["kind-dev", "aro-backplane"]  # one exec user, shared
    assert [c["name"] for c in doc["clusters"]] == ["kind-dev", A, B]
    logout(path, B)
    doc = parsed(path)
    assert doc["current-context"] == A and [u["name"] for u in doc["users"]] == ["kind-dev", "aro-backplane"]
    logout(path, A)
    assert parsed(path) == OTHER


def test_logging_out_out_of_order_still_restores(tmp_path: Path) -> None:
    path = tmp_path / "config"
    write(path, OTHER)
    login(path, entry(A))
    login(path, entry(B))
    logout(path, A)  # not the current one: B stays current, and now goes back to what was before A
    doc = parsed(path)
    assert doc["current-context"] == B and A not in [c["name"] for c in doc["contexts"]]
    assert kube.mark_of(kube.find(doc, "contexts", B), "contexts")["previousContext"] == "kind-dev"  # type: ignore[index]
    logout(path, B)
    assert parsed(path) == OTHER


def test_logging_in_again_keeps_what_to_restore(tmp_path: Path) -> None:
    path = tmp_path / "config"
    write(path, OTHER)
    login(path, entry(A))
    login(path, entry(A, namespace="openshift-etcd"))  # again, while current
    doc = parsed(path)
    assert [c["name"] for c in doc["contexts"]].count(A) == 1
    assert kube.find(doc, "contexts", A)["context"]["namespace"] == "openshift-etcd"  # type: ignore[index]
    logout(path, A)
    assert parsed(path) == OTHER


def test_logging_in_again_after_switching_context(tmp_path: Path) -> None:
    path = tmp_path / "config"
    login(path, entry(A))
    doc = parsed(path)
    doc["current-context"] = "elsewhere"
    write(path, doc)
    login(path, entry(A))
    logout(path, A)
    assert not path.exists()  # login created it: the record of the first login is kept


def test_foreign_entries_of_the_same_name_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config"
    for key, name in (("clusters", A), ("contexts", A), ("users", "aro-backplane")):
        original = copy.deepcopy(OTHER)
        original[key].append({"name": name, key[:-1]: {}})
        write(path, original)
        with pytest.raises(
            UsageError, match=f"already has a {key[:-1]} named '{name}' that aro backplane did not write"
        ):
            login(path, entry(A))
        assert parsed(path) == original
    with pytest.raises(UsageError, match="was not written by aro backplane login"):
        kube.remove_login(kube.Kubeconfig.read(path), "kind-dev")


def test_invalid_kubeconfigs_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config"
    for text, message in (
        ("[1, 2]", "is not a mapping"),
        ("clusters: 5", "'clusters' is not a list"),
        ("a: [", "not valid YAML"),
    ):
        path.write_text(text)
        with pytest.raises(UsageError, match=message):
            kube.Kubeconfig.read(path)
    with pytest.raises(UsageError, match="not a valid namespace"):
        kube.add_login(kube.Kubeconfig(path, None, False), entry(A, namespace="Not_Valid"))


def test_set_namespace_and_current(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write(second, OTHER)
    login(second, entry(A))
    env = {"KUBECONFIG": f"{first}{os.pathsep}{second}", "HOME": str(tmp_path)}
    cur = kube.current(env)  # the first file does not exist: the second defines everything
    assert (cur.context, cur.path, cur.cluster_id, cur.namespace) == (A, second, A, "default")
    kube.save(second, kube.set_namespace(kube.Kubeconfig.read(second), A, "openshift-etcd"))
    assert kube.current(env).namespace == "openshift-etcd"
    assert kube.current_cluster_id(env) == A

    write(first, {"current-context": "kind-dev"})  # the first file's current-context wins
    assert kube.current(env).context == "kind-dev" and kube.current(env).cluster_id is None
    with pytest.raises(UsageError, match="'kind-dev' is not a backplane cluster"):
        kube.current_cluster_id(env)
    write(first, {"current-context": "nowhere"})
    with pytest.raises(UsageError, match="'nowhere' is not defined"):
        kube.current(env)
    first.unlink()
    second.unlink()
    with pytest.raises(UsageError, match="no current context"):
        kube.current(env)


def test_paths(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert kube.kubeconfig_path(env) == tmp_path / ".kube" / "config"
    assert kube.kubeconfig_path({**env, "KUBECONFIG": f"{os.pathsep}/x/a{os.pathsep}/x/b"}) == Path("/x/a")
    assert kube.multi_path(env, A) == tmp_path / ".kube" / A / "config"
    assert kube.multi_path(env, A, tmp_path / "k") == tmp_path / "k" / A / "config"
    assert kube.token_script_path(env) == tmp_path / ".kube" / "aro-token"
    assert kube.cluster_id_of_server(f"{URL}/backplane/cluster/{A}/") == A
    assert kube.cluster_id_of_server("https://api.example:6443") is None


def test_a_held_lock_is_waited_for_then_refused(tmp_path: Path) -> None:
    path = tmp_path / "config"
    (tmp_path / "config.lock").write_text("")
    with pytest.raises(Exception, match="is locked"), kube.locked(path, timeout=0.2):
        pass
    (tmp_path / "config.lock").unlink()
    with kube.locked(path):
        assert (tmp_path / "config.lock").exists()
    assert not (tmp_path / "config.lock").exists()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_reads_it_and_keeps_the_marks_when_it_rewrites_it(tmp_path: Path) -> None:
    path = tmp_path / "config"
    write(path, OTHER)
    login(path, entry(A))
    env = {"KUBECONFIG": str(path), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}

    def kubectl(*args: str) -> str:
        r = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    assert kubectl("config", "current-context").strip() == A
    assert kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}") == (
        f"{URL}/backplane/cluster/{A}/"
    )
    kubectl("config", "use-context", "kind-dev")  # kubectl rewrites the whole file
    kubectl("config", "use-context", A)
    doc = parsed(path)
    assert kube.mark_of(kube.find(doc, "contexts", A), "contexts") is not None  # the marks survived
    assert kube.mark_of(kube.find(doc, "clusters", A), "clusters") is not None
    assert kube.mark_of(kube.find(doc, "users", "aro-backplane"), "users") is not None
    logout(path, A)
    after = parsed(path)
    assert after["current-context"] == "kind-dev"
    assert [c["name"] for c in after["contexts"]] == ["kind-dev", "kind-dev-ns"]
    assert [u["name"] for u in after["users"]] == ["kind-dev"] and [c["name"] for c in after["clusters"]] == [
        "kind-dev"
    ]
