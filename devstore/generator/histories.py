"""Play an order through a scenario, so the generated store holds orders in every state."""

from __future__ import annotations

from datetime import datetime, timedelta

from devstore.generator.orders import (
    SHIPMENT_TARGET,
    Doc,
    OrderContext,
    Scenario,
    cancel_order,
    close_if_done,
    create_fulfillment,
    create_refund,
    mark_paid,
    place_on_hold,
    ship_through,
)

# How often each scenario happens among recent orders and among older ones.
RECENT_WEIGHTS = {
    Scenario.UNPAID: 4,
    Scenario.PAID_UNFULFILLED: 14,
    Scenario.ON_HOLD: 3,
    Scenario.PARTIALLY_FULFILLED: 5,
    Scenario.LABEL_CREATED: 8,
    Scenario.IN_TRANSIT: 16,
    Scenario.OUT_FOR_DELIVERY: 6,
    Scenario.ATTEMPTED_DELIVERY: 3,
    Scenario.DELAYED: 4,
    Scenario.DELIVERED: 20,
    Scenario.FULFILLED_NO_TRACKING: 3,
    Scenario.SPLIT_SHIPMENT: 5,
    Scenario.PARTIALLY_REFUNDED: 3,
    Scenario.REFUNDED: 2,
    Scenario.CANCELLED: 4,
}
OLDER_WEIGHTS = {
    Scenario.DELIVERED: 74,
    Scenario.FULFILLED_NO_TRACKING: 6,
    Scenario.SPLIT_SHIPMENT: 4,
    Scenario.PARTIALLY_REFUNDED: 5,
    Scenario.REFUNDED: 4,
    Scenario.CANCELLED: 6,
    Scenario.UNPAID: 1,
}
# An order's story (payment to delivery or refund) plays out within this long after it is placed.
MAX_HISTORY_SECONDS = 9 * 86400
MULTI_LINE_SCENARIOS = frozenset(
    {Scenario.PARTIALLY_FULFILLED, Scenario.SPLIT_SHIPMENT, Scenario.PARTIALLY_REFUNDED}
)


def play(ctx: OrderContext, order: Doc, scenario: Scenario, created_at: datetime) -> None:
    rng = ctx.rng
    available = min(max((ctx.now - created_at).total_seconds(), 120.0), MAX_HISTORY_SECONDS)

    def at(fraction: float) -> datetime:
        return created_at + timedelta(seconds=available * fraction)

    if scenario is Scenario.UNPAID:
        if rng.random() < 0.3:
            order["displayFinancialStatus"] = "AUTHORIZED"
        return
    if scenario is Scenario.CANCELLED:
        if rng.random() < 0.5:
            mark_paid(ctx, order, at(0.01))
        cancel_order(ctx, order, at(0.1))
        return
    mark_paid(ctx, order, at(0.01))
    if scenario is Scenario.PAID_UNFULFILLED:
        return
    if scenario is Scenario.ON_HOLD:
        place_on_hold(ctx, order, at(0.05))
        return
    if scenario is Scenario.FULFILLED_NO_TRACKING:
        create_fulfillment(ctx, order, at(0.1), with_tracking=False)
        close_if_done(ctx, order, at(0.2))
        return
    items = order["lineItems"]
    if scenario is Scenario.PARTIALLY_FULFILLED:
        first = items[: max(1, len(items) // 2)]
        fulfillment = create_fulfillment(
            ctx, order, at(0.1), quantities={i["id"]: i["quantity"] for i in first}
        )
        ship_through(ctx, order, fulfillment, "IN_TRANSIT", at(0.1), at(0.9))
        return
    if scenario is Scenario.SPLIT_SHIPMENT:
        cut = max(1, len(items) // 2)
        early = create_fulfillment(
            ctx, order, at(0.05), quantities={i["id"]: i["quantity"] for i in items[:cut]}
        )
        ship_through(ctx, order, early, "DELIVERED", at(0.05), at(0.6))
        late = create_fulfillment(ctx, order, at(0.3))
        ship_through(
            ctx, order, late, rng.choice(("IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED")), at(0.3), at(0.95)
        )
        close_if_done(ctx, order, at(0.97))
        return
    fulfillment = create_fulfillment(ctx, order, at(0.08))
    ship_through(
        ctx,
        order,
        fulfillment,
        SHIPMENT_TARGET[scenario],
        at(0.08),
        at(0.7 if scenario in {Scenario.PARTIALLY_REFUNDED, Scenario.REFUNDED} else 0.95),
    )
    if scenario is Scenario.PARTIALLY_REFUNDED:
        create_refund(ctx, order, at(0.85), quantities={items[-1]["id"]: 1}, restock=rng.random() < 0.5)
    elif scenario is Scenario.REFUNDED:
        create_refund(ctx, order, at(0.85), quantities={i["id"]: i["quantity"] for i in items}, restock=True)
    close_if_done(ctx, order, at(0.98))
