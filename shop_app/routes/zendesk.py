"""The Zendesk sidebar page: Zendesk's first load of a Support app with ``signedUrls`` is a POST with the
signed-URL JWT in ``token``; the vendor checks it (account, installation, expiry, Zendesk's key), and the
page is the shared profile card with the app framework SDK beside it (allowed by the page's policy, which
also lets only the connector's Zendesk frame it). Its data comes from ``POST /connectors/card/profile``."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shop_app.connectors.cards import card_token
from shop_app.connectors.zendesk import SIDEBAR_PATH, ZENDESK
from shop_app.errors import Unauthorized
from shop_app.i18n import catalogue, first_supported
from shop_app.models import Connector, Shop
from shop_app.routes.connectors import (
    CARD_REFRESH_SECONDS,
    MAX_CARD_BODY_BYTES,
    _inbound,
    card_policy,
)
from shop_app.routes.request_state import read_body, services, templates


def _script_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def sidebar(request: Request) -> Response:
    app = services(request)
    body = await read_body(request, MAX_CARD_BODY_BYTES)
    viewer = await ZENDESK.card_viewer(app, _inbound(request, body, form=True))
    if viewer is None:
        raise Unauthorized("The signed URL is not valid", code="invalid_signed_url")
    async with app.sessions() as session:
        connector = await session.get(Connector, viewer.connector_id)
        shop = await session.get(Shop, connector.shop_id) if connector is not None else None
    if connector is None or shop is None or not shop.is_active:
        raise Unauthorized("The signed URL is not valid", code="invalid_signed_url")
    locale = first_supported(viewer.locale, shop.primary_locale)
    origin = ZENDESK.origin(connector)
    messages = catalogue(locale)
    sdk_url = app.settings.zendesk_zaf_sdk_url
    response = templates(request).TemplateResponse(
        request,
        "connectors/zendesk_card.html",
        {
            "locale": locale,
            "t": messages.text,
            "messages_json": messages.as_json(prefix="card."),
            "origin": origin,
            "sdk_url": sdk_url,
            "token": card_token(viewer, key=app.digest_key),
            "refresh_seconds": CARD_REFRESH_SECONDS,
        },
    )
    policy = card_policy(origin).replace("script-src 'self'", f"script-src 'self' {_script_origin(sdk_url)}")
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


routes = [Route(SIDEBAR_PATH, sidebar, methods=["POST"])]
