from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field

from shop_app.models.base import UTCDateTime
from shop_app.models.mirror_base import MirroredRecord


class Order(MirroredRecord, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id", name="uq_orders_shop_shopify_id"),
        Index("ix_orders_shop_name", "shop_id", "name"),
        Index("ix_orders_shop_customer", "shop_id", "customer_shopify_id", "created_at"),
        Index("ix_orders_shop_email", "shop_id", "email"),
        Index("ix_orders_shop_phone", "shop_id", "phone"),
        Index("ix_orders_shop_updated", "shop_id", "updated_at"),
    )

    name: str = Field(max_length=64)
    number: int | None = None
    customer_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=40)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    financial_status: str | None = Field(default=None, max_length=40)
    fulfillment_status: str | None = Field(default=None, max_length=40)
    currency: str | None = Field(default=None, max_length=3)
    total_price: str | None = Field(default=None, max_length=32)
    subtotal_price: str | None = Field(default=None, max_length=32)
    total_refunded: str | None = Field(default=None, max_length=32)
    shipping_address: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    custom_attributes: list[list[str]] = Field(default_factory=list, sa_type=JSON)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    note: str | None = Field(default=None, sa_type=Text)


class OrderLineItem(MirroredRecord, table=True):
    __tablename__ = "order_line_items"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id", name="uq_order_line_items_shop_shopify_id"),
        Index("ix_order_line_items_shop_variant", "shop_id", "variant_shopify_id"),
    )

    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE", index=True)
    title: str = Field(max_length=512)
    variant_title: str | None = Field(default=None, max_length=512)
    sku: str | None = Field(default=None, max_length=255)
    quantity: int
    current_quantity: int | None = None
    variant_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    product_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    unit_price: str | None = Field(default=None, max_length=32)
    currency: str | None = Field(default=None, max_length=3)


class Fulfillment(MirroredRecord, table=True):
    """A shipment: every tracking number with its company and link, and its carrier events."""

    __tablename__ = "fulfillments"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id", name="uq_fulfillments_shop_shopify_id"),)

    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE", index=True)
    status: str = Field(max_length=40)
    display_status: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    in_transit_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    estimated_delivery_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    tracking: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    events: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    line_items: list[list[int]] = Field(default_factory=list, sa_type=JSON)
    location_shopify_id: int | None = Field(default=None, sa_type=BigInteger)


class FulfillmentOrder(MirroredRecord, table=True):
    __tablename__ = "fulfillment_orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id", name="uq_fulfillment_orders_shop_shopify_id"),
    )

    order_id: int = Field(foreign_key="orders.id", ondelete="CASCADE", index=True)
    status: str = Field(max_length=40)
    request_status: str | None = Field(default=None, max_length=40)
    fulfill_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    location_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    line_items: list[dict[str, int]] = Field(default_factory=list, sa_type=JSON)
