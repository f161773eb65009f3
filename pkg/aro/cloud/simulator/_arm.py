"""The ARM REST surface azure-mgmt-resource's ``ResourceManagementClient`` uses.

| request | answer |
|---|---|
| GET ``/subscriptions/{s}/resourcegroups`` | 200 ``{"value": [...]}`` |
| PUT/GET/HEAD ``.../resourcegroups/{rg}`` | 201 or 200 / 200 or 404 / 204 or 404 |
| DELETE ``.../resourcegroups/{rg}`` | 202 + ``Location`` (poll: 202 while running, then 204); 404 if absent |
| GET ``.../resourcegroups/{rg}/resources`` | 200 ``{"value": [...]}`` |
| PUT ``.../providers/Microsoft.Resources/deployments/{name}`` | 201/200 + ``Azure-AsyncOperation`` |
| GET/HEAD ``.../deployments/{name}`` | the deployment with ``provisioningState`` and ``outputs`` |
| PUT/GET/HEAD/DELETE ``.../providers/{ns}/{type}/{name}[/{type}/{name}]`` | generic resources; with a step
  delay PUT answers with ``Azure-AsyncOperation`` and DELETE with 202 + ``Location``; DELETE absent: 204 |
| ``.../Microsoft.Compute/virtualMachineScaleSets/{name}/virtualMachines[/{id}]`` | scale set instances (``_vmss``) |
| POST ``.../virtualMachines/{name}/deallocate`` (``start``, ``powerOff``; scale sets and their instances too), GET
  ``.../instanceView`` | machines' power (``_power``) |
| GET ``/subscriptions[/{s}]`` | the directory's subscriptions (``_directory``); providers and regions: ``_providers`` |
| ``Microsoft.Network`` virtual networks, subnets, security groups, route tables; ``{any scope}/providers/
  Microsoft.Authorization`` role definitions, assignments, permissions; ``Microsoft.ManagedIdentity`` identities |
  real state: ``_network``, ``_authorization``, ``_identities`` |
| GET ``/subscriptions/{s}/providers/Microsoft.Resources/operationStatuses/{id}`` | ``{status, error?}`` |
| GET ``/subscriptions/{s}/operationresults/{id}`` | 202 + ``Location`` while running; 204; or the error |
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from typing import TYPE_CHECKING, Any

from . import _authorization as authorization
from . import _identities as identities
from . import _netcheck as netcheck
from . import _network as network
from . import _power as power
from . import _vmss as vmss
from ._errors import ArmError, not_found, rg_not_found
from ._http import Request, Response
from ._store import deployment_failed
from ._template import TemplateError, expand, rg_id

if TYPE_CHECKING:
    from ._app import SimulatorApp

# the tables of the ARM state modules (``SimulatorApp`` opens the store with them)
STATE_SCHEMA = network.SCHEMA + authorization.SCHEMA + identities.SCHEMA
_RG_NAME = re.compile(r"^[-\w._()]{1,90}$")
_RESOURCE_FIELDS = ("location", "tags", "sku", "kind", "zones", "identity", "plan", "managedBy")


class ArmHandlers:
    def __init__(self, app: SimulatorApp) -> None:
        self.app = app
        self.store = app.store
        self.faults = app.faults
        self.power = power.Power(app)
        self.network = network.Network(self)  # real state for the resources `az aro create` checks
        self.authorization = authorization.Authorization(self)
        self.identities = identities.Identities(self)
        self.store.hooks += [self.network, self.authorization, self.identities]

    @property
    def delay(self) -> float:
        return self.app.config.step_delay_seconds

    def _due(self, hang: bool) -> float | None:
        return None if hang else time.time() + self.delay

    def _retry_after(self, remaining: float | None) -> str:
        # whole seconds, rounded up and capped at 1 s: int() turned the last second of every operation into
        # "0", i.e. the client's fallback interval (50 ms in `aro rp`) -- ~9 extra polls per install at 1 s
        # step delay; the cap keeps a long simulated step from delaying the poll that sees it finish
        return "1" if remaining is None else str(min(1, math.ceil(remaining)))

    def _async_headers(self, req: Request, sub: str, op_id: str, location: bool = False) -> dict[str, str]:
        api = req.query["api-version"]
        if location:
            url = f"{req.base_url}/subscriptions/{sub}/operationresults/{op_id}?api-version={api}"
            return {"Location": url, "Retry-After": self._retry_after(self.delay)}
        url = f"{req.base_url}/subscriptions/{sub}/providers/Microsoft.Resources/operationStatuses/{op_id}"
        return {
            "Azure-AsyncOperation": f"{url}?api-version={api}",
            "Retry-After": self._retry_after(self.delay),
        }

    async def dispatch(self, req: Request) -> Response:
        lsegs, n = req.lsegs, len(req.lsegs)
        if n <= 2:  # the subscriptions themselves (``_directory``)
            return self.app.directory.subscriptions(req)
        if authorization.handles(lsegs):  # {any scope}/providers/Microsoft.Authorization/...
            return await self.authorization.dispatch(req)
        if network.handles(lsegs):
            return await self.network.dispatch(req)
        if identities.handles(lsegs):
            return await self.identities.dispatch(req)
        if n == 3 and lsegs[2] == "resourcegroups" and req.method == "GET":
            return Response(200, {"value": await self.store.run(self.store.list_rgs, req.segs[1])})
        if n == 4 and lsegs[2] == "resourcegroups":
            return await self._resource_group(req)
        if n == 5 and lsegs[2] == "resourcegroups" and lsegs[4] == "resources" and req.method == "GET":
            rg_key = rg_id(req.segs[1], req.segs[3]).lower()
            return Response(200, {"value": await self.store.run(self.store.list_resources, rg_key)})
        if n == 6 and lsegs[2:5] == ["providers", "microsoft.resources", "operationstatuses"]:
            return await self._operation(req, location=False)
        if n == 4 and lsegs[2] == "operationresults":
            return await self._operation(req, location=True)
        if n >= 8 and lsegs[2] == "resourcegroups" and lsegs[4] == "providers":
            if power.handles(lsegs):
                return await self.power.dispatch(req)
            if n in (9, 10) and lsegs[5:7] == ["microsoft.compute", "virtualmachinescalesets"]:
                if lsegs[8] == "virtualmachines":
                    return await self.app.scale_sets.dispatch(req)
            if n == 8 and lsegs[5:7] == ["microsoft.resources", "deployments"]:
                return await self._deployment(req)
            if n % 2 == 0:
                return await self._generic(req)
        raise ArmError(404, "NotFound", f"No route for {req.method} /{'/'.join(req.segs)}.")

    # -- long-running operations ----------------------------------------------------------------------------

    async def _operation(self, req: Request, location: bool) -> Response:
        sub, op_id = req.segs[1], req.segs[-1]
        op = await self.store.run(self.store.get_operation, op_id)
        if op is None or not op["target"].startswith(f"/subscriptions/{sub.lower()}/"):
            raise ArmError(404, "NotFound", f"The operation '{op_id}' was not found.")
        status = op["status"]
        if location:
            if status == "Running":
                return Response(202, None, self._poll_headers(req, op, True))
            if status == "Succeeded":
                return Response(204)
            raise ArmError(
                409 if status == "Canceled" else 400,
                op["error"]["code"],
                op["error"]["message"],
                op["error"].get("details"),
            )
        body: dict[str, Any] = {k: op[k] for k in ("name", "status", "startTime", "endTime", "error") if k in op}
        body["id"] = f"/subscriptions/{sub}/providers/Microsoft.Resources/operationStatuses/{op_id}"
        return Response(200, body, self._poll_headers(req, op, False) if status == "Running" else {})

    def _poll_headers(self, req: Request, op: dict[str, Any], location: bool) -> dict[str, str]:
        headers = {"Retry-After": self._retry_after(op.get("remaining"))}
        if location:
            headers["Location"] = f"{req.base_url}/{'/'.join(req.segs)}?api-version={req.query['api-version']}"
        return headers

    # -- resource groups ------------------------------------------------------------------------------------

    async def _resource_group(self, req: Request) -> Response:
        sub, name = req.segs[1], req.segs[3]
        rid = rg_id(sub, name)
        key = rid.lower()
        if req.method in ("GET", "HEAD"):
            rg = await self.store.run(self.store.get_rg, key)
            if rg is None:
                raise rg_not_found(name)
            return Response(204) if req.method == "HEAD" else Response(200, rg)
        if req.method == "PUT":
            body = req.json()
            if not _RG_NAME.match(name) or name.endswith("."):
                raise ArmError(400, "InvalidResourceGroupName", f"The resource group name '{name}' is invalid.")
            if not isinstance(body.get("location"), str) or not body["location"]:
                raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
            tags = body.get("tags") or {}
            if not isinstance(tags, dict):
                raise ArmError(400, "InvalidRequestContent", "'tags' must be an object.")
            rule = self.faults.hit("createResourceGroup", name)
            if rule is not None and rule.mode == "fail":
                raise ArmError(rule.status, rule.error_code(), rule.error_message("createResourceGroup", name))
            if rule is not None:  # hang: hold the request until the client gives up
                await req.wait_disconnect()
                raise ArmError(504, "GatewayTimeout", "The request timed out.")
            if self.delay:
                await asyncio.sleep(self.delay)
            rg, created = await self.store.run(
                self.store.put_rg,
                rid,
                body["location"],
                body.get("managedBy"),
                {str(k): str(v) for k, v in tags.items()},
            )
            return Response(201 if created else 200, rg)
        if req.method == "DELETE":
            if await self.store.run(self.store.get_rg, key) is None:
                raise rg_not_found(name)
            rule = self.faults.hit("deleteResourceGroup", name)
            if rule is not None and rule.mode == "fail":
                raise ArmError(rule.status, rule.error_code(), rule.error_message("deleteResourceGroup", name))
            op_id = await self.store.run(self.store.begin_delete_rg, key, self._due(rule is not None), None)
            if op_id is None:
                raise rg_not_found(name)
            return Response(202, None, self._async_headers(req, sub, op_id, location=True))
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on resource groups.")

    # -- deployments ----------------------------------------------------------------------------------------

    async def _deployment(self, req: Request) -> Response:
        sub, rg, name = req.segs[1], req.segs[3], req.segs[7]
        dep_id = f"{rg_id(sub, rg)}/providers/Microsoft.Resources/deployments/{name}"
        if req.method in ("GET", "HEAD"):
            dep = await self.store.run(self.store.get_deployment, dep_id.lower())
            if dep is None:
                raise ArmError(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")
            return Response(204) if req.method == "HEAD" else Response(200, dep)
        if req.method != "PUT":
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on deployments.")
        props = req.json().get("properties")
        if not isinstance(props, dict):
            raise ArmError(400, "InvalidRequestContent", "The deployment 'properties' are required.")
        mode = str(props.get("mode", ""))
        if mode.lower() != "incremental":
            raise ArmError(
                400,
                "InvalidDeploymentMode",
                f"Deployment mode '{mode}' is not supported by the simulator; use 'Incremental'.",
            )
        if "template" not in props:
            raise ArmError(400, "InvalidTemplate", "The deployment must carry an inline 'template'.")
        location = await self.store.run(self.store.rg_location, rg_id(sub, rg).lower())
        try:
            plan, outputs = expand(
                props["template"],
                props.get("parameters") or {},
                subscription_id=sub,
                resource_group=rg,
                location=location,
            )
        except TemplateError as e:
            raise ArmError(400, "InvalidTemplate", f"Deployment template validation failed: '{e.message}'.") from e
        for p in plan:
            vmss.validate(p.type, p.body)
            netcheck.planned(p.type, p.id, p.body)
        rule = self.faults.hit("deploy", name, *(p.name for p in plan))
        outcome = None
        if rule is not None and rule.mode == "fail":
            outcome = deployment_failed(rule.error_code(), rule.error_message("deploy", name))
        due = self._due(rule is not None and rule.mode == "hang")
        body, created, op_id = await self.store.run(
            self.store.begin_deploy, dep_id, "Incremental", plan, outputs, due, outcome
        )
        return Response(201 if created else 200, body, self._async_headers(req, sub, op_id))

    # -- generic resources ----------------------------------------------------------------------------------

    async def _generic(self, req: Request) -> Response:
        segs = req.segs
        sub, rg, ns, rest = segs[1], segs[3], segs[5], segs[6:]
        types, names = rest[0::2], rest[1::2]
        rtype, name = "/".join([ns, *types]), "/".join(names)
        rid = f"{rg_id(sub, rg)}/providers/{ns}/" + "/".join(rest)
        key = rid.lower()
        if req.method in ("GET", "HEAD"):
            res = await self.store.run(self.store.get_resource, key)
            if res is None:
                if await self.store.run(self.store.get_rg, rg_id(sub, rg).lower()) is None:
                    raise rg_not_found(rg)
                raise not_found("Resource", f"{rtype}/{name}' under resource group '{rg}")
            if req.method == "GET" and req.query.get("$expand", "").lower() == "instanceview" and len(segs) == 8:
                if rtype.lower() == "microsoft.compute/virtualmachines":
                    res = await self.store.run(power.with_instance_view, self.store, res)
            return Response(204) if req.method == "HEAD" else Response(200, res)
        if req.method == "PUT":
            raw = req.json()
            body: dict[str, Any] = {k: raw[k] for k in _RESOURCE_FIELDS if k in raw}
            properties = raw.get("properties") or {}
            if not isinstance(properties, dict):
                raise ArmError(400, "InvalidRequestContent", "'properties' must be an object.")
            body["properties"] = {k: v for k, v in properties.items() if k != "provisioningState"}
            vmss.validate(rtype, body)
            rule = self.faults.hit("putResource", rid)
            if rule is not None and rule.mode == "fail":
                raise ArmError(rule.status, rule.error_code(), rule.error_message("putResource", rid))
            lro = rule is not None or self.delay > 0
            res, created, op_id = await self.store.run(
                self.store.put_resource, rid, rtype, name, body, lro, self._due(rule is not None)
            )
            headers = self._async_headers(req, sub, op_id) if op_id else {}
            return Response(201 if created else 200, res, headers)
        if req.method == "DELETE":
            if await self.store.run(self.store.get_resource, key) is None:
                return Response(204)
            rule = self.faults.hit("deleteResource", rid)
            if rule is not None and rule.mode == "fail":
                raise ArmError(rule.status, rule.error_code(), rule.error_message("deleteResource", rid))
            lro = rule is not None or self.delay > 0
            existed, op_id = await self.store.run(
                self.store.begin_delete_resource, key, lro, self._due(rule is not None)
            )
            if not existed:
                return Response(204)
            if op_id is None:
                return Response(200)
            return Response(202, None, self._async_headers(req, sub, op_id, location=True))
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on resources.")
