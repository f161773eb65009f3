"""rbac.authorization.k8s.io/v1 on the simulated cluster APIs, driven by the real ``kubectl``: discovery, the
four kinds (typed ``kubectl create``, ``apply``, tables), validation, what a service account's token may do
(exactly what RBAC grants), the escalation check, and the built-in reader rule for humans only."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import TOKEN, Simulator
from .kubectl import Kubectl, kubectl_binary
from .kubeutil import management, service_account

RBAC = "rbac.authorization.k8s.io"


@pytest.fixture
def sim_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    # kubectl 1.32 sends its typed creates (create role ...) as protobuf, 1.30 as JSON
    version = getattr(request, "param", "v1.32.4")
    return {"step_delay_seconds": 0.05, "token": TOKEN, "kubernetes_version": version}


@pytest.fixture
def kubectl(tmp_path: Path) -> Kubectl:
    return Kubectl(kubectl_binary(), tmp_path / "home")


def forbidden(user: str, verb: str, resource: str, namespace: str = "", name: str = "", group: str = "") -> str:
    """The API server's message, as kubectl prints it."""
    qualified = f"{resource.split('/')[0]}.{group}" if group else resource.split("/")[0]
    target = f'{qualified} "{name}"' if name else qualified
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    return (
        f'Error from server (Forbidden): {target} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{group}" {scope}'
    )


@pytest.mark.parametrize("sim_config", ["v1.30.7", "v1.32.4"], indirect=True)
async def test_rbac_kinds_with_kubectl(sim: Simulator, kubectl: Kubectl, tmp_path: Path) -> None:
    admin = management(sim, tmp_path)
    names = (await kubectl(admin, "api-resources", f"--api-group={RBAC}", "-o", "name")).lines()
    assert sorted(names) == [f"{p}.{RBAC}" for p in ("clusterrolebindings", "clusterroles", "rolebindings", "roles")]

    (await kubectl(admin, "create", "namespace", "team")).ok()
    (await kubectl(admin, "create", "role", "pod-reader", "-n", "team", "--verb=get,list", "--resource=pods,pods/log"))
    (await kubectl(admin, "create", "clusterrole", "node-reader", "--verb=get,list", "--resource=nodes")).ok()
    (await kubectl(admin, "create", "clusterrole", "metrics", "--verb=get", "--non-resource-url=/metrics")).ok()
    subjects = ("--user=alice", "--group=sre", "--serviceaccount=team:bot")
    (await kubectl(admin, "create", "rolebinding", "readers", "-n", "team", "--role=pod-reader", *subjects)).ok()
    (await kubectl(admin, "create", "clusterrolebinding", "nodes", "--clusterrole=node-reader", "--group=sre")).ok()

    role = (await kubectl(admin, "get", "role", "pod-reader", "-n", "team", "-o", "json")).json()
    assert (role["apiVersion"], role["kind"]) == (f"{RBAC}/v1", "Role")
    assert role["rules"] == [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"]}]
    metrics = (await kubectl(admin, "get", "clusterrole", "metrics", "-o", "json")).json()
    assert metrics["rules"] == [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]
    binding = (await kubectl(admin, "get", "rolebinding", "readers", "-n", "team", "-o", "json")).json()
    assert binding["roleRef"] == {"apiGroup": RBAC, "kind": "Role", "name": "pod-reader"}
    assert binding["subjects"] == [
        {"kind": "User", "apiGroup": RBAC, "name": "alice"},
        {"kind": "Group", "apiGroup": RBAC, "name": "sre"},
        {"kind": "ServiceAccount", "name": "bot", "namespace": "team"},
    ]
    roles = (await kubectl(admin, "get", "roles", "-A")).lines()
    assert roles[0].split() == ["NAMESPACE", "NAME", "CREATED", "AT"] and roles[1].split()[:2] == ["team", "pod-reader"]
    wide = (await kubectl(admin, "get", "rolebinding", "readers", "-n", "team", "-o", "wide")).lines()
    assert wide[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert wide[1].split()[1] == "Role/pod-reader" and wide[1].split()[3:] == ["alice", "sre", "team/bot"]
    listed = (await kubectl(admin, "get", "clusterroles", "-o", "name")).lines()
    assert listed == [f"clusterrole.{RBAC}/metrics", f"clusterrole.{RBAC}/node-reader"]

    # apply: create, then change
    manifest: dict[str, Any] = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "applied", "namespace": "team"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    }
    assert (await kubectl(admin, "apply", "-f", "-", stdin=json.dumps(manifest))).ok().out.strip().endswith("created")
    manifest["rules"][0]["verbs"] = ["get", "list"]
    assert (
        (await kubectl(admin, "apply", "-f", "-", stdin=json.dumps(manifest))).ok().out.strip().endswith("configured")
    )
    applied = (await kubectl(admin, "get", "role", "applied", "-n", "team", "-o", "json")).json()
    assert applied["rules"][0]["verbs"] == ["get", "list"]

    # validation, every failing field named (422 Invalid)
    bad_role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "bad", "namespace": "team"},
        "rules": [{"apiGroups": [""], "resources": ["pods"]}, {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
    }
    refused = await kubectl(admin, "create", "-f", "-", stdin=json.dumps(bad_role))
    assert refused.code != 0 and 'The Role "bad" is invalid' in refused.err  # kubectl renders the causes
    assert "rules[0].verbs: Required value: verbs must contain at least one value" in refused.err
    assert (
        "rules[1].nonResourceURLs" in refused.err
        and "namespaced rules cannot apply to non-resource URLs" in refused.err
    )
    bad_binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "bad"},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "pod-reader"},
        "subjects": [
            {"kind": "Bot", "name": "x"},
            {"kind": "ServiceAccount", "name": "bot"},
            {"kind": "User", "name": "u"},
        ],
    }
    refused = await kubectl(admin, "create", "-f", "-", stdin=json.dumps(bad_binding))
    assert refused.code != 0 and 'The ClusterRoleBinding "bad" is invalid' in refused.err
    for cause in (
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        'subjects[0].kind: Unsupported value: "Bot"',
        "subjects[1].namespace: Required value",
        f'subjects[2].apiGroup: Unsupported value: "": supported values: "{RBAC}"',
    ):
        assert cause in refused.err, cause
    binding["roleRef"]["name"] = "applied"
    changed = await kubectl(admin, "replace", "-f", "-", stdin=json.dumps(binding))
    assert changed.code != 0 and "roleRef: Invalid value" in changed.err and "cannot change roleRef" in changed.err

    (await kubectl(admin, "delete", "role", "pod-reader", "-n", "team")).ok()
    gone = await kubectl(admin, "get", "role", "pod-reader", "-n", "team")
    assert gone.code != 0 and f'roles.{RBAC} "pod-reader" not found' in gone.err
    # deleting the namespace deletes its roles and bindings
    (await kubectl(admin, "delete", "namespace", "team")).ok()
    assert (await kubectl(admin, "get", "roles,rolebindings", "-A", "-o", "name")).ok().out == ""


