"""The helpdesk's part of a customer's privacy requests: their conversations, exported or erased.

Which conversations are the customer's:

- **kept, anonymised**: tickets linked to the customer (by id, or as a guest by their email or phone), and
  tickets that the customer's contacts wrote but that are linked to someone else. They stay, with their
  times and statuses (the shop's records): the customer's own messages and the subject are replaced, the
  contact is emptied, the link dropped, and what tied the conversation to a person (``CONVERSATION_TRACES``:
  the widget's session, verification attempts and proofs, the mail's attachments, reply address and
  Message-IDs) is deleted.
- **erased**: tickets linked to no one that the customer's contacts wrote, or where the shopper typed the
  customer's email or phone (verifying an order by its number and email, say) from a contact that names no
  one else. They go with everything that points at them, and so do their contacts once they hold no ticket.

Everywhere else in the shop (another customer's conversation, a note, a ticket's subject, a contact's
name, a bot's reply) each mention of the customer's email, phone numbers, addresses or full name is
replaced by ``[redacted]`` and the rest is kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from shop_app.database import affected_rows
from shop_app.formats.personal_mentions import REDACTED_TEXT, MentionKind
from shop_app.models import AuthorType, BotDecision, Contact, LineUser, Message, Ticket
from shop_app.models.base import utcnow
from shop_app.models.insights import CsatSurvey
from shop_app.models.order_actions import ActionKind, OrderAction
from shop_app.shops.customer_subjects import CustomerSubject

# Rows of a kept (anonymised) conversation that stay, with the customer's mentions replaced; the agents'
# tags (``ticket_tags``, the index of ``tickets.tags``) stay as written: they are not searched for mentions.
CONVERSATION_RECORDS = ("messages", "bot_decisions", "ticket_tags")
# Rows that tie a conversation to the person who had it: deleted even where the conversation is kept.
CONVERSATION_TRACES = (
    "widget_sessions",
    "verification_attempts",
    "ticket_verifications",
    "outbox_messages",  # what a channel needs to reach the person: a reply token, a card of their order
    "mail_attachments",  # their files leave with the next sweep (forget_unlisted_attachments)
    "mail_threads",  # the reply address: a reply to it is refused from then on
    "mail_message_ids",  # the shopper's mail ids name their mail servers
    "line_users",  # the LINE identity and its account link
    "stock_subscriptions",  # what the person waits for, and where they are told
    "proactive_notices",  # which of their orders went wrong and where they were told
    "connector_conversations",  # their conversation and contact ids in another helpdesk
)
# Order actions whose parameters and preview hold what a person wrote or where they live.
PERSONAL_ACTIONS = (ActionKind.ADDRESS, ActionKind.NOTE)
REDACTED_ACTION = {"redacted": True}
SCAN_BATCH_ROWS = 1000
TYPED_KINDS = (MentionKind.EMAIL, MentionKind.PHONE)


@dataclass
class _Conversations:
    contacts: set[int] = field(default_factory=set)  # the customer's contacts
    contact_names: dict[int, str] = field(default_factory=dict)  # others' names, the customer taken out
    kept: dict[int, Ticket] = field(default_factory=dict)
    erased: dict[int, Ticket] = field(default_factory=dict)
    bodies: dict[int, tuple[int, str]] = field(default_factory=dict)  # message id → (ticket id, new body)

    @property
    def tickets(self) -> list[Ticket]:
        return sorted([*self.kept.values(), *self.erased.values()], key=lambda t: t.id or 0)


def _linked_to_subject(ticket: Ticket, subject: CustomerSubject) -> bool:
    return (
        ticket.customer_shopify_id == subject.shopify_customer_id
        or (ticket.guest_email is not None and ticket.guest_email in subject.marks.emails)
        or (ticket.guest_phone is not None and ticket.guest_phone in subject.marks.phone_numbers)
    )


def _linked_to_no_one(ticket: Ticket) -> bool:
    return ticket.customer_shopify_id is None and not ticket.guest_email and not ticket.guest_phone


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


async def _rows(session: AsyncSession, query: Any) -> AsyncIterator[Sequence[Any]]:
    result = await session.stream(query.execution_options(yield_per=SCAN_BATCH_ROWS))
    async for rows in result.partitions():
        yield rows


async def _redacted_texts(
    session: AsyncSession, query: Any, subject: CustomerSubject, *, skip: set[int]
) -> list[tuple[int, str]]:
    """(row id, its text without the customer) of the rows (id, ticket id, text) that mention them,
    except in the tickets skipped."""
    changed: list[tuple[int, str]] = []
    async for rows in _rows(session, query):
        for row_id, ticket_id, text in rows:
            if ticket_id in skip or not subject.marks.could_mention(text):
                continue
            if (redacted := subject.marks.redact(text)) != text:
                changed.append((row_id, redacted))
    return changed


class HelpdeskData:
    name = "helpdesk"

    async def _contacts(
        self, session: AsyncSession, shop_id: int, subject: CustomerSubject, held: _Conversations
    ) -> None:
        marks = subject.marks
        query = select(
            col(Contact.id),
            col(Contact.email),
            col(Contact.phone),
            col(Contact.storefront_customer_id),
            col(Contact.name),
        ).where(col(Contact.shop_id) == shop_id)
        async for rows in _rows(session, query):
            for contact_id, email, phone, storefront_id, name in rows:
                if (
                    storefront_id == subject.shopify_customer_id
                    or marks.is_email(email)
                    or marks.is_phone(phone)
                ):
                    held.contacts.add(contact_id)
                elif name and (redacted := marks.redact(name)) != name:
                    held.contact_names[contact_id] = redacted

    async def _held(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> _Conversations:
        held = _Conversations()
        await self._contacts(session, shop_id, subject, held)
        marks = subject.marks
        linked = [col(Ticket.customer_shopify_id) == subject.shopify_customer_id]
        linked += [col(Ticket.guest_email).in_(marks.emails)] if marks.emails else []
        linked += [col(Ticket.guest_phone).in_(marks.phone_numbers)] if marks.phone_numbers else []
        linked += [col(Ticket.contact_id).in_(held.contacts)] if held.contacts else []
        for ticket in (
            await session.execute(select(Ticket).where(col(Ticket.shop_id) == shop_id, or_(*linked)))
        ).scalars():
            assert ticket.id is not None
            if _linked_to_no_one(ticket):
                held.erased[ticket.id] = ticket
            else:
                held.kept[ticket.id] = ticket
        # whoever wrote a ticket linked to the customer is the customer: that contact is emptied too
        held.contacts |= {t.contact_id for t in held.kept.values() if _linked_to_subject(t, subject)}
        # every message of the shop is read once: the customer's mentions are taken out, and a
        # conversation linked to no one where the shopper typed the customer's email or phone is theirs
        typed: set[int] = set()
        query = select(
            col(Message.id), col(Message.ticket_id), col(Message.author_type), col(Message.body)
        ).where(col(Message.shop_id) == shop_id)
        async for rows in _rows(session, query):
            for message_id, ticket_id, author, body in rows:
                if ticket_id in held.erased:
                    continue
                if ticket_id in held.kept and author == AuthorType.CUSTOMER:
                    if body != REDACTED_TEXT:
                        held.bodies[message_id] = (ticket_id, REDACTED_TEXT)
                    continue
                if not marks.could_mention(body):
                    continue
                if (
                    author == AuthorType.CUSTOMER
                    and ticket_id not in held.kept
                    and marks.mentions(body, TYPED_KINDS)
                ):
                    typed.add(ticket_id)
                redacted = marks.redact(body)
                if redacted != body:
                    held.bodies[message_id] = (ticket_id, redacted)
        if typed:
            await self._typed(session, typed, held)
        return held

    async def _typed(self, session: AsyncSession, ticket_ids: set[int], held: _Conversations) -> None:
        """Conversations where the shopper typed the customer's email or phone: the customer's when they
        are linked to no one and their contact names no one else."""
        rows = await session.execute(
            select(Ticket, Contact)
            .join(Contact, col(Contact.id) == col(Ticket.contact_id))
            .where(col(Ticket.id).in_(ticket_ids))
        )
        for ticket, contact in rows:
            anonymous = not (contact.email or contact.phone or contact.storefront_customer_id)
            if _linked_to_no_one(ticket) and (anonymous or contact.id in held.contacts):
                assert ticket.id is not None
                held.erased[ticket.id] = ticket

    async def export(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> Any:
        held = await self._held(session, shop_id, subject)
        tickets = held.tickets
        contact_ids = held.contacts | {t.contact_id for t in tickets}
        contacts = (
            (
                await session.execute(
                    select(Contact).where(col(Contact.id).in_(contact_ids)).order_by(col(Contact.id))
                )
            )
            .scalars()
            .all()
        )
        messages = await session.execute(
            select(Message)
            .where(col(Message.shop_id) == shop_id, col(Message.ticket_id).in_([t.id for t in tickets]))
            .order_by(col(Message.id))
        )
        by_ticket: dict[int, list[dict[str, Any]]] = {}
        for message in messages.scalars():
            by_ticket.setdefault(message.ticket_id, []).append(
                {
                    "author_type": str(message.author_type),
                    "body": message.body,
                    "created_at": message.created_at.isoformat(),
                }
            )
        return {
            "contacts": [
                {"name": c.name, "email": c.email, "phone": c.phone, "created_at": c.created_at.isoformat()}
                for c in contacts
            ],
            "tickets": [
                {
                    "id": t.id,
                    "subject": t.subject,
                    "status": str(t.status),
                    "channel": str(t.channel),
                    "created_at": t.created_at.isoformat(),
                    "messages": by_ticket.get(t.id or 0, []),
                }
                for t in tickets
            ],
        }

    async def redact(self, session: AsyncSession, shop_id: int, subject: CustomerSubject) -> int:
        held = await self._held(session, shop_id, subject)
        rows = await self._erase(session, list(held.erased))
        rows += await self._anonymise(session, subject, list(held.kept.values()))
        rows += await self._take_out_mentions(session, shop_id, subject, held)
        rows += await self._settle_contacts(session, held)
        await session.flush()
        return rows

    async def _erase(self, session: AsyncSession, ticket_ids: list[int]) -> int:
        """The tickets and every row pointing at them (children before parents)."""
        if not ticket_ids:
            return 0
        rows = 0
        for table in reversed(SQLModel.metadata.sorted_tables):
            for key in table.foreign_keys:
                if key.column.table.name == "tickets":
                    result = await session.execute(delete(table).where(key.parent.in_(ticket_ids)))
                    rows += affected_rows(result)
        result = await session.execute(
            delete(Ticket).where(col(Ticket.id).in_(ticket_ids)).execution_options(synchronize_session=False)
        )
        return rows + affected_rows(result)

    async def _anonymise(self, session: AsyncSession, subject: CustomerSubject, tickets: list[Ticket]) -> int:
        if not tickets:
            return 0
        now = utcnow()
        for ticket in tickets:
            ticket.subject = REDACTED_TEXT
            if ticket.customer_shopify_id == subject.shopify_customer_id:
                ticket.customer_shopify_id = ticket.link_reason = None
                ticket.linked_at = ticket.linked_by_id = None
            ticket.guest_email = ticket.guest_phone = None
            if ticket.link_reason in {"guest_order_email", "guest_order_phone"} or (
                ticket.link_reason == "verified_order" and ticket.customer_shopify_id is None
            ):
                ticket.link_reason = None
            ticket.link_candidates = [c for c in ticket.link_candidates if c != subject.shopify_customer_id]
            ticket.updated_at = now
        ids = [ticket.id for ticket in tickets]
        rows = len(tickets)
        for name in CONVERSATION_TRACES:
            table = _table(name)
            rows += affected_rows(await session.execute(delete(table).where(table.c.ticket_id.in_(ids))))
        # an order action stays (the shop's record of what was done to an order, money included), but one
        # that carried the person's words or address keeps only that it happened
        rows += affected_rows(
            await session.execute(
                update(OrderAction)
                .where(col(OrderAction.ticket_id).in_(ids), col(OrderAction.kind).in_(PERSONAL_ACTIONS))
                .values(parameters=REDACTED_ACTION, preview=REDACTED_ACTION, shopify_answer=None)
            )
        )
        # a satisfaction score stays in the shop's figures; the words the person added do not
        rows += affected_rows(
            await session.execute(
                update(CsatSurvey)
                .where(col(CsatSurvey.ticket_id).in_(ids), col(CsatSurvey.comment).is_not(None))
                .values(comment=None)
            )
        )
        return rows

    async def _take_out_mentions(
        self, session: AsyncSession, shop_id: int, subject: CustomerSubject, held: _Conversations
    ) -> int:
        """The customer's mentions out of every message, subject, bot reply and contact name left."""
        gone = set(held.erased)
        subjects = await _redacted_texts(
            session,
            select(col(Ticket.id), col(Ticket.id), col(Ticket.subject)).where(col(Ticket.shop_id) == shop_id),
            subject,
            skip=gone | set(held.kept),
        )
        replies = await _redacted_texts(
            session,
            select(col(BotDecision.id), col(BotDecision.ticket_id), col(BotDecision.reply)).where(
                col(BotDecision.shop_id) == shop_id, col(BotDecision.reply).is_not(None)
            ),
            subject,
            skip=gone,
        )
        changes: list[tuple[type[SQLModel], list[dict[str, Any]]]] = [
            (
                Message,
                [
                    {"id": i, "body": body}
                    for i, (ticket_id, body) in held.bodies.items()
                    if ticket_id not in gone
                ],
            ),
            (Ticket, [{"id": i, "subject": text} for i, text in subjects]),
            (BotDecision, [{"id": i, "reply": text} for i, text in replies]),
            (Contact, [{"id": i, "name": name} for i, name in held.contact_names.items()]),
        ]
        rows_changed = 0
        for model, values in changes:
            if values:
                await session.execute(update(model), values)
                rows_changed += len(values)
        return rows_changed

    async def _settle_contacts(self, session: AsyncSession, held: _Conversations) -> int:
        """The customer's contacts emptied, and deleted with the erased conversations' contacts once they
        hold no ticket."""
        candidates = held.contacts | {ticket.contact_id for ticket in held.erased.values()}
        if not candidates:
            return 0
        with_tickets = set(
            (
                await session.execute(
                    select(col(Ticket.contact_id)).where(col(Ticket.contact_id).in_(candidates)).distinct()
                )
            ).scalars()
        )
        rows = 0
        if empty := candidates - with_tickets:
            result = await session.execute(
                delete(Contact).where(col(Contact.id).in_(empty)).execution_options(synchronize_session=False)
            )
            rows += affected_rows(result)
        if anonymised := held.contacts & with_tickets:
            # a LINE user is a way to reach the person: their LINE identity and account link go with them
            result = await session.execute(
                delete(LineUser)
                .where(col(LineUser.contact_id).in_(anonymised))
                .execution_options(synchronize_session=False)
            )
            rows += affected_rows(result)
            result = await session.execute(
                update(Contact)
                .where(col(Contact.id).in_(anonymised))
                .values(name=None, email=None, phone=None, storefront_customer_id=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            rows += affected_rows(result)
        return rows
