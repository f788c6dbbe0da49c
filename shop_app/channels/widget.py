"""The storefront chat widget's conversations: a random session token per conversation (only its SHA-256
digest is stored, with the ticket and the storefront customer the app proxy vouched for), the messages a
shopper may see, and a small in-process rate limiter for the proxy endpoints."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers import Trust, answer_message
from shop_app.answers.self_service import SelfServiceRequest
from shop_app.answers.ticket_subjects import new_ticket_subject
from shop_app.errors import BadRequest, Unauthorized
from shop_app.formats.emails import normalise_email
from shop_app.formats.names_and_addresses import person_name
from shop_app.helpdesk.agents import shopper_facing_name
from shop_app.helpdesk.business_hours import acknowledgement
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact, unvouched_contact
from shop_app.helpdesk.tickets import open_ticket, post_message
from shop_app.models import (
    Agent,
    AuthorType,
    Channel,
    Contact,
    Customer,
    Message,
    Shop,
    Ticket,
    TicketStatus,
    WidgetSession,
)
from shop_app.models.base import utcnow
from shop_app.notices.links import NoticeLinks

WIDGET_SESSION_LIFETIME_SECONDS = 24 * 3600
WIDGET_TOKEN_PREFIX = "wgt_"  # noqa: S105 - a label, not a secret
MAX_WIDGET_TOKEN_CHARS = 100
MAX_POLLED_MESSAGES = 200
VISIBLE_AUTHORS = (AuthorType.CUSTOMER, AuthorType.AGENT, AuthorType.BOT)


@dataclass(frozen=True, slots=True)
class WidgetMessage:
    id: int
    author: AuthorType
    author_name: str | None
    body: str
    created_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _id(value: int | None) -> int:
    assert value is not None, "row not flushed"
    return value


async def start_conversation(
    session: AsyncSession,
    *,
    shop: Shop,
    details: ContactDetails,
    storefront_customer_id: int | None,
    first_message: str,
    now: datetime | None = None,
) -> tuple[WidgetSession, str, Ticket, Message]:
    """Open a web-chat ticket and the widget session that speaks in it; the token is returned once."""
    now = now or utcnow()
    if storefront_customer_id is not None:
        details = await _signed_customer_details(
            session, shop=shop, customer_id=storefront_customer_id, details=details
        )
        contact = await find_or_create_contact(
            session, shop=shop, details=details, storefront_customer_id=storefront_customer_id
        )
    else:
        contact = await _visitor_contact(session, shop=shop, details=details)
    subject = await new_ticket_subject(session, shop=shop, first_message=first_message)
    ticket, message = await open_ticket(
        session,
        shop=shop,
        contact=contact,
        channel=Channel.WEB_CHAT,
        subject=subject,
        first_message=first_message,
    )
    token = WIDGET_TOKEN_PREFIX + secrets.token_urlsafe(32)
    widget = WidgetSession(
        shop_id=_id(shop.id),
        ticket_id=_id(ticket.id),
        token_digest=_digest(token),
        storefront_customer_id=storefront_customer_id,
        created_at=now,
        expires_at=now + timedelta(seconds=WIDGET_SESSION_LIFETIME_SECONDS),
    )
    session.add(widget)
    await session.flush()
    return widget, token, ticket, message


async def _signed_customer_details(
    session: AsyncSession, *, shop: Shop, customer_id: int, details: ContactDetails
) -> ContactDetails:
    """The signed customer's name and email from the mirror, where the shopper typed none."""
    customer = (
        await session.execute(
            select(Customer).where(col(Customer.shop_id) == shop.id, col(Customer.shopify_id) == customer_id)
        )
    ).scalar_one_or_none()
    if customer is None:
        return details
    name = person_name(customer.first_name, customer.last_name)
    return replace(details, name=details.name or name, email=details.email or customer.email)


async def _visitor_contact(session: AsyncSession, *, shop: Shop, details: ContactDetails) -> Contact:
    """A visitor's contact. A typed email is only a claim: it never joins a contact that a storefront
    signature vouched for, whose conversations may hear about that customer's orders."""
    email = normalise_email(details.email) if details.email else None
    if details.email and email is None:
        raise BadRequest("The email address is not valid", code="invalid_email")
    contact = await unvouched_contact(session, shop_id=_id(shop.id), email=email)
    contact.name = details.name or contact.name
    contact.locale = details.locale or contact.locale
    contact.updated_at = utcnow()
    await session.flush()
    return contact


