"""Columns every mirrored Shopify record has. ``updated_at`` is Shopify's own ``updatedAt`` (an older one
never overwrites a newer one); ``synced_at`` is when Shopify last confirmed the row, by backfill, webhook
or reconciliation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class MirroredRecord(SQLModel):
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    shopify_id: int = Field(sa_type=BigInteger)
    synced_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
