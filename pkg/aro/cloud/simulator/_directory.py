"""The directory: one tenant, its subscriptions and its principals -- who calls the simulator.

The tenant, the subscriptions and the seeded principal come from the configuration
(``SimulatorConfig.tenant_id``, ``subscription_ids``, ``client_id``). ARM's routes over them:

| request | answer |
|---|---|
| GET ``/tenants`` | 200 ``{"value": [tenant]}`` |
| GET ``/subscriptions`` | 200 ``{"value": [subscription, ...], "count"}``: the configured ones, the default first |
| GET ``/subscriptions/{id}`` | 200 the subscription; another well-formed id 404 ``SubscriptionNotFound``; a malformed
  one 400 ``InvalidSubscriptionId`` |

Only the listing is limited to the configured subscriptions: every other ARM route takes any subscription
id (the RP's customers bring their own).

**Principals** (Entra applications, service principals and applications' password credentials) persist in
the simulator store (``SCHEMA``); ``_graph`` serves them as Microsoft Graph, ``_token`` asks who a client
is. Seeded at every start when missing: the configured principal (an application and its service principal,
``appId`` = ``client_id``; its secret is the simulator token) and the Azure Red Hat OpenShift RP's
first-party service principal (``appId`` ``f1dd0a37-89c6-4e07-bcd1-ffd3d43d8875``, owned by Microsoft's
tenant, so it has no application object here). Bounds: ``MAX_OBJECTS`` objects, ``MAX_PASSWORDS`` password
credentials per application. Deleting an application deletes its service principal and passwords, as in Entra.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import string
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._errors import ArmError
from ._http import Request, Response

if TYPE_CHECKING:
    from ._app import SimulatorApp

RP_FIRST_PARTY_APP_ID = "f1dd0a37-89c6-4e07-bcd1-ffd3d43d8875"
MICROSOFT_SERVICES_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
FIRST_PARTY = {RP_FIRST_PARTY_APP_ID: "Azure Red Hat OpenShift RP"}  # service principals any tenant may hold
SEEDED_APP_NAME = "aro-simulator-principal"
APPLICATION, SERVICE_PRINCIPAL = "application", "servicePrincipal"
MAX_OBJECTS = 10_000  # applications + service principals
MAX_PASSWORDS = 32  # per application
PASSWORD_SECONDS = 2 * 365 * 86400  # Graph's default lifetime of an added password
TENANT_DOMAIN = "arosimulator.onmicrosoft.com"
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SECRET_CHARS = string.ascii_letters + string.digits + "_.~-"

SCHEMA = """
CREATE TABLE IF NOT EXISTS directory_objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, app_id TEXT NOT NULL,
  display_name TEXT NOT NULL, names TEXT NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS directory_objects_app ON directory_objects(kind, app_id);
