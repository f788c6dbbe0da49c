from __future__ import annotations

import json

import httpx
import pytest

from devstore.activity import StoreActivity
from devstore.state import StoreState
from tests.devstore.store.conftest import CLIENT_ID, HINODE, NORTHWIND, FakeApp, FakeClock, install, subscribe

pytestmark = pytest.mark.anyio


async def test_a_new_order_announces_itself(seeded: StoreState, activity: StoreActivity) -> None:
    change = await activity.create_order(HINODE, paid=True)
    assert change.topics[-3:-1] == ["orders/create", "orders/paid"] or "orders/create" in change.topics
    assert "orders/paid" in change.topics
    assert "inventory_levels/update" in change.topics
    order = seeded.records.get(HINODE, change.subject or "")
    assert order is not None
    assert order["name"] == "#1081"
    assert order["displayFinancialStatus"] == "PAID"


async def test_fulfilling_then_advancing_a_shipment(
    seeded: StoreState, activity: StoreActivity, clock: FakeClock
) -> None:
    placed = await activity.create_order(NORTHWIND, paid=True)
    order_gid = placed.subject or ""
    clock.advance(3600)
    fulfilled = await activity.fulfil(NORTHWIND, order_gid, partial=False)
    assert {"fulfillments/create", "orders/fulfilled", "orders/updated"} <= set(fulfilled.topics)
    clock.advance(3600)
    moved = await activity.advance_shipment(NORTHWIND, order_gid, status="IN_TRANSIT")
    assert moved.topics == ["fulfillment_events/create", "fulfillments/update", "orders/updated"]
    order = seeded.records.get(NORTHWIND, order_gid)
    assert order is not None
    assert order["fulfillments"][0]["displayStatus"] == "IN_TRANSIT"
    assert order["updatedAt"] > order["createdAt"]
    for status in ("OUT_FOR_DELIVERY", "DELIVERED"):
        clock.advance(3600)
        await activity.advance_shipment(NORTHWIND, order_gid, status=status)
    order = seeded.records.get(NORTHWIND, order_gid)
    assert order is not None
    assert order["fulfillments"][0]["deliveredAt"] is not None
    assert order["closedAt"] is not None


async def test_partial_fulfilment_is_announced_as_partial(
    seeded: StoreState, activity: StoreActivity
) -> None:
    candidates = [
        o
        for o in seeded.records.iter_type(HINODE, "Order")
        if o["displayFulfillmentStatus"] == "UNFULFILLED"
        and o["displayFinancialStatus"] == "PAID"
        and len(o["lineItems"]) > 1
        and not o["cancelledAt"]
    ]
    if not candidates:
        pytest.skip("no multi-line unfulfilled order in this seed")
    change = await activity.fulfil(HINODE, candidates[0]["id"], partial=True)
    assert "orders/partially_fulfilled" in change.topics


async def test_refund_cancel_stock_and_customer_changes_emit_their_topics(
    seeded: StoreState, activity: StoreActivity
) -> None:
    assert "refunds/create" in (await activity.refund(HINODE)).topics
    cancelled = await activity.cancel(HINODE)
    assert "orders/cancelled" in cancelled.topics
    stock = await activity.adjust_stock(HINODE, delta=5)
    assert stock.topics == ["inventory_levels/update", "products/update"]
    assert (await activity.update_customer(HINODE)).topics == ["customers/update"]


async def test_changes_reach_a_subscribed_app(
    seeded: StoreState, activity: StoreActivity, fake_app: FakeApp
) -> None:
    install(seeded)
    subscribe(seeded, HINODE, "ORDERS_CREATE")
    change = await activity.create_order(HINODE)
    [due] = seeded.webhooks._claim_due()
    assert await seeded.webhooks.attempt(due)
    body = json.loads(fake_app.received[0].body)
    assert body["admin_graphql_api_id"] == change.subject
    assert body["id"] == int((change.subject or "").rsplit("/", 1)[1])
    assert isinstance(body["line_items"][0]["id"], int)


async def test_uninstall_revokes_and_sends_app_uninstalled(
    seeded: StoreState, activity: StoreActivity, fake_app: FakeApp
) -> None:
    tokens = install(seeded)
    subscribe(seeded, HINODE, "APP_UNINSTALLED")
    change = await activity.uninstall_app(HINODE, CLIENT_ID)
    assert change.topics == ["app/uninstalled"]
    assert seeded.tokens.lookup_access_token(HINODE, tokens.access_token).client_id is None
    [due] = seeded.webhooks._claim_due()
    assert await seeded.webhooks.attempt(due)
    assert json.loads(fake_app.received[0].body)["myshopify_domain"] == HINODE
    assert seeded.records.count(HINODE, "WebhookSubscription") == 0


async def test_compliance_request_from_the_admin_page(
    seeded: StoreState, client: httpx.AsyncClient, fake_app: FakeApp
) -> None:
    install(seeded)
    answer = await client.post(
        f"/s/{HINODE}/admin/actions/send_compliance",
        data={"topic": "customers/data_request", "client_id": CLIENT_ID},
    )
    assert answer.status_code == 303
    [due] = seeded.webhooks._claim_due()
    assert await seeded.webhooks.attempt(due)
    body = json.loads(fake_app.received[0].body)
    assert body["shop_domain"] == HINODE
    assert set(body) == {"shop_id", "shop_domain", "orders_requested", "customer", "data_request"}


async def test_admin_page_and_storefront_escape_text(seeded: StoreState, client: httpx.AsyncClient) -> None:
    order = next(seeded.records.iter_type(HINODE, "Order"))
    order["shippingAddress"]["name"] = "<script>alert(1)</script>"
    order["createdAt"] = "2099-01-01T00:00:00Z"
    seeded.records.put(HINODE, order)
    admin = await client.get(f"/s/{HINODE}/admin")
    assert admin.status_code == 200
    assert "<script>alert(1)</script>" not in admin.text
    assert "&lt;script&gt;" in admin.text
    storefront = await client.get(f"/s/{HINODE}/")
    assert storefront.status_code == 200
    assert 'lang="ja"' in storefront.text
    assert "<script src" not in storefront.text


async def test_changes_over_the_control_api(seeded: StoreState, client: httpx.AsyncClient) -> None:
    answer = await client.post(f"/_devstore/shops/{NORTHWIND}/changes/create_order", json={})
    assert answer.status_code == 200
    assert "orders/create" in answer.json()["topics"]
    assert (await client.post(f"/_devstore/shops/{NORTHWIND}/changes/nope", json={})).status_code == 400


async def test_the_clock_makes_changes(seeded: StoreState, activity: StoreActivity) -> None:
    changes = [await activity.step(HINODE) for _ in range(25)]
    assert sum(1 for c in changes if c is not None) >= 20
