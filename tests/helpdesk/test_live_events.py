# ruff: noqa: F811  (fixtures imported from other test modules)
"""Live events: each shop's subscribers get only that shop's events, across processes on PostgreSQL
(LISTEN/NOTIFY, split under the payload limit, reconnecting); webhook batches and reconciliation publish
one event per kind and shop, only once their changes have committed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.shopify.graphql_resources import id_from_gid
from shop_app.database import make_engine, sync_url
from shop_app.jobs.tasks import RetryLater, process_webhooks
from shop_app.lifespan import open_services
from shop_app.live_events import (
    LISTENER_APPLICATION_NAME,
    MAX_NOTIFY_PAYLOAD_BYTES,
    EventBus,
    EventKind,
    EventTooLarge,
    InProcessBus,
    LiveEvent,
    PostgresBus,
    encode_event,
    split_event,
)
from shop_app.mirror.reconciliation import reconcile_shop
from shop_app.mirror.webhooks.handlers import GROUPS, HANDLERS, WebhookContext
from shop_app.models import DeliveryStatus, Shop
from shop_app.runtime import Services
from shop_app.settings import Settings
from tests.app.conftest import ALPHA, BETA, PAYLOADS, RunningApp, TwoShops, app, shops  # noqa: F401
from tests.sync.test_backfill import SHOP, World, shop_id, synced  # noqa: F401
from tests.sync.test_reconciliation import OTHER_SHOP, drop_webhooks

DELIVERY_SECONDS = 5.0
QUIET_SECONDS = 0.3


# helpers ------------------------------------------------------------------------------------------


async def next_event(queue: asyncio.Queue[LiveEvent]) -> LiveEvent:
    return await asyncio.wait_for(queue.get(), timeout=DELIVERY_SECONDS)


async def events_until_quiet(queue: asyncio.Queue[LiveEvent]) -> list[LiveEvent]:
    """Everything delivered until nothing more comes for a moment (delivery is asynchronous on
    PostgreSQL)."""
    received = []
    while True:
        try:
            received.append(await asyncio.wait_for(queue.get(), timeout=QUIET_SECONDS))
        except TimeoutError:
            return received


@pytest.fixture
def postgres(migrated_postgres: str | None) -> str:
    if migrated_postgres is None:
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
    return migrated_postgres


@asynccontextmanager
async def process_bus(url: str, *, listen: bool = True) -> AsyncIterator[PostgresBus]:
    """The bus of one app process (``listen``) or of a worker: its own engine, its own connections."""
    engine = make_engine(url)
    bus = PostgresBus(engine, listen=listen)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()
        await engine.dispose()


def listener_connections(url: str) -> int:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = :name"
                    ),
                    {"name": LISTENER_APPLICATION_NAME},
                ).scalar_one()
            )
    finally:
        engine.dispose()


# the bus ------------------------------------------------------------------------------------------


@pytest.fixture(params=["in_process", "postgres"])
async def bus(request: pytest.FixtureRequest, migrated_postgres: str | None) -> AsyncIterator[EventBus]:
    if request.param == "in_process":
        yield InProcessBus()
        return
    if migrated_postgres is None:
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
    async with process_bus(migrated_postgres) as postgres_bus:
        yield postgres_bus


async def test_two_subscribers_on_two_shops_each_get_only_their_shops_events(bus: EventBus) -> None:
    async with (
        bus.subscribe(1) as first_of_shop_1,
        bus.subscribe(1) as second_of_shop_1,
        bus.subscribe(2) as first_of_shop_2,
        bus.subscribe(2) as second_of_shop_2,
    ):
        await bus.publish(LiveEvent(1, EventKind.TICKET_CREATED, {"ticket_id": 11}))
        await bus.publish(LiveEvent(2, EventKind.MESSAGE_CREATED, {"ticket_id": 21, "message_id": 5}))
        await bus.publish(LiveEvent(3, EventKind.TICKET_UPDATED, {"ticket_id": 31}))

        for queue in (first_of_shop_1, second_of_shop_1):
            assert await events_until_quiet(queue) == [LiveEvent(1, "ticket.created", {"ticket_id": 11})]
        for queue in (first_of_shop_2, second_of_shop_2):
            assert await events_until_quiet(queue) == [
                LiveEvent(2, "message.created", {"ticket_id": 21, "message_id": 5})
            ]


async def test_a_subscriber_that_leaves_gets_nothing_more(bus: EventBus) -> None:
    async with bus.subscribe(1) as staying:
        async with bus.subscribe(1) as leaving:
            await bus.publish(LiveEvent(1, EventKind.TICKET_CREATED, {"ticket_id": 1}))
            assert (await next_event(leaving)).data == {"ticket_id": 1}
        await bus.publish(LiveEvent(1, EventKind.TICKET_UPDATED, {"ticket_id": 1}))

        assert [e.kind for e in await events_until_quiet(staying)] == ["ticket.created", "ticket.updated"]
        assert leaving.empty()


def test_an_event_over_the_notification_limit_is_split_with_every_id_once() -> None:
    customer_ids = list(range(10**15, 10**15 + 700))
    order_ids = list(range(2 * 10**15, 2 * 10**15 + 1500))
    event = LiveEvent(7, EventKind.ORDERS_CHANGED, {"customer_ids": customer_ids, "order_ids": order_ids})
    assert len(encode_event(event).encode()) > MAX_NOTIFY_PAYLOAD_BYTES

    parts = split_event(event)

    assert len(parts) > 1
    assert all(len(encode_event(part).encode()) <= MAX_NOTIFY_PAYLOAD_BYTES for part in parts)
    assert all((part.shop_id, part.kind) == (7, "orders.changed") for part in parts)
    assert [i for part in parts for i in part.data["customer_ids"]] == customer_ids
    assert [i for part in parts for i in part.data["order_ids"]] == order_ids


def test_a_small_event_stays_whole_and_one_with_nothing_to_split_is_refused() -> None:
    small = LiveEvent(1, EventKind.STOCK_CHANGED, {"variant_ids": [1, 2], "inventory_item_ids": [3]})
    assert split_event(small) == [small]
    with pytest.raises(EventTooLarge):
        split_event(LiveEvent(1, EventKind.TICKET_UPDATED, {"ticket_id": 1, "note": "x" * 9000}))


# PostgreSQL: across processes -----------------------------------------------------------------------


async def test_a_notify_from_a_worker_reaches_the_subscribers_of_an_app_process(postgres: str) -> None:
    # given: an app process with consoles of two shops, and a worker (its own engine and connections)
    async with (
        process_bus(postgres) as app_process,
        process_bus(postgres, listen=False) as worker,
        app_process.subscribe(1) as shop_1,
        app_process.subscribe(2) as shop_2,
    ):
        # when
        await worker.publish(LiveEvent(1, EventKind.ORDERS_CHANGED, {"customer_ids": [9], "order_ids": [8]}))

        # then
        assert await next_event(shop_1) == LiveEvent(
            1, "orders.changed", {"customer_ids": [9], "order_ids": [8]}
        )
        assert await events_until_quiet(shop_2) == []
        assert await events_until_quiet(shop_1) == []


async def test_a_large_id_list_crosses_postgres_in_several_notifications(postgres: str) -> None:
    variant_ids = list(range(4 * 10**13, 4 * 10**13 + 2000))
    event = LiveEvent(1, EventKind.STOCK_CHANGED, {"variant_ids": variant_ids, "inventory_item_ids": []})
    # PostgreSQL itself refuses the event as one notification
    engine = create_engine(sync_url(postgres))
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError, match="payload string too long"):
            connection.execute(
                text("SELECT pg_notify('shop_app_live_events', :payload)"), {"payload": encode_event(event)}
            )
    finally:
        engine.dispose()

    async with (
        process_bus(postgres) as app_process,
        process_bus(postgres, listen=False) as worker,
        app_process.subscribe(1) as queue,
    ):
        await worker.publish(event)

        parts = [await next_event(queue)]
        parts += await events_until_quiet(queue)

    assert len(parts) > 1
    assert {part.kind for part in parts} == {"stock.changed"}
    assert sorted(i for part in parts for i in part.data["variant_ids"]) == variant_ids


async def test_the_listener_reconnects_after_its_connection_is_killed(postgres: str) -> None:
    async with (
        process_bus(postgres) as app_process,
        process_bus(postgres, listen=False) as worker,
        app_process.subscribe(1) as queue,
    ):
        # given: the database drops the listening connection (a restart, a failover, an idle kill)
        engine = create_engine(sync_url(postgres))
        try:
            with engine.connect() as connection:
                killed = connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = :name"
                    ),
                    {"name": LISTENER_APPLICATION_NAME},
                ).scalar_one()
        finally:
            engine.dispose()
        assert killed == 1

        # when: it has listened again
        for _ in range(100):
            if app_process.reconnects >= 1 and app_process.listening:
                break
            await asyncio.sleep(0.05)
        assert app_process.reconnects >= 1
        await asyncio.wait_for(app_process.until_listening(), timeout=DELIVERY_SECONDS)
        await worker.publish(LiveEvent(1, EventKind.TICKET_CREATED, {"ticket_id": 3}))

        # then
        assert (await next_event(queue)).data == {"ticket_id": 3}


async def test_a_worker_process_opens_no_listen_connection(postgres: str, settings: Settings) -> None:
    async with open_services(settings, listen=False) as worker:
        assert isinstance(worker.events, PostgresBus)
        assert not worker.events.listening
        assert listener_connections(postgres) == 0
        async with open_services(settings) as app_process:
            assert isinstance(app_process.events, PostgresBus)
            assert app_process.events.listening
            assert listener_connections(postgres) == 1


async def test_on_sqlite_the_bus_is_in_process(settings: Settings) -> None:
    if not settings.is_sqlite:
        pytest.skip("the embedded default is SQLite")
    async with open_services(settings) as services:
        assert isinstance(services.events, InProcessBus)


# webhook batches ----------------------------------------------------------------------------------


def order_body(
    order_id: int, customer_id: int | None, *, updated_at: str = "2026-11-20T10:00:00+09:00"
) -> bytes:
    order = json.loads((PAYLOADS / "Order.json").read_text())
    order.update(
        id=order_id,
        admin_graphql_api_id=f"gid://shopify/Order/{order_id}",
        name=f"#{order_id}",
        updated_at=updated_at,
    )
    if customer_id is None:
        order["customer"] = None
    else:
        order["customer"].update(id=customer_id, admin_graphql_api_id=f"gid://shopify/Customer/{customer_id}")
    return json.dumps(order).encode()


def customer_body(customer_id: int) -> bytes:
    customer = json.loads((PAYLOADS / "CustomersCreate.json").read_text())
    customer.update(id=customer_id, admin_graphql_api_id=f"gid://shopify/Customer/{customer_id}")
    return json.dumps(customer).encode()


def product_body(product_id: int, variants: Sequence[tuple[int, int]]) -> bytes:
    product = json.loads((PAYLOADS / "Product.json").read_text())
    template = product["variants"][0]
    product.update(id=product_id, admin_graphql_api_id=f"gid://shopify/Product/{product_id}")
    product["variants"] = [
        {
            **template,
            "id": variant_id,
            "product_id": product_id,
            "admin_graphql_api_id": f"gid://shopify/ProductVariant/{variant_id}",
            "inventory_item_id": item_id,
            "sku": f"SKU-{variant_id}",
        }
        for variant_id, item_id in variants
    ]
    return json.dumps(product).encode()


def level_body(item_id: int, location_id: int, available: int) -> bytes:
    level = json.loads((PAYLOADS / "InventoryLevel.json").read_text())
    level.update(
        inventory_item_id=item_id,
        location_id=location_id,
        available=available,
        admin_graphql_api_id=f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}",
    )
    return json.dumps(level).encode()


def deleted_body(resource: str, shopify_id: int) -> bytes:
    return json.dumps(
        {"id": shopify_id, "admin_graphql_api_id": f"gid://shopify/{resource}/{shopify_id}"}
    ).encode()


@dataclass
class Published:
    """The bus's publish, watched: each event with the delivery statuses another connection could see
    committed at that moment."""

    events: list[LiveEvent] = field(default_factory=list)
    statuses_seen: list[list[str]] = field(default_factory=list)


@pytest.fixture
def published(app: RunningApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[Published]:
    watched = Published()
    real_publish = app.services.events.publish
    observer = create_engine(sync_url(app.services.settings.database_url))

    async def publish(event: LiveEvent) -> None:
        with observer.connect() as connection:
            statuses = connection.execute(text("SELECT status FROM webhook_deliveries ORDER BY id")).scalars()
            watched.statuses_seen.append([str(status) for status in statuses])
        watched.events.append(event)
        await real_publish(event)

    monkeypatch.setattr(app.services.events, "publish", publish)
    yield watched
    observer.dispose()


async def stored(app: RunningApp, *deliveries: tuple[str, str, bytes]) -> list[int]:
    """Deliveries accepted by the endpoint and left unprocessed; their ids."""
    await app.pause_jobs()
    for topic, domain, body in deliveries:
        response = await app.webhook(topic, domain, body)
        assert response.status_code == 200, response.text
    ids = []
    for domain in {domain for _, domain, _ in deliveries}:
        shop = await app.shop(domain)
        assert shop is not None
        ids += [
            d.id
            for d in await app.deliveries(shop)
            if d.id is not None and d.status == DeliveryStatus.PENDING
        ]
    return sorted(ids)


async def apply(app: RunningApp, *deliveries: tuple[str, str, bytes]) -> None:
    await process_webhooks(app.services, delivery_ids=await stored(app, *deliveries))


def by_shop(events: Sequence[LiveEvent], shop: Shop) -> dict[str, dict[str, Any]]:
    mine = [event for event in events if event.shop_id == shop.id]
    kinds = {event.kind: event.data for event in mine}
    assert len(kinds) == len(mine), f"more than one event of a kind: {mine}"
    return kinds


async def test_a_webhook_batch_publishes_one_event_per_kind_and_shop_after_it_commits(
    app: RunningApp, shops: TwoShops, published: Published
) -> None:
    assert shops.alpha.id is not None and shops.beta.id is not None
    async with (
        app.services.events.subscribe(shops.alpha.id) as alpha,
        app.services.events.subscribe(shops.beta.id) as beta,
    ):
        # given: beta's product is mirrored, so a level of its inventory item names its variant; its
        # own event is drained first (on PostgreSQL it arrives asynchronously, after the commit)
        await apply(app, ("products/update", BETA, product_body(501, [(601, 701), (602, 702)])))
        assert [event.kind for event in await events_until_quiet(beta)] == ["stock.changed"]
        published.events.clear()
        published.statuses_seen.clear()

        # when: one batch with two orders of one customer (one of them twice), a customer and a level
        await apply(
            app,
            ("orders/updated", ALPHA, order_body(9001, 77)),
            ("orders/paid", ALPHA, order_body(9002, 77)),
            ("orders/updated", ALPHA, order_body(9001, 77)),
            ("customers/update", ALPHA, customer_body(88)),
            ("inventory_levels/update", BETA, level_body(702, 31, 5)),
        )

        # then: each console got its shop's events, once
        alpha_events = await events_until_quiet(alpha)
        beta_events = await events_until_quiet(beta)
    assert by_shop(alpha_events, shops.alpha) == {
        "orders.changed": {"customer_ids": [77], "order_ids": [9001, 9002]},
        "customers.changed": {"customer_ids": [88]},
    }
    assert len(alpha_events) == 2
    assert beta_events == [
        LiveEvent(shops.beta.id, "stock.changed", {"variant_ids": [602], "inventory_item_ids": [702]})
    ]
    # and every event was published once all five deliveries had committed
    assert len(published.events) == 3
    assert all(seen == [DeliveryStatus.DONE.value] * 6 for seen in published.statuses_seen), (
        published.statuses_seen
    )


async def test_a_failed_batch_publishes_nothing(
    app: RunningApp, shops: TwoShops, published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: every order write fails, grouped or alone
    async def group_fails(session: AsyncSession, shop_id: int, records: list[Any]) -> None:
        raise RuntimeError("the database refused the write")

    async def handler_fails(context: WebhookContext) -> None:
        raise RuntimeError("the database refused the write")

    for topic in ("orders/updated", "orders/paid"):
        monkeypatch.setitem(GROUPS, topic, replace(GROUPS[topic], write=group_fails))
        monkeypatch.setitem(HANDLERS, topic, handler_fails)
    assert shops.alpha.id is not None

    async with app.services.events.subscribe(shops.alpha.id) as alpha:
        # when
        with pytest.raises(RetryLater):
            await apply(
                app,
                ("orders/updated", ALPHA, order_body(9001, 77)),
                ("orders/paid", ALPHA, order_body(9002, 77)),
            )

        # then
        assert await events_until_quiet(alpha) == []
    assert published.events == []


async def test_a_bad_delivery_is_left_out_of_its_batchs_event(
    app: RunningApp, shops: TwoShops, published: Published
) -> None:
    assert shops.alpha.id is not None
    broken = json.dumps({"id": "not-a-number", "admin_graphql_api_id": 5}).encode()
    async with app.services.events.subscribe(shops.alpha.id) as alpha:
        await apply(
            app,
            ("orders/updated", ALPHA, order_body(9001, 77)),
            ("orders/updated", ALPHA, broken),
            ("customers/update", ALPHA, broken),
        )
        received = await events_until_quiet(alpha)

    assert received == [
        LiveEvent(shops.alpha.id, "orders.changed", {"customer_ids": [77], "order_ids": [9001]})
    ]


async def test_deleted_records_are_published_with_what_the_mirror_knew_of_them(
    app: RunningApp, shops: TwoShops, published: Published
) -> None:
    # given: an order of customer 77 and a product with two variants are mirrored
    await apply(
        app,
        ("orders/updated", ALPHA, order_body(9001, 77)),
        ("products/update", ALPHA, product_body(501, [(601, 701), (602, 702)])),
    )
    assert shops.alpha.id is not None

    async with app.services.events.subscribe(shops.alpha.id) as alpha:
        # when: both are deleted in Shopify (the bodies carry only their ids)
        await apply(
            app,
            ("orders/delete", ALPHA, deleted_body("Order", 9001)),
            ("products/delete", ALPHA, deleted_body("Product", 501)),
        )
        received = await events_until_quiet(alpha)

    # then: the console showing customer 77 or those variants hears of it
    assert by_shop(received, shops.alpha) == {
        "orders.changed": {"customer_ids": [77], "order_ids": [9001]},
        "stock.changed": {"variant_ids": [601, 602], "inventory_item_ids": [701, 702]},
    }


async def test_an_order_fetched_again_after_commit_is_published_after_the_fetch(
    app: RunningApp, shops: TwoShops, published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: order 9001 of customer 77 is mirrored; a refund makes the app fetch it again
    await apply(app, ("orders/updated", ALPHA, order_body(9001, 77)))
    published.events.clear()
    calls: list[str] = []

    async def refresh(services: Services, *, shop: Shop, order_ids: Sequence[int]) -> int:
        assert published.events == []  # nothing was published before the order was fetched again
        calls.append(f"refresh {list(order_ids)}")
        return len(order_ids)

    monkeypatch.setattr("shop_app.mirror.read_back.refresh_orders", refresh)
    refund = json.loads((PAYLOADS / "Refund.json").read_text())
    refund["order_id"] = 9001

    # when
    await apply(app, ("refunds/create", ALPHA, json.dumps(refund).encode()))

    # then
    assert calls == ["refresh [9001]"]
    assert [(e.shop_id, e.kind, e.data) for e in published.events] == [
        (shops.alpha.id, "orders.changed", {"customer_ids": [77], "order_ids": [9001]})
    ]


# reconciliation -----------------------------------------------------------------------------------


async def test_reconciliation_publishes_what_it_repaired(synced: World) -> None:
    # given: webhooks are lost while the store changes a customer and cancels an order
    shop, other = await shop_id(synced), await shop_id(synced, OTHER_SHOP)
    await drop_webhooks(synced, 1.0)
    customer = await synced.store.activity.update_customer(SHOP)
    order = await synced.store.activity.cancel(SHOP)
    await synced.store.store.webhooks.wait_idle()
    await synced.jobs.drain()
    await drop_webhooks(synced, 0.0)
    customer_id, order_id = id_from_gid(customer.subject), id_from_gid(order.subject)
    order_doc = synced.store.store.records.get(SHOP, order.subject)
    order_customer = id_from_gid(order_doc["customer"]) if order_doc.get("customer") else None

    async with AsyncExitStack() as stack:
        consoles = await stack.enter_async_context(synced.services.events.subscribe(shop))
        others = await stack.enter_async_context(synced.services.events.subscribe(other))
        # when
        report = await reconcile_shop(synced.services, shop_id=shop)
        received = await events_until_quiet(consoles)
        assert await events_until_quiet(others) == []

    # then
    assert report["repaired"] >= 2
    kinds = {event.kind: event.data for event in received}
    assert len(kinds) == len(received)
    assert customer_id in kinds["customers.changed"]["customer_ids"]
    assert order_id in kinds["orders.changed"]["order_ids"]
    if order_customer is not None:
        assert order_customer in kinds["orders.changed"]["customer_ids"]
