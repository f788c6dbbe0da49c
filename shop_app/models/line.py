"""LINE: each shop's connection to its LINE Official Account, the LINE users who wrote to it (contacts of the
shop), the webhook events received (each ``webhookEventId`` applied once), and account-link attempts.

The channel secret and access token are one Fernet ciphertext, never shown again. A connection is reached
by LINE at ``/line/webhook/{webhook_key}``: a random key per shop, not the shop's domain. Link tokens and
nonces are stored as SHA-256 digests only.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class LineEventStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"


class LineConnection(SQLModel, table=True):
    __tablename__ = "line_connections"

    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    )
    webhook_key: str = Field(max_length=64, unique=True, index=True)
    channel_id: str = Field(max_length=32)
    ciphertext: str  # {"channel_secret": …, "access_token": …}
    enabled: bool = True
    bot_user_id: str | None = Field(default=None, max_length=64)
    bot_name: str | None = Field(default=None, max_length=255)
    last_check_ok: bool | None = None
    last_check_code: str | None = Field(default=None, max_length=40)
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LineUser(SQLModel, table=True):
    """A LINE user of a shop's account: a contact of the shop. ``customer_shopify_id`` is set only by LINE's
    account-link flow (the shopper signed in on the storefront); it makes them verified for their orders."""

    __tablename__ = "line_users"
    __table_args__ = (UniqueConstraint("shop_id", "line_user_id", name="uq_line_users_shop_user"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    line_user_id: str = Field(max_length=64)
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", ondelete="SET NULL")
    display_name: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=20)
    following: bool = True
    customer_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    linked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LineWebhookEvent(SQLModel, table=True):
    """A webhook event, stored before LINE gets its 200 and worked by a job; the unique key applies a
    redelivered event once. ``event`` (LINE's JSON of the one event) is emptied once it is applied."""

    __tablename__ = "line_webhook_events"
    __table_args__ = (
        UniqueConstraint("shop_id", "webhook_event_id", name="uq_line_webhook_events_shop_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    webhook_event_id: str = Field(max_length=100)
    status: LineEventStatus = Field(default=LineEventStatus.PENDING, sa_type=String(20), index=True)
    event: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LineAccountLink(SQLModel, table=True):
    """One account-link attempt: the link token LINE issued for a LINE user, then the nonce made when a
    signed-in storefront customer opened the link page; the ``accountLink`` event with that nonce, from
    that LINE user, links them (once)."""

    __tablename__ = "line_account_links"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    line_user_id: int = Field(foreign_key="line_users.id", ondelete="CASCADE", index=True)
    token_digest: str = Field(max_length=64, unique=True, index=True)
    nonce_digest: str | None = Field(default=None, max_length=64, unique=True, index=True)
    customer_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LineMessageRef(SQLModel, table=True):
    """A message a LINE user sent, by LINE's id: which of our messages holds it and, for a picture, video,
    audio or file, what kind it is (its bytes stay at LINE and are fetched when an agent opens it). An
    ``unsend`` event blanks the message it names; one that arrives first leaves this row with ``unsent_at``
    set and no message, so the message, when it comes, is stored as unsent."""

    __tablename__ = "line_message_refs"
    __table_args__ = (
        UniqueConstraint("shop_id", "line_message_id", name="uq_line_message_refs_shop_message"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    line_message_id: str = Field(max_length=32)
    message_id: int | None = Field(default=None, foreign_key="messages.id", ondelete="CASCADE", index=True)
    content_kind: str | None = Field(default=None, max_length=20)
    unsent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
