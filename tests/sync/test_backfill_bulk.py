"""The bulk operation path: chosen by size (here forced with a zero threshold), woken by
``bulk_operations/finish``, the JSONL streamed and joined by ``__parentId`` whatever the line order, and
resumable without starting a second operation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from integrations.shopify.graphql_resources import parse_order
from shop_app.mirror import bulk_backfill
from shop_app.mirror.backfill import backfill_shop
from shop_app.mirror.bulk_backfill import Staging, assemble_fulfillment_orders, assemble_order
from shop_app.models import WebhookDelivery
from shop_app.settings import Settings
from tests.sync.test_backfill import (
    ORDERS,
    OTHER_SHOP,
    SHOP,
    Killed,
    World,
    assert_mirror_equals_store,
    install,
    shop_id,
    sync_state,
    sync_world,
)


@pytest.fixture
async def bulk_synced(settings: Settings, tmp_path: Path) -> AsyncIterator[World]:
    async with sync_world(replace(settings, sync_bulk_threshold=0), tmp_path / "store") as running:
        await install(running, SHOP, OTHER_SHOP)
        yield running


def bulk_operations(world: World, domain: str = SHOP) -> list[dict[str, Any]]:
    return list(world.store.store.records.iter_type(domain, "BulkOperation"))


def die_in_batch(monkeypatch: pytest.MonkeyPatch, resource: str, batch: int) -> Any:
    """Batches of 20 roots, and the process killed as it converts batch ``batch`` of ``resource``; the
    real converter, to put back."""
    monkeypatch.setattr(bulk_backfill, "ROOTS_PER_BATCH", 20)
    real = bulk_backfill.to_resources
    seen = 0

    def dying(name: str, roots: Any) -> Any:
        nonlocal seen
        if name == resource:
            seen += 1
            if seen == batch:
                raise Killed(f"during batch {batch} of {resource}")
        return real(name, roots)

    monkeypatch.setattr(bulk_backfill, "to_resources", dying)
    return real


async def test_large_stores_are_backfilled_by_bulk_operation(bulk_synced: World) -> None:
    for domain in (SHOP, OTHER_SHOP):
        state = await sync_state(bulk_synced, domain)
        assert state.progress["resources"]["orders"]["mode"] == "bulk"
        assert state.progress["resources"]["customers"]["mode"] == "bulk"
        assert state.progress["resources"]["orders"]["done"] == ORDERS
        assert state.progress["resources"]["fulfillment_orders"] == {
            "done": ORDERS,
            "total": ORDERS,
            "mode": "bulk",
        }
        assert state.last_error is None
        await assert_mirror_equals_store(bulk_synced, domain)
    assert {op["status"] for op in bulk_operations(bulk_synced)} == {"COMPLETED"}
    async with bulk_synced.services.sessions() as session:
        topics = (await session.execute(select(WebhookDelivery.topic))).scalars().all()
    assert "bulk_operations/finish" in topics  # the store told the app; the handler woke the waiter


async def test_a_killed_bulk_load_resumes_with_the_same_operation(
    bulk_synced: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = await shop_id(bulk_synced)
    real = die_in_batch(monkeypatch, "orders", 3)
    operations_before = len(bulk_operations(bulk_synced))

    with pytest.raises(Killed):
        await backfill_shop(bulk_synced.services, shop_id=shop, full=True)
    state = await sync_state(bulk_synced)
    assert state.checkpoints["resources"]["orders"]["done"] == 40
    assert state.checkpoints["resources"]["orders"]["bulk_id"]

    monkeypatch.setattr(bulk_backfill, "to_resources", real)
    await backfill_shop(bulk_synced.services, shop_id=shop)

    state = await sync_state(bulk_synced)
    assert state.progress["resources"]["orders"]["done"] == ORDERS
    # customers, orders and their fulfillment orders once each for the full run; the resumed run
    # started none of its own
    assert len(bulk_operations(bulk_synced)) == operations_before + 3
    await assert_mirror_equals_store(bulk_synced)


async def test_a_run_killed_reading_fulfillment_orders_resumes_there(
    bulk_synced: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a full run killed in the second batch of the fulfillment orders operation
    shop = await shop_id(bulk_synced)
    real = die_in_batch(monkeypatch, "fulfillment_orders", 2)
    operations_before = len(bulk_operations(bulk_synced))
    with pytest.raises(Killed):
        await backfill_shop(bulk_synced.services, shop_id=shop, full=True)
    state = await sync_state(bulk_synced)
    assert state.checkpoints["resources"]["orders"]["complete"]
    assert state.checkpoints["resources"]["fulfillment_orders"]["done"] == 20

    # when
    monkeypatch.setattr(bulk_backfill, "to_resources", real)
    await backfill_shop(bulk_synced.services, shop_id=shop)

    # then: the orders were not read again, and every fulfillment order line is mirrored
    state = await sync_state(bulk_synced)
    assert state.progress["resources"]["fulfillment_orders"]["done"] == ORDERS
    assert len(bulk_operations(bulk_synced)) == operations_before + 3
    await assert_mirror_equals_store(bulk_synced)


def test_jsonl_children_are_joined_to_parents_in_any_order(tmp_path: Path) -> None:
    order = {
        "id": "gid://shopify/Order/1",
        "name": "#1001",
        "createdAt": "2026-11-01T00:00:00Z",
        "updatedAt": "2026-11-02T00:00:00Z",
        "fulfillments": [
            {
                "id": "gid://shopify/Fulfillment/5",
                "status": "SUCCESS",
                "createdAt": "2026-11-01T01:00:00Z",
                "updatedAt": "2026-11-01T02:00:00Z",
                "trackingInfo": [{"number": "123", "company": "Yamato", "url": None}],
            }
        ],
    }
    lines = [
        {
            "id": "gid://shopify/FulfillmentOrderLineItem/9",
            "lineItem": {"id": "gid://shopify/LineItem/2"},
            "remainingQuantity": 1,
            "totalQuantity": 2,
            "__parentId": "gid://shopify/FulfillmentOrder/3",
        },
        {
            "id": "gid://shopify/LineItem/2",
            "title": "Tee",
            "quantity": 2,
            "__parentId": "gid://shopify/Order/1",
        },
        {
            "id": "gid://shopify/FulfillmentEvent/7",
            "status": "IN_TRANSIT",
            "happenedAt": "2026-11-01T03:00:00Z",
            "__parentId": "gid://shopify/Fulfillment/5",
        },
        {
            "id": "gid://shopify/Order/2",
            "name": "#1002",
            "createdAt": "2026-11-01T00:00:00Z",
            "updatedAt": "2026-11-01T00:00:00Z",
        },
        {
            "id": "gid://shopify/FulfillmentOrder/3",
            "status": "OPEN",
            "requestStatus": "UNSUBMITTED",
            "__parentId": "gid://shopify/Order/1",
        },
        order,
    ]
    jsonl = tmp_path / "result.jsonl"
    jsonl.write_text("".join(json.dumps(line).replace("/", "\\/") + "\n" for line in lines))
    staging = Staging(tmp_path / "staging.db")
    try:
        assert staging.load(jsonl) == len(lines)
        batch = staging.batch(0, 10)
    finally:
        staging.close()

    assert [num for num, _, _ in batch] == [1, 2]
    first = parse_order(assemble_order(batch[0][1], batch[0][2]))
    assert [item.shopify_id for item in first.line_items or ()] == [2]
    assert first.fulfillment_orders is None  # left alone: they come from their own operation
    [fulfillment_order] = assemble_fulfillment_orders(batch[0][2])
    assert (fulfillment_order.shopify_id, fulfillment_order.status) == (3, "OPEN")
    assert [
        (line.line_item_shopify_id, line.remaining_quantity) for line in fulfillment_order.line_items
    ] == [(2, 1)]
    assert first.fulfillments is not None
    assert [event.status for event in first.fulfillments[0].events or ()] == ["IN_TRANSIT"]
    second = parse_order(assemble_order(batch[1][1], batch[1][2]))
    assert second.line_items == () and second.fulfillments == ()