async def test_a_service_account_gets_exactly_what_rbac_grants(
    sim: Simulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    admin = management(sim, tmp_path)
    for ns in ("team", "other"):
        (await kubectl(admin, "create", "namespace", ns)).ok()
        pod = {"metadata": {"name": "web", "namespace": ns}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        (await kubectl(admin, "create", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "Pod", **pod}))).ok()
        for cm in ("allowed", "private"):
            (await kubectl(admin, "create", "configmap", cm, "-n", ns, "--from-literal=k=v")).ok()
    bot = await service_account(kubectl, admin, sim, tmp_path, "team", "bot")
    user = "system:serviceaccount:team:bot"

    # nothing bound: nothing but discovery and the self-reviews (no built-in reading for service accounts)
    denied = await kubectl(bot, "get", "pods")
    assert denied.code != 0 and denied.err.strip() == forbidden(user, "list", "pods", "team")
    assert (await kubectl(bot, "auth", "whoami", "-o", "json")).json()["status"]["userInfo"]["username"] == user
    assert (await kubectl(bot, "auth", "can-i", "list", "pods")).out.strip() == "no"
    assert (await kubectl(bot, "get", "nodes")).err.strip() == forbidden(user, "list", "nodes")

    role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "reader", "namespace": "team"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["allowed"]},
        ],
    }
    (await kubectl(admin, "create", "-f", "-", stdin=json.dumps(role))).ok()
    (await kubectl(admin, "create", "rolebinding", "bot", "-n", "team", "--role=reader", "--serviceaccount=team:bot"))
    assert (await kubectl(bot, "get", "pods", "-o", "name")).lines() == ["pod/web"]
    assert (await kubectl(bot, "logs", "web")).ok().out == ""  # pods/log granted; a simulated pod logs nothing
    assert (await kubectl(bot, "get", "configmap", "allowed", "-o", "name")).lines() == ["configmap/allowed"]
    private = await kubectl(bot, "get", "configmap", "private")
    assert private.err.strip() == forbidden(user, "get", "configmaps", "team", "private")
    assert (await kubectl(bot, "get", "configmaps")).err.strip() == forbidden(user, "list", "configmaps", "team")
    elsewhere = await kubectl(bot, "get", "pods", "-n", "other")
    assert elsewhere.err.strip() == forbidden(user, "list", "pods", "other")
    assert (await kubectl(bot, "get", "secrets")).err.strip() == forbidden(user, "list", "secrets", "team")
    can = {
        q: (await kubectl(bot, "auth", "can-i", *q.split())).out.strip()
        for q in (
            "get pods",
            "get pods --subresource=log",
            "get configmaps/allowed",
            "get configmaps/private",
            "delete pods",
            "get pods -n other",
            f"list roles.{RBAC}",
        )
    }
    assert can == {
        "get pods": "yes",
        "get pods --subresource=log": "yes",
        "get configmaps/allowed": "yes",
        "get configmaps/private": "no",
        "delete pods": "no",
        "get pods -n other": "no",
        f"list roles.{RBAC}": "no",
    }

    # in "other": a ClusterRole through a RoleBinding -- pods but not their logs; wildcards for config maps
    (await kubectl(admin, "create", "clusterrole", "pods-only", "--verb=get,list", "--resource=pods")).ok()
    star = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "star"},
        "rules": [{"apiGroups": ["*"], "resources": ["configmaps"], "verbs": ["*"]}],
    }
    (await kubectl(admin, "create", "-f", "-", stdin=json.dumps(star))).ok()
    for name, cluster_role in (("pods", "pods-only"), ("star", "star")):
        binding = ("rolebinding", name, "-n", "other", f"--clusterrole={cluster_role}", "--serviceaccount=team:bot")
        (await kubectl(admin, "create", *binding)).ok()
    assert (await kubectl(bot, "get", "pod", "web", "-n", "other", "-o", "name")).lines() == ["pod/web"]
    logs = await kubectl(bot, "logs", "web", "-n", "other")
    assert logs.err.strip() == forbidden(user, "get", "pods/log", "other", "web")
    (await kubectl(bot, "create", "configmap", "mine", "-n", "other", "--from-literal=a=b")).ok()
    (await kubectl(bot, "delete", "configmap", "private", "-n", "other")).ok()
    assert (await kubectl(bot, "get", "secrets", "-n", "other")).code != 0

    # cluster-wide: a ClusterRoleBinding; nodes are cluster-scoped
    (await kubectl(admin, "create", "clusterrole", "nodes", "--verb=list", "--resource=nodes")).ok()
    (
        await kubectl(
            admin, "create", "clusterrolebinding", "bot-nodes", "--clusterrole=nodes", "--serviceaccount=team:bot"
        )
    )
    assert (await kubectl(bot, "get", "nodes", "-o", "name")).code == 0
    assert (await kubectl(bot, "get", "node", "n1")).err.strip() == forbidden(user, "get", "nodes", name="n1")

    # humans keep the built-in reader rule (everything but secrets); the service account does not, even impersonated
    assert (await kubectl(admin, "--as=alice", "get", "pods", "-n", "other", "-o", "name")).lines() == ["pod/web"]
    alice = await kubectl(admin, "--as=alice", "get", "secrets", "-n", "other")
    assert alice.err.strip() == forbidden("alice", "list", "secrets", "other")
    as_bot = await kubectl(admin, f"--as={user}", "get", "pods", "-n", "kube-system")
    assert as_bot.code != 0 and forbidden(user, "list", "pods", "kube-system") in as_bot.err

    # the error body, as the API server sends it
    async with httpx.AsyncClient(verify=sim.ssl) as http:
        token = (await kubectl(admin, "get", "secret", "bot-token", "-n", "team", "-o", "jsonpath={.data.token}")).out
        headers = {"Authorization": f"Bearer {base64.b64decode(token).decode()}"}
        resp = await http.get(f"{sim.base_url}/management/api/v1/namespaces/team/pods/web/log", headers=headers)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
        resp = await http.get(f"{sim.base_url}/management/api/v1/namespaces/other/pods/web/log", headers=headers)
        body = resp.json()
        assert (resp.status_code, body["reason"], body["details"]) == (
            403,
            "Forbidden",
            {"name": "web", "kind": "pods"},
        )


