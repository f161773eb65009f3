"""Microsoft.Network as real state: virtual networks and their subnets, network security groups, route tables.
``_netcheck`` validates the bodies; this module keeps the state and its references.

| request | answer |
|---|---|
| PUT ``.../Microsoft.Network/virtualNetworks/{v}`` (``networkSecurityGroups``, ``routeTables``) | 201 or 200 with the
  resource; with a step delay ``provisioningState`` is ``Updating`` and ``Azure-AsyncOperation`` is set |
| GET / HEAD the same | 200 / 204, or 404 (``ResourceNotFound``, ``ResourceGroupNotFound``) |
| DELETE the same | 200, or 202 + ``Location`` with a step delay; 204 when absent; 400 while in use |
| GET ``.../resourceGroups/{rg}/providers/Microsoft.Network/{type}``,
  ``/subscriptions/{s}/providers/Microsoft.Network/{type}`` | ``{"value": [...]}`` |
| PUT / GET / DELETE ``.../virtualNetworks/{v}/subnets/{s}``, GET ``.../subnets`` | a subnet (a write of its
  virtual network) |

**Storage.** Virtual networks, security groups and route tables are rows of the store's ``resources`` (a
resource group lists and deletes them; a template deployment writes them like any resource, ``_netcheck.planned``
checking its virtual networks when it is submitted). A virtual network's subnets live in its body, as the
network RP keeps them: a PUT of the virtual network replaces them (an absent ``subnets`` removes them all), a PUT
of a subnet replaces that subnet's properties. ``provisioningState``, ``resourceGuid``, ``etag`` (the subnets share
their virtual network's, as on Azure; it changes with every write and with the state), ids and types are the
RP's, never the client's. ``If-Match`` is honoured (412 ``PreconditionFailed``).

**References** (``network_links``, rebuilt by the store hooks on every write):

- a subnet's ``networkSecurityGroup`` / ``routeTable`` must exist in the virtual network's region
  (400 ``InvalidResourceReference``); the group and the table show them back in ``subnets`` and refuse deletion
  while referenced (400 ``InUseNetworkSecurityGroupCannotBeDeleted`` / ``InUseRouteTableCannotBeDeleted``);
- a network interface's ``ipConfigurations[].properties.subnet.id``, a virtual machine's
  ``networkProfile.networkInterfaces[].properties.subnetId`` (the simplified machine the RP deploys) or a scale
  set's ``networkInterfaceConfigurations[].properties.ipConfigurations[].properties.subnet.id`` naming a subnet
  held here become that subnet's ``ipConfigurations`` (the interface's ipConfiguration id; the machine's or scale
  set's own id). A subnet in use is not deleted or re-addressed (400 ``InUseSubnetCannotBeDeleted`` /
  ``InUseSubnetCannotBeUpdated``), nor is its virtual network. Deleting the user (or its resource group) drops them.

Deliberate difference: deleting a resource group (or a template's resource) that holds a security group or route
table still referenced from a subnet elsewhere succeeds and removes the reference from the subnet (Azure refuses
the deletion; the RP would have to detach first). Bounds: ``MAX_PER_GROUP`` resources of each type per resource
group (ARM's limit) and ``_netcheck``'s.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import _netcheck as check
from ._errors import ArmError, not_found, rg_not_found
from ._http import Request, Response
from ._template import rg_id

if TYPE_CHECKING:
    from ._arm import ArmHandlers

SCHEMA = """
CREATE TABLE IF NOT EXISTS network_links (
  src TEXT NOT NULL, kind TEXT NOT NULL, dst TEXT NOT NULL, src_id TEXT NOT NULL, PRIMARY KEY (src, kind, dst));
