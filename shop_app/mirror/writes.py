"""Writes to the mirror: every source (backfill, bulk, reconciliation, webhooks) stores resources here.

Each writer is a handful of Core statements for a whole batch: a read of what is stored, one multi-row
``INSERT … ON CONFLICT (shop_id, shopify_id) DO UPDATE … WHERE excluded.updated_at >= table.updated_at``
(so an older version never overwrites a newer one, even between two writers racing), and for parents
whose child collection is given, one DELETE of the children no longer there and one upsert of the rest.

Outcomes per record: *inserted*; *updated* (the stored row was older); *unchanged* (same ``updated_at``);
*stale* (the stored row is newer: nothing changes, children included).

Shopify's ``updated_at`` has whole seconds, so two changes within one second carry the same time. A
version with the same time as the stored one is therefore applied (the later write wins): dropping it
would lose the second change for good, while applying it can at worst put back a same-second older
version when deliveries are reordered, which the next reconciliation (GraphQL's current state, written
the same way) repairs.

A few columns are only known to some sources (REST webhook bodies carry no fulfillment display status,
no customer locale, only the ``available`` stock quantity): from webhooks, ``None`` there means "unknown"
and keeps what is stored. Writes from GraphQL reads (backfill, reconciliation, order refreshes) pass
``authoritative=True``: every column is taken as read, so a sweep repairs whatever a webhook left partial.

JSON shapes: addresses are ``resources.Address`` as a dict; ``custom_attributes`` and
``selected_options`` are ``[[name, value], …]``; fulfillment ``tracking`` is
``[{"company", "number", "url"}, …]`` with comma-joined numbers split; ``events`` is
``[{"id", "status", "happened_at", "message"}, …]`` in time order; fulfillment ``line_items`` is
``[[line item id, quantity], …]``; fulfillment order ``line_items`` is
``[{"line_item_id", "remaining_quantity", "total_quantity"}, …]``; product ``options`` is
``[{"name", "values"}, …]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, case, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.shopify import resources
from shop_app.database import affected_rows
from shop_app.formats.emails import stored_email
from shop_app.formats.phone_numbers import stored_phone
from shop_app.models import (
    Customer,
    DeletedRecord,
    Fulfillment,
    FulfillmentOrder,
    InventoryLevel,
    Location,
    Order,
    OrderLineItem,
    Product,
    ProductVariant,
    Shop,
)
from shop_app.models.base import utcnow

CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
DELETED: Table = DeletedRecord.__table__  # type: ignore[attr-defined]
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
LINE_ITEMS: Table = OrderLineItem.__table__  # type: ignore[attr-defined]
FULFILLMENTS: Table = Fulfillment.__table__  # type: ignore[attr-defined]
FULFILLMENT_ORDERS: Table = FulfillmentOrder.__table__  # type: ignore[attr-defined]
PRODUCTS: Table = Product.__table__  # type: ignore[attr-defined]
VARIANTS: Table = ProductVariant.__table__  # type: ignore[attr-defined]
LOCATIONS: Table = Location.__table__  # type: ignore[attr-defined]
INVENTORY_LEVELS: Table = InventoryLevel.__table__  # type: ignore[attr-defined]
SHOPS: Table = Shop.__table__  # type: ignore[attr-defined]

# Keys per statement stay far below SQLite's and asyncpg's bound-parameter limits.
KEYS_PER_STATEMENT = 500
TRACKING_NUMBER_SEPARATORS = re.compile(r"[,，、;；\n]+")

Key = tuple[Any, ...]
_T = TypeVar("_T")
R = TypeVar("R", resources.Customer, resources.Order, resources.Product)
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0  # stored row was older and is now replaced
    unchanged: int = 0  # same updated_at: only synced_at bumped
    stale: int = 0  # incoming older than stored: ignored
    changed_ids: tuple[int, ...] = ()  # shopify ids inserted or updated (reconciliation reports them)

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            inserted=self.inserted + other.inserted,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
            stale=self.stale + other.stale,
            changed_ids=self.changed_ids + other.changed_ids,
        )


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one table is upserted."""

    table: Table
    key: tuple[str, ...] = ("shopify_id",)
    keep_if_null: frozenset[str] = frozenset()  # None = unknown: keeps what is stored
    fill_if_empty: frozenset[str] = frozenset()  # JSON lists: an equal version fills an empty one
    insert_only: frozenset[str] = frozenset()  # set on insert, never on update
    guarded: bool = True  # False: children written with their parent, which was guarded


