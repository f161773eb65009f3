"""The OpenAPI document at /openapi.json, with the real request and response schemas of the newest
api-version (so that clients and fuzzers can drive the API from it).

Parameters are documented with the values the RP accepts (``api-version``: the newest version, ``2.0``
for the subscription lifecycle; subscription and operation ids: UUIDs; resource group and resource names:
ARM's name rule; ``location``: the RP's region), and every status code a route answers is listed; any
other answer is an ARM error (``default``: CloudError)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from aro.api.registry import VERSIONS
from aro.api.version import Version
from aro.database.subscriptions import SubscriptionState
from aro.frontend.arm import NAME_PATTERN, UUID_PATTERN

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
        "registrationDate": {"type": "string"},
        "properties": {"type": "object"},
    },
}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _parameter_schemas(app: FastAPI, newest: Version) -> dict[str, dict[str, Any]]:
    """What the RP accepts for each named parameter (ARM names are case-insensitive: both cases)."""
    name = {"type": "string", "pattern": NAME_PATTERN, "minLength": 1, "maxLength": 90}
    uuid = {"type": "string", "pattern": UUID_PATTERN}
    return {
        "api-version": {"type": "string", "enum": [newest.api_version]},
        "subscriptionId": uuid,
        "operationId": uuid,
        "resourceGroupName": name,
        "resourceName": name,
        "location": {"type": "string", "enum": [app.state.config.location]},
        "action": {"type": "string", "enum": sorted(newest.actions)},
    }


def _document_parameters(path: str, op: dict[str, Any], schemas: dict[str, dict[str, Any]]) -> None:
    for param in op.get("parameters", []):
        schema = schemas.get(param["name"])
        if schema is None:
            continue
        param["schema"] = dict(schema)
        if param["name"] == "api-version":
            param["required"] = True
            if path == "/subscriptions/{subscriptionId}":
                param["schema"]["enum"] = ["2.0"]  # ARM's subscription lifecycle API


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        components["CloudError"] = ERROR_SCHEMA
        components["Subscription"] = SUBSCRIPTION_SCHEMA
        newest = VERSIONS[max(VERSIONS)]
        cluster = _schema(newest.cluster_model, components) if newest.cluster_model else {"type": "object"}
        update = _schema(newest.cluster_update_model, components) if newest.cluster_update_model else {"type": "object"}
        error_ref = {
            "description": "ARM error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CloudError"}}},
        }
        parameters = _parameter_schemas(app, newest)
        for path, item in doc.get("paths", {}).items():
            for method, op in item.items():
                op.setdefault("responses", {}).pop("422", None)
                op["responses"]["default"] = error_ref
                _document_parameters(path, op, parameters)
                if path == "/subscriptions/{subscriptionId}" and method == "put":
                    subscription = {"$ref": "#/components/schemas/Subscription"}
                    op["requestBody"] = {"required": True, "content": {"application/json": {"schema": subscription}}}
                    for status, description in (("200", "Updated"), ("201", "First notification")):
                        op["responses"][status] = {
                            "description": description,
                            "content": {"application/json": {"schema": subscription}},
                        }
                if path.endswith("/operationresults/{operationId}"):
                    op["responses"]["202"] = {"description": "Still running (poll Location again)"}
                    op["responses"]["204"] = {"description": "Done: the resource was deleted"}
                if "/openshiftclusters/{resourcename}" in path.lower() and not path.endswith("{action}"):
                    if method == "put":
                        op["requestBody"] = {
                            "required": True,
                            "content": {"application/json": {"schema": cluster}},
                        }
                    elif method == "patch":
                        op["requestBody"] = {
                            "required": True,
                            "content": {"application/json": {"schema": update}},
                        }
                    if method in ("put", "patch", "get"):
                        op["responses"]["200"] = {
                            "description": "OK",
                            "content": {"application/json": {"schema": cluster}},
                        }
                    if method == "put":
                        op["responses"]["201"] = {
                            "description": "Created",
                            "content": {"application/json": {"schema": cluster}},
                        }
                    if method == "delete":
                        op["responses"].pop("200", None)
                        op["responses"]["202"] = {"description": "Accepted"}
                        op["responses"]["204"] = {"description": "No Content"}
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]
