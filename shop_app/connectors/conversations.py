"""The ticket of ours that mirrors a conversation living in another helpdesk: found by (connector,
external id), made with its contact on the first message, its inbox and status kept; the shopper's
messages go in as the customer's, agents' replies written there go in mirrored (recorded, never sent
back), and once an agent has replied the bot stays silent on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.emails import stored_email
from shop_app.formats.phone_numbers import stored_phone
from shop_app.helpdesk.contacts import unvouched_contact
from shop_app.helpdesk.tickets import open_ticket, post_message
from shop_app.models import (
    AuthorType,
    Channel,
    Connector,
    ConnectorConversation,
    Contact,
    Message,
    Shop,
    Ticket,
    TicketStatus,
)
from shop_app.models.base import utcnow

MAX_EXTERNAL_ID_CHARS = 64
# A resolved mirror is taken up again when the shopper writes within this long; after it, a new ticket.
REOPEN_WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class ExternalContact:
    """The helpdesk's contact as its signed call described it: a claim, never proof of identity."""

    external_id: str | None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    locale: str | None = None


async def find_mirror(
    session: AsyncSession, *, connector: Connector, external_id: str, lock: bool = False
) -> ConnectorConversation | None:
    statement = select(ConnectorConversation).where(
        col(ConnectorConversation.connector_id) == connector.id,
        col(ConnectorConversation.external_id) == external_id[:MAX_EXTERNAL_ID_CHARS],
    )
    return (await session.execute(statement.with_for_update() if lock else statement)).scalar_one_or_none()


async def mirror_conversation(
    session: AsyncSession,
    *,
    connector: Connector,
    external_id: str,
    inbox: str | None,
    status: str | None,
    contact_id: str | None = None,
) -> ConnectorConversation:
    """The mirror row (locked until the transaction ends), made when new; inbox and status refreshed."""
    assert connector.id is not None
    mirror = await find_mirror(session, connector=connector, external_id=external_id, lock=True)
    now = utcnow()
    if mirror is None:
        mirror = ConnectorConversation(
            shop_id=connector.shop_id,
            connector_id=connector.id,
            external_id=external_id[:MAX_EXTERNAL_ID_CHARS],
            created_at=now,
        )
        session.add(mirror)
    mirror.inbox = (inbox or mirror.inbox or "")[:64] or None
    mirror.status = (status or mirror.status or "")[:20] or None
    mirror.external_contact_id = (contact_id or mirror.external_contact_id or "")[:64] or None
    mirror.updated_at = now
    await session.flush()
    return mirror


async def _contact_for(session: AsyncSession, *, shop: Shop, person: ExternalContact) -> Contact:
    assert shop.id is not None
    contact = await unvouched_contact(session, shop_id=shop.id, email=stored_email(person.email))
    contact.name = contact.name or (person.name or "")[:255] or None
    contact.phone = contact.phone or stored_phone(person.phone, default_region=shop.country_code)
    if person.locale and not contact.locale:
        contact.locale = person.locale[:20]
    await session.flush()
    return contact


async def mirrored_ticket(session: AsyncSession, *, mirror: ConnectorConversation) -> Ticket | None:
    ticket = await session.get(Ticket, mirror.ticket_id) if mirror.ticket_id is not None else None
    if ticket is None or ticket.shop_id != mirror.shop_id:
        return None
    return ticket


async def post_customer_message(
    session: AsyncSession,
    *,
    shop: Shop,
    connector: Connector,
    mirror: ConnectorConversation,
    person: ExternalContact,
    body: str,
) -> tuple[Ticket, Message, bool]:
    """The shopper's message on the mirroring ticket (made, with its contact matched to a customer by the
    usual rules, when there is none or it was resolved long ago). True when the ticket is new."""
    ticket = await mirrored_ticket(session, mirror=mirror)
    if (
        ticket is not None
        and ticket.status == TicketStatus.RESOLVED
        and (
            ticket.resolved_at is None
            or utcnow() - ticket.resolved_at > timedelta(seconds=REOPEN_WINDOW_SECONDS)
        )
    ):
        ticket = None
    if ticket is None:
        contact = await _contact_for(session, shop=shop, person=person)
        ticket, message = await open_ticket(
            session,
            shop=shop,
            contact=contact,
            channel=Channel(connector.vendor),
            subject="",
            first_message=body,
        )
        mirror.ticket_id = ticket.id
        await session.flush()
        return ticket, message, True
    message = await post_message(session, ticket=ticket, author_type=AuthorType.CUSTOMER, body=body)
    return ticket, message, False


async def post_agent_reply(
    session: AsyncSession, *, mirror: ConnectorConversation, body: str
) -> Message | None:
    """An agent's reply written in the helpdesk: recorded on the mirror (never sent back), and from now on
    the bot is silent in this conversation."""
    mirror.agent_replied_at = mirror.agent_replied_at or utcnow()
    ticket = await mirrored_ticket(session, mirror=mirror)
    if ticket is None:
        await session.flush()
        return None
    return await post_message(session, ticket=ticket, author_type=AuthorType.AGENT, body=body, mirrored=True)


def bot_may_answer(mirror: ConnectorConversation) -> bool:
    return mirror.agent_replied_at is None and mirror.handed_off_at is None


async def console_reply_sent(session: AsyncSession, *, ticket: Ticket) -> None:
    """An agent's reply written in our console left through the helpdesk's API (as its API user or bot,
    whose messages never trigger us): it is an agent's all the same, so the bot is silent from now on,
    as after a reply written in the helpdesk."""
    await session.execute(
        update(ConnectorConversation)
        .where(
            col(ConnectorConversation.shop_id) == ticket.shop_id,
            col(ConnectorConversation.ticket_id) == ticket.id,
            col(ConnectorConversation.agent_replied_at).is_(None),
        )
        .values(agent_replied_at=utcnow())
    )