CUSTOMER_SPEC = _Spec(CUSTOMERS, keep_if_null=frozenset({"locale"}))
ORDER_SPEC = _Spec(ORDERS, keep_if_null=frozenset({"total_refunded"}))
LINE_ITEM_SPEC = _Spec(LINE_ITEMS, guarded=False)
FULFILLMENT_ORDER_SPEC = _Spec(FULFILLMENT_ORDERS, guarded=False)
_FULFILLMENT_KEEP = frozenset({"display_status", "estimated_delivery_at", "in_transit_at", "delivered_at"})
FULFILLMENT_SPEC = _Spec(FULFILLMENTS, keep_if_null=_FULFILLMENT_KEEP, fill_if_empty=frozenset({"events"}))
# A version without events (REST bodies carry none) keeps the stored ones.
FULFILLMENT_WITHOUT_EVENTS_SPEC = _Spec(
    FULFILLMENTS, keep_if_null=_FULFILLMENT_KEEP, insert_only=frozenset({"events"})
)
PRODUCT_SPEC = _Spec(PRODUCTS)
VARIANT_SPEC = _Spec(VARIANTS, guarded=False)
LOCATION_SPEC = _Spec(LOCATIONS)
INVENTORY_LEVEL_SPEC = _Spec(
    INVENTORY_LEVELS,
    key=("inventory_item_shopify_id", "location_shopify_id"),
    keep_if_null=frozenset({"available", "on_hand", "committed", "incoming", "reserved"}),
)


# Upserts --------------------------------------------------------------------------------------------


async def upsert_customers(
    session: AsyncSession,
    *,
    shop_id: int,
    customers: Sequence[resources.Customer],
    synced_at: datetime,
    authoritative: bool = False,
) -> UpsertResult:
    kept = await _without_deleted(session, shop_id, "customers", customers)
    region = await _shop_region(session, shop_id)
    rows = [_customer_row(shop_id, customer, synced_at, region) for customer in kept]
    result, _ = await _upsert(session, CUSTOMER_SPEC, shop_id, rows, authoritative=authoritative)
    return replace(result, stale=result.stale + len(customers) - len(kept))


async def upsert_orders(
    session: AsyncSession,
    *,
    shop_id: int,
    orders: Sequence[resources.Order],
    synced_at: datetime,
    authoritative: bool = False,
) -> UpsertResult:
    newest = _newest(orders, key=lambda order: order.shopify_id)
    latest = await _without_deleted(session, shop_id, "orders", newest)
    region = await _shop_region(session, shop_id)
    rows = [_order_row(shop_id, order, synced_at, region) for order in latest]
    result, written = await _upsert(session, ORDER_SPEC, shop_id, rows, authoritative=authoritative)
    written_orders = [
        (written[(order.shopify_id,)], order) for order in latest if (order.shopify_id,) in written
    ]

    with_items = [
        (row_id, order.line_items) for row_id, order in written_orders if order.line_items is not None
    ]
    await _replace_children(
        session,
        LINE_ITEM_SPEC,
        shop_id,
        parent_column="order_id",
        parent_ids=[row_id for row_id, _ in with_items],
        rows=[
            _line_item_row(shop_id, row_id, item, synced_at, order.currency)
            for row_id, order in written_orders
            if order.line_items is not None
            for item in order.line_items
        ],
    )
    with_fulfillment_orders = [
        (row_id, order.fulfillment_orders)
        for row_id, order in written_orders
        if order.fulfillment_orders is not None
    ]
    await _replace_children(
        session,
        FULFILLMENT_ORDER_SPEC,
        shop_id,
        parent_column="order_id",
        parent_ids=[row_id for row_id, _ in with_fulfillment_orders],
        rows=[
            _fulfillment_order_row(shop_id, row_id, fulfillment_order, synced_at)
            for row_id, fulfillment_orders in with_fulfillment_orders
            for fulfillment_order in fulfillment_orders
        ],
    )
    with_fulfillments = [
        (row_id, order.fulfillments) for row_id, order in written_orders if order.fulfillments is not None
    ]
    fulfillments = [(row_id, f) for row_id, group in with_fulfillments for f in group]
    await _delete_children_not_in(
        session,
        FULFILLMENTS,
        shop_id,
        parent_column="order_id",
        parent_ids=[row_id for row_id, _ in with_fulfillments],
        keep=[f.shopify_id for _, f in fulfillments],
    )
    await _upsert_fulfillment_rows(session, shop_id, fulfillments, synced_at, authoritative=authoritative)
    return replace(result, stale=result.stale + len(newest) - len(latest))


