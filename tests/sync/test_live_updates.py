# ruff: noqa: F811  (fixtures imported from other test modules)
"""Live updates: signed webhooks through the HTTP endpoint, and the simulated store's own activity, reach
the mirror; duplicated and reordered deliveries never leave an older version behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from devstore.generator.ids import legacy_id
from integrations.shopify.graphql_resources import id_from_gid
from shop_app.models import (
    Customer,
    DeliveryStatus,
    Fulfillment,
    FulfillmentOrder,
    InventoryLevel,
    Order,
    OrderLineItem,
    Product,
    ProductVariant,
    Shop,
    SyncState,
)
from shop_app.runtime import Services
from tests.app.conftest import ALPHA, BETA, PAYLOADS, RunningApp, TwoShops, app, shops  # noqa: F401
from tests.test_install_against_devstore import SHOP, World, installed  # noqa: F401

ORDER_ID = 820982911946154508


def body(name: str, **changes: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    loaded.update(changes)
    return loaded


def order_body(updated_at: str, **changes: Any) -> dict[str, Any]:
    return body("Order.json", updated_at=updated_at, cancelled_at=None, cancel_reason=None, **changes)


async def send(
    app: RunningApp, topic: str, shop: str, payload: dict[str, Any], event_id: str | None = None
) -> None:
    response = await app.webhook(topic, shop, json.dumps(payload).encode(), event_id=event_id)
    assert response.status_code == 200, response.text


@dataclass
class FakeRefresh:
    calls: list[tuple[str, list[int]]] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, services: Services, *, shop: Shop, order_ids: Sequence[int]) -> int:
        if self.fail:
            raise RuntimeError("Shopify is down")
        self.calls.append((shop.domain, list(order_ids)))
        return len(order_ids)


@pytest.fixture
def refresh(monkeypatch: pytest.MonkeyPatch) -> FakeRefresh:
    fake = FakeRefresh()
    monkeypatch.setattr("shop_app.mirror.read_back.refresh_orders", fake)
    return fake


@dataclass
class FakeReads:
    """Records the reads from Shopify that webhooks ask for, by reader name."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
        for name in names:

            async def read(services: Services, *, shop: Shop, _name: str = name, **arguments: Any) -> int:
                self.calls.append((_name, shop.domain, arguments))
                return 0

            monkeypatch.setattr(f"shop_app.mirror.read_back.{name}", read)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> FakeReads:
    fake = FakeReads()
    fake.install(monkeypatch, "refresh_fulfillment_orders", "refresh_inventory_items", "refresh_shipment")
    return fake


async def test_order_webhooks_in_any_order_leave_the_newest_version(app: RunningApp, shops: TwoShops) -> None:
    # given: the newest version arrives first, then an older one, then the newest again (a retry)
    await send(app, "orders/updated", ALPHA, order_body("2026-11-20T10:00:00+09:00", note="newest"), "e-2")
    await send(app, "orders/create", ALPHA, order_body("2026-11-20T09:00:00+09:00", note="oldest"), "e-1")
    await send(app, "orders/updated", ALPHA, order_body("2026-11-20T10:00:00+09:00", note="newest"), "e-2")
    await send(app, "orders/paid", BETA, order_body("2026-11-20T08:00:00+09:00", note="beta"))
    # when
    await app.drain()
    # then
    [order] = await app.rows(Order, shops.alpha)
    assert order.shopify_id == ORDER_ID
    assert order.note == "newest"
    assert order.cancelled_at is None
    assert len(await app.rows(OrderLineItem, shops.alpha)) == 2
    [beta_order] = await app.rows(Order, shops.beta)
    assert beta_order.note == "beta"
    assert {d.status for d in await app.deliveries(shops.alpha)} == {DeliveryStatus.DONE}
    [state] = await app.rows(SyncState, shops.alpha)
    assert state.last_webhook_at is not None


async def test_cancellation_updates_the_order_and_deletion_removes_it(
    app: RunningApp, shops: TwoShops, reads: FakeReads
) -> None:
    await send(app, "orders/create", ALPHA, order_body("2026-11-20T09:00:00Z"))
    await send(app, "orders/cancelled", ALPHA, body("Order.json", updated_at="2026-11-20T10:00:00Z"))
    await app.drain()
    [order] = await app.rows(Order, shops.alpha)
    assert order.cancel_reason == "CUSTOMER"
    assert order.financial_status == "VOIDED"

    await send(app, "orders/delete", ALPHA, {"id": ORDER_ID})
    await app.drain()
    assert await app.rows(Order, shops.alpha) == []
    assert await app.rows(OrderLineItem, shops.alpha) == []


