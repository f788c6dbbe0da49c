"""The customer profile read from the mirror on SQLite and (with TEST_DATABASE_URL) PostgreSQL: the
customer, orders newest first with plain-word statuses, items with each variant's stock summed over
locations, shipments with tracking links, requested delivery day and slot, earlier tickets; guests by
their orders' email or phone; a fixed number of queries, each limited to the shop; and another shop's rows
never appear."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from integrations.shopify import resources as r
from shop_app.database import SessionFactory, make_engine, make_session_factory, transaction
from shop_app.formats.delivery_requests import delivery_day, delivery_slot, requested_delivery
from shop_app.formats.display import UiLocale, formatter
from shop_app.formats.names_and_addresses import address_lines, person_name
from shop_app.helpdesk.profiles import ProfileTarget, build_profile
from shop_app.mirror import writes as mirror_writes
from shop_app.models import Channel, Contact, Shop, SyncState, Ticket, TicketStatus
from shop_app.schemas.profiles import CustomerProfile

T0 = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
SYNCED = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 3, 30, tzinfo=UTC)
HANAKO = 501
TOKYO, OSAKA = 61, 62
TEE_M, TEE_L, SOCKS, LOTION, DELETED_VARIANT = 70011, 70012, 70021, 70031, 79999


@dataclass
class World:
    sessions: SessionFactory
    engine: AsyncEngine
    alpha: Shop
    beta: Shop

    async def profile(self, shop: Shop | None = None, **options: Any) -> CustomerProfile:
        target = options.pop("target", ProfileTarget(customer_shopify_id=HANAKO))
        async with self.sessions() as session:
            return await build_profile(
                session,
                shop=shop or self.alpha,
                target=target,
                locale=options.pop("locale", "ja"),
                now=NOW,
                **options,
            )

    @contextmanager
    def statements(self) -> Iterator[list[str]]:
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        event.listen(self.engine.sync_engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    async with transaction(sessions) as session:
        alpha = Shop(
            domain="alpha.myshopify.com", currency_code="JPY", iana_timezone="Asia/Tokyo", country_code="JP"
        )
        beta = Shop(domain="beta.myshopify.com", currency_code="USD", iana_timezone="America/New_York")
        session.add_all([alpha, beta])
        await session.flush()
    yield World(sessions, engine, alpha, beta)
    await engine.dispose()


# Builders -------------------------------------------------------------------------------------------


def customer(**changes: Any) -> r.Customer:
    base = r.Customer(
        shopify_id=HANAKO,
        updated_at=T0,
        first_name="花子",
        last_name="山田",
        email="hanako@example.jp",
        phone="+819012345678",
        tags=("VIP", "リピーター"),
        note="ギフト包装希望",
        amount_spent=r.Money("29700", "JPY"),
        orders_count=3,
        default_address=r.Address(phone="+81312345678", country_code="JP"),
    )
    return replace(base, **changes)


def tokyo_address() -> r.Address:
    return r.Address(
        name="山田 花子",
        address1="神宮前1-2-3",
        address2="ハイツ神宮前101",
        city="渋谷区",
        province="東京都",
        province_code="JP-13",
        zip="150-0001",
        country="Japan",
        country_code="JP",
    )


def order(shopify_id: int, created_at: datetime, **changes: Any) -> r.Order:
    base = r.Order(
        shopify_id=shopify_id,
        name=f"#{shopify_id}",
        created_at=created_at,
        updated_at=created_at,
        customer_shopify_id=HANAKO,
        email="hanako@example.jp",
        financial_status="PAID",
        fulfillment_status="UNFULFILLED",
        currency="JPY",
        total_price="9900",
        shipping_address=tokyo_address(),
        line_items=(
            r.LineItem(
                shopify_id=shopify_id * 10, title="リネンシャツ", quantity=1, variant_shopify_id=TEE_M
            ),
        ),
        fulfillments=(),
    )
    return replace(base, **changes)


def shipment(order_id: int, shopify_id: int, **changes: Any) -> r.Fulfillment:
    base = r.Fulfillment(
        shopify_id=shopify_id,
        order_shopify_id=order_id,
        status="SUCCESS",
        created_at=T0 + timedelta(days=1),
        updated_at=T0 + timedelta(days=1),
        display_status="IN_TRANSIT",
        tracking=(),
        events=(),
    )
    return replace(base, **changes)


def tee_product() -> r.Product:
    return r.Product(
        shopify_id=7001,
        title="リネンシャツ",
        updated_at=T0,
        variants=(
            r.Variant(TEE_M, 7001, "M / 白", inventory_policy="DENY", inventory_item_shopify_id=801),
            r.Variant(TEE_L, 7001, "L / 白", inventory_policy="DENY", inventory_item_shopify_id=802),
        ),
    )


def other_products() -> list[r.Product]:
    return [
        r.Product(
            shopify_id=7002,
            title="ソックス3足セット",
            updated_at=T0,
            variants=(
                r.Variant(SOCKS, 7002, "M", inventory_policy="CONTINUE", inventory_item_shopify_id=803),
            ),
        ),
        r.Product(
            shopify_id=7003,
            title="保湿化粧水",
            updated_at=T0,
            variants=(
                r.Variant(LOTION, 7003, "Default", inventory_policy="DENY", inventory_item_shopify_id=804),
            ),
        ),
    ]


def level(
    item: int, location: int, available: int, on_hand: int | None = None, incoming: int = 0
) -> r.InventoryLevel:
    return r.InventoryLevel(
        inventory_item_shopify_id=item,
        location_shopify_id=location,
        updated_at=T0,
        available=available,
        on_hand=available if on_hand is None else on_hand,
        incoming=incoming,
    )


async def fill_alpha(world: World) -> None:
    """Hanako: three orders (one cancelled), stock at two locations, shipments by Yamato and Japan Post."""
    shop_id = world.alpha.id
    assert shop_id is not None
    first = order(
        1001,
        T0,
        financial_status="REFUNDED",
        fulfillment_status="UNFULFILLED",
        cancelled_at=T0 + timedelta(hours=3),
        cancel_reason="CUSTOMER",
        total_price="4950",
    )
    second = order(
        1002,
        T0 + timedelta(days=10),
        fulfillment_status="PARTIALLY_FULFILLED",
        total_price="14850",
        custom_attributes=(("配送希望日", "2026/10/15"), ("配達時間帯", "14時〜16時")),
        line_items=(
            r.LineItem(
                shopify_id=10021,
                title="リネンシャツ",
                variant_title="M / 白",
                sku="SHIRT-M",
                quantity=2,
                current_quantity=1,  # one refunded
                variant_shopify_id=TEE_M,
            ),
            r.LineItem(
                shopify_id=10022,
                title="ソックス3足セット",
                variant_title="M",
                quantity=1,
                variant_shopify_id=SOCKS,
            ),
            r.LineItem(shopify_id=10023, title="保湿化粧水", quantity=1, variant_shopify_id=LOTION),
            r.LineItem(shopify_id=10024, title="ギフトラッピング", quantity=1),
            r.LineItem(shopify_id=10025, title="終売品", quantity=1, variant_shopify_id=DELETED_VARIANT),
        ),
        fulfillments=(
            shipment(
                1002,
                5001,
                display_status="OUT_FOR_DELIVERY",
                estimated_delivery_at=datetime(2026, 10, 15, 5, 0, tzinfo=UTC),
                tracking=(r.TrackingInfo(number="4444-1375-8703,4444-1375-8714", company="ヤマト運輸"),),
                events=(
                    r.FulfillmentEvent(1, "IN_TRANSIT", T0 + timedelta(days=11), "輸送中"),
                    r.FulfillmentEvent(2, "OUT_FOR_DELIVERY", T0 + timedelta(days=12, hours=1), "配達中です"),
                ),
            ),
            shipment(
                1002,
                5002,
                display_status=None,
                status="SUCCESS",
                tracking=(
                    r.TrackingInfo(
                        number="1Z999AA10123456784",
                        company="UPS",
                        url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
                    ),
                    r.TrackingInfo(number="ZZ-0001", company="西濃運輸"),
                ),
            ),
        ),
    )
    third = order(
        1003,
        T0 + timedelta(days=20),
        fulfillment_status="FULFILLED",
        custom_attributes=(("gift_message", "おめでとう"),),
        fulfillments=(
            shipment(
                1003,
                5003,
                display_status="DELIVERED",
                delivered_at=T0 + timedelta(days=22),
                tracking=(r.TrackingInfo(number="405548424886", company="Japan Post (JA)"),),
            ),
        ),
    )
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_customers(
            session, shop_id=shop_id, customers=[customer()], synced_at=SYNCED
        )
        await mirror_writes.upsert_orders(
            session, shop_id=shop_id, orders=[third, first, second], synced_at=SYNCED
        )
        await mirror_writes.upsert_products(
            session, shop_id=shop_id, products=[tee_product(), *other_products()], synced_at=SYNCED
        )
        await mirror_writes.upsert_locations(
            session,
            shop_id=shop_id,
            locations=[r.Location(TOKYO, "東京倉庫"), r.Location(OSAKA, "大阪倉庫")],
            synced_at=SYNCED,
        )
        await mirror_writes.upsert_inventory_levels(
            session,
            shop_id=shop_id,
            levels=[
                level(801, TOKYO, 12, incoming=5),
                level(801, OSAKA, 3, on_hand=4),
                level(802, TOKYO, 1),
                level(803, TOKYO, 0),
                level(803, OSAKA, -2),
                level(804, OSAKA, 4),
            ],
            synced_at=SYNCED,
        )


async def fill_beta_with_the_same_ids(world: World) -> None:
    """Another shop whose Shopify ids collide with alpha's: none of it may show in alpha's profile."""
    shop_id = world.beta.id
    assert shop_id is not None
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_customers(
            session,
            shop_id=shop_id,
            customers=[customer(first_name="Intruder", last_name="Beta", email="beta@example.com")],
            synced_at=SYNCED,
        )
        await mirror_writes.upsert_orders(
            session,
            shop_id=shop_id,
            orders=[
                order(
                    9001,
                    T0 + timedelta(days=30),
                    name="#BETA-1",
                    currency="USD",
                    total_price="5",
                    shipping_address=r.Address(name="Bea Taylor", city="Austin", country_code="US"),
                ),
                order(
                    9002,
                    T0 + timedelta(days=5),
                    name="#BETA-2",
                    customer_shopify_id=None,
                    email="guest@example.jp",
                    phone="+819099998888",
                    currency="USD",
                    total_price="99",
                ),
            ],
            synced_at=SYNCED,
        )
        await mirror_writes.upsert_products(
            session, shop_id=shop_id, products=[tee_product()], synced_at=SYNCED
        )
        await mirror_writes.upsert_locations(
            session, shop_id=shop_id, locations=[r.Location(TOKYO, "Beta warehouse")], synced_at=SYNCED
        )
        await mirror_writes.upsert_inventory_levels(
            session, shop_id=shop_id, levels=[level(801, TOKYO, 999), level(801, 99, 999)], synced_at=SYNCED
        )
        contact = Contact(shop_id=shop_id, name="Beta", email="guest@example.jp")
        session.add(contact)
        await session.flush()
        assert contact.id is not None
        session.add(
            Ticket(shop_id=shop_id, contact_id=contact.id, subject="beta ticket", customer_shopify_id=HANAKO)
        )


async def add_tickets(
    world: World, shop: Shop, *specs: tuple[str, int | None, str | None, datetime]
) -> list[int]:
    """(subject, customer id, contact email, created at) → ticket ids."""
    assert shop.id is not None
    ids = []
    async with transaction(world.sessions) as session:
        for subject, customer_id, email, created_at in specs:
            contact = Contact(shop_id=shop.id, email=email)
            session.add(contact)
            await session.flush()
            assert contact.id is not None
            ticket = Ticket(
                shop_id=shop.id,
                contact_id=contact.id,
                subject=subject,
                channel=Channel.WEB_CHAT,
                status=TicketStatus.RESOLVED,
                customer_shopify_id=customer_id,
                created_at=created_at,
            )
            session.add(ticket)
            await session.flush()
            assert ticket.id is not None
            ids.append(ticket.id)
    return ids


# The customer ---------------------------------------------------------------------------------------


async def test_the_customer_is_shown_with_spend_dates_and_sync_times(world: World) -> None:
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)

    profile = await world.profile()

    facts = profile.customer
    assert facts is not None
    assert facts.id == HANAKO
    assert facts.name == "山田 花子"
    assert facts.emails == ["hanako@example.jp"]
    assert facts.phones == ["+819012345678", "+81312345678"]
    assert facts.phones_display == ["090-1234-5678", "03-1234-5678"]
    assert facts.tags == ["VIP", "リピーター"]
    assert facts.note == "ギフト包装希望"
    assert facts.amount_spent is not None
    assert facts.amount_spent.model_dump() == {"amount": "29700", "currency": "JPY", "display": "￥29,700"}
    assert facts.orders_count == 3
    assert facts.first_order_at is not None and facts.last_order_at is not None
    assert facts.first_order_at.model_dump() == {"iso": "2026-10-01T01:00:00Z", "display": "2026/10/01 10:00"}
    assert facts.last_order_at.iso == "2026-10-21T01:00:00Z"
    assert facts.synced_at.model_dump() == {"iso": "2026-11-22T03:00:00Z", "display": "2026/11/22 12:00"}
    assert profile.read_at.model_dump() == {"iso": "2026-11-22T03:30:00Z", "display": "2026/11/22 12:30"}
    assert profile.as_of is not None
    assert profile.as_of.model_dump() == {"iso": "2026-11-22T03:00:00Z", "display": "2026/11/22 12:00"}
    assert profile.guest is None
    assert profile.importing is None  # no import on record: nothing to warn of


# Freshness and the first import ---------------------------------------------------------------------


async def test_as_of_is_when_shopify_last_touched_the_customers_records_not_when_read(world: World) -> None:
    # given: the import wrote everything at SYNCED; later webhooks touch another customer and other shops
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)
    assert world.alpha.id is not None and world.beta.id is not None
    later = SYNCED + timedelta(minutes=20)
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_orders(
            session,
            shop_id=world.alpha.id,
            orders=[order(1999, T0, customer_shopify_id=777)],
            synced_at=later,
        )
        await mirror_writes.upsert_orders(
            session,
            shop_id=world.beta.id,
            orders=[order(9001, T0, updated_at=T0 + timedelta(days=60))],
            synced_at=later,
        )
    assert (await world.profile()).as_of == (await world.profile(locale="ja")).as_of
    profile = await world.profile()
    assert profile.as_of is not None and profile.as_of.iso == "2026-11-22T03:00:00Z"

    # when: a webhook updates one of her orders at T
    webhook_at = SYNCED + timedelta(minutes=5)
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_orders(
            session,
            shop_id=world.alpha.id,
            orders=[order(1001, T0, updated_at=T0 + timedelta(days=40), financial_status="REFUNDED")],
            synced_at=webhook_at,
        )
    # then: the profile is as of T, read later
    profile = await world.profile(locale="en")
    assert profile.as_of is not None and profile.as_of.iso == "2026-11-22T03:05:00Z"
    assert profile.read_at.iso == "2026-11-22T03:30:00Z"

    # when: a carrier event reaches one of her shipments, then her own record changes
    event_at = SYNCED + timedelta(minutes=8)
    async with transaction(world.sessions) as session:
        assert await mirror_writes.add_fulfillment_event(
            session,
            shop_id=world.alpha.id,
            fulfillment_shopify_id=5001,
            event=r.FulfillmentEvent(9, "DELIVERED", event_at, "配達完了"),
            synced_at=event_at,
        )
    assert (await world.profile()).as_of.iso == "2026-11-22T03:08:00Z"  # type: ignore[union-attr]
    customer_at = SYNCED + timedelta(minutes=9)
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_customers(
            session,
            shop_id=world.alpha.id,
            customers=[customer(updated_at=T0 + timedelta(days=50))],
            synced_at=customer_at,
        )
    assert (await world.profile()).as_of.iso == "2026-11-22T03:09:00Z"  # type: ignore[union-attr]


async def test_a_guests_profile_is_as_of_their_orders_and_an_empty_one_of_nothing(world: World) -> None:
    await fill_alpha(world)
    assert world.alpha.id is not None
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_orders(
            session,
            shop_id=world.alpha.id,
            orders=[order(2001, T0, customer_shopify_id=None, email="guest@example.jp")],
            synced_at=SYNCED + timedelta(minutes=1),
        )

    guest = await world.profile(
        target=ProfileTarget(customer_shopify_id=None, guest_email="guest@example.jp")
    )
    nobody = await world.profile(target=ProfileTarget(customer_shopify_id=None, guest_email="no@example.jp"))

    assert guest.as_of is not None and guest.as_of.iso == "2026-11-22T03:01:00Z"
    assert nobody.as_of is None and nobody.read_at.iso == "2026-11-22T03:30:00Z"


async def set_sync_state(world: World, shop: Shop, **values: Any) -> None:
    assert shop.id is not None
    async with transaction(world.sessions) as session:
        state = await session.get(SyncState, shop.id) or SyncState(shop_id=shop.id)
        for name, value in values.items():
            setattr(state, name, value)
        session.add(state)


IMPORTING = {
    "resources": {
        "customers": {"done": 400, "total": 400, "mode": "pages"},
        "orders": {"done": 232, "total": 2000, "mode": "pages"},
    },
    "rate_per_second": 2.1,
    "eta_seconds": 826.0,
}


async def test_a_profile_read_during_the_first_import_says_how_far_it_is(world: World) -> None:
    # given: alpha's first import is running; beta's finished long ago
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)
    await set_sync_state(
        world, world.alpha, phase="backfilling", progress=IMPORTING, watermarks={},
        lease_owner="worker", lease_until=NOW + timedelta(seconds=60),
    )  # fmt: skip
    await set_sync_state(world, world.beta, watermarks={"orders": "2026-11-01T00:00:00+00:00"})

    ja, en = await world.profile(locale="ja"), await world.profile(locale="en")
    beta = await world.profile(shop=world.beta)

    assert ja.importing is not None and en.importing is not None
    assert ja.importing.text == "取り込み中：注文 2,000件中 232件 · 残り約14分"
    assert en.importing.text == "Still importing: 232 of 2,000 orders · about 14 min left"
    assert (en.importing.orders_imported, en.importing.orders_total) == (232, 2000)
    assert en.importing.running is True and en.importing.eta_seconds == 826.0
    assert beta.importing is None


async def test_an_import_that_stopped_or_has_not_counted_says_so_without_a_time(world: World) -> None:
    await fill_alpha(world)
    await set_sync_state(
        world, world.alpha, phase="failed", progress=IMPORTING, watermarks={},
        lease_until=NOW - timedelta(seconds=1),
    )  # fmt: skip
    stopped = await world.profile(locale="en")
    assert stopped.importing is not None
    assert stopped.importing.text == "Still importing: 232 of 2,000 orders"
    assert stopped.importing.running is False and stopped.importing.eta_seconds is None

    await set_sync_state(world, world.alpha, progress={"resources": {"orders": {"done": 8, "total": None}}})
    counting = await world.profile(locale="ja")
    assert counting.importing is not None and counting.importing.text == "取り込み中：これまでに注文 8件"


async def test_after_the_first_import_the_profile_no_longer_warns(world: World) -> None:
    await fill_alpha(world)
    await set_sync_state(world, world.alpha, progress=IMPORTING, watermarks={})
    assert (await world.profile()).importing is not None

    # the import completes: its completion sets the reconciliation watermarks
    await set_sync_state(
        world, world.alpha, progress=IMPORTING, watermarks={"orders": "2026-11-22T03:00:00+00:00"},
        lease_until=NOW + timedelta(seconds=60), phase="reconciling",
    )  # fmt: skip
    assert (await world.profile()).importing is None


async def test_orders_are_newest_first_with_statuses_in_plain_words(world: World) -> None:
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)

    ja = await world.profile(locale="ja")
    en = await world.profile(locale="en")

    assert [o.name for o in ja.orders] == ["#1003", "#1002", "#1001"]
    assert ja.more_orders == 0
    [third, second, first] = ja.orders
    assert (third.fulfillment_status.code, third.fulfillment_status.text) == ("FULFILLED", "発送済み")
    assert (second.fulfillment_status.code, second.fulfillment_status.text) == (
        "PARTIALLY_FULFILLED",
        "一部発送済み",
    )
    assert (first.financial_status.code, first.financial_status.text) == ("REFUNDED", "返金済み")
    assert [o.financial_status.text for o in en.orders] == ["Paid", "Paid", "Refunded"]
    assert en.orders[1].fulfillment_status.text == "Partly shipped"
    assert first.cancelled_at is not None and first.cancelled_at.display == "2026/10/01 13:00"
    assert first.cancel_reason == "お客様のご都合"
    assert en.orders[2].cancel_reason == "Customer changed or cancelled the order"
    assert third.cancelled_at is None and third.cancel_reason is None
    assert second.total is not None
    assert second.total.model_dump() == {"amount": "14850", "currency": "JPY", "display": "￥14,850"}
    assert en.orders[1].total is not None and en.orders[1].total.display == "¥14,850"
    assert second.created_at.display == "2026/10/11 10:00"
    assert en.orders[1].created_at.display.replace("\u202f", " ") == "Oct 11, 2026, 10:00 AM"
    assert second.synced_at.iso == "2026-11-22T03:00:00Z"
    assert second.id == 1002


async def test_a_short_page_counts_the_orders_left_out(world: World) -> None:
    await fill_alpha(world)

    profile = await world.profile(orders_limit=2)

    assert [o.name for o in profile.orders] == ["#1003", "#1002"]
    assert profile.more_orders == 1
    assert profile.customer is not None and profile.customer.first_order_at is not None
    assert profile.customer.first_order_at.iso == "2026-10-01T01:00:00Z"  # from all orders, not the page


async def test_items_carry_the_variants_stock_summed_over_locations(world: World) -> None:
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)

    profile = await world.profile(locale="ja")

    items = {item.title: item for item in profile.orders[1].items}
    shirt = items["リネンシャツ"]
    assert (shirt.variant_title, shirt.sku, shirt.quantity, shirt.variant_id) == (
        "M / 白",
        "SHIRT-M",
        2,
        TEE_M,
    )
    # a line refund names the line by its Shopify id; what is left after the refund is told apart
    assert (shirt.id, shirt.current_quantity) == (10021, 1)
    assert items["ソックス3足セット"].current_quantity is None  # not known
    assert shirt.stock is not None
    assert (shirt.stock.available, shirt.stock.on_hand, shirt.stock.incoming) == (15, 16, 5)
    assert shirt.stock.policy == "DENY"
    assert (shirt.stock.level.code, shirt.stock.level.text) == ("IN_STOCK", "在庫あり")
    assert [(loc.id, loc.name, loc.available) for loc in shirt.stock.locations] == [
        (OSAKA, "大阪倉庫", 3),
        (TOKYO, "東京倉庫", 12),
    ]
    lotion = items["保湿化粧水"].stock
    assert lotion is not None
    assert (lotion.available, lotion.level.code, lotion.level.text) == (4, "LOW_STOCK", "残りわずか")
    assert items["ギフトラッピング"].stock is None  # a custom item has no variant
    assert items["ギフトラッピング"].variant_id is None
    assert items["終売品"].stock is None  # its variant is not in the mirror any more
    assert items["終売品"].variant_id == DELETED_VARIANT


async def test_a_sold_out_variant_that_keeps_selling_can_still_be_ordered(world: World) -> None:
    await fill_alpha(world)

    ja = await world.profile(locale="ja")
    en = await world.profile(locale="en")

    socks = next(item for item in ja.orders[1].items if item.variant_id == SOCKS).stock
    socks_en = next(item for item in en.orders[1].items if item.variant_id == SOCKS).stock
    assert socks is not None and socks_en is not None
    assert socks.available == -2
    assert socks.policy == "CONTINUE"
    assert (socks.level.code, socks.level.text) == ("BACKORDER", "在庫切れ（注文は可能）")
    assert socks_en.level.text == "Out of stock, can still be ordered"


async def test_a_sold_out_variant_that_stops_selling_is_sold_out(world: World) -> None:
    await fill_alpha(world)
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_inventory_levels(
            session,
            shop_id=world.alpha.id or 0,
            levels=[replace(level(801, TOKYO, 0), updated_at=T0 + timedelta(days=1)),
                    replace(level(801, OSAKA, 0), updated_at=T0 + timedelta(days=1))],
            synced_at=SYNCED,
        )  # fmt: skip

    profile = await world.profile(locale="en")

    shirt = profile.orders[0].items[0].stock
    assert shirt is not None
    assert (shirt.available, shirt.level.code, shirt.level.text) == (0, "SOLD_OUT", "Sold out")


async def test_a_variant_without_stock_levels_has_unknown_stock(world: World) -> None:
    await fill_alpha(world)
    async with transaction(world.sessions) as session:
        await mirror_writes.delete_inventory_levels(
            session, shop_id=world.alpha.id or 0, inventory_item_shopify_id=801
        )

    profile = await world.profile(locale="en")

    shirt = profile.orders[0].items[0].stock
    assert shirt is not None
    assert (shirt.available, shirt.locations, shirt.level.code, shirt.level.text) == (
        None,
        [],
        "UNKNOWN",
        "Stock unknown",
    )


async def test_shipments_have_every_tracking_number_with_a_link_and_the_last_event(world: World) -> None:
    await fill_alpha(world)

    profile = await world.profile(locale="ja")

    [third, second, first] = profile.orders
    assert first.shipments == []
    [yamato, other] = second.shipments
    assert yamato.id == 5001
    assert (yamato.status.code, yamato.status.text) == ("OUT_FOR_DELIVERY", "配達中")
    assert yamato.carrier == "ヤマト運輸"
    assert [(t.number, t.company, t.url) for t in yamato.tracking] == [
        (
            "4444-1375-8703",
            "ヤマト運輸",
            "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=444413758703",
        ),
        (
            "4444-1375-8714",
            "ヤマト運輸",
            "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=444413758714",
        ),
    ]
    assert yamato.estimated_delivery_at is not None
    assert yamato.estimated_delivery_at.display == "2026/10/15 14:00"
    assert yamato.last_event is not None
    assert (yamato.last_event.status.code, yamato.last_event.status.text) == ("OUT_FOR_DELIVERY", "配達中")
    assert yamato.last_event.at.iso == "2026-10-13T02:00:00Z"
    assert yamato.last_event.message == "配達中です"
    # Shopify's own URL kept; an unknown carrier's number without one gets no link
    assert (other.status.code, other.status.text) == ("SUCCESS", "発送済み")
    assert other.carrier == "UPS"
    assert [(t.number, t.url) for t in other.tracking] == [
        ("1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("ZZ-0001", None),
    ]
    assert other.last_event is None and other.estimated_delivery_at is None
    [delivered] = third.shipments
    assert (delivered.status.code, delivered.status.text) == ("DELIVERED", "配達完了")
    assert delivered.delivered_at is not None and delivered.delivered_at.iso == "2026-10-23T01:00:00Z"
    [japan_post] = delivered.tracking
    assert (
        japan_post.url is not None
        and "reqCodeNo1=405548424886" in japan_post.url
        and "locale=ja" in japan_post.url
    )


async def test_a_foreign_number_reads_internationally_and_a_guests_phone_nationally(world: World) -> None:
    await fill_alpha(world)
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_customers(
            session,
            shop_id=world.alpha.id or 0,
            customers=[customer(phone="+12125551234", updated_at=T0 + timedelta(days=1))],
            synced_at=SYNCED,
        )

    facts = (await world.profile()).customer
    guest = (
        await world.profile(target=ProfileTarget(customer_shopify_id=None, guest_phone="+819012345678"))
    ).guest

    assert facts is not None
    assert facts.phones == ["+12125551234", "+81312345678"]
    assert facts.phones_display == ["+1 212-555-1234", "03-1234-5678"]
    assert guest is not None
    assert (guest.phone, guest.phone_display) == ("+819012345678", "090-1234-5678")


async def test_carriers_are_named_as_they_name_themselves_in_the_readers_language(world: World) -> None:
    await fill_alpha(world)

    ja = await world.profile(locale="ja")
    en = await world.profile(locale="en")

    # Shopify's "Japan Post (JA)" and the free-text "ヤマト運輸" read as each carrier's own name
    [ja_yamato, ja_other] = ja.orders[1].shipments
    [en_yamato, en_other] = en.orders[1].shipments
    assert (ja_yamato.carrier, en_yamato.carrier) == ("ヤマト運輸", "Yamato Transport")
    assert {t.company for t in en_yamato.tracking} == {"Yamato Transport"}
    assert [t.company for t in ja_other.tracking] == ["UPS", "西濃運輸"]
    assert [t.company for t in en_other.tracking] == ["UPS", "Seino Transportation"]
    [ja_post] = ja.orders[0].shipments
    [en_post] = en.orders[0].shipments
    assert (ja_post.carrier, en_post.carrier) == ("日本郵便", "Japan Post")
    assert [t.company for t in ja_post.tracking] == ["日本郵便"]


async def test_the_shipping_address_and_requested_delivery_are_shown(world: World) -> None:
    await fill_alpha(world)

    ja = await world.profile(locale="ja")
    en = await world.profile(locale="en")

    second = ja.orders[1]
    assert second.shipping_address is not None
    assert second.shipping_address.lines == [
        "〒150-0001",
        "東京都渋谷区神宮前1-2-3",
        "ハイツ神宮前101",
        "山田 花子",
    ]
    assert second.delivery is not None
    assert second.delivery.model_dump() == {"date": "2026/10/15", "slot": "14時〜16時"}
    assert en.orders[1].delivery is not None
    assert en.orders[1].delivery.model_dump() == {"date": "Oct 15, 2026", "slot": "14:00–16:00"}
    assert ja.orders[0].delivery is None  # a gift message is not a delivery request


async def test_earlier_tickets_are_newest_first_without_the_current_one(world: World) -> None:
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)
    old, current, newer = await add_tickets(
        world,
        world.alpha,
        ("サイズ交換", HANAKO, "hanako@example.jp", T0 + timedelta(days=2)),
        ("配送について", HANAKO, "hanako@example.jp", T0 + timedelta(days=30)),
        ("再入荷の質問", HANAKO, "hanako@example.jp", T0 + timedelta(days=12)),
    )
    await add_tickets(world, world.alpha, ("someone else", 777, "other@example.jp", T0))

    profile = await world.profile(exclude_ticket_id=current)

    assert [(t.id, t.subject) for t in profile.earlier_tickets] == [
        (newer, "再入荷の質問"),
        (old, "サイズ交換"),
    ]
    assert profile.earlier_tickets[0].status == TicketStatus.RESOLVED
    assert profile.earlier_tickets[0].created_at.display == "2026/10/13 10:00"


# Guests ---------------------------------------------------------------------------------------------


async def test_a_guest_profile_lists_guest_orders_by_email_or_phone(world: World) -> None:
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)
    shop_id = world.alpha.id
    assert shop_id is not None
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_orders(
            session,
            shop_id=shop_id,
            orders=[
                order(
                    2001,
                    T0 + timedelta(days=3),
                    customer_shopify_id=None,
                    email="guest@example.jp",
                    phone=None,
                ),
                order(
                    2002, T0 + timedelta(days=4), customer_shopify_id=None, email=None, phone="+819099998888"
                ),
                order(2003, T0 + timedelta(days=5), customer_shopify_id=None, email="someone@example.jp"),
                # a customer's order with the same email is that customer's, not the guest's
                order(2004, T0 + timedelta(days=6), email="guest@example.jp"),
            ],
            synced_at=SYNCED,
        )
    [guest_ticket, current] = await add_tickets(
        world,
        world.alpha,
        ("前回の問い合わせ", None, "guest@example.jp", T0 + timedelta(days=4)),
        ("今回", None, "guest@example.jp", T0 + timedelta(days=9)),
    )

    profile = await world.profile(
        target=ProfileTarget(
            customer_shopify_id=None, guest_email="guest@example.jp", guest_phone="+819099998888"
        ),
        exclude_ticket_id=current,
    )

    assert profile.customer is None
    assert profile.guest is not None
    assert profile.guest.model_dump() == {
        "email": "guest@example.jp",
        "phone": "+819099998888",
        "phone_display": "090-9999-8888",
    }
    assert [o.name for o in profile.orders] == ["#2002", "#2001"]
    assert profile.more_orders == 0
    assert [t.id for t in profile.earlier_tickets] == [guest_ticket]


async def test_a_guest_known_only_by_phone_gets_the_orders_with_that_phone(world: World) -> None:
    await fill_beta_with_the_same_ids(world)

    in_beta = await world.profile(
        shop=world.beta, target=ProfileTarget(customer_shopify_id=None, guest_phone="+819099998888")
    )
    in_alpha = await world.profile(
        target=ProfileTarget(customer_shopify_id=None, guest_phone="+819099998888")
    )

    assert [o.name for o in in_beta.orders] == ["#BETA-2"]
    assert in_beta.orders[0].total is not None and in_beta.orders[0].total.display == "$99.00"
    assert in_alpha.orders == [] and in_alpha.earlier_tickets == []


def test_a_profile_target_needs_a_customer_or_a_guest() -> None:
    with pytest.raises(ValueError, match="needs a customer id"):
        ProfileTarget(customer_shopify_id=None, guest_email="", guest_phone=None)


# Tenancy and cost -----------------------------------------------------------------------------------


async def test_another_shops_rows_never_appear(world: World) -> None:
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)
    await add_tickets(world, world.alpha, ("alpha ticket", HANAKO, "hanako@example.jp", T0))

    alpha = (await world.profile(locale="en")).model_dump(mode="json")
    beta = (await world.profile(shop=world.beta, locale="en")).model_dump(mode="json")

    alpha_text, beta_text = repr(alpha), repr(beta)
    for beta_only in ("Intruder", "beta@example.com", "#BETA-1", "Beta warehouse", "beta ticket"):
        assert beta_only not in alpha_text
    for alpha_only in ("山田", "#1002", "東京倉庫", "alpha ticket", "4444-1375-8703"):
        assert alpha_only not in beta_text
    assert alpha["orders"][1]["items"][0]["stock"]["available"] == 15
    assert [o["name"] for o in beta["orders"]] == ["#BETA-1"]
    assert beta["customer"]["name"] == "Intruder Beta"
    assert beta["orders"][0]["items"][0]["stock"]["available"] == 1998
    assert [t["subject"] for t in beta["earlier_tickets"]] == ["beta ticket"]


async def test_a_customer_the_mirror_does_not_hold_has_no_customer_facts(world: World) -> None:
    await fill_beta_with_the_same_ids(world)

    profile = await world.profile()  # customer 501 is only in beta

    assert profile.customer is None and profile.guest is None
    assert profile.orders == [] and profile.more_orders == 0


async def test_the_profile_takes_a_fixed_number_of_queries_each_limited_to_the_shop(world: World) -> None:
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)

    with world.statements() as few:
        await world.profile(orders_limit=1)
    with world.statements() as many:
        await world.profile(orders_limit=10)

    def queries(statements: list[str]) -> list[str]:
        # reads of rows (a driver's connection ping has no FROM)
        return [s for s in statements if s.lstrip().upper().startswith("SELECT") and " FROM " in s.upper()]

    assert len(queries(many)) == len(queries(few)) <= 6
    for statement in queries(many):
        assert "shop_id" in statement, statement


async def test_no_profile_query_walks_a_table_on_sqlite(world: World) -> None:
    await fill_alpha(world)
    await fill_beta_with_the_same_ids(world)
    if world.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans")
    await add_tickets(world, world.alpha, ("guest", None, "guest@example.jp", T0))
    async with transaction(world.sessions) as session:
        await mirror_writes.upsert_orders(
            session,
            shop_id=world.alpha.id or 0,
            orders=[order(2001, T0, customer_shopify_id=None, email="guest@example.jp")],
            synced_at=SYNCED,
        )
    async with world.engine.connect() as connection:
        await connection.exec_driver_sql("ANALYZE")  # plans from statistics, as in a real store
        await connection.commit()
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(world.engine.sync_engine, "before_cursor_execute", record)
    try:
        await world.profile(exclude_ticket_id=1)
        await world.profile(target=ProfileTarget(customer_shopify_id=None, guest_email="guest@example.jp"))
        await world.profile(
            target=ProfileTarget(
                customer_shopify_id=None, guest_email="guest@example.jp", guest_phone="+8190"
            )
        )
    finally:
        event.remove(world.engine.sync_engine, "before_cursor_execute", record)

    assert len(captured) == 6 + 5 + 5  # a guest has no customer row to read
    async with world.engine.connect() as connection:
        for statement, parameters in captured:
            plan = (await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
            steps = [str(step[-1]) for step in plan]
            # (a SELECT of subqueries alone reads one constant row: no table)
            walks = [step for step in steps if step.startswith("SCAN") and step != "SCAN CONSTANT ROW"]
            assert not walks, (statement, steps)


def test_the_profile_serialises_to_the_api_contract() -> None:
    fmt = formatter("ja", "Asia/Tokyo", "JPY")
    assert requested_delivery([["配送希望日", "2026-11-24"]], fmt) is not None
    schema = CustomerProfile.model_json_schema()

    assert set(schema["properties"]) == {
        "as_of",
        "read_at",
        "importing",
        "customer",
        "guest",
        "orders",
        "more_orders",
        "earlier_tickets",
    }
    order_schema = schema["$defs"]["ProfileOrder"]["properties"]
    assert set(order_schema) == {
        "id", "name", "created_at", "financial_status", "fulfillment_status", "cancelled_at", "cancel_reason",
        "total", "items", "shipping_address", "delivery", "shipments", "synced_at",
    }  # fmt: skip
    assert set(schema["$defs"]["Shipment"]["properties"]) == {
        "id", "status", "carrier", "tracking", "estimated_delivery_at", "delivered_at", "last_event",
    }  # fmt: skip
    assert set(schema["$defs"]["Stock"]["properties"]) == {
        "available", "on_hand", "incoming", "policy", "level", "locations",
    }  # fmt: skip


# Delivery requests, names, addresses ----------------------------------------------------------------

JA = formatter("ja", "Asia/Tokyo", "JPY")
EN = formatter("en", "Asia/Tokyo", "JPY")


@pytest.mark.parametrize(
    ("attributes", "ja", "en"),
    [
        ([["配送希望日", "2026-11-24"], ["配送時間帯", "午前中"]], ("2026/11/24", "午前中"), ("Nov 24, 2026", "Morning (before noon)")),
        ([["お届け日", "2026年11月24日"], ["配達時間帯", "19時〜21時"]], ("2026/11/24", "19時〜21時"), ("Nov 24, 2026", "19:00–21:00")),
        ([["お届け希望日", "2026/11/24(火)"], ["お届け時間帯", "指定なし"]], ("2026/11/24", "指定なし"), ("Nov 24, 2026", "No preference")),
        ([["Delivery date", "2026-11-24"], ["Time slot", "14:00-16:00"]], ("2026/11/24", "14時〜16時"), ("Nov 24, 2026", "14:00–16:00")),
        ([["delivery_date", "２０２６－１１－２４"]], ("2026/11/24", None), ("Nov 24, 2026", None)),
        ([["配達希望時間帯", "14-16"]], (None, "14時〜16時"), (None, "14:00–16:00")),
        ([["配送時間帯", "16:30～18:00"]], (None, "16:30〜18:00"), (None, "16:30–18:00")),
        ([["配送希望日", "なるべく早く"]], ("なるべく早く", None), ("なるべく早く", None)),
        ([["配送希望日", "指定なし"], ["配送時間帯", "夜間"]], (None, "夜間"), (None, "夜間")),
        ([["配送希望日", "2026-02-30"]], ("2026-02-30", None), ("2026-02-30", None)),
    ],
)  # fmt: skip
def test_delivery_day_and_slot_are_read_from_custom_attributes(
    attributes: list[list[str]], ja: tuple[str | None, str | None], en: tuple[str | None, str | None]
) -> None:
    ja_delivery = requested_delivery(attributes, JA)
    en_delivery = requested_delivery(attributes, EN)

    assert ja_delivery is not None and en_delivery is not None
    assert (ja_delivery.date, ja_delivery.slot) == ja
    assert (en_delivery.date, en_delivery.slot) == en


@pytest.mark.parametrize(
    "attributes", [[], [["gift_message", "Happy birthday"]], [["配送希望日", "  "]], [["配送時間帯"]]]
)
def test_orders_without_a_delivery_request_have_none(attributes: list[list[str]]) -> None:
    assert requested_delivery(attributes, JA) is None


def test_delivery_parts_parse_on_their_own() -> None:
    assert delivery_day("2026.1.5", JA) == "2026/01/05"
    assert delivery_slot("8時-12時", UiLocale.EN) == "8:00–12:00"
    assert delivery_slot("25時〜26時", UiLocale.EN) == "25時〜26時"  # not a time of day: kept as written


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [("花子", "山田", "山田 花子"), ("Jane", "Doe", "Jane Doe"), ("Jane", None, "Jane"), (None, "山田", "山田"),
     (" ", None, None), (None, None, None)],
)  # fmt: skip
def test_names_follow_their_languages_order(first: str | None, last: str | None, name: str | None) -> None:
    assert person_name(first, last) == name


def test_addresses_outside_japan_read_street_first() -> None:
    lines = address_lines(
        {"name": "Jane Doe", "address1": "1 Main St", "address2": "Apt 2", "city": "Austin",
         "province": "Texas", "province_code": "TX", "zip": "78701", "country": "United States",
         "country_code": "US"}
    )  # fmt: skip

    assert lines is not None
    assert lines.lines == ["Jane Doe", "1 Main St", "Apt 2", "Austin, TX 78701", "United States"]
    assert address_lines({}) is None
    assert address_lines({"country_code": "JP"}) is None
