"""The simulated store's order mutations, sent as the app sends them (its own .graphql documents)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from devstore.generator.ids import minor_units
from devstore.state import StoreState
from integrations.shopify.graphql import document
from tests.devstore.store.conftest import HINODE, NORTHWIND, install, subscribe

pytestmark = pytest.mark.anyio
TOPICS = (
    "ORDERS_CANCELLED",
    "ORDERS_UPDATED",
    "REFUNDS_CREATE",
    "FULFILLMENT_ORDERS_PLACED_ON_HOLD",
    "INVENTORY_LEVELS_UPDATE",
)


class Admin:
    def __init__(self, client: httpx.AsyncClient, state: StoreState, shop: str = HINODE) -> None:
        self.client, self.state, self.shop = client, state, shop
        self.token = install(state, shop).access_token
        for topic in TOPICS:
            subscribe(state, shop, topic)

    async def __call__(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(
            f"/s/{self.shop}/admin/api/2026-07/graphql.json",
            json={"query": document(name), "variables": variables},
            headers={"X-Shopify-Access-Token": self.token},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def applied(self) -> dict[str, int]:
        counts: dict[str, int] = (await self.client.get(f"/_devstore/mutations/{self.shop}")).json()
        return counts

    def topics(self) -> list[str]:
        return [d.topic for d in self.state.webhooks.deliveries(shop=self.shop, limit=500)]


def _orders(state: StoreState, shop: str, **wanted: str) -> list[dict[str, Any]]:
    return [
        order
        for order in state.records.iter_type(shop, "Order")
        if order["cancelledAt"] is None and all(order[key] == value for key, value in wanted.items())
    ]


def _paid_unfulfilled(state: StoreState, shop: str = HINODE) -> dict[str, Any]:
    return _orders(state, shop, displayFinancialStatus="PAID", displayFulfillmentStatus="UNFULFILLED")[0]


@pytest.fixture
def admin(seeded: StoreState, client: httpx.AsyncClient) -> Admin:
    return Admin(client, seeded)


def _amount(bag: dict[str, Any]) -> str:
    return str(bag["shopMoney"]["amount"])


async def test_suggested_refund_of_one_line_computes_amount_and_included_tax(
    seeded: StoreState, admin: Admin
) -> None:
    order = _paid_unfulfilled(seeded)
    item = order["lineItems"][0]
    answer = await admin(
        "order_suggested_refund", {"id": order["id"], "lines": [{"lineItemId": item["id"], "quantity": 1}]}
    )
    suggested = answer["data"]["order"]["suggestedRefund"]
    unit = minor_units(item["originalUnitPriceSet"]["shopMoney"]["amount"], "JPY")
    assert minor_units(_amount(suggested["amountSet"]), "JPY") == unit
    assert minor_units(_amount(suggested["totalTaxSet"]), "JPY") == unit // 11
    [line] = suggested["refundLineItems"]
    assert line["lineItem"]["id"] == item["id"]
    [transaction] = suggested["suggestedTransactions"]
    assert transaction["kind"] == "SUGGESTED_REFUND"
    assert transaction["parentTransaction"]["id"].startswith("gid://shopify/OrderTransaction/")


async def _refund_input(admin: Admin, order: dict[str, Any], restock: str = "CANCEL") -> dict[str, Any]:
    item = order["lineItems"][0]
    suggested = (
        await admin(
            "order_suggested_refund",
            {"id": order["id"], "lines": [{"lineItemId": item["id"], "quantity": 1}]},
        )
    )["data"]["order"]["suggestedRefund"]
    [transaction] = suggested["suggestedTransactions"]
    return {
        "orderId": order["id"],
        "refundLineItems": [{"lineItemId": item["id"], "quantity": 1, "restockType": restock}],
        "transactions": [
            {
                "orderId": order["id"],
                "parentId": transaction["parentTransaction"]["id"],
                "amount": _amount(transaction["amountSet"]),
                "gateway": transaction["gateway"],
                "kind": "REFUND",
            }
        ],
    }


async def test_refund_of_one_line_changes_totals_quantities_and_stock_once_per_key(
    seeded: StoreState, admin: Admin
) -> None:
    # given
    order = _paid_unfulfilled(seeded)
    item = order["lineItems"][0]
    variant = seeded.records.get(HINODE, item["variant"])
    assert variant is not None
    stock_before = variant["inventoryQuantity"]
    # when: the same confirmed refund is sent twice (a retry)
    refund_input = await _refund_input(admin, order)
    first = await admin("refund_create", {"key": "refund-key-1", "input": refund_input})
    again = await admin("refund_create", {"key": "refund-key-1", "input": refund_input})
    # then: one refund, the same answer
    assert first["data"]["refundCreate"]["userErrors"] == []
    assert again["data"]["refundCreate"] == first["data"]["refundCreate"]
    assert (await admin.applied()) == {"refundCreate": 1}
    after = seeded.records.get(HINODE, order["id"])
    assert after is not None
    assert len(after["refunds"]) == 1
    assert after["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    refunded_item = next(i for i in after["lineItems"] if i["id"] == item["id"])
    assert refunded_item["refundableQuantity"] == item["refundableQuantity"] - 1
    unit = minor_units(item["originalUnitPriceSet"]["shopMoney"]["amount"], "JPY")
    assert minor_units(after["totalRefundedSet"]["shopMoney"]["amount"], "JPY") == unit
    variant_after = seeded.records.get(HINODE, item["variant"])
    assert variant_after is not None and variant_after["inventoryQuantity"] == stock_before + 1
    assert admin.topics().count("refunds/create") == 1
    assert "inventory_levels/update" in admin.topics()


async def test_a_reused_key_with_other_arguments_is_an_error(seeded: StoreState, admin: Admin) -> None:
    order = _paid_unfulfilled(seeded)
    refund_input = await _refund_input(admin, order)
    await admin("refund_create", {"key": "refund-key-2", "input": refund_input})
    refund_input["refundLineItems"][0]["restockType"] = "NO_RESTOCK"
    other = await admin("refund_create", {"key": "refund-key-2", "input": refund_input})
    assert other["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert (await admin.applied()) == {"refundCreate": 1}


async def test_refund_over_refundable_quantity_or_amount_is_refused(seeded: StoreState, admin: Admin) -> None:
    order = _paid_unfulfilled(seeded)
    item = order["lineItems"][0]
    too_many = {
        "orderId": order["id"],
        "refundLineItems": [{"lineItemId": item["id"], "quantity": item["refundableQuantity"] + 1}],
    }
    answer = await admin("refund_create", {"key": "k-many", "input": too_many})
    assert answer["data"]["refundCreate"]["userErrors"] == [
        {
            "field": ["refundLineItems", "0", "quantity"],
            "message": "Quantity cannot refund more items than were purchased",
        }
    ]
    total = order["totalPriceSet"]["shopMoney"]["amount"]
    too_much = {
        "orderId": order["id"],
        "transactions": [
            {
                "orderId": order["id"],
                "parentId": f"gid://shopify/OrderTransaction/{order['id'].rsplit('/', 1)[1]}",
                "amount": str(int(float(total)) + 1),
                "gateway": "shopify_payments",
                "kind": "REFUND",
            }
        ],
    }
    answer = await admin("refund_create", {"key": "k-much", "input": too_much})
    assert (
        answer["data"]["refundCreate"]["userErrors"][0]["message"]
        == "Refund amount exceeds the refundable amount"
    )
    assert (await admin.applied()) == {}
    assert admin.topics() == []


async def test_refund_without_an_idempotency_key_is_refused_by_the_store(
    seeded: StoreState, admin: Admin
) -> None:
    order = _paid_unfulfilled(seeded)
    query = document("refund_create").replace(" @idempotent(key: $key)", "").replace("$key: String!, ", "")
    response = await admin.client.post(
        f"/s/{HINODE}/admin/api/2026-07/graphql.json",
        json={"query": query, "variables": {"input": {"orderId": order["id"]}}},
        headers={"X-Shopify-Access-Token": admin.token},
    )
    assert "@idempotent directive is required" in response.json()["errors"][0]["message"]


async def test_cancel_refunds_restocks_and_announces_once(seeded: StoreState, admin: Admin) -> None:
    order = _paid_unfulfilled(seeded)
    variables = {"key": "cancel-1", "orderId": order["id"], "reason": "CUSTOMER", "restock": True}
    first = await admin("order_cancel", variables)
    second = await admin("order_cancel", variables)
    assert first["data"]["orderCancel"]["orderCancelUserErrors"] == []
    assert second == first or second["data"] == first["data"]
    after = seeded.records.get(HINODE, order["id"])
    assert after is not None
    assert after["cancelledAt"] is not None and after["cancelReason"] == "CUSTOMER"
    assert after["displayFinancialStatus"] == "REFUNDED"
    assert after["totalRefundedSet"]["shopMoney"]["amount"] == after["totalPriceSet"]["shopMoney"]["amount"]
    assert (await admin.applied()) == {"orderCancel": 1}
    topics = admin.topics()
    assert topics.count("orders/cancelled") == 1 and topics.count("refunds/create") == 1
    again = await admin("order_cancel", {**variables, "key": "cancel-2"})
    [error] = again["data"]["orderCancel"]["orderCancelUserErrors"]
    assert error["code"] == "INVALID" and "already been cancelled" in error["message"]


async def test_cancel_of_a_fulfilled_order_is_refused(seeded: StoreState, admin: Admin) -> None:
    order = next(o for o in _orders(seeded, HINODE) if o["fulfillments"])
    answer = await admin(
        "order_cancel", {"key": "c-f", "orderId": order["id"], "reason": "CUSTOMER", "restock": False}
    )
    [error] = answer["data"]["orderCancel"]["orderCancelUserErrors"]
    assert error["code"] == "INVALID"
    assert (seeded.records.get(HINODE, order["id"]) or {})["cancelledAt"] is None


async def test_another_shops_order_is_not_found(seeded: StoreState, admin: Admin) -> None:
    theirs = _paid_unfulfilled(seeded, NORTHWIND)
    answer = await admin(
        "order_cancel", {"key": "c-x", "orderId": theirs["id"], "reason": "OTHER", "restock": False}
    )
    assert answer["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"] == "NOT_FOUND"


async def test_address_note_and_tags_change_and_announce_orders_updated(
    seeded: StoreState, admin: Admin
) -> None:
    order = _paid_unfulfilled(seeded)
    address = {
        "address1": "北区梅田1-1-1",
        "city": "大阪市",
        "provinceCode": "JP-27",
        "zip": "530-0001",
        "countryCode": "JP",
    }
    answer = await admin(
        "order_update",
        {"key": "u-1", "input": {"id": order["id"], "shippingAddress": address, "note": "置き配"}},
    )
    assert answer["data"]["orderUpdate"]["userErrors"] == []
    tagged = await admin("tags_add", {"key": "t-1", "id": order["id"], "tags": ["住所変更"]})
    assert tagged["data"]["tagsAdd"]["userErrors"] == []
    after = seeded.records.get(HINODE, order["id"])
    assert after is not None
    assert after["shippingAddress"]["zip"] == "530-0001" and after["shippingAddress"]["city"] == "大阪市"
    assert after["note"] == "置き配" and "住所変更" in after["tags"]
    assert admin.topics().count("orders/updated") == 2
    body = json.loads(
        next(d.body for d in admin.state.webhooks.deliveries(shop=HINODE) if d.topic == "orders/updated")
    )
    assert body["shipping_address"]["zip"] == "530-0001"


async def test_hold_and_release_a_fulfillment_order(seeded: StoreState, admin: Admin) -> None:
    order = _paid_unfulfilled(seeded)
    fulfillment_order = order["fulfillmentOrders"][0]
    hold = {"reason": "INCORRECT_ADDRESS", "reasonNotes": "住所確認中"}
    held = await admin("fulfillment_order_hold", {"key": "h-1", "id": fulfillment_order["id"], "hold": hold})
    assert held["data"]["fulfillmentOrderHold"]["fulfillmentOrder"]["status"] == "ON_HOLD"
    assert (seeded.records.get(HINODE, order["id"]) or {})["displayFulfillmentStatus"] == "ON_HOLD"
    assert "fulfillment_orders/placed_on_hold" in admin.topics()
    released = await admin("fulfillment_order_release_hold", {"key": "r-1", "id": fulfillment_order["id"]})
    assert released["data"]["fulfillmentOrderReleaseHold"]["fulfillmentOrder"]["status"] == "OPEN"
    again = await admin("fulfillment_order_release_hold", {"key": "r-2", "id": fulfillment_order["id"]})
    assert (
        again["data"]["fulfillmentOrderReleaseHold"]["userErrors"][0]["message"]
        == "The fulfillment order is not on hold."
    )
    missing = await admin(
        "fulfillment_order_hold", {"key": "h-2", "id": "gid://shopify/FulfillmentOrder/999999", "hold": hold}
    )
    assert missing["data"]["fulfillmentOrderHold"]["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_FOUND"
