"""aro backplane's library without a server: cluster resolution over a list of subscriptions (its search texts
parsed by the ledger's own parser and evaluated here), the backplane config's precedence, `aro token`'s refresh
(mock transport), the ExecCredential, managed-job parameters and polling."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from aro.cli.backplane import BackplaneError, check_parameters, env_true, parse_parameters, wait_for
from aro.cli.backplanecluster import Cluster, exact_search, find_by_id, find_cluster, name_search, quote
from aro.cli.backplaneconfig import load as load_backplane_config
from aro.cli.errors import CliError, UsageError
from aro.cli.ocmconfig import OcmConfig
from aro.cli.ocmconfig import load as load_ocm
from aro.cli.ocmtoken import Token, exec_credential, get_token
from aro.cli.output import Printer
from aro.database.query import And, Compare, Expr, In, IsNull, Like, Not, Or, like_match_regex
from aro.ledger.fields import SUBSCRIPTION_FIELDS
from aro.ledger.search import parse_search

# --- the ledger's search, evaluated over a list (the store's semantics: a null operand is never a match) -----


def _value(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        doc = doc.get(part) if isinstance(doc, dict) else None  # type: ignore[assignment]
    return doc


def evaluate(expr: Expr, doc: dict[str, Any]) -> bool | None:
    """Three-valued: None is SQL's unknown (a null or mistyped operand)."""
    if isinstance(expr, Compare):
        v = _value(doc, expr.path)
        if v is None or type(v) is not type(expr.value):
            return None
        return {
            "=": v == expr.value,
            "!=": v != expr.value,
            "<": v < expr.value,
            "<=": v <= expr.value,
            ">": v > expr.value,
            ">=": v >= expr.value,
        }[expr.op]
    if isinstance(expr, Like):
        v = _value(doc, expr.path)
        if not isinstance(v, str):
            return None
        flags = re.S | (re.I if expr.case_insensitive else 0)
        return re.fullmatch(like_match_regex(expr.pattern), v, flags) is not None
    if isinstance(expr, In):
        v = _value(doc, expr.path)
        return None if v is None else v in expr.values
    if isinstance(expr, IsNull):
        return _value(doc, expr.path) is None
    if isinstance(expr, Not):
        inner = evaluate(expr.item, doc)
        return None if inner is None else not inner
    results = [evaluate(i, doc) for i in expr.items]
    if isinstance(expr, And):
        return False if False in results else (None if None in results else True)
    assert isinstance(expr, Or)
    return True if True in results else (None if None in results else False)


class Subscriptions:
    """A ledger of subscriptions answering ``search`` as the RP does (the real parser; 400 on a bad text)."""

    def __init__(self, subs: list[dict[str, Any]]) -> None:
        self.subs = subs
        self.searches: list[str] = []

    def search(self, text: str, size: int) -> tuple[list[dict[str, Any]], int]:
        self.searches.append(text)
        expr = parse_search(text, SUBSCRIPTION_FIELDS)  # raises on what the RP would refuse
        found = [s for s in self.subs if expr is None or evaluate(expr, {"subscription": s}) is True]
        return found[:size], len(found)


def sub(
    cluster_id: str | None, name: str, external: str | None = None, status: str = "Active", **kw: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f"sub{cluster_id or name}"[:32],
        "kind": "Subscription",
        "display_name": name,
        "status": status,
        "region_id": "eastus",
        **kw,
    }
    if cluster_id is not None:
        out["cluster_id"] = cluster_id
    if external is not None:
        out["external_cluster_id"] = external
    return out


A = "a" * 32
B = "b" * 32
C = "c" * 32
EXT_A = "5f1b4b2e-1111-4a8e-9a5b-2f0c9e4b8a11"
LEDGER = [
    sub(A, "demo", EXT_A, console_url="https://console.demo.example"),
    sub(B, "demo-two", "5f1b4b2e-2222-4a8e-9a5b-2f0c9e4b8a11"),
    sub(C, "prod-east"),
    sub("d" * 32, "twin"),
    sub("e" * 32, "twin"),
    sub("f" * 32, "old-prod", status="Archived"),
    sub("g" * 32, "gone-prod", status="Deprovisioned"),
    sub(None, "telemetry-only", "5f1b4b2e-3333-4a8e-9a5b-2f0c9e4b8a11"),
    sub("h" * 32, "o'brien"),
    sub("i" * 32, B),  # a cluster named like another's id
]


