"""The embedded admin's Connectors page (``/app/connectors``, listed in ``embedded_admin.PAGES``) and its
JSON API: per vendor, the connector's state (never a secret), set up or change it (a secret left empty is
kept), test the connection (the result says what is wrong), pause and resume."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shop_app.connectors.registry import Vendor
from shop_app.connectors.storage import (
    access_connector,
    check_connector,
    connector_view,
    save_connector,
    set_paused,
)
from shop_app.connectors.vendors import all_vendors, vendor_for
from shop_app.database import transaction
from shop_app.errors import BadRequest, NotFound
from shop_app.routes.embedded_admin import authenticate_admin
from shop_app.routes.request_state import services
from shop_app.settings import Mode

MAX_FORM_BYTES = 16 * 1024


def _vendor(request: Request) -> Vendor:
    vendor = vendor_for(str(request.path_params["vendor"]))
    if vendor is None:
        raise NotFound("No such connector", code="connector_not_found")
    return vendor


async def _state(request: Request, shop_id: int, vendor: Vendor) -> dict[str, object]:
    async with services(request).sessions() as session:
        connector = await access_connector(session, shop_id=shop_id, vendor=vendor.name)
        return {
            "vendor": vendor.name.value,
            "fields": [
                {"name": f.name, "kind": f.kind.value, "required": f.required, "max_chars": f.max_chars}
                for f in vendor.fields
            ],
            "connector": connector_view(services(request).settings, vendor, connector),
        }


async def list_connectors(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    states = [await _state(request, admin.shop.id, vendor) for vendor in all_vendors()]
    return JSONResponse({"connectors": states}, headers={"Cache-Control": "no-store"})


async def _json(request: Request) -> dict[str, object]:
    raw = await request.body()
    try:
        data = json.loads(raw) if len(raw) <= MAX_FORM_BYTES else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise BadRequest("A JSON object is required", code="invalid_body")
    return data


async def save(request: Request) -> Response:
    """Set the connector up or change it, then test it."""
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    vendor = _vendor(request)
    data = await _json(request)
    app = services(request)
    async with transaction(app.sessions) as session:
        connector = await save_connector(
            session,
            shop=admin.shop,
            cipher=app.cipher,
            vendor=vendor,
            values=data,
            https_only=app.settings.mode is Mode.PRODUCTION,
        )
        connector_id = connector.id
    assert connector_id is not None
    result = await check_connector(app, vendor=vendor, connector_id=connector_id)
    return JSONResponse({"result": result, **await _state(request, admin.shop.id, vendor)})


async def check(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    vendor = _vendor(request)
    async with services(request).sessions() as session:
        connector = await access_connector(session, shop_id=admin.shop.id, vendor=vendor.name)
    if connector is None or connector.id is None:
        raise NotFound("Not connected", code="connector_not_found")
    result = await check_connector(services(request), vendor=vendor, connector_id=connector.id)
    return JSONResponse({"result": result, **await _state(request, admin.shop.id, vendor)})


async def pause(request: Request) -> Response:
    admin = await authenticate_admin(request)
    assert admin.shop.id is not None
    vendor = _vendor(request)
    paused = (await _json(request)).get("paused")
    if not isinstance(paused, bool):
        raise BadRequest("'paused' must be true or false", code="invalid_body")
    async with transaction(services(request).sessions) as session:
        connector = await access_connector(session, shop_id=admin.shop.id, vendor=vendor.name)
        if connector is None:
            raise NotFound("Not connected", code="connector_not_found")
        await set_paused(session, connector=connector, paused=paused)
    return JSONResponse(await _state(request, admin.shop.id, vendor))


routes: list[BaseRoute] = [
    Route("/api/admin/connectors", list_connectors, methods=["GET"]),
    Route("/api/admin/connectors/{vendor}", save, methods=["PUT"]),
    Route("/api/admin/connectors/{vendor}/check", check, methods=["POST"]),
    Route("/api/admin/connectors/{vendor}/pause", pause, methods=["POST"]),
]