CREATE INDEX IF NOT EXISTS network_links_dst ON network_links(dst, kind);
"""
VNET, NSG, RT = "virtualnetworks", "networksecuritygroups", "routetables"
_SEG = {VNET: "virtualNetworks", NSG: "networkSecurityGroups", RT: "routeTables"}
_TYPE = {k: f"Microsoft.Network/{v}" for k, v in _SEG.items()}
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
_NIC, _VM, _VMSS = (
    "microsoft.network/networkinterfaces",
    "microsoft.compute/virtualmachines",
    "microsoft.compute/virtualmachinescalesets",
)
MAX_PER_GROUP = 800
MAX_REFS = 64  # subnet references one network interface, machine or scale set may record
_NSG_LINK, _RT_LINK, _IPCONFIG = "nsg", "routeTable", "ipConfiguration"
_DEFAULT_RULES = (  # (name, direction, priority, access, source, destination, description)
    ("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork",
     "Allow inbound traffic from all VMs in VNET"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*",
     "Allow inbound traffic from azure load balancer"),
    ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*", "Deny all inbound traffic"),
    ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork",
     "Allow outbound traffic from all VMs to all VMs in VNET"),
    ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet",
     "Allow outbound traffic from all VMs to Internet"),
    ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*", "Deny all outbound traffic"),
)  # fmt: skip


def handles(lsegs: list[str]) -> bool:
    n = len(lsegs)
    if n == 5:  # /subscriptions/{s}/providers/Microsoft.Network/{type}
        return lsegs[2:4] == ["providers", "microsoft.network"] and lsegs[4] in _SEG
    if n < 7 or lsegs[2] != "resourcegroups" or lsegs[4:6] != ["providers", "microsoft.network"]:
        return False
    if n in (7, 8):
        return lsegs[6] in _SEG
    return n in (9, 10) and lsegs[6] == VNET and lsegs[8] == "subnets"


def _etag(row: sqlite3.Row) -> str:
    return 'W/"' + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{row['key']}\0{row['state']}\0{row['body']}")) + '"'


def _state(state: str) -> str:
    return "Updating" if state == "Creating" else state  # the network RP never says Creating


def _subnets(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = (body.get("properties") or {}).get("subnets")
    return (
        [s for s in value if isinstance(s, dict) and isinstance(s.get("name"), str)] if isinstance(value, list) else []
    )


def _ref_id(value: Any) -> str | None:
    ref = value.get("id") if isinstance(value, dict) else None
    return ref if isinstance(ref, str) else None


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _items(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def subnet_users(rtype: str, rid: str, body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(ipConfiguration id, subnet id) pairs a network interface, machine or scale set body declares."""
    props = body.get("properties")
    if rtype == _NIC:
        for ipc in _items(_dig(props, "ipConfigurations")):
            subnet = _ref_id(_dig(ipc, "properties", "subnet"))
            if subnet is not None:
                yield f"{rid}/ipConfigurations/{ipc.get('name') or 'ipconfig1'}", subnet
        return
    nics = _dig(props, "networkProfile") if rtype == _VM else _dig(props, "virtualMachineProfile", "networkProfile")
    for nic in _items(_dig(nics, "networkInterfaces")):
        subnet = _dig(nic, "properties", "subnetId")
        if isinstance(subnet, str):
            yield rid, subnet
    for nic in _items(_dig(nics, "networkInterfaceConfigurations")):
        for ipc in _items(_dig(nic, "properties", "ipConfigurations")):
            subnet = _ref_id(_dig(ipc, "properties", "subnet"))
            if subnet is not None:
                yield rid, subnet


