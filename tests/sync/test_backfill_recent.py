"""The first import of a large store: bulk operations chosen by size, and the recent orders with their
customers' whole profiles paged first, before the bulk results arrive; the end state is the store's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.mirror import bulk_backfill
from shop_app.mirror import recent_first as recent_module
from shop_app.mirror.backfill import backfill_shop, choose_mode
from shop_app.mirror.resources import fetch_page as real_fetch
from shop_app.models import Customer, Order
from shop_app.settings import Settings, load_settings
from tests.sync.test_backfill import (
    OTHER_SHOP,
    SHOP,
    Killed,
    World,
    _num,
    _when,
    assert_mirror_equals_store,
    install,
    shop_id,
    sync_state,
    sync_world,
)

RECENT_DAYS = 3
ORDERS = 240
CUSTOMERS = 60


@pytest.fixture
async def world(settings: Settings, tmp_path: Path) -> AsyncIterator[World]:
    large = replace(settings, sync_bulk_threshold=0, sync_recent_days=RECENT_DAYS)
    async with sync_world(large, tmp_path / "store", orders=ORDERS, customers=CUSTOMERS) as running:
        yield running


async def mirrored(world: World, domain: str) -> tuple[set[int], set[int]]:
    """The shop's mirrored order and customer ids."""
    shop = await shop_id(world, domain)
    async with world.services.sessions() as session:
        orders = set(
            (await session.execute(select(col(Order.shopify_id)).where(col(Order.shop_id) == shop))).scalars()
        )
        customers = set(
            (
                await session.execute(select(col(Customer.shopify_id)).where(col(Customer.shop_id) == shop))
            ).scalars()
        )
    return orders, customers


def store_orders(world: World, domain: str) -> list[dict[str, Any]]:
    return list(world.store.store.records.iter_type(domain, "Order"))


def test_small_stores_are_paged_and_larger_ones_read_by_bulk_operation(settings: Settings) -> None:
    services: Any = type("S", (), {"settings": replace(settings, sync_bulk_threshold=1000)})()

    assert choose_mode(services, "orders", 999) == "pages"
    assert choose_mode(services, "orders", 1000) == "bulk"
    assert choose_mode(services, "customers", 5000) == "bulk"
    assert choose_mode(services, "products", 10**6) == "pages"  # no bulk path for the catalogue
    assert choose_mode(services, "orders", None) == "pages"  # unknown size: the safe path
    assert Settings().sync_bulk_threshold == 1000


