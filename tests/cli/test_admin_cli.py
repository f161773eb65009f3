"""`aro admin`: addressing and values without an RP; every command's request against an in-process fake of
the admin API (through the typer app, a mock transport under the real client); then end to end against the
package's `aro rp` (classic maintenance, diagnostics, show, list; hosted pause/resume and etcd backups), and
against a production RP with client certificates."""

from __future__ import annotations

import gzip
import io
import json
import ssl
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

import aro.cli
from aro.cli.admin import Kind, paused_until, resolve_target
from aro.cli.client import ArmClient
from aro.cli.errors import UsageError
from aro.cli.settings import resolve
from aro.util import pki
from tests.cli.helpers import Cli, clean_environ
from tests.conftest import RPProcess, free_port

SUB = "11111111-2222-3333-4444-555555555555"
P = "Microsoft.RedHatOpenShift"
RG_IDS = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/{P}"
HCP_ID = f"{RG_IDS}/hcpOpenShiftClusters/h1"
POOL_ID = f"{HCP_ID}/nodePools/np1"
CLASSIC_ID = f"{RG_IDS}/openShiftClusters/c1"
OPS = f"https://rp.example/subscriptions/{SUB}/providers/{P}/locations/eastus"


# --- addressing and values -------------------------------------------------------------------------


def test_targets_from_names_and_ids() -> None:
    t = resolve_target(SUB, resource_group="rg1", name="h1")
    assert (t.id, t.kind, t.url) == (HCP_ID, "hcp", "/admin" + HCP_ID)
    t = resolve_target(SUB, resource_group="rg1", name="c1", kind=Kind.CLASSIC)
    assert (t.id, t.kind, t.describe()) == (CLASSIC_ID, "classic", "cluster 'c1'")
    for pool in (
        resolve_target(SUB, resource_group="rg1", name="h1", nodepool="np1"),
        resolve_target(SUB, resource_group="rg1", name="np1", cluster="h1"),
    ):
        assert (pool.id, pool.kind, pool.describe()) == (POOL_ID, "nodepool", "node pool 'np1' of 'h1'")
    assert resolve_target(SUB, resource_id=POOL_ID.lower()).kind == "nodepool"
    assert resolve_target(SUB, resource_id=CLASSIC_ID + "/").id == CLASSIC_ID
    assert resolve_target(SUB, resource_id=CLASSIC_ID, kind=Kind.CLASSIC).kind == "classic"


