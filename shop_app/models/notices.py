"""Notices the shop sends before it is asked: back-in-stock subscriptions, the merchant's proactive rules,
and every proactive notice sent (one row per situation, which is how none is sent twice, and the audit)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow
from shop_app.models.helpdesk import Channel

DEFAULT_QUIET_START_MINUTES = 21 * 60
DEFAULT_QUIET_END_MINUTES = 9 * 60
DEFAULT_DAILY_CAP = 50
DEFAULT_SUBSCRIPTION_DAYS = 30
DEFAULT_STALE_TRACKING_DAYS = 4
DEFAULT_LATE_GRACE_DAYS = 1


class SubscriptionStatus(StrEnum):
    PENDING = "pending"  # left by email in the widget: waits for the address's owner to confirm
    ACTIVE = "active"
    NOTIFIED = "notified"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class NoticeRule(StrEnum):
    LATE_DELIVERY = "late_delivery"
    STALE_TRACKING = "stale_tracking"
    ON_HOLD = "on_hold"
    FAILED_DELIVERY = "failed_delivery"


class StockSubscription(SQLModel, table=True):
    """A shopper waiting for one variant at a set of locations (empty: anywhere). Told once, on the
    channel of ``ticket_id`` (LINE or email), in ``language``."""

    __tablename__ = "stock_subscriptions"
    __table_args__ = (
        Index("ix_stock_subscriptions_shop_item_status", "shop_id", "inventory_item_shopify_id", "status"),
        Index("ix_stock_subscriptions_shop_product", "shop_id", "product_shopify_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    ticket_id: int = Field(foreign_key="tickets.id", ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contacts.id", ondelete="CASCADE")
    channel: Channel = Field(sa_type=String(20))
    product_shopify_id: int = Field(sa_type=BigInteger)
    variant_shopify_id: int = Field(sa_type=BigInteger)
    inventory_item_shopify_id: int = Field(sa_type=BigInteger)
    location_shopify_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    item_name: str = Field(default="", max_length=512)
    language: str = Field(default="en", max_length=5)
    status: SubscriptionStatus = Field(default=SubscriptionStatus.ACTIVE, sa_type=String(20))
    expires_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notice_message_id: int | None = Field(default=None, foreign_key="messages.id", ondelete="SET NULL")
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticeSettings(SQLModel, table=True):
    """A shop's choices: which proactive rules run and with what parameters, quiet hours (minutes after
    midnight in the customer's time zone), the daily cap and how long a stock subscription lasts."""

    __tablename__ = "notice_settings"

    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", primary_key=True)
    rules: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    quiet_start_minutes: int = DEFAULT_QUIET_START_MINUTES
    quiet_end_minutes: int = DEFAULT_QUIET_END_MINUTES
    daily_cap: int = DEFAULT_DAILY_CAP
    subscription_days: int = DEFAULT_SUBSCRIPTION_DAYS
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProactiveNotice(SQLModel, table=True):
    """One proactive notice sent: its rule, the situation it was about (unique per shop), where it went."""

    __tablename__ = "proactive_notices"
    __table_args__ = (
        UniqueConstraint("shop_id", "situation", name="uq_proactive_notices_shop_situation"),
        Index("ix_proactive_notices_shop_created", "shop_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE")
    rule: NoticeRule = Field(sa_type=String(30))
    situation: str = Field(max_length=200)
    order_shopify_id: int = Field(sa_type=BigInteger)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", ondelete="SET NULL")
    message_id: int | None = Field(default=None, foreign_key="messages.id", ondelete="SET NULL")
    channel: Channel = Field(sa_type=String(20))
    language: str = Field(default="en", max_length=5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