async def replace_fulfillment_orders(
    session: AsyncSession,
    *,
    shop_id: int,
    by_order: Mapping[int, Sequence[resources.FulfillmentOrder]],
    synced_at: datetime,
) -> list[int]:
    """Each mirrored order's fulfillment orders replaced by those read from Shopify (no webhook body
    carries them whole, and they carry no version to compare: the read is the truth). The orders not
    mirrored yet are returned, to be read whole."""
    rows_by_shopify_id: dict[int, int] = {}
    for chunk in _chunks(list(by_order)):
        found = await session.execute(
            select(ORDERS.c.shopify_id, ORDERS.c.id).where(
                ORDERS.c.shop_id == shop_id, ORDERS.c.shopify_id.in_(chunk)
            )
        )
        for shopify_id, row_id in found:
            rows_by_shopify_id[shopify_id] = row_id
    await _replace_children(
        session,
        FULFILLMENT_ORDER_SPEC,
        shop_id,
        parent_column="order_id",
        parent_ids=list(rows_by_shopify_id.values()),
        rows=[
            _fulfillment_order_row(shop_id, rows_by_shopify_id[order_id], fulfillment_order, synced_at)
            for order_id, fulfillment_orders in by_order.items()
            if order_id in rows_by_shopify_id
            for fulfillment_order in fulfillment_orders
        ],
    )
    return [order_id for order_id in by_order if order_id not in rows_by_shopify_id]


async def upsert_fulfillment(
    session: AsyncSession, *, shop_id: int, fulfillment: resources.Fulfillment, synced_at: datetime
) -> UpsertResult:
    """Store one fulfillment of a mirrored order; an empty result (all counts 0) when the order is not
    mirrored, so the caller fetches the order instead."""
    order_id = await order_row_id(session, shop_id=shop_id, shopify_id=fulfillment.order_shopify_id)
    if order_id is None:
        return UpsertResult()
    return await _upsert_fulfillment_rows(session, shop_id, [(order_id, fulfillment)], synced_at)


async def upsert_products(
    session: AsyncSession,
    *,
    shop_id: int,
    products: Sequence[resources.Product],
    synced_at: datetime,
    authoritative: bool = False,
) -> UpsertResult:
    newest = _newest(products, key=lambda product: product.shopify_id)
    latest = await _without_deleted(session, shop_id, "products", newest)
    rows = [_product_row(shop_id, product, synced_at) for product in latest]
    result, written = await _upsert(session, PRODUCT_SPEC, shop_id, rows, authoritative=authoritative)
    with_variants = [
        (written[(product.shopify_id,)], product.variants)
        for product in latest
        if (product.shopify_id,) in written and product.variants is not None
    ]
    await _replace_children(
        session,
        VARIANT_SPEC,
        shop_id,
        parent_column="product_id",
        parent_ids=[row_id for row_id, _ in with_variants],
        rows=[
            _variant_row(shop_id, row_id, variant, synced_at)
            for row_id, variants in with_variants
            for variant in variants
        ],
    )
    return replace(result, stale=result.stale + len(newest) - len(latest))


async def upsert_locations(
    session: AsyncSession,
    *,
    shop_id: int,
    locations: Sequence[resources.Location],
    synced_at: datetime,
    authoritative: bool = False,
) -> UpsertResult:
    rows = [_location_row(shop_id, location, synced_at) for location in locations]
    result, _ = await _upsert(session, LOCATION_SPEC, shop_id, rows, authoritative=authoritative)
    return result


async def upsert_inventory_levels(
    session: AsyncSession,
    *,
    shop_id: int,
    levels: Sequence[resources.InventoryLevel],
    synced_at: datetime,
    authoritative: bool = False,
) -> UpsertResult:
    """``changed_ids`` are the inventory item ids of the levels inserted or updated."""
    rows = [_inventory_level_row(shop_id, level, synced_at) for level in levels]
    result, _ = await _upsert(session, INVENTORY_LEVEL_SPEC, shop_id, rows, authoritative=authoritative)
    return result


# Other changes --------------------------------------------------------------------------------------


