"""The OpenAPI 3.1 document, built from the endpoint table and the pydantic shapes (one source for both)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shop_app.routes.api.io import Endpoint
from shop_app.schemas.tickets import ErrorOut

REF_TEMPLATE = "#/components/schemas/{model}"
PATH_PARAMETER = re.compile(r"{(\w+)}")
ERRORS = {400: "Bad input (the message says what)", 401: "Missing, invalid or expired credentials"}


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


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    error = {"application/json": {"schema": _ref(ErrorOut)}}
    responses: dict[str, Any] = {}
    if endpoint.response is not None:
        responses[str(endpoint.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(endpoint.response)}},
        }
    else:
        responses[str(endpoint.status)] = {"description": "Done"}
    for status, description in {**ERRORS, **endpoint.responses}.items():
        responses[str(status)] = {"description": description, "content": error}
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
        for name in PATH_PARAMETER.findall(endpoint.path)
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
        for name, text in endpoint.query
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
