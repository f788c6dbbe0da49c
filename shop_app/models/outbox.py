"""The outbox: messages that leave the app by a channel (LINE, email), one row per message.

The row is written in the transaction that writes the message, so a platform or relay that is down loses
nothing: a sender that cannot deliver now leaves the row pending with its next attempt, and the console
shows "not sent yet" until it is sent (or given up after the last attempt).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow
from shop_app.models.helpdesk import Channel


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up: the console says so, an agent decides what next


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_outbox_messages_shop_ticket", "shop_id", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    message_id: int = Field(foreign_key="messages.id", ondelete="CASCADE", unique=True)
    channel: Channel = Field(sa_type=String(20))
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(20))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # a sender holds the row until then; a crashed sender's row is taken again after it
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # a short code (``smtp_unavailable``, ``line_429``), never a message body or a token
    last_error: str | None = Field(default=None, max_length=100)
    # the platform's id of what was sent (LINE's request id, the email's Message-ID)
    external_id: str | None = Field(default=None, max_length=255)
    # what the channel needs beyond the message's text (a LINE reply token and Flex card, mail headers)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
