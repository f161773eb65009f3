"""Microsoft.ManagedIdentity: user-assigned identities and their federated identity credentials.

| request | answer |
|---|---|
| PUT ``…/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`` | 201 or 200 |
| GET / DELETE the same | 200 or 404 / 200, or 204 when absent |
| GET ``…/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities``,
  ``/subscriptions/{s}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`` | ``{"value": [...]}`` |
| PUT / GET / DELETE ``…/userAssignedIdentities/{name}/federatedIdentityCredentials/{fic}``, GET
  ``…/federatedIdentityCredentials`` | the same for a credential |

An identity is ``{"location", "tags", "id", "name", "type", "properties": {"isolationScope", "tenantId",
"principalId", "clientId"}}``; its ids spell ``resourcegroups`` in lower case, as the managed identity RP's do.
``principalId`` and ``clientId`` are generated when it is created and kept by every later PUT; ``tenantId`` is the
directory's tenant (``SimulatorConfig.tenant_id``). Identities are rows of the store's ``resources`` (a resource
group lists and deletes them, the RP reads them with a generic ARM GET); their credentials live in
``federated_credentials`` (``SCHEMA``) and go with their identity. Both answer synchronously, as the RP does;
the ``putResource``/``deleteResource`` fault rules apply.

A credential is ``{"id", "name", "type", "properties": {"issuer", "subject", "audiences"}}``: ``issuer`` an https
URL, ``subject`` non-empty, ``audiences`` exactly one (400 ``InvalidFederatedIdentityCredentialsAudienceLength``),
all three required (400 ``BadRequest``, Azure's message), issuer and subject unique within the identity, at most
``MAX_CREDENTIALS`` per identity (Azure's limit). Deliberate differences: the codes for a non-https issuer, a
repeated issuer and subject and a 21st credential are ``BadRequest`` (Azure's were not confirmed). Bounds:
``MAX_PER_GROUP`` identities per resource group (ARM's limit), ``MAX_TEXT`` characters per credential field.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import _netcheck
from ._errors import ArmError, not_found, rg_not_found
from ._http import Request, Response

if TYPE_CHECKING:
    from ._arm import ArmHandlers

SCHEMA = """
CREATE TABLE IF NOT EXISTS federated_credentials (
  identity_key TEXT NOT NULL, name_key TEXT NOT NULL, body TEXT NOT NULL, created REAL NOT NULL,
  PRIMARY KEY (identity_key, name_key));