async def add_fulfillment_event(
    session: AsyncSession,
    *,
    shop_id: int,
    fulfillment_shopify_id: int,
    event: resources.FulfillmentEvent,
    estimated_delivery_at: datetime | None = None,
) -> bool:
    """Merge one carrier event into a mirrored fulfillment (idempotent, in any order); False when the
    fulfillment is not mirrored."""
    found = await session.execute(
        select(
            FULFILLMENTS.c.id,
            FULFILLMENTS.c.events,
            FULFILLMENTS.c.in_transit_at,
            FULFILLMENTS.c.delivered_at,
        )
        .where(FULFILLMENTS.c.shop_id == shop_id, FULFILLMENTS.c.shopify_id == fulfillment_shopify_id)
        .with_for_update()
    )
    row = found.first()
    if row is None:
        return False
    events = {stored["id"]: stored for stored in row.events}
    events[event.shopify_id] = _event_json(event)
    ordered = sorted(events.values(), key=lambda e: (e["happened_at"], e["id"]))
    values: Row = {"events": ordered}
    latest = ordered[-1]["id"] == event.shopify_id  # an older event, come late, says nothing of now
    if event.status == "IN_TRANSIT" and row.in_transit_at is None:
        values["in_transit_at"] = event.happened_at
    if event.status == "DELIVERED" and row.delivered_at is None:
        values["delivered_at"] = event.happened_at
    if latest and (estimated_delivery_at is not None or event.status == "DELIVERED"):
        # a delivered parcel's event says what is left of the estimate: nothing, as Shopify clears it
        values["estimated_delivery_at"] = estimated_delivery_at
    await session.execute(update(FULFILLMENTS).where(FULFILLMENTS.c.id == row.id).values(values))
    return True


async def delete_customer(session: AsyncSession, *, shop_id: int, shopify_id: int) -> bool:
    await _record_deletion(session, shop_id, "customers", shopify_id)
    return await _delete(session, CUSTOMERS, shop_id, shopify_id)


async def merge_customer(
    session: AsyncSession, *, shop_id: int, kept_shopify_id: int, deleted_shopify_id: int
) -> int:
    """Shopify merged two customers: the merged-away one is deleted (tombstoned) and its orders are the
    kept one's, as in Shopify. Returns the orders moved."""
    moved = await session.execute(
        update(ORDERS)
        .where(ORDERS.c.shop_id == shop_id, ORDERS.c.customer_shopify_id == deleted_shopify_id)
        .values(customer_shopify_id=kept_shopify_id)
    )
    await delete_customer(session, shop_id=shop_id, shopify_id=deleted_shopify_id)
    return affected_rows(moved)


async def delete_order(session: AsyncSession, *, shop_id: int, shopify_id: int) -> bool:
    await _record_deletion(session, shop_id, "orders", shopify_id)
    order_id = await order_row_id(session, shop_id=shop_id, shopify_id=shopify_id)
    if order_id is None:
        return False
    for child in (LINE_ITEMS, FULFILLMENTS, FULFILLMENT_ORDERS):
        await session.execute(delete(child).where(child.c.order_id == order_id))
    return await _delete(session, ORDERS, shop_id, shopify_id)


async def delete_product(session: AsyncSession, *, shop_id: int, shopify_id: int) -> bool:
    await _record_deletion(session, shop_id, "products", shopify_id)
    product_id = await session.scalar(
        select(PRODUCTS.c.id).where(PRODUCTS.c.shop_id == shop_id, PRODUCTS.c.shopify_id == shopify_id)
    )
    if product_id is None:
        return False
    await session.execute(delete(VARIANTS).where(VARIANTS.c.product_id == product_id))
    return await _delete(session, PRODUCTS, shop_id, shopify_id)


async def delete_inventory_levels(
    session: AsyncSession,
    *,
    shop_id: int,
    inventory_item_shopify_id: int,
    location_shopify_id: int | None = None,
) -> int:
    """Levels of an inventory item: at one location (disconnected), or everywhere (item deleted)."""
    statement = delete(INVENTORY_LEVELS).where(
        INVENTORY_LEVELS.c.shop_id == shop_id,
        INVENTORY_LEVELS.c.inventory_item_shopify_id == inventory_item_shopify_id,
    )
    if location_shopify_id is not None:
        statement = statement.where(INVENTORY_LEVELS.c.location_shopify_id == location_shopify_id)
    return affected_rows(await session.execute(statement))


async def update_inventory_item_sku(
    session: AsyncSession,
    *,
    shop_id: int,
    inventory_item_shopify_id: int,
    sku: str | None,
    updated_at: datetime,
) -> int:
    """An inventory item's SKU is its variant's: set it, unless the variant was stored from a newer
    version."""
    result = await session.execute(
        update(VARIANTS)
        .where(
            VARIANTS.c.shop_id == shop_id,
            VARIANTS.c.inventory_item_shopify_id == inventory_item_shopify_id,
            or_(VARIANTS.c.updated_at.is_(None), VARIANTS.c.updated_at <= updated_at),
        )
        .values(sku=sku)
    )
    return affected_rows(result)


