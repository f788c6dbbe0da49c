from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field

from shop_app.models.base import UTCDateTime
from shop_app.models.mirror_base import MirroredRecord


class Product(MirroredRecord, table=True):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id", name="uq_products_shop_shopify_id"),)

    title: str = Field(max_length=512)
    handle: str | None = Field(default=None, max_length=255)
    status: str | None = Field(default=None, max_length=20)
    vendor: str | None = Field(default=None, max_length=255)
    product_type: str | None = Field(default=None, max_length=255)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    options: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ProductVariant(MirroredRecord, table=True):
    __tablename__ = "product_variants"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id", name="uq_product_variants_shop_shopify_id"),
        Index("ix_product_variants_shop_sku", "shop_id", "sku"),
        Index("ix_product_variants_shop_inventory_item", "shop_id", "inventory_item_shopify_id"),
    )

    product_id: int = Field(foreign_key="products.id", ondelete="CASCADE", index=True)
    title: str = Field(max_length=512)
    sku: str | None = Field(default=None, max_length=255)
    barcode: str | None = Field(default=None, max_length=255)
    price: str | None = Field(default=None, max_length=32)
    inventory_policy: str | None = Field(default=None, max_length=20)
    selected_options: list[list[str]] = Field(default_factory=list, sa_type=JSON)
    inventory_item_shopify_id: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
