"""Machines' power: Azure's power actions on virtual machines and scale sets, and their instance views
(what hibernation stops and starts).

- POST ``.../virtualMachines/{name}/deallocate`` (``start``, ``powerOff``): 202 + ``Azure-AsyncOperation``
  + ``Location`` (the LRO, as Azure answers it);
- POST ``.../virtualMachineScaleSets/{name}/deallocate`` (...): the same for every instance, or for those
  of the body ``{"instanceIds": ["0", ...]}``; ``.../virtualMachines/{id}/deallocate`` (...): one instance;
- GET ``.../virtualMachines/{name}/instanceView`` (and the VM's GET with ``$expand=instanceView``):
  ``{"computerName", "statuses": [ProvisioningState/succeeded, PowerState/<state>]}``; the same for a
  scale set instance (``.../virtualMachines/{id}/instanceView``, or the instances with
  ``$expand=instanceView``); a scale set's: ``{"virtualMachine": {"statusesSummary": [{"code":
  "PowerState/<state>", "count"}]}, "statuses"}``.

A machine is ``running`` until an action changes it. An action moves it at once to its transitional state
(``deallocating``, ``stopping``, ``starting``) and, when its operation ends (after the step delay; a
``powerAction`` fault rule makes it fail or hang, matched on the resource id), to ``deallocated``,
``stopped`` or ``running``; a machine already in the final state is left alone (the action is a no-op, as
on Azure). Only a running machine's node is Ready (``_kubenodes``); a scale set's new instances start
running. The states persist in the store (``power_states``), by the VM's key or the instance's
``{scale set key}/virtualmachines/{instance id}``, and go with the machine, its scale set or its group.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from ._errors import ArmError, not_found, rg_not_found
from ._http import Request, Response
from ._template import rg_id

if TYPE_CHECKING:
    from ._app import SimulatorApp

VM = "virtualmachines"
VMSS = "virtualmachinescalesets"
INSTANCE_VIEW = "instanceview"
# action -> (transitional, final)
ACTIONS = {
    "deallocate": ("deallocating", "deallocated"),
    "poweroff": ("stopping", "stopped"),
    "start": ("starting", "running"),
}
_DISPLAY = {
    "running": "VM running",
    "starting": "VM starting",
    "stopping": "VM stopping",
    "stopped": "VM stopped",
    "deallocating": "VM deallocating",
    "deallocated": "VM deallocated",
}
FAULT = "powerAction"


def handles(lsegs: list[str]) -> bool:
    """Whether a ``.../providers/...`` path (lower-cased segments) is one of this module's routes."""
    n = len(lsegs)
    if n < 9 or lsegs[5] != "microsoft.compute":
        return False
    last = lsegs[-1]
    if last not in ACTIONS and last != INSTANCE_VIEW:
        return False
    return (n == 9 and lsegs[6] in (VM, VMSS)) or (n == 11 and lsegs[6] == VMSS and lsegs[8] == VM)


def statuses(state: str, changed: float | None, provisioning: str = "Succeeded") -> list[dict[str, Any]]:
    power: dict[str, Any] = {"code": f"PowerState/{state}", "level": "Info", "displayStatus": _DISPLAY[state]}
    if changed is not None:
        power["time"] = _iso(changed)
    return [
        {
            "code": f"ProvisioningState/{provisioning.lower()}",
            "level": "Info",
            "displayStatus": f"Provisioning {provisioning.lower()}",
        },
        power,
    ]


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}Z"