async def test_fulfillment_of_a_mirrored_order_and_its_events(
    app: RunningApp,
    shops: TwoShops,
    refresh: FakeRefresh,
) -> None:
    await send(app, "orders/create", ALPHA, order_body("2026-11-20T09:00:00Z"))
    shipped = body(
        "Fulfillment.json",
        order_id=ORDER_ID,
        status="success",
        tracking_company="ヤマト運輸",
        tracking_numbers=["1111-2222-3333,4444-5555-6666"],
        tracking_urls=[],
        tracking_url=None,
    )
    await send(app, "fulfillments/create", ALPHA, shipped)
    await send(app, "fulfillment_events/create", ALPHA, body("FulfillmentEventsCreate.json"))
    await app.drain()

    [fulfillment] = await app.rows(Fulfillment, shops.alpha)
    assert fulfillment.status == "SUCCESS"
    assert fulfillment.tracking == [
        {"company": "ヤマト運輸", "number": "1111-2222-3333", "url": None},
        {"company": "ヤマト運輸", "number": "4444-5555-6666", "url": None},
    ]
    assert [e["status"] for e in fulfillment.events] == ["IN_TRANSIT"]
    # the new shipment came with no events of its own: the order was read whole once
    assert refresh.calls == [(ALPHA, [ORDER_ID])]

    await send(app, "fulfillments/update", ALPHA, shipped)
    await app.drain()

    assert refresh.calls == [(ALPHA, [ORDER_ID])]  # its events are mirrored now: no second read


async def test_what_a_body_cannot_tell_is_fetched_from_shopify(
    app: RunningApp,
    shops: TwoShops,
    refresh: FakeRefresh,
) -> None:
    # a fulfillment of an order not mirrored yet, a refund, an edit
    await send(app, "fulfillments/create", ALPHA, body("Fulfillment.json", order_id=42))
    await send(app, "refunds/create", ALPHA, body("Refund.json", order_id=43))
    await send(app, "orders/edited", ALPHA, body("OrderEdited.json"))
    await app.drain()

    assert sorted(refresh.calls) == [(ALPHA, [42]), (ALPHA, [43]), (ALPHA, [820982911946154500])]
    assert {d.status for d in await app.deliveries(shops.alpha)} == {DeliveryStatus.DONE}
    assert await app.rows(Fulfillment, shops.alpha) == []


async def test_a_failed_fetch_leaves_the_delivery_to_retry(
    app: RunningApp,
    shops: TwoShops,
    refresh: FakeRefresh,
) -> None:
    refresh.fail = True
    await app.pause_jobs()
    await send(app, "refunds/create", ALPHA, body("Refund.json"))
    [delivery] = await app.deliveries(shops.alpha)
    from shop_app.mirror.webhooks.processing import _process_claimed

    async with app.services.sessions() as session, session.begin():
        from shop_app.mirror.webhooks.inbox import claim_deliveries, new_holder

        assert delivery.id is not None
        await claim_deliveries(session, [delivery.id], holder=new_holder())
    retry = await _process_claimed(app.services, delivery.id, "refunds/create")

    assert retry is True
    [after] = await app.deliveries(shops.alpha)
    assert after.status == DeliveryStatus.PENDING
    assert after.body is not None