@pytest.mark.parametrize(
    ("key", "want"),
    [
        (A, A),  # cluster id
        (EXT_A, A),  # external id
        ("demo", A),  # exact name, although "demo-two" is like it
        ("prod-east", C),
        ("east", C),  # a part of a name
        ("%east", C),  # a pattern of one's own
        ("o'brien", "h" * 32),  # quotes doubled
        ("brien", "h" * 32),
        (B, B),  # the id wins over a name
        ("  demo  ", A),
    ],
)
def test_find_cluster(key: str, want: str) -> None:
    ledger = Subscriptions(LEDGER)
    assert find_cluster(key, ledger.search).id == want


def test_find_cluster_refuses_several_listing_them() -> None:
    ledger = Subscriptions(LEDGER)
    with pytest.raises(CliError) as e:
        find_cluster("twin", ledger.search)
    assert "2 clusters are named 'twin'" in e.value.message
    assert e.value.hint is not None
    lines = e.value.hint.splitlines()
    assert lines[0].split() == ["ID", "NAME", "EXTERNAL", "ID", "STATUS"]
    assert {ln.split()[0] for ln in lines[1:]} == {"d" * 32, "e" * 32}

    with pytest.raises(CliError) as e:
        find_cluster("dem", ledger.search)
    assert "2 clusters have a name like 'dem'" in e.value.message
    assert e.value.hint is not None and A in e.value.hint and B in e.value.hint and EXT_A in e.value.hint


def test_find_cluster_ignores_archived_deprovisioned_and_clusterless() -> None:
    ledger = Subscriptions(LEDGER)
    assert find_cluster("prod", ledger.search).id == C
    for key in ("old-prod", "f" * 32, "gone-prod", "telemetry-only", "5f1b4b2e-3333-4a8e-9a5b-2f0c9e4b8a11", "nothing"):
        with pytest.raises(CliError, match="no cluster has the id, external id or name"):
            find_cluster(key, ledger.search)
    with pytest.raises(UsageError):
        find_cluster("  ", ledger.search)
    with pytest.raises(UsageError):
        find_cluster("a\nb", ledger.search)


def test_search_texts_quote_what_they_are_given() -> None:
    assert quote("o'brien") == "'o''brien'"
    hostile = "x' or status = 'Active"
    for text in (exact_search(hostile), name_search(hostile)):
        parse_search(text, SUBSCRIPTION_FIELDS)  # one string literal, not an injected predicate
    ledger = Subscriptions(LEDGER)
    with pytest.raises(CliError, match="no cluster"):
        find_cluster(hostile, ledger.search)
    assert ledger.searches[0] == (
        "(cluster_id = 'x'' or status = ''Active' or external_cluster_id = 'x'' or status = ''Active' or "
        "display_name = 'x'' or status = ''Active') and status not in ('Archived', 'Deprovisioned')"
    )


def test_find_by_id_and_cluster_fields() -> None:
    ledger = Subscriptions(LEDGER)
    found = find_by_id(A, ledger.search)
    assert found == Cluster(A, "demo", EXT_A, "Active", "https://console.demo.example", "eastus", f"sub{A}"[:32])
    assert find_by_id("f" * 32, ledger.search).status == "Archived"  # what the kubeconfig names, whatever it is
    with pytest.raises(CliError, match="no cluster with the id"):
        find_by_id("z" * 32, ledger.search)


# --- the backplane config ---------------------------------------------------------------------------------------


def _ocm(tmp_path: Path, **data: Any) -> OcmConfig:
    path = tmp_path / "ocm.json"
    path.write_text(json.dumps(data))
    config = load_ocm({"OCM_CONFIG": str(path)})
    assert config is not None
    return config