"""
TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC_TYPE = f"{TYPE}/federatedIdentityCredentials"
MAX_PER_GROUP = 800
MAX_CREDENTIALS = 20
MAX_TEXT = 600
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
_FIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
_NS = ["providers", "microsoft.managedidentity", "userassignedidentities"]


def handles(lsegs: list[str]) -> bool:
    n = len(lsegs)
    if n == 5:
        return lsegs[2:] == _NS
    if n < 7 or lsegs[2] != "resourcegroups" or lsegs[4:7] != _NS:
        return False
    return n in (7, 8) or (n in (9, 10) and lsegs[8] == "federatedidentitycredentials")


def identity_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourcegroups/{rg}/providers/{TYPE}/{name}"


def _render(row: sqlite3.Row) -> dict[str, Any]:
    body = json.loads(row["body"])
    return {
        "location": body.get("location"),
        "tags": body.get("tags") or {},
        "id": row["id"],
        "name": row["name"],
        "type": TYPE,
        "properties": dict(body.get("properties") or {}),
    }


def _bad(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message)


def credential_properties(raw: dict[str, Any]) -> dict[str, Any]:
    props = raw.get("properties")
    props = props if isinstance(props, dict) else {}
    issuer, subject, audiences = props.get("issuer"), props.get("subject"), props.get("audiences")
    if not issuer or not subject or audiences is None:
        raise _bad(
            "The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and "
            "'audience'."
        )
    if not isinstance(issuer, str) or not isinstance(subject, str) or not isinstance(audiences, list):
        raise _bad("The request format was unexpected: 'issuer' and 'subject' are strings, 'audiences' a list.")
    if len(issuer) > MAX_TEXT or len(subject) > MAX_TEXT:
        raise _bad(f"The issuer and the subject are at most {MAX_TEXT} characters long.")
    parts = urlsplit(issuer)
    if parts.scheme != "https" or not parts.netloc:
        raise _bad(f"The request format was unexpected: the issuer '{issuer[:200]}' must be an https URL.")
    if len(audiences) != 1 or not isinstance(audiences[0], str) or not audiences[0] or len(audiences[0]) > MAX_TEXT:
        raise ArmError(
            400,
            "InvalidFederatedIdentityCredentialsAudienceLength",
            "Federated identity credentials must have exactly 1 audience.",
        )
    return {"issuer": issuer, "subject": subject, "audiences": [audiences[0]]}


class Identities:
    """The routes (event loop) and the store hooks (database thread)."""

    def __init__(self, arm: ArmHandlers) -> None:
        self.arm = arm
        self.store = arm.store
        self.tenant_id = arm.app.config.tenant_id

    @property
    def db(self) -> sqlite3.Connection:
        return self.store.db

    # -- routes ---------------------------------------------------------------------------------------------

    async def dispatch(self, req: Request) -> Response:
        segs, n = req.segs, len(req.segs)
        if n in (5, 7):
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on a list.")
            rg = segs[3] if n == 7 else None
            return Response(200, {"value": await self.store.run(self._db_list, segs[1], rg)})
        rid = identity_id(segs[1], segs[3], segs[7])
        if n in (9, 10):
            return await self._credential(req, rid)
        if req.method == "GET":
            found = await self.store.run(self._db_get, rid.lower())
            if found is None:
                raise await self._absent(req)
            return Response(200, found)
        if req.method == "PUT":
            return await self._put(req, rid)
        if req.method == "DELETE":
            if await self.store.run(self._db_get, rid.lower()) is None:
                if (
                    await self.store.run(
                        self.store.get_rg, f"/subscriptions/{segs[1]}/resourcegroups/{segs[3]}".lower()
                    )
                    is None
                ):
                    raise rg_not_found(segs[3])
                return Response(204)
            self._fault("deleteResource", rid)
            await self.store.run(self.store.begin_delete_resource, rid.lower(), False, None)
            return Response(200)
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on user-assigned identities.")

    async def _absent(self, req: Request) -> ArmError:
        rg = req.segs[3]
        if await self.store.run(self.store.get_rg, f"/subscriptions/{req.segs[1]}/resourcegroups/{rg}".lower()) is None:
            return rg_not_found(rg)
        return not_found("Resource", f"{TYPE}/{req.segs[7]}' under resource group '{rg}")

    def _fault(self, operation: str, rid: str) -> None:
        rule = self.arm.faults.hit(operation, rid, modes=("fail",))
        if rule is not None:
            raise ArmError(rule.status, rule.error_code(), rule.error_message(operation, rid))

    async def _put(self, req: Request, rid: str) -> Response:
        raw, name = req.json(), rid.rsplit("/", 1)[1]
        if not _NAME.match(name):
            raise ArmError(
                400,
                "InvalidResourceName",
                f"Resource name '{name[:130]}' is invalid. The name can contain only letters, numbers, underscores and "
                "hyphens, must start with a letter or number, and can be 3 to 128 characters long.",
            )
        body: dict[str, Any] = {"location": _netcheck.location(raw), "tags": _netcheck.tags(raw)}
        given = raw.get("properties")
        props: dict[str, Any] = given if isinstance(given, dict) else {}
        scope = props.get("isolationScope") or "None"
        if scope not in ("None", "Regional"):
            raise ArmError(400, "BadRequest", f"The isolationScope '{str(scope)[:40]}' is not one of None, Regional.")
        body["properties"] = {"isolationScope": scope}
        self._fault("putResource", rid)
        created, found = await self.store.run(self._db_put, rid, name, body)
        return Response(201 if created else 200, found)

    async def _credential(self, req: Request, identity: str) -> Response:
        key = identity.lower()
        if len(req.segs) == 9:
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on a list.")
            listed = await self.store.run(self._db_credentials, key)
            if listed is None:
                raise await self._absent(req)
            return Response(200, {"value": listed})
        name = req.segs[9]
        if req.method == "GET":
            found = await self.store.run(self._db_credential, key, name)
            if found is None:
                raise not_found("Resource", f"{FIC_TYPE}/{req.segs[7]}/{name}' under resource group '{req.segs[3]}")
            return Response(200, found)
        if req.method == "PUT":
            if not _FIC_NAME.match(name):
                raise _bad(
                    f"The federated identity credential name '{name[:130]}' is invalid: 3 to 120 letters, numbers, "
                    "underscores and hyphens, starting with a letter or number."
                )
            props = credential_properties(req.json())
            self._fault("putResource", f"{identity}/federatedIdentityCredentials/{name}")
            got = await self.store.run(self._db_put_credential, key, name, props)
            if got is None:
                raise ArmError(
                    404,
                    "ParentResourceNotFound",
                    "Can not perform requested operation on nested resource. "
                    f"Parent resource '{req.segs[7]}' not found.",
                )
            return Response(201 if got[0] else 200, got[1])
        if req.method == "DELETE":
            gone = await self.store.run(self._db_delete_credential, key, name)
            return Response(200 if gone else 204)
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on federated identity credentials.")

    # -- database thread ------------------------------------------------------------------------------------

    def _row(self, key: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM resources WHERE key = ? AND lower(type) = ?", (key, TYPE.lower())
        ).fetchone()
        return row

    def _db_get(self, key: str) -> dict[str, Any] | None:
        row = self._row(key)
        return None if row is None else _render(row)

    def _db_list(self, sub: str, rg: str | None) -> list[dict[str, Any]]:
        prefix = f"/subscriptions/{sub}/resourcegroups/{rg}".lower() if rg else f"/subscriptions/{sub}".lower()
        if rg is not None and self.store.get_rg(prefix) is None:
            raise rg_not_found(rg)
        rows = self.db.execute(
            "SELECT * FROM resources WHERE key >= ? AND key < ? AND lower(type) = ? ORDER BY key",
            (prefix + "/", prefix + "0", TYPE.lower()),
        ).fetchall()
        return [_render(r) for r in rows]

    def _db_put(self, rid: str, name: str, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        key = rid.lower()
        row = self._row(key)
        if row is not None:
            old = json.loads(row["body"]).get("properties") or {}
            body["properties"] = {**body["properties"], **{k: old[k] for k in ("tenantId", "principalId", "clientId")}}
        else:
            rg_key = "/".join(key.split("/")[:5])
            (count,) = self.db.execute(
                "SELECT COUNT(*) FROM resources WHERE rg_key = ? AND lower(type) = ?", (rg_key, TYPE.lower())
            ).fetchone()
            if count >= MAX_PER_GROUP:
                raise ArmError(400, "QuotaExceeded", f"A resource group holds at most {MAX_PER_GROUP} identities.")
            body["properties"] = {
                **body["properties"],
                "tenantId": self.tenant_id,
                "principalId": str(uuid.uuid4()),
                "clientId": str(uuid.uuid4()),
            }
        self.store.put_resource(rid, TYPE, name, body, False, None)
        got = self._row(key)
        assert got is not None
        return row is None, _render(got)

    def _fic_json(self, identity: sqlite3.Row, name: str, props: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"{identity['id']}/federatedIdentityCredentials/{name}",
            "name": name,
            "type": FIC_TYPE,
            "properties": props,
        }

    def _db_credentials(self, key: str) -> list[dict[str, Any]] | None:
        if self._row(key) is None:
            return None
        rows = self.db.execute(
            "SELECT body FROM federated_credentials WHERE identity_key = ? ORDER BY created, name_key", (key,)
        ).fetchall()
        return [json.loads(r["body"]) for r in rows]

    def _db_credential(self, key: str, name: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT body FROM federated_credentials WHERE identity_key = ? AND name_key = ?", (key, name.lower())
        ).fetchone()
        return None if row is None else dict(json.loads(row["body"]))

    def _db_put_credential(self, key: str, name: str, props: dict[str, Any]) -> tuple[bool, dict[str, Any]] | None:
        identity = self._row(key)
        if identity is None:
            return None
        others = [
            json.loads(r["body"])
            for r in self.db.execute(
                "SELECT body FROM federated_credentials WHERE identity_key = ? AND name_key != ?", (key, name.lower())
            )
        ]
        for other in others:
            if (other["properties"]["issuer"], other["properties"]["subject"]) == (props["issuer"], props["subject"]):
                raise _bad(
                    f"The federated identity credential '{other['name']}' of this identity has the same issuer and "
                    "subject; the combination must be unique."
                )
        existing = self._db_credential(key, name)
        if existing is None and len(others) >= MAX_CREDENTIALS:
            raise _bad(f"An identity holds at most {MAX_CREDENTIALS} federated identity credentials.")
        stored_name = existing["name"] if existing is not None else name
        body = self._fic_json(identity, stored_name, props)
        self.db.execute(
            "INSERT INTO federated_credentials VALUES (?, ?, ?, ?) ON CONFLICT(identity_key, name_key) DO UPDATE SET"
            " body = excluded.body",
            (key, name.lower(), json.dumps(body), time.time()),
        )
        return existing is None, body

    def _db_delete_credential(self, key: str, name: str) -> bool:
        cur = self.db.execute(
            "DELETE FROM federated_credentials WHERE identity_key = ? AND name_key = ?", (key, name.lower())
        )
        return bool(cur.rowcount)

    # -- store hooks (database thread) ------------------------------------------------------------------------

    def upserted(self, rg_key: str, key: str, rtype: str) -> None:
        """An identity a template deployment wrote gets its ids, as one created by a PUT has them."""
        if rtype.lower() != TYPE.lower():
            return
        row = self._row(key)
        body = json.loads(row["body"]) if row is not None else {}
        given = body.get("properties")
        props: dict[str, Any] = given if isinstance(given, dict) else {}
        if row is None or all(isinstance(props.get(k), str) for k in ("tenantId", "principalId", "clientId")):
            return
        body["properties"] = {
            "isolationScope": "None",
            **props,
            "tenantId": self.tenant_id,
            "principalId": str(uuid.uuid4()),
            "clientId": str(uuid.uuid4()),
        }
        self.db.execute("UPDATE resources SET body = ? WHERE key = ?", (json.dumps(body), key))

    def deleted(self, key: str) -> None:
        self.db.execute(
            "DELETE FROM federated_credentials WHERE identity_key = ? OR (identity_key >= ? AND identity_key < ?)",
            (key, key + "/", key + "0"),
        )

    def rg_deleted(self, rg_key: str) -> None:
        self.db.execute(
            "DELETE FROM federated_credentials WHERE identity_key >= ? AND identity_key < ?",
            (rg_key + "/", rg_key + "0"),
        )