@pytest.mark.parametrize(
    ("addressing", "message"),
    [
        ({}, "name the resource"),
        ({"resource_group": "rg1"}, "name the resource"),
        ({"resource_id": HCP_ID, "name": "x"}, "not both"),
        ({"resource_id": "/subscriptions/x/resourceGroups/r"}, "invalid --id"),
        ({"resource_id": f"{CLASSIC_ID}/nodePools/np1"}, "no node pools"),
        ({"resource_id": CLASSIC_ID, "kind": Kind.HCP}, "does not match"),
        ({"resource_group": "rg1", "name": "a", "cluster": "b", "nodepool": "c"}, "not both"),
        ({"resource_group": "rg1", "name": "h1", "nodepool": "np1", "kind": Kind.CLASSIC}, "no node pools"),
    ],
)
def test_bad_addressing_is_a_usage_error(addressing: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_target(SUB, **addressing)


def test_paused_until() -> None:
    assert paused_until(None, False) == paused_until(None, True) == "true"
    assert paused_until("2030-01-02T15:04:05Z", False) == "2030-01-02T15:04:05Z"
    assert paused_until(" 2030-01-02T15:04:05.5+02:00", False) == "2030-01-02T15:04:05.5+02:00"
    for bad in ("2030-01-02", "2030-01-02T15:04:05", "2030-13-02T15:04:05Z", "tomorrow", "true"):
        with pytest.raises(UsageError, match="RFC 3339"):
            paused_until(bad, False)
    with pytest.raises(UsageError, match="exclude"):
        paused_until("2030-01-02T15:04:05Z", True)


def test_client_certificate_settings(tmp_path: Path) -> None:
    ca = pki.new_ca("test CA")
    pair = pki.issue(ca, "admin", server=False, client=True)
    (tmp_path / "aro").mkdir()
    (tmp_path / "aro" / "admin.crt").write_text(pair.cert_pem)
    (tmp_path / "aro" / "admin.key").write_text(pair.key_pem)
    (tmp_path / "both.pem").write_text(pair.cert_pem + pair.key_pem)
    (tmp_path / "aro" / "client.yaml").write_text("clientCertFile: admin.crt\nclientKeyFile: admin.key\n")
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    from_file = resolve({}, env=env, cwd=tmp_path)
    assert from_file.client_cert == tmp_path / "aro" / "admin.crt"  # relative to the config file
    assert from_file.client_key == tmp_path / "aro" / "admin.key"
    ArmClient(from_file).close()  # the chain loads
    from_env = resolve({}, env={"XDG_CONFIG_HOME": "/nonexistent", "AROCLI_CLIENT_CERT": "both.pem"}, cwd=tmp_path)
    assert (from_env.client_cert, from_env.client_key) == (tmp_path / "both.pem", None)
    ArmClient(from_env).close()
    none = {"XDG_CONFIG_HOME": "/nonexistent"}
    with pytest.raises(UsageError, match="without a client certificate"):
        resolve({"client_key": str(tmp_path / "aro" / "admin.key")}, env=none, cwd=tmp_path)
    with pytest.raises(UsageError, match=r"client certificate /nope.crt \(--client-cert\) does not exist"):
        resolve({"client_cert": "/nope.crt"}, env=none, cwd=tmp_path)
    with pytest.raises(UsageError, match="cannot load the client certificate"):
        ArmClient(resolve({"client_cert": str(tmp_path / "aro" / "admin.key")}, env=none, cwd=tmp_path))


# --- the commands against a fake admin API ---------------------------------------------------------


def _doc(resource_id: str, state: str = "Succeeded", op: str | None = None, **props: Any) -> dict[str, Any]:
    """A stored document as the admin API shows it: the resource under its kind's field."""
    if "/nodePools/" in resource_id:
        field_name, rtype = "nodePool", "hcpOpenShiftClusters/nodePools"
    elif "/hcpOpenShiftClusters/" in resource_id:
        field_name, rtype = "hcpOpenShiftCluster", "hcpOpenShiftClusters"
    else:
        field_name, rtype = "openShiftCluster", "openShiftClusters"
    return {
        "id": "doc-1",
        "key": resource_id.lower(),
        "asyncOperationId": op,
        "leaseOwner": None,
        field_name: {
            "id": resource_id,
            "name": resource_id.rsplit("/", 1)[-1],
            "type": f"{P}/{rtype}",
            "properties": {"provisioningState": state, **props},
        },
    }


def _archive() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b'{"id": "x"}'
        info = tarfile.TarInfo("diagnostics/resource.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class FakeAdmin:
    """The admin API's contract: PATCH and actions 202 + Location + Azure-AsyncOperation (InProgress once,
    then ``final``), documents, views, the paged list."""

    patch_status: int = 202
    final: dict[str, Any] = field(default_factory=lambda: {"status": "Succeeded"})
    fail: tuple[int, dict[str, Any]] | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    polls: int = 0
    backups: list[dict[str, Any]] = field(default_factory=list)

    def seen(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method]

    def body(self, method: str) -> Any:
        return json.loads(self.seen(method)[-1].content)

    def _started(self, name: str, doc: Any = None) -> httpx.Response:
        headers = {
            "Azure-AsyncOperation": f"{OPS}/hcpOperationStatuses/{name}?api-version=2026-10-01",
            "Location": f"{OPS}/hcpOperationResults/{name}?api-version=2026-10-01",
        }
        return httpx.Response(202, headers=headers, json=doc) if doc else httpx.Response(202, headers=headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, method = request.url.path, request.method
        if self.fail is not None:
            return httpx.Response(self.fail[0], json=self.fail[1])
        if "/hcpOperationStatuses/" in path:
            self.polls += 1
            return httpx.Response(200, json={"status": "InProgress"} if self.polls == 1 else self.final)
        if "/hcpOperationResults/backup1" in path:
            return httpx.Response(200, json=self.backups[-1])
        if "/hcpOperationResults/" in path:
            return httpx.Response(204)
        assert path.startswith("/admin"), path
        rid = path.removeprefix("/admin")
        if path.startswith("/admin/providers/"):
            page = request.url.params.get("page")
            if page is None:
                return httpx.Response(
                    200, json={"value": [_doc(HCP_ID)], "nextLink": f"https://rp.example{path}?page=2"}
                )
            return httpx.Response(200, json={"value": [_doc(POOL_ID)]})
        if method == "PATCH":
            props = json.loads(request.content)["properties"]
            doc = _doc(rid, "Updating", "op1", **props)
            return self._started("op1", doc) if self.patch_status == 202 else httpx.Response(200, json=doc)
        if method == "POST" and path.endswith("/etcdbackups"):
            taken = {"id": "backup1", "snapshotURL": "https://blob/backup1", "createdAt": "2030-01-01T00:00:00Z"}
            self.backups.append(taken)
            return self._started("backup1")
        if method == "POST" and path.endswith("/etcdrestore"):
            return self._started("restore1")
        if path.endswith("/etcdbackups"):
            return httpx.Response(200, json={"value": self.backups})
        if path.endswith("/diagnostics"):
            return httpx.Response(200, content=_archive(), headers={"Content-Type": "application/gzip"})
        if path.endswith("/controlplane/metrics"):
            return httpx.Response(200, text="apiserver_request_total 3\n", headers={"Content-Type": "text/plain"})
        running = self.polls == 1
        return httpx.Response(200, json=_doc(rid, "Updating" if running else "Succeeded", "op1" if running else None))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeAdmin]:
    rp = FakeAdmin()
    monkeypatch.setattr(aro.cli, "ArmClient", lambda settings: ArmClient(settings, transport=httpx.MockTransport(rp)))
    monkeypatch.chdir(tmp_path)
    yield rp


def admin(*args: str, input: str | None = None) -> Result:
    from aro_cmd.main import app

    env = {
        "AROCLI_ENDPOINT": "https://rp.example",
        "AROCLI_SUBSCRIPTION": SUB,
        "AROCLI_POLL_INTERVAL": "0",
        "AROCLI_CA_FILE": None,
        "AROCLI_CLIENT_CERT": None,
        "AROCLI_CLIENT_KEY": None,
        "AROCLI_CONFIG": None,
        "XDG_CONFIG_HOME": "/nonexistent",
        "FORCE_COLOR": None,
        "TTY_COMPATIBLE": None,
    }
    return CliRunner().invoke(app, ["admin", *args], env=env, input=input)


def _ok(r: Result) -> Result:
    assert r.exit_code == 0, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}\n{r.exception!r}"
    return r


@pytest.mark.parametrize(
    ("args", "path", "properties"),
    [
        (["pause", "-g", "rg1", "-n", "h1"], HCP_ID, {"pausedUntil": "true"}),
        (["pause", "-g", "rg1", "-n", "h1", "--forever"], HCP_ID, {"pausedUntil": "true"}),
        (
            ["pause", "-g", "rg1", "-n", "h1", "--nodepool", "np1", "--until", "2030-01-02T15:04:05Z"],
            POOL_ID,
            {"pausedUntil": "2030-01-02T15:04:05Z"},
        ),
        (["resume", "--id", POOL_ID], POOL_ID, {"pausedUntil": "false"}),
        (["resume", "-g", "rg1", "--cluster", "h1", "-n", "np1"], POOL_ID, {"pausedUntil": "false"}),
        (
            ["feature-set", "TechPreviewNoUpgrade", "-g", "rg1", "-n", "h1", "--yes"],
            HCP_ID,
            {"featureSet": "TechPreviewNoUpgrade"},
        ),
        (["desired-version", "4.20.3", "-g", "rg1", "-n", "h1"], HCP_ID, {"desiredVersion": "4.20.3"}),
        (
            ["maintenance", "CertificatesRenewal", "-g", "rg1", "-n", "c1"],
            CLASSIC_ID,
            {"maintenanceTask": "CertificatesRenewal"},
        ),
        (["maintenance", "Everything", "--id", CLASSIC_ID], CLASSIC_ID, {"maintenanceTask": "Everything"}),
    ],
)
def test_admin_updates_patch_and_wait(fake: FakeAdmin, args: list[str], path: str, properties: dict[str, Any]) -> None:
    r = _ok(admin(*args))
    (patch,) = fake.seen("PATCH")
    assert patch.url.path == "/admin" + path and "api-version" not in patch.url.params
    assert patch.headers["content-type"] == "application/json"
    assert json.loads(patch.content) == {"properties": properties}
    assert fake.polls == 2  # InProgress, then Succeeded
    lines = r.stderr.splitlines()
    assert ": operation: Accepted" in lines[0]
    assert any("operation: InProgress, provisioningState: Updating" in x for x in lines)  # the document's state
    assert any("operation: Succeeded" in x for x in lines)
    assert "ProvisioningState" in r.stdout and path.rsplit("/", 1)[-1] in r.stdout  # the document, as a table


def test_pause_applied_at_once_and_no_wait(fake: FakeAdmin) -> None:
    fake.patch_status = 200
    r = _ok(admin("pause", "-g", "rg1", "-n", "h1", "-o", "json"))
    assert "recorded at once" in r.stderr and fake.polls == 0
    assert json.loads(r.stdout)["hcpOpenShiftCluster"]["properties"]["pausedUntil"] == "true"
    fake.patch_status = 202
    r = _ok(admin("resume", "-g", "rg1", "-n", "h1", "--no-wait"))
    assert "not waiting" in r.stderr and fake.polls == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pause", "-g", "rg1", "-n", "c1", "--id", CLASSIC_ID], "not both"),
        (["pause", "--id", CLASSIC_ID], "applies to hosted clusters or node pools, not to cluster 'c1'"),
        (["maintenance", "OperatorUpdate", "--id", HCP_ID], "applies to clusters, not to hosted cluster 'h1'"),
        (["feature-set", "TechPreviewNoUpgrade", "--id", POOL_ID, "--yes"], "applies to hosted clusters"),
        (["desired-version", "4.20", "-g", "rg1", "-n", "h1"], "expected X.Y.Z"),
        (["pause", "-g", "rg1", "-n", "h1", "--until", "soon"], "RFC 3339"),
        (["feature-set", "TechPreviewNoUpgrade", "-g", "rg1", "-n", "h1"], "pass --yes"),
        (["restore", "--snapshot-url", "https://blob/x", "-g", "rg1", "-n", "h1"], "pass --yes"),
        (["backup", "--id", CLASSIC_ID], "applies to hosted clusters"),
        (["diagnostics", "--id", POOL_ID], "applies to hosted clusters or clusters"),
    ],
)
def test_usage_errors_send_nothing(fake: FakeAdmin, args: list[str], message: str) -> None:
    r = admin(*args)
    assert r.exit_code == 2, r.stderr
    assert message in r.stderr
    assert not fake.requests