CREATE TABLE IF NOT EXISTS directory_passwords (
  key_id TEXT PRIMARY KEY, app_object TEXT NOT NULL, secret_hash TEXT NOT NULL, start REAL NOT NULL,
  end REAL NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS directory_passwords_app ON directory_passwords(app_object);
"""

# A list filter: (column, value) pairs, all of which must hold. Columns: "app_id" (equal), "display_name"
# (equal, case-insensitively), "display_name_prefix" (starts with, case-insensitively), "name" (one of the
# servicePrincipalNames / identifierUris equals it, case-insensitively).
Condition = tuple[str, str]


class DirectoryError(Exception):
    """A Graph error (``_graph`` renders it in Graph's envelope)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def graph_time(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Directory:
    """The tenant, the subscriptions and the principals. Methods named ``_db_*`` run on the store's thread."""

    def __init__(self, app: SimulatorApp) -> None:
        self.store = app.store
        self.tenant_id = app.config.tenant_id
        self.subscription_ids = app.config.subscription_ids
        self.client_id = app.config.client_id

    def object_id(self, kind: str, app_id: str) -> str:
        """The stable object id of a seeded object (the same across restarts and data directories)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aro-simulator/{self.tenant_id}/{kind}/{app_id.lower()}"))

    # -- ARM: tenants and subscriptions ---------------------------------------------------------------------

    def tenants(self, req: Request) -> Response:
        if req.lsegs != ["tenants"] or req.method != "GET":
            raise ArmError(404, "NotFound", f"No route for {req.method} /{'/'.join(req.segs)}.")
        tenant = {
            "id": f"/tenants/{self.tenant_id}",
            "tenantId": self.tenant_id,
            "tenantCategory": "Home",
            "countryCode": "US",
            "displayName": "ARO Simulator",
            "domains": [TENANT_DOMAIN],
            "defaultDomain": TENANT_DOMAIN,
            "tenantType": "AAD",
        }
        return Response(200, {"value": [tenant]})

    def subscriptions(self, req: Request) -> Response:
        """``/subscriptions`` and ``/subscriptions/{id}``."""
        if req.method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on subscriptions.")
        if len(req.segs) == 1:
            value = [self.subscription(s) for s in self.subscription_ids]
            return Response(200, {"value": value, "count": {"type": "Total", "value": len(value)}})
        sub = check_subscription_id(req.segs[1])
        if sub.lower() not in self.subscription_ids:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        return Response(200, self.subscription(sub.lower()))

    def subscription(self, sub: str) -> dict[str, Any]:
        index = self.subscription_ids.index(sub)
        return {
            "id": f"/subscriptions/{sub}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": sub,
            "tenantId": self.tenant_id,
            "displayName": "ARO Simulator" + (f" {index + 1}" if index else ""),
            "state": "Enabled",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
        }

    # -- principals: seeding and the token endpoint's questions ---------------------------------------------

    async def seed(self) -> None:
        await self.store.run(self._db_seed, time.time())

    def _db_seed(self, now: float) -> None:
        app_id = self.client_id
        if self._db_find(APPLICATION, app_id) is None:
            body = self._new_application(
                self.object_id(APPLICATION, app_id), app_id, {"displayName": SEEDED_APP_NAME}, now
            )
            self._db_insert(APPLICATION, body)
        if self._db_find(SERVICE_PRINCIPAL, app_id) is None:
            app = self._db_find(APPLICATION, app_id)
            assert app is not None
            self._db_insert(SERVICE_PRINCIPAL, self._new_service_principal(app_id, app, {}, now, seeded=True))
        for fp_app_id in FIRST_PARTY:
            if self._db_find(SERVICE_PRINCIPAL, fp_app_id) is None:
                self._db_insert(SERVICE_PRINCIPAL, self._new_service_principal(fp_app_id, None, {}, now, seeded=True))

    async def service_principal_id(self, app_id: str) -> str | None:
        """The object id of the application's service principal here (the token's ``oid``), if any."""
        found = await self.store.run(self._db_find, SERVICE_PRINCIPAL, app_id)
        return None if found is None else str(found["id"])

    async def password_matches(self, app_id: str, secret: str) -> bool | None:
        """Whether ``secret`` is a current password of the application ``app_id`` (None: no such application)."""
        return await self.store.run(self._db_password_matches, app_id, secret, time.time())

    def _db_password_matches(self, app_id: str, secret: str, now: float) -> bool | None:
        app = self._db_find(APPLICATION, app_id)
        if app is None:
            return None
        digest = _hash(secret)
        rows = self.store.db.execute(
            "SELECT secret_hash FROM directory_passwords WHERE app_object = ? AND start <= ? AND end > ?",
            (app["id"], now, now),
        ).fetchall()
        return any(hmac.compare_digest(r["secret_hash"], digest) for r in rows)

    # -- principals: Graph's reads and writes ---------------------------------------------------------------

    async def list_objects(
        self, kind: str, conditions: Sequence[Condition], after: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` objects of ``kind`` matching every condition, after sequence number ``after``; and
        the sequence number to continue after (None: the last page)."""
        return await self.store.run(self._db_list, kind, list(conditions), after, limit)

    def _db_list(
        self, kind: str, conditions: list[Condition], after: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        where, args = ["kind = ?", "seq > ?"], [kind, after]
        for column, value in conditions:
            if column == "app_id":
                where.append("app_id = ?")
                args.append(value.lower())
            elif column == "display_name":
                where.append("display_name = ? COLLATE NOCASE")
                args.append(value)
            elif column == "display_name_prefix":
                where.append("display_name LIKE ? ESCAPE '\\'")
                args.append(re.sub(r"([\\%_])", r"\\\1", value) + "%")
            elif column == "name":
                where.append("EXISTS (SELECT 1 FROM json_each(names) WHERE lower(json_each.value) = lower(?))")
                args.append(value)
            else:
                raise ValueError(f"unknown filter column {column!r}")
        rows = self.store.db.execute(
            f"SELECT * FROM directory_objects WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
            (*args, limit + 1),
        ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return [self._db_render(r) for r in rows], (rows[-1]["seq"] if more else None)

    async def get(self, kind: str, object_id: str) -> dict[str, Any]:
        return await self.store.run(self._db_get, kind, object_id)

    def _db_get(self, kind: str, object_id: str) -> dict[str, Any]:
        row = self.store.db.execute(
            "SELECT * FROM directory_objects WHERE id = ? AND kind = ?", (object_id.lower(), kind)
        ).fetchone()
        if row is None:
            raise DirectoryError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{object_id[:64]}' does not exist or one of its queried reference-property objects "
                "are not present.",
            )
        return self._db_render(row)

    async def create_application(self, props: dict[str, Any]) -> dict[str, Any]:
        return await self.store.run(self._db_create_application, props, time.time())

    def _db_create_application(self, props: dict[str, Any], now: float) -> dict[str, Any]:
        self._db_check_room()
        body = self._new_application(str(uuid.uuid4()), str(uuid.uuid4()), props, now)
        self._db_insert(APPLICATION, body)
        return self._db_get(APPLICATION, body["id"])

    async def create_service_principal(self, app_id: str, props: dict[str, Any]) -> dict[str, Any]:
        return await self.store.run(self._db_create_service_principal, app_id, props, time.time())

    def _db_create_service_principal(self, app_id: str, props: dict[str, Any], now: float) -> dict[str, Any]:
        app = self._db_find(APPLICATION, app_id)
        if app is None and app_id.lower() not in FIRST_PARTY:
            raise DirectoryError(
                400,
                "Request_BadRequest",
                f"The appId '{app_id[:64]}' of the service principal does not reference a valid application object.",
            )
        if self._db_find(SERVICE_PRINCIPAL, app_id) is not None:
            raise DirectoryError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "Another object with the same value for property servicePrincipalNames already exists.",
            )
        self._db_check_room()
        body = self._new_service_principal(app_id, app, props, now)
        self._db_insert(SERVICE_PRINCIPAL, body)
        return self._db_get(SERVICE_PRINCIPAL, body["id"])

    async def update(self, kind: str, object_id: str, props: dict[str, Any]) -> None:
        await self.store.run(self._db_update, kind, object_id, props)

    def _db_update(self, kind: str, object_id: str, props: dict[str, Any]) -> None:
        current = self._db_get(kind, object_id)
        self._db_write(kind, {**current, **props})
        sp = self._db_find(SERVICE_PRINCIPAL, current["appId"]) if kind == APPLICATION else None
        if sp is not None:  # the service principal follows its application's name and identifier URIs
            old_uris = current.get("identifierUris") or []
            names = [n for n in sp["servicePrincipalNames"] if n not in old_uris]
            names += [u for u in props.get("identifierUris", old_uris) or [] if u not in names]
            name = props.get("displayName", sp["appDisplayName"])
            self._db_write(SERVICE_PRINCIPAL, {**sp, "appDisplayName": name, "servicePrincipalNames": names})

    def _db_write(self, kind: str, body: dict[str, Any]) -> None:
        body = {k: v for k, v in body.items() if not (kind == APPLICATION and k == "passwordCredentials")}
        self.store.db.execute(
            "UPDATE directory_objects SET display_name = ?, names = ?, body = ? WHERE id = ?",
            (body.get("displayName") or "", json.dumps(self._names(kind, body)), json.dumps(body), body["id"]),
        )

    async def delete(self, kind: str, object_id: str) -> None:
        await self.store.run(self._db_delete, kind, object_id)

    def _db_delete(self, kind: str, object_id: str) -> None:
        found = self._db_get(kind, object_id)
        db = self.store.db
        db.execute("DELETE FROM directory_objects WHERE id = ?", (found["id"],))
        if kind == APPLICATION:
            db.execute("DELETE FROM directory_passwords WHERE app_object = ?", (found["id"],))
            db.execute(
                "DELETE FROM directory_objects WHERE kind = ? AND app_id = ?", (SERVICE_PRINCIPAL, found["appId"])
            )

    async def add_password(self, object_id: str, display_name: str | None, end: float | None) -> dict[str, Any]:
        return await self.store.run(self._db_add_password, object_id, display_name, end, time.time())

    def _db_add_password(
        self, object_id: str, display_name: str | None, end: float | None, now: float
    ) -> dict[str, Any]:
        app = self._db_get(APPLICATION, object_id)
        if len(app["passwordCredentials"]) >= MAX_PASSWORDS:
            raise DirectoryError(
                400, "Request_BadRequest", f"An application holds at most {MAX_PASSWORDS} password credentials."
            )
        secret = "".join(secrets.choice(_SECRET_CHARS) for _ in range(3)) + "8Q~"
        secret += "".join(secrets.choice(_SECRET_CHARS) for _ in range(34))
        key_id = str(uuid.uuid4())
        end = now + PASSWORD_SECONDS if end is None else end
        credential = {
            "customKeyIdentifier": None,
            "displayName": display_name,
            "endDateTime": graph_time(end),
            "hint": secret[:3],
            "keyId": key_id,
            "secretText": None,
            "startDateTime": graph_time(now),
        }
        self.store.db.execute(
            "INSERT INTO directory_passwords (key_id, app_object, secret_hash, start, end, body)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, app["id"], _hash(secret), now, end, json.dumps(credential)),
        )
        return {**credential, "secretText": secret}

    async def remove_password(self, object_id: str, key_id: str) -> None:
        await self.store.run(self._db_remove_password, object_id, key_id)

    def _db_remove_password(self, object_id: str, key_id: str) -> None:
        app = self._db_get(APPLICATION, object_id)
        gone = self.store.db.execute(
            "DELETE FROM directory_passwords WHERE app_object = ? AND key_id = ?", (app["id"], key_id.lower())
        ).rowcount
        if not gone:
            raise DirectoryError(
                400, "Request_BadRequest", f"No password credential with keyId '{key_id[:64]}' on the application."
            )

    # -- rows -----------------------------------------------------------------------------------------------

    def _db_find(self, kind: str, app_id: str) -> dict[str, Any] | None:
        row = self.store.db.execute(
            "SELECT * FROM directory_objects WHERE kind = ? AND app_id = ?", (kind, app_id.lower())
        ).fetchone()
        return None if row is None else self._db_render(row)

    def _db_render(self, row: sqlite3.Row) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(row["body"])
        if row["kind"] == APPLICATION:
            creds = self.store.db.execute(
                "SELECT body FROM directory_passwords WHERE app_object = ? ORDER BY start, key_id", (row["id"],)
            ).fetchall()
            body["passwordCredentials"] = [json.loads(c["body"]) for c in creds]
        return body

    def _db_check_room(self) -> None:
        count = self.store.db.execute("SELECT COUNT(*) FROM directory_objects").fetchone()[0]
        if count >= MAX_OBJECTS:
            raise DirectoryError(
                400,
                "Directory_QuotaExceeded",
                f"The directory holds at most {MAX_OBJECTS} applications and service principals.",
            )

    def _db_insert(self, kind: str, body: dict[str, Any]) -> None:
        body = {k: v for k, v in body.items() if not (kind == APPLICATION and k == "passwordCredentials")}
        self.store.db.execute(
            "INSERT INTO directory_objects (id, kind, app_id, display_name, names, body) VALUES (?, ?, ?, ?, ?, ?)",
            (
                body["id"],
                kind,
                body["appId"],
                body.get("displayName") or "",
                json.dumps(self._names(kind, body)),
                json.dumps(body),
            ),
        )

    @staticmethod
    def _names(kind: str, body: dict[str, Any]) -> list[str]:
        key = "identifierUris" if kind == APPLICATION else "servicePrincipalNames"
        return [str(n) for n in body.get(key) or []]

    def _new_application(self, object_id: str, app_id: str, props: dict[str, Any], now: float) -> dict[str, Any]:
        return {
            "id": object_id,
            "deletedDateTime": None,
            "appId": app_id,
            "applicationTemplateId": None,
            "createdDateTime": graph_time(now),
            "description": None,
            "displayName": None,
            "groupMembershipClaims": None,
            "identifierUris": [],
            "isDeviceOnlyAuthSupported": None,
            "isFallbackPublicClient": None,
            "notes": None,
            "publisherDomain": TENANT_DOMAIN,
            "serviceManagementReference": None,
            "signInAudience": "AzureADMyOrg",
            "tags": [],
            "tokenEncryptionKeyId": None,
            "api": {
                "acceptMappedClaims": None,
                "knownClientApplications": [],
                "requestedAccessTokenVersion": None,
                "oauth2PermissionScopes": [],
                "preAuthorizedApplications": [],
            },
            "appRoles": [],
            "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None},
            "keyCredentials": [],
            "optionalClaims": None,
            "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
            "publicClient": {"redirectUris": []},
            "requiredResourceAccess": [],
            "spa": {"redirectUris": []},
            "web": {
                "homePageUrl": None,
                "logoutUrl": None,
                "redirectUris": [],
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False},
            },
            **props,
        }

    def _new_service_principal(
        self, app_id: str, app: dict[str, Any] | None, props: dict[str, Any], now: float, seeded: bool = False
    ) -> dict[str, Any]:
        app_id = app_id.lower()
        name = app["displayName"] if app is not None else FIRST_PARTY[app_id]
        owner = self.tenant_id if app is not None else MICROSOFT_SERVICES_TENANT
        uris = list(app.get("identifierUris") or []) if app is not None else []
        return {
            "id": self.object_id(SERVICE_PRINCIPAL, app_id) if seeded else str(uuid.uuid4()),
            "deletedDateTime": None,
            "accountEnabled": True,
            "alternativeNames": [],
            "appDisplayName": name,
            "appDescription": None,
            "appId": app_id,
            "applicationTemplateId": None,
            "appOwnerOrganizationId": owner,
            "appRoleAssignmentRequired": False,
            "createdDateTime": graph_time(now),
            "description": None,
            "displayName": name,
            "homepage": None,
            "loginUrl": None,
            "logoutUrl": None,
            "notes": None,
            "notificationEmailAddresses": [],
            "preferredSingleSignOnMode": None,
            "replyUrls": [],
            "servicePrincipalNames": [app_id, *uris],
            "servicePrincipalType": "Application",
            "signInAudience": "AzureADMyOrg" if app is not None else "AzureADMultipleOrgs",
            "tags": [],
            "appRoles": [],
            "keyCredentials": [],
            "oauth2PermissionScopes": [],
            "passwordCredentials": [],
            **props,
        }


def check_subscription_id(sub: str) -> str:
    if not UUID_RE.match(sub):
        raise ArmError(
            400, "InvalidSubscriptionId", f"The provided subscription identifier '{sub[:64]}' is malformed or invalid."
        )
    return sub