def test_backplane_config_precedence(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("x")
    ocm = _ocm(tmp_path, url="https://localhost:8443", ca_file=str(ca))
    home = tmp_path / "home"
    env = {"HOME": str(home)}

    # nothing but the OCM config: its url and CA
    c = load_backplane_config(env, ocm)
    assert (c.url, c.ca_file, c.proxy_url) == ("https://localhost:8443", ca.resolve(), None)
    assert c.path == home / ".config" / "backplane" / "config.json"

    # the file (backplane-cli's keys read past; proxy-url as a list: the first)
    file = home / ".config" / "backplane" / "config.json"
    file.parent.mkdir(parents=True)
    (file.parent / "bp-ca.crt").write_text("y")
    file.write_text(
        json.dumps(
            {
                "url": "https://backplane.example/",
                "proxy-url": ["http://proxy1:3128", "http://proxy2:3128"],
                "ca-file": "bp-ca.crt",
                "pd-key": "secret",
                "jira-token": "t",
            }
        )
    )
    c = load_backplane_config(env, ocm)
    assert (c.url, c.proxy_url) == ("https://backplane.example", "http://proxy1:3128")
    assert c.ca_file == (file.parent / "bp-ca.crt").resolve()  # relative to the file

    # BACKPLANE_URL over the file; --url over both; --proxy over the file's
    c = load_backplane_config({**env, "BACKPLANE_URL": "https://env.example"}, ocm)
    assert c.url == "https://env.example" and c.url_source == "BACKPLANE_URL"
    c = load_backplane_config(
        {**env, "BACKPLANE_URL": "https://env.example"}, ocm, "https://flag.example", "http://p:1"
    )
    assert (c.url, c.url_source, c.proxy_url) == ("https://flag.example", "--url", "http://p:1")

    # BACKPLANE_CONFIG names another file; without ca-file the OCM CA applies only to the OCM config's RP
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"url": "https://elsewhere.example"}))
    c = load_backplane_config({**env, "BACKPLANE_CONFIG": str(other)}, ocm)
    assert (c.url, c.ca_file, c.path) == ("https://elsewhere.example", None, other)
    c = load_backplane_config({**env, "BACKPLANE_CONFIG": str(other), "BACKPLANE_URL": "https://localhost:8443/"}, ocm)
    assert c.ca_file == ca.resolve()


@pytest.mark.parametrize(
    ("content", "env", "message"),
    [
        ("{nope", {}, "is not valid JSON"),
        ("[]", {}, "is not a JSON object"),
        ('{"url": 5}', {}, "'url' must be a string"),
        ('{"ca-file": "/no/such/ca.crt"}', {}, "/no/such/ca.crt"),
        ('{"proxy-url": "ftp://x"}', {}, "invalid proxy URL"),
        ("{}", {"BACKPLANE_URL": "ftp://x"}, "invalid backplane URL"),
        ("{}", {"BACKPLANE_URL": "http://backplane.example"}, "refusing to send the access token in clear text"),
    ],
)
def test_backplane_config_errors(tmp_path: Path, content: str, env: dict[str, str], message: str) -> None:
    file = tmp_path / "bp.json"
    file.write_text(content)
    ocm = _ocm(tmp_path, url="https://localhost:8443")
    with pytest.raises(UsageError, match=re.escape(message)):
        load_backplane_config({"BACKPLANE_CONFIG": str(file), **env}, ocm)


def test_backplane_config_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no backplane URL: run 'aro login'"):
        load_backplane_config({"HOME": str(tmp_path)}, None)
    c = load_backplane_config({"HOME": str(tmp_path), "BACKPLANE_URL": "http://127.0.0.1:9"}, None)
    assert c.url == "http://127.0.0.1:9" and c.ca_file is None  # plain http on loopback only


def test_env_true() -> None:
    assert env_true({}, "X") is False
    assert env_true({"X": "true"}, "X") and env_true({"X": "1"}, "X") and env_true({"X": "TRUE"}, "X")
    assert not env_true({"X": "false"}, "X")
    with pytest.raises(UsageError, match="unable to parse a boolean"):
        env_true({"X": "yes please"}, "X")


# --- aro token: refresh and the ExecCredential -----------------------------------------------------------------

KEY = "k" * 32


def dev_token(user: str, groups: list[str], exp: float) -> str:
    claims = {"iss": "aro-development", "sub": user, "org_id": "org1", "groups": groups, "exp": int(exp)}
    return jwt.encode(claims, KEY, algorithm="HS256")


