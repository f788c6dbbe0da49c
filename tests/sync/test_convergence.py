"""Convergence: while the store changes orders, shipments, refunds, stock and customers, its webhooks arrive
duplicated, reordered, late or not at all; after the deliveries settle (and, when some were dropped, one
reconciliation sweep) the mirror equals the store field by field, no duplicate was applied twice and no
older version was left behind."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from devstore.activity import NothingToChange
from devstore.config import StoreConfig
from devstore.server import create_store_app
from shop_app.main import create_app
from shop_app.mirror.reconciliation import reconcile_shop
from shop_app.models import (
    Customer,
    Fulfillment,
    InventoryLevel,
    Order,
    ProductVariant,
    WebhookDelivery,
)
from shop_app.settings import Settings
from tests.conftest import TEST_API_KEY, TEST_API_SECRET, with_lifespan_state
from tests.sync.mirror_equality import assert_mirror_equals_store
from tests.sync.test_backfill import (
    APP_HOST,
    APP_URL,
    CUSTOMERS,
    ORDERS,
    OTHER_SHOP,
    PRODUCTS,
    SHOP,
    STORE_HOST,
    HostRouter,
    World,
    _num,
    _rows,
    _when,
    install,
    shop_id,
)

CHANGES = 60
# Each change is followed by a pause longer than a second: Shopify's ``updated_at`` has second precision,
# so two changes of one record within the same second cannot be ordered by it (see the report of issue 4).
ACTIONS = (
    "create_order",
    "fulfil",
    "advance_shipment",
    "advance_shipment",
    "refund",
    "cancel",
    "adjust_stock",
    "update_customer",
    "mark_paid",
)
EVERY_FAULT = {
    "duplicate_rate": 0.3,
    "drop_rate": 0.2,
    "reorder_window_seconds": 0.4,
    "delay_seconds": 0.05,
    "seed": 4,
}
NO_LOSS = {"duplicate_rate": 0.4, "drop_rate": 0.0, "reorder_window_seconds": 0.4, "seed": 5}


class StoreClock:
    """The store's clock: real time plus one second per change, so every change gets its own second
    without the test sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@asynccontextmanager
async def clocked_world(settings: Settings, data_dir: Path, clock: StoreClock) -> AsyncIterator[World]:
    """``tests.sync.test_backfill.sync_world`` with the store on ``clock``."""
    router = HostRouter()
    store_config = StoreConfig(
        data_dir=data_dir,
        public_url=f"http://{STORE_HOST}",
        apps={TEST_API_KEY: TEST_API_SECRET},
        compliance_urls={TEST_API_KEY: f"{APP_URL}/webhooks/compliance"},
        app_urls={TEST_API_KEY: f"{APP_URL}/app"},
        auto_approve=True,
        orders=ORDERS,
        customers=CUSTOMERS,
        products=PRODUCTS,
        webhook_time_scale=0.0001,
    )
    app_settings = replace(
        settings,
        app_url=APP_URL,
        shop_url_template=f"http://{STORE_HOST}/s/{{shop}}",
        register_webhooks=True,
        reconcile_interval_seconds=0,
    )
    async with (
        httpx.AsyncClient(transport=router) as store_http,
        httpx.AsyncClient(transport=router) as app_http,
        httpx.AsyncClient(transport=router, follow_redirects=True) as browser,
    ):
        store_app = create_store_app(store_config, http=store_http, clock=clock)
        app = create_app(app_settings, http=app_http)
        async with store_app.router.lifespan_context(store_app), app.router.lifespan_context(app) as state:
            assert state is not None
            router.hosts[STORE_HOST] = httpx.ASGITransport(app=store_app)
            router.hosts[APP_HOST] = httpx.ASGITransport(app=with_lifespan_state(app, dict(state)))
            yield World(
                browser=browser, services=state["services"], jobs=state["jobs"], store=store_app.state
            )


@pytest.fixture
async def clock() -> StoreClock:
    return StoreClock()


@pytest.fixture
async def synced(settings: Settings, tmp_path: Path, clock: StoreClock) -> AsyncIterator[World]:
    async with clocked_world(settings, tmp_path / "store", clock) as running:
        await install(running, SHOP, OTHER_SHOP)
        yield running


async def webhook_faults(world: World, **faults: Any) -> None:
    response = await world.browser.post(f"http://{STORE_HOST}/_devstore/webhook-faults", json=faults)
    assert response.status_code == 200, response.text


async def make_changes(world: World, clock: StoreClock, count: int, *, seed: int) -> dict[str, set[int]]:
    """``count`` random changes of the shop; the ids of the records each kind of change touched."""
    rng = random.Random(seed)
    activity = world.store.activity
    touched: dict[str, set[int]] = {"Order": set(), "Customer": set(), "ProductVariant": set()}
    made = 0
    while made < count:
        action = rng.choice(ACTIONS)
        clock.offset += 1.0
        try:
            change = await getattr(activity, action)(SHOP)
        except NothingToChange:
            continue
        made += 1
        if change.subject is not None:
            kind = change.subject.split("/")[3]
            touched.setdefault(kind, set()).add(_num(change.subject))
    return touched


async def settle(world: World) -> None:
    """Every delivery made or given up, every job (refetches included) run."""
    webhooks = world.store.store.webhooks
    for _ in range(3):
        await webhooks.wait_idle(timeout_seconds=30.0)
        await world.jobs.drain()