async def access_widget_session(
    session: AsyncSession,
    *,
    shop_id: int,
    token: str,
    storefront_customer_id: int | None,
    now: datetime | None = None,
) -> tuple[WidgetSession, Ticket]:
    """The shop's live widget session for this token, held by the same storefront customer (or visitor);
    an unknown, expired or other shop's token, or another signed-in customer, is refused alike."""
    now = now or utcnow()
    refused = Unauthorized("The chat session is not valid", code="invalid_widget_session")
    if not token.startswith(WIDGET_TOKEN_PREFIX) or len(token) > MAX_WIDGET_TOKEN_CHARS:
        raise refused
    widget = (
        await session.execute(select(WidgetSession).where(col(WidgetSession.token_digest) == _digest(token)))
    ).scalar_one_or_none()
    if (
        widget is None
        or widget.shop_id != shop_id
        or widget.expires_at <= now
        or widget.storefront_customer_id != storefront_customer_id
    ):
        raise refused
    ticket = await session.get(Ticket, widget.ticket_id)
    if ticket is None or ticket.shop_id != shop_id:
        raise refused
    return widget, ticket


async def post_customer_message(session: AsyncSession, *, ticket: Ticket, body: str) -> Message:
    return await post_message(session, ticket=ticket, author_type=AuthorType.CUSTOMER, body=body)


async def conversation_messages(
    session: AsyncSession, *, ticket: Ticket, after_id: int = 0
) -> list[WidgetMessage]:
    """What the shopper sees: their messages, the bot's and the agents' (never internal notes), each
    agent by a display name, never an email."""
    shop_name = (await session.execute(select(col(Shop.name)).where(col(Shop.id) == ticket.shop_id))).scalar()
    rows = await session.execute(
        select(Message, Agent)
        .outerjoin(Agent, col(Agent.id) == col(Message.agent_id))
        .where(
            col(Message.ticket_id) == ticket.id,
            col(Message.id) > after_id,
            col(Message.author_type).in_([a.value for a in VISIBLE_AUTHORS]),
        )
        .order_by(col(Message.id))
        .limit(MAX_POLLED_MESSAGES)
    )
    return [
        WidgetMessage(
            id=_id(message.id),
            author=AuthorType(message.author_type),
            author_name=shopper_facing_name(agent.name, shop_name=shop_name) if agent is not None else None,
            body=message.body,
            created_at=message.created_at,
        )
        for message, agent in rows
    ]


class SlidingWindowLimiter:
    """At most ``limit`` events per key in the last ``window_seconds``. In-process: each app process
    counts its own requests, which bounds abuse without a shared store."""

    def __init__(
        self, *, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window_seconds:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) > 10_000:  # forget idle keys so the table cannot grow without bound
            for stale in [k for k, v in self._events.items() if not v or now - v[-1] >= self.window_seconds]:
                del self._events[stale]
        return True

    def wait_seconds(self, key: str) -> int:
        """Whole seconds until ``key`` may act again (at least 1)."""
        events = self._events.get(key)
        if not events or len(events) < self.limit:
            return 1
        return max(1, math.ceil(self.window_seconds - (self._clock() - events[0])))


async def answer_in_widget(
    session: AsyncSession,
    *,
    shop: Shop,
    ticket: Ticket,
    message: Message,
    widget: WidgetSession,
    client_address: str,
    first: bool = False,
    links: NoticeLinks | None = None,
) -> tuple[list[Message], SelfServiceRequest | None]:
    """The bot's turn after a shopper's message (and the self-service step to run once committed). The
    engine posts its reply (or the handoff notice) as a bot message and, on handoff, the agents' note;
    both are returned for the live events. Trust comes only
    from the storefront customer Shopify signed for when this conversation began."""
    trust = Trust(
        storefront_customer_id=widget.storefront_customer_id,
        trusted_caller=False,
        # verification attempts are limited per conversation and per client address, so starting new
        # conversations does not buy new guesses
        source=f"ip:{client_address}",
    )
    decision = await answer_message(
        session, shop=shop, ticket=ticket, message=message, trust=trust, links=links
    )
    posted = [
        await session.get_one(Message, message_id)
        for message_id in (decision.reply_message_id, decision.note_message_id)
        if message_id is not None
    ]
    if first and ticket.status == TicketStatus.OPEN:
        # the conversation waits for a person: outside business hours, the shopper is told when one answers
        notice = acknowledgement(shop, utcnow(), decision.language, channel=Channel.WEB_CHAT)
        if notice is not None:
            posted.append(
                await post_message(
                    session, ticket=ticket, author_type=AuthorType.BOT, body=notice, counts_as_response=False
                )
            )
    return posted, decision.self_service
