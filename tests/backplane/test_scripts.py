"""The managed-scripts catalog (``aro.backplane.scripts``) and ``GET /backplane/script/{clusterId}``:

- the shipped catalog is valid and its scripts declare exactly what they use;
- every rule of the metadata schema refuses a bad file naming the file and the field, and `aro rp`,
  `aro frontend` and `aro backend` refuse to start on such a catalog, saying so;
- through a real `aro rp` serving a catalog of its own: the list holds the scripts whose ``allowedGroups``
  meet the caller's groups, as backplane-api's ``Script`` objects; ``scriptname`` describes one, 404 for
  one that is unknown or not the caller's; an unknown cluster is 404, a caller who is not an SRE 403.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aro.backplane.scripts import MAX_SCRIPT_BYTES, CatalogError, load_catalog, shipped_directory
from tests.backplane.helpers import issue_token
from tests.backplane.jobhelpers import Backplane, JobsRP, catalog_with_tests, start_jobs_rp, write_script
from tests.frontend.conftest import StartRP, start_rp

__all__ = ["start_rp"]

GOOD = {
    "file": "script.sh",
    "name": "good",
    "description": "A good script",
    "author": "tester",
    "language": "bash",
    "allowedGroups": ["aro-sre"],
    "customerDataAccess": False,
}
SCRIPT_FIELDS = {
    "path",
    "canonicalName",
    "description",
    "shortDescription",
    "author",
    "permalink",
    "envs",
    "rbac",
    "allowedGroups",
    "labels",
    "language",
    "customerDataAccess",
}


def catalog_of(root: Path, metadata: dict[str, Any], *, name: str = "good", body: str = "echo hi\n") -> Path:
    directory = root / "GRP" / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metadata.yaml").write_text(yaml.safe_dump(metadata))
    if body:
        (directory / "script.sh").write_text(body)
    return root


def refused(root: Path, *words: str) -> str:
    with pytest.raises(CatalogError) as e:
        load_catalog(root)
    for word in words:
        assert word in str(e.value), str(e.value)
    return str(e.value)


# -- the catalog ------------------------------------------------------------------------------------------


def test_the_shipped_catalog_is_valid_and_minimal() -> None:
    catalog = load_catalog(shipped_directory())
    assert set(catalog.scripts) == {"SREP/nodes-not-ready", "SREP/failing-pods", "SREP/kubelet-version-skew"}
    for script in catalog.scripts.values():
        assert script.allows({"aro-sre"}), script.canonical_name
        assert not script.customer_data_access
        # read-only: get/list of exactly what the script reads, nothing namespaced, no secrets
        assert script.roles == ()
        for rule in script.cluster_role_rules:
            assert set(rule["verbs"]) == {"get", "list"} and rule["apiGroups"] == [""], rule
            assert rule["resources"] in (["nodes"], ["pods"]), rule
        assert "kubectl" in script.body or "urllib" in script.body or "http.client" in script.body
    failing = catalog.scripts["SREP/failing-pods"]
    assert [(e.key, e.optional) for e in failing.envs] == [("NAMESPACE", False)]
    assert failing.cluster_role_rules[0]["resources"] == ["pods"]
    skew = catalog.scripts["SREP/kubelet-version-skew"]
    assert skew.language == "python" and [(e.key, e.optional) for e in skew.envs] == [("MAX_MINOR_SKEW", True)]
    lines = skew.body.splitlines()
    imported = [line.split()[1].split(".")[0] for line in lines if line.startswith(("import ", "from "))]
    assert imported and all(m in sys.stdlib_module_names for m in imported), imported  # the standard library only


def test_a_script_object_is_backplane_apis(tmp_path: Path) -> None:
    meta = {
        **GOOD,
        "shortDescription": "short",
        "labels": [{"key": "category", "description": "what for", "values": ["health"]}],
        "envs": [{"key": "NS", "description": "a namespace", "optional": False}, {"key": "N"}],
        "rbac": {
            "roles": [
                {"namespace": "default", "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}
            ],
            "clusterRoleRules": [
                {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"], "resourceNames": ["n1"]},
                {"verbs": ["get"], "apiGroups": [], "resources": [], "nonResourceURLs": ["/healthz"]},
            ],
        },
        "clusterVersions": ["4.16.*", "4.17.3"],
    }
    script = load_catalog(catalog_of(tmp_path, meta)).scripts["GRP/good"]
    api = script.to_api()
    assert set(api) == SCRIPT_FIELDS
    assert api["canonicalName"] == "GRP/good" and api["path"] == "GRP/good/script.sh"
    assert api["permalink"].startswith("managed-scripts/GRP/good/script.sh@sha256:")
    assert api["envs"] == [
        {"key": "NS", "description": "a namespace", "optional": False},
        {"key": "N", "description": "", "optional": False},
    ]
    assert api["rbac"] == meta["rbac"]
    assert api["labels"] == meta["labels"] and api["allowedGroups"] == ["aro-sre"]
    assert (api["language"], api["customerDataAccess"], api["shortDescription"]) == ("bash", False, "short")
    assert script.body == "echo hi\n"


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"name": "other"}, "name", "must equal the directory's name"),
        ({"language": "perl"}, "language", "must be one of python, bash"),
        ({"allowedGroups": []}, "allowedGroups", "must not be empty"),
        ({"allowedGroups": "aro-sre"}, "allowedGroups", "must be a list"),
        ({"customerDataAccess": "no"}, "customerDataAccess", "must be true or false"),
        ({"description": ""}, "description", "must not be empty"),
        ({"description": "x" * 5000}, "description", "longer than 4096"),
        ({"author": 7}, "author", "must be a string"),
        ({"surprise": 1}, "surprise", "is not a known field"),
        ({"file": "../other.sh"}, "file", "must name a script file"),
        ({"file": "missing.sh"}, "file", "is not a regular file"),
        ({"envs": [{"key": "A", "extra": 1}]}, "envs[0].extra", "is not a known field"),
        ({"envs": [{"description": "no key"}]}, "envs[0].key", "is required"),
        ({"envs": [{"key": "1BAD"}]}, "envs[0].key", "must be an environment variable name"),
        ({"envs": [{"key": "PATH"}]}, "envs[0].key", "reserved"),
        ({"envs": [{"key": "KUBERNETES_SERVICE_HOST"}]}, "envs[0].key", "reserved"),
        ({"envs": [{"key": "A"}, {"key": "A"}]}, "envs[1].key", "declared twice"),
        ({"envs": [{"key": "A", "optional": "yes"}]}, "envs[0].optional", "must be true or false"),
        ({"envs": [{"key": f"K{i}"} for i in range(65)]}, "envs", "more than 64"),
        ({"labels": [{"key": "k", "values": "v"}]}, "labels[0].values", "must be a list"),
        ({"rbac": {"roles": [], "other": []}}, "rbac.other", "is not a known field"),
        ({"rbac": {"roles": [{"rules": []}]}}, "rbac.roles[0].namespace", "is required"),
        ({"rbac": {"roles": [{"namespace": "Bad_NS", "rules": []}]}}, "rbac.roles[0].namespace", "DNS-1123"),
        ({"rbac": {"roles": [{"namespace": "ns", "rules": []}]}}, "rbac.roles[0].rules", "must not be empty"),
        (
            {"rbac": {"roles": [{"namespace": "ns", "rules": [{"verbs": ["get"], "apiGroups": [""]}]}]}},
            "rbac.roles[0].rules[0].resources",
            "is required",
        ),
        (
            {"rbac": {"clusterRoleRules": [{"verbs": [], "apiGroups": [""], "resources": ["pods"]}]}},
            "rbac.clusterRoleRules[0].verbs",
            "must not be empty",
        ),
        (
            {"rbac": {"clusterRoleRules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "x": 1}]}},
            "rbac.clusterRoleRules[0].x",
            "is not a known field",
        ),
        (
            {
                "rbac": {
                    "roles": [
                        {
                            "namespace": "ns",
                            "rules": [
                                {"verbs": ["get"], "apiGroups": [""], "resources": [], "nonResourceURLs": ["/x"]}
                            ],
                        }
                    ]
                }
            },
            "rbac.roles[0].rules[0].nonResourceURLs",
            "only allowed in clusterRoleRules",
        ),
        ({"clusterVersions": ["4.16"]}, "clusterVersions[0]", "X.Y.Z or X.Y.*"),
    ],
)
def test_bad_metadata_is_refused_naming_the_file_and_the_field(
    tmp_path: Path, change: dict[str, Any], field: str, problem: str
) -> None:
    message = refused(catalog_of(tmp_path, {**GOOD, **change}), problem)
    assert message.startswith(f"{tmp_path}/GRP/good/metadata.yaml: {field}: "), message


@pytest.mark.parametrize(
    "missing", ["file", "name", "description", "author", "language", "allowedGroups", "customerDataAccess"]
)
def test_every_required_field_is_required(tmp_path: Path, missing: str) -> None:
    meta = {k: v for k, v in GOOD.items() if k != missing}
    body = "" if missing == "file" else "echo hi\n"
    assert refused(catalog_of(tmp_path, meta, body=body), "is required").endswith(
        f"metadata.yaml: {missing}: is required"
    )


def test_bad_files_are_refused(tmp_path: Path) -> None:
    cases: list[tuple[str, Any, str]] = [
        ("yaml", "a: [", "is not valid YAML"),
        ("list", "- 1\n", "(document): must be an object"),
        ("empty-script", None, "is empty"),
        ("big-script", None, f"larger than {MAX_SCRIPT_BYTES} bytes"),
        ("binary-script", None, "is not UTF-8 text"),
    ]
    for name, metadata, problem in cases:
        root = tmp_path / name
        directory = root / "GRP" / name
        directory.mkdir(parents=True)
        if metadata is not None:
            (directory / "metadata.yaml").write_text(metadata)
        else:
            (directory / "metadata.yaml").write_text(yaml.safe_dump({**GOOD, "name": name}))
            content = {
                "empty-script": b"  \n",
                "big-script": b"#" * (MAX_SCRIPT_BYTES + 1),
                "binary-script": b"\xff\xfe",
            }
            (directory / "script.sh").write_bytes(content[name])
        assert f"GRP/{name}/" in refused(root, problem)
    no_metadata = tmp_path / "nometa"
    (no_metadata / "GRP" / "x").mkdir(parents=True)
    refused(no_metadata, "GRP/x/metadata.yaml: is missing")
    refused(tmp_path / "absent", "is not a directory")
    bad_group = tmp_path / "badgroup"
    (bad_group / "-bad").mkdir(parents=True)
    refused(bad_group, "not a valid group name")


def test_the_list_is_filtered_by_groups(tmp_path: Path) -> None:
    root = catalog_with_tests(tmp_path / "c")
    catalog = load_catalog(root)
    names = [s.canonical_name for s in catalog.visible_to({"aro-sre"})]
    assert "CEE/restricted" not in names and "SREP/nodes-not-ready" in names and names == sorted(names)
    assert [s.canonical_name for s in catalog.visible_to({"CEE"})] == ["CEE/restricted", "SREP/failing-pods"]
    assert catalog.visible_to({"nobody"}) == []


# -- processes refuse an invalid catalog ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["rp", "frontend", "backend"])
def test_processes_refuse_to_start_on_an_invalid_catalog(rp_factory: Any, tmp_path: Path, command: str) -> None:
    root = catalog_with_tests(tmp_path / "catalog")
    write_script(
        root,
        "TEST/broken",
        textwrap.dedent(
            """
            file: script.sh
            name: broken
            description: Its rbac is wrong
            author: tester
            allowedGroups: [aro-sre]
            language: bash
            customerDataAccess: false
            rbac:
              clusterRoleRules:
                - {verbs: [get], apiGroups: [""], resources: [nodes], verb: [list]}
            """
        ),
        "script.sh",
        "echo broken",
    )
    env = {"ARO_BACKPLANE_SCRIPTS_DIRECTORY": str(root), "ARO_CLOUD_SIMULATOR_ENDPOINT": "https://localhost:1"}
    p = rp_factory(command, wait=False, env=env)
    assert p.proc.wait(60) == 2, p.log()
    log = p.log()
    assert f"backplane.scriptsDirectory: {root}/TEST/broken/metadata.yaml: rbac.clusterRoleRules[0].verb" in log, log
    assert "is not a known field" in log


# -- GET /backplane/script/{clusterId} --------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(start_rp: StartRP, tmp_path_factory: pytest.TempPathFactory) -> JobsRP:
    return start_jobs_rp(start_rp, tmp_path_factory.mktemp("scripts"))


@pytest.fixture(scope="module")
def sre(served: JobsRP) -> Iterator[Backplane]:
    with Backplane(served.rp, served.token) as b:
        yield b


def _names(scripts: list[dict[str, Any]]) -> list[str]:
    return [s["canonicalName"] for s in scripts]


def test_list_and_describe_follow_allowed_groups(served: JobsRP, sre: Backplane) -> None:
    r = sre.scripts(served.cluster_id)
    assert r.status_code == 200, r.text
    scripts = r.json()
    names = _names(scripts)
    assert "CEE/restricted" not in names  # the SRE is not in CEE
    assert {"SREP/nodes-not-ready", "SREP/failing-pods", "SREP/kubelet-version-skew", "TEST/sleeper"} <= set(names)
    for s in scripts:
        assert set(s) == SCRIPT_FIELDS, s
    failing = next(s for s in scripts if s["canonicalName"] == "SREP/failing-pods")
    assert failing["envs"] == [
        {"key": "NAMESPACE", "description": "The namespace whose pods are examined", "optional": False}
    ]
    assert failing["rbac"] == {
        "roles": [],
        "clusterRoleRules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
    }
    assert failing["language"] == "bash" and failing["customerDataAccess"] is False
    assert failing["allowedGroups"] == ["aro-sre", "SREP", "CEE"]

    one = sre.scripts(served.cluster_id, "SREP/failing-pods")
    assert one.status_code == 200 and one.json() == [failing], one.text
    for hidden in ("CEE/restricted", "SREP/nope", ""):
        r = sre.scripts(served.cluster_id, hidden)
        assert r.status_code == 404 and r.json() == {"statusCode": 404, "message": "Script Not Found"}, r.text

    # an SRE who is also in CEE sees the restricted script too
    with Backplane(served.rp, issue_token(served.rp, "cee-carol", ("aro-sre", "CEE"))) as cee:
        assert _names(cee.scripts(served.cluster_id).json()) == sorted([*names, "CEE/restricted"])
        assert cee.scripts(served.cluster_id, "CEE/restricted").status_code == 200


def test_unknown_clusters_and_callers_are_refused(served: JobsRP, sre: Backplane) -> None:
    r = sre.scripts("0" * 32)
    assert r.status_code == 404 and r.json()["statusCode"] == 404, r.text
    with Backplane(served.rp, issue_token(served.rp, "customer-cathy", ())) as customer:
        r = customer.scripts(served.cluster_id)
        assert r.status_code == 403 and "not allowed to use the backplane" in r.json()["message"], r.text
    with served.rp.client() as anonymous:
        r = anonymous.get(f"/backplane/script/{served.cluster_id}")
        assert r.status_code == 401, r.text
