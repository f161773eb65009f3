"""`aro backplane` (library side; the typer wiring is aro_cmd.backplane): ``ocm backplane`` (backplane-cli)
for the RP's backplane, command by command.

- ``BackplaneApi``: backplane-api's paths on the backplane URL (``aro.cli.backplaneconfig``), every request
  with the OCM config's bearer token (``aro.cli.ocmtoken``: refreshed when it expires); an answer outside
  2xx is a ``BackplaneError`` carrying the server's ``message``
- ``Session``: one command's configuration, token, API client and ledger (cluster lookups:
  ``aro.cli.backplanecluster``); ``transport`` lets a test (or an end-to-end test) route the requests
- the commands: ``login``, ``logout``, ``project``, ``console``, ``cloud_console``, ``list_scripts``,
  ``describe_script``, ``create_job``, ``get_jobs``, ``job_logs``, ``delete_job``; the kubeconfig edits are
  ``aro.cli.kubeconfig``'s
- ``run``: the one error path -- ``aro: <message>`` on stderr (the backplane's own ``message`` when it
  refused), then ``  status: N`` and a hint; exit 1 (the server's error, a client failure), 2 (usage, not
  logged in), 130 (Ctrl-C)

Output: data on stdout (the console URL, tables, JSON with ``-o json``, logs, ``export KUBECONFIG=...``);
notes and errors on stderr.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time
import webbrowser
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import yaml
from rich.markup import escape

from aro.cli import kubeconfig as kube
from aro.cli.backplanecluster import Cluster, Ledger, find_by_id, find_cluster
from aro.cli.backplaneconfig import BackplaneConfig
from aro.cli.backplaneconfig import load as load_backplane_config
from aro.cli.client import USER_AGENT, ssl_context
from aro.cli.common import confirm, write_private
from aro.cli.errors import CliError, UsageError
from aro.cli.ocm import report as report_ocm
from aro.cli.ocm import run as run_ocm
from aro.cli.ocmconfig import OcmConfig, config_path
from aro.cli.ocmconfig import load as load_ocm_config
from aro.cli.ocmtoken import Token, get_token
from aro.cli.output import Printer
from aro.cli.settings import DEFAULT_POLL_INTERVAL, DEV_ENDPOINT, DEV_LOCATION, DEV_SUBSCRIPTION, Settings

ENV_OPEN_BROWSER = "BACKPLANE_DEFAULT_OPEN_BROWSER"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
STREAM_TIMEOUT = httpx.Timeout(30.0, connect=10.0, read=None)  # a followed log is silent as long as the job
TERMINAL = ("Succeeded", "Failed", "Killed")
FAILED = ("Failed", "Killed")
DEFAULT_WAIT_SECONDS = 600.0  # backplane-cli's --wait bound
DEFAULT_JOB_POLL_SECONDS = 5.0
MAX_PARAMETERS = 100
_CLUSTER_ID = re.compile(r"[A-Za-z0-9]{1,64}\Z")
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}\Z")
_PARAM_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
_BOOL = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}


class Output(StrEnum):
    TEXT = "text"
    JSON = "json"
    YAML = "yaml"


class ListOutput(StrEnum):
    TABLE = "table"
    JSON = "json"


class BackplaneError(CliError):
    """The backplane answered outside 2xx: its ``{"statusCode", "message"}``, or the status line."""

    def __init__(self, message: str, status: int, hint: str | None = None):
        super().__init__(message, hint)
        self.status = status

    @classmethod
    def from_response(cls, response: httpx.Response) -> BackplaneError:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        hint = None
        if response.status_code == 401:
            hint = "run 'aro login' (again): the backplane takes the token of the OCM config"
        elif response.status_code == 403:
            hint = "the backplane serves SREs: log in as one (aro login --group aro-sre)"
        if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
            return cls(printable(body["message"][:1000]), response.status_code, hint)
        text = printable(response.text.strip())
        status = f"{response.status_code} {response.reason_phrase}".strip()
        return cls(f"the backplane answered {status}" + (f": {text[:300]}" if text else ""), response.status_code, hint)


def printable(text: str) -> str:
    """A server's text for the terminal: control characters (escape sequences) shown as '?'."""
    return "".join(c if c.isprintable() or c == "\n" else "?" for c in text)


