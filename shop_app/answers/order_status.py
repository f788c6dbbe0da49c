"""Where an order is, in the words of one reply: its state from the mirror (the order, its shipments and
fulfillment orders) and the facts a reply template names, dates in the shop's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.templates import TemplateKey
from shop_app.formats.display import Formatter, formatter
from shop_app.formats.order_words import normalise_code
from shop_app.formats.tracking_links import tracking_url
from shop_app.models import Fulfillment, FulfillmentOrder, Order, Shop


class OrderState(StrEnum):
    NOT_SHIPPED = "not_shipped"
    ON_HOLD = "on_hold"
    PARTIALLY_SHIPPED = "partially_shipped"
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    FAILED_ATTEMPT = "failed_attempt"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


TEMPLATE_OF_STATE = {
    OrderState.NOT_SHIPPED: TemplateKey.ORDER_UNFULFILLED,
    OrderState.ON_HOLD: TemplateKey.ORDER_ON_HOLD,
    OrderState.PARTIALLY_SHIPPED: TemplateKey.ORDER_PARTIALLY_SHIPPED,
    OrderState.LABEL_CREATED: TemplateKey.ORDER_LABEL_CREATED,
    OrderState.IN_TRANSIT: TemplateKey.ORDER_IN_TRANSIT,
    OrderState.OUT_FOR_DELIVERY: TemplateKey.ORDER_OUT_FOR_DELIVERY,
    OrderState.DELIVERED: TemplateKey.ORDER_DELIVERED,
    OrderState.DELAYED: TemplateKey.ORDER_DELAYED,
    OrderState.FAILED_ATTEMPT: TemplateKey.ORDER_FAILED_ATTEMPT,
    OrderState.CANCELLED: TemplateKey.ORDER_CANCELLED,
    OrderState.REFUNDED: TemplateKey.ORDER_REFUNDED,
}
# States a person must follow up: the reply apologises and the ticket goes to the queue with priority.
PRIORITY_STATES = frozenset({OrderState.DELAYED, OrderState.FAILED_ATTEMPT})
# States the bot answers, then also hands to a person (nothing the shopper can do alone).
HANDOFF_STATES = PRIORITY_STATES | {OrderState.ON_HOLD}

_FAILED = frozenset({"ATTEMPTED_DELIVERY", "FAILURE", "NOT_DELIVERED"})
_DELAYED = frozenset({"DELAYED"})
_DELIVERED = frozenset({"DELIVERED", "PICKED_UP"})
_OUT = frozenset({"OUT_FOR_DELIVERY", "READY_FOR_PICKUP"})
_LABEL = frozenset({"LABEL_PURCHASED", "LABEL_PRINTED", "PENDING", "OPEN"})
_GONE = frozenset({"CANCELED", "CANCELLED", "ERROR", "FAILURE_CANCELLED", "LABEL_VOIDED"})
_OPEN_FULFILLMENT_ORDERS = frozenset({"OPEN", "SCHEDULED", "IN_PROGRESS", "ON_HOLD"})


@dataclass(frozen=True, slots=True)
class OrderFacts:
    order: Order
    fulfillments: list[Fulfillment]
    fulfillment_orders: list[FulfillmentOrder]


async def load_order_facts(session: AsyncSession, *, order: Order) -> OrderFacts:
    fulfillments = list(
        (
            await session.execute(
                select(Fulfillment)
                .where(col(Fulfillment.order_id) == order.id, col(Fulfillment.shop_id) == order.shop_id)
                .order_by(col(Fulfillment.created_at), col(Fulfillment.id))
            )
        ).scalars()
    )
    if normalise_code(order.fulfillment_status) == "FULFILLED" and fulfillments:
        return OrderFacts(order, fulfillments, [])  # everything shipped: nothing is waiting to be sent
    fulfillment_orders = list(
        (
            await session.execute(
                select(FulfillmentOrder).where(
                    col(FulfillmentOrder.order_id) == order.id, col(FulfillmentOrder.shop_id) == order.shop_id
                )
            )
        ).scalars()
    )
    return OrderFacts(order, fulfillments, fulfillment_orders)


def shipment_status(fulfillment: Fulfillment) -> str:
    """The newest word on a shipment: its last carrier event, else Shopify's display status, else status."""
    if fulfillment.delivered_at is not None:
        return "DELIVERED"
    if fulfillment.events:
        return normalise_code(str(fulfillment.events[-1].get("status") or ""))
    return normalise_code(fulfillment.display_status or fulfillment.status)