async def test_what_no_body_carries_is_read_after_the_webhooks_that_say_it_changed(
    app: RunningApp, shops: TwoShops, reads: FakeReads
) -> None:
    # when: a hold, a cancellation, a stock change and a new shipment
    await send(app, "fulfillment_orders/placed_on_hold", ALPHA, body("FulfillmentOrdersPlacedOnHold.json"))
    await send(app, "fulfillment_orders/cancelled", ALPHA, body("FulfillmentOrdersCancelled.json"))
    await send(app, "orders/cancelled", ALPHA, body("Order.json", updated_at="2026-11-20T10:00:00Z"))
    await send(app, "inventory_levels/update", ALPHA, body("InventoryLevel.json", available=4))
    shipment = body("Fulfillment.json", order_id=ORDER_ID)
    await send(app, "fulfillments/create", ALPHA, shipment)
    await app.drain()
    shipped_lines = [id_from_gid(line["admin_graphql_api_id"]) for line in shipment["line_items"]]

    # then: each body was applied, and what it could not tell was read once, for the right shop
    assert sorted(reads.calls, key=repr) == sorted(
        [
            ("refresh_fulfillment_orders", ALPHA, {"gids": ["gid://shopify/FulfillmentOrder/1"]}),
            (
                "refresh_fulfillment_orders",
                ALPHA,
                {"gids": ["gid://shopify/FulfillmentOrder/1", "gid://shopify/FulfillmentOrder/2"]},
            ),
            ("refresh_fulfillment_orders", ALPHA, {"gids": [f"gid://shopify/Order/{ORDER_ID}"]}),
            ("refresh_inventory_items", ALPHA, {"item_ids": [271878346596884015]}),
            ("refresh_shipment", ALPHA, {"order_id": ORDER_ID, "line_item_ids": shipped_lines}),
        ],
        key=repr,
    )
    assert {d.status for d in await app.deliveries(shops.alpha)} == {DeliveryStatus.DONE}
    [order] = await app.rows(Order, shops.alpha)
    assert order.cancel_reason == "CUSTOMER"
    [stock] = await app.rows(InventoryLevel, shops.alpha)
    assert stock.available == 4


async def test_a_fulfillment_order_body_naming_none_fails_for_good(
    app: RunningApp, shops: TwoShops, reads: FakeReads
) -> None:
    await send(
        app, "fulfillment_orders/hold_released", ALPHA, {"fulfillment_order": {"id": "gid://shopify/Order/1"}}
    )
    await app.drain()
    [delivery] = await app.deliveries(shops.alpha)
    assert delivery.status == DeliveryStatus.FAILED
    assert reads.calls == []


async def test_customers_products_and_stock(app: RunningApp, shops: TwoShops) -> None:
    await send(app, "customers/create", ALPHA, body("CustomersCreate.json", email=" Bob@Biller.COM"))
    await send(app, "products/create", ALPHA, body("Product.json"))
    level = body("InventoryLevel.json", available=7)
    await send(app, "inventory_levels/connect", ALPHA, level)
    await send(
        app, "inventory_levels/update", ALPHA, {**level, "available": 3, "updated_at": "2020-01-01T00:00:00Z"}
    )
    await app.drain()

    [customer] = await app.rows(Customer, shops.alpha)
    assert customer.email == "bob@biller.com"
    assert len(await app.rows(ProductVariant, shops.alpha)) == 2
    [stock] = await app.rows(InventoryLevel, shops.alpha)
    assert stock.available == 7  # the older update was ignored

    await send(app, "customers/delete", ALPHA, body("CustomersDelete.json"))
    await send(app, "products/delete", ALPHA, {"id": 788032119674292922})
    await send(
        app,
        "inventory_levels/disconnect",
        ALPHA,
        {"inventory_item_id": 271878346596884015, "location_id": 24826418},
    )
    await app.drain()
    for model in (Customer, Product, ProductVariant, InventoryLevel):
        assert await app.rows(model, shops.alpha) == [], model


async def test_a_malformed_body_fails_for_good(app: RunningApp, shops: TwoShops) -> None:
    await send(app, "orders/updated", ALPHA, {"id": "not a number"})
    await app.drain()
    [delivery] = await app.deliveries(shops.alpha)
    assert delivery.status == DeliveryStatus.FAILED
    assert await app.rows(Order, shops.alpha) == []