def _config(tmp_path: Path, **data: Any) -> dict[str, str]:
    path = tmp_path / "ocm.json"
    base = {
        "url": "https://localhost:8443",
        "token_url": "https://localhost:8443/api/auth/token",
        "client_id": "aro-cli",
        "user": "sre",
        "organization": {"id": "org1", "external_id": "t"},
    }
    path.write_text(json.dumps({**base, **data}))
    return {"OCM_CONFIG": str(path), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def test_a_valid_token_is_returned_as_it_is(tmp_path: Path) -> None:
    now = time.time()
    token = dev_token("sre", ["aro-sre"], now + 3600)
    env = _config(tmp_path, access_token=token, expires_at=int(now + 3600))

    def fail(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    got = get_token(env, transport=httpx.MockTransport(fail))
    assert got == Token(token, float(int(now + 3600)), refreshed=False)


def test_an_expired_development_token_is_refreshed_and_saved(tmp_path: Path) -> None:
    now = time.time()
    old = dev_token("sre", ["aro-sre", "ops"], now - 10)
    env = _config(tmp_path, access_token=old, expires_at=int(now - 10), ca_file=None, pager="less")
    sent: list[Any] = []

    def issue(request: httpx.Request) -> httpx.Response:
        sent.append((request.url, json.loads(request.content)))
        return httpx.Response(200, json={"access_token": "new-token", "expires_at": int(now + 7200)})

    got = get_token(env, transport=httpx.MockTransport(issue))
    assert got.access_token == "new-token" and got.refreshed and got.expires_at == int(now + 7200)
    assert sent == [
        (
            httpx.URL("https://localhost:8443/api/auth/token"),
            {"username": "sre", "organization": "org1", "groups": ["aro-sre", "ops"]},
        )
    ]
    saved = json.loads(Path(env["OCM_CONFIG"]).read_text())
    assert saved["access_token"] == "new-token" and saved["expires_at"] == int(now + 7200)
    assert saved["pager"] == "less" and saved["user"] == "sre"  # the rest kept
    assert oct(Path(env["OCM_CONFIG"]).stat().st_mode & 0o777) == "0o600"


def test_a_token_about_to_expire_is_refreshed_but_kept_when_that_fails(tmp_path: Path) -> None:
    now = time.time()
    token = "opaque-not-a-jwt"
    env = _config(tmp_path, access_token=token, expires_at=int(now + 20))
    got = get_token(env)  # not refreshable (no refresh_token, not a development token): still good for 20s
    assert got.access_token == token and not got.refreshed
    with pytest.raises(UsageError, match="cannot refresh the token of sre: .*run 'aro login'"):
        get_token(env, force_refresh=True)


def test_an_expired_token_that_cannot_be_refreshed_is_not_logged_in(tmp_path: Path) -> None:
    now = time.time()
    env = _config(tmp_path, access_token="opaque", expires_at=int(now - 5))
    with pytest.raises(UsageError) as e:
        get_token(env)
    assert e.value.message.startswith("not logged in: the token of sre expired at ")
    assert e.value.message.endswith("run 'aro login'")
    env = _config(tmp_path)
    with pytest.raises(UsageError, match="not logged in: run 'aro login'"):
        get_token(env)


def test_a_refresh_token_is_the_oauth_refresh_grant(tmp_path: Path) -> None:
    now = time.time()
    env = _config(
        tmp_path,
        access_token="old",
        expires_at=int(now - 5),
        refresh_token="r1",
        token_url="https://sso.example/token",
    )
    sent: list[bytes] = []

    def grant(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"access_token": "a2", "expires_in": 300, "refresh_token": "r2"})

    got = get_token(env, transport=httpx.MockTransport(grant))
    assert got.access_token == "a2" and got.expires_at is not None and now + 290 < got.expires_at <= now + 301
    assert sent == [b"grant_type=refresh_token&client_id=aro-cli&refresh_token=r1"]
    saved = json.loads(Path(env["OCM_CONFIG"]).read_text())
    assert (saved["access_token"], saved["refresh_token"]) == ("a2", "r2")


def test_a_refused_refresh_says_so(tmp_path: Path) -> None:
    now = time.time()
    env = _config(tmp_path, access_token=dev_token("sre", [], now - 5), expires_at=int(now - 5))

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"kind": "Error", "reason": "Tokens are issued here only in development"})

    with pytest.raises(CliError, match="refreshing the token failed: .* 404 Not Found: Tokens are issued"):
        get_token(env, transport=httpx.MockTransport(refuse))


