"""The mirror writers on SQLite and (with TEST_DATABASE_URL) PostgreSQL: inserts, newer versions replace
older ones, older ones are ignored, equal ones only confirm, children are replaced, deletions, and two
shops never see each other's rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from integrations.shopify import resources as r
from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.upserts import KEYS_PER_STATEMENT, UpsertResult, chunks
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

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=10)
SYNCED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LATER = SYNCED + timedelta(hours=1)


@dataclass
class Mirror:
    sessions: SessionFactory
    alpha: int
    beta: int

    async def rows(self, model: type[Any], shop_id: int) -> list[Any]:
        async with self.sessions() as session:
            result = await session.execute(select(model).where(model.shop_id == shop_id))
            return sorted(result.scalars(), key=lambda row: row.id)

    async def count(self, model: type[Any]) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def mirror(database_url: str) -> AsyncIterator[Mirror]:
    engine: AsyncEngine = make_engine(database_url)
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        alpha, beta = Shop(domain="alpha.myshopify.com"), Shop(domain="beta.myshopify.com")
        session.add_all([alpha, beta])
        await session.flush()
        assert alpha.id is not None and beta.id is not None
        ids = (alpha.id, beta.id)
    yield Mirror(sessions, *ids)
    await engine.dispose()


def order(shopify_id: int = 1001, updated_at: datetime = T1, **changes: Any) -> r.Order:
    base = r.Order(
        shopify_id=shopify_id,
        name=f"#{shopify_id}",
        number=shopify_id - 1000,
        created_at=T0,
        updated_at=updated_at,
        customer_shopify_id=501,
        email="Hanako@Example.JP ",
        financial_status="PAID",
        fulfillment_status="UNFULFILLED",
        currency="JPY",
        total_price="4980",
        subtotal_price="4980",
        total_refunded="0",
        shipping_address=r.Address(name="山田 花子", city="渋谷区", country_code="JP", phone="090-1234-5678"),
        custom_attributes=(("配送希望日", "2026-11-25"), ("配送時間帯", "14-16")),
        tags=("gift",),
        line_items=(
            r.LineItem(shopify_id=shopify_id * 10 + 1, title="Tee", quantity=1, sku="TEE-S"),
            r.LineItem(shopify_id=shopify_id * 10 + 2, title="Cap", quantity=2, sku="CAP"),
        ),
        fulfillments=(),
        fulfillment_orders=(
            r.FulfillmentOrder(
                shopify_id=shopify_id * 10 + 5,
                status="OPEN",
                line_items=(r.FulfillmentOrderLine(shopify_id * 10 + 1, 1, 1),),
            ),
        ),
    )
    return replace(base, **changes)


def fulfillment(order_id: int = 1001, updated_at: datetime = T1, **changes: Any) -> r.Fulfillment:
    base = r.Fulfillment(
        shopify_id=order_id * 100 + 1,
        order_shopify_id=order_id,
        status="SUCCESS",
        created_at=T1,
        updated_at=updated_at,
        display_status="LABEL_PURCHASED",
        tracking=(r.TrackingInfo(number="1234-5678-9012", company="ヤマト運輸"),),
        line_items=((order_id * 10 + 1, 1),),
    )
    return replace(base, **changes)


def product(updated_at: datetime = T1, **changes: Any) -> r.Product:
    base = r.Product(
        shopify_id=7001,
        title="Tee",
        updated_at=updated_at,
        status="ACTIVE",
        tags=("cotton",),
        options=(("Size", ("S", "M")),),
        variants=(
            r.Variant(
                70011, 7001, "S", sku="TEE-S", inventory_policy="DENY", selected_options=(("Size", "S"),)
            ),
            r.Variant(
                70012, 7001, "M", sku="TEE-M", inventory_policy="CONTINUE", inventory_item_shopify_id=9
            ),
        ),
    )
    return replace(base, **changes)


def customer(updated_at: datetime = T1, **changes: Any) -> r.Customer:
    base = r.Customer(
        shopify_id=501,
        updated_at=updated_at,
        first_name="花子",
        email="  Hanako@Example.JP",
        tags=("VIP",),
        amount_spent=r.Money("4980", "JPY"),
        orders_count=1,
        locale="ja",
    )
    return replace(base, **changes)


async def write_orders(mirror: Mirror, *orders: r.Order, shop_id: int | None = None) -> UpsertResult:
    async with transaction(mirror.sessions) as session:
        return await mirror_writes.upsert_orders(
            session, shop_id=shop_id or mirror.alpha, orders=orders, synced_at=SYNCED
        )


async def test_orders_are_inserted_with_their_children(mirror: Mirror) -> None:
    result = await write_orders(mirror, order(1001), order(1002))

    assert result == UpsertResult(inserted=2, changed_ids=(1001, 1002))
    stored = await mirror.rows(Order, mirror.alpha)
    assert [o.name for o in stored] == ["#1001", "#1002"]
    assert stored[0].email == "hanako@example.jp"
    assert stored[0].custom_attributes == [["配送希望日", "2026-11-25"], ["配送時間帯", "14-16"]]
    assert stored[0].shipping_address["city"] == "渋谷区"
    assert stored[0].synced_at == SYNCED
    assert len(await mirror.rows(OrderLineItem, mirror.alpha)) == 4
    [first_fo, _] = await mirror.rows(FulfillmentOrder, mirror.alpha)
    assert first_fo.line_items == [{"line_item_id": 10011, "remaining_quantity": 1, "total_quantity": 1}]


async def test_a_newer_order_replaces_the_stored_one_and_an_older_one_is_ignored(mirror: Mirror) -> None:
    await write_orders(mirror, order(updated_at=T1))

    newer = await write_orders(mirror, order(updated_at=T2, financial_status="REFUNDED"))
    older = await write_orders(mirror, order(updated_at=T0, financial_status="PENDING", line_items=()))

    assert newer == UpsertResult(updated=1, changed_ids=(1001,))
    assert older == UpsertResult(stale=1)
    [stored] = await mirror.rows(Order, mirror.alpha)
    assert stored.financial_status == "REFUNDED"
    assert stored.updated_at == T2
    assert len(await mirror.rows(OrderLineItem, mirror.alpha)) == 2  # the stale version's children ignored


async def test_a_second_change_within_the_same_second_is_applied(mirror: Mirror) -> None:
    # Shopify's updated_at has whole seconds: a later change in the same second carries the same time.
    await write_orders(mirror, order())
    async with transaction(mirror.sessions) as session:
        result = await mirror_writes.upsert_orders(
            session, shop_id=mirror.alpha, orders=[order(note="changed in the same second")], synced_at=LATER
        )

    assert result == UpsertResult(unchanged=1)
    [stored] = await mirror.rows(Order, mirror.alpha)
    assert stored.note == "changed in the same second"
    assert stored.synced_at == LATER


async def test_children_are_replaced_and_kept_when_the_collection_is_absent(mirror: Mirror) -> None:
    await write_orders(mirror, order(fulfillments=(fulfillment(),)))
    item = r.LineItem(shopify_id=10019, title="Socks", quantity=3)

    await write_orders(
        mirror, order(updated_at=T2, line_items=(item,), fulfillment_orders=None, fulfillments=None)
    )

    assert [(i.shopify_id, i.title) for i in await mirror.rows(OrderLineItem, mirror.alpha)] == [
        (10019, "Socks")
    ]
    assert len(await mirror.rows(FulfillmentOrder, mirror.alpha)) == 1
    assert len(await mirror.rows(Fulfillment, mirror.alpha)) == 1

    await write_orders(
        mirror, order(updated_at=T2 + timedelta(seconds=1), fulfillment_orders=(), fulfillments=())
    )
    assert await mirror.rows(FulfillmentOrder, mirror.alpha) == []
    assert await mirror.rows(Fulfillment, mirror.alpha) == []


async def test_fulfillment_tracking_splits_comma_joined_numbers(mirror: Mirror) -> None:
    await write_orders(mirror, order())
    shipped = fulfillment(
        tracking=(
            r.TrackingInfo(number="111122223333, 444455556666、777788889999", company="佐川急便"),
            r.TrackingInfo(number="1Z999", company="UPS", url="https://ups.example/1Z999"),
        )
    )
    async with transaction(mirror.sessions) as session:
        result = await mirror_writes.upsert_fulfillment(
            session, shop_id=mirror.alpha, fulfillment=shipped, synced_at=SYNCED
        )

    assert result == UpsertResult(inserted=1, changed_ids=(100101,))
    [stored] = await mirror.rows(Fulfillment, mirror.alpha)
    assert stored.tracking == [
        {"company": "佐川急便", "number": "111122223333", "url": None},
        {"company": "佐川急便", "number": "444455556666", "url": None},
        {"company": "佐川急便", "number": "777788889999", "url": None},
        {"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"},
    ]
    assert stored.line_items == [[10011, 1]]


async def test_a_fulfillment_of_an_order_not_mirrored_is_not_written(mirror: Mirror) -> None:
    async with transaction(mirror.sessions) as session:
        result = await mirror_writes.upsert_fulfillment(
            session, shop_id=mirror.alpha, fulfillment=fulfillment(order_id=4242), synced_at=SYNCED
        )
    assert result == UpsertResult()
    assert await mirror.count(Fulfillment) == 0


async def test_fulfillment_versions_follow_their_own_updated_at_and_keep_unknown_fields(
    mirror: Mirror,
) -> None:
    event = r.FulfillmentEvent(shopify_id=1, status="IN_TRANSIT", happened_at=T1, message="発送")
    await write_orders(mirror, order(fulfillments=(fulfillment(updated_at=T2, events=(event,)),)))

    async with transaction(mirror.sessions) as session:
        older = await mirror_writes.upsert_fulfillment(
            session,
            shop_id=mirror.alpha,
            fulfillment=fulfillment(updated_at=T1, status="CANCELLED"),
            synced_at=LATER,
        )
        newer = await mirror_writes.upsert_fulfillment(  # a REST body: no events, no display status
            session,
            shop_id=mirror.alpha,
            fulfillment=fulfillment(updated_at=T2 + timedelta(seconds=1), display_status=None),
            synced_at=LATER,
        )

    assert older == UpsertResult(stale=1)
    assert newer == UpsertResult(updated=1, changed_ids=(100101,))
    [stored] = await mirror.rows(Fulfillment, mirror.alpha)
    assert stored.status == "SUCCESS"
    assert stored.display_status == "LABEL_PURCHASED"
    assert [e["status"] for e in stored.events] == ["IN_TRANSIT"]


async def test_fulfillment_events_merge_in_any_order(mirror: Mirror) -> None:
    await write_orders(mirror, order(fulfillments=(fulfillment(events=None),)))
    delivered = r.FulfillmentEvent(shopify_id=2, status="DELIVERED", happened_at=T2)
    in_transit = r.FulfillmentEvent(shopify_id=1, status="IN_TRANSIT", happened_at=T1)

    async with transaction(mirror.sessions) as session:
        for event in (delivered, in_transit, delivered):
            assert await mirror_writes.add_fulfillment_event(
                session, shop_id=mirror.alpha, fulfillment_shopify_id=100101, event=event, synced_at=T2
            )
        assert not await mirror_writes.add_fulfillment_event(
            session, shop_id=mirror.beta, fulfillment_shopify_id=100101, event=event, synced_at=T2
        )

    [stored] = await mirror.rows(Fulfillment, mirror.alpha)
    assert [e["id"] for e in stored.events] == [1, 2]
    assert stored.synced_at == T2  # the event is Shopify's word on the shipment: the profile's freshness
    assert stored.in_transit_at == T1
    assert stored.delivered_at == T2


async def test_the_estimated_delivery_follows_the_latest_event_only(mirror: Mirror) -> None:
    # given: a shipment in transit, due in two days
    await write_orders(mirror, order(fulfillments=(fulfillment(events=None),)))
    due = T0 + timedelta(days=2)
    in_transit = r.FulfillmentEvent(shopify_id=1, status="IN_TRANSIT", happened_at=T1)
    delivered = r.FulfillmentEvent(shopify_id=2, status="DELIVERED", happened_at=T2)

    async def add(event: r.FulfillmentEvent, estimated: datetime | None) -> None:
        async with transaction(mirror.sessions) as session:
            await mirror_writes.add_fulfillment_event(
                session,
                shop_id=mirror.alpha,
                fulfillment_shopify_id=100101,
                event=event,
                synced_at=T2,
                estimated_delivery_at=estimated,
            )

    async def estimate() -> datetime | None:
        [stored] = await mirror.rows(Fulfillment, mirror.alpha)
        return stored.estimated_delivery_at

    await add(in_transit, due)
    assert await estimate() == due
    # when: delivered, the estimate is gone; the in-transit event replayed late does not bring it back
    await add(delivered, None)
    assert await estimate() is None
    await add(in_transit, due)
    assert await estimate() is None


async def test_customers_are_stored_with_a_normalised_email(mirror: Mirror) -> None:
    async with transaction(mirror.sessions) as session:
        first = await mirror_writes.upsert_customers(
            session, shop_id=mirror.alpha, customers=[customer()], synced_at=SYNCED
        )
        again = await mirror_writes.upsert_customers(
            session,
            shop_id=mirror.alpha,
            customers=[customer(updated_at=T2, locale=None, tags=())],
            synced_at=SYNCED,
        )
        stale = await mirror_writes.upsert_customers(
            session,
            shop_id=mirror.alpha,
            customers=[customer(updated_at=T0, first_name="X")],
            synced_at=SYNCED,
        )
    assert first == UpsertResult(inserted=1, changed_ids=(501,))
    assert again == UpsertResult(updated=1, changed_ids=(501,))
    assert stale == UpsertResult(stale=1)
    [stored] = await mirror.rows(Customer, mirror.alpha)
    assert stored.email == "hanako@example.jp"
    assert stored.tags == []
    assert stored.locale == "ja"  # unknown in the newer version: kept
    assert (stored.amount_spent, stored.currency) == ("4980", "JPY")


async def test_products_replace_their_variants(mirror: Mirror) -> None:
    async with transaction(mirror.sessions) as session:
        await mirror_writes.upsert_products(
            session, shop_id=mirror.alpha, products=[product()], synced_at=SYNCED
        )
        result = await mirror_writes.upsert_products(
            session,
            shop_id=mirror.alpha,
            products=[product(updated_at=T2, variants=(r.Variant(70013, 7001, "L", sku="TEE-L"),))],
            synced_at=SYNCED,
        )
    assert result == UpsertResult(updated=1, changed_ids=(7001,))
    [stored] = await mirror.rows(Product, mirror.alpha)
    assert stored.options == [{"name": "Size", "values": ["S", "M"]}]
    assert [v.sku for v in await mirror.rows(ProductVariant, mirror.alpha)] == ["TEE-L"]


async def test_inventory_levels_and_locations(mirror: Mirror) -> None:
    level = r.InventoryLevel(9, 31, T1, available=5, on_hand=7, committed=2, incoming=0)
    async with transaction(mirror.sessions) as session:
        locations = await mirror_writes.upsert_locations(
            session, shop_id=mirror.alpha, locations=[r.Location(31, "東京倉庫")], synced_at=SYNCED
        )
        renamed = await mirror_writes.upsert_locations(
            session, shop_id=mirror.alpha, locations=[r.Location(31, "東京倉庫2")], synced_at=SYNCED
        )
        first = await mirror_writes.upsert_inventory_levels(
            session, shop_id=mirror.alpha, levels=[level], synced_at=SYNCED
        )
        # a REST inventory_levels/update carries only "available"
        newer = await mirror_writes.upsert_inventory_levels(
            session,
            shop_id=mirror.alpha,
            levels=[r.InventoryLevel(9, 31, T2, available=4), r.InventoryLevel(9, 32, T0, available=1)],
            synced_at=SYNCED,
        )
        stale = await mirror_writes.upsert_inventory_levels(
            session, shop_id=mirror.alpha, levels=[replace(level, available=99)], synced_at=SYNCED
        )
    assert locations == UpsertResult(inserted=1, changed_ids=(31,))
    assert renamed == UpsertResult(updated=1, changed_ids=(31,))
    assert first == UpsertResult(inserted=1, changed_ids=(9,))
    assert newer == UpsertResult(inserted=1, updated=1, changed_ids=(9, 9))
    assert stale == UpsertResult(stale=1)
    [at_31, at_32] = await mirror.rows(InventoryLevel, mirror.alpha)
    assert (at_31.available, at_31.on_hand, at_31.committed) == (4, 7, 2)
    assert at_32.available == 1
    [location] = await mirror.rows(Location, mirror.alpha)
    assert location.name == "東京倉庫2"

    async with transaction(mirror.sessions) as session:
        gone = await mirror_writes.delete_inventory_levels(
            session, shop_id=mirror.alpha, inventory_item_shopify_id=9, location_shopify_id=32
        )
    assert gone == 1
    assert len(await mirror.rows(InventoryLevel, mirror.alpha)) == 1


async def test_deletions_remove_the_row_and_its_children(mirror: Mirror) -> None:
    await write_orders(mirror, order(fulfillments=(fulfillment(),)))
    async with transaction(mirror.sessions) as session:
        await mirror_writes.upsert_products(
            session, shop_id=mirror.alpha, products=[product()], synced_at=SYNCED
        )
        await mirror_writes.upsert_customers(
            session, shop_id=mirror.alpha, customers=[customer()], synced_at=SYNCED
        )

    async with transaction(mirror.sessions) as session:
        assert await mirror_writes.delete_order(session, shop_id=mirror.alpha, shopify_id=1001)
        assert await mirror_writes.delete_product(session, shop_id=mirror.alpha, shopify_id=7001)
        assert await mirror_writes.delete_customer(session, shop_id=mirror.alpha, shopify_id=501)
        assert not await mirror_writes.delete_order(session, shop_id=mirror.alpha, shopify_id=1001)

    for model in (Order, OrderLineItem, Fulfillment, FulfillmentOrder, Product, ProductVariant, Customer):
        assert await mirror.count(model) == 0, model


async def test_two_shops_with_the_same_shopify_ids_are_kept_apart(mirror: Mirror) -> None:
    await write_orders(mirror, order(total_price="100"))
    result = await write_orders(mirror, order(updated_at=T0, total_price="200"), shop_id=mirror.beta)

    assert result == UpsertResult(inserted=1, changed_ids=(1001,))
    [alpha] = await mirror.rows(Order, mirror.alpha)
    [beta] = await mirror.rows(Order, mirror.beta)
    assert (alpha.total_price, beta.total_price) == ("100", "200")
    assert len(await mirror.rows(OrderLineItem, mirror.beta)) == 2

    async with transaction(mirror.sessions) as session:
        await mirror_writes.delete_order(session, shop_id=mirror.beta, shopify_id=1001)
    assert len(await mirror.rows(Order, mirror.alpha)) == 1
    assert len(await mirror.rows(OrderLineItem, mirror.alpha)) == 2


async def test_a_page_repeating_one_order_keeps_the_newest(mirror: Mirror) -> None:
    result = await write_orders(mirror, order(updated_at=T2, note="new"), order(updated_at=T1, note="old"))
    assert result == UpsertResult(inserted=1, changed_ids=(1001,))
    [stored] = await mirror.rows(Order, mirror.alpha)
    assert stored.note == "new"


async def test_a_large_page_is_written_in_few_statements(mirror: Mirror) -> None:
    page = [order(2000 + n) for n in range(600)]
    result = await write_orders(mirror, *page)
    assert result.inserted == 600
    assert await mirror.count(OrderLineItem) == 1200
    again = await write_orders(mirror, *page)
    assert again == UpsertResult(unchanged=600)


@pytest.mark.parametrize("resource", ["orders", "customers", "products"])
async def test_a_deleted_record_is_not_brought_back_by_a_late_update(mirror: Mirror, resource: str) -> None:
    # given: the record is written, then Shopify deletes it
    records = {
        "orders": (order(), mirror_writes.upsert_orders, "orders", mirror_writes.delete_order, Order),
        "customers": (
            r.Customer(shopify_id=7001, updated_at=T1, email="late@example.com"),
            mirror_writes.upsert_customers,
            "customers",
            mirror_writes.delete_customer,
            Customer,
        ),
        "products": (
            r.Product(shopify_id=8001, title="Scarf", updated_at=T1),
            mirror_writes.upsert_products,
            "products",
            mirror_writes.delete_product,
            Product,
        ),
    }
    record, upsert, keyword, remove, model = records[resource]
    async with transaction(mirror.sessions) as session:
        await upsert(session, shop_id=mirror.alpha, synced_at=LATER, **{keyword: [record]})
        assert await remove(session, shop_id=mirror.alpha, shopify_id=record.shopify_id)

    # when: an update from before the deletion arrives late, then is replayed
    for _ in range(2):
        async with transaction(mirror.sessions) as session:
            result = await upsert(session, shop_id=mirror.alpha, synced_at=LATER, **{keyword: [record]})
        assert result == UpsertResult(stale=1)

    # then
    assert await mirror.rows(model, mirror.alpha) == []


def test_statements_take_a_bounded_number_of_shapes_whatever_the_batch_sizes() -> None:
    # each distinct row count is a distinct statement the driver keeps prepared: a long import must not
    # make a new one for every batch size it meets
    sizes: set[int] = set()
    for count in range(1, 2 * KEYS_PER_STATEMENT + 3):
        items = list(range(count))
        pieces = list(chunks(items))
        assert [item for piece in pieces for item in piece] == items
        sizes.update(len(piece) for piece in pieces)
    assert len(sizes) <= KEYS_PER_STATEMENT.bit_length() + 1, sorted(sizes)