async def inventory_items_of_line_items(
    session: AsyncSession, *, shop_id: int, line_item_ids: Sequence[int]
) -> list[int]:
    """The inventory items of these order lines' variants, as mirrored."""
    if not line_item_ids:
        return []
    found = await session.execute(
        select(VARIANTS.c.inventory_item_shopify_id)
        .join(LINE_ITEMS, LINE_ITEMS.c.variant_shopify_id == VARIANTS.c.shopify_id)
        .where(
            LINE_ITEMS.c.shop_id == shop_id,
            VARIANTS.c.shop_id == shop_id,
            LINE_ITEMS.c.shopify_id.in_(list(line_item_ids)),
            VARIANTS.c.inventory_item_shopify_id.is_not(None),
        )
        .distinct()
    )
    return [int(item_id) for item_id in found.scalars()]


async def order_row_id(session: AsyncSession, *, shop_id: int, shopify_id: int) -> int | None:
    return await session.scalar(
        select(ORDERS.c.id).where(ORDERS.c.shop_id == shop_id, ORDERS.c.shopify_id == shopify_id)
    )


# Rows -----------------------------------------------------------------------------------------------


async def _shop_region(session: AsyncSession, shop_id: int) -> str | None:
    """The shop's country: phones written without a country code are read there."""
    return await session.scalar(select(SHOPS.c.country_code).where(SHOPS.c.id == shop_id))


def split_tracking(tracking: Iterable[resources.TrackingInfo]) -> list[dict[str, str | None]]:
    """One entry per tracking number: numbers comma-joined into one field (as Japanese order-management
    systems write them) become entries of their own with the same company and link."""
    entries: list[dict[str, str | None]] = []
    seen: set[tuple[str, str | None]] = set()
    for info in tracking:
        for part in TRACKING_NUMBER_SEPARATORS.split(info.number):
            number = part.strip()
            if not number or (number, info.company) in seen:
                continue
            seen.add((number, info.company))
            entries.append({"company": info.company, "number": number, "url": info.url})
    return entries


def _address(address: resources.Address | None) -> dict[str, Any] | None:
    return None if address is None else asdict(address)


def _customer_row(shop_id: int, customer: resources.Customer, synced_at: datetime, region: str | None) -> Row:
    spent = customer.amount_spent
    return {
        "shop_id": shop_id,
        "shopify_id": customer.shopify_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": stored_email(customer.email),
        "phone": stored_phone(customer.phone, default_region=region),
        "tags": list(customer.tags),
        "note": customer.note,
        "amount_spent": spent.amount if spent else None,
        "currency": spent.currency if spent else None,
        "orders_count": customer.orders_count,
        "locale": customer.locale,
        "default_address": _address(customer.default_address),
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "synced_at": synced_at,
    }


def _order_row(shop_id: int, order: resources.Order, synced_at: datetime, region: str | None) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": order.shopify_id,
        "name": order.name,
        "number": order.number,
        "customer_shopify_id": order.customer_shopify_id,
        "email": stored_email(order.email),
        "phone": stored_phone(order.phone, default_region=region),
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "processed_at": order.processed_at,
        "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason,
        "closed_at": order.closed_at,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "currency": order.currency,
        "total_price": order.total_price,
        "subtotal_price": order.subtotal_price,
        "total_refunded": order.total_refunded,
        "shipping_address": _address(order.shipping_address),
        "custom_attributes": [list(pair) for pair in order.custom_attributes],
        "tags": list(order.tags),
        "note": order.note,
        "synced_at": synced_at,
    }


def _line_item_row(
    shop_id: int, order_id: int, item: resources.LineItem, synced_at: datetime, currency: str | None
) -> Row:
    price = item.unit_price
    return {
        "shop_id": shop_id,
        "shopify_id": item.shopify_id,
        "order_id": order_id,
        "title": item.title,
        "variant_title": item.variant_title,
        "sku": item.sku,
        "quantity": item.quantity,
        "current_quantity": item.current_quantity,
        "variant_shopify_id": item.variant_shopify_id,
        "product_shopify_id": item.product_shopify_id,
        "unit_price": price.amount if price else None,
        "currency": price.currency if price else currency,
        "synced_at": synced_at,
    }


