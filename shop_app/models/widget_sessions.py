"""Storefront chat sessions: the widget holds a random token; only its SHA-256 digest is stored, with the
ticket it speaks in and the storefront customer the app proxy vouched for when it began."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class WidgetSession(SQLModel, table=True):
    __tablename__ = "widget_sessions"

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE", index=True)
    token_digest: str = Field(max_length=64, unique=True, index=True)
    storefront_customer_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
