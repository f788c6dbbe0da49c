"""The mirror compared with the simulated store, field by field (amounts in their canonical spelling)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from integrations.shopify.resources import decimal_text
from shop_app.models import (
    Customer,
    Fulfillment,
    FulfillmentOrder,
    InventoryLevel,
    Location,
    Order,
    OrderLineItem,
    Product,
    ProductVariant,
)
from tests.test_install_against_devstore import SHOP, World


def _num(gid: object) -> int:
    assert isinstance(gid, str)
    return int(gid.rsplit("/", 1)[-1].split("?", 1)[0])


def _when(value: object) -> datetime | None:
    if value is None:
        return None
    assert isinstance(value, str)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _money(bag: Any) -> str | None:
    """Amounts are stored in one canonical spelling (``decimal_text``): "19.90" and "19.9" are one."""
    return None if not bag else decimal_text(bag["shopMoney"]["amount"])


async def _rows(world: World, model: Any, shop: int) -> list[Any]:
    async with world.services.sessions() as session:
        return list((await session.execute(select(model).where(model.shop_id == shop))).scalars())


async def assert_mirror_equals_store(world: World, domain: str = SHOP) -> None:
    """Every record of the store is in the mirror, field by field (what the mirror keeps), and nothing
    else is."""
    records = world.store.store.records
    found = await world.shop(domain)
    assert found is not None
    assert found.id is not None
    shop = found.id

    store_customers = {_num(d["id"]): d for d in records.iter_type(domain, "Customer")}
    customers = {row.shopify_id: row for row in await _rows(world, Customer, shop)}
    assert customers.keys() == store_customers.keys()
    for number, doc in store_customers.items():
        row = customers[number]
        email = (doc.get("defaultEmailAddress") or {}).get("emailAddress")
        phone = (doc.get("defaultPhoneNumber") or {}).get("phoneNumber")
        assert (row.first_name, row.last_name) == (doc.get("firstName"), doc.get("lastName"))
        assert row.email == (email.lower() if email else None)
        assert row.phone == phone
        assert row.tags == list(doc.get("tags") or [])
        assert row.orders_count == int(doc["numberOfOrders"])
        assert row.amount_spent == decimal_text(doc["amountSpent"]["amount"])
        assert row.updated_at == _when(doc["updatedAt"])

    store_orders = {_num(d["id"]): d for d in records.iter_type(domain, "Order")}
    orders = {row.shopify_id: row for row in await _rows(world, Order, shop)}
    assert orders.keys() == store_orders.keys()
    items_by_order: dict[int, list[OrderLineItem]] = {}
    for item in await _rows(world, OrderLineItem, shop):
        items_by_order.setdefault(item.order_id, []).append(item)
    fulfillments_by_order: dict[int, list[Fulfillment]] = {}
    for fulfillment in await _rows(world, Fulfillment, shop):
        fulfillments_by_order.setdefault(fulfillment.order_id, []).append(fulfillment)
    fos_by_order: dict[int, list[FulfillmentOrder]] = {}
    for fo in await _rows(world, FulfillmentOrder, shop):
        fos_by_order.setdefault(fo.order_id, []).append(fo)
    for number, doc in store_orders.items():
        row = orders[number]
        assert row.name == doc["name"]
        assert row.number == doc.get("number")
        assert row.updated_at == _when(doc["updatedAt"])
        assert row.created_at == _when(doc["createdAt"])
        assert row.cancelled_at == _when(doc.get("cancelledAt"))
        assert row.closed_at == _when(doc.get("closedAt"))
        assert row.cancel_reason == doc.get("cancelReason")
        assert row.financial_status == doc["displayFinancialStatus"]
        assert row.fulfillment_status == doc["displayFulfillmentStatus"]
        assert row.currency == doc["currencyCode"]
        assert row.total_price == _money(doc["totalPriceSet"])
        assert row.subtotal_price == _money(doc["subtotalPriceSet"])
        assert row.total_refunded == _money(doc.get("totalRefundedSet"))
        assert row.customer_shopify_id == (_num(doc["customer"]) if doc.get("customer") else None)
        assert row.custom_attributes == [[a["key"], a["value"]] for a in doc.get("customAttributes") or []]
        assert row.tags == list(doc.get("tags") or [])
        assert (row.shipping_address or {}).get("zip") == (doc.get("shippingAddress") or {}).get("zip")
        items = {i.shopify_id: i for i in items_by_order.get(row.id, [])}  # type: ignore[arg-type]
        assert items.keys() == {_num(i["id"]) for i in doc["lineItems"]}
        for item in doc["lineItems"]:
            mirrored = items[_num(item["id"])]
            assert (mirrored.sku, mirrored.quantity, mirrored.current_quantity) == (
                item.get("sku"),
                item["quantity"],
                item["currentQuantity"],
            )
            assert mirrored.variant_shopify_id == (_num(item["variant"]) if item.get("variant") else None)
            assert mirrored.unit_price == _money(item["originalUnitPriceSet"])
        fulfillments = {f.shopify_id: f for f in fulfillments_by_order.get(row.id, [])}  # type: ignore[arg-type]
        assert fulfillments.keys() == {_num(f["id"]) for f in doc.get("fulfillments") or []}
        for f in doc.get("fulfillments") or []:
            mirrored_f = fulfillments[_num(f["id"])]
            assert mirrored_f.status == f["status"]
            assert mirrored_f.display_status == f.get("displayStatus")
            assert mirrored_f.delivered_at == _when(f.get("deliveredAt"))
            assert mirrored_f.in_transit_at == _when(f.get("inTransitAt"))
            assert {t["number"] for t in mirrored_f.tracking} == {
                n.strip() for t in f.get("trackingInfo") or [] for n in str(t["number"]).split(",")
            }
            assert [e["status"] for e in mirrored_f.events] == [
                e["status"]
                for e in sorted(f.get("events") or [], key=lambda e: (e["happenedAt"], _num(e["id"])))
            ], (mirrored_f.events, f.get("events"), f)
            assert sorted(map(tuple, mirrored_f.line_items)) == sorted(
                (_num(line["lineItem"]), line["quantity"]) for line in f.get("fulfillmentLineItems") or []
            )
        fos = {fo.shopify_id: fo for fo in fos_by_order.get(row.id, [])}  # type: ignore[arg-type]
        assert fos.keys() == {_num(fo["id"]) for fo in doc.get("fulfillmentOrders") or []}
        for fo in doc.get("fulfillmentOrders") or []:
            mirrored_fo = fos[_num(fo["id"])]
            assert (mirrored_fo.status, mirrored_fo.request_status) == (fo["status"], fo["requestStatus"])
            assert sorted(
                (line["line_item_id"], line["remaining_quantity"], line["total_quantity"])
                for line in mirrored_fo.line_items
            ) == sorted(
                (_num(line["lineItem"]), line["remainingQuantity"], line["totalQuantity"])
                for line in fo["lineItems"]
            )

    store_products = {_num(d["id"]): d for d in records.iter_type(domain, "Product")}
    products = {row.shopify_id: row for row in await _rows(world, Product, shop)}
    assert products.keys() == store_products.keys()
    variants = {row.shopify_id: row for row in await _rows(world, ProductVariant, shop)}
    store_variants = {_num(v["id"]): v for d in store_products.values() for v in d["variants"]}
    assert variants.keys() == store_variants.keys()
    for number, doc in store_products.items():
        assert (products[number].title, products[number].status) == (doc["title"], doc["status"])
        assert products[number].updated_at == _when(doc["updatedAt"]), (products[number], doc["updatedAt"])
    for number, variant in store_variants.items():
        row = variants[number]
        assert (row.sku, row.barcode, row.price, row.inventory_policy) == (
            variant.get("sku"),
            variant.get("barcode"),
            None if variant.get("price") is None else decimal_text(variant["price"]),
            variant["inventoryPolicy"],
        )
        assert row.selected_options == [[o["name"], o["value"]] for o in variant["selectedOptions"]]
        assert row.inventory_item_shopify_id == _num(variant["inventoryItem"]["id"])

    store_levels = {
        (_num(v["inventoryItem"]["id"]), _num(level["location"])): {
            q["name"]: q["quantity"] for q in level["quantities"]
        }
        for v in store_variants.values()
        for level in v["inventoryItem"]["inventoryLevels"]
    }
    levels = {
        (row.inventory_item_shopify_id, row.location_shopify_id): row
        for row in await _rows(world, InventoryLevel, shop)
    }
    assert levels.keys() == store_levels.keys()
    for key, quantities in store_levels.items():
        row = levels[key]
        assert (row.available, row.on_hand, row.committed, row.incoming, row.reserved) == (
            quantities.get("available"),
            quantities.get("on_hand"),
            quantities.get("committed"),
            quantities.get("incoming"),
            quantities.get("reserved"),
        )

    store_locations = {_num(d["id"]) for d in records.iter_type(domain, "Location")}
    assert {row.shopify_id for row in await _rows(world, Location, shop)} == store_locations
