from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from shop_app.models.base import UTCDateTime, utcnow
from shop_app.models.mirror_base import MirroredRecord


class Location(MirroredRecord, table=True):
    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id", name="uq_locations_shop_shopify_id"),)

    name: str = Field(max_length=255)
    is_active: bool = True
    address: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InventoryLevel(SQLModel, table=True):
    """Stock of one inventory item (a variant) at one location."""

    __tablename__ = "inventory_levels"
    __table_args__ = (
        UniqueConstraint(
            "shop_id",
            "inventory_item_shopify_id",
            "location_shopify_id",
            name="uq_inventory_levels_item_location",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", ondelete="CASCADE", index=True)
    inventory_item_shopify_id: int = Field(sa_type=BigInteger)
    location_shopify_id: int = Field(sa_type=BigInteger)
    available: int | None = None
    on_hand: int | None = None
    committed: int | None = None
    incoming: int | None = None
    reserved: int | None = None
    updated_at: datetime = Field(sa_type=UTCDateTime)
    synced_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