class Power:
    def __init__(self, app: SimulatorApp) -> None:
        self.app = app
        self.store = app.store
        self.scale_sets = app.scale_sets

    @property
    def db(self) -> Any:
        return self.store.db

    # -- routes (event loop) -------------------------------------------------------------------------------

    async def dispatch(self, req: Request) -> Response:
        segs, lsegs = req.segs, req.lsegs
        sub, rg, last = segs[1], segs[3], lsegs[-1]
        rid = f"{rg_id(sub, rg)}/providers/{segs[5]}/{segs[6]}/{segs[7]}"
        instance = segs[9] if len(segs) == 11 else None
        if last == INSTANCE_VIEW:
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on an instance view.")
            return Response(200, await self.store.run(self._view, rid, lsegs[6], instance, rg))
        if req.method != "POST":
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on /{segs[-1]}.")
        ids: list[str] | None = None
        if lsegs[6] == VMSS and instance is None and req.body:
            raw = req.json().get("instanceIds")
            if raw is not None and (not isinstance(raw, list) or not all(isinstance(i, str) for i in raw)):
                raise ArmError(400, "InvalidParameter", "'instanceIds' must be a list of instance id strings.")
            ids = raw
        target = rid if instance is None else f"{rid}/virtualMachines/{instance}"
        rule = self.app.faults.hit(FAULT, target)
        if rule is not None and rule.mode == "fail":
            raise ArmError(rule.status, rule.error_code(), rule.error_message(FAULT, target))
        due = None if rule is not None else time.time() + self.app.config.step_delay_seconds
        transitional, final = ACTIONS[last]
        op_id = await self.store.run(self._begin, rid, lsegs[6], instance, ids, transitional, final, due, rg)
        return Response(202, None, self._async_headers(req, sub, op_id))

    def _async_headers(self, req: Request, sub: str, op_id: str) -> dict[str, str]:
        api = req.query["api-version"]
        base = f"{req.base_url}/subscriptions/{sub}"
        after = str(min(1, int(self.app.config.step_delay_seconds + 0.999)))
        return {
            "Azure-AsyncOperation": f"{base}/providers/Microsoft.Resources/operationStatuses/{op_id}?api-version={api}",
            "Location": f"{base}/operationresults/{op_id}?api-version={api}",
            "Retry-After": after,
        }

    # -- database thread -----------------------------------------------------------------------------------

    def _resource(self, rid: str, rg_name: str) -> dict[str, Any]:
        res = self.store.get_resource(rid.lower())
        if res is None:
            if self.store.get_rg("/".join(rid.lower().split("/")[:5])) is None:
                raise rg_not_found(rg_name)
            raise not_found("Resource", rid)
        return res

    def _instances(self, rid: str, instance: str | None, wanted: list[str] | None) -> list[int]:
        key = rid.lower()
        have = [
            int(r[0])
            for r in self.db.execute(
                "SELECT instance_id FROM vmss_instances WHERE vmss_key = ? ORDER BY instance_id", (key,)
            )
        ]
        asked = [instance] if instance is not None else wanted
        if asked is None:
            return have
        picked = []
        for i in asked:
            if not i.isdigit() or int(i) not in have:
                raise not_found("Resource", f"{rid}/virtualMachines/{i}")
            picked.append(int(i))
        return picked

    def _begin(
        self,
        rid: str,
        rtype: str,
        instance: str | None,
        wanted: list[str] | None,
        transitional: str,
        final: str,
        due: float | None,
        rg_name: str,
    ) -> str:
        res = self._resource(rid, rg_name)
        if res["properties"].get("provisioningState") == "Deleting":
            raise ArmError(409, "OperationNotAllowed", f"The resource '{rid}' is being deleted.")
        key = rid.lower()
        if rtype == VMSS:
            keys = [f"{key}/{VM}/{i}" for i in self._instances(rid, instance, wanted)]
        else:
            keys = [key]
        moving = [k for k in keys if self.store.power_of(k)[0] != final or self._in_transition(k)]
        return self.store.begin_power(moving, "/".join(key.split("/")[:5]), transitional, final, due)

    def _in_transition(self, key: str) -> bool:
        row = self.db.execute("SELECT op FROM power_states WHERE key = ?", (key,)).fetchone()
        return row is not None and row["op"] is not None

    def _view(self, rid: str, rtype: str, instance: str | None, rg_name: str) -> dict[str, Any]:
        res = self._resource(rid, rg_name)
        key = rid.lower()
        if rtype == VM:
            return vm_view(res, *self.store.power_of(key))
        ids = self._instances(rid, None, None)
        if instance is not None:
            if not instance.isdigit() or int(instance) not in ids:
                raise not_found("Resource", f"{rid}/virtualMachines/{instance}")
            found = [i for i in self.scale_sets.instances(key) if i["instanceId"] == int(instance)]
            name = found[0]["computerName"] if found else ""
            return {
                "platformUpdateDomain": 0,
                "platformFaultDomain": 0,
                "computerName": name,
                "statuses": statuses(*self.store.power_of(f"{key}/{VM}/{instance}")),
            }
        counts: dict[str, int] = {}
        for i in ids:
            state = self.store.power_of(f"{key}/{VM}/{i}")[0]
            counts[state] = counts.get(state, 0) + 1
        return {
            "virtualMachine": {
                "statusesSummary": [{"code": f"PowerState/{s}", "count": n} for s, n in sorted(counts.items())]
            },
            "statuses": statuses("running", None)[:1],
        }


def vm_view(res: dict[str, Any], state: str, changed: float | None) -> dict[str, Any]:
    """A VM's instance view (``res``: the VM as the store renders it)."""
    props = res.get("properties") or {}
    return {
        "computerName": str((props.get("osProfile") or {}).get("computerName") or res.get("name", "")),
        "osName": "redhat",
        "statuses": statuses(state, changed, str(props.get("provisioningState") or "Succeeded")),
    }


def with_instance_view(store: Any, res: dict[str, Any]) -> dict[str, Any]:
    """A VM as GET ``$expand=instanceView`` renders it (database thread)."""
    out = copy.deepcopy(res)
    out.setdefault("properties", {})["instanceView"] = vm_view(res, *store.power_of(str(res["id"]).lower()))
    return out