async def test_recent_orders_and_their_customers_profiles_are_whole_before_the_bulk_results(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a snapshot of the mirror taken when the run first waits for a bulk operation's result
    snapshots: dict[int, tuple[set[int], set[int], str, int]] = {}
    real_wait = bulk_backfill.wait_for

    async def observed(run: Any, gid: str) -> Any:
        if run.shop_id not in snapshots:
            orders, customers = await mirrored(world, run.shop.domain)
            done = int(run.entry("orders").get("done", 0))
            snapshots[run.shop_id] = (orders, customers, str(run.checkpoints["recent"]["since"]), done)
        return await real_wait(run, gid)

    monkeypatch.setattr(bulk_backfill, "wait_for", observed)

    # when
    await install(world, SHOP, OTHER_SHOP)

    # then
    for domain in (SHOP, OTHER_SHOP):
        orders_then, customers_then, since, bulk_done = snapshots[await shop_id(world, domain)]
        assert bulk_done == 0  # nothing of the bulk results written yet
        docs = store_orders(world, domain)
        boundary = _when(since)
        assert boundary is not None
        recent = [d for d in docs if (_when(d["createdAt"]) or boundary) >= boundary]
        assert recent, "the generated store has orders in the recent window"
        assert {_num(d["id"]) for d in recent} <= orders_then
        recent_customers = {d["customer"] for d in recent if d.get("customer")}
        assert {_num(gid) for gid in recent_customers} <= customers_then
        for customer in recent_customers:  # their profiles whole: every order of theirs, of any age
            assert {_num(d["id"]) for d in docs if d.get("customer") == customer} <= orders_then
        assert len(orders_then) < len(docs)  # the older history was still to come
        state = await sync_state(world, domain)
        assert state.checkpoints["recent"]["complete"] is True
        assert state.progress["resources"]["orders"]["mode"] == "bulk"
        assert state.last_error is None
        await assert_mirror_equals_store(world, domain)


async def test_a_run_killed_in_the_recent_pass_resumes_at_its_page(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the recent pass killed as it reads its second page of recent orders
    await install(world, SHOP, OTHER_SHOP)
    shop = await shop_id(world)
    recent_pages = 0

    async def dying(
        client: Any, spec: Any, *, after: str | None, query: str | None = None, **sort: Any
    ) -> Any:
        nonlocal recent_pages
        if query is not None and query.startswith("created_at:>="):
            recent_pages += 1
            if recent_pages == 2:
                raise Killed("during the second page of recent orders")
        return await real_fetch(client, spec, after=after, query=query, **sort)

    monkeypatch.setattr(recent_module, "fetch_page", dying)
    with pytest.raises(Killed):
        await backfill_shop(world.services, shop_id=shop, full=True)
    state = await sync_state(world)
    first_page = dict(state.checkpoints["recent"])
    assert first_page["done"] > 0 and first_page["cursor"] and not first_page["complete"]

    # when
    recent_pages = 10  # no more deaths
    resumed_from: list[str | None] = []

    async def recording(
        client: Any, spec: Any, *, after: str | None, query: str | None = None, **sort: Any
    ) -> Any:
        if query is not None and query.startswith("created_at:>=") and not resumed_from:
            resumed_from.append(after)
        return await real_fetch(client, spec, after=after, query=query, **sort)

    monkeypatch.setattr(recent_module, "fetch_page", recording)
    await backfill_shop(world.services, shop_id=shop)

    # then: it went on from the committed cursor, with the same window, and the end state is the store's
    assert resumed_from == [first_page["cursor"]]
    state = await sync_state(world)
    assert state.checkpoints["recent"]["since"] == first_page["since"]
    assert state.checkpoints["recent"]["complete"] is True
    assert state.checkpoints.get("completed_at")
    await assert_mirror_equals_store(world)


async def test_the_recent_pass_reads_the_newest_first_and_stops_at_its_points_budget(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a budget of one point, spent by the first page; the mirror as the run first waits for a result
    capped = replace(settings, sync_bulk_threshold=0, sync_recent_days=RECENT_DAYS, sync_recent_points=1)
    snapshots: dict[int, set[int]] = {}
    real_wait = bulk_backfill.wait_for
    recent_pages = 0

    async def counting(
        client: Any, spec: Any, *, after: str | None, query: str | None = None, **sort: Any
    ) -> Any:
        nonlocal recent_pages
        if query is not None and query.startswith("created_at:>="):
            recent_pages += 1
        return await real_fetch(client, spec, after=after, query=query, **sort)

    running: list[World] = []

    async def observed(run: Any, gid: str) -> Any:
        if run.shop_id not in snapshots:
            snapshots[run.shop_id] = (await mirrored(running[0], run.shop.domain))[0]
        return await real_wait(run, gid)

    monkeypatch.setattr(recent_module, "fetch_page", counting)
    monkeypatch.setattr(bulk_backfill, "wait_for", observed)

    # when
    async with sync_world(capped, tmp_path / "store", orders=ORDERS, customers=CUSTOMERS) as world:
        running.append(world)
        await install(world, SHOP)

        # then: one page of recent orders, the newest, with their customers' whole histories; the rest came
        # by the bulk import, and the end state is the store's
        assert recent_pages == 1
        state = await sync_state(world)
        recent = state.checkpoints["recent"]
        assert recent["complete"] is True and recent["capped"] is True
        assert recent["points"] >= 1
        docs = store_orders(world, SHOP)
        newest = sorted(docs, key=lambda d: (d["createdAt"], _num(d["id"])), reverse=True)[:8]
        orders_then = snapshots[await shop_id(world)]
        assert {_num(d["id"]) for d in newest} <= orders_then
        for customer in {d["customer"] for d in newest if d.get("customer")}:
            assert {_num(d["id"]) for d in docs if d.get("customer") == customer} <= orders_then
        boundary = _when(recent["since"])
        assert boundary is not None
        in_window = {_num(d["id"]) for d in docs if (_when(d["createdAt"]) or boundary) >= boundary}
        assert not in_window <= orders_then  # the window had more than the budget allowed
        assert state.last_error is None
        await assert_mirror_equals_store(world, SHOP)


def test_the_recent_pass_budget_is_a_setting(tmp_path: Path) -> None:
    assert Settings().sync_recent_points == 4000
    environ = {"SHOP_APP_DATA_DIR": str(tmp_path), "SHOP_APP_SYNC_RECENT_POINTS": "0"}
    assert load_settings(environ).sync_recent_points == 0
