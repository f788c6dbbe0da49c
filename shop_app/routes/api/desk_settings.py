"""The shop's desk settings: business hours and first-response targets (set in the embedded admin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from shop_app.helpdesk.business_hours import desk_settings, save_desk_settings
from shop_app.routes.api.auth import authenticate, require_admin
from shop_app.routes.api.io import Endpoint, JSONModelResponse, read_body
from shop_app.routes.request_state import services
from shop_app.schemas.desk_settings import DeskSettings, DeskSettingsIn


async def read_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    return JSONModelResponse(desk_settings(caller.shop))


async def write_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller)
    body = await read_body(request, DeskSettingsIn)
    async with services(request).sessions() as session, session.begin():
        shop = await save_desk_settings(session, shop=caller.shop, settings=body)
        out = desk_settings(shop)
    return JSONModelResponse(out)


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/desk-settings",
        read_endpoint,
        "Business hours and first-response targets",
        "desk settings",
        response=DeskSettings,
    ),
    Endpoint(
        "PUT",
        "/api/v1/desk-settings",
        write_endpoint,
        "Set business hours and first-response targets (admins)",
        "desk settings",
        body=DeskSettingsIn,
        response=DeskSettings,
        responses={403: "Only the shop's admins", 422: "A day that closes before (or when) it opens"},
    ),
]
