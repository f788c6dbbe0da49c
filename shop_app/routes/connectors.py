"""The helpdesks' surface: inbound calls (``POST /connectors/{vendor}/hook/{key}``), the profile card page
a helpdesk frames (``GET|POST /connectors/{vendor}/card``) and its data (``POST /connectors/card/profile``).

An inbound call is checked by the vendor (signature or token, constant time) before anything in the body is
read: an unknown key, a missing or wrong signature and a stale timestamp are refused alike (401) and nothing
is stored. A verified call is stored once per delivery id (a replay stores nothing) and answered at once; a
job does the bot's work. A paused connector or an uninstalled shop answers 200 and stores nothing.

The card page may be framed only by the connector's helpdesk origin (``frame-ancestors``), runs only our
own script, which checks ``event.origin`` on every message; its data needs the card token the page got.
"""

from __future__ import annotations

import json
import logging
import time
from functools import cache
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from shop_app.connectors.cards import build_card, card_context, card_token, read_card_token
from shop_app.connectors.events import record_event
from shop_app.connectors.registry import CardViewer, Inbound, Refused, Vendor
from shop_app.connectors.storage import connector_for_key, connector_secrets
from shop_app.connectors.vendors import vendor_for
from shop_app.database import transaction
from shop_app.errors import BadRequest, NotFound, Unauthorized
from shop_app.i18n import SUPPORTED_LOCALES, catalogue, first_supported
from shop_app.jobs.tasks import TaskName
from shop_app.live_events import EventKind
from shop_app.models import Connector, Shop
from shop_app.routes.live import event_stream_response
from shop_app.routes.request_state import dispatch, read_body, services, templates

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_CARD_BODY_BYTES = 8 * 1024


def _inbound(request: Request, body: bytes, *, form: bool = False) -> Inbound:
    fields: dict[str, str] = {}
    if form and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return Inbound(
        body=body,
        headers={name.lower(): value for name, value in request.headers.items()},
        query=dict(request.query_params),
        form=fields,
    )


async def hook(request: Request) -> Response:
    vendor = vendor_for(str(request.path_params["vendor"]))
    if vendor is None:
        raise NotFound("No such connector", code="connector_not_found")
    app = services(request)
    body = await read_body(request, MAX_BODY_BYTES)
    async with app.sessions() as session:
        connector = await connector_for_key(session, vendor=vendor.name, key=str(request.path_params["key"]))
        shop = await session.get(Shop, connector.shop_id) if connector is not None else None
    secrets = connector_secrets(app.cipher, connector) if connector is not None else None
    verdict = vendor.verify(_inbound(request, body), secrets, now=time.time())
    if isinstance(verdict, Refused) or connector is None:
        logger.info(
            "connector call refused vendor=%s reason=%s", vendor.name, getattr(verdict, "reason", "key")
        )
        raise Unauthorized("The request signature is not valid", code="invalid_signature")
    if connector.paused or shop is None or not shop.is_active or not verdict.store:
        return JSONResponse({"ok": True, "stored": False})
    async with transaction(app.sessions) as session:
        event_id = await record_event(
            session, connector=connector, delivery_id=verdict.delivery_id, event=verdict.event
        )
    if event_id is None:
        logger.info("connector call repeated vendor=%s connector_id=%s", vendor.name, connector.id)
        return JSONResponse({"ok": True, "stored": False})
    # queued after the answer, in batches (the event is stored: the sweep takes it up if this is lost)
    dispatch(request).add(TaskName.PROCESS_CONNECTOR_EVENTS, "event_ids", [event_id])
    return JSONResponse({"ok": True, "stored": True})


def card_policy(origin: str) -> str:
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        f"base-uri 'none'; form-action 'none'; frame-ancestors {origin}"
    )


async def card_page(request: Request) -> Response:
    vendor = vendor_for(str(request.path_params["vendor"]))
    if vendor is None:
        raise NotFound("No such connector", code="connector_not_found")
    body = await read_body(request, MAX_CARD_BODY_BYTES) if request.method == "POST" else b""
    viewer = await vendor.card_viewer(services(request), _inbound(request, body, form=True))
    return await render_card_page(request, viewer, vendor=vendor, refused="invalid_card_key")