def test_arm_errors_are_printed_like_the_other_commands(fake: FakeAdmin) -> None:
    fake.fail = (400, {"error": {"code": "InvalidRequestContent", "message": "bad", "target": "properties.x"}})
    r = admin("maintenance", "OperatorUpdate", "-g", "rg1", "-n", "c1")
    assert r.exit_code == 1
    assert "ERROR: (InvalidRequestContent) bad" in r.stderr and "target: properties.x" in r.stderr
    fake.fail = (403, {"error": {"code": "Forbidden", "message": "Forbidden."}})
    r = admin("list", "--type", "classic")
    assert r.exit_code == 1 and "(Forbidden)" in r.stderr and "--client-cert" in r.stderr


def test_a_failed_operation_prints_its_error(fake: FakeAdmin) -> None:
    fake.final = {"status": "Failed", "error": {"code": "MaintenanceFailed", "message": "no"}}
    r = admin("maintenance", "OperatorUpdate", "-g", "rg1", "-n", "c1")
    assert r.exit_code == 1 and "ERROR: (MaintenanceFailed) no" in r.stderr


def test_backup_backups_and_restore(fake: FakeAdmin) -> None:
    r = _ok(admin("backup", "-g", "rg1", "-n", "h1", "-o", "json"))
    (post,) = fake.seen("POST")
    assert post.url.path == f"/admin{HCP_ID}/etcdbackups" and not post.content
    assert json.loads(r.stdout) == fake.backups[-1]
    assert "Backing up the etcd of hosted cluster 'h1'" in r.stderr and "operation: Succeeded" in r.stderr
    assert fake.requests[-1].url.path.endswith("/hcpOperationResults/backup1")  # the result at Location

    r = _ok(admin("backups", "--id", HCP_ID))
    assert r.stdout.splitlines()[0].split() == ["Id", "CreatedAt", "SnapshotURL"]
    assert "backup1" in r.stdout and "https://blob/backup1" in r.stdout

    r = _ok(admin("backup", "-g", "rg1", "-n", "h1", "--no-wait", "-o", "json"))
    assert json.loads(r.stdout)["location"].endswith("hcpOperationResults/backup1?api-version=2026-10-01")

    fake.polls = 0
    r = _ok(admin("restore", "--snapshot-url", "https://blob/backup1", "-g", "rg1", "-n", "h1", "--yes"))
    restore = fake.seen("POST")[-1]
    assert restore.url.path == f"/admin{HCP_ID}/etcdrestore"
    assert json.loads(restore.content) == {"snapshotURL": "https://blob/backup1"}
    assert "etcd restored" in r.stderr


