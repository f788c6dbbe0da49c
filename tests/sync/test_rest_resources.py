"""REST webhook bodies (Shopify's samples, and what the simulated store sends) parsed into resources."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from devstore import rest_payloads
from devstore.generator.ids import legacy_id
from integrations.shopify import rest_resources as rest
from integrations.shopify.webhook_payloads import MalformedPayload
from tests.conftest import REFERENCE
from tests.test_install_against_devstore import SHOP, World, installed  # noqa: F401

SAMPLES = REFERENCE / "webhook-payloads"
NEW_YEAR = datetime(2022, 1, 1, tzinfo=UTC)


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return loaded


def test_order_sample_is_parsed_with_exact_ids_and_graphql_statuses() -> None:
    order = rest.parse_order(sample("Order.json"))

    assert order.shopify_id == 820982911946154508  # the body's "id" was rounded by JavaScript
    assert order.customer_shopify_id == 115310627314723954
    assert order.name == "#9999"
    assert order.created_at == NEW_YEAR
    assert order.cancelled_at == NEW_YEAR
    assert order.cancel_reason == "CUSTOMER"
    assert order.financial_status == "VOIDED"
    assert (order.total_price, order.subtotal_price, order.total_refunded) == (
        "388",
        "388",
        "0",
    )  # canonical spelling
    assert order.shipping_address is not None
    assert order.shipping_address.name == "Steve Shipper"
    assert order.line_items is not None
    assert [item.shopify_id for item in order.line_items] == [866550311766439020, 141249953214522974]
    assert order.line_items[0].unit_price is not None
    assert order.line_items[0].unit_price.amount == "199"
    assert order.fulfillments == ()
    assert order.fulfillment_orders is None


@pytest.mark.parametrize(
    ("rest_status", "graphql"),
    [
        (None, "UNFULFILLED"),
        ("partial", "PARTIALLY_FULFILLED"),
        ("fulfilled", "FULFILLED"),
        ("restocked", "RESTOCKED"),
    ],
)
def test_order_fulfillment_status_uses_the_graphql_spelling(rest_status: str | None, graphql: str) -> None:
    body = {**sample("Order.json"), "fulfillment_status": rest_status}
    assert rest.parse_order(body).fulfillment_status == graphql


@pytest.mark.parametrize(
    ("rest_status", "graphql"),
    [("paid", "PAID"), ("partially_refunded", "PARTIALLY_REFUNDED"), ("pending", "PENDING"), (None, None)],
)
def test_order_financial_status_uses_the_graphql_spelling(
    rest_status: str | None, graphql: str | None
) -> None:
    body = {**sample("Order.json"), "financial_status": rest_status}
    assert rest.parse_order(body).financial_status == graphql


def test_order_note_attributes_tags_and_refunds() -> None:
    body = {
        **sample("Order.json"),
        "tags": "gift, 要注意 ,",
        "note_attributes": [
            {"name": "配送希望日", "value": "2026-11-25"},
            {"name": "時間帯", "value": "14-16"},
        ],
        "refunds": [
            {"transactions": [{"kind": "refund", "status": "success", "amount": "199.00"}]},
            {"transactions": [{"kind": "refund", "status": "failure", "amount": "50.00"}]},
        ],
    }
    order = rest.parse_order(body)
    assert order.tags == ("gift", "要注意")
    assert order.custom_attributes == (("配送希望日", "2026-11-25"), ("時間帯", "14-16"))
    assert order.total_refunded == "199"


def test_fulfillment_sample() -> None:
    fulfillment = rest.parse_fulfillment(sample("Fulfillment.json"))
    assert fulfillment.shopify_id == 123456
    assert fulfillment.status == "PENDING"
    assert fulfillment.display_status is None
    assert fulfillment.events is None
    assert [(t.number, t.company) for t in fulfillment.tracking] == [("1z827wk74630", "UPS")]
    assert fulfillment.tracking[0].url is not None
    assert fulfillment.line_items == ((866550311766439020, 1), (141249953214522974, 1))


def test_fulfillment_shipment_status_uses_the_graphql_spelling() -> None:
    body = {**sample("Fulfillment.json"), "shipment_status": "in_transit", "status": "success"}
    fulfillment = rest.parse_fulfillment(body)
    assert (fulfillment.status, fulfillment.display_status) == ("SUCCESS", "IN_TRANSIT")


def test_fulfillment_event_refund_and_order_edit_samples() -> None:
    notice = rest.parse_fulfillment_event(sample("FulfillmentEventsCreate.json"))
    assert notice.fulfillment_shopify_id == 123456
    assert notice.event.status == "IN_TRANSIT"
    assert notice.event.happened_at == NEW_YEAR
    refund = rest.parse_refund(sample("Refund.json"))
    assert refund.shopify_id == 890088186047892319
    assert refund.order_shopify_id == 820982911946154500
    assert rest.parse_order_edit(sample("OrderEdited.json")) == 820982911946154500


def test_customer_samples() -> None:
    customer = rest.parse_customer(sample("CustomersCreate.json"))
    assert customer.shopify_id == 706405506930370084
    assert customer.email == "bob@biller.com"
    assert customer.amount_spent is not None
    assert (customer.amount_spent.amount, customer.amount_spent.currency) == ("0", "USD")
    assert customer.locale is None
    assert rest.parse_deleted_id(sample("CustomersDelete.json"), "Customer") == 706405506930370084
    with pytest.raises(MalformedPayload):
        rest.parse_customer(sample("CustomersDelete.json"))  # no updated_at


def test_product_sample() -> None:
    product = rest.parse_product(sample("Product.json"))
    assert product.shopify_id == 788032119674292922
    assert product.status == "ACTIVE"
    assert product.tags == ("example", "mens", "t-shirt")
    assert product.variants is not None
    assert [v.shopify_id for v in product.variants] == [642667041472713922, 757650484644203962]
    assert {v.inventory_policy for v in product.variants} == {"DENY"}
    assert rest.parse_deleted_id(sample("Deleted.json"), "Product") == 788032119674292900


def test_inventory_samples() -> None:
    level = rest.parse_inventory_level(sample("InventoryLevel.json"))
    assert (level.inventory_item_shopify_id, level.location_shopify_id) == (271878346596884015, 24826418)
    assert level.available is None
    key = rest.parse_inventory_level_key(sample("InventoryLevelDisconnected.json"))
    assert key.location_shopify_id == 24826418
    item = rest.parse_inventory_item(sample("InventoryItem.json"))
    assert (item.shopify_id, item.sku) == (271878346596884015, "example-sku")


def test_location_sample() -> None:
    location = rest.parse_location(sample("Location.json"))
    assert location.shopify_id == 866550311766439020
    assert location.address is not None
    assert location.address.country_code == "CA"


@pytest.mark.parametrize(
    "broken",
    [
        {"name": 5},
        {"updated_at": "yesterday"},
        {"updated_at": "2021-12-31T19:00:00"},  # no offset
        {"admin_graphql_api_id": "gid://shopify/Product/1"},
        {"line_items": {"id": 1}},
        {"line_items": [{"id": 1, "title": "x", "quantity": "1"}]},
        {"total_price": "lots"},
        {"note_attributes": [{"name": "a", "value": {"nested": True}}]},
        {"tags": 3},
    ],
)
def test_malformed_order_bodies_are_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(MalformedPayload):
        rest.parse_order({**sample("Order.json"), **broken})


def test_a_body_without_an_id_is_refused() -> None:
    with pytest.raises(MalformedPayload):
        rest.parse_deleted_id({}, "Product")
    with pytest.raises(MalformedPayload):
        rest.parse_inventory_level({"location_id": 1, "updated_at": "2021-12-31T19:00:00Z"})


async def test_every_body_the_simulated_store_sends_is_parsed(installed: World) -> None:  # noqa: F811
    records = installed.store.store.records

    def resolve(gid: str) -> Any:
        return records.get(SHOP, gid)

    orders = list(records.iter_type(SHOP, "Order"))
    assert orders
    seen_statuses: set[str] = set()
    for doc in orders:
        order = rest.parse_order(rest_payloads.order_payload(doc, resolve))
        assert order.shopify_id == legacy_id(doc["id"])
        assert order.name == doc["name"]
        assert order.financial_status == doc.get("displayFinancialStatus")
        if doc["displayFulfillmentStatus"] in {"UNFULFILLED", "PARTIALLY_FULFILLED", "FULFILLED"}:
            assert order.fulfillment_status == doc["displayFulfillmentStatus"]
        seen_statuses.add(doc["displayFulfillmentStatus"])
        assert order.custom_attributes == tuple(
            (a["key"], a["value"]) for a in doc.get("customAttributes", [])
        )
        assert order.tags == tuple(doc.get("tags") or ())
        assert order.line_items is not None
        assert [i.shopify_id for i in order.line_items] == [legacy_id(i["id"]) for i in doc["lineItems"]]
        assert order.fulfillments is not None
        assert len(order.fulfillments) == len(doc.get("fulfillments", []))
        for fulfillment_doc in doc.get("fulfillments", []):
            fulfillment = rest.parse_fulfillment(rest_payloads.fulfillment_payload(doc, fulfillment_doc))
            assert fulfillment.shopify_id == legacy_id(fulfillment_doc["id"])
            assert fulfillment.order_shopify_id == order.shopify_id
            numbers = [t["number"] for t in fulfillment_doc.get("trackingInfo") or [] if t.get("number")]
            assert [t.number for t in fulfillment.tracking] == numbers
            for event_doc in fulfillment_doc.get("events", []):
                notice = rest.parse_fulfillment_event(
                    rest_payloads.fulfillment_event_payload(doc, fulfillment_doc, event_doc, shop_id=1)
                )
                assert notice.event.status == event_doc["status"]
        for refund_doc in doc.get("refunds", []):
            refund = rest.parse_refund(rest_payloads.refund_payload(doc, refund_doc))
            assert refund.order_shopify_id == order.shopify_id
    assert len(seen_statuses) > 1

    for doc in records.iter_type(SHOP, "Customer"):
        customer = rest.parse_customer(rest_payloads.customer_payload(doc))
        assert customer.shopify_id == legacy_id(doc["id"])
        assert customer.tags == tuple(doc.get("tags") or ())
    for doc in records.iter_type(SHOP, "Location"):
        assert rest.parse_location(rest_payloads.location_payload(doc)).name == doc["name"]
    products = list(records.iter_type(SHOP, "Product"))
    assert products
    for doc in products:
        product = rest.parse_product(rest_payloads.product_payload(doc))
        assert product.status == doc["status"]
        assert product.variants is not None
        for variant, variant_doc in zip(product.variants, doc["variants"], strict=True):
            assert variant.shopify_id == legacy_id(variant_doc["id"])
            assert variant.inventory_policy == variant_doc["inventoryPolicy"]
            assert variant.selected_options == tuple(
                (o["name"], o["value"]) for o in variant_doc["selectedOptions"]
            )
            item_doc = variant_doc["inventoryItem"]
            assert variant.inventory_item_shopify_id == legacy_id(item_doc["id"])
            for level_doc in item_doc["inventoryLevels"]:
                level = rest.parse_inventory_level(rest_payloads.inventory_level_payload(item_doc, level_doc))
                assert level.inventory_item_shopify_id == legacy_id(item_doc["id"])
                assert level.location_shopify_id == legacy_id(level_doc["location"])
