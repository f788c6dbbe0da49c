"""Reconciliation: changes whose webhooks were lost are repaired by the sweep, reported by id, and the
watermarks move on; nothing else is touched."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.shopify.graphql_resources import id_from_gid
from shop_app.jobs.tasks import TaskName
from shop_app.mirror.reconciliation import reconcile_shop
from shop_app.models import Customer, InventoryLevel, Order
from tests.sync.test_backfill import (  # noqa: F401
    OTHER_SHOP,
    SHOP,
    STORE_HOST,
    World,
    _rows,
    assert_mirror_equals_store,
    shop_id,
    sync_state,
    synced,
)

DOMAINS = (SHOP, OTHER_SHOP)


async def drop_webhooks(world: World, rate: float) -> None:
    response = await world.browser.post(
        f"http://{STORE_HOST}/_devstore/webhook-faults", json={"drop_rate": rate}
    )
    assert response.status_code == 200, response.text


async def test_reconciliation_repairs_changes_whose_webhooks_were_dropped(synced: World) -> None:  # noqa: F811
    # given: webhooks are lost while the store changes a customer, an order and some stock
    shop = await shop_id(synced)
    await drop_webhooks(synced, 1.0)
    activity = synced.store.activity
    customer = await activity.update_customer(SHOP)
    order = await activity.cancel(SHOP)
    stock = await activity.adjust_stock(SHOP, delta=7)
    await synced.store.store.webhooks.wait_idle()
    await synced.jobs.drain()
    await drop_webhooks(synced, 0.0)
    customer_id, order_id = id_from_gid(customer.subject), id_from_gid(order.subject)
    mirrored = {row.shopify_id: row for row in await _rows(synced, Customer, shop)}
    store_doc = synced.store.store.records.get(SHOP, customer.subject)
    assert mirrored[customer_id].tags != list(store_doc["tags"])  # the mirror missed it
    before = await sync_state(synced)

    # when
    report = await reconcile_shop(synced.services, shop_id=shop)

    # then
    assert customer_id in report["resources"]["customers"]["changed_ids"]
    assert order_id in report["resources"]["orders"]["changed_ids"]
    assert report["resources"]["inventory"]["changed"] >= 1
    assert stock.subject is not None
    assert report["repaired"] >= 3
    await assert_mirror_equals_store(synced)
    orders = {row.shopify_id: row for row in await _rows(synced, Order, shop)}
    assert orders[order_id].cancelled_at is not None
    state = await sync_state(synced)
    assert state.last_reconcile_report == report
    assert state.last_reconciled_at is not None
    for name, mark in state.watermarks.items():
        assert datetime.fromisoformat(mark) > datetime.fromisoformat(before.watermarks[name])
    assert state.lease_owner is None


async def test_reconciliation_with_nothing_missed_changes_nothing(synced: World) -> None:  # noqa: F811
    shop = await shop_id(synced)
    levels_before = await _rows(synced, InventoryLevel, shop)

    report = await reconcile_shop(synced.services, shop_id=shop)
    again = await reconcile_shop(synced.services, shop_id=shop)

    assert "skipped" not in report
    assert again["repaired"] == 0
    assert all(entry["changed_ids"] == [] for entry in again["resources"].values())
    assert len(await _rows(synced, InventoryLevel, shop)) == len(levels_before)


async def test_reconciliation_skips_a_shop_whose_sync_is_running(synced: World) -> None:  # noqa: F811
    shop = await shop_id(synced)
    from shop_app.mirror.sync_states import release_lease, take_lease

    assert await take_lease(synced.services.sessions, shop_id=shop, owner="someone-else")
    try:
        report = await reconcile_shop(synced.services, shop_id=shop)
    finally:
        await release_lease(synced.services.sessions, shop_id=shop, owner="someone-else")

    assert report == {"skipped": True, "reason": "sync_running_or_shop_inactive"}


async def test_scheduled_reconciliation_task_sweeps_every_installed_shop(synced: World) -> None:  # noqa: F811
    before = {domain: (await sync_state(synced, domain)).last_reconciled_at for domain in DOMAINS}

    await synced.jobs.enqueue(TaskName.RECONCILE_ALL_SHOPS)
    await synced.jobs.drain()

    for domain in DOMAINS:
        state: Any = await sync_state(synced, domain)
        assert state.last_reconciled_at is not None
        assert before[domain] is None or state.last_reconciled_at > before[domain]