def test_a_backup_without_a_result_body_is_found_in_the_list(fake: FakeAdmin) -> None:
    fake.backups.append({"id": "old", "snapshotURL": "https://blob/old", "createdAt": "2029-01-01T00:00:00Z"})

    def started(name: str, doc: Any = None) -> httpx.Response:
        fake.backups.append({"id": "b2", "snapshotUrl": "https://blob/b2", "createdAt": "2030-01-01T00:00:00Z"})
        headers = {
            "Azure-AsyncOperation": f"{OPS}/hcpOperationStatuses/b2",
            "Location": f"{OPS}/hcpOperationResults/b2",
        }
        return httpx.Response(202, headers=headers)

    fake._started = started  # type: ignore[method-assign]
    r = _ok(admin("backup", "-g", "rg1", "-n", "h1"))
    assert "b2" in r.stdout and "https://blob/b2" in r.stdout  # from GET etcdbackups (snapshotUrl spelling too)


def test_diagnostics_file(fake: FakeAdmin, tmp_path: Path) -> None:
    r = _ok(admin("diagnostics", "-g", "rg1", "-n", "c1", "--type", "classic"))
    path = tmp_path / "c1-diagnostics.tar.gz"
    assert fake.requests[-1].url.path == f"/admin{CLASSIC_ID}/diagnostics"
    assert "application/gzip" in fake.requests[-1].headers["accept"]
    assert path.stat().st_mode & 0o777 == 0o600 and "wrote c1-diagnostics.tar.gz" in r.stderr
    with tarfile.open(path) as tar:
        assert tar.getnames() == ["diagnostics/resource.json"]
    sent = len(fake.requests)
    again = admin("diagnostics", "-g", "rg1", "-n", "c1", "--type", "classic")
    assert again.exit_code == 1 and "already exists" in again.stderr and len(fake.requests) == sent  # nothing asked
    path.chmod(0o644)
    _ok(admin("diagnostics", "--id", CLASSIC_ID, "--force"))
    assert path.stat().st_mode & 0o777 == 0o600
    _ok(admin("diagnostics", "--id", HCP_ID, "-f", "h1.tgz"))
    assert gzip.decompress((tmp_path / "h1.tgz").read_bytes())


