"""Satisfaction surveys (CSAT): one per resolved ticket at most, asked once in the shopper's language and
channel, answered 1–5 with an optional comment. The answer link carries a token; only its digest is kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow
from shop_app.models.helpdesk import Channel

MAX_CSAT_COMMENT_CHARS = 1000


class CsatSurvey(SQLModel, table=True):
    __tablename__ = "csat_surveys"
    __table_args__ = (
        Index("ix_csat_surveys_shop_sent", "shop_id", "sent_at"),
        Index("ix_csat_surveys_shop_answered", "shop_id", "answered_at"),
    )

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


class InsightTicket(SQLModel, table=True):
    """One ticket's Insights facts (the rollup the API sums in SQL), kept by ``shop_app.insights.rollup``.

    Everything that depends on when it is read stays a moment or a duration: a resolution is *honest* once
    ``resolved_at`` plus the re-contact window has passed, and re-contacted when ``reopened`` or
    ``return_seconds`` (from the resolution to the same customer's next ticket about the same order or
    intent) is within the window, so the window setting can change without a rebuild. ``day`` and
    ``csat_day`` are the shop's local days as ordinals (``date.toordinal()``)."""

    __tablename__ = "insight_tickets"
    __table_args__ = (
        # covering: the durations of a range (medians, 90th percentiles) read from the index alone
        Index(
            "ix_insight_tickets_shop_day_facts",
            "shop_id",
            "day",
            "channel",
            "agent_id",
            "by_bot",
            "intent",
            "language",
            "first_response_seconds",
            "resolution_seconds",
        ),
        # covering: the satisfaction answers of a range
        Index(
            "ix_insight_tickets_shop_csat_facts",
            "shop_id",
            "csat_day",
            "csat_channel",
            "csat_agent_id",
            "csat_by_bot",
            "csat_language",
            "intent",
            "csat_score",
        ),
        # the resolutions whose re-contact window still runs (read beside the day summaries)
        Index("ix_insight_tickets_shop_resolved_at", "shop_id", "resolved_at"),
    )

    ticket_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    )
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    day: int
    channel: str = Field(max_length=20)
    intent: str | None = Field(default=None, max_length=40)
    language: str = Field(max_length=8)
    agent_id: int | None = None
    by_bot: bool = False
    resolved: bool = False
    reopened: bool = False
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    return_seconds: float | None = None
    first_response_seconds: float | None = None
    resolution_seconds: float | None = None
    handoff_reason: str | None = Field(default=None, max_length=40)
    handoff_intent: str | None = Field(default=None, max_length=40)
    wismo_state: str | None = Field(default=None, max_length=40)
    wismo_order: int | None = Field(default=None, sa_type=BigInteger)
    wismo_carrier: str | None = Field(default=None, max_length=255)
    stock: list[list[Any]] | None = Field(default=None, sa_type=JSON(none_as_null=True))
    csat_day: int | None = None
    csat_channel: str | None = Field(default=None, max_length=20)
    csat_language: str | None = Field(default=None, max_length=8)
    csat_agent_id: int | None = None
    csat_by_bot: bool = False
    csat_score: int | None = None


class InsightOrderDay(SQLModel, table=True):
    """A shop's orders placed on one of its local days (an ordinal), for inquiries per 100 orders."""

    __tablename__ = "insight_order_days"

    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    )
    day: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    orders: int = 0


class InsightRollupState(SQLModel, table=True):
    """When a shop's rollup was last brought up to date (changes from ``since`` on are read next time)."""

    __tablename__ = "insight_rollup_state"

    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    )
    since: datetime = Field(sa_type=UTCDateTime)
    refreshed_at: datetime = Field(sa_type=UTCDateTime)
    zone: str = Field(default="", max_length=64)
    hours: str = Field(default="", max_length=64)


# the grains of the day summaries: the finest (every filter answered) and a coarse one the page's usual
# questions read (no intent or language filter for the counts; no filter at all for the breakdowns)
FINE = 1
COARSE = 0


class InsightDay(SQLModel, table=True):
    """The counts of a shop's tickets opened on one local day (an ordinal), one row per channel, agent,
    intent and language (``grain`` FINE) and per channel and agent (COARSE: ``intent`` and ``language``
    empty), kept by ``shop_app.insights.summary`` from ``insight_tickets`` for the re-contact window and
    first-response targets of the rollup state's fingerprint. No agent is 0, no intent or language empty (a
    value: the unique key, which the rollup adds its changes to, holds). ``kept``: resolved and neither
    reopened nor re-contacted within the window (honest once the window after the resolution is over)."""

    __tablename__ = "insight_days"
    __table_args__ = (
        Index(
            "ux_insight_days_grouping",
            "shop_id",
            "grain",
            "day",
            "channel",
            "agent_id",
            "by_bot",
            "intent",
            "language",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    grain: int
    day: int
    channel: str = Field(max_length=20)
    agent_id: int = 0
    by_bot: bool = False
    intent: str = Field(default="", max_length=40)
    language: str = Field(default="", max_length=8)
    tickets: int = 0
    resolved: int = 0
    kept: int = 0
    bot_kept: int = 0
    recontacted: int = 0
    handed: int = 0
    closed: int = 0
    answered_first: int = 0
    met: int = 0


class InsightDayKey(SQLModel, table=True):
    """How many of a day's tickets had one value of a breakdown (``kind``: handoff_reason, handoff_intent,
    wismo_state, wismo_carrier, stock with ``key`` the product and ``variant``), per channel, agent, intent
    and language (FINE) or over all of them (COARSE: those empty, the agent 0)."""

    __tablename__ = "insight_day_keys"
    __table_args__ = (
        Index(
            "ux_insight_day_keys_grouping",
            "shop_id",
            "grain",
            "day",
            "channel",
            "agent_id",
            "by_bot",
            "intent",
            "language",
            "kind",
            "key",
            "variant",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    grain: int
    day: int
    channel: str = Field(max_length=20)
    agent_id: int = 0
    by_bot: bool = False
    intent: str = Field(default="", max_length=40)
    language: str = Field(default="", max_length=8)
    kind: str = Field(max_length=16)
    key: str = Field(max_length=255)
    variant: str = Field(default="", max_length=255)
    count: int = 0
    sold_out: int = 0
