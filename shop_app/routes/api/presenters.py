"""Rows to API shapes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.names_and_addresses import person_name
from shop_app.formats.phone_numbers import phone_text
from shop_app.helpdesk.agents import agent_label
from shop_app.helpdesk.business_hours import first_response
from shop_app.helpdesk.customer_matching import link_reason_text
from shop_app.helpdesk.tickets import TicketRow
from shop_app.models import Agent, Contact, Customer, LinkReason, Message, OutboxStatus, SavedReply, Shop
from shop_app.models.base import utcnow
from shop_app.schemas.tickets import (
    AgentRef,
    AttachmentOut,
    CandidateOut,
    ContactOut,
    CustomerHit,
    FirstResponseOut,
    LinkOut,
    MessageOut,
    SavedReplyOut,
    TicketDetail,
    TicketSummary,
)


def agent_ref(agent: Agent | None) -> AgentRef | None:
    if agent is None or agent.id is None:
        return None
    return AgentRef(id=agent.id, name=agent_label(agent))


def customer_hit(customer: Customer, *, shop: Shop) -> CustomerHit:
    return CustomerHit(
        id=customer.shopify_id,
        name=person_name(customer.first_name, customer.last_name),
        email=customer.email,
        phone=customer.phone,
        phone_display=phone_text(customer.phone, shop_region=shop.country_code),
        orders_count=customer.orders_count,
    )


def contact_out(contact: Contact, *, shop: Shop) -> ContactOut:
    assert contact.id is not None
    return ContactOut(
        id=contact.id,
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        phone_display=phone_text(contact.phone, shop_region=shop.country_code),
    )


def ticket_summary(row: TicketRow, *, shop: Shop, now: datetime) -> TicketSummary:
    ticket, contact = row.ticket, row.contact
    assert ticket.id is not None
    assert contact.id is not None
    standing = first_response(shop, ticket, now=now)
    return TicketSummary(
        id=ticket.id,
        subject=ticket.subject,
        status=ticket.status,
        resolved_by_bot=ticket.resolved_by_bot,
        channel=ticket.channel,
        contact=contact_out(contact, shop=shop),
        assignee=agent_ref(row.assignee),
        customer_shopify_id=ticket.customer_shopify_id,
        customer_name=row.customer_name,
        link_reason=ticket.link_reason,
        last_message_at=ticket.last_message_at,
        last_message_preview=row.last_message_preview,
        message_count=ticket.message_count,
        created_at=ticket.created_at,
        tags=ticket.tags,
        first_response=FirstResponseOut(
            target_minutes=standing.target_minutes, due_at=standing.due_at, state=standing.state.value
        )
        if standing is not None
        else None,
    )


async def ticket_detail(session: AsyncSession, row: TicketRow, *, shop: Shop, locale: str) -> TicketDetail:
    ticket = row.ticket
    candidates: list[CandidateOut] = []
    if ticket.link_candidates:
        found = await session.execute(
            select(Customer).where(
                col(Customer.shop_id) == ticket.shop_id, col(Customer.shopify_id).in_(ticket.link_candidates)
            )
        )
        candidates = [CandidateOut(**customer_hit(c, shop=shop).model_dump()) for c in found.scalars()]
    linked_by = await session.get(Agent, ticket.linked_by_id) if ticket.linked_by_id else None
    reason = LinkReason(ticket.link_reason) if ticket.link_reason else None
    link = LinkOut(
        customer_shopify_id=ticket.customer_shopify_id,
        guest_email=ticket.guest_email,
        guest_phone=ticket.guest_phone,
        guest_phone_display=phone_text(ticket.guest_phone, shop_region=shop.country_code),
        reason=reason,
        reason_text=await link_reason_text(session, ticket=ticket, locale=locale),
        candidates=candidates,
        linked_at=ticket.linked_at,
        linked_by=agent_ref(linked_by),
    )
    return TicketDetail(
        **ticket_summary(row, shop=shop, now=utcnow()).model_dump(),
        link=link,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
    )


def message_out(
    message: Message,
    agent: Agent | None,
    delivery: OutboxStatus | None = None,
    attachments: list[AttachmentOut] | None = None,
) -> MessageOut:
    assert message.id is not None
    return MessageOut(
        id=message.id,
        ticket_id=message.ticket_id,
        author_type=message.author_type,
        author=agent_ref(agent),
        body=message.body,
        created_at=message.created_at,
        delivery=OutboxStatus(delivery).value if delivery is not None else None,
        attachments=attachments or [],
    )


def saved_reply_out(row: SavedReply) -> SavedReplyOut:
    assert row.id is not None
    return SavedReplyOut(
        id=row.id, locale=row.locale, title=row.title, body=row.body, updated_at=row.updated_at
    )
