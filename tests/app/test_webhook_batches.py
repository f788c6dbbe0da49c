"""Mirror updates are processed in batches: whole-record topics written together, the rest one by one, in
one transaction per batch with savepoints, so a bad delivery in the middle fails alone."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.jobs.tasks import RetryLater, process_webhooks
from shop_app.mirror.webhooks.handlers import GROUPS, HANDLERS, WebhookContext
from shop_app.models import DeliveryStatus, Order, WebhookDelivery
from tests.app.conftest import ALPHA, PAYLOADS, RunningApp, TwoShops


def _order_body(order_id: int, name: str) -> bytes:
    order = json.loads((PAYLOADS / "Order.json").read_text())
    order["id"] = order_id
    order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    order["name"] = name
    return json.dumps(order).encode()


async def test_a_bad_delivery_in_a_batch_fails_alone(app: RunningApp, shops: TwoShops) -> None:
    # given: three order updates stored, the middle one structurally broken
    await app.pause_jobs()
    bodies = [
        _order_body(9001, "#9001"),
        json.dumps({"id": "not-a-number", "admin_graphql_api_id": 5}).encode(),
        _order_body(9003, "#9003"),
    ]
    for body in bodies:
        response = await app.webhook("orders/updated", ALPHA, body)
        assert response.status_code == 200
    deliveries = await app.deliveries(shops.alpha)
    assert [d.status for d in deliveries] == [DeliveryStatus.PENDING] * 3

    # when
    await process_webhooks(app.services, delivery_ids=[d.id for d in deliveries if d.id is not None])

    # then
    async with app.services.sessions() as session:
        statuses = (
            (
                await session.execute(select(WebhookDelivery.status).order_by(WebhookDelivery.id))  # type: ignore[arg-type]
            )
            .scalars()
            .all()
        )
        names = (await session.execute(select(Order.name).order_by(Order.name))).scalars().all()  # type: ignore[arg-type]
    assert statuses == [DeliveryStatus.DONE, DeliveryStatus.FAILED, DeliveryStatus.DONE]
    assert names == ["#9001", "#9003"]


async def test_a_handler_failing_after_writing_leaves_nothing_of_its_delivery(
    app: RunningApp, shops: TwoShops, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the grouped write of the batch fails, so each delivery is handled alone; that handler writes
    # the order, then fails for #9002 only
    real = HANDLERS["orders/updated"]

    async def group_fails(session: AsyncSession, shop_id: int, records: list[Any]) -> None:
        raise RuntimeError("grouped write failed")

    monkeypatch.setitem(GROUPS, "orders/updated", replace(GROUPS["orders/updated"], write=group_fails))

    async def fails_after_writing(context: WebhookContext) -> None:
        await real(context)
        if context.payload["name"] == "#9002":
            raise RuntimeError("failed after writing")

    monkeypatch.setitem(HANDLERS, "orders/updated", fails_after_writing)
    await app.pause_jobs()
    for order_id in (9001, 9002, 9003):
        response = await app.webhook("orders/updated", ALPHA, _order_body(order_id, f"#{order_id}"))
        assert response.status_code == 200
    deliveries = await app.deliveries(shops.alpha)

    # when
    with pytest.raises(RetryLater):
        await process_webhooks(app.services, delivery_ids=[d.id for d in deliveries if d.id is not None])

    # then: #9002 rolled back to its savepoint and waits for a retry; the others are applied
    async with app.services.sessions() as session:
        statuses = (
            (
                await session.execute(select(WebhookDelivery.status).order_by(WebhookDelivery.id))  # type: ignore[arg-type]
            )
            .scalars()
            .all()
        )
        names = (await session.execute(select(Order.name).order_by(Order.name))).scalars().all()  # type: ignore[arg-type]
    assert statuses == [DeliveryStatus.DONE, DeliveryStatus.PENDING, DeliveryStatus.DONE]
    assert names == ["#9001", "#9003"]
