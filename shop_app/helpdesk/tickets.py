"""Tickets and their messages: opening a conversation, replying, notes, status and assignment, and the
agents' ticket list. First-response time is the first reply by an agent or the bot; resolution time is
set when a ticket is resolved and cleared if the customer writes again. A ticket the bot settled is
resolved by the bot (``resolved_by_bot``), so the open queue holds only what needs an agent; the
customer writing again reopens it like any other."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, false, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.errors import BadRequest, NotFound
from shop_app.formats.emails import normalise_email
from shop_app.formats.names_and_addresses import person_name
from shop_app.formats.phone_numbers import to_e164
from shop_app.formats.ticket_subjects import ticket_subject
from shop_app.helpdesk import outbox
from shop_app.helpdesk.customer_matching import apply_link, match_contact
from shop_app.helpdesk.ticket_tags import normalise_tag, set_ticket_tags
from shop_app.models import (
    Agent,
    AuthorType,
    Channel,
    Contact,
    Customer,
    Membership,
    Message,
    Order,
    Shop,
    Ticket,
    TicketStatus,
    TicketTag,
)
from shop_app.models.base import utcnow

MAX_ROW_ID = 2**31 - 1
PREVIEW_CHARS = 140
MAX_LIST_LIMIT = 100
# A page's cursor: the last ticket's activity (microseconds since 1970, UTC) and its id. Every string of
# this shape is a position in the list, so the API's document can say exactly which cursors it takes.
_CURSOR = re.compile(r"[0-9]{1,16}-[0-9]{1,10}")
CURSOR_PATTERN = f"^{_CURSOR.pattern}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
ORDER_NAME_CHARS = frozenset("#0123456789")


class TicketView(StrEnum):
    ALL = "all"
    MINE = "mine"
    UNASSIGNED = "unassigned"


@dataclass(frozen=True, slots=True)
class TicketRow:
    ticket: Ticket
    contact: Contact
    assignee: Agent | None
    last_message_preview: str | None
    customer_name: str | None = (
        None  # the linked customer's, as the mirror has it (family name first in Japanese)
    )


@dataclass(frozen=True, slots=True)
class TicketPage:
    rows: list[TicketRow]
    next_cursor: str | None


def _id(value: int | None) -> int:
    assert value is not None, "row not flushed"
    return value


async def open_ticket(
    session: AsyncSession,
    *,
    shop: Shop,
    contact: Contact,
    channel: Channel,
    subject: str,
    first_message: str,
) -> tuple[Ticket, Message]:
    now = utcnow()
    ticket = Ticket(
        shop_id=_id(shop.id),
        contact_id=_id(contact.id),
        channel=channel,
        subject=subject or ticket_subject(first_message),
        created_at=now,
        updated_at=now,
        last_message_at=now,
    )
    session.add(ticket)
    await session.flush()
    message = await post_message(session, ticket=ticket, author_type=AuthorType.CUSTOMER, body=first_message)
    decision = await match_contact(
        session, shop=shop, contact=contact, storefront_customer_id=contact.storefront_customer_id
    )
    await apply_link(session, ticket=ticket, decision=decision)
    await session.flush()
    return ticket, message


async def access_ticket(session: AsyncSession, *, shop_id: int, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id) if 0 < ticket_id <= MAX_ROW_ID else None
    if ticket is None or ticket.shop_id != shop_id:
        raise NotFound("No such ticket", code="ticket_not_found")
    return ticket


async def post_message(
    session: AsyncSession,
    *,
    ticket: Ticket,
    author_type: AuthorType,
    body: str,
    agent_id: int | None = None,
    outbound: dict[str, Any] | None = None,
    counts_as_response: bool = True,
    mirrored: bool = False,
) -> Message:
    """A message on the ticket. An agent's reply to an unassigned ticket assigns it to them.
    ``counts_as_response=False`` is for automatic notices (the after-hours acknowledgement): they neither
    answer the shopper nor stop the first-response clock. An agent's or the bot's message on a ticket that
    came by LINE or email is also put in the outbox, in this transaction, with ``outbound`` as what its
    channel needs beyond the text (``shop_app.channels.outbound`` sends it once committed). A ``mirrored``
    message was written in another helpdesk (an agent's reply in Chatwoot): it is recorded, never sent."""
    now = utcnow()
    message = Message(
        shop_id=ticket.shop_id,
        ticket_id=_id(ticket.id),
        author_type=author_type,
        agent_id=agent_id,
        body=body,
        created_at=now,
    )
    session.add(message)
    ticket.message_count += 1
    ticket.updated_at = now
    if author_type != AuthorType.NOTE:
        ticket.last_message_at = now
    if author_type == AuthorType.CUSTOMER and ticket.status != TicketStatus.OPEN:
        if ticket.status == TicketStatus.RESOLVED:
            ticket.reopened_at = now
        ticket.status = TicketStatus.OPEN
        ticket.resolved_at = None
        ticket.resolved_by_bot = False
    if (
        counts_as_response
        and author_type in (AuthorType.AGENT, AuthorType.BOT)
        and ticket.first_response_at is None
    ):
        ticket.first_response_at = now
    if author_type == AuthorType.AGENT and agent_id is not None and ticket.assignee_id is None:
        ticket.assignee_id = agent_id
    await session.flush()
    if not mirrored and outbox.leaves_by_channel(ticket, author_type):
        await outbox.record(session, ticket=ticket, message=message, payload=outbound)
    return message


async def update_ticket(
    session: AsyncSession,
    *,
    ticket: Ticket,
    status: TicketStatus | None = None,
    assignee_id: int | None = None,
    assign: bool = False,
    tags: list[str] | None = None,
    subject: str | None = None,
    by_bot: bool = False,
) -> Ticket:
    """``assign`` says whether ``assignee_id`` was given (``None`` then unassigns); ``by_bot`` that the
    bot, not a person, set the status."""
    now = utcnow()
    if status is not None and (status != ticket.status or ticket.resolved_by_bot != by_bot):
        if status != ticket.status:
            ticket.resolved_at = now if status == TicketStatus.RESOLVED else None
            if ticket.status == TicketStatus.RESOLVED:
                ticket.reopened_at = now
        ticket.status = status
        ticket.resolved_by_bot = by_bot and status == TicketStatus.RESOLVED
    if assign:
        if assignee_id is not None:
            member = (
                await session.execute(
                    select(col(Membership.id)).where(
                        col(Membership.shop_id) == ticket.shop_id, col(Membership.agent_id) == assignee_id
                    )
                )
            ).first()
            if member is None:
                raise NotFound("No such agent in this shop", code="agent_not_found")
        ticket.assignee_id = assignee_id
    if tags is not None:
        await set_ticket_tags(session, ticket=ticket, tags=tags)
    if subject is not None:
        ticket.subject = subject
    ticket.updated_at = now
    await session.flush()
    return ticket


async def ticket_messages(
    session: AsyncSession, *, ticket: Ticket, after_id: int = 0, limit: int = 500
) -> list[tuple[Message, Agent | None]]:
    rows = await session.execute(
        select(Message, Agent)
        .outerjoin(Agent, col(Agent.id) == col(Message.agent_id))
        .where(col(Message.ticket_id) == ticket.id, col(Message.id) > after_id)
        .order_by(col(Message.id))
        .limit(limit)
    )
    return [(message, agent) for message, agent in rows]


async def ticket_row(session: AsyncSession, *, ticket: Ticket) -> TicketRow:
    contact = await session.get(Contact, ticket.contact_id)
    assert contact is not None
    assignee = await session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    previews = await _previews(session, [_id(ticket.id)])
    names = await _customer_names(session, shop_id=ticket.shop_id, tickets=[ticket])
    return TicketRow(
        ticket, contact, assignee, previews.get(_id(ticket.id)), names.get(ticket.customer_shopify_id or 0)
    )


# ---- the ticket list


def _encode_cursor(ticket: Ticket) -> str:
    return f"{(ticket.last_message_at - _EPOCH) // _MICROSECOND}-{ticket.id}"


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    if _CURSOR.fullmatch(cursor) is None:
        raise BadRequest("The cursor is not one this API gave", code="invalid_cursor")
    micros, ticket_id = cursor.split("-")
    return _EPOCH + int(micros) * _MICROSECOND, int(ticket_id)


async def list_tickets(
    session: AsyncSession,
    *,
    shop: Shop,
    status: TicketStatus | None = None,
    view: TicketView = TicketView.ALL,
    agent_id: int | None = None,
    query: str | None = None,
    channel: Channel | None = None,
    tag: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
) -> TicketPage:
    """``tag`` is read as tags are written (``VIP`` finds ``vip``); one that cannot be a tag finds none."""
    shop_id = _id(shop.id)
    limit = max(1, min(limit, MAX_LIST_LIMIT))
    statement = (
        select(Ticket, Contact, Agent)
        .join(Contact, col(Contact.id) == col(Ticket.contact_id))
        .outerjoin(Agent, col(Agent.id) == col(Ticket.assignee_id))
        .where(col(Ticket.shop_id) == shop_id)
    )
    if status is not None:
        statement = statement.where(col(Ticket.status) == status)
    if channel is not None:
        statement = statement.where(col(Ticket.channel) == channel)
    if tag is not None:
        wanted = normalise_tag(tag)
        statement = statement.where(
            col(Ticket.id).in_(
                select(col(TicketTag.ticket_id)).where(
                    col(TicketTag.shop_id) == shop_id, col(TicketTag.tag) == wanted
                )
            )
            if wanted is not None
            else false()
        )
    if view is TicketView.MINE:
        statement = statement.where(col(Ticket.assignee_id) == agent_id)
    elif view is TicketView.UNASSIGNED:
        statement = statement.where(col(Ticket.assignee_id).is_(None))
    if query and query.strip():
        statement = await _search(session, statement, shop=shop, query=query.strip())
    if cursor:
        moment, ticket_id = _decode_cursor(cursor)
        statement = statement.where(
            tuple_(col(Ticket.last_message_at), col(Ticket.id)) < tuple_(moment, ticket_id)
            if ticket_id <= MAX_ROW_ID
            else col(Ticket.last_message_at) <= moment  # past every id there can be
        )
    rows = list(
        (
            await session.execute(
                statement.order_by(col(Ticket.last_message_at).desc(), col(Ticket.id).desc()).limit(limit + 1)
            )
        ).all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    previews = await _previews(session, [_id(ticket.id) for ticket, _, _ in rows])
    names = await _customer_names(session, shop_id=shop_id, tickets=[ticket for ticket, _, _ in rows])
    page = [
        TicketRow(
            ticket, contact, agent, previews.get(_id(ticket.id)), names.get(ticket.customer_shopify_id or 0)
        )
        for ticket, contact, agent in rows
    ]
    return TicketPage(page, _encode_cursor(rows[-1][0]) if more and rows else None)


async def _search(
    session: AsyncSession, statement: Select[Ticket, Contact, Agent], *, shop: Shop, query: str
) -> Select[Ticket, Contact, Agent]:
    """By order name (``#1001``/``1001``), email or phone: the tickets of that contact or linked customer
    (a guest link always carries its contact's own email or phone). The contacts and customers are looked
    up first by their indexes, then their tickets by theirs: an OR across the joined tables would make the
    database walk every ticket of the shop. Anything else (text with an @ that is no address included) is
    looked for in subjects and contact names."""
    shop_id = _id(shop.id)
    compact = query.replace(" ", "")
    emails: list[str] = []
    phones: list[str] = []
    customer_ids: list[int] = []
    if "@" in query and (email := normalise_email(query)) is not None:
        emails = [email]
        customer_ids = await _scalars(
            session,
            select(col(Customer.shopify_id)).where(
                col(Customer.shop_id) == shop_id, col(Customer.email) == email
            ),
        )
    elif compact and set(compact) <= ORDER_NAME_CHARS and (compact.startswith("#") or len(compact) < 8):
        name = compact if compact.startswith("#") else f"#{compact}"
        found = (
            await session.execute(
                select(col(Order.customer_shopify_id), col(Order.email)).where(
                    col(Order.shop_id) == shop_id, col(Order.name) == name
                )
            )
        ).all()
        customer_ids = [row[0] for row in found if row[0] is not None]
        emails = [row[1] for row in found if row[1]]
    elif (phone := to_e164(query, default_region=shop.country_code)) is not None:
        phones = [phone]
        customer_ids = await _scalars(
            session,
            select(col(Customer.shopify_id)).where(
                col(Customer.shop_id) == shop_id, col(Customer.phone) == phone
            ),
        )
    else:
        return statement.where(
            or_(
                col(Ticket.subject).icontains(query, autoescape=True),
                col(Contact.name).icontains(query, autoescape=True),
            )
        )
    contact_ids: list[int] = []
    for column, values in ((col(Contact.email), emails), (col(Contact.phone), phones)):
        if values:
            contact_ids += await _scalars(
                session, select(col(Contact.id)).where(col(Contact.shop_id) == shop_id, column.in_(values))
            )
    ticket_ids: set[int] = set()
    for owner, ids in (
        (col(Ticket.contact_id), contact_ids),
        (col(Ticket.customer_shopify_id), customer_ids),
    ):
        if ids:
            ticket_ids.update(
                await _scalars(
                    session, select(col(Ticket.id)).where(col(Ticket.shop_id) == shop_id, owner.in_(ids))
                )
            )
    return statement.where(col(Ticket.id).in_(sorted(ticket_ids)) if ticket_ids else false())


async def _scalars(session: AsyncSession, statement: Select[Any]) -> list[Any]:
    return list((await session.execute(statement)).scalars())


async def _previews(session: AsyncSession, ticket_ids: list[int]) -> dict[int, str]:
    """The last message the customer can see, per ticket (notes are not previewed)."""
    if not ticket_ids:
        return {}
    latest = (
        select(func.max(col(Message.id)))
        .where(col(Message.ticket_id).in_(ticket_ids), col(Message.author_type) != AuthorType.NOTE)
        .group_by(col(Message.ticket_id))
    )
    rows = await session.execute(
        select(col(Message.ticket_id), col(Message.body)).where(col(Message.id).in_(latest))
    )
    return {ticket_id: body[:PREVIEW_CHARS] for ticket_id, body in rows}


async def _customer_names(session: AsyncSession, *, shop_id: int, tickets: list[Ticket]) -> dict[int, str]:
    """The linked customers' names by Shopify id, composed by ``person_name``, in this shop only."""
    ids = sorted({ticket.customer_shopify_id for ticket in tickets if ticket.customer_shopify_id is not None})
    if not ids:
        return {}
    rows = await session.execute(
        select(col(Customer.shopify_id), col(Customer.first_name), col(Customer.last_name)).where(
            col(Customer.shop_id) == shop_id, col(Customer.shopify_id).in_(ids)
        )
    )
    return {shopify_id: name for shopify_id, first, last in rows if (name := person_name(first, last))}
