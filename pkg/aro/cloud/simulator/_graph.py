"""Microsoft Graph v1.0: the subset ``az ad`` and ``az aro create|delete`` use, over the directory's principals
(``_directory``). The cloud metadata (``_metadata``) names the simulator itself as Graph, so clients call
``{simulator}/v1.0/...``.

| request | answer |
|---|---|
| GET ``/v1.0/applications[?$filter=&$top=]`` | 200 ``{"@odata.context", "value": [...], "@odata.nextLink"?}`` |
| POST ``/v1.0/applications`` ``{"displayName", ...}`` | 201 the application |
| GET / PATCH / DELETE ``/v1.0/applications/{id}`` | 200 / 204 / 204 (its service principal and passwords too) |
| POST ``/v1.0/applications/{id}/addPassword`` ``{"passwordCredential"?: {"displayName", "endDateTime"}}`` | 200 the
  credential with ``secretText`` (shown once; a client-credentials secret for the application's ``appId``) |
| POST ``/v1.0/applications/{id}/removePassword`` ``{"keyId"}`` | 204 |
| GET ``/v1.0/servicePrincipals[?$filter=&$top=]``, POST ``{"appId", ...}`` | the same for service principals |
| GET / PATCH / DELETE ``/v1.0/servicePrincipals/{id}`` | 200 / 204 / 204 |

``$filter`` takes ``and``-joined clauses of exactly these forms (string literals in single quotes, ``''`` for a
quote): ``appId eq '…'``, ``displayName eq '…'``, ``startswith(displayName,'…')``, and
``servicePrincipalNames/any(x:x eq '…')`` (service principals) or ``identifierUris/any(x:x eq '…')``
(applications); anything else -- and any other ``$`` option than ``$filter``, ``$top`` (1..999, default 100) and
``$skiptoken`` (from a ``nextLink``) -- is 400 ``Request_UnsupportedQuery``. A bearer token the simulator accepts
is required (else 401 ``InvalidAuthenticationToken``). Writable properties are checked by name and JSON type;
an unknown one is 400 ``Request_BadRequest``. Bodies are at most ``MAX_BODY`` bytes. Errors come in Graph's
envelope: ``{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from ._directory import APPLICATION, SERVICE_PRINCIPAL, UUID_RE, Condition, Directory, DirectoryError
from ._http import Request, Response

if TYPE_CHECKING:
    from ._app import SimulatorApp

MAX_BODY = 64 * 1024
MAX_TOP, DEFAULT_TOP = 999, 100
MAX_FILTER_CLAUSES = 8
MAX_LIST_ITEMS = 100
MAX_BY_IDS = 1000
_COLLECTIONS = {"applications": APPLICATION, "serviceprincipals": SERVICE_PRINCIPAL}
_ENTITY_SETS = {APPLICATION: "applications", SERVICE_PRINCIPAL: "servicePrincipals"}
_STR, _LIST, _OBJ, _BOOL = str, list, dict, bool
APPLICATION_PROPERTIES: dict[str, type] = {
    "displayName": _STR,
    "description": _STR,
    "notes": _STR,
    "signInAudience": _STR,
    "serviceManagementReference": _STR,
    "groupMembershipClaims": _STR,
    "tokenEncryptionKeyId": _STR,
    "identifierUris": _LIST,
    "tags": _LIST,
    "appRoles": _LIST,
    "keyCredentials": _LIST,
    "requiredResourceAccess": _LIST,
    "api": _OBJ,
    "info": _OBJ,
    "optionalClaims": _OBJ,
    "parentalControlSettings": _OBJ,
    "publicClient": _OBJ,
    "spa": _OBJ,
    "web": _OBJ,
    "isFallbackPublicClient": _BOOL,
    "isDeviceOnlyAuthSupported": _BOOL,
}
SERVICE_PRINCIPAL_PROPERTIES: dict[str, type] = {
    "appId": _STR,
    "displayName": _STR,
    "description": _STR,
    "notes": _STR,
    "homepage": _STR,
    "loginUrl": _STR,
    "logoutUrl": _STR,
    "preferredSingleSignOnMode": _STR,
    "tags": _LIST,
    "alternativeNames": _LIST,
    "notificationEmailAddresses": _LIST,
    "replyUrls": _LIST,
    "accountEnabled": _BOOL,
    "appRoleAssignmentRequired": _BOOL,
}
_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
_LITERAL = r"'((?:[^']|'')*)'"
_CLAUSES = [
    (re.compile(rf"appId\s+eq\s+{_LITERAL}", re.I), "app_id", None),
    (re.compile(rf"displayName\s+eq\s+{_LITERAL}", re.I), "display_name", None),
    (re.compile(rf"startswith\(\s*displayName\s*,\s*{_LITERAL}\s*\)", re.I), "display_name_prefix", None),
    (
        re.compile(rf"servicePrincipalNames/any\((\w+)\s*:\s*(\w+)\s+eq\s+{_LITERAL}\s*\)", re.I),
        "name",
        SERVICE_PRINCIPAL,
    ),
    (re.compile(rf"identifierUris/any\((\w+)\s*:\s*(\w+)\s+eq\s+{_LITERAL}\s*\)", re.I), "name", APPLICATION),
]
_AND = re.compile(r"\s+and\s+", re.I)


class GraphError(DirectoryError):
    pass


def parse_filter(text: str, kind: str) -> list[Condition]:
    """The conditions of a ``$filter`` for ``kind``'s collection; GraphError 400 for any other form."""
    unsupported = GraphError(400, "Request_UnsupportedQuery", "Unsupported Query.")
    text = text.strip()
    if not text or len(text) > 2048:
        raise unsupported
    conditions: list[Condition] = []
    pos = 0
    while True:
        for pattern, column, only in _CLAUSES:
            match = pattern.match(text, pos)
            if match is None:
                continue
            if only is not None and only != kind:
                raise unsupported
            groups = match.groups()
            if column == "name" and groups[0] != groups[1]:  # any(c:c eq ...): the lambda's own variable
                raise unsupported
            conditions.append((column, groups[-1].replace("''", "'")))
            pos = match.end()
            break
        else:
            raise unsupported
        if pos == len(text):
            break
        joined = _AND.match(text, pos)
        if joined is None or len(conditions) >= MAX_FILTER_CLAUSES:
            raise unsupported
        pos = joined.end()
    return conditions