def test_exec_credential_shape() -> None:
    cred = exec_credential(Token("tok", 1767225600.5), {})
    assert cred == {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": "tok", "expirationTimestamp": "2026-01-01T00:00:00Z"},
    }
    info = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "spec": {}})
    cred = exec_credential(Token("tok", None), {"KUBERNETES_EXEC_INFO": info})
    assert cred == {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": "tok"},
    }
    assert exec_credential(Token("t", None), {"KUBERNETES_EXEC_INFO": "{bad"})["apiVersion"].endswith("/v1")


# --- managed jobs ---------------------------------------------------------------------------------------------


def test_parse_parameters() -> None:
    assert parse_parameters(["A=1", " B = two words ", "C=", "A=3", "D=x=y"]) == {
        "A": "3",
        "B": "two words",
        "C": "",
        "D": "x=y",
    }
    with pytest.raises(UsageError, match="missing '='"):
        parse_parameters(["A"])
    with pytest.raises(UsageError, match="key cannot be empty"):
        parse_parameters(["=1"])
    with pytest.raises(UsageError, match="invalid parameter name"):
        parse_parameters(["a-b=1"])


SCRIPT = {
    "canonicalName": "etcd/health",
    "envs": [
        {"key": "NAMESPACE", "description": "where", "optional": False},
        {"key": "VERBOSE", "description": "more", "optional": True},
    ],
}


def test_check_parameters() -> None:
    check_parameters(SCRIPT, {"NAMESPACE": "x"})
    check_parameters(SCRIPT, {"NAMESPACE": "x", "VERBOSE": "1"})
    with pytest.raises(UsageError, match="missing required parameter: NAMESPACE"):
        check_parameters(SCRIPT, {"VERBOSE": "1"})
    with pytest.raises(UsageError, match="invalid parameter: OTHER"):
        check_parameters(SCRIPT, {"NAMESPACE": "x", "OTHER": "1"})
    check_parameters({"canonicalName": "a/b"}, {})
    with pytest.raises(UsageError, match="script a/b doesn't accept a parameter"):
        check_parameters({"canonicalName": "a/b", "envs": []}, {"X": "1"})


class _Jobs:
    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.calls = 0

    def job(self, cluster_id: str, job_id: str) -> dict[str, Any]:
        status = self.statuses[min(self.calls, len(self.statuses) - 1)]
        self.calls += 1
        return {"jobId": job_id, "jobStatus": {"status": status}}


def test_wait_for_polls_until_done_and_is_bounded(tmp_path: Path) -> None:
    import io

    clock = [0.0]

    def sleep(s: float) -> None:
        clock[0] += s

    printer = Printer(io.StringIO(), io.StringIO())
    api: Any = _Jobs(["Pending", "Running", "Running", "Succeeded"])
    job = wait_for(api, "c", "j", lambda s: s == "Succeeded", 60, 5, printer, sleep, lambda: clock[0])
    assert job["jobStatus"]["status"] == "Succeeded" and api.calls == 4 and clock[0] == 15
    assert printer.err.getvalue().split() == "job j: Pending job j: Running job j: Succeeded".split()  # type: ignore[attr-defined]

    clock[0] = 0
    api = _Jobs(["Running"])
    with pytest.raises(CliError, match="timed out after 12s waiting for job j \\(it is Running\\)"):
        wait_for(api, "c", "j", lambda s: s == "Succeeded", 12, 5, printer, sleep, lambda: clock[0])
    assert clock[0] == 12


def test_backplane_errors_carry_the_servers_message() -> None:
    e = BackplaneError.from_response(httpx.Response(400, json={"statusCode": 400, "message": "Cluster x is paused"}))
    assert (e.message, e.status, e.exit_code, e.hint) == ("Cluster x is paused", 400, 1, None)
    e = BackplaneError.from_response(httpx.Response(403, json={"statusCode": 403, "message": "no\x1b[31m"}))
    assert e.message == "no?[31m" and e.hint is not None and "aro login --group aro-sre" in e.hint
    e = BackplaneError.from_response(httpx.Response(502, text="bad gateway"))
    assert e.message == "the backplane answered 502 Bad Gateway: bad gateway"
    e = BackplaneError.from_response(httpx.Response(401, json={"statusCode": 401, "message": "expired"}))
    assert e.hint is not None and "run 'aro login'" in e.hint
