"""The storefront chat widget's endpoints, reached only through Shopify's app proxy
(``https://{shop}/apps/support/…`` → ``{app}/proxy/support/…``).

Every request's query must carry a valid app proxy signature (current or previous secret, constant time,
fresh timestamp) before anything else is read, and each signature is answered once: a signed query seen
before (a logged URL replayed, in this process or another) is refused with 409. Shopify signs per second,
so the widget adds a random ``n`` to each query and two of its own requests never share a signature. The
signed ``logged_in_customer_id`` is the only source of the shopper's storefront identity. A conversation
is then held by a random session token (``X-Widget-Session``), bound to the shop and the signed customer.
Answers are JSON with ``<``, ``>`` and ``&`` escaped; the widget inserts text only.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integrations.shopify.app_proxy import StorefrontIdentity, verify_app_proxy_query
from shop_app.answers.self_service import SelfServiceRequest
from shop_app.answers.self_service.routing import asking_language, waiting_action
from shop_app.answers.self_service.turn import confirm_choices
from shop_app.channels.proxy_signatures import claim_proxy_signature
from shop_app.channels.self_service import self_service_turn
from shop_app.channels.widget import (
    SlidingWindowLimiter,
    WidgetMessage,
    access_widget_session,
    answer_in_widget,
    conversation_messages,
    post_customer_message,
    start_conversation,
)
from shop_app.errors import BadRequest, Conflict, NotFound, TooManyRequests, Unauthorized
from shop_app.helpdesk.contacts import ContactDetails
from shop_app.live_events import LiveEvent
from shop_app.models import Message, Shop, Ticket, WidgetSession
from shop_app.models.base import utcnow
from shop_app.notices.links import NoticeLinks
from shop_app.routes.request_state import services
from shop_app.shops.installation import get_shop

logger = logging.getLogger(__name__)

PROXY_PREFIX = "/proxy/support"
SESSION_HEADER = "x-widget-session"
MAX_BODY_BYTES = 8 * 1024
MAX_WIDGET_MESSAGE_CHARS = 2_000
MAX_NAME_CHARS = 255
MAX_EMAIL_CHARS = 320
MAX_AFTER_ID = 2**31 - 1
# per shop and client address: new conversations; per conversation: messages and polls
STARTS_PER_ADDRESS_PER_HOUR = 20
MESSAGES_PER_SESSION_PER_MINUTE = 12
POLLS_PER_SESSION_PER_MINUTE = 90
SUPPORTED_LANGUAGES = ("ja", "en")


class _Limits:
    def __init__(self) -> None:
        self.starts = SlidingWindowLimiter(limit=STARTS_PER_ADDRESS_PER_HOUR, window_seconds=3600)
        self.messages = SlidingWindowLimiter(limit=MESSAGES_PER_SESSION_PER_MINUTE, window_seconds=60)
        self.polls = SlidingWindowLimiter(limit=POLLS_PER_SESSION_PER_MINUTE, window_seconds=60)


def _limits(request: Request) -> _Limits:
    limits = getattr(request.app.state, "widget_limits", None)
    if not isinstance(limits, _Limits):
        limits = _Limits()
        request.app.state.widget_limits = limits
    return limits


def _check(limiter: SlidingWindowLimiter, key: str) -> None:
    if not limiter.allow(key):
        raise TooManyRequests(
            "Too many requests; please wait a moment",
            code="rate_limited",
            retry_after_seconds=limiter.wait_seconds(key),
        )


def text_json(content: Any, *, status_code: int = 200) -> Response:
    """JSON whose strings cannot be read as markup even if sniffed: ``<``, ``>``, ``&`` as escapes."""
    body = (
        json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return Response(
        body,
        status_code=status_code,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def _identity(request: Request) -> StorefrontIdentity:
    app = services(request)
    verdict = verify_app_proxy_query(
        request.query_params.multi_items(),
        secrets=[secret.reveal() for secret in app.settings.api_secrets],
        now=time.time(),
    )
    if verdict.identity is None or verdict.signature is None:
        logger.info("widget proxy signature refused reason=%s", verdict.rejection)
        raise Unauthorized("The storefront signature is not valid", code="invalid_proxy_signature")
    async with app.sessions() as session, session.begin():
        first = await claim_proxy_signature(
            session, signature=verdict.signature, timestamp=verdict.identity.timestamp, now=utcnow()
        )
    if not first:
        logger.info("widget proxy signature refused reason=replayed shop=%s", verdict.identity.shop)
        raise Conflict("This signed request was already answered", code="replayed_proxy_request")
    return verdict.identity


async def _shop(request: Request, identity: StorefrontIdentity) -> Shop:
    async with services(request).sessions() as session:
        shop = await get_shop(session, identity.shop)
    if shop is None or not shop.is_active or shop.id is None:
        raise NotFound("The app is not installed on this shop", code="shop_not_found")
    return shop


def _address(request: Request) -> str:
    """The shopper's address. Widget requests reach us through Shopify's app proxy, which appends the address
    it was connected from as the last ``X-Forwarded-For`` entry: the entries before it are whatever the
    shopper's own request claimed, so they are never believed (a made-up one would buy new guesses)."""
    forwarded = request.headers.get("x-forwarded-for", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    return last[:64] or (request.client.host if request.client else "unknown")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest("The request is too large", code="too_large")
    try:
        data = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("The body must be JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object", code="invalid_json")
    return data


def _text(data: dict[str, Any], name: str, *, limit: int, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"'{name}' is required", code="invalid_body")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be text", code="invalid_body")
    # control characters other than line breaks and tabs are dropped; the text stays text
    cleaned = "".join(ch for ch in value if ch in "\n\t" or ch.isprintable()).strip()
    if len(cleaned) > limit:
        raise BadRequest(f"'{name}' is longer than {limit} characters", code="too_long")
    if required and not cleaned:
        raise BadRequest(f"'{name}' is required", code="invalid_body")
    return cleaned or None


def _language(data: dict[str, Any]) -> str | None:
    value = data.get("language")
    return value if isinstance(value, str) and value in SUPPORTED_LANGUAGES else None


def _message_json(message: WidgetMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "author": message.author.value,
        "author_name": message.author_name,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


async def _publish(request: Request, shop: Shop, kind: str, **data: int) -> None:
    assert shop.id is not None
    await services(request).events.publish(LiveEvent(shop_id=shop.id, kind=kind, data=dict(data)))


async def _after_posting(
    request: Request, shop: Shop, ticket: Ticket, posted: list[Message], *, created: bool
) -> None:
    assert ticket.id is not None
    if created:
        await _publish(request, shop, "ticket.created", ticket_id=ticket.id)
    for message in posted:
        assert message.id is not None
        await _publish(request, shop, "message.created", ticket_id=ticket.id, message_id=message.id)
    await _publish(request, shop, "ticket.updated", ticket_id=ticket.id)


async def hello(request: Request) -> Response:
    """What the widget needs before the shopper types: whether Shopify vouches for a signed-in customer."""
    identity = await _identity(request)
    await _shop(request, identity)
    return text_json({"signed_in": identity.logged_in_customer_id is not None})


async def start(request: Request) -> Response:
    identity = await _identity(request)
    shop = await _shop(request, identity)
    _check(_limits(request).starts, f"{shop.id}:{_address(request)}")
    data = await _body(request)
    text = _text(data, "message", limit=MAX_WIDGET_MESSAGE_CHARS, required=True)
    assert text is not None
    customer_id = identity.logged_in_customer_id
    details = ContactDetails(
        name=_text(data, "name", limit=MAX_NAME_CHARS),
        email=_text(data, "email", limit=MAX_EMAIL_CHARS),
        locale=_language(data),
    )
    async with services(request).sessions() as session, session.begin():
        widget, token, ticket, first = await start_conversation(
            session, shop=shop, details=details, storefront_customer_id=customer_id, first_message=text
        )
        answered, step = await answer_in_widget(
            session,
            shop=shop,
            ticket=ticket,
            message=first,
            widget=widget,
            client_address=_address(request),
            first=True,
            links=NoticeLinks.of(services(request)),
        )
        posted = [first, *answered]
    await _after_posting(request, shop, ticket, posted, created=True)
    messages, choices = await _after_self_service(request, shop, ticket, step, after_id=0)
    return text_json(
        {"session": token, "messages": [_message_json(m) for m in messages], "choices": choices},
        status_code=201,
    )


async def _after_self_service(
    request: Request, shop: Shop, ticket: Ticket, step: SelfServiceRequest | None, *, after_id: int
) -> tuple[list[WidgetMessage], list[dict[str, str]]]:
    """The self-service step once the shopper's message is committed (its reply joins the answer), then
    the conversation since ``after_id`` and the yes/no buttons when the bot waits for one."""
    assert ticket.id is not None
    turn = await self_service_turn(services(request), shop=shop, ticket_id=ticket.id, request=step)
    async with services(request).sessions() as session:
        messages = await conversation_messages(session, ticket=ticket, after_id=after_id)
        choices = turn.choices if turn is not None else []
        if turn is None and await waiting_action(session, shop_id=shop.id or 0, ticket_id=ticket.id):
            spoken = await asking_language(session, shop_id=shop.id or 0, ticket_id=ticket.id)
            choices = confirm_choices(step.language if step else spoken or shop.primary_locale or "en")
    return messages, [{"label": label, "text": said} for label, said in choices]


async def _session(
    request: Request, shop: Shop, identity: StorefrontIdentity
) -> tuple[WidgetSession, Ticket]:
    token = request.headers.get(SESSION_HEADER, "").strip()
    if not token:
        raise Unauthorized("A chat session is required", code="missing_widget_session")
    assert shop.id is not None
    async with services(request).sessions() as session:
        return await access_widget_session(
            session, shop_id=shop.id, token=token, storefront_customer_id=identity.logged_in_customer_id
        )


async def send(request: Request) -> Response:
    identity = await _identity(request)
    shop = await _shop(request, identity)
    widget, ticket = await _session(request, shop, identity)
    _check(_limits(request).messages, f"session:{widget.id}")
    data = await _body(request)
    text = _text(data, "message", limit=MAX_WIDGET_MESSAGE_CHARS, required=True)
    assert text is not None
    after_id = _after(request)
    async with services(request).sessions() as session, session.begin():
        ticket = await session.get_one(Ticket, ticket.id)
        message = await post_customer_message(session, ticket=ticket, body=text)
        answered, step = await answer_in_widget(
            session,
            shop=shop,
            ticket=ticket,
            message=message,
            widget=widget,
            client_address=_address(request),
            links=NoticeLinks.of(services(request)),
        )
        posted = [message, *answered]
    await _after_posting(request, shop, ticket, posted, created=False)
    messages, choices = await _after_self_service(request, shop, ticket, step, after_id=after_id)
    return text_json({"messages": [_message_json(m) for m in messages], "choices": choices}, status_code=201)


def _after(request: Request) -> int:
    raw = request.query_params.get("after", "0")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_AFTER_ID:
        raise BadRequest("'after' is a message id", code="invalid_query")
    return int(raw)


async def poll(request: Request) -> Response:
    identity = await _identity(request)
    shop = await _shop(request, identity)
    widget, ticket = await _session(request, shop, identity)
    _check(_limits(request).polls, f"session:{widget.id}")
    after_id = _after(request)
    messages, choices = await _after_self_service(request, shop, ticket, None, after_id=after_id)
    return text_json(
        {"status": ticket.status, "messages": [_message_json(m) for m in messages], "choices": choices}
    )


routes = [
    Route(f"{PROXY_PREFIX}/hello", hello, methods=["GET"]),
    Route(f"{PROXY_PREFIX}/conversations", start, methods=["POST"]),
    Route(f"{PROXY_PREFIX}/messages", send, methods=["POST"]),
    Route(f"{PROXY_PREFIX}/messages", poll, methods=["GET"]),
]
