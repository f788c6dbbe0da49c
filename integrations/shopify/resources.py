"""Typed Shopify resources, as the app mirrors them. Built from Admin GraphQL nodes (backfill,
reconciliation) or from REST-shaped webhook bodies (live updates); either way the same shapes reach the
app, so one writer stores both.

Statuses use the GraphQL enum spelling (``PAID``, ``PARTIALLY_FULFILLED``, ``IN_TRANSIT``); money is a
decimal string in one canonical spelling (``decimal_text``); times are timezone-aware UTC. A child
collection that a payload does not carry is ``None`` (leave what is stored), never an empty tuple
(which means "none any more").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation


def decimal_text(value: object) -> str:
    """One spelling per amount: REST sends ``"19.90"``, GraphQL ``"19.9"``; both become ``"19.9"``.
    Raises ``ValueError`` for anything that is not a finite decimal."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a decimal amount: {value!r}")
    return format(number.normalize(), "f")


@dataclass(frozen=True, slots=True)
class Money:
    amount: str
    currency: str


@dataclass(frozen=True, slots=True)
class Address:
    name: str | None = None
    # the parts ``name`` is made of, so each country's order can be kept (family name first in Japanese)
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    shopify_id: int
    updated_at: datetime
    created_at: datetime | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None
    amount_spent: Money | None = None
    orders_count: int | None = None
    locale: str | None = None
    default_address: Address | None = None


@dataclass(frozen=True, slots=True)
class TrackingInfo:
    number: str
    company: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class FulfillmentEvent:
    shopify_id: int
    status: str
    happened_at: datetime
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Fulfillment:
    shopify_id: int
    order_shopify_id: int
    status: str
    created_at: datetime
    updated_at: datetime
    display_status: str | None = None
    delivered_at: datetime | None = None
    in_transit_at: datetime | None = None
    estimated_delivery_at: datetime | None = None
    tracking: tuple[TrackingInfo, ...] = ()
    events: tuple[FulfillmentEvent, ...] | None = None
    line_items: tuple[tuple[int, int], ...] = ()  # (line item id, quantity)
    location_shopify_id: int | None = None


@dataclass(frozen=True, slots=True)
class LineItem:
    shopify_id: int
    title: str
    quantity: int
    current_quantity: int | None = None
    variant_title: str | None = None
    sku: str | None = None
    variant_shopify_id: int | None = None
    product_shopify_id: int | None = None
    unit_price: Money | None = None


@dataclass(frozen=True, slots=True)
class FulfillmentOrderLine:
    line_item_shopify_id: int
    remaining_quantity: int
    total_quantity: int


@dataclass(frozen=True, slots=True)
class FulfillmentOrder:
    shopify_id: int
    status: str
    request_status: str | None = None
    fulfill_at: datetime | None = None
    location_shopify_id: int | None = None
    line_items: tuple[FulfillmentOrderLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Order:
    shopify_id: int
    name: str
    created_at: datetime
    updated_at: datetime
    number: int | None = None
    customer_shopify_id: int | None = None
    email: str | None = None
    phone: str | None = None
    processed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    currency: str | None = None
    total_price: str | None = None
    subtotal_price: str | None = None
    total_refunded: str | None = None
    shipping_address: Address | None = None
    custom_attributes: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    note: str | None = None
    line_items: tuple[LineItem, ...] | None = None
    fulfillments: tuple[Fulfillment, ...] | None = None
    fulfillment_orders: tuple[FulfillmentOrder, ...] | None = None


@dataclass(frozen=True, slots=True)
class Variant:
    shopify_id: int
    product_shopify_id: int
    title: str
    updated_at: datetime | None = None
    sku: str | None = None
    barcode: str | None = None
    price: str | None = None
    inventory_policy: str | None = None  # DENY or CONTINUE
    selected_options: tuple[tuple[str, str], ...] = ()
    inventory_item_shopify_id: int | None = None


@dataclass(frozen=True, slots=True)
class Product:
    shopify_id: int
    title: str
    updated_at: datetime
    created_at: datetime | None = None
    handle: str | None = None
    status: str | None = None
    vendor: str | None = None
    product_type: str | None = None
    tags: tuple[str, ...] = ()
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()
    variants: tuple[Variant, ...] | None = None


@dataclass(frozen=True, slots=True)
class InventoryLevel:
    inventory_item_shopify_id: int
    location_shopify_id: int
    updated_at: datetime
    available: int | None = None
    on_hand: int | None = None
    committed: int | None = None
    incoming: int | None = None
    reserved: int | None = None


@dataclass(frozen=True, slots=True)
class Location:
    shopify_id: int
    name: str
    is_active: bool = True
    address: Address | None = None
    updated_at: datetime | None = None
