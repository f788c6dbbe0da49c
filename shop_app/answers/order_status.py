"""Where an order is, in the words of one reply: its state from the mirror (the order, its shipments and
fulfillment orders) and the facts a reply template names, dates in the shop's time zone.

An estimate is only told while it is ahead: an order still unshipped after its ship date, or still on its
way after its estimated delivery day (both days in the shop's time zone, against the caller's ``now``), is
late, and a late order is apologised for and handed to a person with priority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.formats.delivery_requests import requested_delivery
from shop_app.formats.display import Formatter, formatter, time_zone
from shop_app.formats.order_words import WordKind, describe, normalise_code
from shop_app.formats.tracking_links import carrier_name, tracking_url
from shop_app.models import Fulfillment, FulfillmentOrder, Order, Shop
from shop_app.models.answers import TemplateKey


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
    LATE = "late"  # past its ship date unshipped, or past its estimated delivery day on its way


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
    OrderState.LATE: TemplateKey.ORDER_LATE,
}
# States a person must follow up: the reply apologises and the ticket goes to the queue with priority.
PRIORITY_STATES = frozenset({OrderState.DELAYED, OrderState.FAILED_ATTEMPT, OrderState.LATE})
# States the bot answers, then also hands to a person (nothing the shopper can do alone).
HANDOFF_STATES = PRIORITY_STATES | {OrderState.ON_HOLD}

_FAILED = frozenset({"ATTEMPTED_DELIVERY", "FAILURE", "NOT_DELIVERED"})
_DELAYED = frozenset({"DELAYED"})
_DELIVERED = frozenset({"DELIVERED", "PICKED_UP"})
_OUT = frozenset({"OUT_FOR_DELIVERY", "READY_FOR_PICKUP"})
_LABEL = frozenset({"LABEL_PURCHASED", "LABEL_PRINTED", "PENDING", "OPEN"})
_GONE = frozenset({"CANCELED", "CANCELLED", "ERROR", "FAILURE_CANCELLED", "LABEL_VOIDED"})
_OPEN_FULFILLMENT_ORDERS = frozenset({"OPEN", "SCHEDULED", "IN_PROGRESS", "ON_HOLD"})
# States whose estimate can pass: a ship date (nothing or not everything sent) or a delivery day.
_WAITING_TO_SHIP = frozenset({"not_shipped", "partially_shipped"})
_ON_ITS_WAY = frozenset({"label_created", "in_transit"})


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


def order_state(facts: OrderFacts, *, now: datetime, timezone: str | None) -> OrderState:
    """The order's state as the shopper would put it; ``now`` decides whether an estimate has passed."""
    state = _shipping_state(facts)
    today = now.astimezone(time_zone(timezone)).date()
    if state.value in _WAITING_TO_SHIP:
        ship_day = _day(_ship_moment(facts), timezone)
        if ship_day is not None and ship_day < today:
            return OrderState.LATE
    elif state.value in _ON_ITS_WAY:
        arrival_day = _day(_eta_moment(facts), timezone)
        if arrival_day is not None and arrival_day < today:
            return OrderState.LATE
    return state


def _day(moment: datetime | None, timezone: str | None) -> date | None:
    return None if moment is None else moment.astimezone(time_zone(timezone)).date()


def _live(facts: OrderFacts) -> list[Fulfillment]:
    return [f for f in facts.fulfillments if shipment_status(f) not in _GONE]


def _shipping_state(facts: OrderFacts) -> OrderState:
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


def _ship_moment(facts: OrderFacts) -> datetime | None:
    moments = [
        fo.fulfill_at
        for fo in facts.fulfillment_orders
        if fo.fulfill_at is not None and normalise_code(fo.status) in _OPEN_FULFILLMENT_ORDERS
    ]
    return min(moments) if moments else None


def _eta_moment(facts: OrderFacts) -> datetime | None:
    return _latest([f.estimated_delivery_at for f in _live(facts)])


def _last_event(facts: OrderFacts) -> tuple[str, datetime] | None:
    """The newest carrier event of the order's live shipments: its status code and when it happened."""
    newest: tuple[str, datetime] | None = None
    for fulfillment in _live(facts):
        for event in fulfillment.events:
            status, raw = event.get("status"), event.get("happened_at")
            if not status or not isinstance(raw, str):
                continue
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                continue
            if moment.tzinfo is not None and (newest is None or moment > newest[1]):
                newest = (str(status), moment)
    return newest


def _requested_delivery(order: Order, fmt: Formatter) -> dict[str, str | None]:
    """The delivery day and time slot asked for at checkout (配送希望日・時間帯); "no preference" is none."""
    asked = requested_delivery(order.custom_attributes or [], fmt)
    day = asked.date if asked is not None else None
    slot = asked.slot if asked is not None else None
    if slot in _NO_SLOT_WORDS:
        slot = None
    text = " ".join(part for part in (day, slot) if part) or None
    if day and slot and fmt.locale.value == "en":
        text = f"{day}, {slot}"
    return {"requested_delivery": text, "requested_delivery_date": day, "requested_delivery_slot": slot}


_NO_SLOT_WORDS = frozenset({"指定なし", "No preference"})


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
                "company": carrier_name(entry.get("company"), locale=language),
            }
            for entry in fulfillment.tracking
            if entry.get("number")
        ]
        carrier = next((t["company"] for t in tracking if t["company"]), None)
        shipments.append({"carrier": carrier, "tracking": tracking, "status": shipment_status(fulfillment)})
    return shipments


def _tracking_text(shipments: list[dict[str, Any]], language: str) -> str:
    lines = []
    unnamed = "配送業者" if language == "ja" else "Carrier"
    for shipment in shipments:
        for entry in shipment["tracking"]:
            carrier = entry["company"] or shipment["carrier"] or unnamed
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
    live = _live(facts)
    refunded = fmt.parse_amount(order.total_refunded)
    ship_moment, eta_moment = _ship_moment(facts), _eta_moment(facts)
    last_event = _last_event(facts)

    def day(moment: datetime | None) -> str | None:
        return fmt.day_text(moment) if moment is not None else None

    return {
        "shop_name": shop.name or shop.domain,
        "order_name": order.name,
        "ordered_on": fmt.day_text(order.created_at),
        "ship_date": day(ship_moment),
        "eta": day(eta_moment),
        "delivered_on": day(_latest([f.delivered_at for f in live])),
        "cancelled_on": day(order.cancelled_at),
        "refunded_amount": fmt.money_text(refunded, order.currency) if refunded else None,
        "shipments": shipments,
        "tracking_text": _tracking_text(shipments, language),
        # for a late order: whether anything has left, the day that has passed, the carrier's last word
        "shipped": bool(live),
        "expected_on": day(eta_moment if live else ship_moment),
        "last_event": describe(WordKind.SHIPMENT, last_event[0], locale=language).text
        if last_event
        else None,
        "last_event_on": day(last_event[1]) if last_event else None,
        **_requested_delivery(order, fmt),
    }
