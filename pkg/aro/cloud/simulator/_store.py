"""Simulator state in SQLite (WAL), driven from one worker thread so the event loop never blocks.

Long-running operations are rows with a due time (``due``; NULL = hangs forever). Nothing sleeps: before
every read or write the store *settles* -- it completes each running operation whose due time has passed
and applies its effect (create the deployment's resources, delete the group, ...). A restarted simulator
therefore finishes what an earlier process started.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ._errors import ArmError, rg_not_found
from ._template import PlannedResource, parent_id, rg_id

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resource_groups (
  key TEXT PRIMARY KEY, id TEXT NOT NULL, subscription TEXT NOT NULL, name TEXT NOT NULL,
  location TEXT NOT NULL, managed_by TEXT, tags TEXT NOT NULL, state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS resource_groups_sub ON resource_groups(subscription);
CREATE TABLE IF NOT EXISTS resources (
  key TEXT PRIMARY KEY, rg_key TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL,
  body TEXT NOT NULL, state TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS resources_rg ON resources(rg_key);
CREATE TABLE IF NOT EXISTS deployments (
  key TEXT PRIMARY KEY, rg_key TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deployments_rg ON deployments(rg_key);
CREATE TABLE IF NOT EXISTS operations (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL, due REAL,
  outcome TEXT, payload TEXT NOT NULL, started REAL NOT NULL, ended REAL);
CREATE INDEX IF NOT EXISTS operations_due ON operations(status, due);
CREATE TABLE IF NOT EXISTS power_states (
  key TEXT PRIMARY KEY, rg_key TEXT NOT NULL, state TEXT NOT NULL, op TEXT, changed REAL NOT NULL);
CREATE INDEX IF NOT EXISTS power_states_op ON power_states(op);
"""


class ResourceHook(Protocol):
    """Told of resource writes inside the store's transaction (on the database thread)."""

    def upserted(self, rg_key: str, key: str, rtype: str) -> None: ...

    def deleted(self, key: str) -> None:
        """The resource ``key`` and everything nested under it are gone."""
        ...

    def rg_deleted(self, rg_key: str) -> None: ...


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}Z"


def _rg_json(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "type": "Microsoft.Resources/resourceGroups",
        "location": row["location"],
        "tags": json.loads(row["tags"]),
        "properties": {"provisioningState": row["state"]},
    }
    if row["managed_by"]:
        out["managedBy"] = row["managed_by"]
    return out


def _resource_json(row: sqlite3.Row) -> dict[str, Any]:
    body = json.loads(row["body"])
    props = dict(body.pop("properties", None) or {})
    props["provisioningState"] = row["state"]
    return {"id": row["id"], "name": row["name"], "type": row["type"], **body, "properties": props}


