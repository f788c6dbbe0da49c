"""The helpdesk: contacts (whoever writes in), tickets (one conversation each) and their messages.

A ticket's link to Shopify lives on the ticket: a customer id, or for guest orders the email or phone the
orders carry, with the reason it was made. Two candidates are never guessed between: the ticket stays
unlinked and ``link_candidates`` lists them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow

MAX_MESSAGE_CHARS = 10_000
MAX_SUBJECT_CHARS = 255
MAX_TAG_CHARS = 40
MAX_TAGS = 20
MAX_SAVED_REPLY_TITLE_CHARS = 100
MAX_SAVED_REPLY_CHARS = 5_000


class Channel(StrEnum):
    WEB_CHAT = "web_chat"
    API = "api"
    EMAIL = "email"
    LINE = "line"
    CHATWOOT = "chatwoot"
    ZENDESK = "zendesk"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"


class AuthorType(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    NOTE = "note"  # an internal note: agents see it, the customer never does


class LinkReason(StrEnum):
    SIGNED_IDENTITY = "signed_identity"
    EMAIL = "email"
    PHONE = "phone"
    GUEST_ORDER_EMAIL = "guest_order_email"
    GUEST_ORDER_PHONE = "guest_order_phone"
    AGENT = "agent"
    VERIFIED_ORDER = "verified_order"  # the conversation proved an order (its number and its details)


class Contact(SQLModel, table=True):
    """Someone who wrote in. ``email`` is lower-cased and ``phone`` is E.164 when they could be read;
    ``storefront_customer_id`` is set only from a verified storefront signature."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_shop_email", "shop_id", "email"),
        Index("ix_contacts_shop_phone", "shop_id", "phone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    storefront_customer_id: int | None = Field(default=None, sa_type=BigInteger)
    locale: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_shop_status_last", "shop_id", "status", "last_message_at"),
        Index("ix_tickets_shop_assignee_status_last", "shop_id", "assignee_id", "status", "last_message_at"),
        Index("ix_tickets_shop_customer", "shop_id", "customer_shopify_id"),
        Index("ix_tickets_shop_contact", "shop_id", "contact_id"),
        Index("ix_tickets_shop_last", "shop_id", "last_message_at"),
        Index("ix_tickets_shop_channel_last", "shop_id", "channel", "last_message_at"),
        Index("ix_tickets_shop_created", "shop_id", "created_at"),
        Index("ix_tickets_shop_updated", "shop_id", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE")
    channel: Channel = Field(default=Channel.WEB_CHAT, sa_type=String(20))
    status: TicketStatus = Field(default=TicketStatus.OPEN, sa_type=String(20))
    subject: str = Field(default="", max_length=MAX_SUBJECT_CHARS)
    assignee_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    tags: list[str] = Field(default_factory=list, sa_type=JSON)

    customer_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    guest_email: str | None = Field(default=None, max_length=320)
    guest_phone: str | None = Field(default=None, max_length=32)
    link_reason: LinkReason | None = Field(default=None, sa_type=String(30))
    link_candidates: list[int] = Field(default_factory=list, sa_type=JSON)
    linked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    linked_by_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    unlinked_by_agent: bool = False  # an agent said "not this customer": matching leaves it alone

    message_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_message_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the bot settled it (it answered; nothing waits for an agent); cleared when it is reopened
    resolved_by_bot: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # the last time a resolved ticket was opened again (insights: re-contact; never surveyed after it)
    reopened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_ticket_id_id", "ticket_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    author_type: AuthorType = Field(sa_type=String(20))
    agent_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketTag(SQLModel, table=True):
    """One tag of a ticket, beside ``Ticket.tags`` (the list as shown), so the list filters by an index."""

    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_shop_tag", "shop_id", "tag", "ticket_id"),)

    ticket_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(sa_column=Column(String(MAX_TAG_CHARS), primary_key=True))
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")


class SavedReply(SQLModel, table=True):
    """A saved reply (macro): text an agent inserts into the reply box, with the profile's fields filled in
    (``{{ customer_name }}``…; the closed set is in ``helpdesk.saved_replies``). One language each."""

    __tablename__ = "saved_replies"
    __table_args__ = (
        UniqueConstraint("shop_id", "locale", "title", name="uq_saved_replies_shop_locale_title"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    locale: str = Field(max_length=5)
    title: str = Field(max_length=MAX_SAVED_REPLY_TITLE_CHARS)
    body: str = Field(sa_type=Text)
    updated_by_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
