"""Virtual machine scale sets: the instances behind ``sku.capacity``, and a knob standing in for the cluster
autoscaler.

A scale set itself is a generic resource (PUT/GET/DELETE ``.../providers/Microsoft.Compute/
virtualMachineScaleSets/{name}``, directly or in a template deployment, with the generic LRO behaviour).
Every write of one reconciles its instances, which persist in ``vmss_instances``:

- more capacity: new instances with the next instance ids (ids only grow, as on Azure: a removed id is
  never reused while the scale set lives), each recording the scale set's
  ``properties.virtualMachineProfile.osProfile.customData`` at the time it is created -- so a changed
  model reaches new instances only (``latestModelApplied`` tells which);
- less capacity: the newest instances go first;
- the same capacity (a retried PUT): no instance changes;
- no ``sku.capacity`` in the body: the current count is kept (0 for a new scale set).

A capacity outside 0..1000 or bad autoscaling tags (below) is a 400 ``InvalidParameter``, for a PUT and
for a deployment (checked when the deployment is submitted).

An instance is ``Creating`` until the simulator's step delay has passed, then ``Succeeded``; only then
does it register as a node (``_kubenodes.instance_node``), Ready while its power state is ``running``
(``_power``: deallocate / start / powerOff of the scale set or of one instance).

| request | answer |
|---|---|
| GET ``.../virtualMachineScaleSets/{name}/virtualMachines`` | 200 ``{"value": [instance, ...]}`` by instance id |
| GET ``.../virtualMachineScaleSets/{name}/virtualMachines/{instanceId}`` | 200 the instance, or 404 |
| DELETE ``.../virtualMachineScaleSets/{name}/virtualMachines/{instanceId}`` | 200 (capacity drops by one); 204 absent |

With ``$expand=instanceView`` the instances carry ``properties.instanceView`` (their power state).

An instance is ``{"id", "name": "{scaleSet}_{instanceId}", "type", "location", "instanceId", "sku",
"properties": {"vmId", "provisioningState", "latestModelApplied", "timeCreated", "osProfile":
{"computerName"}, "hardwareProfile": {"vmSize"}}}``.

**Autoscaler.** A scale set tagged ``aro-autoscaling: enabled`` with ``min`` and ``max`` tags (integers,
0 <= min <= max <= 1000; AKS's tag names) has its capacity set by the simulator: clamp(demand, min, max),
applied on every write of the scale set and on every change of its demand; GET shows the managed
capacity. Demand is per scale set, set by an admin (bearer token) call::

    PUT /simulator/autoscaler   {"scaleSet": "<scale set resource id>", "demand": 5}   # null: back to min
    -> 200 {"scaleSet", "demand", "autoscaled", "capacity"}
    GET /simulator/autoscaler   -> 200 {"value": [{"scaleSet", "demand", "autoscaled", "capacity"}, ...]}

Default demand is ``min``. Without the tag, capacity is what the client PUT (the demand is kept, unused).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import ArmError, not_found, rg_not_found
from ._http import Request, Response
from ._kubenodes import computer_name
from ._power import statuses
from ._store import iso
from ._template import rg_id

if TYPE_CHECKING:
    from ._store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS vmss_instances (
  vmss_key TEXT NOT NULL, instance_id INTEGER NOT NULL, rg_key TEXT NOT NULL,
  computer_name TEXT NOT NULL, custom_data TEXT NOT NULL, vm_size TEXT NOT NULL, vm_id TEXT NOT NULL,
  created REAL NOT NULL, ready REAL NOT NULL, PRIMARY KEY (vmss_key, instance_id));
CREATE INDEX IF NOT EXISTS vmss_instances_rg ON vmss_instances(rg_key);
CREATE TABLE IF NOT EXISTS vmss_state (vmss_key TEXT PRIMARY KEY, next_id INTEGER NOT NULL, demand INTEGER);
"""
TYPE = "microsoft.compute/virtualmachinescalesets"
MAX_CAPACITY = 1000
_INSTANCE_TYPE = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"


def _tag(tags: Any, name: str) -> str | None:
    for k, v in (tags or {}).items() if isinstance(tags, dict) else []:
        if str(k).lower() == name:
            return str(v)
    return None


