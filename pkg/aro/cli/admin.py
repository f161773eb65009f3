"""The ``aro admin`` operations: day-2 changes and views over the RP's admin API (``/admin`` + a resource's
ARM id; no api-version; a production RP wants the admin client certificate, ``--client-cert``).

- ``PATCH /admin{id}`` ``{"properties": {...}}``: 202 + Location + Azure-AsyncOperation (an operation,
  polled like every other; the provisioningState shown is the stored document's), or 200 with the document
  when the change was recorded without an operation (a hosted pause or resume). Hosted clusters:
  ``pausedUntil`` ("true" | "false" | RFC 3339), ``featureSet``, ``desiredVersion``; node pools:
  ``pausedUntil``; classic clusters: ``maintenanceTask``.
- ``POST /admin{id}/etcdbackups`` (202; the result ``{id, snapshotURL, createdAt}`` at its Location, else
  found in the list by its operation's id),
  ``GET /admin{id}/etcdbackups`` (the list), ``POST /admin{id}/etcdrestore`` ``{"snapshotURL": ...}`` (202).
- ``GET /admin{id}/diagnostics`` (a tar.gz), ``GET /admin{id}/controlplane/metrics`` (Prometheus text).
- ``GET /admin{id}`` (the stored document, secrets removed), ``GET /admin/providers/{namespace}/{type}``
  (every document of a type, across subscriptions; paged).

A production RP refuses the operation URLs (public ARM routes) to the admin certificate: waiting then
follows the stored document (its ``asyncOperationId`` and provisioningState) instead, and a backup's result
is read from the list.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from aro.cli.client import ArmClient
from aro.cli.common import PROVIDER, get_path, rg_resource_id
from aro.cli.errors import ArmError, CliError, UsageError
from aro.cli.lro import TERMINAL, Poller
from aro.cli.output import Printer, TableSpec

MAX_RESULT_POLLS = 30
GZIP_MAGIC = b"\x1f\x8b"
FOREVER = "true"
NOT_PAUSED = "false"
FORBIDDEN_HINT = (
    "a production RP serves /admin only to the admin client certificate: pass it with --client-cert "
    "(and --client-key), AROCLI_CLIENT_CERT/AROCLI_CLIENT_KEY or clientCertFile/clientKeyFile in client.yaml"
)


class Kind(StrEnum):
    """What ``-g/-n`` name (``--type``)."""

    HCP = "hcp"
    CLASSIC = "classic"


class ListType(StrEnum):
    """What ``aro admin list`` lists."""

    HCP = "hcp"
    CLASSIC = "classic"
    NODEPOOL = "nodepool"


class FeatureSet(StrEnum):
    TECH_PREVIEW_NO_UPGRADE = "TechPreviewNoUpgrade"


class MaintenanceTask(StrEnum):
    EVERYTHING = "Everything"
    OPERATOR_UPDATE = "OperatorUpdate"
    CERTIFICATES_RENEWAL = "CertificatesRenewal"


HCP, CLASSIC, NODEPOOL = "hcp", "classic", "nodepool"
TYPE_NAMES = {
    HCP: "hcpOpenShiftClusters",
    CLASSIC: "openShiftClusters",
    NODEPOOL: "hcpOpenShiftClusters/nodePools",
}
TITLES = {HCP: "hosted cluster", CLASSIC: "cluster", NODEPOOL: "node pool"}

_RX_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.RedHatOpenShift/"
    r"(?P<type>openShiftClusters|hcpOpenShiftClusters)/(?P<name>[^/]+)(?:/nodePools/(?P<pool>[^/]+))?/?$",
    re.IGNORECASE,
)
_RX_RELEASE = re.compile(r"^\d+\.\d+\.\d+$")
_RX_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


# --- addressing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One resource of the admin API: its ARM id and what it is (``hcp``, ``classic`` or ``nodepool``)."""

    id: str
    kind: str

    @property
    def url(self) -> str:
        return "/admin" + self.id

    @property
    def name(self) -> str:
        return self.id.rstrip("/").rsplit("/", 1)[-1]

    @property
    def cluster(self) -> str:
        """The cluster's name (a node pool's parent)."""
        parts = self.id.rstrip("/").split("/")
        return parts[-3] if self.kind == NODEPOOL else parts[-1]

    def describe(self) -> str:
        if self.kind == NODEPOOL:
            return f"node pool {self.name!r} of {self.cluster!r}"
        return f"{TITLES[self.kind]} {self.name!r}"


