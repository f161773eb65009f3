"""`aro backplane` (``ocm backplane``, command by command) and `aro token` (``ocm token``). Thin typer wiring over
aro.cli.backplane and aro.cli.ocmtoken (their ``run``: one error path)."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer

from aro.cli import Printer
from aro.cli.backplane import (
    DEFAULT_JOB_POLL_SECONDS,
    DEFAULT_WAIT_SECONDS,
    ENV_OPEN_BROWSER,
    ListOutput,
    Output,
    Session,
    cloud_console,
    console,
    create_job,
    delete_job,
    describe_script,
    get_jobs,
    job_logs,
    list_scripts,
    login,
    logout,
    project,
    run,
)
from aro.cli.kubeconfig import DEFAULT_NAMESPACE
from aro.cli.ocmtoken import exec_credential, get_token

CONFIG_HELP = (
    "The token: $OCM_CONFIG, else ~/.ocm.json (aro login). The backplane: --url, else BACKPLANE_URL, else 'url' "
    "of $BACKPLANE_CONFIG (~/.config/backplane/config.json, also 'proxy-url' and 'ca-file'), else the OCM "
    "config's url (and ca_file)."
)
backplane = typer.Typer(
    no_args_is_help=True,
    help="The RP's backplane, like ocm backplane (backplane-cli): log in to a cluster's API with kubectl, "
    "consoles, managed scripts. " + CONFIG_HELP,
)
cloud = typer.Typer(no_args_is_help=True, help="The cluster's cloud provider.")
script = typer.Typer(no_args_is_help=True, help="Backplane scripts: pre-defined scripts to run as managed jobs.")
managedjob = typer.Typer(no_args_is_help=True, help="Managed jobs: a backplane script run on a cluster.")

CONNECTION = "Connection"
Url = Annotated[
    str | None,
    typer.Option("--url", help="backplane URL (env BACKPLANE_URL)", rich_help_panel=CONNECTION, show_default=False),
]
Proxy = Annotated[
    str | None,
    typer.Option("--proxy", help="HTTPS proxy to the backplane", rich_help_panel=CONNECTION, show_default=False),
]
ClusterArg = Annotated[
    str | None,
    typer.Argument(
        metavar="[CLUSTER]",
        help="cluster id, external id, name or name search (default: the current backplane context's)",
        show_default=False,
    ),
]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster-id",
        "--cluster",
        "-c",
        help="cluster id, external id or name (default: the current backplane context's)",
        show_default=False,
    ),
]
Browser = Annotated[
    bool, typer.Option("--browser", "-b", help=f"open it in a browser (or set {ENV_OPEN_BROWSER}=true)")
]
JsonOutput = Annotated[ListOutput, typer.Option("--output", "-o", help="output format")]


def _exit(code: int) -> None:
    if code:
        raise typer.Exit(code)


def _session(printer: Printer, url: str | None = None, proxy: str | None = None) -> Session:
    return Session(os.environ, printer, url, proxy)


@backplane.command("login")
def login_cmd(
    cluster: Annotated[
        str,
        typer.Argument(
            metavar="CLUSTER",
            help="cluster id, external id, name, or a part of a name (%%demo%% is a pattern)",
            show_default=False,
        ),
    ],
    multi: Annotated[
        bool, typer.Option("--multi", "-m", help="write ~/.kube/<clusterId>/config instead; print its export")
    ] = False,
    kube_path: Annotated[
        str | None, typer.Option("--kube-path", help="with --multi: write DIR/<clusterId>/config", show_default=False)
    ] = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="the context's namespace")] = DEFAULT_NAMESPACE,
    url: Url = None,
    proxy: Proxy = None,
) -> None:
    """Log in to a cluster: kubectl's current context becomes <clusterId>, through the backplane's proxy."""
    _exit(run(lambda p: login(_session(p, url, proxy), cluster, namespace=namespace, multi=multi, kube_path=kube_path)))


@backplane.command("logout")
def logout_cmd(
    cluster: Annotated[
        str | None,
        typer.Argument(
            metavar="[CLUSTER]",
            help="log out of this cluster (also its --multi kubeconfig); default: the current context",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Remove what login added to the kubeconfig (cluster, user, context) and restore the previous context."""
    _exit(run(lambda p: logout(_session(p), cluster)))


@backplane.command("project")
def project_cmd(
    namespace: Annotated[
        str | None,
        typer.Argument(metavar="[NAMESPACE]", help="the namespace (default: print it)", show_default=False),
    ] = None,
) -> None:
    """Set the namespace of the current backplane context (print it without NAMESPACE)."""
    _exit(run(lambda p: project(_session(p), namespace)))


@backplane.command("console")
def console_cmd(cluster: ClusterArg = None, browser: Browser = False, url: Url = None) -> None:
    """The OpenShift console URL of the cluster (the ledger's console_url), printed or opened (-b)."""
    _exit(run(lambda p: console(_session(p, url), cluster, browser)))


