"""Orders and what happens to them: payment, fulfillment orders, shipments with carrier events, refunds,
cancellation. The functions change order documents in place so the store activity can reuse them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from devstore.generator.catalog import VariantRef
from devstore.generator.ids import gid, minor_units, money_bag
from devstore.generator.people import Person
from devstore.generator.shops import ShopProfile
from devstore.generator.vocabulary import (
    CANCEL_REASONS,
    DELIVERY_DATE_KEY,
    DELIVERY_SLOT_KEY,
    DELIVERY_SLOTS,
    HOLD_NOTES_EN,
    HOLD_NOTES_JA,
    JA_CARRIERS,
    REFUND_NOTES_EN,
    REFUND_NOTES_JA,
    US_CARRIERS,
    Carrier,
)
from devstore.state import isoformat_z

Doc = dict[str, Any]


class IdSource(Protocol):
    def take(self, type_name: str) -> int: ...


class Scenario(StrEnum):
    UNPAID = "unpaid"
    PAID_UNFULFILLED = "paid_unfulfilled"
    ON_HOLD = "on_hold"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    ATTEMPTED_DELIVERY = "attempted_delivery"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    FULFILLED_NO_TRACKING = "fulfilled_no_tracking"
    SPLIT_SHIPMENT = "split_shipment"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


SHIPMENT_TARGET = {
    Scenario.PARTIALLY_FULFILLED: "IN_TRANSIT",
    Scenario.LABEL_CREATED: "LABEL_PURCHASED",
    Scenario.IN_TRANSIT: "IN_TRANSIT",
    Scenario.OUT_FOR_DELIVERY: "OUT_FOR_DELIVERY",
    Scenario.ATTEMPTED_DELIVERY: "ATTEMPTED_DELIVERY",
    Scenario.DELAYED: "DELAYED",
    Scenario.DELIVERED: "DELIVERED",
    Scenario.SPLIT_SHIPMENT: "IN_TRANSIT",
    Scenario.PARTIALLY_REFUNDED: "DELIVERED",
    Scenario.REFUNDED: "DELIVERED",
}

# The carrier's next step from a shipment's current status (the store activity walks these).
NEXT_EVENT = {
    "LABEL_PURCHASED": ("IN_TRANSIT",),
    "CONFIRMED": ("IN_TRANSIT",),
    "CARRIER_PICKED_UP": ("IN_TRANSIT",),
    "IN_TRANSIT": ("OUT_FOR_DELIVERY", "OUT_FOR_DELIVERY", "OUT_FOR_DELIVERY", "DELAYED"),
    "DELAYED": ("IN_TRANSIT", "OUT_FOR_DELIVERY"),
    "OUT_FOR_DELIVERY": ("DELIVERED", "DELIVERED", "DELIVERED", "ATTEMPTED_DELIVERY"),
    "ATTEMPTED_DELIVERY": ("OUT_FOR_DELIVERY",),
}
EVENT_PATHS = {
    "LABEL_PURCHASED": ("LABEL_PURCHASED",),
    "IN_TRANSIT": ("LABEL_PURCHASED", "IN_TRANSIT"),
    "DELAYED": ("LABEL_PURCHASED", "IN_TRANSIT", "DELAYED"),
    "OUT_FOR_DELIVERY": ("LABEL_PURCHASED", "IN_TRANSIT", "OUT_FOR_DELIVERY"),
    "ATTEMPTED_DELIVERY": ("LABEL_PURCHASED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "ATTEMPTED_DELIVERY"),
    "DELIVERED": ("LABEL_PURCHASED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"),
}
EVENT_MESSAGES_JA = {
    "LABEL_PURCHASED": "送り状を発行しました",
    "IN_TRANSIT": "輸送中",
    "DELAYED": "天候の影響により配達が遅れています",
    "OUT_FOR_DELIVERY": "配達中",
    "ATTEMPTED_DELIVERY": "ご不在のため持ち戻りました",
    "DELIVERED": "配達完了",
}
EVENT_MESSAGES_EN = {
    "LABEL_PURCHASED": "Shipping label created",
    "IN_TRANSIT": "In transit to destination facility",
    "DELAYED": "Delivery delayed due to weather",
    "OUT_FOR_DELIVERY": "Out for delivery",
    "ATTEMPTED_DELIVERY": "Delivery attempted, no one available",
    "DELIVERED": "Delivered, left at front door",
}


@dataclass
class OrderContext:
    """What building or changing an order needs: the shop, randomness, ids, stock locations, the time."""

    profile: ShopProfile
    rng: random.Random
    ids: IdSource
    locations: Sequence[Doc]
    now: datetime

    def stamp(self, moment: datetime) -> str:
        return isoformat_z(min(moment, self.now))

    @property
    def currency(self) -> str:
        return self.profile.currency

    def new_gid(self, type_name: str) -> str:
        return gid(type_name, self.ids.take(type_name))


def _line_item(ctx: OrderContext, ref: VariantRef, quantity: int) -> Doc:
    return {
        "id": ctx.new_gid("LineItem"),
        "title": ref.product_title,
        "name": f"{ref.product_title} - {ref.variant_title}",
        "variantTitle": ref.variant_title,
        "sku": ref.sku,
        "vendor": ref.vendor,
        "quantity": quantity,
        "currentQuantity": quantity,
        "unfulfilledQuantity": quantity,
        "refundableQuantity": quantity,
        "requiresShipping": True,
        "taxable": True,
        "isGiftCard": False,
        "variant": ref.variant_id,
        "product": ref.product_id,
        "originalUnitPriceSet": money_bag(ref.price_minor, ctx.currency),
        "discountedUnitPriceSet": money_bag(ref.price_minor, ctx.currency),
        "originalTotalSet": money_bag(ref.price_minor * quantity, ctx.currency),
        "customAttributes": [],
        "_inventoryItem": ref.inventory_item_id,
    }


def _custom_attributes(ctx: OrderContext, created_at: datetime) -> list[dict[str, str]]:
    rng = ctx.rng
    if ctx.profile.japanese:
        if rng.random() < 0.55:
            day = created_at + timedelta(days=rng.randint(2, 9))
            shape = rng.random()
            date_text = (
                day.strftime("%Y-%m-%d")
                if shape < 0.6
                else day.strftime("%Y/%m/%d")
                if shape < 0.9
                else f"{day.year}年{day.month}月{day.day}日"
            )
            return [
                {"key": DELIVERY_DATE_KEY, "value": date_text},
                {"key": DELIVERY_SLOT_KEY, "value": rng.choice(DELIVERY_SLOTS)},
            ]
        if rng.random() < 0.1:
            return [{"key": DELIVERY_SLOT_KEY, "value": rng.choice(DELIVERY_SLOTS)}]
        return []
    if rng.random() < 0.08:
        return [{"key": "gift_message", "value": "Happy birthday! Love, Sam"}]
    return []


def build_order(
    ctx: OrderContext,
    *,
    number: int,
    created_at: datetime,
    buyer: Person,
    customer_gid: str | None,
    lines: Sequence[tuple[VariantRef, int]],
) -> Doc:
    """A new, unpaid, unfulfilled order (its fulfillment order assigned to a shipping location)."""
    rng = ctx.rng
    currency = ctx.currency
    items = [_line_item(ctx, ref, quantity) for ref, quantity in lines]
    subtotal = sum(ref.price_minor * quantity for ref, quantity in lines)
    if ctx.profile.japanese:
        shipping = 0 if subtotal >= 10_000 else 550
        tax = (subtotal + shipping) * 10 // 110
        total = subtotal + shipping
    else:
        shipping = 0 if subtotal >= 7_500 else 799
        tax = subtotal * 8 // 100
        total = subtotal + shipping + tax
    order_number = ctx.ids.take("Order")
    order_gid = gid("Order", order_number)
    stamp = ctx.stamp(created_at)
    shipping_locations = [loc for loc in ctx.locations if loc.get("fulfillsOnlineOrders")] or list(
        ctx.locations
    )
    location = shipping_locations[rng.randrange(len(shipping_locations))]
    fulfillment_order = {
        "id": ctx.new_gid("FulfillmentOrder"),
        "status": "OPEN",
        "requestStatus": "UNSUBMITTED",
        "createdAt": stamp,
        "updatedAt": stamp,
        "fulfillAt": stamp,
        "fulfillBy": None,
        "orderId": order_gid,
        "orderName": f"#{number}",
        "orderProcessedAt": stamp,
        "assignedLocation": {
            "location": location["id"],
            "name": location["name"],
            "countryCode": location["address"]["countryCode"],
            "zip": location["address"]["zip"],
        },
        "fulfillmentHolds": [],
        "lineItems": [
            {
                "id": ctx.new_gid("FulfillmentOrderLineItem"),
                "lineItem": item["id"],
                "variant": item["variant"],
                "sku": item["sku"],
                "productTitle": item["title"],
                "variantTitle": item["variantTitle"],
                "totalQuantity": item["quantity"],
                "remainingQuantity": item["quantity"],
                "requiresShipping": True,
            }
            for item in items
        ],
    }
    email = buyer.email
    return {
        "id": order_gid,
        "legacyResourceId": str(order_number),
        "name": f"#{number}",
        "number": number - 1000,
        "createdAt": stamp,
        "updatedAt": stamp,
        "processedAt": stamp,
        "closedAt": None,
        "closed": False,
        "cancelledAt": None,
        "cancelReason": None,
        "confirmed": True,
        "test": False,
        "displayFinancialStatus": "PENDING",
        "displayFulfillmentStatus": "UNFULFILLED",
        "email": email,
        "phone": buyer.phone_e164 if email is None else None,
        "customerLocale": buyer.locale,
        "customerAcceptsMarketing": rng.random() < 0.3,
        "sourceName": "web",
        "paymentGatewayNames": [
            rng.choice(("shopify_payments", "shopify_payments", "paypal", "Cash on Delivery (COD)"))
            if ctx.profile.japanese
            else rng.choice(("shopify_payments", "shopify_payments", "paypal"))
        ],
        "currencyCode": currency,
        "presentmentCurrencyCode": currency,
        "taxesIncluded": ctx.profile.japanese,
        "subtotalLineItemsQuantity": sum(quantity for _, quantity in lines),
        "subtotalPriceSet": money_bag(subtotal, currency),
        "totalShippingPriceSet": money_bag(shipping, currency),
        "totalTaxSet": money_bag(tax, currency),
        "totalPriceSet": money_bag(total, currency),
        "totalDiscountsSet": money_bag(0, currency),
        "totalRefundedSet": money_bag(0, currency),
        "currentSubtotalPriceSet": money_bag(subtotal, currency),
        "currentTotalPriceSet": money_bag(total, currency),
        "totalOutstandingSet": money_bag(total, currency),
        "totalReceivedSet": money_bag(0, currency),
        "shippingAddress": dict(buyer.address),
        "billingAddress": dict(buyer.address),
        "customAttributes": _custom_attributes(ctx, created_at),
        "tags": [],
        "note": None,
        "customer": customer_gid,
        "lineItems": items,
        "fulfillmentOrders": [fulfillment_order],
        "fulfillments": [],
        "refunds": [],
    }


def touch(order: Doc, moment: str) -> None:
    order["updatedAt"] = max(order["updatedAt"], moment)


def _total(order: Doc, field: str) -> int:
    return minor_units(order[field]["shopMoney"]["amount"], order["currencyCode"])


def mark_paid(ctx: OrderContext, order: Doc, at: datetime) -> None:
    total = _total(order, "totalPriceSet")
    order["displayFinancialStatus"] = "PAID"
    order["totalOutstandingSet"] = money_bag(0, ctx.currency)
    order["totalReceivedSet"] = money_bag(total, ctx.currency)
    touch(order, ctx.stamp(at))


def place_on_hold(ctx: OrderContext, order: Doc, at: datetime) -> None:
    stamp = ctx.stamp(at)
    notes = HOLD_NOTES_JA if ctx.profile.japanese else HOLD_NOTES_EN
    for fulfillment_order in order["fulfillmentOrders"]:
        if fulfillment_order["status"] in {"OPEN", "IN_PROGRESS"}:
            fulfillment_order["status"] = "ON_HOLD"
            fulfillment_order["fulfillmentHolds"] = [
                {"reason": "OTHER", "reasonNotes": ctx.rng.choice(notes)}
            ]
            fulfillment_order["updatedAt"] = stamp
    _refresh_fulfillment_status(order)
    touch(order, stamp)


def release_hold(ctx: OrderContext, order: Doc, at: datetime) -> None:
    stamp = ctx.stamp(at)
    for fulfillment_order in order["fulfillmentOrders"]:
        if fulfillment_order["status"] == "ON_HOLD":
            fulfillment_order["status"] = "OPEN"
            fulfillment_order["fulfillmentHolds"] = []
            fulfillment_order["updatedAt"] = stamp
    _refresh_fulfillment_status(order)
    touch(order, stamp)


def _carrier(ctx: OrderContext) -> Carrier:
    carriers = JA_CARRIERS if ctx.profile.japanese else US_CARRIERS
    return carriers[ctx.rng.randrange(len(carriers))]


def _tracking_number(rng: random.Random, carrier: Carrier) -> str:
    digits = carrier.number_digits - len(carrier.number_prefix)
    body = "".join(str(rng.randrange(10)) for _ in range(digits))
    if carrier.number_prefix == "1Z":
        body = body[:6] + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2)) + body[8:]
    return carrier.number_prefix + body


def tracking_info(ctx: OrderContext) -> list[dict[str, Any]]:
    """One or more tracking entries; Japanese systems sometimes comma-join numbers into one field."""
    rng = ctx.rng
    carrier = _carrier(ctx)
    company = carrier.names[rng.randrange(len(carrier.names))]
    with_url = carrier.url_template is not None and rng.random() < carrier.url_probability
    packages = 1 if rng.random() < 0.8 else rng.randint(2, 3)
    numbers = [_tracking_number(rng, carrier) for _ in range(packages)]
    if ctx.profile.japanese and packages > 1 and rng.random() < 0.5:
        return [{"company": company, "number": ",".join(numbers), "url": None}]
    if ctx.profile.japanese and rng.random() < 0.3:
        numbers = [f"{n[:4]}-{n[4:8]}-{n[8:]}" for n in numbers]
    return [
        {
            "company": company,
            "number": number,
            "url": carrier.url_template.format(number=number.replace("-", ""))
            if with_url and carrier.url_template
            else None,
        }
        for number in numbers
    ]


def create_fulfillment(
    ctx: OrderContext,
    order: Doc,
    at: datetime,
    *,
    quantities: dict[str, int] | None = None,
    with_tracking: bool = True,
) -> Doc:
    """Ship ``quantities`` (line item gid → quantity; default: all that remains) in one new fulfillment."""
    stamp = ctx.stamp(at)
    remaining = {
        line["lineItem"]: line["remainingQuantity"]
        for fulfillment_order in order["fulfillmentOrders"]
        for line in fulfillment_order["lineItems"]
        if fulfillment_order["status"] not in {"CLOSED", "CANCELLED"}
    }
    wanted = quantities if quantities is not None else remaining
    shipped = {item: min(qty, remaining.get(item, 0)) for item, qty in wanted.items() if remaining.get(item)}
    items_by_id = {item["id"]: item for item in order["lineItems"]}
    location = order["fulfillmentOrders"][0]["assignedLocation"]["location"]
    fulfillment_number = ctx.ids.take("Fulfillment")
    fulfillment = {
        "id": gid("Fulfillment", fulfillment_number),
        "legacyResourceId": str(fulfillment_number),
        "name": f"{order['name']}.{len(order['fulfillments']) + 1}",
        "status": "SUCCESS",
        "displayStatus": "CONFIRMED" if with_tracking else "FULFILLED",
        "createdAt": stamp,
        "updatedAt": stamp,
        "deliveredAt": None,
        "inTransitAt": None,
        "estimatedDeliveryAt": None,
        "requiresShipping": True,
        "totalQuantity": sum(shipped.values()),
        "location": location,
        "trackingInfo": tracking_info(ctx) if with_tracking else [],
        "events": [],
        "fulfillmentLineItems": [
            {
                "id": ctx.new_gid("FulfillmentLineItem"),
                "lineItem": item_id,
                "quantity": quantity,
                "originalTotalSet": money_bag(
                    minor_units(
                        items_by_id[item_id]["originalUnitPriceSet"]["shopMoney"]["amount"], ctx.currency
                    )
                    * quantity,
                    ctx.currency,
                ),
            }
            for item_id, quantity in shipped.items()
        ],
    }
    for fulfillment_order in order["fulfillmentOrders"]:
        for line in fulfillment_order["lineItems"]:
            taken = shipped.get(line["lineItem"], 0)
            line["remainingQuantity"] -= taken
        left = sum(line["remainingQuantity"] for line in fulfillment_order["lineItems"])
        if fulfillment_order["status"] in {"OPEN", "IN_PROGRESS", "ON_HOLD"}:
            fulfillment_order["status"] = "CLOSED" if left == 0 else "IN_PROGRESS"
            fulfillment_order["fulfillmentHolds"] = []
            fulfillment_order["updatedAt"] = stamp
    for item_id, quantity in shipped.items():
        items_by_id[item_id]["unfulfilledQuantity"] -= quantity
    order["fulfillments"].append(fulfillment)
    _refresh_fulfillment_status(order)
    touch(order, stamp)
    return fulfillment


def add_event(ctx: OrderContext, order: Doc, fulfillment: Doc, status: str, at: datetime) -> Doc:
    stamp = ctx.stamp(at)
    messages = EVENT_MESSAGES_JA if ctx.profile.japanese else EVENT_MESSAGES_EN
    address = order.get("shippingAddress") or {}
    estimated = None
    if status in {"IN_TRANSIT", "DELAYED", "OUT_FOR_DELIVERY", "ATTEMPTED_DELIVERY", "LABEL_PURCHASED"}:
        days = {"OUT_FOR_DELIVERY": 0, "ATTEMPTED_DELIVERY": 1, "DELAYED": 3}.get(status, 2)
        estimated = isoformat_z(at + timedelta(days=days, hours=ctx.rng.randint(2, 8)))
    event = {
        "id": ctx.new_gid("FulfillmentEvent"),
        "status": status,
        "message": messages.get(status),
        "happenedAt": stamp,
        "createdAt": stamp,
        "estimatedDeliveryAt": estimated,
        "city": address.get("city")
        if status in {"OUT_FOR_DELIVERY", "DELIVERED", "ATTEMPTED_DELIVERY"}
        else None,
        "province": address.get("province"),
        "country": address.get("countryCodeV2"),
        "zip": address.get("zip"),
        "address1": None,
        "latitude": None,
        "longitude": None,
    }
    fulfillment["events"].append(event)
    fulfillment["displayStatus"] = status
    fulfillment["updatedAt"] = stamp
    fulfillment["estimatedDeliveryAt"] = estimated
    if status == "IN_TRANSIT" and fulfillment["inTransitAt"] is None:
        fulfillment["inTransitAt"] = stamp
    if status == "DELIVERED":
        fulfillment["deliveredAt"] = stamp
        fulfillment["estimatedDeliveryAt"] = None
    touch(order, stamp)
    return event


def create_refund(
    ctx: OrderContext, order: Doc, at: datetime, *, quantities: dict[str, int], restock: bool
) -> Doc:
    """Refund ``quantities`` (line item gid → quantity); refunding everything also refunds shipping."""
    stamp = ctx.stamp(at)
    currency = ctx.currency
    items_by_id = {item["id"]: item for item in order["lineItems"]}
    refund_lines = []
    amount = 0
    for item_id, wanted in quantities.items():
        item = items_by_id[item_id]
        quantity = min(wanted, item["refundableQuantity"])
        if quantity <= 0:
            continue
        unit = minor_units(item["originalUnitPriceSet"]["shopMoney"]["amount"], currency)
        amount += unit * quantity
        item["refundableQuantity"] -= quantity
        item["currentQuantity"] -= quantity
        refund_lines.append(
            {
                "id": ctx.new_gid("RefundLineItem"),
                "lineItem": item_id,
                "quantity": quantity,
                "restockType": "RETURN" if restock else "NO_RESTOCK",
                "restocked": restock,
                "location": order["fulfillmentOrders"][0]["assignedLocation"]["location"]
                if restock
                else None,
                "priceSet": money_bag(unit, currency),
                "subtotalSet": money_bag(unit * quantity, currency),
                "totalTaxSet": money_bag(0, currency),
            }
        )
    already = _total(order, "totalRefundedSet")
    total = _total(order, "totalPriceSet")
    if all(item["refundableQuantity"] == 0 for item in order["lineItems"]):
        amount = total - already
    amount = min(amount, total - already)
    refund_number = ctx.ids.take("Refund")
    notes = REFUND_NOTES_JA if ctx.profile.japanese else REFUND_NOTES_EN
    refund = {
        "id": gid("Refund", refund_number),
        "legacyResourceId": str(refund_number),
        "createdAt": stamp,
        "updatedAt": stamp,
        "processedAt": stamp,
        "note": ctx.rng.choice(notes),
        "totalRefundedSet": money_bag(amount, currency),
        "refundLineItems": refund_lines,
    }
    order["refunds"].append(refund)
    refunded = already + amount
    order["totalRefundedSet"] = money_bag(refunded, currency)
    order["currentTotalPriceSet"] = money_bag(total - refunded, currency)
    order["displayFinancialStatus"] = "REFUNDED" if refunded >= total else "PARTIALLY_REFUNDED"
    touch(order, stamp)
    return refund


def cancel_order(ctx: OrderContext, order: Doc, at: datetime, *, reason: str | None = None) -> Doc | None:
    """Cancel an order; a paid one is refunded in full. Returns the refund, if any."""
    stamp = ctx.stamp(at)
    refund = None
    if order["displayFinancialStatus"] in {"PAID", "PARTIALLY_REFUNDED"}:
        refund = create_refund(
            ctx,
            order,
            at,
            quantities={i["id"]: i["refundableQuantity"] for i in order["lineItems"]},
            restock=True,
        )
    elif order["displayFinancialStatus"] in {"PENDING", "AUTHORIZED"}:
        order["displayFinancialStatus"] = "VOIDED"
        order["totalOutstandingSet"] = money_bag(0, ctx.currency)
    order["cancelledAt"] = stamp
    order["cancelReason"] = reason or ctx.rng.choice(CANCEL_REASONS)
    order["closedAt"] = stamp
    order["closed"] = True
    for item in order["lineItems"]:
        item["currentQuantity"] = 0
        item["unfulfilledQuantity"] = 0
    for fulfillment_order in order["fulfillmentOrders"]:
        if fulfillment_order["status"] != "CLOSED":
            fulfillment_order["status"] = "CLOSED"
            fulfillment_order["fulfillmentHolds"] = []
            fulfillment_order["updatedAt"] = stamp
        for line in fulfillment_order["lineItems"]:
            line["remainingQuantity"] = 0
    if not order["fulfillments"]:
        order["displayFulfillmentStatus"] = "UNFULFILLED"
    touch(order, stamp)
    return refund


def _refresh_fulfillment_status(order: Doc) -> None:
    statuses = {fo["status"] for fo in order["fulfillmentOrders"]}
    shipped = sum(line["quantity"] for f in order["fulfillments"] for line in f["fulfillmentLineItems"])
    if "ON_HOLD" in statuses:
        order["displayFulfillmentStatus"] = "ON_HOLD"
    elif shipped == 0:
        order["displayFulfillmentStatus"] = "UNFULFILLED"
    elif statuses <= {"CLOSED", "CANCELLED"}:
        order["displayFulfillmentStatus"] = "FULFILLED"
    else:
        order["displayFulfillmentStatus"] = "PARTIALLY_FULFILLED"


def close_if_done(ctx: OrderContext, order: Doc, at: datetime) -> None:
    """Shopify archives (closes) an order that is paid and fully delivered."""
    delivered = order["fulfillments"] and all(
        f["displayStatus"] in {"DELIVERED", "FULFILLED"} for f in order["fulfillments"]
    )
    if delivered and order["displayFulfillmentStatus"] == "FULFILLED" and order["closedAt"] is None:
        order["closedAt"] = ctx.stamp(at)
        order["closed"] = True


def ship_through(
    ctx: OrderContext, order: Doc, fulfillment: Doc, target: str, start: datetime, end: datetime
) -> None:
    """Give a fulfillment the carrier events that lead to ``target``, spread between start and end."""
    path = list(EVENT_PATHS[target])
    if target == "DELIVERED" and ctx.rng.random() < 0.1:
        path = ["LABEL_PURCHASED", "IN_TRANSIT", "DELAYED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
    elif target == "DELIVERED" and ctx.rng.random() < 0.08:
        path = [
            "LABEL_PURCHASED",
            "IN_TRANSIT",
            "OUT_FOR_DELIVERY",
            "ATTEMPTED_DELIVERY",
            "OUT_FOR_DELIVERY",
            "DELIVERED",
        ]
    span = max((end - start).total_seconds(), 60.0)
    for step, status in enumerate(path):
        offset = span * (step + ctx.rng.uniform(0.2, 0.9)) / len(path)
        add_event(ctx, order, fulfillment, status, start + timedelta(seconds=offset))