async def test_the_stores_activity_reaches_the_mirror(installed: World) -> None:
    store = installed.store.activity
    sessions = installed.services.sessions

    async def mirrored(model: type[Any], shopify_id: int) -> Any:
        async with sessions() as session:
            result = await session.execute(select(model).where(model.shopify_id == shopify_id))
            return result.scalars().first()

    # a new order
    placed = await store.create_order(SHOP, paid=True)
    order_id = legacy_id(placed.subject)

    async def order_mirrored() -> bool:
        return await mirrored(Order, order_id) is not None

    await installed.until(order_mirrored)

    # shipped, then moved along by the carrier (a second later each: Shopify's updated_at has whole
    # seconds, and two versions with one updated_at are taken as the same)
    await asyncio.sleep(1.05)
    await store.fulfil(SHOP, placed.subject, partial=False)
    doc = installed.store.store.records.get(SHOP, placed.subject)
    fulfillment_id = legacy_id(doc["fulfillments"][-1]["id"])

    async def shipped() -> bool:
        row = await mirrored(Fulfillment, fulfillment_id)
        order = await mirrored(Order, order_id)
        return row is not None and order.fulfillment_status == "FULFILLED"

    await installed.until(shipped)
    await asyncio.sleep(1.05)
    await store.advance_shipment(SHOP, placed.subject, status="IN_TRANSIT")

    async def in_transit() -> bool:
        row = await mirrored(Fulfillment, fulfillment_id)
        return any(e["status"] == "IN_TRANSIT" for e in row.events)

    await installed.until(in_transit)
    doc = installed.store.store.records.get(SHOP, placed.subject)
    row = await mirrored(Fulfillment, fulfillment_id)
    numbers = [
        number.strip()
        for info in doc["fulfillments"][-1].get("trackingInfo") or []
        for number in info["number"].split(",")
    ]
    assert [t["number"] for t in row.tracking] == numbers
    order = await mirrored(Order, order_id)
    assert order.updated_at.isoformat().replace("+00:00", "Z") == doc["updatedAt"]


async def test_holds_shipments_and_stock_follow_the_store_without_a_sweep(installed: World) -> None:
    """Fulfillment orders and the on_hand and committed quantities come in no webhook body: the reads
    after fulfillment_orders/*, fulfillments/create and inventory_levels/* keep them exact."""
    store = installed.store.activity
    records = installed.store.store.records
    sessions = installed.services.sessions

    async def rows(model: type[Any]) -> list[Any]:
        async with sessions() as session:
            return list((await session.execute(select(model))).scalars())

    async def fulfillment_orders_match(order_gid: str) -> bool:
        doc = records.get(SHOP, order_gid)
        order = next((o for o in await rows(Order) if o.shopify_id == legacy_id(order_gid)), None)
        if order is None:
            return False
        mirrored = {
            fo.shopify_id: (
                fo.status,
                sorted((x["line_item_id"], x["remaining_quantity"]) for x in fo.line_items),
            )
            for fo in await rows(FulfillmentOrder)
            if fo.order_id == order.id
        }
        return mirrored == {
            legacy_id(fo["id"]): (
                fo["status"],
                sorted((legacy_id(x["lineItem"]), x["remainingQuantity"]) for x in fo["lineItems"]),
            )
            for fo in doc["fulfillmentOrders"]
        }

    async def stock_matches(order_gid: str) -> bool:
        doc = records.get(SHOP, order_gid)
        items = {item["_inventoryItem"] for item in doc["lineItems"]}
        levels = {
            (row.inventory_item_shopify_id, row.location_shopify_id): row
            for row in await rows(InventoryLevel)
        }
        for product in records.iter_type(SHOP, "Product"):
            for variant in product["variants"]:
                item = variant["inventoryItem"]
                if item["id"] not in items:
                    continue
                for level in item["inventoryLevels"]:
                    row = levels.get((legacy_id(item["id"]), legacy_id(level["location"])))
                    quantities = {q["name"]: q["quantity"] for q in level["quantities"]}
                    if row is None or (row.available, row.on_hand, row.committed) != (
                        quantities["available"],
                        quantities["on_hand"],
                        quantities["committed"],
                    ):
                        return False
        return True

    # a new paid order: its fulfillment orders (routing complete) and committed stock
    placed = await store.create_order(SHOP, paid=True)
    await installed.until(lambda: fulfillment_orders_match(placed.subject))
    await installed.until(lambda: stock_matches(placed.subject))

    # put on hold, then shipped (the hold released first)
    await asyncio.sleep(1.05)
    await store.hold(SHOP, placed.subject)
    await installed.until(lambda: fulfillment_orders_match(placed.subject))
    assert {fo["status"] for fo in records.get(SHOP, placed.subject)["fulfillmentOrders"]} == {"ON_HOLD"}
    await asyncio.sleep(1.05)
    await store.fulfil(SHOP, placed.subject, partial=False)
    await installed.until(lambda: fulfillment_orders_match(placed.subject))
    await installed.until(lambda: stock_matches(placed.subject))
    assert {fo["status"] for fo in records.get(SHOP, placed.subject)["fulfillmentOrders"]} == {"CLOSED"}
