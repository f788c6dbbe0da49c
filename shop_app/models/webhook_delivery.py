from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class WebhookDelivery(SQLModel, table=True):
    """One accepted webhook, stored before Shopify gets its 200 and processed afterwards.

    The body is dropped once processed (it may hold personal data); the row stays to refuse duplicates.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("shop_id", "event_id", name="uq_webhook_deliveries_shop_event"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False)
    )
    topic: str = Field(max_length=100)
    event_id: str = Field(max_length=100)
    webhook_id: str = Field(default="", max_length=100)
    api_version: str = Field(default="", max_length=20)
    triggered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    body: str | None = Field(default=None, sa_type=Text)
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=String(20), index=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    # a claim is a short lease its holder renews while it works: a holder that died stops renewing, and
    # the delivery is claimable again a lease later (whatever machine it ran on)
    claimed_by: str | None = Field(default=None, max_length=32)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
