"""The OpenAPI document at /openapi.json, with the real request and response schemas of the newest
api-version (so that clients and fuzzers can drive the API from it)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from aro.api.registry import VERSIONS

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


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def install_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        components["CloudError"] = ERROR_SCHEMA
        newest = VERSIONS[max(VERSIONS)]
        cluster = _schema(newest.cluster_model, components) if newest.cluster_model else {"type": "object"}
        update = _schema(newest.cluster_update_model, components) if newest.cluster_update_model else {"type": "object"}
        error_ref = {
            "description": "ARM error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CloudError"}}},
        }
        for path, item in doc.get("paths", {}).items():
            for method, op in item.items():
                op.setdefault("responses", {}).pop("422", None)
                op["responses"]["default"] = error_ref
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
