"""Shopify's webhook confirms an order action the desk sent.

Runs in the webhook's own transaction: the delivery's topic names the kinds of action it confirms
(``orders/cancelled`` a cancellation, ``refunds/create`` a refund, ``orders/updated`` an address, note or
tag, ``fulfillments/update`` a shipping notice sent again, ``fulfillment_orders/placed_on_hold`` and
``hold_released`` a hold and its release), and an applied, not yet confirmed action of that shop and order
(and refund, shipment, fulfillment order, address, note or tags the body shows) gets
``webhook_confirmed_at``, audited. The console's card then says "confirmed by Shopify". The invoice email
sent again has no webhook: it stays confirmed by Shopify's answer alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.shopify.graphql_resources import id_from_gid
from shop_app.models import ActionEventKind, ActionKind, ActionStatus, OrderAction, OrderActionEvent
from shop_app.models.base import utcnow

logger = logging.getLogger(__name__)

# An action is confirmed by a webhook arriving within this long of Shopify's answer (older ones were
# confirmed by the next reconciliation, or never will be).
CONFIRM_WINDOW = timedelta(days=3)

Matcher = Callable[[OrderAction, Mapping[str, Any]], bool]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        try:
            return id_from_gid(value)
        except (ValueError, TypeError):
            return None
    return None


def _order_of(payload: Mapping[str, Any]) -> int | None:
    return _int(payload.get("id"))


def _refund_order(payload: Mapping[str, Any]) -> int | None:
    return _int(payload.get("order_id"))


def _fulfillment_order(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    found = payload.get("fulfillment_order")
    return found if isinstance(found, Mapping) else {}


def _any(action: OrderAction, payload: Mapping[str, Any]) -> bool:
    return True


def _same_refund(action: OrderAction, payload: Mapping[str, Any]) -> bool:
    refund = (action.shopify_answer or {}).get("refund") or {}
    sent = _int(refund.get("id")) if isinstance(refund, Mapping) else None
    return sent is None or sent == _int(payload.get("id"))


def _same_order_change(action: OrderAction, payload: Mapping[str, Any]) -> bool:
    """The body shows the order as the action left it (a later edit of something else confirms nothing)."""
    wanted = action.parameters
    if action.kind == ActionKind.NOTE:
        return str(payload.get("note") or "") == str(wanted.get("note") or "")
    if action.kind == ActionKind.TAG:
        tags = {t.strip() for t in str(payload.get("tags") or "").split(",")}
        return all(str(tag).strip() in tags for tag in wanted.get("tags") or [])
    address = payload.get("shipping_address")
    if not isinstance(address, Mapping):
        return False
    digits = "".join(ch for ch in str(wanted.get("zip") or "") if ch.isalnum())
    given = "".join(ch for ch in str(address.get("zip") or "") if ch.isalnum())
    return str(address.get("address1") or "") == str(wanted.get("address1") or "") and given == digits


def _same_fulfillment_order(action: OrderAction, payload: Mapping[str, Any]) -> bool:
    return _int(_fulfillment_order(payload).get("id")) == _int(action.parameters.get("fulfillment_order_id"))


def _same_shipment(action: OrderAction, payload: Mapping[str, Any]) -> bool:
    return _int(payload.get("id")) == _int(action.parameters.get("fulfillment_id"))


# topic → (the kinds it confirms, where the body names the order, what else must match)
TOPICS: dict[str, tuple[frozenset[ActionKind], Callable[[Mapping[str, Any]], int | None], Matcher]] = {
    "orders/cancelled": (frozenset({ActionKind.CANCEL}), _order_of, _any),
    "refunds/create": (frozenset({ActionKind.REFUND}), _refund_order, _same_refund),
    "orders/updated": (
        frozenset({ActionKind.ADDRESS, ActionKind.NOTE, ActionKind.TAG}),
        _order_of,
        _same_order_change,
    ),
    # the shipping notice sent again rewrites the shipment's tracking (the invoice email has no webhook)
    "fulfillments/update": (frozenset({ActionKind.RESEND_SHIPPING}), _refund_order, _same_shipment),
    "fulfillment_orders/placed_on_hold": (
        frozenset({ActionKind.HOLD}),
        lambda _: None,
        _same_fulfillment_order,
    ),
    "fulfillment_orders/hold_released": (
        frozenset({ActionKind.RELEASE_HOLD}),
        lambda _: None,
        _same_fulfillment_order,
    ),
}
CONFIRMING_TOPICS = frozenset(TOPICS)


async def confirm_from_webhook(
    session: AsyncSession,
    *,
    shop_id: int,
    topic: str,
    payload: Mapping[str, Any],
    now: datetime | None = None,
) -> list[int]:
    """Mark the applied actions this delivery confirms; their ids (none for most deliveries)."""
    if topic not in TOPICS:
        return []
    kinds, order_of, matches = TOPICS[topic]
    moment = now or utcnow()
    statement = select(OrderAction).where(
        col(OrderAction.shop_id) == shop_id,
        col(OrderAction.status) == ActionStatus.APPLIED,
        col(OrderAction.webhook_confirmed_at).is_(None),
        col(OrderAction.kind).in_([kind.value for kind in kinds]),
        col(OrderAction.applied_at) >= moment - CONFIRM_WINDOW,
    )
    order_id = order_of(payload)
    if order_id is not None:
        statement = statement.where(col(OrderAction.order_shopify_id) == order_id)
    elif not _fulfillment_order(payload):
        return []
    confirmed: list[int] = []
    for action in (await session.execute(statement.order_by(col(OrderAction.id)))).scalars():
        if action.id is None or not matches(action, payload):
            continue
        result = await session.execute(
            update(OrderAction)
            .where(col(OrderAction.id) == action.id, col(OrderAction.webhook_confirmed_at).is_(None))
            .values(webhook_confirmed_at=moment)
        )
        if getattr(result, "rowcount", 0) == 1:
            session.add(OrderActionEvent.of(action, ActionEventKind.WEBHOOK_CONFIRMED, detail=topic))
            confirmed.append(action.id)
    if confirmed:
        logger.info("order actions confirmed by webhook topic=%s count=%s", topic, len(confirmed))
    return confirmed