def autoscale_bounds(body: dict[str, Any]) -> tuple[int, int] | None:
    """(min, max) of an autoscaled scale set, None when it is not autoscaled. Raises on bad tags."""
    tags = body.get("tags")
    if (_tag(tags, "aro-autoscaling") or "").lower() != "enabled":
        return None
    try:
        low, high = int(_tag(tags, "min") or ""), int(_tag(tags, "max") or "")
    except ValueError:
        raise ArmError(400, "InvalidParameter", "An autoscaled scale set needs integer 'min' and 'max' tags.") from None
    if not 0 <= low <= high <= MAX_CAPACITY:
        raise ArmError(400, "InvalidParameter", f"The autoscaling tags need 0 <= min <= max <= {MAX_CAPACITY}.")
    return low, high


def validate(rtype: str, body: dict[str, Any]) -> None:
    """Reject a scale set body the simulator could not reconcile (before anything is stored)."""
    if rtype.lower() != TYPE:
        return
    capacity = (body.get("sku") or {}).get("capacity") if isinstance(body.get("sku"), dict) else None
    if capacity is not None and (
        isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= MAX_CAPACITY
    ):
        raise ArmError(
            400, "InvalidParameter", f"The value of parameter sku.capacity is invalid: 0 to {MAX_CAPACITY} expected."
        )
    autoscale_bounds(body)


def _custom_data(body: dict[str, Any]) -> str:
    profile = ((body.get("properties") or {}).get("virtualMachineProfile") or {}).get("osProfile") or {}
    value = profile.get("customData")
    return value if isinstance(value, str) else ""


def _prefix(body: dict[str, Any], name: str) -> str:
    profile = ((body.get("properties") or {}).get("virtualMachineProfile") or {}).get("osProfile") or {}
    value = profile.get("computerNamePrefix")
    return value if isinstance(value, str) and value else name


