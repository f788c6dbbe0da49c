"""The versioned API (``/api/v1``) for the agent console, bots and other helpdesks: every endpoint is
declared once (``Endpoint``) and becomes both a route and a part of the OpenAPI document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shop_app.routes.api import (
    answers,
    desk_settings,
    insights,
    keys,
    order_actions,
    people,
    saved_replies,
    session,
    tickets,
)
from shop_app.routes.api.io import Endpoint
from shop_app.routes.api.notices import stock_subscriptions
from shop_app.routes.api.openapi import openapi_document

API_VERSION = "1.0.0"
ENDPOINTS: list[Endpoint] = [
    *session.ENDPOINTS,
    *tickets.ENDPOINTS,
    *people.ENDPOINTS,
    *keys.ENDPOINTS,
    *answers.ENDPOINTS,
    *saved_replies.ENDPOINTS,
    *desk_settings.ENDPOINTS,
    *order_actions.ENDPOINTS,
    *insights.ENDPOINTS,
    *stock_subscriptions.ENDPOINTS,
]
_DOCUMENT = openapi_document(ENDPOINTS, version=API_VERSION)


async def openapi_endpoint(_request: Request) -> Response:
    return JSONResponse(_DOCUMENT)


def _routes() -> list[BaseRoute]:
    by_path: dict[str, dict[str, Endpoint]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
    routes: list[BaseRoute] = [Route("/api/v1/openapi.json", openapi_endpoint, methods=["GET"])]
    for path, methods in by_path.items():

        async def dispatch(request: Request, methods: dict[str, Endpoint] = methods) -> Response:
            return await methods[request.method].handler(request)

        routes.append(Route(path, dispatch, methods=list(methods)))
    return routes


routes = _routes()
