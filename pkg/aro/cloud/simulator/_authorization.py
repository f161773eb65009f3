"""Microsoft.Authorization at any scope: built-in role definitions (``_roles``), role assignments, and the
caller's effective permissions.

A scope is ``/subscriptions/{s}``, a resource group, a resource or a child resource (a subnet, ...); the routes
below hang off ``{scope}/providers/Microsoft.Authorization`` (``handles`` finds that segment pair anywhere):

| request | answer |
|---|---|
| GET ``…/roleDefinitions[?$filter=roleName eq '{name}' or type eq 'BuiltInRole']`` | ``{"value": [...]}`` |
| GET ``…/roleDefinitions/{guid}``, also at the tenant (``/providers/Microsoft.Authorization/…``) | 200, or 404
  ``RoleDefinitionDoesNotExist`` |
| PUT ``…/roleAssignments/{guid}`` ``{"properties": {"roleDefinitionId", "principalId", "principalType"?, ...}}`` | 201
  (200 when the same assignment is written again) |
| GET ``…/roleAssignments/{guid}`` / DELETE | 200 / 404 ``RoleAssignmentNotFound``; DELETE 200 with it, 204 absent |
| GET ``…/roleAssignments[?$filter=…]`` | the assignments at, above and below the scope; ``atScope()``: at and above;
  ``principalId eq '{id}'`` / ``assignedTo('{id}')``: that principal's (the two may be joined with ``and``) |
| GET ``…/permissions`` | ``{"value": [{"actions", "notActions", "dataActions", "notDataActions"}, ...]}``: the role
  definitions assigned to the caller at the scope or above it |

Errors as Azure answers them: a name that is not a GUID ``InvalidRoleAssignmentId``, a principal id that is not one
``InvalidPrincipalId``, an unknown role ``RoleDefinitionDoesNotExist`` (400), the same role for the same principal at
the same scope under another name 409 ``RoleAssignmentExists``, a changed assignment
``RoleAssignmentUpdateNotPermitted``, a scope that does not exist ``ResourceGroupNotFound`` / ``ResourceNotFound``
(404).

**The caller** is the ``oid`` claim of a token the simulator issued (``_token``); the configured simulator token
itself (or any bearer token when none is configured) stands for the directory's seeded principal
(``_directory``). That principal is **Owner of every subscription**, implicitly (any subscription id works): its
permissions include Owner's everywhere, and lists show an Owner assignment at each subscription (named
``uuid5(subscription/principal)``; it cannot be read by name or deleted).

Assignments persist in ``role_assignments`` (``SCHEMA``); deleting their scope (a resource, a subnet, a resource
group) deletes them. Deliberate differences: principals are not looked up in the directory (any GUID is accepted,
``principalType`` defaults to ``User`` when absent); the caller's own right to write assignments is not checked;
custom role definitions are not supported (405). Bounds: ``MAX_PER_SUBSCRIPTION`` assignments per subscription
(Azure's limit), ``MAX_TEXT`` characters of description or condition.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING, Any

from ._directory import SERVICE_PRINCIPAL
from ._errors import ArmError, not_found, rg_not_found
from ._http import Request, Response
from ._roles import BY_GUID, OWNER, Role
from ._store import iso

if TYPE_CHECKING:
    from ._arm import ArmHandlers

SCHEMA = """
CREATE TABLE IF NOT EXISTS role_assignments (
  key TEXT PRIMARY KEY, scope_key TEXT NOT NULL, subscription TEXT NOT NULL, principal TEXT NOT NULL,
  role TEXT NOT NULL, body TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS role_assignments_scope ON role_assignments(scope_key);
CREATE INDEX IF NOT EXISTS role_assignments_sub ON role_assignments(subscription, principal);
"""
MAX_PER_SUBSCRIPTION = 4000
MAX_TEXT = 8192
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ROLE_ID = re.compile(r"(?i)^(?:/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/roleDefinitions?/([^/]+)$")
_PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
_PASSTHROUGH = ("condition", "conditionVersion", "description", "delegatedManagedIdentityResourceId")


def _split(lsegs: list[str]) -> int | None:
    """The index of the ``providers/microsoft.authorization`` pair that ends a path served here, if any."""
    n = len(lsegs)
    for i in (n - 3, n - 4):
        if i >= 0 and i % 2 == 0 and lsegs[i : i + 2] == ["providers", "microsoft.authorization"]:
            rest = lsegs[i + 2 :]
            if rest[0] in ("roledefinitions", "roleassignments") or rest == ["permissions"]:
                return i
    return None


def handles(lsegs: list[str]) -> bool:
    return _split(lsegs) is not None


def _scope_ok(lsegs: list[str]) -> bool:
    """A subscription, a resource group, or a resource (``providers/{ns}`` then type/name pairs) -- or the tenant."""
    n = len(lsegs)
    if n == 0:
        return True
    if lsegs[0] != "subscriptions" or n < 2 or not _GUID.match(lsegs[1]):
        return False
    if n == 2:
        return True
    if lsegs[2] != "resourcegroups" or n < 4:
        return False
    return n == 4 or (n >= 8 and n % 2 == 0 and lsegs[4] == "providers")


def ancestors(scope_key: str) -> list[str]:
    """The scope and every scope above it (a subscription, its resource group, the parent resources)."""
    segs = scope_key.strip("/").split("/")
    cuts = [c for c in (2, 4, *range(8, len(segs) + 1, 2)) if c <= len(segs)]
    return ["/" + "/".join(segs[:c]) for c in cuts]


def _guid_of(role_definition_id: str) -> str | None:
    m = _ROLE_ID.match(role_definition_id.strip())
    return m.group(1).lower() if m and _GUID.match(m.group(1)) else None


def definition_json(role: Role, sub: str | None) -> dict[str, Any]:
    prefix = f"/subscriptions/{sub}" if sub else ""
    return {
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [_permission(role)],
            "createdOn": role.created,
            "updatedOn": role.updated,
            "createdBy": None,
            "updatedBy": None,
        },
        "id": f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{role.guid}",
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": role.guid,
    }


def _permission(role: Role) -> dict[str, list[str]]:
    return {
        "actions": list(role.actions),
        "notActions": list(role.not_actions),
        "dataActions": list(role.data_actions),
        "notDataActions": [],
    }


def _filter(text: str) -> tuple[bool, str | None]:
    """(atScope(), the principal) of a role assignment list's ``$filter``."""
    at_scope, principal = False, None
    for clause in (c.strip() for c in re.split(r"(?i)\s+and\s+", text.strip()) if c.strip()):
        m = re.fullmatch(r"(?i)principalId\s+eq\s+'([^']*)'|assignedTo\('([^']*)'\)", clause)
        if clause.lower() == "atscope()":
            at_scope = True
        elif m is not None:
            principal = (m.group(1) or m.group(2) or "").lower()
        else:
            raise ArmError(400, "InvalidFilter", f"The filter '{text[:200]}' is not supported.")
    return at_scope, principal


class Authorization:
    """The routes (event loop) and the store hooks (database thread)."""

    def __init__(self, arm: ArmHandlers) -> None:
        self.arm = arm
        self.store = arm.store

    @property
    def default_principal(self) -> str:
        """The directory's seeded principal: its service principal's object id."""
        app = self.arm.app
        return app.directory.object_id(SERVICE_PRINCIPAL, app.config.client_id)

    @property
    def db(self) -> sqlite3.Connection:
        return self.store.db

    def caller(self, req: Request) -> str:
        """The calling principal's object id (the token's ``oid``; the seeded principal for the raw token)."""
        token = req.headers.get("authorization", "").partition(" ")[2].strip()
        claims = self.arm.app.tokens.claims(token) if token.count(".") == 2 else None
        oid = (claims or {}).get("oid")
        return oid.lower() if isinstance(oid, str) and _GUID.match(oid) else self.default_principal

    # -- routes ---------------------------------------------------------------------------------------------

    async def dispatch(self, req: Request) -> Response:
        i = _split(req.lsegs)
        assert i is not None
        scope_segs, rest = req.segs[:i], req.lsegs[i + 2 :]
        if not _scope_ok([s.lower() for s in scope_segs]):
            raise ArmError(400, "InvalidScope", f"The scope '/{'/'.join(scope_segs)[:300]}' is not valid.")
        scope = "/" + "/".join(scope_segs)
        sub = scope_segs[1] if len(scope_segs) >= 2 else None
        what = rest[0]
        if what == "roledefinitions":
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", "The simulator serves Azure's built-in role definitions only.")
            return self._definitions(req, sub, rest[1] if len(rest) == 2 else None)
        if sub is None:
            raise ArmError(400, "InvalidScope", "Role assignments and permissions need a subscription scope.")
        if what == "permissions":
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on permissions.")
            value = await self.store.run(self._db_permissions, scope.lower(), self.caller(req))
            return Response(200, {"value": value})
        if len(rest) == 1:
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on a list.")
            at_scope, principal = _filter(req.query.get("$filter", ""))
            return Response(200, {"value": await self.store.run(self._db_list, scope, sub, at_scope, principal)})
        name = req.segs[-1]
        if not _GUID.match(name):
            raise ArmError(
                400,
                "InvalidRoleAssignmentId",
                f"The role assignment ID '{name[:100]}' is not valid. The role assignment ID must be a GUID.",
            )
        key = f"{scope}/providers/microsoft.authorization/roleassignments/{name}".lower()
        if req.method == "GET":
            found = await self.store.run(self._db_get, key)
            if found is None:
                raise ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")
            return Response(200, found)
        if req.method == "DELETE":
            gone = await self.store.run(self._db_delete, key)
            return Response(204) if gone is None else Response(200, gone)
        if req.method == "PUT":
            props = self._assignment_props(req.json(), sub)
            created, body = await self.store.run(
                self._db_put, scope, sub, name, props, self.caller(req), [s.lower() for s in scope_segs]
            )
            return Response(201 if created else 200, body)
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on role assignments.")

    def _definitions(self, req: Request, sub: str | None, guid: str | None) -> Response:
        if guid is not None:
            role = BY_GUID.get(guid.lower())
            if role is None:
                raise ArmError(
                    404,
                    "RoleDefinitionDoesNotExist",
                    f"The specified role definition with ID '{req.segs[-1][:100]}' does not exist.",
                )
            return Response(200, definition_json(role, sub))
        roles = list(BY_GUID.values())
        text = req.query.get("$filter", "").strip()
        if text:
            m = re.fullmatch(r"(?i)(roleName|type)\s+eq\s+'([^']*)'", text)
            if m is None:
                raise ArmError(400, "InvalidFilter", f"The filter '{text[:200]}' is not supported.")
            field, value = m.group(1).lower(), m.group(2).lower()
            roles = [r for r in roles if (r.name.lower() if field == "rolename" else "builtinrole") == value]
        return Response(200, {"value": [definition_json(r, sub) for r in roles]})

    @staticmethod
    def _assignment_props(raw: dict[str, Any], sub: str) -> dict[str, Any]:
        props = raw.get("properties")
        if not isinstance(props, dict):
            raise ArmError(400, "InvalidRequestContent", "The role assignment 'properties' are required.")
        principal = props.get("principalId")
        if not isinstance(principal, str) or not _GUID.match(principal):
            raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
        role_id = props.get("roleDefinitionId")
        guid = _guid_of(role_id) if isinstance(role_id, str) and len(role_id) < 300 else None
        if guid is None or guid not in BY_GUID:
            shown = guid or (str(role_id)[:100] if role_id is not None else "")
            raise ArmError(
                400, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{shown}' does not exist."
            )
        principal_type = props.get("principalType") or "User"
        if principal_type not in _PRINCIPAL_TYPES:
            raise ArmError(
                400,
                "InvalidRequestContent",
                f"The principalType '{str(principal_type)[:50]}' is not one of {', '.join(_PRINCIPAL_TYPES)}.",
            )
        out: dict[str, Any] = {
            "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
            "principalId": principal.lower(),
            "principalType": principal_type,
        }
        for key in _PASSTHROUGH:
            value = props.get(key)
            if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
                raise ArmError(
                    400, "InvalidRequestContent", f"'{key}' must be a string of at most {MAX_TEXT} characters."
                )
            out[key] = value
        return out

    # -- database thread ------------------------------------------------------------------------------------

    def _db_get(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT body FROM role_assignments WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(json.loads(row["body"]))

    def _db_delete(self, key: str) -> dict[str, Any] | None:
        found = self._db_get(key)
        self.db.execute("DELETE FROM role_assignments WHERE key = ?", (key,))
        return found

    def _check_scope(self, lsegs: list[str], scope: str) -> None:
        """The scope exists: its resource group, then its resource (a subnet: in its virtual network)."""
        if len(lsegs) < 4:
            return
        rg_key = "/" + "/".join(lsegs[:4])
        if self.store.get_rg(rg_key) is None:
            raise rg_not_found(scope.split("/")[4])
        if len(lsegs) < 8:
            return
        key = "/" + "/".join(lsegs)
        if self.db.execute("SELECT 1 FROM resources WHERE key = ?", (key,)).fetchone() is not None:
            return
        top = "/" + "/".join(lsegs[:8])
        row = self.db.execute("SELECT body FROM resources WHERE key = ?", (top,)).fetchone()
        if row is not None and len(lsegs) == 10 and lsegs[5:7] == ["microsoft.network", "virtualnetworks"]:
            subnets = (json.loads(row["body"]).get("properties") or {}).get("subnets") or []
            if any(isinstance(s, dict) and str(s.get("name", "")).lower() == lsegs[9] for s in subnets):
                return
        elif row is not None and len(lsegs) > 10:
            return  # a deeper child of a resource held here: not tracked, taken as existing
        parts = scope.split("/")
        raise not_found("Resource", f"{'/'.join(parts[6:])}' under resource group '{parts[4]}")

    def _db_put(
        self, scope: str, sub: str, name: str, props: dict[str, Any], caller: str, lsegs: list[str]
    ) -> tuple[bool, dict[str, Any]]:
        self._check_scope(lsegs, scope)
        scope_key = scope.lower()
        key = f"{scope_key}/providers/microsoft.authorization/roleassignments/{name.lower()}"
        role = props["roleDefinitionId"].rsplit("/", 1)[1]
        existing = self._db_get(key)
        if existing is not None:
            was = existing["properties"]
            if (was["principalId"], was["roleDefinitionId"].rsplit("/", 1)[1].lower()) != (props["principalId"], role):
                raise ArmError(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
            return False, existing
        twin = self.db.execute(
            "SELECT key FROM role_assignments WHERE scope_key = ? AND principal = ? AND role = ?",
            (scope_key, props["principalId"], role),
        ).fetchone()
        if twin is not None:
            raise ArmError(
                409,
                "RoleAssignmentExists",
                "The role assignment already exists. The ID of the existing role assignment is "
                f"{twin['key'].rsplit('/', 1)[1].replace('-', '')}.",
            )
        (count,) = self.db.execute(
            "SELECT COUNT(*) FROM role_assignments WHERE subscription = ?", (sub.lower(),)
        ).fetchone()
        if count >= MAX_PER_SUBSCRIPTION:
            raise ArmError(
                400,
                "RoleAssignmentLimitExceeded",
                f"No more role assignments can be created in the subscription '{sub}': the limit is "
                f"{MAX_PER_SUBSCRIPTION} role assignments.",
            )
        now = iso(time.time())
        body = {
            "properties": {
                **props,
                "scope": scope,
                "createdOn": now,
                "updatedOn": now,
                "createdBy": caller,
                "updatedBy": caller,
            },
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            "type": _ASSIGNMENT_TYPE,
            "name": name,
        }
        self.db.execute(
            "INSERT INTO role_assignments VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, scope_key, sub.lower(), props["principalId"], role, json.dumps(body), time.time()),
        )
        return True, body

    def _implicit_owner(self, sub: str) -> dict[str, Any]:
        """The seeded principal's Owner assignment at a subscription (see the module docstring)."""
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aro-simulator/owner/{sub.lower()}/{self.default_principal}"))
        scope = f"/subscriptions/{sub}"
        return {
            "properties": {
                "roleDefinitionId": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
                "principalId": self.default_principal,
                "principalType": "ServicePrincipal",
                "scope": scope,
                "condition": None,
                "conditionVersion": None,
                "createdOn": "2024-01-01T00:00:00.0000000Z",
                "updatedOn": "2024-01-01T00:00:00.0000000Z",
                "createdBy": None,
                "updatedBy": None,
                "delegatedManagedIdentityResourceId": None,
                "description": None,
            },
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            "type": _ASSIGNMENT_TYPE,
            "name": name,
        }

    def _db_list(self, scope: str, sub: str, at_scope: bool, principal: str | None) -> list[dict[str, Any]]:
        scope_key = scope.lower()
        above = ancestors(scope_key)
        marks = ", ".join("?" * len(above))
        sql = f"SELECT body FROM role_assignments WHERE (scope_key IN ({marks})"
        args: list[Any] = list(above)
        if not at_scope:
            sql += " OR (scope_key >= ? AND scope_key < ?)"
            args += [scope_key + "/", scope_key + "0"]
        sql += ")"
        if principal is not None:
            sql += " AND principal = ?"
            args.append(principal)
        rows = self.db.execute(sql + " ORDER BY created, key", args).fetchall()
        out = [json.loads(r["body"]) for r in rows]
        if principal in (None, self.default_principal):
            out.append(self._implicit_owner(sub))
        return out

    def _db_permissions(self, scope_key: str, caller: str) -> list[dict[str, list[str]]]:
        above = ancestors(scope_key)
        rows = self.db.execute(
            "SELECT DISTINCT role FROM role_assignments WHERE principal = ? AND scope_key IN "
            f"({', '.join('?' * len(above))})",
            (caller, *above),
        ).fetchall()
        guids = sorted({r["role"] for r in rows} | ({OWNER} if caller == self.default_principal else set()))
        return [_permission(BY_GUID[g]) for g in guids if g in BY_GUID]

    # -- store hooks (database thread) ------------------------------------------------------------------------

    def upserted(self, rg_key: str, key: str, rtype: str) -> None:
        return None

    def deleted(self, key: str) -> None:
        self.db.execute(
            "DELETE FROM role_assignments WHERE scope_key = ? OR (scope_key >= ? AND scope_key < ?)",
            (key, key + "/", key + "0"),
        )

    def rg_deleted(self, rg_key: str) -> None:
        self.deleted(rg_key)