class Store:
    """``extra_schema``: more tables (other modules' state in the same database and transactions);
    ``hooks``: told of every resource upsert and delete; ``commit_hooks``: called after each transaction
    with True (committed) or False (rolled back), on the database thread."""

    def __init__(self, data_directory: Path, extra_schema: str = "") -> None:
        self.path = data_directory / "simulator.db"
        self.extra_schema = extra_schema
        self.hooks: list[ResourceHook] = []
        self.commit_hooks: list[Callable[[bool], None]] = []
        self.executor = self._new_executor()
        self._closed = False
        self._db: sqlite3.Connection | None = None
        self._next_due = 0.0  # earliest due time of a running operation; 0 = unknown, look

    @staticmethod
    def _new_executor() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="aro-simulator-db")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the database thread, inside one transaction, after settling."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._tx, fn, args)

    def _tx(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._settle(time.time())
            result = fn(*args)
        except BaseException:
            db.execute("ROLLBACK")
            for hook in self.commit_hooks:
                hook(False)
            raise
        db.execute("COMMIT")
        for hook in self.commit_hooks:
            hook(True)
        return result

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA + self.extra_schema)
            self._db = db
        return self._db

    async def open(self) -> None:
        if self._closed:  # reopened after close (a server restarted in-process)
            self.executor = self._new_executor()
            self._closed = False
        await self.run(lambda: None)

    async def close(self) -> None:
        def _close() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self.executor, _close)
        self.executor.shutdown(wait=False)  # empty by now: _close ran last
        self._closed = True

    # -- operations -------------------------------------------------------------------------------------

    def _new_op(
        self,
        kind: str,
        target: str,
        due: float | None,
        outcome: dict[str, Any] | None,
        payload: dict[str, Any] | None = None,
    ) -> str:
        op_id = str(uuid.uuid4())
        if due is not None:
            self._next_due = min(self._next_due, due)
        self.db.execute(
            "INSERT INTO operations (id, kind, target, status, due, outcome, payload, started)"
            " VALUES (?, ?, ?, 'Running', ?, ?, ?, ?)",
            (
                op_id,
                kind,
                target,
                due,
                json.dumps(outcome) if outcome else None,
                json.dumps(payload or {}),
                time.time(),
            ),
        )
        return op_id

    def _end_op(self, op_id: str, status: str, error: dict[str, Any] | None = None) -> None:
        self.db.execute(
            "UPDATE operations SET status = ?, outcome = ?, ended = ? WHERE id = ?",
            (status, json.dumps(error) if error else None, time.time(), op_id),
        )

    def get_operation(self, op_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM operations WHERE id = ?", (op_id,)).fetchone()
        if row is None:
            return None
        out: dict[str, Any] = {
            "name": row["id"],
            "kind": row["kind"],
            "target": row["target"],
            "status": row["status"],
            "startTime": iso(row["started"]),
        }
        if row["ended"] is not None:
            out["endTime"] = iso(row["ended"])
        if row["status"] in ("Failed", "Canceled"):
            out["error"] = json.loads(row["outcome"] or "null") or {
                "code": "Canceled",
                "message": "The operation was canceled.",
            }
        elif row["due"] is not None:
            out["remaining"] = max(0.0, row["due"] - time.time())
        return out

    def release_hung(self, due: float) -> int:
        """Every operation that hangs (a "hang" fault held it) finishes at ``due``: the fault was lifted."""
        cur = self.db.execute("UPDATE operations SET due = ? WHERE due IS NULL AND status = 'Running'", (due,))
        self._next_due = 0.0  # look again
        return int(cur.rowcount or 0)

    def _settle(self, now: float) -> None:
        if now < self._next_due:  # nothing is due yet (the common case): skip the query
            return
        rows = self.db.execute(
            "SELECT * FROM operations WHERE status = 'Running' AND due IS NOT NULL AND due <= ? ORDER BY due",
            (now,),
        ).fetchall()
        for row in rows:
            outcome = json.loads(row["outcome"]) if row["outcome"] else None
            self.db.execute("SAVEPOINT settle")
            try:
                getattr(self, f"_complete_{row['kind']}")(row, outcome)
            except Exception as e:  # a bug must not poison every later transaction: fail just this one
                self.db.execute("ROLLBACK TO settle")
                self._end_op(row["id"], "Failed", {"code": "InternalServerError", "message": repr(e)})
            self.db.execute("RELEASE settle")
        (due,) = self.db.execute(
            "SELECT MIN(due) FROM operations WHERE status = 'Running' AND due IS NOT NULL"
        ).fetchone()
        self._next_due = float("inf") if due is None else due

    def _complete_deleteResourceGroup(self, op: sqlite3.Row, outcome: dict[str, Any] | None) -> None:
        key = op["target"]
        if outcome:
            self.db.execute("UPDATE resource_groups SET state = 'Succeeded' WHERE key = ?", (key,))
            self._end_op(op["id"], "Failed", outcome)
            return
        for table in ("resources", "deployments", "power_states"):
            self.db.execute(f"DELETE FROM {table} WHERE rg_key = ?", (key,))
        self.db.execute("DELETE FROM resource_groups WHERE key = ?", (key,))
        for hook in self.hooks:
            hook.rg_deleted(key)
        self._end_op(op["id"], "Succeeded")

    def _complete_deploy(self, op: sqlite3.Row, outcome: dict[str, Any] | None) -> None:
        dep = self.db.execute("SELECT * FROM deployments WHERE key = ?", (op["target"],)).fetchone()
        if dep is None:  # the group (and so the deployment) is gone
            self._end_op(op["id"], "Failed", {"code": "ResourceGroupNotFound", "message": "Group deleted."})
            return
        payload = json.loads(op["payload"])
        if outcome is None:
            outcome = self._apply_plan(dep["rg_key"], payload["resources"])
        body = json.loads(dep["body"])
        props = body["properties"]
        props["timestamp"] = iso(time.time())
        if outcome:
            props["provisioningState"] = "Failed"
            props["error"] = outcome
            self._end_op(op["id"], "Failed", outcome)
        else:
            props["provisioningState"] = "Succeeded"
            props["outputs"] = payload["outputs"]
            self._end_op(op["id"], "Succeeded")
        self.db.execute("UPDATE deployments SET body = ? WHERE key = ?", (json.dumps(body), dep["key"]))

    def _apply_plan(self, rg_key: str, plan: list[dict[str, Any]]) -> dict[str, Any] | None:
        rg = self.db.execute("SELECT state FROM resource_groups WHERE key = ?", (rg_key,)).fetchone()
        if rg is None or rg["state"] == "Deleting":
            return deployment_failed("ResourceGroupNotFound", "The resource group is being deleted or gone.")
        planned = {p["id"].lower() for p in plan}
        for p in plan:
            parent = parent_id(p["id"])
            if parent and parent.lower() not in planned and not self._exists(parent.lower()):
                return deployment_failed(
                    "ParentResourceNotFound",
                    f"Can not perform requested operation on nested resource. Parent resource '{parent}' not found.",
                )
        for p in plan:
            self._upsert(rg_key, p["id"], p["type"], p["name"], p["body"], "Succeeded")
        return None

    def _complete_putResource(self, op: sqlite3.Row, outcome: dict[str, Any] | None) -> None:
        self.db.execute("UPDATE resources SET state = 'Succeeded' WHERE key = ?", (op["target"],))
        self._end_op(op["id"], "Succeeded")

    def _complete_deleteResource(self, op: sqlite3.Row, outcome: dict[str, Any] | None) -> None:
        self._delete_tree(op["target"])
        self._end_op(op["id"], "Succeeded")

    def _complete_power(self, op: sqlite3.Row, outcome: dict[str, Any] | None) -> None:
        """A power action (``_power``) ends: its machines reach the final state (unless a later action
        took them over meanwhile: its own operation ends them)."""
        state = json.loads(op["payload"])["state"]
        self.db.execute(
            "UPDATE power_states SET state = ?, op = NULL, changed = ? WHERE op = ?", (state, time.time(), op["id"])
        )
        self._end_op(op["id"], "Succeeded")

    # -- machines' power states (a VM's key, or a scale set instance's ``{scale set key}/virtualmachines/{id}``)

    def power_of(self, key: str) -> tuple[str, float | None]:
        """(state, when it last changed) of a machine: ``running`` (and None) unless an action changed it."""
        row = self.db.execute("SELECT state, changed FROM power_states WHERE key = ?", (key,)).fetchone()
        return ("running", None) if row is None else (str(row["state"]), float(row["changed"]))

    def begin_power(self, keys: list[str], rg_key: str, transitional: str, final: str, due: float | None) -> str:
        """Machines ``keys`` enter ``transitional`` now and reach ``final`` when the returned operation ends."""
        op_id = self._new_op("power", keys[0] if keys else rg_key, due, None, {"state": final})
        now = time.time()
        for key in keys:
            self.db.execute(
                "INSERT INTO power_states VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                " state = excluded.state, op = excluded.op, changed = excluded.changed",
                (key, rg_key, transitional, op_id, now),
            )
        return op_id

    # -- resource groups --------------------------------------------------------------------------------

    def get_rg(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM resource_groups WHERE key = ?", (key,)).fetchone()
        return None if row is None else _rg_json(row)

    def list_rgs(self, subscription: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT * FROM resource_groups WHERE subscription = ? ORDER BY key", (subscription.lower(),)
        )
        return [_rg_json(r) for r in rows]

    def put_rg(
        self, rid: str, location: str, managed_by: str | None, tags: dict[str, str]
    ) -> tuple[dict[str, Any], bool]:
        key = rid.lower()
        row = self.db.execute("SELECT * FROM resource_groups WHERE key = ?", (key,)).fetchone()
        if row is not None:
            if row["state"] == "Deleting":
                raise ArmError(
                    409,
                    "ResourceGroupBeingDeleted",
                    f"The resource group '{row['name']}' is in deprovisioning state and cannot perform this operation.",
                )
            if row["location"].lower() != location.replace(" ", "").lower():
                raise ArmError(
                    409,
                    "InvalidResourceGroupLocation",
                    f"Invalid resource group location "
                    f"'{location}'. The Resource group already exists in location "
                    f"'{row['location']}'.",
                )
            self.db.execute(
                "UPDATE resource_groups SET managed_by = ?, tags = ? WHERE key = ?",
                (managed_by, json.dumps(tags), key),
            )
        else:
            sub, name = rid.split("/")[2], rid.split("/")[4]
            self.db.execute(
                "INSERT INTO resource_groups VALUES (?, ?, ?, ?, ?, ?, ?, 'Succeeded')",
                (key, rid, sub.lower(), name, location, managed_by, json.dumps(tags)),
            )
        return _rg_json(self.db.execute("SELECT * FROM resource_groups WHERE key = ?", (key,)).fetchone()), (
            row is None
        )

    def begin_delete_rg(self, key: str, due: float | None, outcome: dict[str, Any] | None) -> str | None:
        row = self.db.execute("SELECT * FROM resource_groups WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        if row["state"] == "Deleting":
            op = self.db.execute(
                "SELECT id FROM operations WHERE kind = 'deleteResourceGroup' AND target = ? AND status = "
                "'Running' ORDER BY started DESC",
                (key,),
            ).fetchone()
            if op is not None:
                return str(op["id"])
        self.db.execute("UPDATE resource_groups SET state = 'Deleting' WHERE key = ?", (key,))
        return self._new_op("deleteResourceGroup", key, due, outcome)

    def _require_rg(self, rg_key: str) -> None:
        row = self.db.execute("SELECT name, state FROM resource_groups WHERE key = ?", (rg_key,)).fetchone()
        if row is None:
            raise rg_not_found(rg_key.split("/")[-1])
        if row["state"] == "Deleting":
            raise ArmError(409, "ResourceGroupBeingDeleted", f"The resource group '{row['name']}' is being deleted.")

    # -- generic resources ------------------------------------------------------------------------------

    def _exists(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM resources WHERE key = ?", (key,)).fetchone() is not None

    def _upsert(self, rg_key: str, rid: str, rtype: str, name: str, body: dict[str, Any], state: str) -> None:
        self.db.execute(
            "INSERT INTO resources VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
            " body = excluded.body, state = excluded.state",
            (rid.lower(), rg_key, rid, rtype, name, json.dumps(body), state, time.time()),
        )
        for hook in self.hooks:
            hook.upserted(rg_key, rid.lower(), rtype)

    def _delete_tree(self, key: str) -> None:
        # a key range (children sort between "<key>/" and "<key>0") uses the primary key; substr() scanned every row
        self.db.execute("DELETE FROM resources WHERE key = ? OR (key >= ? AND key < ?)", (key, key + "/", key + "0"))
        self.db.execute("DELETE FROM power_states WHERE key = ? OR (key >= ? AND key < ?)", (key, key + "/", key + "0"))
        for hook in self.hooks:
            hook.deleted(key)

    def get_resource(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM resources WHERE key = ?", (key,)).fetchone()
        return None if row is None else _resource_json(row)

    def list_resources(self, rg_key: str) -> list[dict[str, Any]]:
        self._require_rg(rg_key)
        rows = self.db.execute("SELECT * FROM resources WHERE rg_key = ? ORDER BY created, key", (rg_key,))
        return [_resource_json(r) for r in rows]

    def put_resource(
        self, rid: str, rtype: str, name: str, body: dict[str, Any], lro: bool, due: float | None
    ) -> tuple[dict[str, Any], bool, str | None]:
        segs = rid.split("/")  # ['', 'subscriptions', sub, 'resourceGroups', rg, 'providers', ...]
        rg_key = rg_id(segs[2], segs[4]).lower()
        self._require_rg(rg_key)
        parent = parent_id(rid)
        if parent and not self._exists(parent.lower()):
            raise ArmError(
                404,
                "ParentResourceNotFound",
                f"Can not perform requested operation on nested resource. Parent resource '{parent}' not found.",
            )
        created = not self._exists(rid.lower())
        existing = self.db.execute("SELECT id FROM resources WHERE key = ?", (rid.lower(),)).fetchone()
        canonical = existing["id"] if existing else rid
        state = ("Creating" if created else "Updating") if lro else "Succeeded"
        self._upsert(rg_key, canonical, rtype, name, body, state)
        op_id = self._new_op("putResource", rid.lower(), due, None) if lro else None
        got = self.get_resource(rid.lower())
        assert got is not None
        return got, created, op_id

    def begin_delete_resource(self, key: str, lro: bool, due: float | None) -> tuple[bool, str | None]:
        if not self._exists(key):
            return False, None
        if not lro:
            self._delete_tree(key)
            return True, None
        self.db.execute("UPDATE resources SET state = 'Deleting' WHERE key = ?", (key,))
        return True, self._new_op("deleteResource", key, due, None)

    def vms(self, rg_key: str) -> list[dict[str, Any]]:
        """The group's VMs, with ``created`` and their power state (``powerState``, ``powerChanged``)."""
        rows = self.db.execute(
            "SELECT r.*, p.state AS power, p.changed AS power_changed FROM resources r"
            " LEFT JOIN power_states p ON p.key = r.key WHERE r.rg_key = ?"
            " AND lower(r.type) = 'microsoft.compute/virtualmachines' AND r.state = 'Succeeded' ORDER BY r.name",
            (rg_key,),
        )
        return [
            _resource_json(r)
            | {"created": r["created"], "powerState": r["power"] or "running", "powerChanged": r["power_changed"]}
            for r in rows
        ]

    # -- deployments ------------------------------------------------------------------------------------

    def rg_location(self, rg_key: str) -> str:
        self._require_rg(rg_key)
        row = self.db.execute("SELECT location FROM resource_groups WHERE key = ?", (rg_key,)).fetchone()
        return str(row["location"])

    def begin_deploy(
        self,
        dep_id: str,
        mode: str,
        plan: list[PlannedResource],
        outputs: dict[str, Any],
        due: float | None,
        outcome: dict[str, Any] | None,
    ) -> tuple[dict[str, Any], bool, str]:
        key = dep_id.lower()
        rg_key = "/".join(key.split("/")[:5])
        self._require_rg(rg_key)
        row = self.db.execute("SELECT * FROM deployments WHERE key = ?", (key,)).fetchone()
        for op in self.db.execute(
            "SELECT id FROM operations WHERE kind = 'deploy' AND target = ? AND status = 'Running'", (key,)
        ).fetchall():
            self._end_op(op["id"], "Canceled", {"code": "DeploymentCanceled", "message": "Superseded."})
        body = {
            "id": row["id"] if row else dep_id,
            "name": row["name"] if row else dep_id.rsplit("/", 1)[1],
            "type": "Microsoft.Resources/deployments",
            "properties": {
                "provisioningState": "Running",
                "mode": mode,
                "timestamp": iso(time.time()),
                "correlationId": str(uuid.uuid4()),
            },
        }
        self.db.execute(
            "INSERT INTO deployments VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET body = excluded.body",
            (key, rg_key, body["id"], body["name"], json.dumps(body)),
        )
        payload = {
            "resources": [{"id": p.id, "type": p.type, "name": p.name, "body": p.body} for p in plan],
            "outputs": outputs,
        }
        op_id = self._new_op("deploy", key, due, outcome, payload)
        return body, row is None, op_id

    def get_deployment(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT body FROM deployments WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(json.loads(row["body"]))


def deployment_failed(code: str, message: str) -> dict[str, Any]:
    return {
        "code": "DeploymentFailed",
        "message": "At least one resource deployment operation failed. Please list deployment operations "
        f"for details. {code}: {message}",
        "details": [{"code": code, "message": message}],
    }
