"""The simulator's web console: one resource group's page behind a signed, expiring link -- what the Azure
portal is to an SRE on a real cluster (``aro backplane cloud console <cluster>`` hands out the link).

Routes (wired in ``_app``)::

    POST /simulator/console/links  {"resourceGroupId": "/subscriptions/{s}/resourceGroups/{rg}", "ttlSeconds": 900}
        admin (bearer token) -> 200 {"link", "expiresOn", "resourceGroupId"}; 400 bad body; 404 no such group
    GET|HEAD /console/subscriptions/{s}/resourceGroups/{rg}?expires={unix}&signature={sig}
        no bearer token (the link is the credential) -> 200 the page (HTML); 403; 404 (HTML too)

``ttlSeconds``: 1..``MAX_TTL_SECONDS`` (3600: backplane sessions last at most an hour); default
``SimulatorConfig.console_link_seconds`` (900). ``link`` is on the URL the request came in on (scheme and
``Host``); ``expiresOn`` is RFC 3339 (UTC, whole seconds).

**The link is the credential.** ``signature`` = base64url (unpadded) HMAC-SHA256, keyed with the
simulator's console secret, over ``"aro-simulator-console\\n{resource group id, lower-cased}\\n{expires}"``
(``expires``: Unix seconds). The secret is 32 random bytes made on first use and kept, hex, in
``{data directory}/console.key`` (0600; created atomically), so links survive a restart; deleting the file
revokes every link. The page answers 403 "not valid" for a missing or wrong signature -- a link minted for
another group, or an altered ``expires`` -- or an expiry further ahead than ``MAX_TTL_SECONDS`` (plus a
little clock slack), 403 "expired" once ``expires`` is reached, and 404 when the signed group does not
exist (any more); none of them says more. The link (signature included) lands in the request log like any
URL: that log is admin-only, and an admin can mint links anyway.

The page (server-rendered, no JavaScript; every value HTML-escaped -- names and tags are user input): the
group (name, id, subscription, location, provisioning state, managedBy, tags); its resources (name, type,
location, provisioning state); its deployments (name, provisioning state, timestamp, error and its
details); its virtual machines and scale set instances (provisioning state, size, power state: a
``powerState`` field or an instance view status ``PowerState/...`` when the resource has one, else
"starting" while it is being created and "running" after). Every console answer carries
``Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'``, ``X-Content-Type-Options:
nosniff``, ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._errors import ArmError, rg_not_found
from ._http import Request, Response
from ._store import _resource_json, _rg_json
from ._template import rg_id

if TYPE_CHECKING:
    from ._app import SimulatorApp

MAX_TTL_SECONDS = 3600
CLOCK_SLACK_SECONDS = 300  # a signed expiry this much past the longest TTL was never minted here
SECRET_FILE = "console.key"
_DOMAIN = "aro-simulator-console"
_RG_ID = re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)$", re.IGNORECASE)
_VM_TYPE = "microsoft.compute/virtualmachines"
_VMSS_TYPE = "microsoft.compute/virtualmachinescalesets"

HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def signature(secret: bytes, resource_group_id: str, expires: int) -> str:
    """The link signature of ``resource_group_id`` (any case) valid until ``expires`` (Unix seconds)."""
    message = f"{_DOMAIN}\n{resource_group_id.lower()}\n{expires}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_path(secret: bytes, resource_group_id: str, expires: int) -> str:
    """``/console/subscriptions/{s}/resourceGroups/{rg}?expires=&signature=`` (host not included)."""
    m = _RG_ID.match(resource_group_id)
    if m is None:
        raise ValueError(f"not a resource group id: {resource_group_id!r}")
    sub, rg = (quote(part, safe="") for part in m.groups())
    sig = signature(secret, resource_group_id, expires)
    return f"/console/subscriptions/{sub}/resourceGroups/{rg}?expires={expires}&signature={sig}"


def load_secret(data_directory: Path) -> bytes:
    """The console secret in ``data_directory``, made (atomically, 0600) when there is none."""
    path = data_directory / SECRET_FILE
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        data_directory.mkdir(parents=True, exist_ok=True)
        tmp = data_directory / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # fails if another process made it first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        text = path.read_text().strip()
    secret = bytes.fromhex(text)
    if len(secret) < 32:
        raise ValueError(f"{path}: the console secret is shorter than 32 bytes")
    return secret


def rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _props(obj: dict[str, Any]) -> dict[str, Any]:
    props = obj.get("properties")
    return props if isinstance(props, dict) else {}


def power_state(obj: dict[str, Any], provisioning_state: str) -> str:
    """A VM's or instance's power state: its ``powerState`` (top level or in ``properties``), or the code of
    an instance view status ``PowerState/<state>``; else "starting" while it is created, "running" after."""
    for holder in (obj, _props(obj)):
        value = holder.get("powerState")
        if isinstance(value, str) and value:
            return value.removeprefix("PowerState/")
    for holder in (obj, _props(obj)):
        view = holder.get("instanceView")
        statuses = view.get("statuses") if isinstance(view, dict) else None
        for status in statuses if isinstance(statuses, list) else []:
            code = status.get("code") if isinstance(status, dict) else None
            if isinstance(code, str) and code.lower().startswith("powerstate/"):
                return code.split("/", 1)[1]
    return "starting" if provisioning_state in ("Creating", "Updating") else "running"


# -- HTML -----------------------------------------------------------------------------------------------------

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em 2em; color: #1b1b1b; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.sub { color: #555; } .ok { color: #107c10; } .bad { color: #a4262c; } .busy { color: #8a6100; }
table { border-collapse: collapse; margin-top: .4em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } dl { display: grid; grid-template-columns: max-content auto; gap: .15em 1em; }
dt { font-weight: 600; } code { font-size: .95em; } .empty { color: #777; font-style: italic; }
"""