def _event_json(event: resources.FulfillmentEvent) -> dict[str, Any]:
    return {
        "id": event.shopify_id,
        "status": event.status,
        "happened_at": event.happened_at.isoformat(),
        "message": event.message,
    }


def _fulfillment_row(
    shop_id: int, order_id: int, fulfillment: resources.Fulfillment, synced_at: datetime
) -> Row:
    events = sorted(
        (_event_json(event) for event in fulfillment.events or ()), key=lambda e: (e["happened_at"], e["id"])
    )
    return {
        "shop_id": shop_id,
        "shopify_id": fulfillment.shopify_id,
        "order_id": order_id,
        "status": fulfillment.status,
        "display_status": fulfillment.display_status,
        "created_at": fulfillment.created_at,
        "updated_at": fulfillment.updated_at,
        "delivered_at": fulfillment.delivered_at,
        "in_transit_at": fulfillment.in_transit_at,
        "estimated_delivery_at": fulfillment.estimated_delivery_at,
        "tracking": split_tracking(fulfillment.tracking),
        "events": events,
        "line_items": [[line_item_id, quantity] for line_item_id, quantity in fulfillment.line_items],
        "location_shopify_id": fulfillment.location_shopify_id,
        "synced_at": synced_at,
    }


def _fulfillment_order_row(
    shop_id: int, order_id: int, fulfillment_order: resources.FulfillmentOrder, synced_at: datetime
) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": fulfillment_order.shopify_id,
        "order_id": order_id,
        "status": fulfillment_order.status,
        "request_status": fulfillment_order.request_status,
        "fulfill_at": fulfillment_order.fulfill_at,
        "location_shopify_id": fulfillment_order.location_shopify_id,
        "line_items": [
            {
                "line_item_id": line.line_item_shopify_id,
                "remaining_quantity": line.remaining_quantity,
                "total_quantity": line.total_quantity,
            }
            for line in fulfillment_order.line_items
        ],
        "synced_at": synced_at,
    }


def _product_row(shop_id: int, product: resources.Product, synced_at: datetime) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": product.shopify_id,
        "title": product.title,
        "handle": product.handle,
        "status": product.status,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "tags": list(product.tags),
        "options": [{"name": name, "values": list(values)} for name, values in product.options],
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "synced_at": synced_at,
    }


def _variant_row(shop_id: int, product_id: int, variant: resources.Variant, synced_at: datetime) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": variant.shopify_id,
        "product_id": product_id,
        "title": variant.title,
        "sku": variant.sku,
        "barcode": variant.barcode,
        "price": variant.price,
        "inventory_policy": variant.inventory_policy,
        "selected_options": [list(pair) for pair in variant.selected_options],
        "inventory_item_shopify_id": variant.inventory_item_shopify_id,
        "updated_at": variant.updated_at,
        "synced_at": synced_at,
    }


def _location_row(shop_id: int, location: resources.Location, synced_at: datetime) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": location.shopify_id,
        "name": location.name,
        "is_active": location.is_active,
        "address": _address(location.address),
        "updated_at": location.updated_at,
        "synced_at": synced_at,
    }


def _inventory_level_row(shop_id: int, level: resources.InventoryLevel, synced_at: datetime) -> Row:
    return {
        "shop_id": shop_id,
        "inventory_item_shopify_id": level.inventory_item_shopify_id,
        "location_shopify_id": level.location_shopify_id,
        "available": level.available,
        "on_hand": level.on_hand,
        "committed": level.committed,
        "incoming": level.incoming,
        "reserved": level.reserved,
        "updated_at": level.updated_at,
        "synced_at": synced_at,
    }


# Statements -----------------------------------------------------------------------------------------


def _newest(records: Sequence[_T], *, key: Any) -> list[_T]:
    """One record per id, the newest (the last given among equals), in first-seen order."""
    chosen: dict[Any, _T] = {}
    for record in records:
        current = chosen.get(key(record))
        if current is None or not _older(record, current):
            chosen[key(record)] = record
    return list(chosen.values())


def _older(record: Any, than: Any) -> bool:
    mine, theirs = getattr(record, "updated_at", None), getattr(than, "updated_at", None)
    return mine is not None and theirs is not None and bool(mine < theirs)


def _chunks(items: Sequence[_T], size: int = KEYS_PER_STATEMENT) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name


