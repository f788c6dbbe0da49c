"""Rows to API shapes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.names_and_addresses import person_name
from shop_app.helpdesk.agents import agent_label
from shop_app.helpdesk.customer_matching import link_reason_text
from shop_app.helpdesk.tickets import TicketRow
from shop_app.models import Agent, Customer, LinkReason, Message, OutboxStatus
from shop_app.schemas.tickets import (
    AgentRef,
    CandidateOut,
    ContactOut,
    CustomerHit,
    LinkOut,
    MessageOut,
    TicketDetail,
    TicketSummary,
)


def agent_ref(agent: Agent | None) -> AgentRef | None:
    if agent is None or agent.id is None:
        return None
    return AgentRef(id=agent.id, name=agent_label(agent))


def customer_hit(customer: Customer) -> CustomerHit:
    return CustomerHit(
        id=customer.shopify_id,
        name=person_name(customer.first_name, customer.last_name),
        email=customer.email,
        phone=customer.phone,
        orders_count=customer.orders_count,
    )


def ticket_summary(row: TicketRow) -> TicketSummary:
    ticket, contact = row.ticket, row.contact
    assert ticket.id is not None
    assert contact.id is not None
    return TicketSummary(
        id=ticket.id,
        subject=ticket.subject,
        status=ticket.status,
        resolved_by_bot=ticket.resolved_by_bot,
        channel=ticket.channel,
        contact=ContactOut(id=contact.id, name=contact.name, email=contact.email, phone=contact.phone),
        assignee=agent_ref(row.assignee),
        customer_shopify_id=ticket.customer_shopify_id,
        customer_name=row.customer_name,
        link_reason=ticket.link_reason,
        last_message_at=ticket.last_message_at,
        last_message_preview=row.last_message_preview,
        message_count=ticket.message_count,
        created_at=ticket.created_at,
        tags=ticket.tags,
    )


async def ticket_detail(session: AsyncSession, row: TicketRow, *, locale: str) -> TicketDetail:
    ticket = row.ticket
    candidates: list[CandidateOut] = []
    if ticket.link_candidates:
        found = await session.execute(
            select(Customer).where(
                col(Customer.shop_id) == ticket.shop_id, col(Customer.shopify_id).in_(ticket.link_candidates)
            )
        )
        candidates = [CandidateOut(**customer_hit(c).model_dump()) for c in found.scalars()]
    linked_by = await session.get(Agent, ticket.linked_by_id) if ticket.linked_by_id else None
    reason = LinkReason(ticket.link_reason) if ticket.link_reason else None
    link = LinkOut(
        customer_shopify_id=ticket.customer_shopify_id,
        guest_email=ticket.guest_email,
        guest_phone=ticket.guest_phone,
        reason=reason,
        reason_text=await link_reason_text(session, ticket=ticket, locale=locale),
        candidates=candidates,
        linked_at=ticket.linked_at,
        linked_by=agent_ref(linked_by),
    )
    return TicketDetail(
        **ticket_summary(row).model_dump(),
        link=link,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
    )


def message_out(message: Message, agent: Agent | None, delivery: OutboxStatus | None = None) -> MessageOut:
    assert message.id is not None
    return MessageOut(
        id=message.id,
        ticket_id=message.ticket_id,
        author_type=message.author_type,
        author=agent_ref(agent),
        body=message.body,
        created_at=message.created_at,
        delivery=OutboxStatus(delivery).value if delivery is not None else None,
    )
