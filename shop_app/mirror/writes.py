"""Writes to the mirror: every source (backfill, bulk, reconciliation, webhooks) stores resources here.

Each writer stores a whole batch at once: rows built by ``shop_app.mirror.rows``, written by
``shop_app.mirror.upserts`` (the newer version wins, children are replaced with their parent, deleted
records stay deleted); here, each table's ``Spec`` says how its columns are written.

Outcomes per record: *inserted*; *updated* (the stored row was older); *unchanged* (same ``updated_at``);
*stale* (the stored row is newer: nothing changes, children included).

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

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.shopify import resources
from shop_app.database import affected_rows
from shop_app.mirror.rows import (
    Row,
    customer_row,
    event_json,
    fulfillment_order_row,
    fulfillment_row,
    inventory_level_row,
    line_item_row,
    location_row,
    order_row,
    product_row,
    variant_row,
)
from shop_app.mirror.upserts import (
    Spec,
    UpsertResult,
    chunks,
    delete_children_not_in,
    delete_record,
    newest_versions,
    record_deletion,
    replace_children,
    upsert,
    without_deleted,
)
from shop_app.models import (
    Customer,
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

CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
LINE_ITEMS: Table = OrderLineItem.__table__  # type: ignore[attr-defined]
FULFILLMENTS: Table = Fulfillment.__table__  # type: ignore[attr-defined]
FULFILLMENT_ORDERS: Table = FulfillmentOrder.__table__  # type: ignore[attr-defined]
PRODUCTS: Table = Product.__table__  # type: ignore[attr-defined]
VARIANTS: Table = ProductVariant.__table__  # type: ignore[attr-defined]
LOCATIONS: Table = Location.__table__  # type: ignore[attr-defined]
INVENTORY_LEVELS: Table = InventoryLevel.__table__  # type: ignore[attr-defined]
SHOPS: Table = Shop.__table__  # type: ignore[attr-defined]

CUSTOMER_SPEC = Spec(CUSTOMERS, keep_if_null=frozenset({"locale"}))
ORDER_SPEC = Spec(ORDERS, keep_if_null=frozenset({"total_refunded"}))
LINE_ITEM_SPEC = Spec(LINE_ITEMS, guarded=False)
FULFILLMENT_ORDER_SPEC = Spec(FULFILLMENT_ORDERS, guarded=False)
_FULFILLMENT_KEEP = frozenset({"display_status", "estimated_delivery_at", "in_transit_at", "delivered_at"})
FULFILLMENT_SPEC = Spec(FULFILLMENTS, keep_if_null=_FULFILLMENT_KEEP, fill_if_empty=frozenset({"events"}))
# A version without events (REST bodies carry none) keeps the stored ones.
FULFILLMENT_WITHOUT_EVENTS_SPEC = Spec(
    FULFILLMENTS, keep_if_null=_FULFILLMENT_KEEP, insert_only=frozenset({"events"})
)
PRODUCT_SPEC = Spec(PRODUCTS)
VARIANT_SPEC = Spec(VARIANTS, guarded=False)
LOCATION_SPEC = Spec(LOCATIONS)
INVENTORY_LEVEL_SPEC = Spec(
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
    kept = await without_deleted(session, shop_id, "customers", customers)
    region = await _shop_region(session, shop_id)
    rows = [customer_row(shop_id, customer, synced_at, region) for customer in kept]
    result, _ = await upsert(session, CUSTOMER_SPEC, shop_id, rows, authoritative=authoritative)
    return replace(result, stale=result.stale + len(customers) - len(kept))


async def upsert_orders(
    session: AsyncSession,
    *,
    shop_id: int,
    orders: Sequence[resources.Order],
    synced_at: datetime,
    authoritative: bool = False,
) -> UpsertResult:
    newest = newest_versions(orders, key=lambda order: order.shopify_id)
    latest = await without_deleted(session, shop_id, "orders", newest)
    region = await _shop_region(session, shop_id)
    rows = [order_row(shop_id, order, synced_at, region) for order in latest]
    result, written = await upsert(session, ORDER_SPEC, shop_id, rows, authoritative=authoritative)
    written_orders = [
        (written[(order.shopify_id,)], order) for order in latest if (order.shopify_id,) in written
    ]

    with_items = [
        (row_id, order.line_items) for row_id, order in written_orders if order.line_items is not None
    ]
    await replace_children(
        session,
        LINE_ITEM_SPEC,
        shop_id,
        parent_column="order_id",
        parent_ids=[row_id for row_id, _ in with_items],
        rows=[
            line_item_row(shop_id, row_id, item, synced_at, order.currency)
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
    await replace_children(
        session,
        FULFILLMENT_ORDER_SPEC,
        shop_id,
        parent_column="order_id",
        parent_ids=[row_id for row_id, _ in with_fulfillment_orders],
        rows=[
            fulfillment_order_row(shop_id, row_id, fulfillment_order, synced_at)
            for row_id, fulfillment_orders in with_fulfillment_orders
            for fulfillment_order in fulfillment_orders
        ],
    )
    with_fulfillments = [
        (row_id, order.fulfillments) for row_id, order in written_orders if order.fulfillments is not None
    ]
    fulfillments = [(row_id, f) for row_id, group in with_fulfillments for f in group]
    await delete_children_not_in(
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
    for chunk in chunks(list(by_order)):
        found = await session.execute(
            select(ORDERS.c.shopify_id, ORDERS.c.id).where(
                ORDERS.c.shop_id == shop_id, ORDERS.c.shopify_id.in_(chunk)
            )
        )
        for shopify_id, row_id in found:
            rows_by_shopify_id[shopify_id] = row_id
    await replace_children(
        session,
        FULFILLMENT_ORDER_SPEC,
        shop_id,
        parent_column="order_id",
        parent_ids=list(rows_by_shopify_id.values()),
        rows=[
            fulfillment_order_row(shop_id, rows_by_shopify_id[order_id], fulfillment_order, synced_at)
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
    newest = newest_versions(products, key=lambda product: product.shopify_id)
    latest = await without_deleted(session, shop_id, "products", newest)
    rows = [product_row(shop_id, product, synced_at) for product in latest]
    result, written = await upsert(session, PRODUCT_SPEC, shop_id, rows, authoritative=authoritative)
    with_variants = [
        (written[(product.shopify_id,)], product.variants)
        for product in latest
        if (product.shopify_id,) in written and product.variants is not None
    ]
    await replace_children(
        session,
        VARIANT_SPEC,
        shop_id,
        parent_column="product_id",
        parent_ids=[row_id for row_id, _ in with_variants],
        rows=[
            variant_row(shop_id, row_id, variant, synced_at)
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
    rows = [location_row(shop_id, location, synced_at) for location in locations]
    result, _ = await upsert(session, LOCATION_SPEC, shop_id, rows, authoritative=authoritative)
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
    rows = [inventory_level_row(shop_id, level, synced_at) for level in levels]
    result, _ = await upsert(session, INVENTORY_LEVEL_SPEC, shop_id, rows, authoritative=authoritative)
    return result


# Other changes --------------------------------------------------------------------------------------


async def add_fulfillment_event(
    session: AsyncSession,
    *,
    shop_id: int,
    fulfillment_shopify_id: int,
    event: resources.FulfillmentEvent,
    synced_at: datetime,
    estimated_delivery_at: datetime | None = None,
) -> bool:
    """Merge one carrier event into a mirrored fulfillment (idempotent, in any order); False when the
    fulfillment is not mirrored. The event is Shopify's word on the shipment, so ``synced_at`` moves."""
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
    events[event.shopify_id] = event_json(event)
    ordered = sorted(events.values(), key=lambda e: (e["happened_at"], e["id"]))
    values: Row = {"events": ordered, "synced_at": synced_at}
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
    await record_deletion(session, shop_id, "customers", shopify_id)
    return await delete_record(session, CUSTOMERS, shop_id, shopify_id)


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
    await record_deletion(session, shop_id, "orders", shopify_id)
    order_id = await order_row_id(session, shop_id=shop_id, shopify_id=shopify_id)
    if order_id is None:
        return False
    for child in (LINE_ITEMS, FULFILLMENTS, FULFILLMENT_ORDERS):
        await session.execute(delete(child).where(child.c.order_id == order_id))
    return await delete_record(session, ORDERS, shop_id, shopify_id)