def _key_match(table: Table, key: tuple[str, ...], keys: Sequence[Key]) -> ColumnElement[bool]:
    if len(key) == 1:
        return table.c[key[0]].in_([k[0] for k in keys])
    return tuple_(*(table.c[name] for name in key)).in_(list(keys))


@cache
def _upsert_statement(dialect: str, spec: _Spec, columns: tuple[str, ...]) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = spec.table
    statement = insert(table)
    excluded = statement.excluded
    conflict = ("shop_id", *spec.key)
    set_: dict[str, Any] = {}
    guard: ColumnElement[bool] | None = None
    if spec.guarded:
        incoming, stored = excluded.updated_at, table.c.updated_at
        newer: ColumnElement[bool] = incoming >= stored  # same second: the later write wins (see above)
        guard = incoming >= stored
        if table.c.updated_at.nullable:  # no time to order by: the incoming version wins
            newer = or_(incoming.is_(None), stored.is_(None), newer)
            guard = or_(incoming.is_(None), stored.is_(None), guard)
        for name in columns:
            if name in conflict or name in spec.insert_only or name == "synced_at":
                continue
            new, old = excluded[name], table.c[name]
            if name in spec.keep_if_null:
                set_[name] = case((newer, func.coalesce(new, old)), else_=func.coalesce(old, new))
            elif name in spec.fill_if_empty:
                set_[name] = case(
                    (or_(newer, func.json_array_length(old) == 0), new),
                    else_=old,
                )
            else:
                set_[name] = case((newer, new), else_=old)
    else:
        set_ = {
            name: excluded[name] for name in columns if name not in conflict and name not in spec.insert_only
        }
    set_["synced_at"] = excluded.synced_at
    return statement.on_conflict_do_update(index_elements=list(conflict), set_=set_, where=guard).returning(
        table.c.id, *(table.c[name] for name in spec.key)
    )


async def _upsert(
    session: AsyncSession, spec: _Spec, shop_id: int, rows: Sequence[Row], *, authoritative: bool = False
) -> tuple[UpsertResult, dict[Key, int]]:
    """Upsert rows of one shop; the result, and the row id of every record not stale, by key.

    ``authoritative`` writes (a GraphQL read of the whole record) take every column as given: a ``None``
    there is Shopify saying "empty", not "unknown", so nothing stored is kept in its place."""
    if not rows:
        return UpsertResult(), {}
    if authoritative:
        spec = replace(spec, keep_if_null=frozenset(), fill_if_empty=frozenset())
    table = spec.table
    by_key: dict[Key, Row] = {}
    for row in rows:  # a key twice in one statement is an error on PostgreSQL: the newest wins
        key = tuple(row[name] for name in spec.key)
        current = by_key.get(key)
        if current is None or not _row_older(row, current):
            by_key[key] = row
    keys = list(by_key)
    stored: dict[Key, datetime | None] = {}
    if spec.guarded:
        for chunk in _chunks(keys):
            found = await session.execute(
                select(table.c.updated_at, *(table.c[name] for name in spec.key)).where(
                    table.c.shop_id == shop_id, _key_match(table, spec.key, chunk)
                )
            )
            for found_row in found:
                stored[tuple(found_row[1:])] = found_row[0]
    columns = tuple(next(iter(by_key.values())))
    statement = _upsert_statement(await _dialect(session), spec, columns)
    written: dict[Key, int] = {}
    for row_chunk in _chunks(list(by_key.values())):
        returned = await session.execute(statement, list(row_chunk))
        for returned_row in returned:
            written[tuple(returned_row[1:])] = returned_row[0]
    inserted = updated = unchanged = stale = 0
    changed: list[int] = []
    for key, row in by_key.items():
        if key not in written:
            stale += 1
        elif key not in stored:
            inserted += 1
            changed.append(key[0])
        elif spec.guarded and _same_time(stored[key], row.get("updated_at")):
            unchanged += 1
        else:
            updated += 1
            changed.append(key[0])
    result = UpsertResult(
        inserted=inserted, updated=updated, unchanged=unchanged, stale=stale, changed_ids=tuple(changed)
    )
    return result, written


def _row_older(row: Row, than: Row) -> bool:
    mine, theirs = row.get("updated_at"), than.get("updated_at")
    return mine is not None and theirs is not None and bool(mine < theirs)


def _same_time(stored: datetime | None, incoming: datetime | None) -> bool:
    return stored is not None and incoming is not None and stored == incoming


