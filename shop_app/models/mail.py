"""Email: each shop's support address and outbound relay, each email ticket's reply address, the
Message-IDs of every message in and out (threading), and attachments kept as files in the data dir."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class MailDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MailSettings(SQLModel, table=True):
    """A shop's support address (lower-case; mail to it or to its ``+t<token>`` reply addresses reaches
    the shop) and the relay its replies leave through. The relay password is a Fernet ciphertext."""

    __tablename__ = "mail_settings"

    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    )
    support_address: str = Field(max_length=254, unique=True, index=True)
    relay_host: str | None = Field(default=None, max_length=255)
    relay_port: int = 587
    relay_starttls: bool = True
    relay_username: str | None = Field(default=None, max_length=255)
    relay_password_ciphertext: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MailThread(SQLModel, table=True):
    """An email ticket's reply address token (``support+t<token>@domain``): random, so only those who
    received the desk's mail know it."""

    __tablename__ = "mail_threads"

    ticket_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    )
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    reply_token: str = Field(max_length=40, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MailMessageId(SQLModel, table=True):
    """The RFC 5322 Message-ID of a message of an email ticket, in either direction."""

    __tablename__ = "mail_message_ids"
    __table_args__ = (
        UniqueConstraint("shop_id", "rfc_message_id", name="uq_mail_message_ids_shop_rfc"),
        Index("ix_mail_message_ids_ticket", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    message_id: int | None = Field(default=None, foreign_key="messages.id", ondelete="CASCADE")
    rfc_message_id: str = Field(max_length=255)
    direction: MailDirection = Field(sa_type=String(10))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MailAttachment(SQLModel, table=True):
    """A file that came with a message; its bytes are in the data dir under ``stored_name`` (random)."""

    __tablename__ = "mail_attachments"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE", index=True)
    message_id: int = Field(foreign_key="messages.id", ondelete="CASCADE")
    filename: str = Field(max_length=120)
    content_type: str = Field(max_length=127)
    size_bytes: int
    stored_name: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