def _error(status: int, code: str, message: str, req: Request, request_id: str) -> Response:
    inner = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
        "request-id": request_id,
        "client-request-id": req.headers.get("client-request-id", request_id),
    }
    return Response(
        status, {"error": {"code": code, "message": message, "innerError": inner}}, {"request-id": request_id}
    )


class Graph:
    def __init__(self, app: SimulatorApp, directory: Directory) -> None:
        self.app = app
        self.directory = directory

    @staticmethod
    def handles(req: Request) -> bool:
        return req.lsegs[:1] == ["v1.0"]

    async def dispatch(self, req: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            resp = await self._route(req)
        except DirectoryError as e:
            return _error(e.status, e.code, e.message, req, request_id)
        resp.headers["request-id"] = request_id
        return resp

    async def _route(self, req: Request) -> Response:
        self._authenticate(req)
        lsegs, n = req.lsegs, len(req.lsegs)
        if lsegs[1:] == ["directoryobjects", "getbyids"]:
            if req.method != "POST":
                raise _method(req)
            return await self._by_ids(req)
        kind = _COLLECTIONS.get(lsegs[1]) if n >= 2 else None
        if kind is None or n > 4:
            segment = req.segs[1] if n >= 2 else ""
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment[:64]}'.")
        if n == 2:
            if req.method == "GET":
                return await self._list(req, kind)
            if req.method == "POST":
                return await self._create(req, kind)
            raise _method(req)
        object_id = req.segs[2]
        if not UUID_RE.match(object_id):
            raise GraphError(400, "Request_BadRequest", f"Invalid object identifier '{object_id[:64]}'.")
        if n == 4:
            if kind != APPLICATION or lsegs[3] not in ("addpassword", "removepassword"):
                raise GraphError(400, "BadRequest", f"Resource not found for the segment '{req.segs[3][:64]}'.")
            if req.method != "POST":
                raise _method(req)
            return await self._password(req, object_id, add=lsegs[3] == "addpassword")
        if req.method == "GET":
            found = await self.directory.get(kind, object_id)
            return Response(200, {"@odata.context": self._context(req, f"{_ENTITY_SETS[kind]}/$entity"), **found})
        if req.method == "PATCH":
            props = self._properties(req, kind, creating=False)
            await self.directory.update(kind, object_id, props)
            return Response(204)
        if req.method == "DELETE":
            await self.directory.delete(kind, object_id)
            return Response(204)
        raise _method(req)

    def _authenticate(self, req: Request) -> None:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        if self.app.bearer_problem(token.strip()) is not None:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.")

    @staticmethod
    def _context(req: Request, what: str) -> str:
        return f"{req.base_url}/v1.0/$metadata#{what}"

    # -- collections ----------------------------------------------------------------------------------------

    async def _list(self, req: Request, kind: str) -> Response:
        conditions: list[Condition] = []
        top, after = DEFAULT_TOP, 0
        for key, value in req.query.items():
            if key == "$filter":
                conditions = parse_filter(value, kind)
            elif key == "$top":
                if not value.isdigit() or not 1 <= int(value) <= MAX_TOP:
                    raise GraphError(
                        400,
                        "Request_UnsupportedQuery",
                        f"Invalid page size specified: '{value[:16]}'. Must be between 1 and {MAX_TOP} inclusive.",
                    )
                top = int(value)
            elif key == "$skiptoken":
                if not value.isdigit() or len(value) > 18:
                    raise GraphError(400, "Request_BadRequest", "Invalid paging token.")
                after = int(value)
            elif key.startswith("$"):
                raise GraphError(400, "Request_UnsupportedQuery", f"Unsupported query option '{key[:32]}'.")
        items, last = await self.directory.list_objects(kind, conditions, after, top)
        body: dict[str, Any] = {"@odata.context": self._context(req, _ENTITY_SETS[kind]), "value": items}
        if last is not None:
            params = [
                (k, v) for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k.lower() != "$skiptoken"
            ]
            query = urlencode([*params, ("$skiptoken", str(last))], quote_via=quote)
            body["@odata.nextLink"] = f"{req.base_url}/v1.0/{_ENTITY_SETS[kind]}?{query}"
        return Response(200, body)

    async def _by_ids(self, req: Request) -> Response:
        """``POST /v1.0/directoryObjects/getByIds`` (``az role assignment list`` names principals with it):
        ``{"ids": [...], "types": [...]}`` -> the objects found, each with its ``@odata.type``; unknown ids and
        types not asked for are left out, as Graph does. At most ``MAX_BY_IDS`` ids."""
        body = self._body(req)
        ids, types = body.get("ids"), body.get("types")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > MAX_BY_IDS:
            raise GraphError(400, "Request_BadRequest", f"'ids' must be a list of at most {MAX_BY_IDS} strings.")
        if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
            raise GraphError(400, "Request_BadRequest", "'types' must be a list of strings.")
        wanted = {t.lower() for t in types} if types else {"application", "serviceprincipal"}
        found: list[dict[str, Any]] = []
        for object_id in dict.fromkeys(i.lower() for i in ids):
            if not UUID_RE.match(object_id):
                raise GraphError(400, "Request_BadRequest", f"Invalid object identifier '{object_id[:64]}'.")
            for kind, odata in ((SERVICE_PRINCIPAL, "servicePrincipal"), (APPLICATION, "application")):
                if odata.lower() not in wanted:
                    continue
                try:
                    found.append(
                        {"@odata.type": f"#microsoft.graph.{odata}", **await self.directory.get(kind, object_id)}
                    )
                except DirectoryError:
                    continue
        return Response(200, {"@odata.context": self._context(req, "directoryObjects"), "value": found})

    async def _create(self, req: Request, kind: str) -> Response:
        props = self._properties(req, kind, creating=True)
        if kind == APPLICATION:
            created = await self.directory.create_application(props)
        else:
            app_id = props.pop("appId")
            created = await self.directory.create_service_principal(app_id, props)
        return Response(201, {"@odata.context": self._context(req, f"{_ENTITY_SETS[kind]}/$entity"), **created})

    # -- bodies ---------------------------------------------------------------------------------------------

    def _body(self, req: Request) -> dict[str, Any]:
        if len(req.body) > MAX_BODY:
            raise GraphError(413, "Request_EntityTooLarge", f"The request body is larger than {MAX_BODY} bytes.")
        try:
            value = json.loads(req.body or b"{}")
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise GraphError(
                400,
                "BadRequest",
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
                "valid JSON format.",
            )
        return {k: v for k, v in value.items() if not k.startswith("@odata.")}

    def _properties(self, req: Request, kind: str, creating: bool) -> dict[str, Any]:
        body = self._body(req)
        allowed = APPLICATION_PROPERTIES if kind == APPLICATION else SERVICE_PRINCIPAL_PROPERTIES
        entity = "microsoft.graph.application" if kind == APPLICATION else "microsoft.graph.servicePrincipal"
        for name, value in body.items():
            expected = allowed.get(name)
            if expected is None or (name == "appId" and not creating):
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    f"Property '{name[:64]}' does not exist as a declared property or extension property.",
                )
            if value is None and name != "displayName":
                continue
            if not isinstance(value, expected) or (isinstance(value, list) and len(value) > MAX_LIST_ITEMS):
                raise GraphError(
                    400, "Request_BadRequest", f"Invalid value specified for property '{name}' of resource '{entity}'."
                )
        required = "displayName" if kind == APPLICATION else "appId"
        name_value = body.get("displayName", "" if creating and kind == APPLICATION else None)
        if name_value is not None and not (isinstance(name_value, str) and 1 <= len(name_value) <= 256):
            raise GraphError(
                400, "Request_BadRequest", f"Invalid value specified for property 'displayName' of resource '{entity}'."
            )
        if creating and not isinstance(body.get(required), str):
            raise GraphError(
                400, "Request_BadRequest", f"Invalid value specified for property '{required}' of resource '{entity}'."
            )
        if kind == SERVICE_PRINCIPAL and creating and not UUID_RE.match(body["appId"]):
            raise GraphError(
                400, "Request_BadRequest", f"Invalid value specified for property 'appId' of resource '{entity}'."
            )
        for key in ("identifierUris", "tags", "alternativeNames", "notificationEmailAddresses", "replyUrls"):
            if any(not isinstance(v, str) or len(v) > 1024 for v in body.get(key) or []):
                raise GraphError(
                    400, "Request_BadRequest", f"Invalid value specified for property '{key}' of resource '{entity}'."
                )
        if body.get("signInAudience") not in (None, *_AUDIENCES):
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Invalid value specified for property 'signInAudience' of resource '{entity}'.",
            )
        return body

    # -- password credentials -------------------------------------------------------------------------------

    async def _password(self, req: Request, object_id: str, add: bool) -> Response:
        body = self._body(req)
        if not add:
            key_id = body.get("keyId")
            if set(body) - {"keyId"} or not isinstance(key_id, str) or not UUID_RE.match(key_id):
                raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'keyId'.")
            await self.directory.remove_password(object_id, key_id)
            return Response(204)
        cred = body.get("passwordCredential") or {}
        if set(body) - {"passwordCredential"} or not isinstance(cred, dict):
            raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'passwordCredential'.")
        unknown = set(cred) - {"displayName", "endDateTime", "startDateTime", "customKeyIdentifier"}
        display_name = cred.get("displayName")
        if unknown or not (display_name is None or (isinstance(display_name, str) and len(display_name) <= 256)):
            raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'passwordCredential'.")
        end = _timestamp(cred.get("endDateTime"), "endDateTime")
        if end is not None and not time.time() < end <= time.time() + 100 * 365 * 86400:
            raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'endDateTime'.")
        created = await self.directory.add_password(object_id, display_name, end)
        return Response(200, {"@odata.context": self._context(req, "microsoft.graph.passwordCredential"), **created})


def _timestamp(value: Any, name: str) -> float | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value)[:40])
    except ValueError as e:
        raise GraphError(400, "Request_BadRequest", f"Invalid value specified for property '{name}'.") from e
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def _method(req: Request) -> GraphError:
    return GraphError(
        405, "Request_BadRequest", f"Specified HTTP method is not allowed for the request uri: {req.method}."
    )