def _document(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    ).encode()


def _page(status: int, title: str, body: str) -> Response:
    return Response(status, _document(title, body), dict(HEADERS))


def _problem(status: int, heading: str, text: str) -> Response:
    return _page(status, heading, f"<h1>{_e(heading)}</h1>\n<p>{_e(text)}</p>")


def _state(value: Any) -> str:
    text = "" if value is None else str(value)
    cls = {"succeeded": "ok", "running": "ok", "failed": "bad", "canceled": "bad", "deallocated": "bad"}.get(
        text.lower(), "busy"
    )
    return f'<span class="{cls}">{_e(text)}</span>'


def _table(headers: Iterable[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return ""
    parts = [f"<code>{_e(error.get('code'))}</code>: {_e(error.get('message'))}"]
    for detail in error.get("details") or []:
        if isinstance(detail, dict):
            parts.append(f"<br>&rarr; <code>{_e(detail.get('code'))}</code>: {_e(detail.get('message'))}")
    return "".join(parts)


def render(snapshot: dict[str, Any], expires: int, now: float) -> bytes:
    """The page of one resource group (``Console._snapshot``'s value)."""
    rg = snapshot["group"]
    sub = rg["id"].split("/")[2]
    tags = rg.get("tags") or {}
    tag_rows = [[_e(k), _e(v)] for k, v in sorted(tags.items())]
    facts = [
        ("Subscription", f"<code>{_e(sub)}</code>"),
        ("Resource group id", f"<code>{_e(rg['id'])}</code>"),
        ("Location", _e(rg["location"])),
        ("Provisioning state", _state(_props(rg).get("provisioningState"))),
        (
            "Managed by",
            f"<code>{_e(rg['managedBy'])}</code>" if rg.get("managedBy") else '<span class="empty">-</span>',
        ),
    ]
    resources = [
        [
            _e(r["name"]),
            f"<code>{_e(r['type'])}</code>",
            _e(r.get("location")),
            _state(_props(r).get("provisioningState")),
        ]
        for r in snapshot["resources"]
    ]
    deployments = []
    for d in snapshot["deployments"]:
        props = _props(d)
        deployments.append(
            [
                _e(d.get("name")),
                _state(props.get("provisioningState")),
                _e(props.get("timestamp")),
                _error_text(props.get("error")),
            ]
        )
    machines = []
    for vm in snapshot["vms"]:
        props = _props(vm)
        state = str(props.get("provisioningState", ""))
        size = (
            (props.get("hardwareProfile") or {}).get("vmSize")
            if isinstance(props.get("hardwareProfile"), dict)
            else None
        )
        machines.append([_e(vm["name"]), "virtual machine", _e(size), _state(state), _state(power_state(vm, state))])
    for inst in snapshot["instances"]:
        state = str(_props(inst).get("provisioningState", ""))
        size = (inst.get("sku") or {}).get("name")
        machines.append(
            [
                _e(inst["name"]),
                f"instance {_e(inst.get('instanceId'))} of scale set {_e(inst['name'].rsplit('_', 1)[0])}",
                _e(size),
                _state(state),
                _state(power_state(inst, state)),
            ]
        )
    body = "\n".join(
        [
            f"<h1>Resource group {_e(rg['name'])}</h1>",
            f'<p class="sub">Simulated Azure console. Rendered {_e(rfc3339(now))}; this link expires '
            f"{_e(rfc3339(expires))}.</p>",
            '<dl id="group">' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
            "<h2>Tags</h2>",
            '<div id="tags">' + _table(["Name", "Value"], tag_rows, "No tags.") + "</div>",
            f"<h2>Resources ({len(resources)})</h2>",
            '<div id="resources">'
            + _table(["Name", "Type", "Location", "Provisioning state"], resources, "No resources.")
            + "</div>",
            f"<h2>Deployments ({len(deployments)})</h2>",
            '<div id="deployments">'
            + _table(["Name", "Provisioning state", "Timestamp", "Error"], deployments, "No deployments.")
            + "</div>",
            f"<h2>Virtual machines ({len(machines)})</h2>",
            '<div id="machines">'
            + _table(["Name", "Kind", "Size", "Provisioning state", "Power state"], machines, "No virtual machines.")
            + "</div>",
        ]
    )
    return _document(f"{rg['name']} - simulated Azure console", body)


# -- routes ---------------------------------------------------------------------------------------------------


class Console:
    """The console routes; ``clock`` (Unix seconds) decides expiry -- tests replace it."""

    def __init__(self, app: SimulatorApp) -> None:
        self.app = app
        self.store = app.store
        self.clock: Callable[[], float] = time.time
        self._secret: bytes | None = None

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = load_secret(self.app.config.data_directory)
        return self._secret

    @staticmethod
    def handles(req: Request) -> bool:
        return req.lsegs[:2] == ["console", "subscriptions"]

    # -- the admin API (bearer token checked by the app) ----------------------------------------------------

    async def mint(self, req: Request) -> Response:
        if req.lsegs[1:] != ["console", "links"]:
            raise ArmError(404, "NotFound", f"No route for {req.method} /{'/'.join(req.segs)}.")
        if req.method != "POST":
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not allowed.")
        body = req.json()
        rid, ttl = body.get("resourceGroupId"), body.get("ttlSeconds", self.app.config.console_link_seconds)
        m = _RG_ID.match(rid) if isinstance(rid, str) else None
        if m is None:
            raise ArmError(
                400,
                "InvalidRequestContent",
                "'resourceGroupId' must be /subscriptions/{subscriptionId}/resourceGroups/{name}.",
            )
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL_SECONDS:
            raise ArmError(
                400, "InvalidRequestContent", f"'ttlSeconds' must be an integer from 1 to {MAX_TTL_SECONDS}."
            )
        group = await self.store.run(self.store.get_rg, rg_id(m.group(1), m.group(2)).lower())
        if group is None:
            raise rg_not_found(m.group(2))
        expires = int(self.clock()) + ttl
        link = req.base_url + link_path(self.secret, group["id"], expires)
        return Response(200, {"link": link, "expiresOn": rfc3339(expires), "resourceGroupId": group["id"]})

    # -- the page (no bearer token: the link is the credential) ---------------------------------------------

    async def page(self, req: Request) -> Response:
        segs, lsegs = req.segs, req.lsegs
        if len(lsegs) != 5 or lsegs[1] != "subscriptions" or lsegs[3] != "resourcegroups":
            return _problem(404, "Not found", "There is no console page here.")
        if req.method not in ("GET", "HEAD"):
            return Response(
                405, _document("Method not allowed", "<h1>Method not allowed</h1>"), {**HEADERS, "Allow": "GET, HEAD"}
            )
        rid = rg_id(segs[2], segs[4])
        raw_expires, given = req.query.get("expires", ""), req.query.get("signature", "")
        expires = int(raw_expires) if raw_expires.isascii() and raw_expires.isdigit() and len(raw_expires) <= 12 else -1
        now = self.clock()
        if (
            expires < 0
            or not hmac.compare_digest(signature(self.secret, rid, expires).encode(), given.encode("utf-8", "replace"))
            or expires > now + MAX_TTL_SECONDS + CLOCK_SLACK_SECONDS
        ):
            return _problem(403, "Forbidden", "This console link is not valid.")
        if now >= expires:
            return _problem(403, "Link expired", "This console link has expired. Ask for a new one.")
        snapshot = await self.store.run(self._snapshot, rid.lower())
        if snapshot is None:
            return _problem(404, "Not found", "The resource group of this link does not exist.")
        return Response(200, render(snapshot, expires, now), dict(HEADERS))

    def _snapshot(self, rg_key: str) -> dict[str, Any] | None:
        """The group, its resources, deployments, VMs and scale set instances (database thread)."""
        db = self.store.db
        row = db.execute("SELECT * FROM resource_groups WHERE key = ?", (rg_key,)).fetchone()
        if row is None:
            return None
        rows = db.execute("SELECT * FROM resources WHERE rg_key = ? ORDER BY created, key", (rg_key,)).fetchall()
        resources = [_resource_json(r) for r in rows]
        deployments = [
            json.loads(d["body"])
            for d in db.execute("SELECT body FROM deployments WHERE rg_key = ? ORDER BY key", (rg_key,))
        ]
        instances = []
        for r in resources:
            if r["type"].lower() == _VMSS_TYPE:
                for inst in self.app.scale_sets.instances(r["id"].lower()):
                    shown = self.app.scale_sets.arm_json(inst)
                    for key in ("powerState", "instanceView"):  # kept by the instance, if it has them
                        if key in inst:
                            shown.setdefault(key, inst[key])
                    instances.append(shown)
        power_of = getattr(self.store, "power_of", None)  # machines' power states (``_power``), if kept
        vms = []
        for r in resources:
            if r["type"].lower() == _VM_TYPE:
                state, changed = power_of(r["id"].lower()) if callable(power_of) else ("running", None)
                vms.append(r if changed is None else {**r, "powerState": state})  # None: never changed
        return {
            "group": _rg_json(row),
            "resources": resources,
            "deployments": deployments,
            "vms": vms,
            "instances": instances,
        }