async def _delete_children_not_in(
    session: AsyncSession,
    table: Table,
    shop_id: int,
    *,
    parent_column: str,
    parent_ids: Sequence[int],
    keep: Sequence[int],
) -> None:
    """Children of these parents that are not among ``keep`` (child ids are unique within a shop)."""
    kept = set(keep)
    for chunk in _chunks(parent_ids):
        found = await session.execute(
            select(table.c.id, table.c.shopify_id).where(
                table.c.shop_id == shop_id, table.c[parent_column].in_(list(chunk))
            )
        )
        gone = [row.id for row in found if row.shopify_id not in kept]
        for gone_chunk in _chunks(gone):
            await session.execute(delete(table).where(table.c.id.in_(list(gone_chunk))))


async def _replace_children(
    session: AsyncSession,
    spec: _Spec,
    shop_id: int,
    *,
    parent_column: str,
    parent_ids: Sequence[int],
    rows: Sequence[Row],
) -> None:
    await _delete_children_not_in(
        session,
        spec.table,
        shop_id,
        parent_column=parent_column,
        parent_ids=parent_ids,
        keep=[row["shopify_id"] for row in rows],
    )
    await _upsert(session, spec, shop_id, rows)


async def _upsert_fulfillment_rows(
    session: AsyncSession,
    shop_id: int,
    fulfillments: Sequence[tuple[int, resources.Fulfillment]],
    synced_at: datetime,
    *,
    authoritative: bool = False,
) -> UpsertResult:
    with_events = [
        _fulfillment_row(shop_id, order_id, f, synced_at)
        for order_id, f in fulfillments
        if f.events is not None
    ]
    without_events = [
        _fulfillment_row(shop_id, order_id, f, synced_at) for order_id, f in fulfillments if f.events is None
    ]
    first, _ = await _upsert(session, FULFILLMENT_SPEC, shop_id, with_events, authoritative=authoritative)
    if first.stale:
        await _merge_missed_events(session, shop_id, with_events)
    second, _ = await _upsert(
        session, FULFILLMENT_WITHOUT_EVENTS_SPEC, shop_id, without_events, authoritative=authoritative
    )
    return first + second


async def _merge_missed_events(session: AsyncSession, shop_id: int, rows: Sequence[Row]) -> None:
    """Carrier events are facts with ids that never change: a read older than the stored row (kept for
    its other fields) still brings the events no webhook carried (a shipment's first event has none)."""
    incoming = {row["shopify_id"]: row["events"] for row in rows}
    for chunk in _chunks(list(incoming)):
        stored = await session.execute(
            select(FULFILLMENTS.c.id, FULFILLMENTS.c.shopify_id, FULFILLMENTS.c.events).where(
                FULFILLMENTS.c.shop_id == shop_id, FULFILLMENTS.c.shopify_id.in_(chunk)
            )
        )
        for row_id, shopify_id, events in stored:
            merged = {event["id"]: event for event in [*incoming[shopify_id], *(events or [])]}
            if len(merged) > len(events or []):
                ordered = sorted(merged.values(), key=lambda e: (e["happened_at"], e["id"]))
                await session.execute(
                    update(FULFILLMENTS).where(FULFILLMENTS.c.id == row_id).values(events=ordered)
                )


async def _record_deletion(session: AsyncSession, shop_id: int, resource: str, shopify_id: int) -> None:
    insert = pg_insert if await _dialect(session) == "postgresql" else sqlite_insert
    await session.execute(
        insert(DELETED)
        .values(shop_id=shop_id, resource=resource, shopify_id=shopify_id, deleted_at=utcnow())
        .on_conflict_do_nothing(index_elements=["shop_id", "resource", "shopify_id"])
    )


async def _without_deleted(
    session: AsyncSession, shop_id: int, resource: str, records: Sequence[R]
) -> list[R]:
    """The records Shopify has not deleted (a late or replayed update must not bring one back)."""
    ids = [record.shopify_id for record in records]
    deleted: set[int] = set()
    for chunk in _chunks(ids):
        found = await session.execute(
            select(DELETED.c.shopify_id).where(
                DELETED.c.shop_id == shop_id, DELETED.c.resource == resource, DELETED.c.shopify_id.in_(chunk)
            )
        )
        deleted.update(found.scalars())
    return [record for record in records if record.shopify_id not in deleted]


async def _delete(session: AsyncSession, table: Table, shop_id: int, shopify_id: int) -> bool:
    result = await session.execute(
        delete(table).where(table.c.shop_id == shop_id, table.c.shopify_id == shopify_id)
    )
    return affected_rows(result) > 0