@cloud.command("console")
def cloud_console_cmd(
    cluster: ClusterArg = None,
    browser: Browser = False,
    output: Annotated[Output, typer.Option("--output", "-o", help="output format")] = Output.TEXT,
    url: Url = None,
    proxy: Proxy = None,
) -> None:
    """A link to the cluster's cloud provider console."""
    _exit(run(lambda p: cloud_console(_session(p, url, proxy), cluster, browser, output)))


@script.command("list")
def script_list_cmd(cluster: ClusterOpt = None, output: JsonOutput = ListOutput.TABLE, url: Url = None) -> None:
    """The backplane scripts runnable on the cluster (NAME, DESCRIPTION)."""
    _exit(run(lambda p: list_scripts(_session(p, url), cluster, output)))


@script.command("describe")
def script_describe_cmd(
    name: Annotated[str, typer.Argument(metavar="SCRIPT", help="canonical name, e.g. group/name", show_default=False)],
    cluster: ClusterOpt = None,
    output: Annotated[
        ListOutput, typer.Option("--output", "-o", help="output format (table: backplane-cli's text)")
    ] = ListOutput.TABLE,
    url: Url = None,
) -> None:
    """A script: author, description, groups, language, permalink, and its parameters."""
    _exit(run(lambda p: describe_script(_session(p, url), name, cluster, output)))


@managedjob.command("create")
def job_create_cmd(
    name: Annotated[str, typer.Argument(metavar="SCRIPT", help="the script's canonical name", show_default=False)],
    params: Annotated[
        list[str] | None, typer.Option("--params", "-p", help="a parameter KEY=VALUE (repeatable)")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="wait until the job ends (exit 1 if it failed)")] = False,
    logs: Annotated[bool, typer.Option("--logs", help="stream the job's log to stdout")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="seconds --wait/--logs wait for the job")
    ] = DEFAULT_WAIT_SECONDS,
    interval: Annotated[
        float, typer.Option("--interval", help="seconds between polls of the job")
    ] = DEFAULT_JOB_POLL_SECONDS,
    cluster: ClusterOpt = None,
    output: Annotated[ListOutput, typer.Option("--output", "-o", help="json: the created job")] = ListOutput.TABLE,
    url: Url = None,
) -> None:
    """Run a script on the cluster as a managed job (its parameters checked against the script's)."""
    _exit(
        run(
            lambda p: create_job(
                _session(p, url),
                name,
                params or [],
                cluster,
                wait=wait,
                logs=logs,
                timeout=timeout,
                interval=interval,
                output=output,
            )
        )
    )


@managedjob.command("get")
def job_get_cmd(
    job_id: Annotated[str | None, typer.Argument(metavar="[JOB_ID]", help="a job (default: all)")] = None,
    cluster: ClusterOpt = None,
    output: JsonOutput = ListOutput.TABLE,
    url: Url = None,
) -> None:
    """A managed job, or every job of the cluster: ID, STATUS, CANONICAL NAME, START, END."""
    _exit(run(lambda p: get_jobs(_session(p, url), job_id, cluster, output)))


@managedjob.command("logs")
def job_logs_cmd(
    job_id: Annotated[str, typer.Argument(metavar="JOB_ID", show_default=False)],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="stream the log until the job ends")] = False,
    cluster: ClusterOpt = None,
    url: Url = None,
) -> None:
    """A managed job's log on stdout."""
    _exit(run(lambda p: job_logs(_session(p, url), job_id, cluster, follow)))


@managedjob.command("delete")
def job_delete_cmd(
    job_id: Annotated[str, typer.Argument(metavar="JOB_ID", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    cluster: ClusterOpt = None,
    url: Url = None,
) -> None:
    """Delete a managed job (and its logs)."""
    _exit(run(lambda p: delete_job(_session(p, url), job_id, cluster, yes, sys.stdin.isatty())))


# aliases as backplane-cli spells them
script.command("ls", hidden=True)(script_list_cmd)
managedjob.command("list", hidden=True)(job_get_cmd)
managedjob.command("ls", hidden=True)(job_get_cmd)
managedjob.command("del", hidden=True)(job_delete_cmd)
backplane.add_typer(cloud, name="cloud")
backplane.add_typer(script, name="script")
backplane.add_typer(managedjob, name="managedjob")
backplane.add_typer(managedjob, name="managedJob", hidden=True)


def token_cmd(
    exec_credential_: Annotated[
        bool,
        typer.Option("--exec-credential", help="print a kubectl ExecCredential (client.authentication.k8s.io/v1)"),
    ] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="refresh the token even if it is still valid")] = False,
) -> None:
    """Print the access token of $OCM_CONFIG (else ~/.ocm.json), refreshed first when it has expired."""

    def action(printer: Printer) -> None:
        token = get_token(os.environ, force_refresh=refresh)
        if exec_credential_:
            printer.out.write(json.dumps(exec_credential(token, os.environ)) + "\n")
        else:
            printer.out.write(token.access_token + "\n")
        printer.out.flush()

    _exit(run(action))


def register(app: typer.Typer) -> None:
    app.add_typer(backplane, name="backplane")
    app.command("token")(token_cmd)