def check_cluster_id(value: str) -> str:
    if not _CLUSTER_ID.match(value):
        raise UsageError(f"invalid cluster id {value[:80]!r}: 1-64 letters and digits")
    return value


def check_job_id(value: str) -> str:
    if not _JOB_ID.match(value):
        raise UsageError(f"invalid job id {value[:80]!r}")
    return value


def env_true(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return False
    parsed = _BOOL.get(value.strip().lower())
    if parsed is None:
        raise UsageError(f"unable to parse a boolean from the environment variable {name}={value[:40]!r}")
    return parsed


# --- the API ---------------------------------------------------------------------------------------------


class BackplaneApi:
    """backplane-api's requests against one backplane URL with one token."""

    def __init__(self, config: BackplaneConfig, token: str, transport: httpx.BaseTransport | None = None):
        self.config = config
        settings = Settings(
            endpoint=config.url or DEV_ENDPOINT,
            ca_file=config.ca_file,
            subscription=DEV_SUBSCRIPTION,
            location=DEV_LOCATION,
            poll_interval=DEFAULT_POLL_INTERVAL,
        )
        self.http = httpx.Client(
            verify=ssl_context(settings),
            timeout=TIMEOUT,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Authorization": f"Bearer {token}"},
            transport=transport,
            proxy=config.proxy_url if transport is None else None,
            follow_redirects=False,
            trust_env=config.proxy_url is None,
        )

    def __enter__(self) -> BackplaneApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def _url(self, *segments: str) -> str:
        return self.config.endpoint("/backplane/" + "/".join(quote(s, safe="") for s in segments))

    def _send(self, request: httpx.Request, stream: bool = False) -> httpx.Response:
        try:
            response = self.http.send(request, stream=stream)
        except httpx.HTTPError as e:
            raise self._transport_error(e) from None
        if not 200 <= response.status_code < 300:
            if stream:
                response.read()
                response.close()
            raise BackplaneError.from_response(response)
        return response

    def _json(
        self,
        method: str,
        url: str,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
    ) -> Any:
        request = self.http.build_request(method, url, params=list(params) or None, json=body)
        response = self._send(request)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CliError(
                f"the backplane answered {method} {urlsplit(url).path} with a body that is not JSON"
            ) from None

    def _transport_error(self, e: httpx.HTTPError) -> CliError:
        where, source = self.config.url, self.config.url_source
        hint = f"is the RP running? The backplane URL comes from {source}; set BACKPLANE_URL or --url"
        if isinstance(e, httpx.TimeoutException):
            return CliError(f"the backplane at {where} did not answer in time ({type(e).__name__})", hint)
        text = str(e) or type(e).__name__
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            by = f"the CA bundle {self.config.ca_file}" if self.config.ca_file else "the system trust store"
            return CliError(
                f"the backplane's TLS certificate at {where} is not trusted by {by}",
                f"set 'ca-file' in {self.config.path} (a development RP's CA is <dataDirectory>/certs/ca.crt)",
            )
        return CliError(f"cannot reach the backplane at {where}: {text}", hint)

    # backplane-api

    def login(self, cluster_id: str) -> str:
        """``GET /backplane/login/{clusterId}``: the proxy path of the cluster's API."""
        answer = self._json("GET", self._url("login", check_cluster_id(cluster_id)))
        proxy_uri = answer.get("proxy_uri") if isinstance(answer, dict) else None
        if (
            not isinstance(proxy_uri, str)
            or not proxy_uri.startswith("/")
            or proxy_uri.startswith("//")
            or any(c.isspace() or not c.isprintable() for c in proxy_uri)
        ):
            raise CliError(f"the backplane answered login with no usable proxy_uri: {str(proxy_uri)[:200]!r}")
        return proxy_uri

    def cloud_console(self, cluster_id: str) -> dict[str, Any]:
        answer = self._json("GET", self._url("cloud", "console", check_cluster_id(cluster_id)))
        if not isinstance(answer, dict) or not isinstance(answer.get("consoleLink"), str):
            raise CliError("the backplane answered the cloud console request without a consoleLink")
        return answer

    def scripts(self, cluster_id: str, name: str | None = None) -> list[dict[str, Any]]:
        params = [("scriptname", name)] if name else []
        answer = self._json("GET", self._url("script", check_cluster_id(cluster_id)), params)
        if not isinstance(answer, list):
            raise CliError("the backplane answered the script list with a body that is not a list")
        return [s for s in answer if isinstance(s, dict)]

    def create_job(self, cluster_id: str, canonical_name: str, parameters: Mapping[str, str]) -> dict[str, Any]:
        body = {"canonicalName": canonical_name, "parameters": dict(parameters)}
        answer = self._json("POST", self._url("script", check_cluster_id(cluster_id), "job"), body=body)
        return _job(answer, "create")

    def jobs(self, cluster_id: str) -> list[dict[str, Any]]:
        answer = self._json("GET", self._url("script", check_cluster_id(cluster_id), "job"))
        if not isinstance(answer, list):
            raise CliError("the backplane answered the job list with a body that is not a list")
        return [j for j in answer if isinstance(j, dict)]

    def job(self, cluster_id: str, job_id: str) -> dict[str, Any]:
        url = self._url("script", check_cluster_id(cluster_id), "job", check_job_id(job_id))
        return _job(self._json("GET", url), "get")

    def delete_job(self, cluster_id: str, job_id: str) -> dict[str, Any]:
        url = self._url("script", check_cluster_id(cluster_id), "job", check_job_id(job_id))
        answer = self._json("DELETE", url)
        return answer if isinstance(answer, dict) else {}

    def logs(self, cluster_id: str, job_id: str) -> str:
        url = self._url("script", check_cluster_id(cluster_id), "job", check_job_id(job_id), "logs")
        answer = self._json("GET", url)
        logs = answer.get("logs") if isinstance(answer, dict) else None
        if not isinstance(logs, str):
            raise CliError("the backplane answered the logs request without logs")
        return logs

    def follow_logs(self, cluster_id: str, job_id: str, write: Callable[[str], None]) -> None:
        """``?follow=true``: the streamed body, chunk by chunk, until the job ends."""
        url = self._url("script", check_cluster_id(cluster_id), "job", check_job_id(job_id), "logs")
        request = self.http.build_request(
            "GET", url, params={"follow": "true"}, headers={"Accept": "*/*"}, timeout=STREAM_TIMEOUT
        )
        response = self._send(request, stream=True)
        try:
            for chunk in response.iter_text():
                if chunk:
                    write(chunk)
        except httpx.HTTPError as e:
            raise self._transport_error(e) from None
        finally:
            response.close()


def _job(answer: Any, what: str) -> dict[str, Any]:
    if not isinstance(answer, dict) or not isinstance(answer.get("jobId"), str):
        raise CliError(f"the backplane answered the job {what} request with a body that is not a job")
    return answer


def job_status(job: Mapping[str, Any]) -> str:
    status = job.get("jobStatus")
    value = status.get("status") if isinstance(status, dict) else None
    return value if isinstance(value, str) else "Unknown"


# --- a command's session -------------------------------------------------------------------------------------


@dataclass
class Session:
    """What one `aro backplane` command works with."""

    env: Mapping[str, str]
    printer: Printer
    url: str | None = None  # --url
    proxy: str | None = None  # --proxy
    transport: httpx.BaseTransport | None = None  # tests: route every request
    _ocm: OcmConfig | None = field(default=None, init=False)
    _token: Token | None = field(default=None, init=False)
    _config: BackplaneConfig | None = field(default=None, init=False)

    @property
    def ocm(self) -> OcmConfig | None:
        if self._ocm is None:
            self._ocm = load_ocm_config(self.env)
        return self._ocm

    @property
    def token(self) -> Token:
        if self._token is None:
            self._token = get_token(self.env, transport=self.transport)
            self._ocm = None  # a refresh rewrote it
        return self._token

    @property
    def config(self) -> BackplaneConfig:
        if self._config is None:
            _ = self.token  # first: a refresh may rewrite the OCM config
            self._config = load_backplane_config(self.env, self.ocm, self.url, self.proxy)
        return self._config

    def api(self) -> BackplaneApi:
        return BackplaneApi(self.config, self.token.access_token, self.transport)

    def ledger(self) -> Ledger:
        return Ledger(self.ocm, self.token.access_token, self.transport)

    def resolve(self, key: str) -> Cluster:
        with self.ledger() as ledger:
            return find_cluster(key, ledger.search)

    def by_id(self, cluster_id: str) -> Cluster:
        with self.ledger() as ledger:
            return find_by_id(cluster_id, ledger.search)

    def target(self, key: str | None) -> str:
        """The cluster id a command acts on: ``key``'s (the ledger), else the current backplane context's."""
        if key:
            return self.resolve(key).id
        return kube.current_cluster_id(self.env)


# --- login, logout, project -------------------------------------------------------------------------------------


def token_script(executable: str) -> str:
    return (
        "#!/bin/sh\n"
        "# Written by `aro backplane login`: kubectl's exec credential plugin of the backplane contexts (user\n"
        f"# {kube.USER}): the OCM config's access token (`aro token`) as an ExecCredential. Rewritten at each login.\n"
        f"exec {shlex.quote(executable)} -m aro_cmd.main token --exec-credential\n"
    )


def write_token_script(env: Mapping[str, str], executable: str | None = None) -> Path:
    path = kube.token_script_path(env)
    write_private(path, token_script(os.path.abspath(executable or sys.executable)), mode=0o700)
    return path


def remove_token_script_if_unused(env: Mapping[str, str]) -> bool:
    path = kube.token_script_path(env)
    if not path.exists() or kube.any_backplane_context(kube.known_kubeconfigs(env)):
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise CliError(f"cannot remove {path}: {e.strerror or e}") from None
    return True


@dataclass(frozen=True)
class LoggedIn:
    cluster: Cluster
    path: Path
    context: str
    server: str
    script: Path


def login(
    session: Session,
    key: str,
    *,
    namespace: str = kube.DEFAULT_NAMESPACE,
    multi: bool = False,
    kube_path: str | None = None,
) -> LoggedIn:
    """``ocm backplane login``: the cluster, its proxy path, then the kubeconfig (module doc of kubeconfig)."""
    kube.check_namespace(namespace)
    base: Path | None = None
    if kube_path:
        if not multi:
            raise UsageError("--kube-path needs --multi: the kubeconfig goes to DIR/<clusterId>/config")
        base = Path(kube_path).expanduser()
        if not base.is_dir():
            raise UsageError(f"the directory {base} (--kube-path) does not exist")
    env, printer = session.env, session.printer
    cluster = session.resolve(key)
    printer.note(f"Target cluster: {cluster.name} (id {cluster.id}, status {cluster.status})")
    with session.api() as api:
        proxy_uri = api.login(cluster.id)
    config = session.config
    server = config.url + proxy_uri
    script = kube.token_script_path(env)
    ocm_path = Path(os.path.abspath(config_path(env)))
    entry = kube.Login(
        cluster_id=cluster.id,
        cluster_name=cluster.name,
        server=server,
        exec_command=str(script),
        exec_env={"OCM_CONFIG": str(ocm_path)},
        namespace=namespace,
        ca_file=config.ca_file,
        proxy_url=config.proxy_url,
    )
    path = kube.multi_path(env, cluster.id, base) if multi else kube.kubeconfig_path(env)
    with kube.locked(path):
        doc = kube.add_login(kube.Kubeconfig.read(path), entry)  # refuses before anything is written
        write_token_script(env)
        kube.save(path, doc)
    printer.note(f"Logged in to {cluster.name} ({cluster.id}) through the backplane at {config.url}", style="green")
    printer.note(f"  context {entry.context} (namespace {namespace}) in {path}; server {server}")
    if multi:
        printer.out.write(f"# Execute the following command to log into the cluster {cluster.id}\n")
        printer.out.write(f"export KUBECONFIG={shlex.quote(str(path))}\n")
        printer.out.flush()
    return LoggedIn(cluster, path, entry.context, server, script)


def _remove_from(path: Path, context: str) -> kube.Removal:
    with kube.locked(path):
        kc = kube.Kubeconfig.read(path)
        removal = kube.remove_login(kc, context)
        if removal.delete:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as e:
                raise CliError(f"cannot remove {path}: {e.strerror or e}") from None
        else:
            kube.save(path, removal.doc)
    if removal.delete and removal.cluster_id and path.parent.name == removal.cluster_id:
        try:
            path.parent.rmdir()  # --multi's ~/.kube/<clusterId>/, when nothing else is in it
        except OSError:
            pass
    return removal


def _local_matches(env: Mapping[str, str], key: str) -> list[tuple[Path, str, str]]:
    """(file, context, cluster id) of every backplane context named by ``key`` (id, name or context)."""
    out = []
    for path in kube.known_kubeconfigs(env):
        try:
            kc = kube.Kubeconfig.read(path)
        except CliError:
            continue
        for entry in kube.backplane_contexts(kc.doc):
            mark = kube.mark_of(entry, "contexts") or {}
            if key in (mark.get("clusterId"), mark.get("clusterName"), entry.get("name")):
                out.append((path, str(entry.get("name")), str(mark.get("clusterId") or "")))
    return out


def logout(session: Session, key: str | None = None) -> list[tuple[Path, kube.Removal]]:
    """``ocm backplane logout [CLUSTER]``: the current backplane context (or every context of CLUSTER, in the
    kubeconfig and in ~/.kube/<clusterId>/config) removed as login added it; the token script when unused."""
    env, printer = session.env, session.printer
    targets: list[tuple[Path, str]]
    if key is None:
        cur = kube.current(env)
        if cur.mark is None:
            why = "its cluster is not the backplane's" if cur.cluster_id is None else "aro backplane did not write it"
            raise UsageError(f"you're not logged in using aro backplane: the current context {cur.context!r}: {why}")
        targets = [(cur.path, cur.context)]
    else:
        matches = _local_matches(env, key)
        ids = {cluster_id for _, _, cluster_id in matches}
        if len(ids) > 1:
            raise UsageError(f"{key!r} names contexts of {len(ids)} clusters: {', '.join(sorted(ids))}; give the id")
        if not matches:
            cluster_id = session.resolve(key).id
            matches = [m for m in _local_matches(env, cluster_id) if m[2] == cluster_id]
            if not matches:
                raise UsageError(f"not logged in to {key!r} ({cluster_id}) with aro backplane")
        targets = [(path, context) for path, context, _ in matches]
    done = []
    for path, context in targets:
        removal = _remove_from(path, context)
        done.append((path, removal))
        where = "removed the file" if removal.delete else f"in {path}"
        printer.note(f"Logged out from backplane: {removal.cluster_name or context} (context {context}; {where})")
    if remove_token_script_if_unused(env):
        printer.note(f"  removed {kube.token_script_path(env)} (no backplane context left)")
    return done


def project(session: Session, namespace: str | None) -> None:
    """``ocm backplane project [NAMESPACE]``: the current backplane context's namespace (printed, or set)."""
    cur = kube.current(session.env)
    if cur.cluster_id is None:
        raise UsageError(
            f"the current context {cur.context!r} is not a backplane context",
            "log in with 'aro backplane login CLUSTER' (or use kubectl config set-context --current --namespace)",
        )
    if namespace is None:
        session.printer.out.write(f"{cur.namespace or kube.DEFAULT_NAMESPACE}\n")
        session.printer.out.flush()
        return
    with kube.locked(cur.path):
        kc = kube.Kubeconfig.read(cur.path)
        kube.save(cur.path, kube.set_namespace(kc, cur.context, namespace))
    session.printer.note(f'Now using project "{namespace}" on cluster "{cur.cluster_id}" (context {cur.context}).')


# --- consoles ----------------------------------------------------------------------------------------------


def _check_link(link: str, what: str) -> str:
    parts = urlsplit(link)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CliError(f"the {what} {link[:200]!r} is not an http(s) URL")
    return link


def _open(printer: Printer, link: str) -> bool:
    try:
        opened = webbrowser.open(link)
    except webbrowser.Error:
        opened = False
    if opened:
        printer.note(f"Opened {link} in the browser")
    else:
        printer.note("failed opening a browser; the link:", style="yellow")
    return opened


def console(session: Session, key: str | None, browser: bool) -> str:
    """``ocm backplane console``: the cluster's OpenShift console URL (the ledger's ``console_url``)."""
    open_it = browser or env_true(session.env, ENV_OPEN_BROWSER)
    cluster = session.resolve(key) if key else session.by_id(kube.current_cluster_id(session.env))
    if not cluster.console_url:
        raise CliError(
            f"the ledger has no console URL for {cluster.name} ({cluster.id}) yet: it is {cluster.status}",
            "a cluster reports its console once it is installed (Active)",
        )
    link = _check_link(cluster.console_url, "console URL")
    if not (open_it and _open(session.printer, link)):
        session.printer.out.write(link + "\n")
        session.printer.out.flush()
    return link


def cloud_console(session: Session, key: str | None, browser: bool, output: Output) -> dict[str, Any]:
    """``ocm backplane cloud console``: the cloud provider's console link of the cluster."""
    open_it = browser or env_true(session.env, ENV_OPEN_BROWSER)
    cluster_id = session.target(key)
    with session.api() as api:
        answer = api.cloud_console(cluster_id)
    link = _check_link(answer["consoleLink"], "console link")
    shown = {"ConsoleLink": link, "ClusterID": answer.get("clusterID") or cluster_id, "Region": answer.get("region")}
    if open_it and _open(session.printer, link):
        return shown
    out = session.printer.out
    if output is Output.JSON:
        out.write(json.dumps(shown) + "\n")
    elif output is Output.YAML:
        out.write("---\n" + yaml.safe_dump(shown, default_flow_style=False, sort_keys=False))
    else:
        out.write(f"Console Link:\n  Link: {link}\n")
    out.flush()
    return shown


# --- scripts and managed jobs -----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def list_scripts(session: Session, key: str | None, output: ListOutput) -> list[dict[str, Any]]:
    cluster_id = session.target(key)
    with session.api() as api:
        scripts = api.scripts(cluster_id)
    if output is ListOutput.JSON:
        session.printer.json(scripts)
        return scripts
    if not scripts:
        raise CliError("no scripts found")
    rows = [(_text(s.get("canonicalName")), _text(s.get("shortDescription") or s.get("description"))) for s in scripts]
    session.printer.table(["NAME", "DESCRIPTION"], rows)
    return scripts


def _field(label: str, value: Any) -> str:
    """``label`` then the value in the column after it; a value of several lines (a script's description
    often is) keeps that column on every line."""
    text = _text(value).strip("\n")
    return label + text.replace("\n", "\n" + " " * len(label))


def describe_text(script: Mapping[str, Any]) -> str:
    """backplane-cli's description of a script."""
    lines = [
        _field("CanonicalName: ", script.get("canonicalName")),
        _field("Author:        ", script.get("author")),
        _field("Description:   ", script.get("description")),
        f"AllowedGroups: [{' '.join(str(g) for g in script.get('allowedGroups') or [])}]",
        _field("Language:      ", script.get("language")),
        _field("Permalink:     ", script.get("permalink")),
    ]
    envs = [e for e in script.get("envs") or [] if isinstance(e, dict)]
    if envs:
        for title, optional in (("Required Parameters:", False), ("Optional Parameters:", True)):
            lines.append(title)
            for e in envs:
                if bool(e.get("optional")) == optional:
                    lines.append(_field("- Key:         ", e.get("key")))
                    lines.append(_field("  Description: ", e.get("description")))
    return "\n".join(lines) + "\n"


def _script(api: BackplaneApi, cluster_id: str, name: str) -> dict[str, Any]:
    scripts = api.scripts(cluster_id, name)
    found = [s for s in scripts if s.get("canonicalName") == name] or scripts
    if not found:
        raise CliError(f"script {name} not found", "list them with: aro backplane script list")
    return found[0]


def describe_script(session: Session, name: str, key: str | None, output: ListOutput) -> dict[str, Any]:
    cluster_id = session.target(key)
    with session.api() as api:
        script = _script(api, cluster_id, name)
    if output is ListOutput.JSON:
        session.printer.json(script)
    else:
        session.printer.out.write(describe_text(script))
        session.printer.out.flush()
    return script


def parse_parameters(values: Sequence[str]) -> dict[str, str]:
    """backplane-cli's ``-p KEY=VALUE`` (repeatable; spaces around key and value trimmed; a key repeated: the
    last wins)."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        key = key.strip()
        if not sep:
            raise UsageError(f"error parsing params flag: missing '=' in {value[:80]!r}")
        if not key:
            raise UsageError(f"error parsing params flag: key cannot be empty in {value[:80]!r}")
        if not _PARAM_KEY.match(key):
            raise UsageError(f"invalid parameter name {key[:80]!r}: letters, digits and '_'")
        out[key] = val.strip()
    if len(out) > MAX_PARAMETERS:
        raise UsageError(f"too many parameters ({len(out)}): at most {MAX_PARAMETERS}")
    return out


def check_parameters(script: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
    """backplane-cli's check before creating a job: every required parameter given, none unknown."""
    name = _text(script.get("canonicalName"))
    envs = [e for e in script.get("envs") or [] if isinstance(e, dict) and isinstance(e.get("key"), str)]
    if not envs:
        if parameters:
            raise UsageError(f"script {name} doesn't accept a parameter")
        return
    keys = {e["key"] for e in envs}
    missing = [e["key"] for e in envs if not e.get("optional") and e["key"] not in parameters]
    if missing:
        raise UsageError(
            f"missing required parameter: {', '.join(missing)}", f"see: aro backplane script describe {name}"
        )
    unknown = sorted(set(parameters) - keys)
    if unknown:
        raise UsageError(f"invalid parameter: {', '.join(unknown)}", f"see: aro backplane script describe {name}")


def wait_for(
    api: BackplaneApi,
    cluster_id: str,
    job_id: str,
    done: Callable[[str], bool],
    timeout: float,
    interval: float,
    printer: Printer,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll the job until ``done(status)``; CliError after ``timeout`` seconds."""
    deadline = clock() + timeout
    last = ""
    while True:
        job = api.job(cluster_id, job_id)
        status = job_status(job)
        if status != last:
            printer.note(f"  job {job_id}: {status}")
            last = status
        if done(status):
            return job
        if clock() >= deadline:
            raise CliError(
                f"timed out after {timeout:g}s waiting for job {job_id} (it is {status})",
                f"it goes on; see it with: aro backplane managedjob get {job_id}",
            )
        sleep(max(0.0, min(interval, deadline - clock())))


def create_job(
    session: Session,
    name: str,
    params: Sequence[str],
    key: str | None,
    *,
    wait: bool = False,
    logs: bool = False,
    timeout: float = DEFAULT_WAIT_SECONDS,
    interval: float = DEFAULT_JOB_POLL_SECONDS,
    output: ListOutput = ListOutput.TABLE,
) -> dict[str, Any]:
    """``ocm backplane managedjob create``: the job; with ``logs`` its log streamed, with ``wait`` its end."""
    parameters = parse_parameters(params)
    if timeout <= 0 or interval <= 0:
        raise UsageError("--timeout and --interval must be positive seconds")
    printer = session.printer
    cluster_id = session.target(key)
    with session.api() as api:
        check_parameters(_script(api, cluster_id, name), parameters)
        job = api.create_job(cluster_id, name, parameters)
        job_id = check_job_id(job["jobId"])
        if output is ListOutput.JSON:
            printer.json(job)
        else:
            message = _text(job.get("message"))
            printer.out.write((f"{message}\n" if message else "") + f"JobId: {job_id}\n")
            printer.out.flush()
        if logs:
            printer.note(f"Fetching logs for job {job_id} ...")
            wait_for(api, cluster_id, job_id, lambda s: s != "Pending", timeout, interval, printer)
            api.follow_logs(cluster_id, job_id, _writer(printer))
        if wait:
            printer.note(f"Waiting for {job_id} to be finished ...")
            job = wait_for(api, cluster_id, job_id, lambda s: s in TERMINAL, timeout, interval, printer)
            status = job_status(job)
            if status in FAILED:
                raise CliError(f"Job {status}: {job_id}", f"its logs: aro backplane managedjob logs {job_id}")
            printer.note(f"Job {status}", style="green")
    return job


def _writer(printer: Printer) -> Callable[[str], None]:
    def write(chunk: str) -> None:
        printer.out.write(chunk)
        printer.out.flush()

    return write


def job_row(job: Mapping[str, Any]) -> list[str]:
    status = job.get("jobStatus") if isinstance(job.get("jobStatus"), dict) else {}
    assert isinstance(status, dict)
    script = status.get("script") if isinstance(status.get("script"), dict) else {}
    assert isinstance(script, dict)
    return [
        _text(job.get("jobId")),
        job_status(job),
        _text(script.get("canonicalName")),
        _text(status.get("start")),
        _text(status.get("end")),
    ]


def get_jobs(session: Session, job_id: str | None, key: str | None, output: ListOutput) -> Any:
    cluster_id = session.target(key)
    with session.api() as api:
        value: Any = api.job(cluster_id, job_id) if job_id else api.jobs(cluster_id)
    if output is ListOutput.JSON:
        session.printer.json(value)
    else:
        jobs = [value] if isinstance(value, dict) else value
        session.printer.table(["ID", "STATUS", "CANONICAL NAME", "START", "END"], [job_row(j) for j in jobs])
    return value


def job_logs(session: Session, job_id: str, key: str | None, follow: bool) -> None:
    cluster_id = session.target(key)
    check_job_id(job_id)
    with session.api() as api:
        if follow:
            api.follow_logs(cluster_id, job_id, _writer(session.printer))
            return
        logs = api.logs(cluster_id, job_id)
    session.printer.out.write(logs)
    session.printer.out.flush()


def delete_job(session: Session, job_id: str, key: str | None, yes: bool, interactive: bool) -> None:
    check_job_id(job_id)
    cluster_id = session.target(key)
    confirm(
        f"Deleting the job {job_id} will also delete its logs. Continue?",
        assume_yes=yes,
        interactive=interactive,
    )
    with session.api() as api:
        api.delete_job(cluster_id, job_id)
    session.printer.note(f"Deleted Job ID: {job_id}")


# --- the error path --------------------------------------------------------------------------------------


def report(printer: Printer, e: CliError) -> None:
    if isinstance(e, BackplaneError):
        printer.stderr.print(escape(f"aro: {e.message}"), style="bold red")
        printer.stderr.print(escape(f"  status: {e.status}"), style="dim")
        if e.hint:
            printer.stderr.print(escape(e.hint), style="yellow")
        return
    report_ocm(printer, e)


def run(action: Callable[[Printer], object], printer: Printer | None = None) -> int:
    """Run one command; its exit code (0 on success) after printing any error on stderr."""
    return run_ocm(action, printer, report)