def parse_id(resource_id: str) -> Target:
    m = _RX_ID.match(resource_id.strip())
    if m is None:
        raise UsageError(
            f"invalid --id {resource_id[:200]!r}: expected /subscriptions/SUB/resourceGroups/RG/providers/"
            "Microsoft.RedHatOpenShift/{openShiftClusters|hcpOpenShiftClusters}/NAME[/nodePools/POOL]"
        )
    hosted = m["type"].lower() == "hcpopenshiftclusters"
    if m["pool"] and not hosted:
        raise UsageError("classic clusters (openShiftClusters) have no node pools")
    return Target(resource_id.strip().rstrip("/"), NODEPOOL if m["pool"] else HCP if hosted else CLASSIC)


def resolve_target(
    subscription: str,
    *,
    resource_id: str | None = None,
    resource_group: str | None = None,
    name: str | None = None,
    cluster: str | None = None,
    nodepool: str | None = None,
    kind: Kind | None = None,
) -> Target:
    """``--id``, or ``-g RG -n NAME [--type hcp|classic]``; a node pool is ``-n CLUSTER --nodepool POOL``
    or ``--cluster CLUSTER -n POOL``. ``kind`` None: what the id says, else hcp."""
    if resource_id:
        if resource_group or name or cluster or nodepool:
            raise UsageError("address the resource with --id or with -g/-n (--cluster/--nodepool), not both")
        target = parse_id(resource_id)
        if kind is not None and (CLASSIC if target.kind == CLASSIC else HCP) != kind.value:
            raise UsageError(f"--type {kind.value} does not match --id (a {TITLES[target.kind]})")
        return target
    if not resource_group or not name:
        raise UsageError("name the resource: --id ID, or -g RESOURCE_GROUP -n NAME")
    if cluster and nodepool:
        raise UsageError("a node pool is -n CLUSTER --nodepool POOL or --cluster CLUSTER -n POOL, not both")
    if cluster or nodepool:
        if kind is Kind.CLASSIC:
            raise UsageError("classic clusters have no node pools (--cluster/--nodepool are for --type hcp)")
        parent, pool = (cluster, name) if cluster else (name, str(nodepool))
        base = rg_resource_id(subscription, resource_group, f"{PROVIDER}/hcpOpenShiftClusters", parent)
        return Target(f"{base}/nodePools/{pool}", NODEPOOL)
    which = (kind or Kind.HCP).value
    return Target(rg_resource_id(subscription, resource_group, f"{PROVIDER}/{TYPE_NAMES[which]}", name), which)


def require(target: Target, kinds: tuple[str, ...], command: str) -> None:
    """A UsageError unless ``target`` is one of ``kinds`` (``aro admin COMMAND`` does not apply to it)."""
    if target.kind not in kinds:
        allowed = " or ".join(f"{TITLES[k]}s" for k in kinds)
        raise UsageError(f"`aro admin {command}` applies to {allowed}, not to {target.describe()}")


# --- values ----------------------------------------------------------------------------------------


def paused_until(until: str | None, forever: bool) -> str:
    """The ``pausedUntil`` of ``pause``: an RFC 3339 time (with its offset), or "true" (until resumed)."""
    if until is not None and forever:
        raise UsageError("--until and --forever exclude each other")
    if until is None:
        return FOREVER
    text = until.strip()
    try:
        valid = bool(_RX_RFC3339.match(text)) and dt.datetime.fromisoformat(text.upper()) is not None
    except ValueError:
        valid = False
    if not valid:
        raise UsageError(f"invalid --until {until!r}: expected an RFC 3339 time such as 2030-01-02T15:04:05Z")
    return text


def check_release(version: str) -> str:
    if not _RX_RELEASE.match(version):
        raise UsageError(f"invalid version {version!r}: expected X.Y.Z (a release, such as 4.20.3)")
    return version