async def delete_product(session: AsyncSession, *, shop_id: int, shopify_id: int) -> bool:
    await record_deletion(session, shop_id, "products", shopify_id)
    product_id = await session.scalar(
        select(PRODUCTS.c.id).where(PRODUCTS.c.shop_id == shop_id, PRODUCTS.c.shopify_id == shopify_id)
    )
    if product_id is None:
        return False
    await session.execute(delete(VARIANTS).where(VARIANTS.c.product_id == product_id))
    return await delete_record(session, PRODUCTS, shop_id, shopify_id)


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


# Helpers --------------------------------------------------------------------------------------------


async def _shop_region(session: AsyncSession, shop_id: int) -> str | None:
    """The shop's country: phones written without a country code are read there."""
    return await session.scalar(select(SHOPS.c.country_code).where(SHOPS.c.id == shop_id))


async def _upsert_fulfillment_rows(
    session: AsyncSession,
    shop_id: int,
    fulfillments: Sequence[tuple[int, resources.Fulfillment]],
    synced_at: datetime,
    *,
    authoritative: bool = False,
) -> UpsertResult:
    with_events = [
        fulfillment_row(shop_id, order_id, f, synced_at)
        for order_id, f in fulfillments
        if f.events is not None
    ]
    without_events = [
        fulfillment_row(shop_id, order_id, f, synced_at) for order_id, f in fulfillments if f.events is None
    ]
    first, _ = await upsert(session, FULFILLMENT_SPEC, shop_id, with_events, authoritative=authoritative)
    if first.stale:
        await _merge_missed_events(session, shop_id, with_events)
    second, _ = await upsert(
        session, FULFILLMENT_WITHOUT_EVENTS_SPEC, shop_id, without_events, authoritative=authoritative
    )
    return first + second


async def _merge_missed_events(session: AsyncSession, shop_id: int, rows: Sequence[Row]) -> None:
    """Carrier events are facts with ids that never change: a read older than the stored row (kept for
    its other fields) still brings the events no webhook carried (a shipment's first event has none)."""
    incoming = {row["shopify_id"]: row["events"] for row in rows}
    for chunk in chunks(list(incoming)):
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
