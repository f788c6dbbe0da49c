from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest

from devstore.state import StoreState
from devstore.webhooks import RETRY_COUNT, WebhookFaults
from tests.devstore.store.conftest import CLIENT_SECRET, HINODE, FakeApp, install, subscribe

pytestmark = pytest.mark.anyio

PAYLOAD = {
    "id": 6100000000001,
    "admin_graphql_api_id": "gid://shopify/Order/6100000000001",
    "name": "#1001",
    "note": "日本語の備考",
}


@asynccontextmanager
async def delivering(state: StoreState) -> AsyncIterator[None]:
    async with anyio.create_task_group() as group:
        group.start_soon(state.webhooks.run)
        try:
            yield
            await state.webhooks.wait_idle(timeout_seconds=5)
        finally:
            group.cancel_scope.cancel()


async def test_delivery_carries_shopify_headers_and_a_body_hmac(state: StoreState, fake_app: FakeApp) -> None:
    install(state)
    subscribe(state, HINODE, "ORDERS_UPDATED")
    async with delivering(state):
        await state.webhooks.emit(HINODE, "orders/updated", PAYLOAD)
    [received] = fake_app.received
    headers = received.headers
    assert headers["x-shopify-topic"] == "orders/updated"
    assert headers["x-shopify-shop-domain"] == HINODE
    assert headers["x-shopify-api-version"] == "2026-07"
    assert headers["content-type"] == "application/json"
    assert headers["x-shopify-webhook-id"] and headers["x-shopify-event-id"]
    assert headers["x-shopify-triggered-at"].endswith("Z")
    expected = base64.b64encode(
        hmac.new(CLIENT_SECRET.encode(), received.body, hashlib.sha256).digest()
    ).decode()
    assert hmac.compare_digest(headers["x-shopify-hmac-sha256"], expected)
    assert json.loads(received.body) == PAYLOAD


async def test_only_subscribed_topics_of_installed_apps_are_delivered(
    state: StoreState, fake_app: FakeApp
) -> None:
    subscribe(state, HINODE, "ORDERS_UPDATED")
    async with delivering(state):
        await state.webhooks.emit(HINODE, "orders/updated", PAYLOAD)  # not installed
        install(state)
        await state.webhooks.emit(HINODE, "orders/create", PAYLOAD)  # not subscribed
    assert fake_app.received == []


async def test_failures_are_retried_eight_times_with_backoff_then_given_up(
    state: StoreState, fake_app: FakeApp
) -> None:
    fake_app.statuses = [500]
    install(state)
    subscribe(state, HINODE, "ORDERS_UPDATED")
    async with delivering(state):
        await state.webhooks.emit(HINODE, "orders/updated", PAYLOAD)
    assert len(fake_app.received) == 1 + RETRY_COUNT
    assert len({r.headers["x-shopify-webhook-id"] for r in fake_app.received}) == 1
    assert len({r.body for r in fake_app.received}) == 1
    assert state.webhooks.stats()["failed"] == 1
    [delivery] = state.webhooks.deliveries()
    assert delivery.attempts == 1 + RETRY_COUNT
    assert delivery.last_status_code == 500


async def test_backoff_doubles(state: StoreState, fake_app: FakeApp) -> None:
    fake_app.statuses = [503]
    install(state)
    subscribe(state, HINODE, "ORDERS_UPDATED")
    now = [1000.0]
    state.webhooks._timer = lambda: now[0]  # the queue's own time, moved by hand
    state.webhooks.retry_base_delay_seconds = 56.0
    await state.webhooks.emit(HINODE, "orders/updated", PAYLOAD)
    delays = []
    for _ in range(RETRY_COUNT):
        [due] = state.webhooks._claim_due()
        await state.webhooks.attempt(due)
        [pending] = [d for d in state.webhooks.deliveries() if d.status == "pending"]
        next_at = state.webhooks._db.execute(
            "SELECT next_attempt_at FROM deliveries WHERE id = ?", (pending.id,)
        ).fetchone()[0]
        delays.append(next_at - now[0])
        now[0] = next_at
    assert delays == [56.0 * 2**i for i in range(RETRY_COUNT)]
    assert 3.9 * 3600 < sum(delays) < 4.1 * 3600


async def test_a_redirect_counts_as_a_failure(state: StoreState, fake_app: FakeApp) -> None:
    fake_app.statuses = [301, 200]
    install(state)
    subscribe(state, HINODE, "ORDERS_UPDATED")
    async with delivering(state):
        await state.webhooks.emit(HINODE, "orders/updated", PAYLOAD)
    assert len(fake_app.received) == 2
    assert state.webhooks.stats()["delivered"] == 1


async def test_duplicates_share_the_event_id(state: StoreState, fake_app: FakeApp) -> None:
    install(state)
    subscribe(state, HINODE, "ORDERS_UPDATED")
    state.webhooks.set_faults(WebhookFaults(duplicate_rate=1.0, seed=1))
    async with delivering(state):
        await state.webhooks.emit(HINODE, "orders/updated", PAYLOAD)
    first, second = fake_app.received
    assert first.headers["x-shopify-event-id"] == second.headers["x-shopify-event-id"]
    assert first.headers["x-shopify-webhook-id"] != second.headers["x-shopify-webhook-id"]
    assert first.body == second.body


async def test_dropped_deliveries_never_arrive(state: StoreState, fake_app: FakeApp) -> None:
    install(state)
    subscribe(state, HINODE, "ORDERS_UPDATED")
    state.webhooks.set_faults(WebhookFaults(drop_rate=1.0))
    async with delivering(state):
        await state.webhooks.emit(HINODE, "orders/updated", PAYLOAD)
    assert fake_app.received == []
    assert state.webhooks.stats()["dropped"] == 1


async def test_reordering_window_delivers_out_of_order(state: StoreState, fake_app: FakeApp) -> None:
    install(state)
    subscribe(state, HINODE, "ORDERS_UPDATED")
    state.webhooks.set_faults(WebhookFaults(reorder_window_seconds=0.05, seed=3))
    async with delivering(state):
        for number in range(12):
            await state.webhooks.emit(HINODE, "orders/updated", {**PAYLOAD, "seq": number})
    order = [json.loads(r.body)["seq"] for r in fake_app.received]
    assert sorted(order) == list(range(12))
    assert order != list(range(12))


async def test_faults_are_set_over_http(client: httpx.AsyncClient, state: StoreState) -> None:
    answer = await client.post("/_devstore/webhook-faults", json={"duplicate_rate": 0.5, "delay_seconds": 2})
    assert answer.status_code == 200
    assert state.webhooks.faults.duplicate_rate == 0.5
    assert (await client.post("/_devstore/webhook-faults", json={"drop_rate": 3})).status_code == 400
    assert (await client.post("/_devstore/webhook-faults", json={"bogus": 1})).status_code == 400


async def test_compliance_topics_go_to_the_compliance_url(seeded: StoreState, fake_app: FakeApp) -> None:
    install(seeded)
    async with delivering(seeded):
        await seeded.webhooks.emit(HINODE, "shop/redact", {"shop_id": 1, "shop_domain": HINODE})
    [received] = fake_app.received
    assert received.headers["x-shopify-topic"] == "shop/redact"