# --- rendering -------------------------------------------------------------------------------------


def resource_of(doc: Any) -> dict[str, Any]:
    """The resource object in a stored document (``openShiftCluster``, ``hcpOpenShiftCluster``, ``nodePool``,
    ...: the one field holding ``properties``); an ARM resource is its own."""
    if not isinstance(doc, dict):
        return {}
    if isinstance(doc.get("properties"), dict):
        return doc
    for value in doc.values():
        if isinstance(value, dict) and isinstance(value.get("properties"), dict):
            return value
    return {}


def document_state(doc: Any) -> str | None:
    state = get_path(resource_of(doc), "properties", "provisioningState")
    return str(state) if state else None


ADMIN_FIELDS = ("pausedUntil", "featureSet", "desiredVersion", "maintenanceTask")


def _admin_settings(doc: Any) -> str:
    props = resource_of(doc).get("properties") or {}
    return " ".join(f"{k}={props[k]}" for k in ADMIN_FIELDS if props.get(k) not in (None, ""))


def _display_name(resource_id: str) -> str:
    """``NAME``, or ``CLUSTER/POOL`` for a node pool."""
    m = _RX_ID.match(resource_id)
    if m is None:
        return resource_id.rsplit("/", 1)[-1]
    return f"{m['name']}/{m['pool']}" if m["pool"] else m["name"]


def _doc_row(doc: Any) -> tuple[Any, ...]:
    res = resource_of(doc)
    rid = str(res.get("id") or "")
    m = _RX_ID.match(rid)
    return (
        _display_name(rid) if rid else res.get("name"),
        str(res.get("type") or "").rsplit("/", 1)[-1],
        m["sub"] if m else None,
        m["rg"] if m else None,
        get_path(res, "properties", "provisioningState"),
        doc.get("asyncOperationId") if isinstance(doc, dict) else None,
        doc.get("leaseOwner") if isinstance(doc, dict) else None,
        _admin_settings(doc),
    )


DOCUMENT_TABLE: TableSpec = (
    (
        "Name",
        "Type",
        "Subscription",
        "ResourceGroup",
        "ProvisioningState",
        "AsyncOperationId",
        "LeaseOwner",
        "AdminSettings",
    ),
    _doc_row,
)


def snapshot_url(backup: Any) -> Any:
    return get_path(backup, "snapshotURL") or get_path(backup, "snapshotUrl")


BACKUP_TABLE: TableSpec = (
    ("Id", "CreatedAt", "SnapshotURL"),
    lambda b: (b.get("id"), b.get("createdAt"), snapshot_url(b)),
)
ACCEPTED_TABLE: TableSpec = (
    ("Status", "AzureAsyncOperation", "Location"),
    lambda a: (a.get("status"), a.get("azureAsyncOperation"), a.get("location")),
)


def _accepted(r: httpx.Response) -> dict[str, Any]:
    return {
        "status": "Accepted",
        "azureAsyncOperation": r.headers.get("azure-asyncoperation"),
        "location": r.headers.get("location"),
    }


def _operation_id(r: httpx.Response) -> str | None:
    for header in ("azure-asyncoperation", "location"):
        url = r.headers.get(header)
        if url:
            return httpx.URL(url).path.rstrip("/").rsplit("/", 1)[-1]
    return None


def _running_state(doc: Any, operation_id: str | None) -> str | None:
    """The document's provisioningState, never a terminal one while ``operation_id`` is its current operation
    (an action may leave the state Succeeded throughout)."""
    state = document_state(doc)
    running = operation_id is not None and isinstance(doc, dict) and doc.get("asyncOperationId") == operation_id
    if running and (state or "").lower() in TERMINAL:
        return "Running"
    return state


# --- operations ------------------------------------------------------------------------------------