def order_state(facts: OrderFacts) -> OrderState:
    order = facts.order
    if order.cancelled_at is not None:
        return OrderState.CANCELLED
    if normalise_code(order.financial_status) == "REFUNDED":
        return OrderState.REFUNDED
    live = [f for f in facts.fulfillments if shipment_status(f) not in _GONE]
    statuses = [shipment_status(f) for f in live]
    pending_items = any(
        normalise_code(fo.status) in _OPEN_FULFILLMENT_ORDERS for fo in facts.fulfillment_orders
    ) or normalise_code(order.fulfillment_status) in ("PARTIALLY_FULFILLED", "PARTIAL")
    if not live:
        on_hold = normalise_code(order.fulfillment_status) == "ON_HOLD" or any(
            normalise_code(fo.status) == "ON_HOLD" for fo in facts.fulfillment_orders
        )
        return OrderState.ON_HOLD if on_hold else OrderState.NOT_SHIPPED
    if any(status in _FAILED for status in statuses):
        return OrderState.FAILED_ATTEMPT
    if any(status in _DELAYED for status in statuses):
        return OrderState.DELAYED
    if pending_items:
        return OrderState.PARTIALLY_SHIPPED
    if all(status in _DELIVERED for status in statuses):
        return OrderState.DELIVERED
    if any(status in _OUT for status in statuses):
        return OrderState.OUT_FOR_DELIVERY
    if all(status in _LABEL for status in statuses):
        return OrderState.LABEL_CREATED
    return OrderState.IN_TRANSIT


def _ship_date(facts: OrderFacts, fmt: Formatter) -> str | None:
    days = [
        fo.fulfill_at
        for fo in facts.fulfillment_orders
        if fo.fulfill_at is not None and normalise_code(fo.status) in _OPEN_FULFILLMENT_ORDERS
    ]
    return fmt.day_text(min(days)) if days else None


def _shipments(facts: OrderFacts, language: str) -> list[dict[str, Any]]:
    shipments = []
    for fulfillment in facts.fulfillments:
        if shipment_status(fulfillment) in _GONE:
            continue
        tracking = [
            {
                "number": str(entry.get("number")),
                "url": tracking_url(
                    company=entry.get("company"),
                    number=str(entry.get("number")),
                    given_url=entry.get("url"),
                    locale=language,
                ),
                "company": entry.get("company"),
            }
            for entry in fulfillment.tracking
            if entry.get("number")
        ]
        carrier = next((t["company"] for t in tracking if t["company"]), None)
        shipments.append({"carrier": carrier, "tracking": tracking, "status": shipment_status(fulfillment)})
    return shipments


def _tracking_text(shipments: list[dict[str, Any]], language: str) -> str:
    lines = []
    for shipment in shipments:
        carrier = shipment["carrier"] or ("配送業者" if language == "ja" else "Carrier")
        for entry in shipment["tracking"]:
            label = "追跡番号" if language == "ja" else "tracking number"
            lines.append(f"{carrier} {label}: {entry['number']}")
            if entry["url"]:
                lines.append(str(entry["url"]))
    return "\n".join(lines)


def _latest(moments: list[datetime | None]) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def order_context(facts: OrderFacts, *, shop: Shop, language: str) -> dict[str, Any]:
    """Every variable an order template may name (None when the mirror does not know it)."""
    order = facts.order
    fmt = formatter(language, shop.iana_timezone, shop.currency_code)
    shipments = _shipments(facts, language)
    live = [f for f in facts.fulfillments if shipment_status(f) not in _GONE]
    refunded = fmt.parse_amount(order.total_refunded)
    return {
        "shop_name": shop.name or shop.domain,
        "order_name": order.name,
        "ordered_on": fmt.day_text(order.created_at),
        "ship_date": _ship_date(facts, fmt),
        "eta": (lambda m: fmt.day_text(m) if m else None)(_latest([f.estimated_delivery_at for f in live])),
        "delivered_on": (lambda m: fmt.day_text(m) if m else None)(_latest([f.delivered_at for f in live])),
        "cancelled_on": fmt.day_text(order.cancelled_at) if order.cancelled_at else None,
        "refunded_amount": fmt.money_text(refunded, order.currency) if refunded else None,
        "shipments": shipments,
        "tracking_text": _tracking_text(shipments, language),
    }
