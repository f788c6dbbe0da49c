from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field

from shop_app.models.base import UTCDateTime
from shop_app.models.mirror_base import MirroredRecord


class Customer(MirroredRecord, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id", name="uq_customers_shop_shopify_id"),
        Index("ix_customers_shop_email", "shop_id", "email"),
        Index("ix_customers_shop_phone", "shop_id", "phone"),
    )

    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    note: str | None = Field(default=None, sa_type=Text)
    amount_spent: str | None = Field(default=None, max_length=32)
    currency: str | None = Field(default=None, max_length=3)
    orders_count: int | None = None
    locale: str | None = Field(default=None, max_length=20)
    default_address: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
