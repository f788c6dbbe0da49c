"""The Zendesk sidebar page: Zendesk's first load of a Support app with ``signedUrls`` is a POST with the
signed-URL JWT in ``token``; the vendor checks it (account, installation, expiry, Zendesk's key), and the
page is the shared profile card with the app framework SDK beside it (allowed by the page's policy, which
also lets only the connector's Zendesk frame it). Its data comes from ``POST /connectors/card/profile``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shop_app.connectors.zendesk import SIDEBAR_PATH, ZENDESK
from shop_app.routes.connectors import MAX_CARD_BODY_BYTES, _inbound, render_card_page
from shop_app.routes.request_state import read_body, services


async def sidebar(request: Request) -> Response:
    app = services(request)
    body = await read_body(request, MAX_CARD_BODY_BYTES)
    viewer = await ZENDESK.card_viewer(app, _inbound(request, body, form=True))
    return await render_card_page(
        request,
        viewer,
        vendor=ZENDESK,
        refused="invalid_signed_url",
        sdk_url=app.settings.zendesk_zaf_sdk_url,
    )


routes = [Route(SIDEBAR_PATH, sidebar, methods=["POST"])]