class Admin:
    """One invocation's admin operations (one ArmClient, one Printer)."""

    def __init__(self, arm: ArmClient, printer: Printer):
        self.arm = arm
        self.printer = printer
        self.settings = arm.settings
        self.poller = Poller(arm, printer.stderr, state_of=document_state)

    def target(self, **addressing: Any) -> Target:
        return resolve_target(self.settings.subscription, **addressing)

    # helpers

    def _request(
        self, method: str, url: str, *, body: Any = None, ok: tuple[int, ...] = (200,), accept: str | None = None
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {"ok": ok}
        if body is not None:
            kwargs["body"] = body
        if accept:
            kwargs["headers"] = {"Accept": accept}
        try:
            return self.arm.request(method, url, **kwargs)
        except ArmError as e:
            if e.status == 403 and not e.hint:
                e.hint = FORBIDDEN_HINT
            raise

    def _json(self, r: httpx.Response) -> Any:
        try:
            return r.json()
        except ValueError:
            raise CliError(
                f"the RP answered {r.request.method} {r.request.url.path} with {r.status_code} and a body "
                "that is not JSON"
            ) from None

    def _wait(self, r: httpx.Response, target: Target, title: str) -> dict[str, Any]:
        try:
            return self.poller.wait(r, title=title, resource_url=target.url, api_version="")
        except ArmError as e:
            if e.status != 403 or not r.headers.get("azure-asyncoperation"):
                if e.status == 403 and not e.hint:
                    e.hint = FORBIDDEN_HINT
                raise
        # The operation URLs are public ARM routes, which a production RP refuses to the admin certificate:
        # follow the stored document instead (its asyncOperationId is this operation's until it ends).
        self.printer.note(
            "the RP refuses this operation's status to this certificate (403): following the stored document",
            style="yellow",
        )
        op = _operation_id(r)
        poller = Poller(self.arm, self.printer.stderr, self.poller.sleep, lambda doc: _running_state(doc, op))
        try:
            initial = document_state(r.json()) if r.content else None
            return poller.wait(
                httpx.Response(202), title=title, resource_url=target.url, api_version="", initial_state=initial
            )
        except ArmError as e:
            if e.status == 403:
                e.hint = e.hint or FORBIDDEN_HINT
            elif e.status is None:
                e.hint = e.hint or f"see the operation's history with `aro admin show --id {target.id}`"
            raise

    def _result(self, r: httpx.Response) -> httpx.Response | None:
        """The result of a finished operation at its Location (202 while not ready); None without one."""
        location = r.headers.get("location")
        if not location:
            return None
        for _ in range(MAX_RESULT_POLLS):
            try:
                result = self._request("GET", location, ok=(200, 202, 204))
            except ArmError as e:
                if e.status == 403:  # a public route refused to the admin certificate (see _wait)
                    return None
                raise
            if result.status_code != 202:
                return result
            self.poller.sleep(self.settings.poll_interval)
        raise CliError(f"the operation's result at {location} is still not ready")

    # documents

    def show(self, target: Target) -> Any:
        return self._json(self._request("GET", target.url))

    def list_documents(self, what: ListType) -> list[Any]:
        url = f"/admin/providers/{PROVIDER}/{TYPE_NAMES[what.value]}"
        try:
            return list(self.arm.pages(url, api_version=""))
        except ArmError as e:
            if e.status == 403 and not e.hint:
                e.hint = FORBIDDEN_HINT
            raise

    # admin updates (PATCH)

    def update(self, target: Target, properties: dict[str, Any], title: str, wait: bool = True) -> Any:
        """PATCH ``{"properties": properties}``; waits for the operation; returns the document."""
        r = self._request("PATCH", target.url, body={"properties": properties}, ok=(200, 202))
        if r.status_code == 200:
            self.printer.note(f"{target.describe()}: recorded at once (no operation was started)")
            return self._json(r) if r.content else self.show(target)
        if not wait:
            self.printer.note(f"{title[0].lower()}{title[1:]} (not waiting: --no-wait)")
            return self._json(r) if r.content else self.show(target)
        self._wait(r, target, title)
        return self.show(target)

    def pause(self, target: Target, until: str, wait: bool = True) -> Any:
        require(target, (HCP, NODEPOOL), "pause")
        what = "until resumed" if until == FOREVER else f"until {until}"
        doc = self.update(target, {"pausedUntil": until}, f"Pausing {target.describe()} {what}", wait)
        if wait:
            self.printer.note(f"{target.describe()}: reconciliation paused {what}", style="green")
        return doc

    def resume(self, target: Target, wait: bool = True) -> Any:
        require(target, (HCP, NODEPOOL), "resume")
        doc = self.update(target, {"pausedUntil": NOT_PAUSED}, f"Resuming {target.describe()}", wait)
        if wait:
            self.printer.note(f"{target.describe()}: reconciliation resumed", style="green")
        return doc

    def feature_set(self, target: Target, feature_set: FeatureSet, wait: bool = True) -> Any:
        require(target, (HCP,), "feature-set")
        title = f"Setting the feature set of {target.describe()} to {feature_set.value}"
        return self.update(target, {"featureSet": feature_set.value}, title, wait)

    def desired_version(self, target: Target, version: str, wait: bool = True) -> Any:
        require(target, (HCP,), "desired-version")
        title = f"Moving {target.describe()} to {check_release(version)}"
        return self.update(target, {"desiredVersion": version}, title, wait)

    def maintenance(self, target: Target, task: MaintenanceTask, wait: bool = True) -> Any:
        require(target, (CLASSIC,), "maintenance")
        title = f"Maintenance {task.value} of {target.describe()}"
        return self.update(target, {"maintenanceTask": task.value}, title, wait)

    # etcd backups

    def backup(self, target: Target, wait: bool = True) -> dict[str, Any]:
        """Take an etcd backup; returns ``{id, snapshotURL, createdAt}`` (or, with ``wait`` False, where the
        operation and its result are)."""
        require(target, (HCP,), "backup")
        r = self._request("POST", f"{target.url}/etcdbackups", ok=(200, 201, 202))
        if r.status_code != 202:
            return dict(self._json(r))
        if not wait:
            self.printer.note(f"backing up the etcd of {target.describe()} (not waiting: --no-wait)")
            return _accepted(r)
        if r.headers.get("azure-asyncoperation"):
            self._wait(r, target, f"Backing up the etcd of {target.describe()}")
        result = self._result(r)
        body = self._json(result) if result is not None and result.content else None
        if isinstance(body, dict) and snapshot_url(body):
            return body
        # no result body: the backup this operation took, from the cluster's list
        op = _operation_id(r)
        for found in reversed(self.backups(target)):
            if isinstance(found, dict) and (op is None or str(found.get("id")) == op):
                return found
        raise CliError(f"the backup of {target.describe()} finished, but the RP reports no snapshot for it")

    def backups(self, target: Target) -> list[Any]:
        require(target, (HCP,), "backups")
        body = self._json(self._request("GET", f"{target.url}/etcdbackups"))
        if isinstance(body, list):
            return body
        if isinstance(body, dict) and isinstance(body.get("value"), list):
            items = list(body["value"])
            if body.get("nextLink"):
                items += list(self.arm.pages(str(body["nextLink"]), api_version=""))
            return items
        raise CliError(f"the RP's list of the backups of {target.describe()} is not a list")

    def restore(self, target: Target, url: str, wait: bool = True) -> Any:
        require(target, (HCP,), "restore")
        if not url.strip():
            raise UsageError("--snapshot-url is empty")
        r = self._request("POST", f"{target.url}/etcdrestore", body={"snapshotURL": url}, ok=(200, 201, 202))
        if r.status_code == 202 and not wait:
            self.printer.note(f"restoring the etcd of {target.describe()} (not waiting: --no-wait)")
            return _accepted(r)
        if r.status_code == 202:
            self._wait(r, target, f"Restoring the etcd of {target.describe()}")
            self.printer.note(f"{target.describe()}: etcd restored from {url}", style="green")
        return self.show(target)

    # views

    def diagnostics(self, target: Target) -> bytes:
        require(target, (HCP, CLASSIC), "diagnostics")
        r = self._request("GET", f"{target.url}/diagnostics", accept="application/gzip, application/json")
        if not r.content.startswith(GZIP_MAGIC):
            kind = r.headers.get("content-type", "no content type")
            raise CliError(f"the RP's diagnostics of {target.describe()} are not a gzip archive ({kind})")
        return r.content

    def metrics(self, target: Target) -> str:
        require(target, (HCP, CLASSIC), "metrics")
        return self._request("GET", f"{target.url}/controlplane/metrics", accept="text/plain, application/json").text
