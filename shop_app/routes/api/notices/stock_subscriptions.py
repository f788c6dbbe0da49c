"""``POST /api/v1/tickets/{ticket_id}/stock-subscriptions``: an agent (or a bot with a key) tells a ticket's
shopper they will hear when a sold-out variant is back, as the bot's offer does: on the ticket's channel
(LINE or email), confirmed to them once in their language with the link to cancel; a storefront chat's
shopper is mailed a link to confirm first (the address the conversation holds), so an address typed by
someone else never receives notices. A variant in stock now, or not the shop's, is refused."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from shop_app.database import transaction
from shop_app.errors import Conflict, NotFound, TooManyRequests, Unprocessable
from shop_app.helpdesk.tickets import access_ticket
from shop_app.models import BotDecision, Contact, Shop
from shop_app.notices import back_in_stock
from shop_app.notices.links import NoticeLinks, Offer
from shop_app.routes.api.auth import authenticate
from shop_app.routes.api.io import Endpoint, JSONModelResponse, path_id, read_body
from shop_app.routes.request_state import services
from shop_app.routes.shoppers.notices import deliver_soon
from shop_app.schemas.notices import StockSubscriptionIn, StockSubscriptionOut

DECISIONS = BotDecision.__table__  # type: ignore[attr-defined]


async def _language(session: AsyncSession, *, shop: Shop, ticket_id: int, contact: Contact) -> str | None:
    """The language the conversation was last answered in, else the shopper's chosen one, else the shop's."""
    spoken = (
        await session.execute(
            select(DECISIONS.c.language)
            .where(DECISIONS.c.ticket_id == ticket_id, DECISIONS.c.shop_id == shop.id)
            .order_by(DECISIONS.c.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return spoken or contact.locale or shop.primary_locale


async def subscribe_endpoint(request: Request) -> Response:
    caller = await authenticate(request)
    ticket_id = path_id(request, "ticket_id")
    body = await read_body(request, StockSubscriptionIn)
    app = services(request)
    async with transaction(app.sessions) as session:
        ticket = await access_ticket(session, shop_id=caller.shop_id, ticket_id=ticket_id)
        available = await back_in_stock.variant_available(
            session,
            shop_id=caller.shop_id,
            variant_shopify_id=body.variant_id,
            location_ids=body.location_ids,
        )
        if available is None:
            raise NotFound("No such variant in this shop", code="variant_not_found")
        if available > 0:
            raise Conflict("The variant is in stock now", code="in_stock")
        contact = await session.get_one(Contact, ticket.contact_id)
        language = await _language(session, shop=caller.shop, ticket_id=ticket_id, contact=contact)
        try:
            result = await back_in_stock.subscribe(
                session,
                links=NoticeLinks.of(app),
                offer=Offer(caller.shop_id, ticket_id, body.variant_id, tuple(body.location_ids)),
                language=language,
                email=contact.email,
            )
        except back_in_stock.SubscriptionRefused as refused:
            if refused.code == "email_required":
                raise Unprocessable(
                    "The shopper left no email address to be told by", code="email_required"
                ) from None
            if refused.code == "busy":
                raise TooManyRequests(
                    "Too many confirmations were mailed this hour", retry_after_seconds=3600, code="busy"
                ) from None
            raise NotFound("No such variant in this shop", code="variant_not_found") from None
        subscription = result.subscription
        assert subscription.id is not None
        shown = StockSubscriptionOut(
            id=subscription.id,
            created=result.created,
            status=str(subscription.status),
            channel=str(subscription.channel),
            item=subscription.item_name,
            language=subscription.language,
            expires_at=subscription.expires_at,
        )
    if result.message_id is not None:
        await deliver_soon(request, result.message_id)
    return JSONModelResponse(shown, status_code=201 if result.created else 200)


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST",
        "/api/v1/tickets/{ticket_id}/stock-subscriptions",
        subscribe_endpoint,
        "Tell the ticket's shopper when a sold-out variant is back (入荷お知らせ), on their channel, once",
        "back in stock",
        body=StockSubscriptionIn,
        response=StockSubscriptionOut,
        status=201,
        responses={
            404: "No such ticket or variant in this shop",
            409: "The variant is in stock now",
            422: "A storefront chat's shopper left no email address",
            429: "Too many confirmation mails this hour",
        },
    ),
]
