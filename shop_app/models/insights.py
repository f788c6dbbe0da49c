"""Satisfaction surveys (CSAT): one per resolved ticket at most, asked once in the shopper's language and
channel, answered 1–5 with an optional comment. The answer link carries a token; only its digest is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow
from shop_app.models.helpdesk import Channel

MAX_CSAT_COMMENT_CHARS = 1000


class CsatSurvey(SQLModel, table=True):
    __tablename__ = "csat_surveys"
    __table_args__ = (Index("ix_csat_surveys_shop_sent", "shop_id", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    # unique: a ticket is asked once, whatever happens to it afterwards
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE", unique=True)
    channel: Channel = Field(sa_type=String(20))
    language: str = Field(max_length=8)
    agent_id: int | None = Field(default=None, foreign_key="agents.id", ondelete="SET NULL")
    by_bot: bool = False
    token_digest: str = Field(max_length=64, unique=True)  # sha256 of the answer link's token
    resolved_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    score: int | None = None
    comment: str | None = Field(default=None, sa_type=Text)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
