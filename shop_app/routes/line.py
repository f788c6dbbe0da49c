"""LINE's surface: the webhook LINE posts to (``POST /line/webhook/{key}``, a random key per shop), the
storefront page of the account-link flow (through Shopify's app proxy), and the content of media a LINE user
sent, for the shop's agents.

The webhook checks ``x-line-signature`` against the shop's channel secret before anything in the body is
read. An unknown key, a disabled connection, an uninstalled shop, a missing header and a wrong signature are
all refused alike (401, the same words, after the same HMAC work), and nothing is stored. A signed body's
events are stored (each ``webhookEventId`` once) and answered 200 at once; a job does the bot's work.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from integrations.line.errors import LineError
from integrations.line.events import LineParseError, parse_webhook_body
from integrations.line.signatures import SIGNATURE_HEADER, verify_signature
from integrations.shopify.app_proxy import verify_app_proxy_query
from shop_app.channels.attachments import FILE_HEADERS, LINE_CONTENT_PATH, served_type
from shop_app.channels.line import account_links, inbox, message_refs
from shop_app.channels.line.connections import connection_for_shop, line_client, webhook_target
from shop_app.database import transaction
from shop_app.errors import BadRequest, NotFound, Unauthorized
from shop_app.i18n import catalogue, first_supported
from shop_app.jobs.tasks import TaskName
from shop_app.routes.api.auth import authenticate
from shop_app.routes.request_state import dispatch, read_body, services, templates, writer_sessions
from shop_app.shops.installation import get_shop

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
# For a key with no usable connection: the same HMAC work as for a real one, so timing tells nothing.
_NO_SECRET = secrets.token_hex(16)
LINK_PAGE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'"
MAX_LINE_MESSAGE_ID_CHARS = 40


def _refused() -> Unauthorized:
    return Unauthorized("The request signature is not valid", code="invalid_signature")


async def _read_body(request: Request) -> bytes:
    return await read_body(request, MAX_BODY_BYTES)


async def webhook(request: Request) -> Response:
    app = services(request)
    body = await _read_body(request)
    target = await webhook_target(app.sessions, app.cipher, str(request.path_params["key"]))
    usable = target is not None and target.usable
    secret = target.channel_secret.reveal() if target is not None and usable else _NO_SECRET
    signed = verify_signature(body, request.headers.get(SIGNATURE_HEADER), channel_secret=secret)
    if not (signed and usable) or target is None:
        logger.info("line webhook refused signed=%s usable=%s", signed, usable)
        raise _refused()
    try:
        parse_webhook_body(body)  # the whole body's shape, before anything is stored
        events = json.loads(body)["events"]
    except LineParseError:
        logger.warning("line webhook body unreadable shop_id=%s", target.shop_id)
        raise BadRequest("The body is not a LINE webhook body", code="invalid_body") from None
    event_ids: list[int] = []
    if events:
        # the one write before the 200, on the writer's connection, ahead of the processing's turns
        async with transaction(writer_sessions(request), urgent=True) as session:
            event_ids = await inbox.record_events(session, shop_id=target.shop_id, events=events)
    # the job is queued after the answer (the events are stored: the sweep queues them if this is lost)
    dispatch(request).add(TaskName.PROCESS_LINE_EVENTS, "event_ids", event_ids)
    logger.debug("line webhook shop_id=%s events=%s new=%s", target.shop_id, len(events), len(event_ids))
    return JSONResponse({})


def _page(
    request: Request, *, locale: str, state: str, message: str, sign_in_url: str | None = None
) -> Response:
    return templates(request).TemplateResponse(
        request,
        "line/link.html",
        {
            "locale": locale,
            "t": catalogue(locale).text,
            "state": state,
            "message": message,
            "sign_in_url": sign_in_url,
        },
        headers={"Content-Security-Policy": LINK_PAGE_POLICY, "Cache-Control": "no-store"},
    )


async def link_page(request: Request) -> Response:
    """The storefront's account-link page: Shopify's signature says who is signed in; a signed-in customer
    with a link token the app issued gets a nonce and goes on to LINE, anyone else is asked to sign in."""
    app = services(request)
    verdict = verify_app_proxy_query(
        request.query_params.multi_items(),
        secrets=[secret.reveal() for secret in app.settings.api_secrets],
        now=time.time(),
    )
    if verdict.identity is None:
        logger.info("line link page signature refused reason=%s", verdict.rejection)
        raise Unauthorized("The storefront signature is not valid", code="invalid_proxy_signature")
    identity = verdict.identity
    async with app.sessions() as session:
        shop = await get_shop(session, identity.shop)
    if shop is None or not shop.is_active or shop.id is None:
        raise NotFound("The app is not installed on this shop", code="shop_not_found")
    locale = first_supported(request.query_params.get("locale"), shop.primary_locale)
    text = catalogue(locale).text
    link_token = request.query_params.get("linkToken", "")
    if not link_token or len(link_token) > account_links.MAX_LINK_TOKEN_CHARS:
        return _page(request, locale=locale, state="expired", message=text("line.link.expired"))
    if identity.logged_in_customer_id is None:
        back = f"{account_links.LINK_PAGE_PATH}?{urlencode({'linkToken': link_token})}"
        return _page(
            request,
            locale=locale,
            state="sign_in",
            message=text("line.link.sign_in_first"),
            sign_in_url=f"/account/login?return_url={quote(back, safe='')}",
        )
    async with transaction(app.sessions) as session:
        nonce = await account_links.make_nonce(
            session,
            shop_id=shop.id,
            link_token=link_token,
            customer_shopify_id=identity.logged_in_customer_id,
        )
    if nonce is None:
        return _page(request, locale=locale, state="expired", message=text("line.link.expired"))
    return RedirectResponse(
        account_links.line_link_dialog_url(app.settings.line_access_url, link_token=link_token, nonce=nonce),
        status_code=302,
        headers={"Cache-Control": "no-store"},
    )


async def content(request: Request) -> Response:
    """A picture (or video, audio, file) a LINE user sent, for the shop's agents: only when one of the shop's
    LINE conversations holds it; another shop's, or any other id, is a 404."""
    caller = await authenticate(request)
    message_id = str(request.path_params["message_id"])
    if not message_id.isdigit() or len(message_id) > MAX_LINE_MESSAGE_ID_CHARS:
        raise NotFound("No such content", code="content_not_found")
    app = services(request)
    async with app.sessions() as session:
        held = await message_refs.holds_media(session, shop_id=caller.shop_id, line_message_id=message_id)
        connection = await connection_for_shop(session, shop_id=caller.shop_id)
    if not held or connection is None:
        raise NotFound("No such content", code="content_not_found")
    try:
        data, content_type = await line_client(app, connection).content(message_id)
    except LineError:
        raise NotFound("LINE no longer holds this content", code="content_not_found") from None
    media_type, disposition = served_type(content_type)
    return Response(data, media_type=media_type, headers={**FILE_HEADERS, "Content-Disposition": disposition})


routes = [
    Route("/line/webhook/{key}", webhook, methods=["POST"]),
    Route("/proxy/support/line-link", link_page, methods=["GET"]),
    Route(LINE_CONTENT_PATH + "{message_id}", content, methods=["GET"]),
]