async def assert_touched_records_equal_the_store(world: World, touched: dict[str, set[int]]) -> None:
    """What ``assert_mirror_equals_store`` does not look at, for every record a change touched."""
    records = world.store.store.records
    shop = await shop_id(world)
    orders = {row.shopify_id: row for row in await _rows(world, Order, shop)}
    fulfillments = {row.shopify_id: row for row in await _rows(world, Fulfillment, shop)}
    for number in touched["Order"]:
        doc = records.get(SHOP, f"gid://shopify/Order/{number}")
        row = orders[number]
        assert (row.email, row.phone, row.note) == (doc.get("email"), doc.get("phone"), doc.get("note"))
        assert row.processed_at == _when(doc.get("processedAt"))
        for f in doc.get("fulfillments") or []:
            mirrored = fulfillments[_num(f["id"])]
            assert mirrored.updated_at == _when(f["updatedAt"])
            assert mirrored.estimated_delivery_at == _when(f.get("estimatedDeliveryAt"))
            event_ids = [e["id"] for e in mirrored.events]
            assert len(event_ids) == len(set(event_ids)), "a duplicated event was applied twice"
            assert sorted(event_ids) == sorted(_num(e["id"]) for e in f.get("events") or [])
            assert {(t["company"], t["url"]) for t in mirrored.tracking} == {
                (t.get("company"), t.get("url")) for t in f.get("trackingInfo") or []
            }
    customers = {row.shopify_id: row for row in await _rows(world, Customer, shop)}
    for number in touched["Customer"]:
        doc = records.get(SHOP, f"gid://shopify/Customer/{number}")
        row = customers[number]
        assert (row.note, row.tags, row.updated_at) == (
            doc.get("note"),
            list(doc.get("tags") or []),
            _when(doc["updatedAt"]),
        )
    variants = {row.shopify_id: row for row in await _rows(world, ProductVariant, shop)}
    levels = {
        (row.inventory_item_shopify_id, row.location_shopify_id): row
        for row in await _rows(world, InventoryLevel, shop)
    }
    for number in touched["ProductVariant"]:
        doc = records.get(SHOP, f"gid://shopify/ProductVariant/{number}")
        item = doc["inventoryItem"]
        assert variants[number].inventory_item_shopify_id == _num(item["id"])
        for level in item["inventoryLevels"]:
            row = levels[(_num(item["id"]), _num(level["location"]))]
            stored = {q["name"]: q["quantity"] for q in level["quantities"]}
            assert (row.available, row.on_hand) == (stored.get("available"), stored.get("on_hand"))


async def assert_each_event_applied_once(world: World) -> None:
    """The store sent some events twice (same event id): the app kept one delivery per event."""
    sent = [
        d for d in world.store.store.webhooks.deliveries(shop=SHOP, limit=100_000) if d.status == "delivered"
    ]
    per_event = Counter(d.event_id for d in sent)
    assert any(n > 1 for n in per_event.values()), "the faults made no duplicate: the test proves nothing"
    shop = await shop_id(world)
    async with world.services.sessions() as session:
        kept = list(
            (
                await session.execute(select(WebhookDelivery.event_id).where(WebhookDelivery.shop_id == shop))
            ).scalars()
        )
    assert len(kept) == len(set(kept))
    assert set(per_event) <= set(kept)


async def delivered_out_of_order(world: World) -> bool:
    """Some event reached the app after one the store triggered later."""
    async with world.services.sessions() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery.triggered_at)
                .where(WebhookDelivery.shop_id == await shop_id(world))
                .order_by(WebhookDelivery.received_at, WebhookDelivery.id)
            )
        ).scalars()
        triggered = [moment for moment in rows if moment is not None]
    return any(a > b for a, b in itertools.pairwise(triggered))


async def test_duplicated_reordered_delayed_and_dropped_webhooks_converge_after_reconciliation(
    synced: World, clock: StoreClock
) -> None:
    # given: every kind of webhook fault, while the store changes
    await webhook_faults(synced, **EVERY_FAULT)
    touched = await make_changes(synced, clock, CHANGES, seed=11)
    await settle(synced)
    stats = synced.store.store.webhooks.stats()
    assert stats["dropped"] > 0

    # when
    report = await reconcile_shop(synced.services, shop_id=await shop_id(synced))
    await settle(synced)

    # then
    assert report["repaired"] > 0
    await assert_mirror_equals_store(synced, SHOP)
    await assert_touched_records_equal_the_store(synced, touched)
    await assert_each_event_applied_once(synced)
    await assert_mirror_equals_store(synced, OTHER_SHOP)


async def test_duplicated_and_reordered_webhooks_converge_without_reconciliation(
    synced: World, clock: StoreClock
) -> None:
    # given: no delivery is lost, but some come twice and out of order
    await webhook_faults(synced, **NO_LOSS)

    # when
    touched = await make_changes(synced, clock, CHANGES, seed=12)
    await settle(synced)

    # then
    assert await delivered_out_of_order(synced)
    await assert_mirror_equals_store(synced, SHOP)
    await assert_touched_records_equal_the_store(synced, touched)
    await assert_each_event_applied_once(synced)