async def test_escalation_is_refused(sim: Simulator, kubectl: Kubectl, tmp_path: Path) -> None:
    admin = management(sim, tmp_path)
    (await kubectl(admin, "create", "namespace", "team")).ok()
    manager = await service_account(kubectl, admin, sim, tmp_path, "team", "manager")
    user = "system:serviceaccount:team:manager"
    writer = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "rbac-writer", "namespace": "team"},
        "rules": [
            {"apiGroups": [RBAC], "resources": ["roles", "rolebindings"], "verbs": ["create", "get", "list", "patch"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        ],
    }
    (await kubectl(admin, "create", "-f", "-", stdin=json.dumps(writer))).ok()
    binding = ("rolebinding", "manager", "-n", "team", "--role=rbac-writer", "--serviceaccount=team:manager")
    (await kubectl(admin, "create", *binding)).ok()
    (
        await kubectl(admin, "create", "role", "secret-reader", "-n", "team", "--verb=get,list", "--resource=secrets")
    ).ok()

    # a role it holds every permission of: fine; one with more: refused
    (await kubectl(manager, "create", "role", "pods", "--verb=get", "--resource=pods")).ok()
    escalating = await kubectl(manager, "create", "role", "secrets", "--verb=get", "--resource=secrets")
    assert escalating.code != 0
    assert (
        f'roles.{RBAC} "secrets" is forbidden: user "{user}" (groups=["system:serviceaccounts" '
        '"system:serviceaccounts:team" "system:authenticated"]) is attempting to grant RBAC permissions not currently '
        'held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}'
    ) in escalating.err
    # nor may it widen its own role, or bind itself to a stronger one
    widen = await kubectl(
        manager,
        "patch",
        "role",
        "pods",
        "--type=json",
        "-p",
        '[{"op": "add", "path": "/rules/0/verbs/-", "value": "delete"}]',
    )
    assert widen.code != 0 and "is attempting to grant RBAC permissions not currently held" in widen.err
    bind = await kubectl(
        manager, "create", "rolebinding", "mine", "--role=secret-reader", "--serviceaccount=team:manager"
    )
    assert (
        bind.code != 0 and f'rolebindings.{RBAC} "mine" is forbidden' in bind.err and "not currently held" in bind.err
    )
    assert (await kubectl(manager, "get", "rolebinding", "mine")).code != 0  # nothing was written
    (await kubectl(manager, "create", "rolebinding", "ok", "--role=pods", "--serviceaccount=team:manager")).ok()
    ghost = await kubectl(manager, "create", "rolebinding", "ghost", "--role=ghost", "--serviceaccount=team:manager")
    assert ghost.code != 0 and f'roles.{RBAC} "ghost" not found' in ghost.err
    cluster_wide = await kubectl(manager, "create", "clusterrole", "x", "--verb=get", "--resource=pods")
    assert cluster_wide.err.strip() == forbidden(user, "create", "clusterroles", name="", group=RBAC)
    assert (await kubectl(manager, "get", "secrets")).code != 0

    # impersonation needs the verb too: a service account may not become an admin
    escalate = await kubectl(manager, "--as=system:admin", "--as-group=system:masters", "get", "secrets")
    assert escalate.code != 0 and f'User "{user}" cannot impersonate resource "users"' in escalate.err

    # the "bind" verb on that one role lets it bind it (as the API server allows), and then it reads secrets
    bind_rule = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "binder", "namespace": "team"},
        "rules": [{"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["bind"], "resourceNames": ["secret-reader"]}],
    }
    (await kubectl(admin, "create", "-f", "-", stdin=json.dumps(bind_rule))).ok()
    (
        await kubectl(
            admin, "create", "rolebinding", "binder", "-n", "team", "--role=binder", "--serviceaccount=team:manager"
        )
    )
    (
        await kubectl(manager, "create", "rolebinding", "mine", "--role=secret-reader", "--serviceaccount=team:manager")
    ).ok()
    assert (await kubectl(manager, "get", "secrets", "-o", "name")).ok().out.count("secret/") == 1