class Network:
    """The routes (event loop) and the store hooks (database thread)."""

    def __init__(self, arm: ArmHandlers) -> None:
        self.arm = arm
        self.store = arm.store

    @property
    def db(self) -> sqlite3.Connection:
        return self.store.db

    # -- routes ---------------------------------------------------------------------------------------------

    async def dispatch(self, req: Request) -> Response:
        lsegs, n = req.lsegs, len(req.lsegs)
        kind = lsegs[4] if n == 5 else lsegs[6]
        sub = req.segs[1]
        if n in (5, 7, 9):
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on a list.")
            if n == 5:
                return Response(
                    200, {"value": await self.store.run(self._db_list, kind, f"/subscriptions/{sub}", None)}
                )
            rg = req.segs[3]
            if n == 7:
                return Response(200, {"value": await self.store.run(self._db_list, kind, rg_id(sub, rg), rg)})
            vnet_id = f"{rg_id(sub, rg)}/providers/Microsoft.Network/virtualNetworks/{req.segs[7]}"
            return Response(200, {"value": await self.store.run(self._db_subnet_list, vnet_id, rg)})
        rid = f"{rg_id(sub, req.segs[3])}/providers/Microsoft.Network/{_SEG[kind]}/{req.segs[7]}"
        if n == 10:
            return await self._subnet(req, rid, req.segs[9])
        if req.method in ("GET", "HEAD"):
            found = await self.store.run(self._db_get, rid.lower())
            if found is None:
                raise await self._absent(req, f"{_TYPE[kind]}/{req.segs[7]}")
            return Response(204) if req.method == "HEAD" else Response(200, found)
        if req.method == "PUT":
            return await self._put(req, kind, rid)
        if req.method == "DELETE":
            return await self._delete(req, kind, rid)
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on {_SEG[kind]}.")

    async def _absent(self, req: Request, what: str) -> ArmError:
        rg = req.segs[3]
        if await self.store.run(self.store.get_rg, rg_id(req.segs[1], rg).lower()) is None:
            return rg_not_found(rg)
        return not_found("Resource", f"{what}' under resource group '{rg}")

    def _lro(self, rid: str, operation: str) -> tuple[bool, float | None]:
        """(long-running?, due) after the fault rules for ``operation`` (``putResource``/``deleteResource``)."""
        rule = self.arm.faults.hit(operation, rid)
        if rule is not None and rule.mode == "fail":
            raise ArmError(rule.status, rule.error_code(), rule.error_message(operation, rid))
        return rule is not None or self.arm.delay > 0, self.arm._due(rule is not None)

    def _answer(self, req: Request, created: bool, body: dict[str, Any], op_id: str | None) -> Response:
        headers = self.arm._async_headers(req, req.segs[1], op_id) if op_id else {}
        return Response(201 if created else 200, body, headers)

    def _deleted(self, req: Request, existed: bool, op_id: str | None) -> Response:
        if not existed:
            return Response(204)
        if op_id is None:
            return Response(200)
        return Response(202, None, self.arm._async_headers(req, req.segs[1], op_id, location=True))

    async def _put(self, req: Request, kind: str, rid: str) -> Response:
        raw, name = req.json(), rid.rsplit("/", 1)[1]
        normalize = {VNET: check.virtual_network, NSG: check.network_security_group, RT: check.route_table}[kind]
        body = normalize(rid, name, raw)
        lro, due = self._lro(rid, "putResource")
        if_match = req.headers.get("if-match")
        out, created, op_id = await self.store.run(self._db_put, kind, rid, name, body, lro, due, if_match)
        return self._answer(req, created, out, op_id)

    async def _delete(self, req: Request, kind: str, rid: str) -> Response:
        if await self.store.run(self._db_get, rid.lower()) is None:
            if await self.store.run(self.store.get_rg, rg_id(req.segs[1], req.segs[3]).lower()) is None:
                raise rg_not_found(req.segs[3])
            return Response(204)
        lro, due = self._lro(rid, "deleteResource")
        if_match = req.headers.get("if-match")
        existed, op_id = await self.store.run(self._db_delete, kind, rid.lower(), lro, due, if_match)
        return self._deleted(req, existed, op_id)

    async def _subnet(self, req: Request, vnet_rid: str, name: str) -> Response:
        srid = f"{vnet_rid}/subnets/{name}"
        if req.method == "GET":
            found = await self.store.run(self._db_subnet, vnet_rid.lower(), name)
            if found is None:
                if await self.store.run(self._db_get, vnet_rid.lower()) is None:
                    raise await self._absent(req, f"{_TYPE[VNET]}/{req.segs[7]}")
                raise ArmError(404, "NotFound", f"Resource {srid} not found.")
            return Response(200, found)
        if req.method == "PUT":
            check.check_name(name, "subnets")
            props = check.subnet_properties(req.json().get("properties"), srid, name)
            lro, due = self._lro(srid, "putResource")
            if_match = req.headers.get("if-match")
            got = await self.store.run(self._db_put_subnet, vnet_rid.lower(), name, props, lro, due, if_match)
            if got is None:
                raise await self._absent(req, f"{_TYPE[VNET]}/{req.segs[7]}")
            return self._answer(req, got[1], got[0], got[2])
        if req.method == "DELETE":
            if await self.store.run(self._db_subnet, vnet_rid.lower(), name) is None:
                if await self.store.run(self.store.get_rg, rg_id(req.segs[1], req.segs[3]).lower()) is None:
                    raise rg_not_found(req.segs[3])
                return Response(204)
            lro, due = self._lro(srid, "deleteResource")
            if_match = req.headers.get("if-match")
            existed, op_id = await self.store.run(self._db_delete_subnet, vnet_rid.lower(), name, lro, due, if_match)
            return self._deleted(req, existed, op_id)
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on subnets.")

    # -- reads (database thread) ----------------------------------------------------------------------------

    def _row(self, key: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM resources WHERE key = ?", (key,)).fetchone()
        return row

    def _db_get(self, key: str) -> dict[str, Any] | None:
        row = self._row(key)
        return None if row is None else self._render(row)

    def _db_list(self, kind: str, prefix: str, rg: str | None) -> list[dict[str, Any]]:
        lo = prefix.lower() + "/"
        if rg is not None and self.store.get_rg(prefix.lower()) is None:
            raise rg_not_found(rg)
        rows = self.db.execute(
            "SELECT * FROM resources WHERE key >= ? AND key < ? AND lower(type) = ? ORDER BY key",
            (lo, lo[:-1] + "0", _TYPE[kind].lower()),
        ).fetchall()
        return [self._render(r) for r in rows]

    def _db_subnet_list(self, vnet_id: str, rg: str) -> list[dict[str, Any]]:
        found = self._db_get(vnet_id.lower())
        if found is None:
            if self.store.get_rg("/".join(vnet_id.lower().split("/")[:5])) is None:
                raise rg_not_found(rg)
            raise not_found("Resource", f"{_TYPE[VNET]}/{vnet_id.rsplit('/', 1)[1]}' under resource group '{rg}")
        return list(found["properties"]["subnets"])

    def _db_subnet(self, vnet_key: str, name: str) -> dict[str, Any] | None:
        found = self._db_get(vnet_key)
        subnets = [] if found is None else found["properties"]["subnets"]
        return next((s for s in subnets if s["name"].lower() == name.lower()), None)

    def _links_to(self, lo: str, hi: str, kind: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in self.db.execute(
            "SELECT dst, src_id FROM network_links WHERE dst >= ? AND dst < ? AND kind = ? ORDER BY src_id",
            (lo, hi, kind),
        ):
            out.setdefault(r["dst"], []).append(r["src_id"])
        return out

    def _render(self, row: sqlite3.Row) -> dict[str, Any]:
        kind = str(row["type"]).split("/")[-1].lower()
        body = json.loads(row["body"])
        etag, state = _etag(row), _state(row["state"])
        props = dict(body.get("properties") or {})
        guid = props.pop("resourceGuid", None) or str(uuid.uuid5(uuid.NAMESPACE_URL, row["key"]))
        props = {"provisioningState": state, "resourceGuid": guid, **props}
        out: dict[str, Any] = {"name": row["name"], "id": row["id"], "etag": etag, "type": _TYPE[kind]}
        out["location"] = body.get("location")
        if "tags" in body:
            out["tags"] = body["tags"]
        if kind == VNET:
            used = self._links_to(row["key"] + "/subnets/", row["key"] + "/subnets0", _IPCONFIG)
            props["subnets"] = [self._render_subnet(row, s, etag, state, used) for s in _subnets(body)]
            props.setdefault("virtualNetworkPeerings", [])
            props.setdefault("enableDdosProtection", False)
            props.setdefault("privateEndpointVNetPolicies", "Disabled")
        else:
            child = "securityRules" if kind == NSG else "routes"
            props[child] = [self._render_child(row["id"], child, c, etag, state) for c in _items(props.get(child))]
            if kind == NSG:
                props["defaultSecurityRules"] = _default_rules(row["id"], etag)
            users = self._links_to(row["key"], row["key"] + "\0", _NSG_LINK if kind == NSG else _RT_LINK)
            if users:
                props["subnets"] = [{"id": i} for i in users[row["key"]]]
        out["properties"] = props
        return out

    @staticmethod
    def _render_subnet(
        vnet: sqlite3.Row, subnet: dict[str, Any], etag: str, state: str, used: dict[str, list[str]]
    ) -> dict[str, Any]:
        name = subnet["name"]
        props: dict[str, Any] = {"provisioningState": state, **(subnet.get("properties") or {})}
        if isinstance(props.get("serviceEndpoints"), list):
            props["serviceEndpoints"] = [{"provisioningState": state, **e} for e in _items(props["serviceEndpoints"])]
        props.setdefault("delegations", [])
        props.setdefault("privateEndpointNetworkPolicies", "Disabled")
        props.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
        ipconfigs = used.get(f"{vnet['key']}/subnets/{name.lower()}")
        if ipconfigs:
            props["ipConfigurations"] = [{"id": i} for i in ipconfigs]
        return {
            "name": name,
            "id": f"{vnet['id']}/subnets/{name}",
            "etag": etag,
            "properties": props,
            "type": SUBNET_TYPE,
        }

    @staticmethod
    def _render_child(parent: str, child: str, item: dict[str, Any], etag: str, state: str) -> dict[str, Any]:
        props = {"provisioningState": state, **(item.get("properties") or {})}
        name = item.get("name")
        kind = "networkSecurityGroups/securityRules" if child == "securityRules" else "routeTables/routes"
        return {"name": name, "id": f"{parent}/{child}/{name}", "etag": etag, "type": f"Microsoft.Network/{kind}",
                "properties": props}  # fmt: skip

    # -- writes (database thread) ---------------------------------------------------------------------------

    @staticmethod
    def _if_match(if_match: str | None, etag: str | None) -> None:
        if if_match is None:
            return
        if (if_match.strip() == "*" and etag is None) or (if_match.strip() != "*" and if_match.strip() != etag):
            raise ArmError(
                412, "PreconditionFailed", f"Operation failed because the etag {if_match[:80]} does not match."
            )

    def _db_put(
        self,
        kind: str,
        rid: str,
        name: str,
        body: dict[str, Any],
        lro: bool,
        due: float | None,
        if_match: str | None,
    ) -> tuple[dict[str, Any], bool, str | None]:
        key = rid.lower()
        row = self._row(key)
        self._if_match(if_match, None if row is None else _etag(row))
        old = json.loads(row["body"]) if row is not None else None
        if old is None:
            rg_key = "/".join(key.split("/")[:5])
            (count,) = self.db.execute(
                "SELECT COUNT(*) FROM resources WHERE rg_key = ? AND lower(type) = ?", (rg_key, _TYPE[kind].lower())
            ).fetchone()
            if count >= MAX_PER_GROUP:
                raise ArmError(
                    400,
                    "QuotaExceeded",
                    f"A resource group holds at most {MAX_PER_GROUP} resources of type {_TYPE[kind]}.",
                )
        guid = ((old or {}).get("properties") or {}).get("resourceGuid") or str(uuid.uuid4())
        body["properties"]["resourceGuid"] = guid
        if kind == VNET:
            check.geometry(row["id"] if row is not None else rid, name, body)
            self._check_in_use(key, old, body)
            self._check_refs(row["id"] if row is not None else rid, body)
        _, created, op_id = self.store.put_resource(rid, _TYPE[kind], name, body, lro, due)
        got = self._row(key)
        assert got is not None
        return self._render(got), created, op_id

    def _db_put_subnet(
        self, vnet_key: str, name: str, props: dict[str, Any], lro: bool, due: float | None, if_match: str | None
    ) -> tuple[dict[str, Any], bool, str | None] | None:
        row = self._row(vnet_key)
        if row is None:
            return None
        old = json.loads(row["body"])
        body = check.virtual_network(row["id"], row["name"], old)  # a deployment's body, normalized
        body["properties"]["resourceGuid"] = (old.get("properties") or {}).get("resourceGuid") or str(uuid.uuid4())
        subnets = body["properties"]["subnets"]
        index = next((i for i, s in enumerate(subnets) if s["name"].lower() == name.lower()), None)
        self._if_match(if_match, None if index is None else _etag(row))
        if index is None:
            if len(subnets) >= check.MAX_SUBNETS:
                raise check.bad(f"A virtual network holds at most {check.MAX_SUBNETS} subnets.")
            subnets.append({"name": name, "properties": props})
        else:
            subnets[index] = {"name": subnets[index]["name"], "properties": props}
        check.geometry(row["id"], row["name"], body, last=name)
        self._check_in_use(vnet_key, old, body)
        self._check_refs(row["id"], body)
        _, _, op_id = self.store.put_resource(row["id"], row["type"], row["name"], body, lro, due)
        found = self._db_subnet(vnet_key, name)
        assert found is not None
        return found, index is None, op_id

    def _db_delete(
        self, kind: str, key: str, lro: bool, due: float | None, if_match: str | None
    ) -> tuple[bool, str | None]:
        row = self._row(key)
        if row is None:
            return False, None
        self._if_match(if_match, _etag(row))
        if kind == VNET:
            self._check_in_use(key, json.loads(row["body"]), {"properties": {"subnets": []}})
        else:
            link = _NSG_LINK if kind == NSG else _RT_LINK
            users = self._links_to(key, key + "\0", link).get(key)
            if users and kind == NSG:
                raise ArmError(
                    400,
                    "InUseNetworkSecurityGroupCannotBeDeleted",
                    f"Network security group {row['id']} cannot be deleted because it is in use by the following "
                    f"resources: {', '.join(users[:20])}. In order to delete the Network security group, remove the "
                    "association with the resource(s). To learn how to do this, see aka.ms/deletensg.",
                )
            if users:
                raise ArmError(
                    400, "InUseRouteTableCannotBeDeleted", f"Route table {row['name']} is in use and cannot be deleted."
                )
        return self.store.begin_delete_resource(key, lro, due)

    def _db_delete_subnet(
        self, vnet_key: str, name: str, lro: bool, due: float | None, if_match: str | None
    ) -> tuple[bool, str | None]:
        row = self._row(vnet_key)
        if row is None:
            return False, None
        old = json.loads(row["body"])
        body = check.virtual_network(row["id"], row["name"], old)
        body["properties"]["resourceGuid"] = (old.get("properties") or {}).get("resourceGuid") or str(uuid.uuid4())
        kept = [s for s in body["properties"]["subnets"] if s["name"].lower() != name.lower()]
        if len(kept) == len(body["properties"]["subnets"]):
            return False, None
        self._if_match(if_match, _etag(row))
        body["properties"]["subnets"] = kept
        self._check_in_use(vnet_key, old, body)
        _, _, op_id = self.store.put_resource(row["id"], row["type"], row["name"], body, lro, due)
        for hook in self.store.hooks:  # the subnet is gone: what hangs off it (role assignments) goes too
            hook.deleted(f"{vnet_key}/subnets/{name.lower()}")
        return True, op_id if lro else None

    def _check_in_use(self, vnet_key: str, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        """A subnet with ipConfigurations is neither removed nor re-addressed."""
        if old is None:
            return
        used = self._links_to(vnet_key + "/subnets/", vnet_key + "/subnets0", _IPCONFIG)
        if not used:
            return
        after = {s["name"].lower(): s for s in _subnets(new)}
        for s in _subnets(old):
            users = used.get(f"{vnet_key}/subnets/{s['name'].lower()}")
            if not users:
                continue
            now = after.get(s["name"].lower())
            if now is None:
                raise ArmError(
                    400,
                    "InUseSubnetCannotBeDeleted",
                    f"Subnet {s['name']} is in use by {users[0]} and cannot be deleted. In order to delete the subnet, "
                    "delete all the resources within the subnet. See aka.ms/deletesubnet.",
                )
            if _addresses(s.get("properties") or {}) != _addresses(now.get("properties") or {}):
                raise ArmError(
                    400, "InUseSubnetCannotBeUpdated", f"Subnet {s['name']} is in use and cannot be updated."
                )

    def _check_refs(self, vnet_id: str, body: dict[str, Any]) -> None:
        """A subnet's security group and route table exist, in the virtual network's region."""
        for s in _subnets(body):
            for prop, kind in (("networkSecurityGroup", NSG), ("routeTable", RT)):
                ref = _ref_id((s.get("properties") or {}).get(prop))
                if ref is None:
                    continue
                target = self._row(ref.lower())
                location = None if target is None else str(json.loads(target["body"]).get("location"))
                location = None if location is None else location.replace(" ", "").lower()
                here = str(body["location"]).replace(" ", "").lower()
                if target is None or str(target["type"]).lower() != _TYPE[kind].lower() or location != here:
                    raise ArmError(
                        400,
                        "InvalidResourceReference",
                        f"Resource {ref} referenced by resource {vnet_id}/subnets/{s['name']} was not found. Please "
                        "make sure that the referenced resource exists, and that both resources are in the same "
                        "region.",
                    )

    # -- store hooks (database thread, inside the store's transaction) ----------------------------------------

    def upserted(self, rg_key: str, key: str, rtype: str) -> None:
        kind = rtype.lower()
        if kind == _TYPE[VNET].lower():
            self._relink_subnets(key)
        elif kind in (_NIC, _VM, _VMSS):
            self._relink_user(key, kind)

    def deleted(self, key: str) -> None:
        self._unlink(key, key + "/", key + "0")

    def rg_deleted(self, rg_key: str) -> None:
        self._unlink(None, rg_key + "/", rg_key + "0")

    def _relink_subnets(self, vnet_key: str) -> None:
        row = self._row(vnet_key)
        lo, hi = vnet_key + "/subnets/", vnet_key + "/subnets0"
        self.db.execute(
            "DELETE FROM network_links WHERE src >= ? AND src < ? AND kind IN (?, ?)", (lo, hi, _NSG_LINK, _RT_LINK)
        )
        if row is None:
            return
        present = set()
        for s in _subnets(json.loads(row["body"])):
            skey = f"{lo}{s['name'].lower()}"
            present.add(skey)
            for prop, link in (("networkSecurityGroup", _NSG_LINK), ("routeTable", _RT_LINK)):
                ref = _ref_id((s.get("properties") or {}).get(prop))
                if ref is not None:
                    self.db.execute(
                        "INSERT OR IGNORE INTO network_links VALUES (?, ?, ?, ?)",
                        (skey, link, ref.lower(), f"{row['id']}/subnets/{s['name']}"),
                    )
        for gone in set(self._links_to(lo, hi, _IPCONFIG)) - present:  # a template dropped a subnet
            self.db.execute("DELETE FROM network_links WHERE dst = ? AND kind = ?", (gone, _IPCONFIG))

    def _relink_user(self, key: str, kind: str) -> None:
        self.db.execute("DELETE FROM network_links WHERE src = ? AND kind = ?", (key, _IPCONFIG))
        row = self._row(key)
        if row is None:
            return
        pairs = list(subnet_users(kind, row["id"], json.loads(row["body"])))[:MAX_REFS]
        for src_id, subnet_id in pairs:
            vnet_key, _, name = subnet_id.lower().rpartition("/subnets/")
            vnet = self._row(vnet_key) if name and "/" not in name else None
            if vnet is not None and any(s["name"].lower() == name for s in _subnets(json.loads(vnet["body"]))):
                self.db.execute(
                    "INSERT OR IGNORE INTO network_links VALUES (?, ?, ?, ?)",
                    (key, _IPCONFIG, subnet_id.lower(), src_id),
                )

    def _unlink(self, exact: str | None, lo: str, hi: str) -> None:
        """``exact`` (a resource) or everything in [lo, hi) is gone: drop the links from and to it, and the
        subnets' references to a deleted security group or route table."""
        self.db.execute("DELETE FROM network_links WHERE src = ? OR (src >= ? AND src < ?)", (exact, lo, hi))
        refs = self.db.execute(
            "SELECT src, kind, dst FROM network_links WHERE (dst = ? OR (dst >= ? AND dst < ?)) AND kind IN (?, ?)",
            (exact, lo, hi, _NSG_LINK, _RT_LINK),
        ).fetchall()
        for r in refs:
            self._strip(r["src"], "networkSecurityGroup" if r["kind"] == _NSG_LINK else "routeTable", r["dst"])
        self.db.execute("DELETE FROM network_links WHERE dst = ? OR (dst >= ? AND dst < ?)", (exact, lo, hi))

    def _strip(self, subnet_key: str, prop: str, target: str) -> None:
        vnet_key, _, name = subnet_key.rpartition("/subnets/")
        row = self._row(vnet_key)
        if row is None:
            return
        body = json.loads(row["body"])
        for s in _subnets(body):
            props = s.get("properties")
            if (
                s["name"].lower() == name
                and isinstance(props, dict)
                and (_ref_id(props.get(prop)) or "").lower() == target
            ):
                del props[prop]
        self.db.execute("UPDATE resources SET body = ? WHERE key = ?", (json.dumps(body), vnet_key))


def _addresses(props: dict[str, Any]) -> frozenset[str]:
    many = props.get("addressPrefixes")
    texts = [props.get("addressPrefix")] if props.get("addressPrefix") else list(many if isinstance(many, list) else [])
    return frozenset(str(t) for t in texts)


def _default_rules(nsg_id: str, etag: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "id": f"{nsg_id}/defaultSecurityRules/{name}",
            "etag": etag,
            "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
            "properties": {
                "provisioningState": "Succeeded",
                "description": text,
                "protocol": "*",
                "sourcePortRange": "*",
                "destinationPortRange": "*",
                "sourceAddressPrefix": source,
                "destinationAddressPrefix": dest,
                "access": access,
                "priority": priority,
                "direction": direction,
                "sourcePortRanges": [],
                "destinationPortRanges": [],
                "sourceAddressPrefixes": [],
                "destinationAddressPrefixes": [],
            },
        }
        for name, direction, priority, access, source, dest, text in _DEFAULT_RULES
    ]
