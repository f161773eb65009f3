"""The OpenAPI document at /openapi.json, with the real request and response schemas of each kind's newest
api-version (so that clients and fuzzers can drive the API from it).

Parameters are documented with the values the RP accepts (``api-version``: the newest version of the
route's resource type, ``2.0`` for the subscription lifecycle; subscription and operation ids: UUIDs;
resource group and resource names: their kinds' name rules; ``location``: the RP's region), and every
status code a route answers is listed; any other answer is an ARM error (``default``: CloudError)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from aro.api.kind import Kinds, sort_api_versions
from aro.api.template import template
from aro.database.subscriptions import SubscriptionState
from aro.frontend.arm import RESOURCE_GROUP_PATTERN, UUID_PATTERN

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "target": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


# ARM's subscription lifecycle notification (api-version 2.0); the answer echoes what is kept of it.
SUBSCRIPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["state"],
    "properties": {
        "state": {"type": "string", "enum": [s.value for s in SubscriptionState]},
        "registrationDate": {"type": "string", "maxLength": 256},
        "properties": {  # aro.frontend.subscriptionbody: other members are not kept
            "type": "object",
            "properties": {
                "tenantId": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
                "locationPlacementId": {"type": "string", "maxLength": 256},
                "quotaId": {"type": "string", "maxLength": 256},
                "spendingLimit": {"type": "string", "maxLength": 256},
                "registeredFeatures": {
                    "type": "array",
                    "maxItems": 1000,
                    "items": {
                        "type": "object",
                        "required": ["name", "state"],
                        "properties": {
                            "name": {"type": "string", "maxLength": 256},
                            "state": {"type": "string", "maxLength": 256},
                        },
                    },
                },
                "managedByTenants": {
                    "type": "array",
                    "maxItems": 100,
                    "items": {
                        "type": "object",
                        "required": ["tenantId"],
                        "properties": {"tenantId": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}},
                    },
                },
                "accountOwner": {"type": "object"},
            },
        },
    },
}
SUBSCRIPTION_PATH = "/subscriptions/{subscriptionId}"


@dataclass
class _Route:
    """What the document says about one path: the api-version it is documented with, its parameters'
    schemas, and for a resource item its body models and whether it is an asynchronous delete."""

    api_version: str
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    body: tuple[type[BaseModel] | None, type[BaseModel] | None] | None = None  # (PUT, PATCH) models
    patch_status: int = 200
    operation_result: bool = False


def _schema(model: type[BaseModel] | None, components: dict[str, Any]) -> dict[str, Any]:
    if model is None:
        return {"type": "object"}
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _routes(kinds: Kinds) -> dict[str, _Route]:
    """Path (as routed: lower-case literals) -> what to document, from the kinds."""
    out: dict[str, _Route] = {}
    newest_any = sort_api_versions({v for k in kinds for v in k.api_versions})[-1]
    for kind in kinds:
        newest = kind.version(kind.api_versions[-1])
        names = {
            k.param: {
                "type": "string",
                "pattern": k.names.openapi_pattern,
                "minLength": 1,
                "maxLength": k.names.max_length,
            }
            for k in kind.chain
        }
        item = _Route(newest.api_version, dict(names), (newest.model, newest.update_model), kind.patch_status)
        out[template(kind.route).path] = item
        out[template(kind.collection_route).path] = _Route(newest.api_version, dict(names))
        if kind.subscription_route is not None:
            out[template(kind.subscription_route).path] = _Route(newest.api_version)
        actions = {"type": "string", "enum": sorted(newest.actions)}
        out[template(kind.route + "/{action}").path] = _Route(newest.api_version, names | {"action": actions})
        out["/admin" + template(kind.route).path] = _Route(newest_any, dict(names))
    for family, versions in kinds.families().items():
        out[template(family.status_route).path] = _Route(versions[-1])
        out[template(family.result_route).path] = _Route(versions[-1], operation_result=True)
    for catalog in kinds.catalogs:
        newest_catalog = sort_api_versions(catalog.renderers)[-1]
        base = template(catalog.route).path
        out[base] = _Route(newest_catalog)
        out[f"{base}/{{{catalog.param}}}"] = _Route(newest_catalog)
    out.setdefault("", _Route(newest_any))
    return out


def install_openapi(app: FastAPI, kinds: Kinds, location: str) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        components["CloudError"] = ERROR_SCHEMA
        components["Subscription"] = SUBSCRIPTION_SCHEMA
        error_ref = {
            "description": "ARM error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CloudError"}}},
        }
        common: dict[str, dict[str, Any]] = {
            "subscriptionId": {"type": "string", "pattern": UUID_PATTERN},
            "operationId": {"type": "string", "pattern": UUID_PATTERN},
            "resourceGroupName": {"type": "string", "pattern": RESOURCE_GROUP_PATTERN, "minLength": 1, "maxLength": 90},
            "location": {"type": "string", "enum": [location]},
        }
        routes = _routes(kinds)
        for path, item in doc.get("paths", {}).items():
            route = routes.get(path, routes[""])
            for method, op in item.items():
                op.setdefault("responses", {}).pop("422", None)
                op["responses"]["default"] = error_ref
                _parameters(op, common | route.params, "2.0" if path == SUBSCRIPTION_PATH else route.api_version)
                _responses(path, method, op, route, components)
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]


def _parameters(op: dict[str, Any], schemas: dict[str, dict[str, Any]], api_version: str) -> None:
    for param in op.get("parameters", []):
        if param["name"] == "api-version":
            param["required"] = True
            param["schema"] = {"type": "string", "enum": [api_version]}
        elif param["name"] in schemas:
            param["schema"] = dict(schemas[param["name"]])


def _responses(path: str, method: str, op: dict[str, Any], route: _Route, components: dict[str, Any]) -> None:
    responses = op["responses"]
    if path == SUBSCRIPTION_PATH and method == "put":
        subscription = {"$ref": "#/components/schemas/Subscription"}
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": subscription}}}
        for status, description in (("200", "Updated"), ("201", "First notification")):
            responses[status] = {"description": description, "content": {"application/json": {"schema": subscription}}}
    if route.operation_result:
        responses["202"] = {"description": "Still running (poll Location again)"}
        responses["204"] = {"description": "Done: the resource was deleted"}
    if route.body is None:
        return
    resource = _schema(route.body[0], components)
    if method in ("put", "patch"):
        schema = resource if method == "put" else _schema(route.body[1], components)
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if method in ("put", "patch", "get"):
        responses["200"] = {"description": "OK", "content": {"application/json": {"schema": resource}}}
    if method == "put":
        responses["201"] = {"description": "Created", "content": {"application/json": {"schema": resource}}}
    if method == "patch" and route.patch_status == 202:
        responses["202"] = {"description": "Accepted", "content": {"application/json": {"schema": resource}}}
    if method == "delete":
        responses.pop("200", None)
        responses["202"] = {"description": "Accepted"}
        responses["204"] = {"description": "No Content"}