def test_diagnostics_that_are_not_gzip_are_refused(fake: FakeAdmin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakeAdmin, "__call__", lambda self, request: httpx.Response(200, json={"not": "gzip"}))
    r = admin("diagnostics", "--id", HCP_ID)
    assert r.exit_code == 1 and "not a gzip archive" in r.stderr


def test_metrics_show_and_list(fake: FakeAdmin) -> None:
    r = _ok(admin("metrics", "-g", "rg1", "-n", "h1"))
    assert r.stdout == "apiserver_request_total 3\n"
    assert fake.requests[-1].url.path == f"/admin{HCP_ID}/controlplane/metrics"

    r = _ok(admin("show", "-g", "rg1", "-n", "h1", "--nodepool", "np1"))
    assert json.loads(r.stdout)["key"] == POOL_ID.lower()
    assert fake.requests[-1].url.path == f"/admin{POOL_ID}" and "api-version" not in fake.requests[-1].url.params

    r = _ok(admin("list", "--type", "nodepool"))
    first, second = fake.requests[-2:]
    assert first.url.path == f"/admin/providers/{P}/hcpOpenShiftClusters/nodePools"
    assert second.url.params["page"] == "2"  # the nextLink
    rows = r.stdout.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["h1", "h1/np1"]
    r = _ok(admin("list", "--type", "classic", "-o", "json"))
    assert len(json.loads(r.stdout)) == 2
    assert fake.requests[-2].url.path == f"/admin/providers/{P}/openShiftClusters"