class ScaleSets:
    """Scale set instances; the ``Store`` calls the hook methods inside its transactions."""

    def __init__(self, store: Store, ready_delay: Callable[[], float]) -> None:
        self.store = store
        self._ready_delay = ready_delay

    @property
    def db(self) -> Any:
        return self.store.db

    # -- store hooks (database thread) ---------------------------------------------------------------------

    def upserted(self, rg_key: str, key: str, rtype: str) -> None:
        if rtype.lower() == TYPE:
            self.reconcile(key)

    def deleted(self, key: str) -> None:
        for table in ("vmss_instances", "vmss_state"):
            self.db.execute(
                f"DELETE FROM {table} WHERE vmss_key = ? OR (vmss_key >= ? AND vmss_key < ?)",
                (key, key + "/", key + "0"),
            )

    def rg_deleted(self, rg_key: str) -> None:
        self.db.execute("DELETE FROM vmss_instances WHERE rg_key = ?", (rg_key,))
        self.db.execute("DELETE FROM vmss_state WHERE vmss_key >= ? AND vmss_key < ?", (rg_key + "/", rg_key + "0"))

    # -- reconcile -----------------------------------------------------------------------------------------

    def _state(self, key: str) -> tuple[int, int | None]:
        row = self.db.execute("SELECT next_id, demand FROM vmss_state WHERE vmss_key = ?", (key,)).fetchone()
        return (0, None) if row is None else (int(row["next_id"]), row["demand"])

    def reconcile(self, key: str, now: float | None = None) -> int:
        """Make the instances match the wanted capacity; returns it."""
        now = time.time() if now is None else now
        row = self.db.execute("SELECT rg_key, name, body FROM resources WHERE key = ?", (key,)).fetchone()
        if row is None:
            return 0
        body = json.loads(row["body"])
        next_id, demand = self._state(key)
        ids = [
            r[0]
            for r in self.db.execute(
                "SELECT instance_id FROM vmss_instances WHERE vmss_key = ? ORDER BY instance_id", (key,)
            )
        ]
        sku = body.get("sku") if isinstance(body.get("sku"), dict) else {}
        bounds = autoscale_bounds(body)
        if bounds is not None:
            low, high = bounds
            wanted = min(max(low if demand is None else int(demand), low), high)
        else:
            capacity = sku.get("capacity")
            wanted = capacity if isinstance(capacity, int) and not isinstance(capacity, bool) else len(ids)
        if len(ids) < wanted:
            custom, size = _custom_data(body), str(sku.get("name") or "Standard_D4s_v5")
            prefix = _prefix(body, str(row["name"]))
            for iid in range(next_id, next_id + wanted - len(ids)):
                self.db.execute(
                    "INSERT INTO vmss_instances VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        iid,
                        row["rg_key"],
                        computer_name(prefix, iid),
                        custom,
                        size,
                        str(uuid.uuid4()),
                        now,
                        now + self._ready_delay(),
                    ),
                )
            next_id += wanted - len(ids)
        elif len(ids) > wanted:
            for iid in ids[wanted:]:
                self.db.execute("DELETE FROM vmss_instances WHERE vmss_key = ? AND instance_id = ?", (key, iid))
        self.db.execute(
            "INSERT INTO vmss_state VALUES (?, ?, ?) ON CONFLICT(vmss_key) DO UPDATE SET next_id = excluded.next_id",
            (key, next_id, demand),
        )
        if sku.get("capacity") != wanted:
            body["sku"] = {**sku, "capacity": wanted}
            self.db.execute("UPDATE resources SET body = ? WHERE key = ?", (json.dumps(body), key))
        return wanted

    # -- reads ---------------------------------------------------------------------------------------------

    def _instances(self, where: str, arg: str, now: float, ready_only: bool) -> list[dict[str, Any]]:
        sql = (
            "SELECT i.*, r.id AS vmss_id, r.name AS vmss_name, r.body AS vmss_body,"
            " p.state AS power, p.changed AS power_changed FROM vmss_instances i"
            " JOIN resources r ON r.key = i.vmss_key"
            " LEFT JOIN power_states p ON p.key = i.vmss_key || '/virtualmachines/' || i.instance_id"
            f" WHERE {where} = ?"
        )
        if ready_only:
            sql += " AND i.ready <= ?"
        out = []
        for r in self.db.execute(sql + " ORDER BY i.vmss_key, i.instance_id", (arg, now) if ready_only else (arg,)):
            vmss = json.loads(r["vmss_body"])
            iid = int(r["instance_id"])
            out.append(
                {
                    "id": f"{r['vmss_id']}/virtualMachines/{iid}",
                    "name": f"{r['vmss_name']}_{iid}",
                    "instanceId": iid,
                    "computerName": r["computer_name"],
                    "customData": r["custom_data"],
                    "latestModelApplied": r["custom_data"] == _custom_data(vmss),
                    "vmSize": r["vm_size"],
                    "vmId": r["vm_id"],
                    "location": str(vmss.get("location", "")),
                    "created": float(r["created"]),
                    "ready": float(r["ready"]) <= now,
                    "powerState": r["power"] or "running",
                    "powerChanged": r["power_changed"],
                }
            )
        return out

    def rg_instances(self, rg_key: str, now: float | None = None) -> list[dict[str, Any]]:
        """The running (registered) instances of every scale set in a resource group."""
        return self._instances("i.rg_key", rg_key, time.time() if now is None else now, True)

    def instances(self, key: str) -> list[dict[str, Any]]:
        return self._instances("i.vmss_key", key, time.time(), False)

    @staticmethod
    def arm_json(inst: dict[str, Any], view: bool = False) -> dict[str, Any]:
        out = ScaleSets._arm_json(inst)
        if view:
            out["properties"]["instanceView"] = {
                "computerName": inst["computerName"],
                "statuses": statuses(inst["powerState"], inst["powerChanged"], out["properties"]["provisioningState"]),
            }
        return out

    @staticmethod
    def _arm_json(inst: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": inst["id"],
            "name": inst["name"],
            "type": _INSTANCE_TYPE,
            "location": inst["location"],
            "instanceId": str(inst["instanceId"]),
            "sku": {"name": inst["vmSize"], "tier": "Standard"},
            "properties": {
                "vmId": inst["vmId"],
                "provisioningState": "Succeeded" if inst["ready"] else "Creating",
                "latestModelApplied": inst["latestModelApplied"],
                "timeCreated": iso(inst["created"]),
                "osProfile": {"computerName": inst["computerName"]},
                "hardwareProfile": {"vmSize": inst["vmSize"]},
            },
        }

    # -- ARM routes (event loop) ---------------------------------------------------------------------------

    async def dispatch(self, req: Request) -> Response:
        segs = req.segs
        vmss_id = f"{rg_id(segs[1], segs[3])}/providers/{segs[5]}/{segs[6]}/{segs[7]}"
        key = vmss_id.lower()
        view = req.query.get("$expand", "").lower() == "instanceview"
        if len(segs) == 9 and req.method == "GET":
            listed = await self.store.run(self._list, key, segs[3])
            return Response(200, {"value": [self.arm_json(i, view) for i in listed]})
        if len(segs) == 10 and req.method in ("GET", "DELETE"):
            if not segs[9].isdigit():
                raise not_found("Resource", f"{vmss_id}/virtualMachines/{segs[9]}")
            if req.method == "GET":
                found = [i for i in await self.store.run(self._list, key, segs[3]) if i["instanceId"] == int(segs[9])]
                if not found:
                    raise not_found("Resource", f"{vmss_id}/virtualMachines/{segs[9]}")
                return Response(200, self.arm_json(found[0], view))
            return Response(200 if await self.store.run(self._delete_instance, key, int(segs[9])) else 204)
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on scale set instances.")

    def _list(self, key: str, rg_name: str) -> list[dict[str, Any]]:
        if self.db.execute("SELECT 1 FROM resources WHERE key = ?", (key,)).fetchone() is None:
            rg_key = "/".join(key.split("/")[:5])
            if self.db.execute("SELECT 1 FROM resource_groups WHERE key = ?", (rg_key,)).fetchone() is None:
                raise rg_not_found(rg_name)
            raise not_found("Resource", key)
        return self.instances(key)

    def _delete_instance(self, key: str, iid: int) -> bool:
        cur = self.db.execute("DELETE FROM vmss_instances WHERE vmss_key = ? AND instance_id = ?", (key, iid))
        if not cur.rowcount:
            return False
        row = self.db.execute("SELECT body FROM resources WHERE key = ?", (key,)).fetchone()
        if row is not None:
            body = json.loads(row["body"])
            (count,) = self.db.execute("SELECT COUNT(*) FROM vmss_instances WHERE vmss_key = ?", (key,)).fetchone()
            body["sku"] = {**(body.get("sku") or {}), "capacity": int(count)}
            self.db.execute("UPDATE resources SET body = ? WHERE key = ?", (json.dumps(body), key))
        return True

    # -- the autoscaler knob (admin) -----------------------------------------------------------------------

    async def autoscaler(self, req: Request) -> Response:
        if req.method == "GET":
            return Response(200, {"value": await self.store.run(self._demands)})
        if req.method != "PUT":
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not allowed.")
        body = req.json()
        scale_set, demand = body.get("scaleSet"), body.get("demand")
        if not isinstance(scale_set, str) or not scale_set.startswith("/subscriptions/"):
            raise ArmError(400, "InvalidRequestContent", "'scaleSet' must be a scale set resource id.")
        if demand is not None and (isinstance(demand, bool) or not isinstance(demand, int) or demand < 0):
            raise ArmError(400, "InvalidRequestContent", "'demand' must be a non-negative integer or null.")
        return Response(200, await self.store.run(self._set_demand, scale_set.lower(), demand))

    def _report(self, key: str) -> dict[str, Any]:
        row = self.db.execute("SELECT id, body FROM resources WHERE key = ?", (key,)).fetchone()
        body = json.loads(row["body"])
        _, demand = self._state(key)
        return {
            "scaleSet": row["id"],
            "demand": demand,
            "autoscaled": autoscale_bounds(body) is not None,
            "capacity": (body.get("sku") or {}).get("capacity", 0),
        }

    def _set_demand(self, key: str, demand: int | None) -> dict[str, Any]:
        row = self.db.execute("SELECT type FROM resources WHERE key = ?", (key,)).fetchone()
        if row is None or str(row["type"]).lower() != TYPE:
            raise not_found("scale set", key)
        next_id, _ = self._state(key)
        self.db.execute(
            "INSERT INTO vmss_state VALUES (?, ?, ?) ON CONFLICT(vmss_key) DO UPDATE SET demand = excluded.demand",
            (key, next_id, demand),
        )
        self.reconcile(key)
        return self._report(key)

    def _demands(self) -> list[dict[str, Any]]:
        keys = [r[0] for r in self.db.execute("SELECT key FROM resources WHERE lower(type) = ? ORDER BY key", (TYPE,))]
        return [self._report(k) for k in keys]
