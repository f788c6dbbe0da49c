"""An agent's (or a bot's) back-in-stock subscription for a ticket's shopper, asked from the console."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shop_app.schemas.order_actions import ShopifyId
from shop_app.schemas.tickets import StrictIn

MAX_LOCATIONS = 50


class StockSubscriptionIn(StrictIn):
    variant_id: ShopifyId = Field(description="The sold-out variant (Shopify id)")
    location_ids: list[ShopifyId] = Field(
        default_factory=list,
        max_length=MAX_LOCATIONS,
        description="Wait for stock at these locations only (empty: anywhere)",
    )


class StockSubscriptionOut(BaseModel):
    id: int
    created: bool = Field(description="False when the shopper was already waiting for this variant")
    status: str = Field(description="active, or pending until the shopper confirms by the mailed link")
    channel: str = Field(description="Where the shopper is told: line or email")
    item: str
    language: str
    expires_at: datetime