def test_a_refused_operation_status_is_followed_through_the_document(
    fake: FakeAdmin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A production RP refuses the (public) operation URLs to the admin certificate: the client follows the
    stored document's asyncOperationId and provisioningState instead."""
    docs = iter([_doc(CLASSIC_ID, "AdminUpdating", "op1"), _doc(CLASSIC_ID, "Succeeded", None)])
    real = FakeAdmin.__call__

    def handler(self: FakeAdmin, request: httpx.Request) -> httpx.Response:
        if "/hcpOperationStatuses/" in request.url.path:
            self.requests.append(request)
            return httpx.Response(403, json={"error": {"code": "Forbidden", "message": "Forbidden."}})
        if request.method == "GET" and request.url.path == f"/admin{CLASSIC_ID}":
            self.requests.append(request)
            return httpx.Response(200, json=next(docs, _doc(CLASSIC_ID)))
        return real(self, request)

    monkeypatch.setattr(FakeAdmin, "__call__", handler)
    r = _ok(admin("maintenance", "OperatorUpdate", "-g", "rg1", "-n", "c1"))
    assert "following the stored document" in r.stderr
    assert "provisioningState: AdminUpdating" in r.stderr and "operation: Succeeded" in r.stderr


# --- end to end ------------------------------------------------------------------------------------


def _aro(cli: Cli, *args: str, cwd: Path, **env: str | None) -> subprocess.CompletedProcess[str]:
    """`aro ARGS` through the real entry point, stdin not a terminal."""
    full = clean_environ()
    for k, v in cli.env(**env).items():
        if v is None:
            full.pop(k, None)
        else:
            full[k] = v
    return subprocess.run(
        [sys.executable, "-m", "aro_cmd.main", *args],
        cwd=cwd,
        env=full,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _run(cli: Cli, *args: str, **env: str | None) -> Ran:
    """`aro ARGS` in-process (typer's CliRunner; the process's working directory)."""
    from aro_cmd.main import app

    r = CliRunner().invoke(app, list(args), env=cli.env(**env))
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return Ran(r.exit_code, r.stdout, r.stderr)


def _done(r: subprocess.CompletedProcess[str] | Ran) -> subprocess.CompletedProcess[str] | Ran:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "Traceback" not in r.stderr
    return r


def test_end_to_end_classic_cluster(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rg, name = "admrg", "adm1"
    cluster = ["-g", rg, "-n", name]
    _done(_run(cli, "cluster", "create", name, "-g", rg, "-o", "json"))
    rid = cli.path(rg, name)

    before = json.loads(_done(_run(cli, "admin", "show", *cluster, "--type", "classic")).stdout)
    assert before["key"] == rid.lower() and before["openShiftCluster"]["id"] == rid
    assert "pullSecret" not in json.dumps(before)  # the document without secrets

    renewed = _done(_aro(cli, "admin", "maintenance", "CertificatesRenewal", *cluster, cwd=tmp_path))
    assert f"Maintenance CertificatesRenewal of cluster {name!r}: operation: Accepted" in renewed.stderr
    assert "provisioningState: AdminUpdating" in renewed.stderr and "operation: Succeeded" in renewed.stderr
    assert name in renewed.stdout and "Succeeded" in renewed.stdout
    after = json.loads(_done(_run(cli, "admin", "show", "--id", rid)).stdout)
    pki_before = before["openShiftCluster"]["properties"]["clusterPki"]
    pki_after = after["openShiftCluster"]["properties"]["clusterPki"]
    assert pki_after["adminClientCert"] != pki_before["adminClientCert"]  # re-issued
    assert pki_after["caCert"] == pki_before["caCert"]
    assert after["openShiftCluster"]["properties"]["install"]["request"] == "AdminUpdate"

    diag = _done(_run(cli, "admin", "diagnostics", *cluster, "--type", "classic"))
    archive = tmp_path / f"{name}-diagnostics.tar.gz"
    assert archive.stat().st_mode & 0o777 == 0o600 and "wrote" in diag.stderr
    with tarfile.open(archive) as tar:
        assert "diagnostics/resource.json" in tar.getnames()
        member = tar.extractfile("diagnostics/resource.json")
        assert member is not None and rid.lower() in member.read().decode().lower()
    again = _run(cli, "admin", "diagnostics", *cluster, "--type", "classic")
    assert again.returncode == 1 and "already exists" in again.stderr

    listed = json.loads(_done(_run(cli, "admin", "list", "--type", "classic", "-o", "json")).stdout)
    assert rid.lower() in [d["key"] for d in listed]
    table = _done(_run(cli, "admin", "list", "--type", "classic")).stdout
    assert any(line.split()[:2] == [name, "openShiftClusters"] for line in table.splitlines())

    refused = _run(cli, "admin", "maintenance", "Bogus", *cluster)
    assert refused.returncode == 2


def test_end_to_end_hosted_cluster(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rg, name = "admhcp", "admh1"
    cluster = ["-g", rg, "-n", name]
    _done(_run(cli, "hcp", "cluster", "create", *cluster, "--version", "4.20"))
    _done(_run(cli, "hcp", "nodepool", "create", "--cluster", name, "-g", rg, "-n", "np1", "--replicas", "1"))
    doc = json.loads(_done(_run(cli, "admin", "show", *cluster)).stdout)
    assert doc["hcpOpenShiftCluster"]["properties"]["provisioningState"] == "Succeeded"
    listed = _done(_run(cli, "admin", "list", "-o", "json")).stdout
    assert doc["key"] in [d["key"] for d in json.loads(listed)]

    def paused(*args: str) -> Any:
        return json.loads(_done(_run(cli, "admin", *args, "-o", "json")).stdout)

    assert paused("pause", *cluster, "--forever")["hcpOpenShiftCluster"]["properties"]["pausedUntil"] == "true"
    assert paused("resume", *cluster)["hcpOpenShiftCluster"]["properties"]["pausedUntil"] in ("false", "")
    until = "2099-01-02T15:04:05Z"
    pool = paused("pause", *cluster, "--nodepool", "np1", "--until", until)
    assert pool["nodePool"]["properties"]["pausedUntil"] == until
    pools = json.loads(_done(_run(cli, "admin", "list", "--type", "nodepool", "-o", "json")).stdout)
    assert pool["key"] in [d["key"] for d in pools]
    resumed = paused("resume", "-g", rg, "--cluster", name, "-n", "np1")
    assert resumed["nodePool"]["properties"]["pausedUntil"] in ("false", "")

    backup = _done(_run(cli, "admin", "backup", *cluster, "-o", "json"))
    assert f"Backing up the etcd of hosted cluster {name!r}" in backup.stderr
    taken = json.loads(backup.stdout)
    assert taken["id"] and taken["createdAt"] and (taken.get("snapshotURL") or taken.get("snapshotUrl"))
    backups = json.loads(_done(_run(cli, "admin", "backups", *cluster, "-o", "json")).stdout)
    assert taken["id"] in [b["id"] for b in backups]


# --- production: client certificates --------------------------------------------------------------


@dataclass
class Prod:
    rp: RPProcess
    certs: Path

    def env(self, who: str) -> dict[str, str]:
        return {
            "AROCLI_CLIENT_CERT": str(self.certs / f"{who}.crt"),
            "AROCLI_CLIENT_KEY": str(self.certs / f"{who}.key"),
            "AROCLI_CA_FILE": str(self.certs / "ca.crt"),
            "AROCLI_ENDPOINT": self.rp.base_url,
        }


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prod]:
    d = tmp_path_factory.mktemp("prod-certs")
    ca = pki.new_ca("test RP CA")
    (d / "ca.crt").write_text(ca.cert_pem)
    pairs = {"server": pki.issue(ca, "localhost", dns_names=("localhost",), ip_addresses=("127.0.0.1",))}
    pairs |= {cn: pki.issue(ca, cn, server=False, client=True) for cn in ("arm", "admin")}
    for n, pair in pairs.items():
        (d / f"{n}.crt").write_text(pair.cert_pem)
        (d / f"{n}.key").write_text(pair.key_pem)
    env = {
        "ARO_MODE": "production",
        "ARO_FRONTEND_TLS_CERT_FILE": str(d / "server.crt"),
        "ARO_FRONTEND_TLS_KEY_FILE": str(d / "server.key"),
        "ARO_FRONTEND_TLS_CA_FILE": str(d / "ca.crt"),
        "ARO_FRONTEND_AUTH_ARM_CLIENT_SUBJECT": "arm",
        "ARO_FRONTEND_AUTH_ADMIN_CLIENT_SUBJECT": "admin",
        "ARO_CLOUD_SIMULATOR_HOSTED_IN_PRODUCTION": "true",
    }
    rp = RPProcess(tmp_path_factory.mktemp("prod") / "data", free_port(), env=env)
    rp.start(wait=False)
    try:
        ctx = ssl.create_default_context(cafile=str(d / "ca.crt"))
        import time

        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(rp.base_url + "/healthz/ready", verify=ctx, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert rp.proc is not None and rp.proc.poll() is None, rp.log()
            assert time.monotonic() < deadline, rp.log()
            time.sleep(0.05)
        yield Prod(rp, d)
    finally:
        rp.stop()


def test_production_admin_certificate(prod: Prod, cli: Cli, tmp_path: Path) -> None:
    """The admin API with the admin certificate, refused (with a hint) to the ARM one; a maintenance task
    waits although the RP refuses the operation's status to the admin certificate."""
    sub = cli.subscription
    arm = prod.env("arm")
    ctx = ssl.create_default_context(cafile=arm["AROCLI_CA_FILE"])
    ctx.load_cert_chain(arm["AROCLI_CLIENT_CERT"], arm["AROCLI_CLIENT_KEY"])
    with httpx.Client(base_url=prod.rp.base_url, verify=ctx, timeout=30) as c:
        body = {"state": "Registered", "properties": {"tenantId": "11111111-1111-1111-1111-111111111111"}}
        assert c.put(f"/subscriptions/{sub}", params={"api-version": "2.0"}, json=body).status_code in (200, 201)
    _done(_run(cli, "cluster", "create", "p1", "-g", "prodrg", **arm))

    refused = _run(cli, "admin", "list", "--type", "classic", **arm)
    assert refused.returncode == 1 and "(Forbidden)" in refused.stderr and "--client-cert" in refused.stderr

    admin_env = prod.env("admin")
    listed = _done(_run(cli, "admin", "list", "--type", "classic", "-o", "json", **admin_env))
    assert cli.path("prodrg", "p1").lower() in [d["key"] for d in json.loads(listed.stdout)]
    done = _done(
        _aro(cli, "admin", "maintenance", "OperatorUpdate", "-g", "prodrg", "-n", "p1", cwd=tmp_path, **admin_env)
    )
    assert "operation: Succeeded" in done.stderr and "Succeeded" in done.stdout