async def render_card_page(
    request: Request, viewer: CardViewer | None, *, vendor: Vendor, refused: str, sdk_url: str | None = None
) -> Response:
    """The card page every vendor shares: our script only (and the vendor's SDK from ``sdk_url``, allowed
    by the page's policy), framed only by the connector's helpdesk. Its words come in both languages: the
    page opens in the viewer's (else the shop's), and the agent's own locale, once the host says it,
    switches them (an unsigned locale chooses the language, nothing else)."""
    app = services(request)
    connector: Connector | None = None
    shop: Shop | None = None
    if viewer is not None:
        async with app.sessions() as session:
            connector = await session.get(Connector, viewer.connector_id)
            shop = await session.get(Shop, connector.shop_id) if connector is not None else None
    if viewer is None or connector is None or shop is None or not shop.is_active:
        raise Unauthorized("The card's key is not valid", code=refused)
    locale = first_supported(viewer.locale, shop.primary_locale)
    origin = vendor.origin(connector)
    response = templates(request).TemplateResponse(
        request,
        "connectors/card.html",
        {
            "locale": locale,
            "t": catalogue(locale).text,
            "messages_json": card_messages_json(),
            "vendor": vendor.name.value,
            "origin": origin,
            "sdk_url": sdk_url,
            "token": card_token(viewer, key=app.digest_key),
        },
    )
    policy = card_policy(origin)
    if sdk_url:
        parts = urlsplit(sdk_url)
        policy = policy.replace("script-src 'self'", f"script-src 'self' {parts.scheme}://{parts.netloc}")
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@cache
def card_messages_json() -> str:
    """The card script's words in every language, ``{"en": {...}, "ja": {...}}``."""
    return json.dumps(
        {locale: json.loads(catalogue(locale).as_json(prefix="card.")) for locale in SUPPORTED_LOCALES},
        ensure_ascii=False,
        separators=(",", ":"),
    )


CARD_EVENT_KINDS = frozenset(
    {EventKind.ORDERS_CHANGED, EventKind.CUSTOMERS_CHANGED, EventKind.STOCK_CHANGED, EventKind.TICKET_UPDATED}
)


async def _card_caller(request: Request) -> tuple[CardViewer, Connector, Shop]:
    """The card token's viewer, its connector and that connector's shop (installed): else a 401."""
    app = services(request)
    header = request.headers.get("authorization", "")
    viewer = (
        read_card_token(header.removeprefix("Card ").strip(), key=app.digest_key)
        if header.startswith("Card ")
        else None
    )
    if viewer is not None:
        async with app.sessions() as session:
            connector = await session.get(Connector, viewer.connector_id)
            shop = await session.get(Shop, connector.shop_id) if connector is not None else None
        if connector is not None and shop is not None and shop.is_active:
            return viewer, connector, shop
    raise Unauthorized("A card token is required", code="invalid_card_token")


async def card_profile(request: Request) -> Response:
    """The card's content (HTML, our template, every value escaped) for the conversation on screen."""
    app = services(request)
    viewer, connector, shop = await _card_caller(request)
    body = await read_body(request, MAX_CARD_BODY_BYTES)
    try:
        raw = json.loads(body) if body else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The body is not JSON", code="invalid_body") from None
    context = card_context(raw)
    async with app.sessions() as session:
        card = await build_card(session, shop=shop, connector=connector, viewer=viewer, context=context)
    html = (
        templates(request)
        .get_template("connectors/_profile.html")
        .render(
            {"card": card, "profile": card.profile, "t": catalogue(card.locale).text, "locale": card.locale}
        )
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Language": card.locale})


async def card_events(request: Request) -> Response:
    """The card's live events: its shop's order, customer, stock and ticket changes (ids only, as the
    console gets them), so the card fetches itself again when what it shows changed. The card token goes
    in the ``Authorization`` header (the script reads the stream with ``fetch``), never in an address."""
    _viewer, connector, _shop = await _card_caller(request)
    return event_stream_response(services(request).events, shop_id=connector.shop_id, kinds=CARD_EVENT_KINDS)


routes = [
    Route("/connectors/{vendor}/hook/{key}", hook, methods=["POST"]),
    Route("/connectors/card/profile", card_profile, methods=["POST"]),
    Route("/connectors/card/events", card_events, methods=["POST"]),
    Route("/connectors/{vendor}/card", card_page, methods=["GET", "POST"]),
]
