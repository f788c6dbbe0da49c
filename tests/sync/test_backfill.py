"""Backfill against the simulated store: the first sync after install copies the store exactly (every
order state the generator makes), a run killed at any point resumes with no gap and no duplicate, storms of
THROTTLED/429/503/dropped connections still converge, and two syncs of one shop never run at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlmodel import col

from devstore.config import StoreConfig
from devstore.server import create_store_app
from integrations.shopify import admin_graphql
from integrations.shopify.errors import ShopifyError, ShopifyUnavailable, Throttled
from integrations.shopify.graphql import document
from shop_app.database import transaction
from shop_app.helpdesk.contacts import ContactDetails, find_or_create_contact
from shop_app.helpdesk.tickets import open_ticket
from shop_app.live_events import LiveEvent
from shop_app.main import create_app
from shop_app.mirror import backfill, read_back, sync_run
from shop_app.mirror import writes as mirror_writes
from shop_app.mirror.backfill import backfill_shop
from shop_app.models import (
    Channel,
    Customer,
    Order,
    Shop,
    SyncState,
    Ticket,
)
from shop_app.settings import Settings
from tests.conftest import TEST_API_KEY, TEST_API_SECRET, with_lifespan_state

# shared by the other sync tests, which import them from here
from tests.sync.mirror_equality import _num, _rows, _when, assert_mirror_equals_store  # noqa: F401
from tests.test_install_against_devstore import (
    APP_HOST,
    APP_URL,
    OTHER_SHOP,
    SHOP,
    STORE_HOST,
    HostRouter,
    World,
)

ORDERS = 70
CUSTOMERS = 12
PRODUCTS = 5
FAST_BUCKET = {"maximumAvailable": 2000, "restoreRate": 2000}


@asynccontextmanager
async def sync_world(
    settings: Settings, data_dir: Path, *, orders: int = ORDERS, customers: int = CUSTOMERS
) -> AsyncIterator[World]:
    """App and store in one process (as ``tests.test_install_against_devstore.world``), sized for sync."""
    router = HostRouter()
    store_config = StoreConfig(
        data_dir=data_dir,
        public_url=f"http://{STORE_HOST}",
        apps={TEST_API_KEY: TEST_API_SECRET},
        compliance_urls={TEST_API_KEY: f"{APP_URL}/webhooks/compliance"},
        app_urls={TEST_API_KEY: f"{APP_URL}/app"},
        auto_approve=True,
        orders=orders,
        customers=customers,
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
        store_app = create_store_app(store_config, http=store_http)
        app = create_app(app_settings, http=app_http)
        async with store_app.router.lifespan_context(store_app), app.router.lifespan_context(app) as state:
            assert state is not None
            router.hosts[STORE_HOST] = httpx.ASGITransport(app=store_app)
            router.hosts[APP_HOST] = httpx.ASGITransport(app=with_lifespan_state(app, dict(state)))
            yield World(
                browser=browser, services=state["services"], jobs=state["jobs"], store=store_app.state
            )


async def install(world: World, *domains: str) -> None:
    for domain in domains:
        response = await world.browser.post(
            f"http://{STORE_HOST}/_devstore/throttle", json={"shop": domain, **FAST_BUCKET}
        )
        assert response.status_code == 200
        page = await world.browser.get(f"{APP_URL}/auth/install", params={"shop": domain})
        assert page.status_code == 200
    await world.jobs.drain()
    await world.store.store.webhooks.wait_idle()
    await world.jobs.drain()


@pytest.fixture
async def synced(settings: Settings, tmp_path: Path) -> AsyncIterator[World]:
    async with sync_world(settings, tmp_path / "store") as running:
        await install(running, SHOP, OTHER_SHOP)
        yield running


async def shop_id(world: World, domain: str = SHOP) -> int:
    shop = await world.shop(domain)
    assert shop is not None and shop.id is not None
    return shop.id


async def sync_state(world: World, domain: str = SHOP) -> SyncState:
    async with world.services.sessions() as session:
        state = await session.get(SyncState, await shop_id(world, domain))
    assert state is not None
    return state


async def store_faults(world: World, **settings: Any) -> None:
    response = await world.browser.post(f"http://{STORE_HOST}/_devstore/faults", json=settings)
    assert response.status_code == 200, response.text


def order_states(world: World, domain: str = SHOP) -> set[tuple[str, str, bool]]:
    return {
        (d["displayFinancialStatus"], d["displayFulfillmentStatus"], d.get("cancelledAt") is not None)
        for d in world.store.store.records.iter_type(domain, "Order")
    }


async def test_first_sync_after_install_mirrors_the_store_exactly(synced: World) -> None:
    # given: the install queued the first sync, which the fixture ran
    states = order_states(synced)
    assert len(states) >= 8  # the generator's order states: unpaid, on hold, partial, refunded, cancelled…
    assert ("VOIDED", "UNFULFILLED", True) in states or any(cancelled for *_, cancelled in states)

    # then
    for domain in (SHOP, OTHER_SHOP):
        await assert_mirror_equals_store(synced, domain)
        state = await sync_state(synced, domain)
        assert state.checkpoints.get("completed_at")
        assert state.last_error is None
        assert state.lease_owner is None
        progress = state.progress["resources"]
        assert progress["orders"]["done"] == ORDERS == progress["orders"]["total"]
        assert progress["customers"]["done"] == progress["customers"]["total"]
        assert set(state.watermarks) == set(backfill.RESOURCES)
    async with synced.services.sessions() as session:
        mirrored = await session.scalar(select(func.count()).select_from(Order))
    assert mirrored == 2 * ORDERS


class ImpoliteUntilThrottled(admin_graphql.ThrottleState):
    """Throttle bookkeeping that asks no wait until its client has met THROTTLED once, then paces as usual."""

    def __init__(self, client: admin_graphql.AdminGraphQLClient) -> None:
        super().__init__()
        self.client = client

    def wait_for(self, cost: float, now: float) -> float:
        if self.client.throttled_count == 0:
            return 0.0
        return super().wait_for(cost, now)


class Killed(Exception):
    """Stands for the process dying at this point."""


@pytest.mark.parametrize(
    ("where", "after_calls"),
    [
        ("inside_the_page_transaction", 3),  # upserts written, process dies before commit
        ("between_pages", 4),  # page 3 committed, process dies before fetching page 4
        ("first_page", 1),
    ],
)
async def test_backfill_killed_at_any_point_resumes_with_no_gap_and_no_duplicate(
    synced: World, monkeypatch: pytest.MonkeyPatch, where: str, after_calls: int
) -> None:
    shop = await shop_id(synced)
    calls = 0
    real_upsert = mirror_writes.upsert_orders
    real_fetch = backfill.fetch_page

    async def dying_upsert(session: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = await real_upsert(session, **kwargs)
        calls += 1
        if calls == after_calls:
            raise Killed(where)
        return result

    async def dying_fetch(client: Any, spec: Any, **kwargs: Any) -> Any:
        nonlocal calls
        if spec.name == "orders":
            calls += 1
            if calls == after_calls:
                raise Killed(where)
        return await real_fetch(client, spec, **kwargs)

    if where == "between_pages":
        monkeypatch.setattr(backfill, "fetch_page", dying_fetch)
    else:
        monkeypatch.setattr(mirror_writes, "upsert_orders", dying_upsert)

    # when: a full re-backfill dies part way through the orders
    with pytest.raises(Killed):
        await backfill_shop(synced.services, shop_id=shop, full=True)
    state = await sync_state(synced)
    done_when_killed = state.checkpoints["resources"]["orders"]["done"]
    page = backfill.SPECS["orders"].page_size
    committed_pages = after_calls - 1
    assert done_when_killed == committed_pages * page
    assert state.last_error is not None and "Killed" in state.last_error
    assert state.phase == "failed"

    # then: the next run resumes from the checkpoint and finishes
    monkeypatch.undo()
    await backfill_shop(synced.services, shop_id=shop)
    state = await sync_state(synced)
    assert state.checkpoints.get("completed_at")
    assert state.progress["resources"]["orders"]["done"] == ORDERS  # each page counted exactly once
    await assert_mirror_equals_store(synced)


async def test_a_stale_lease_of_a_dead_worker_is_taken_over(synced: World) -> None:
    shop = await shop_id(synced)
    async with synced.services.sessions() as session, session.begin():
        state = await session.get(SyncState, shop)
        assert state is not None
        state.lease_owner = "dead-worker"
        state.lease_until = datetime(2020, 1, 1, tzinfo=UTC)

    await backfill_shop(synced.services, shop_id=shop, full=True)

    state = await sync_state(synced)
    assert state.lease_owner is None
    assert state.finished_at is not None and state.finished_at > datetime(2020, 1, 2, tzinfo=UTC)


async def test_two_concurrent_backfills_of_one_shop_run_once(
    synced: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = await shop_id(synced)
    runs = 0
    real_totals = backfill.fetch_totals

    async def counting_totals(client: Any) -> Any:
        nonlocal runs
        runs += 1
        return await real_totals(client)

    monkeypatch.setattr(backfill, "fetch_totals", counting_totals)

    await asyncio.gather(
        backfill_shop(synced.services, shop_id=shop, full=True),
        backfill_shop(synced.services, shop_id=shop, full=True),
    )

    assert runs == 1
    state = await sync_state(synced)
    assert state.progress["resources"]["orders"]["done"] == ORDERS
    await assert_mirror_equals_store(synced)


async def test_backfill_converges_through_throttled_429_503_and_dropped_connections(
    synced: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a small bucket that another client of the app drains too (so ours is THROTTLED), and a
    # transport failing often (429 with Retry-After, 503, connections dropped mid-answer)
    monkeypatch.setattr(admin_graphql, "BACKOFF_BASE_SECONDS", 0.005)
    shop = await synced.shop(SHOP)
    assert shop is not None and shop.id is not None
    clients: list[admin_graphql.AdminGraphQLClient] = []
    retries = 0
    real_client, real_backoff = sync_run.admin_client, admin_graphql.AdminGraphQLClient._backoff

    def recording_client(services: Any, shop: Shop) -> admin_graphql.AdminGraphQLClient:
        client = real_client(services, shop)
        # the app's client paces itself from throttleStatus and is then rarely throttled, depending on
        # timing; made to ignore the bucket until it is throttled once, it meets THROTTLED for sure and
        # must recover from it
        client.throttle = ImpoliteUntilThrottled(client)
        clients.append(client)
        return client

    async def counting_backoff(self: Any, attempt: int, reason: str, *, minimum: float = 0.0) -> None:
        nonlocal retries
        retries += 1
        await real_backoff(self, attempt, reason, minimum=minimum)

    monkeypatch.setattr(sync_run, "admin_client", recording_client)
    monkeypatch.setattr(admin_graphql.AdminGraphQLClient, "_backoff", counting_backoff)
    response = await synced.browser.post(
        f"http://{STORE_HOST}/_devstore/throttle",
        json={"shop": SHOP, "maximumAvailable": 1000, "restoreRate": 500},
    )
    assert response.status_code == 200
    await store_faults(
        synced,
        seed=3,
        retry_after_seconds=0.01,
        http_429={"probability": 0.15},
        http_503={"probability": 0.1},
        drop_connection={"every_nth": 9},
    )
    competitor = real_client(synced.services, shop)
    stop = asyncio.Event()

    async def drain_the_bucket() -> None:
        # until ours has been throttled a few times: a competitor polling every 10 ms for as long as the
        # backfill runs can starve it outright on a loaded machine (it wins every race for the refill)
        while not stop.is_set() and sum(c.throttled_count for c in clients) < 3:
            with contextlib.suppress(ShopifyError):
                await competitor.execute(document("sync_totals"), expected_cost=1)
                await competitor.execute(
                    document("backfill_orders"), {"first": 8, "after": None}, expected_cost=1
                )
            await asyncio.sleep(0.01)

    hammering = asyncio.create_task(drain_the_bucket())

    # when: run as the job queue does (tasks.sync_shop), which retries a sync whose page kept failing or
    # kept being throttled (it resumes)
    attempts = 0
    try:
        for attempts in range(1, 6):
            try:
                await backfill_shop(synced.services, shop_id=shop.id, full=attempts == 1)
                break
            except (ShopifyUnavailable, Throttled):
                continue
    finally:
        stop.set()
        await hammering
        await store_faults(synced, http_429=None, http_503=None, drop_connection=None)

    # then
    assert attempts < 5
    assert retries >= 3
    assert sum(client.throttled_count for client in clients) >= 1
    state = await sync_state(synced)
    assert state.last_error is None
    assert state.checkpoints.get("completed_at")
    await assert_mirror_equals_store(synced)


async def test_a_page_that_keeps_failing_keeps_the_checkpoint_and_records_the_error(
    synced: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_graphql, "BACKOFF_BASE_SECONDS", 0.001)
    shop = await shop_id(synced)
    real_fetch = backfill.fetch_page
    order_pages = 0

    async def outage_after_two_pages(client: Any, spec: Any, **kwargs: Any) -> Any:
        nonlocal order_pages
        if spec.name == "orders":
            order_pages += 1
            if order_pages == 3:
                await store_faults(synced, http_503={"probability": 1.0})
        return await real_fetch(client, spec, **kwargs)

    monkeypatch.setattr(backfill, "fetch_page", outage_after_two_pages)

    with pytest.raises(ShopifyUnavailable):
        await backfill_shop(synced.services, shop_id=shop, full=True)

    state = await sync_state(synced)
    assert state.phase == "failed"
    assert state.last_error is not None and "ShopifyUnavailable" in state.last_error
    assert state.checkpoints["resources"]["orders"]["done"] == 2 * backfill.SPECS["orders"].page_size
    assert state.lease_owner is None

    await store_faults(synced, http_503=None)
    await backfill_shop(synced.services, shop_id=shop)
    state = await sync_state(synced)
    assert state.last_error is None
    assert state.progress["resources"]["orders"]["done"] == ORDERS
    await assert_mirror_equals_store(synced)


async def test_refresh_orders_fetches_orders_by_id(synced: World) -> None:
    shop = await synced.shop(SHOP)
    assert shop is not None and shop.id is not None
    wanted = sorted(_num(d["id"]) for d in synced.store.store.records.iter_type(SHOP, "Order"))[:11]
    async with synced.services.sessions() as session, session.begin():
        # lost from the mirror (not deleted in Shopify, which would leave a tombstone)
        await session.execute(
            delete(Order).where(col(Order.shop_id) == shop.id, col(Order.shopify_id).in_(wanted))
        )

    found = await read_back.refresh_orders(synced.services, shop=shop, order_ids=[*wanted, 999])

    assert found == len(wanted)
    await assert_mirror_equals_store(synced)


async def test_a_shop_that_is_not_installed_is_not_synced(synced: World) -> None:
    async with synced.services.sessions() as session, session.begin():
        shop = await session.get(Shop, await shop_id(synced, OTHER_SHOP))
        assert shop is not None
        shop.status = "uninstalled"  # type: ignore[assignment]
    await backfill_shop(synced.services, shop_id=await shop_id(synced, OTHER_SHOP), full=True)
    state = await sync_state(synced, OTHER_SHOP)
    assert state.lease_owner is None


async def test_a_ticket_waiting_for_its_customer_is_linked_when_a_sync_brings_the_customer(
    synced: World,
) -> None:
    # given a customer the mirror lost, and a ticket from them opened meanwhile (nothing to match it with)
    shop_pk = await shop_id(synced)
    async with transaction(synced.services.sessions) as session:
        shop = await session.get_one(Shop, shop_pk)
        customer = (
            await session.execute(
                select(Customer)
                .where(col(Customer.shop_id) == shop_pk, col(Customer.email).is_not(None))
                .order_by(col(Customer.id))
                .limit(1)
            )
        ).scalar_one()
        email, customer_id = customer.email, customer.shopify_id
        await session.execute(delete(Customer).where(col(Customer.id) == customer.id))
        contact = await find_or_create_contact(session, shop=shop, details=ContactDetails(email=email))
        ticket, _ = await open_ticket(
            session,
            shop=shop,
            contact=contact,
            channel=Channel.WEB_CHAT,
            subject="",
            first_message="Where is it?",
        )
    assert ticket.customer_shopify_id is None

    # when the shop is backfilled again, with a console listening
    async with synced.services.events.subscribe(shop_pk) as events:
        await backfill_shop(synced.services, shop_id=shop_pk, full=True)
        heard: list[LiveEvent] = []
        while not events.empty():
            heard.append(events.get_nowait())

    # then the ticket is linked by email, and the console was told
    async with synced.services.sessions() as session:
        linked = await session.get_one(Ticket, ticket.id)
    assert (linked.customer_shopify_id, linked.link_reason) == (customer_id, "email")
    assert any(e.kind == "ticket.updated" and e.data == {"ticket_id": ticket.id} for e in heard)
