"""The OpenAPI 3.1 document, built from the endpoint table and the pydantic shapes (one source for both)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shop_app.routes.api.auth import SAFE_METHODS
from shop_app.routes.api.io import MAX_BODY_BYTES, ROW_ID, Endpoint
from shop_app.schemas.tickets import ErrorOut

REF_TEMPLATE = "#/components/schemas/{model}"
PATH_PARAMETER = re.compile(r"{(\w+)}")


def openapi_document(endpoints: list[Endpoint], *, version: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorOut}
    for endpoint in endpoints:
        models.update(m for m in (endpoint.body, endpoint.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, schemas = models_json_schema([(model, "validation") for model in ordered], ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shop support API",
            "version": version,
            "description": "Tickets, messages, contacts, customer links and profiles of one shop. Every "
            "call is scoped to the caller's shop: another shop's id answers 404.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key (shpk_…)"},
                "sessionToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Shopify App Bridge session token (embedded admin)",
                },
                "agentSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "shop_app_session",
                    "description": "A signed-in agent; writes also need the X-CSRF-Token header",
                },
            },
        },
        "security": [{"apiKey": []}, {"sessionToken": []}, {"agentSession": []}],
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _path_schemas(endpoint: Endpoint) -> dict[str, dict[str, Any]]:
    return {
        name: dict(endpoint.path_schemas.get(name, ROW_ID)) for name in PATH_PARAMETER.findall(endpoint.path)
    }


def refusals(endpoint: Endpoint) -> dict[int, str]:
    """Every error status the operation can answer: those its kind implies, then its own."""
    found: dict[int, str] = {}
    path = _path_schemas(endpoint)
    if endpoint.body is not None or endpoint.query or path:
        found[400] = "The request does not match this document (the message says what)"
    if endpoint.auth:
        found[401] = "Missing, invalid or expired credentials"
        if endpoint.method not in SAFE_METHODS:
            found[403] = "A signed-in agent's write without the console's X-CSRF-Token header"
    if any(schema["type"] == "integer" for schema in path.values()):
        found[404] = "No such row in the caller's shop (another shop's ids included)"
    if endpoint.body is not None:
        found[413] = f"A body over {MAX_BODY_BYTES // 1024} KiB"
    for status, description in endpoint.responses.items():
        found[status] = (
            f"{found[status]}; {description}" if status in (400, 403) and status in found else description
        )
    return dict(sorted(found.items()))


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    error = {"application/json": {"schema": _ref(ErrorOut)}}
    responses: dict[str, Any] = {}
    if endpoint.response is not None:
        responses[str(endpoint.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(endpoint.response)}},
        }
    elif endpoint.file:
        responses[str(endpoint.status)] = {
            "description": "The file, with its own content type",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    else:
        responses[str(endpoint.status)] = {"description": "Done"}
    for status, description in refusals(endpoint).items():
        responses[str(status)] = {"description": description, "content": error}
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in _path_schemas(endpoint).items()
    ]
    parameters += [
        {
            "name": parameter.name,
            "in": "query",
            "required": False,
            "description": parameter.description,
            "schema": parameter.schema,
        }
        for parameter in endpoint.query
    ]
    operation: dict[str, Any] = {
        "operationId": f"{endpoint.method.lower()}_{endpoint.handler.__module__.rsplit('.', 1)[-1]}_"
        f"{endpoint.handler.__name__}",
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(endpoint.body)}},
        }
    if not endpoint.auth:
        operation["security"] = []
    return operation
