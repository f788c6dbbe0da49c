"""Order mutations as Shopify's Admin API has them: orderCancel, refundCreate, orderUpdate, tagsAdd,
fulfillmentOrderHold / ReleaseHold, orderInvoiceSend, fulfillmentTrackingInfoUpdate, and
`Order.suggestedRefund`.

Each checks what Shopify checks and answers `userErrors` (or `orderCancelUserErrors`) in Shopify's words;
each honours `@idempotent(key:)` through the request's ledger (same key and arguments: the first answer
again, nothing applied twice; same key, other arguments: an error); each changes the documents as Shopify
does (totals, refunded quantities, restocked inventory) and queues the webhooks Shopify sends.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from devstore import rest_payloads
from devstore.generator.ids import minor_units, money_bag
from devstore.generator.orders import _refresh_fulfillment_status, touch
from devstore.graphql_api.context import RequestContext, iso
from devstore.graphql_api.resolvers import MUTATIONS, SPECIAL, Doc, get_typed
from devstore.records import make_gid, parse_gid

Payload = dict[str, Any]
Mutation = Callable[[RequestContext, dict[str, Any]], Payload]
# Shopify requires the directive on mutations that move money; the store requires it there too.
IDEMPOTENCY_REQUIRED = frozenset({"orderCancel", "refundCreate"})
JAPANESE_TAX_DIVISOR = 11  # 10% consumption tax included in the price: tax = price / 11
ADDED_TAX_PERCENT = 8
FULFILLMENT_HOLD_LIMIT = 10
HOLDABLE_STATUSES = frozenset({"OPEN", "ON_HOLD", "SCHEDULED"})
ADDRESS_FIELDS = (
    "address1", "address2", "city", "company", "firstName", "lastName", "phone", "provinceCode", "zip",
)  # fmt: skip


@dataclass
class MutationLedger:
    """`@idempotent` answers by (shop, mutation, key), and how many times each mutation was applied."""

    answers: dict[tuple[str, str, str], tuple[str, Payload]] = field(default_factory=dict)
    applied: Counter[tuple[str, str]] = field(default_factory=Counter)

    def replay(self, shop: str, mutation: str, key: str, fingerprint: str) -> Payload | None:
        kept = self.answers.get((shop, mutation, key))
        if kept is None:
            return None
        if kept[0] != fingerprint:
            raise GraphQLError(
                "The same idempotency key was used with different arguments.",
                extensions={"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"},
            )
        return kept[1]

    def record(self, shop: str, mutation: str, key: str | None, fingerprint: str, payload: Payload) -> None:
        self.applied[(shop, mutation)] += 1
        if key is not None:
            self.answers[(shop, mutation, key)] = (fingerprint, payload)

    def count(self, shop: str, mutation: str) -> int:
        return self.applied[(shop, mutation)]


def _fingerprint(args: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(name: str) -> Callable[[Mutation], Mutation]:
    """Register a mutation that replays its first answer for a repeated `@idempotent` key."""

    def register(function: Mutation) -> Mutation:
        @functools.wraps(function)
        def run(ctx: RequestContext, args: dict[str, Any]) -> Payload:
            key = ctx.idempotency_key
            if key is None and name in IDEMPOTENCY_REQUIRED:
                raise GraphQLError(
                    f"The @idempotent directive is required for the {name} mutation.",
                    extensions={"code": "BAD_REQUEST"},
                )
            fingerprint = _fingerprint(args)
            if ctx.ledger is not None and key is not None:
                kept = ctx.ledger.replay(ctx.shop, name, key, fingerprint)
                if kept is not None:
                    return kept
            events_before = len(ctx.events)
            payload = function(ctx, args)
            if ctx.ledger is not None and not _refused(payload):
                ctx.ledger.record(ctx.shop, name, key, fingerprint, payload)
            elif _refused(payload):
                del ctx.events[events_before:]
            return payload

        MUTATIONS[name] = run
        return run

    return register


def _refused(payload: Payload) -> bool:
    return bool(payload.get("userErrors") or payload.get("orderCancelUserErrors"))


def _error(field_path: list[str | int] | None, message: str, code: str | None = None) -> Doc:
    error: Doc = {"field": [str(part) for part in field_path] if field_path else None, "message": message}
    if code is not None:
        error["code"] = code
    return error


def _now(ctx: RequestContext) -> str:
    return iso(ctx.wall_clock())


def _currency(order: Doc) -> str:
    return str(order["currencyCode"])


def _minor(order: Doc, bag: Doc | None) -> int:
    if not bag:
        return 0
    return minor_units(str(bag["shopMoney"]["amount"]), _currency(order))


def _bag(order: Doc, minor: int) -> Doc:
    return money_bag(minor, _currency(order))


def _sale_transaction_id(order: Doc) -> str:
    parsed = parse_gid(order["id"])
    return make_gid("OrderTransaction", parsed[1] if parsed else 0)


def _gateway(order: Doc) -> str:
    names = order.get("paymentGatewayNames") or ["manual"]
    return str(names[0])


def _received(order: Doc) -> int:
    return _minor(order, order.get("totalReceivedSet"))


def _refundable_money(order: Doc) -> int:
    return max(0, _received(order) - _minor(order, order.get("totalRefundedSet")))


def _shipping_left(order: Doc) -> int:
    return max(0, _minor(order, order.get("totalShippingPriceSet")) - int(order.get("_refundedShipping", 0)))


def _line_tax(order: Doc, subtotal: int) -> int:
    if order.get("taxesIncluded"):
        return subtotal // JAPANESE_TAX_DIVISOR
    return subtotal * ADDED_TAX_PERCENT // 100


def _emit_order(ctx: RequestContext, order: Doc, topic: str = "orders/updated") -> None:
    payload = rest_payloads.order_payload(order, lambda gid: ctx.records.get(ctx.shop, gid))
    ctx.events.append((topic, payload))


def _order(ctx: RequestContext, gid: object) -> Doc | None:
    return get_typed(ctx, gid, "Order")


# suggestedRefund


@dataclass
class RefundPlan:
    lines: list[Doc]
    subtotal: int
    tax: int
    shipping: int
    maximum: int
    tax_included: bool = False

    @property
    def amount(self) -> int:
        return min(self.maximum, self.subtotal + self.shipping + (0 if self.tax_included else self.tax))


def _plan_refund(
    order: Doc,
    lines: list[Doc],
    *,
    shipping: int,
    full: bool,
) -> RefundPlan:
    items = {item["id"]: item for item in order["lineItems"]}
    if full:
        lines = [
            {"lineItemId": item["id"], "quantity": item["refundableQuantity"]}
            for item in order["lineItems"]
            if item["refundableQuantity"] > 0
        ]
        shipping = _shipping_left(order)
    planned: list[Doc] = []
    subtotal = 0
    for line in lines:
        item = items.get(line.get("lineItemId"))
        if item is None:
            continue
        quantity = min(int(line.get("quantity", 0)), int(item["refundableQuantity"]))
        if quantity <= 0:
            continue
        unit = _minor(order, item["discountedUnitPriceSet"] or item["originalUnitPriceSet"])
        subtotal += unit * quantity
        planned.append(
            {
                "lineItem": item["id"],
                "quantity": quantity,
                "restockType": line.get("restockType") or "NO_RESTOCK",
                "restocked": False,
                "priceSet": _bag(order, unit),
                "subtotalSet": _bag(order, unit * quantity),
            }
        )
    return RefundPlan(
        lines=planned,
        subtotal=subtotal,
        tax=_line_tax(order, subtotal),
        shipping=min(shipping, _shipping_left(order)),
        maximum=_refundable_money(order),
        tax_included=bool(order.get("taxesIncluded")),
    )


def _suggested_refund(ctx: RequestContext, order: Doc, args: dict[str, Any]) -> Doc:
    shipping = 0
    if args.get("refundShipping"):
        shipping = _shipping_left(order)
    elif args.get("shippingAmount") is not None:
        shipping = minor_units(str(args["shippingAmount"]), _currency(order))
    plan = _plan_refund(
        order,
        list(args.get("refundLineItems") or []),
        shipping=shipping,
        full=bool(args.get("suggestFullRefund")),
    )
    amount = plan.amount
    transactions = []
    if amount > 0:
        transactions.append(
            {
                "amountSet": _bag(order, amount),
                "maximumRefundableSet": _bag(order, plan.maximum),
                "gateway": _gateway(order),
                "kind": "SUGGESTED_REFUND",
                "parentTransaction": {
                    "id": _sale_transaction_id(order),
                    "kind": "SALE",
                    "gateway": _gateway(order),
                    "amountSet": _bag(order, _received(order)),
                },
            }
        )
    return {
        "amountSet": _bag(order, amount),
        "maximumRefundableSet": _bag(order, plan.maximum),
        "subtotalSet": _bag(order, plan.subtotal),
        "discountedSubtotalSet": _bag(order, plan.subtotal),
        "totalTaxSet": _bag(order, plan.tax),
        "refundLineItems": plan.lines,
        "shipping": {
            "amountSet": _bag(order, plan.shipping),
            "maximumRefundableSet": _bag(order, _shipping_left(order)),
            "taxSet": _bag(order, 0),
        },
        "suggestedTransactions": transactions,
    }


SPECIAL[("Order", "suggestedRefund")] = _suggested_refund


# inventory


def _restock(
    ctx: RequestContext, order: Doc, item: Doc, location: str | None, quantity: int, kind: str
) -> None:
    inventory_item = item.get("_inventoryItem")
    product_gid = item.get("product")
    product = get_typed(ctx, product_gid, "Product") if product_gid else None
    if product is None or not inventory_item:
        return
    deltas = {"available": quantity, "on_hand": quantity} if kind == "RETURN" else {"available": quantity}
    if kind != "RETURN":
        deltas["committed"] = -quantity
    stamp = _now(ctx)
    for variant in product["variants"]:
        inventory = variant["inventoryItem"]
        if inventory["id"] != inventory_item:
            continue
        levels = inventory["inventoryLevels"]
        level = next((lv for lv in levels if lv["location"] == location), levels[0] if levels else None)
        if level is None:
            return
        for held in level["quantities"]:
            if held["name"] in deltas:
                held["quantity"] += deltas[held["name"]]
                held["updatedAt"] = stamp
        level["updatedAt"] = inventory["updatedAt"] = variant["updatedAt"] = product["updatedAt"] = stamp
        variant["inventoryQuantity"] = sum(
            q["quantity"] for lv in levels for q in lv["quantities"] if q["name"] == "available"
        )
        variant["availableForSale"] = (
            variant["inventoryQuantity"] > 0 or variant["inventoryPolicy"] == "CONTINUE"
        )
        product["totalInventory"] = sum(v["inventoryQuantity"] for v in product["variants"])
        ctx.records.put(ctx.shop, product)
        ctx.events.append(
            ("inventory_levels/update", rest_payloads.inventory_level_payload(inventory, level))
        )
        ctx.events.append(("products/update", rest_payloads.product_payload(product)))
        return


def _release_unfulfilled(order: Doc, item: Doc, quantity: int) -> None:
    """Refunding unfulfilled units removes them from the fulfillment orders, as Shopify does."""
    take = min(quantity, int(item.get("unfulfilledQuantity", 0)))
    item["unfulfilledQuantity"] = int(item.get("unfulfilledQuantity", 0)) - take
    for fulfillment_order in order["fulfillmentOrders"]:
        for line in fulfillment_order["lineItems"]:
            if take <= 0:
                return
            if line["lineItem"] == item["id"] and line["remainingQuantity"] > 0:
                moved = min(take, line["remainingQuantity"])
                line["remainingQuantity"] -= moved
                take -= moved
        emptied = all(line["remainingQuantity"] == 0 for line in fulfillment_order["lineItems"])
        if emptied and fulfillment_order["status"] in HOLDABLE_STATUSES:
            fulfillment_order["status"] = "CLOSED"


# refunds


def _apply_refund(
    ctx: RequestContext,
    order: Doc,
    plan: RefundPlan,
    *,
    amount: int,
    note: str | None,
    location: dict[int, str | None],
) -> Doc:
    stamp = _now(ctx)
    items = {item["id"]: item for item in order["lineItems"]}
    default_location = (
        order["fulfillmentOrders"][0]["assignedLocation"]["location"] if order["fulfillmentOrders"] else None
    )
    refund_lines = []
    for index, line in enumerate(plan.lines):
        item = items[line["lineItem"]]
        quantity = int(line["quantity"])
        item["refundableQuantity"] -= quantity
        item["currentQuantity"] -= quantity
        restock_type = str(line["restockType"])
        restocked = restock_type in {"RETURN", "CANCEL", "LEGACY_RESTOCK"}
        where = location.get(index) or default_location
        if restock_type != "RETURN":
            _release_unfulfilled(order, item, quantity)
        if restocked:
            _restock(ctx, order, item, where, quantity, "RETURN" if restock_type == "RETURN" else "CANCEL")
        refund_lines.append(
            {
                **line,
                "id": make_gid("RefundLineItem", ctx.records.next_id(ctx.shop, "RefundLineItem")),
                "restocked": restocked,
                "location": where if restocked else None,
                "totalTaxSet": _bag(order, _line_tax(order, _minor(order, line["subtotalSet"]))),
            }
        )
    number = ctx.records.next_id(ctx.shop, "Refund")
    refund = {
        "id": make_gid("Refund", number),
        "legacyResourceId": str(number),
        "createdAt": stamp,
        "updatedAt": stamp,
        "processedAt": stamp,
        "note": note,
        "totalRefundedSet": _bag(order, amount),
        "refundLineItems": refund_lines,
    }
    order["refunds"].append(refund)
    order["_refundedShipping"] = int(order.get("_refundedShipping", 0)) + plan.shipping
    refunded = _minor(order, order.get("totalRefundedSet")) + amount
    total = _minor(order, order.get("totalPriceSet"))
    order["totalRefundedSet"] = _bag(order, refunded)
    order["currentTotalPriceSet"] = _bag(order, max(0, total - refunded))
    current_subtotal = _minor(order, order.get("currentSubtotalPriceSet")) - plan.subtotal
    order["currentSubtotalPriceSet"] = _bag(order, max(0, current_subtotal))
    if amount > 0:
        received = _received(order)
        order["displayFinancialStatus"] = "REFUNDED" if refunded >= received else "PARTIALLY_REFUNDED"
    _refresh_fulfillment_status(order)
    touch(order, stamp)
    return refund


def _line_errors(order: Doc, lines: list[Doc]) -> list[Doc]:
    items = {item["id"]: item for item in order["lineItems"]}
    errors = []
    for index, line in enumerate(lines):
        item = items.get(line.get("lineItemId"))
        path: list[str | int] = ["refundLineItems", index]
        if item is None:
            errors.append(_error([*path, "lineItemId"], "Line item does not exist"))
        elif int(line.get("quantity", 0)) <= 0:
            errors.append(_error([*path, "quantity"], "Quantity must be greater than 0"))
        elif int(line["quantity"]) > int(item["refundableQuantity"]):
            errors.append(
                _error([*path, "quantity"], "Quantity cannot refund more items than were purchased")
            )
    return errors


@idempotent("refundCreate")
def refund_create(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    refund_input: dict[str, Any] = dict(args["input"])
    order = _order(ctx, refund_input.get("orderId"))
    if order is None:
        return {"order": None, "refund": None, "userErrors": [_error(["orderId"], "Order does not exist")]}
    lines = list(refund_input.get("refundLineItems") or [])
    errors = _line_errors(order, lines)
    shipping_input = refund_input.get("shipping") or {}
    shipping = 0
    if shipping_input.get("fullRefund"):
        shipping = _shipping_left(order)
    elif shipping_input.get("amount") is not None:
        shipping = minor_units(str(shipping_input["amount"]), _currency(order))
        if shipping > _shipping_left(order):
            errors.append(
                _error(["shipping", "amount"], "Shipping refund amount is greater than the refundable amount")
            )
    amount = 0
    for index, transaction in enumerate(refund_input.get("transactions") or []):
        path: list[str | int] = ["transactions", index]
        if transaction.get("kind") != "REFUND":
            errors.append(_error([*path, "kind"], "Kind is not valid for a refund"))
        if transaction.get("parentId") != _sale_transaction_id(order):
            errors.append(_error([*path, "parentId"], "Parent transaction does not exist"))
        amount += minor_units(str(transaction.get("amount")), _currency(order))
    if amount > _refundable_money(order):
        errors.append(_error(["transactions"], "Refund amount exceeds the refundable amount"))
    if not lines and not amount and not shipping and not errors:
        errors.append(_error(None, "Refund must include line items, shipping, or transactions"))
    if errors:
        return {"order": None, "refund": None, "userErrors": errors}
    plan = _plan_refund(order, lines, shipping=shipping, full=False)
    locations = {i: line.get("locationId") for i, line in enumerate(lines)}
    refund = _apply_refund(ctx, order, plan, amount=amount, note=refund_input.get("note"), location=locations)
    ctx.records.put(ctx.shop, order)
    ctx.events.append(("refunds/create", rest_payloads.refund_payload(order, refund)))
    _emit_order(ctx, order)
    return {"order": order, "refund": refund, "userErrors": []}


# cancelling


@idempotent("orderCancel")
def order_cancel(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    def refused(field_path: list[str | int], message: str, code: str) -> Payload:
        return {"job": None, "orderCancelUserErrors": [_error(field_path, message, code)]}

    order = _order(ctx, args.get("orderId"))
    if order is None:
        return refused(["orderId"], "Order does not exist", "NOT_FOUND")
    if order.get("cancelledAt") is not None:
        return refused(["orderId"], "Order has already been cancelled", "INVALID")
    if any(f.get("status") != "CANCELLED" for f in order["fulfillments"]):
        return refused(["orderId"], "Cannot cancel an order that has fulfillments", "INVALID")
    method = args.get("refundMethod")
    if method is not None and args.get("refund") is not None:
        return refused(["refund"], "Only one of refund and refundMethod may be given", "INVALID")
    store_credit = bool(method and method.get("storeCreditRefund") is not None)
    if store_credit and not order.get("customer"):
        return refused(
            ["refundMethod", "storeCreditRefund"],
            "A store credit refund needs an order with a customer",
            "STORE_CREDIT_REFUND_MISSING_CUSTOMER",
        )
    wants_refund = bool(method) or args.get("refund") is not False
    stamp = _now(ctx)
    refund = None
    status = order["displayFinancialStatus"]
    restock = bool(args["restock"])
    if status in {"PENDING", "AUTHORIZED"}:
        order["displayFinancialStatus"] = "VOIDED"
        order["totalOutstandingSet"] = _bag(order, 0)
        if restock:
            for item in order["lineItems"]:
                if item["currentQuantity"] > 0:
                    _restock(ctx, order, item, None, item["currentQuantity"], "CANCEL")
    elif wants_refund and _refundable_money(order) > 0:
        plan = _plan_refund(order, [], shipping=0, full=True)
        for line in plan.lines:
            line["restockType"] = "CANCEL" if restock else "NO_RESTOCK"
        refund = _apply_refund(ctx, order, plan, amount=plan.maximum, note=args.get("staffNote"), location={})
        if store_credit:
            refund["_storeCredit"] = True
    order["cancelledAt"] = stamp
    order["cancelReason"] = args["reason"]
    order["closedAt"] = stamp
    order["closed"] = True
    order["_cancelNotified"] = bool(args.get("notifyCustomer"))
    for item in order["lineItems"]:
        item["currentQuantity"] = 0
        item["unfulfilledQuantity"] = 0
    for fulfillment_order in order["fulfillmentOrders"]:
        fulfillment_order["status"] = "CLOSED"
        fulfillment_order["fulfillmentHolds"] = []
        fulfillment_order["updatedAt"] = stamp
        for line in fulfillment_order["lineItems"]:
            line["remainingQuantity"] = 0
    _refresh_fulfillment_status(order)
    touch(order, stamp)
    ctx.records.put(ctx.shop, order)
    _emit_order(ctx, order, "orders/cancelled")
    if refund is not None:
        ctx.events.append(("refunds/create", rest_payloads.refund_payload(order, refund)))
    _emit_order(ctx, order)
    job = {"id": make_gid("Job", ctx.records.next_id(ctx.shop, "Job")), "done": True}
    return {"job": job, "orderCancelUserErrors": []}


# updating


def _address(current: Doc | None, given: dict[str, Any]) -> Doc:
    address = dict(current or {})
    for key in ADDRESS_FIELDS:
        if key in given:
            address[key] = given[key]
    if given.get("countryCode"):
        address["countryCodeV2"] = given["countryCode"]
        if given["countryCode"] != (current or {}).get("countryCodeV2"):
            address["country"] = given["countryCode"]
    if "provinceCode" in given and given["provinceCode"] != (current or {}).get("provinceCode"):
        address["province"] = given["provinceCode"]
    names = [address.get("firstName"), address.get("lastName")]
    address["name"] = " ".join(str(part) for part in names if part)
    return address


@idempotent("orderUpdate")
def order_update(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    order_input: dict[str, Any] = dict(args["input"])
    order = _order(ctx, order_input.get("id"))
    if order is None:
        return {"order": None, "userErrors": [_error(["id"], "Order does not exist")]}
    given = order_input.get("shippingAddress")
    if given is not None:
        if order.get("cancelledAt") is not None:
            return {"order": None, "userErrors": [_error(["shippingAddress"], "Order has been cancelled")]}
        if not given.get("address1") and not (order.get("shippingAddress") or {}).get("address1"):
            return {
                "order": None,
                "userErrors": [_error(["shippingAddress", "address1"], "Address1 can't be blank")],
            }
        order["shippingAddress"] = _address(order.get("shippingAddress"), given)
    if "note" in order_input:
        order["note"] = order_input["note"]
    if order_input.get("tags") is not None:
        order["tags"] = list(
            dict.fromkeys(str(tag).strip() for tag in order_input["tags"] if str(tag).strip())
        )
    touch(order, _now(ctx))
    ctx.records.put(ctx.shop, order)
    _emit_order(ctx, order)
    return {"order": order, "userErrors": []}


@idempotent("tagsAdd")
def tags_add(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    parsed = parse_gid(str(args.get("id")))
    node = (
        get_typed(ctx, args.get("id")) if parsed and parsed[0] in {"Order", "Customer", "Product"} else None
    )
    if node is None or parsed is None:
        return {"node": None, "userErrors": [_error(["id"], "Object does not exist")]}
    tags = [str(tag).strip() for tag in args.get("tags") or [] if str(tag).strip()]
    if not tags:
        return {"node": None, "userErrors": [_error(["tags"], "Tags can't be blank")]}
    node["tags"] = list(dict.fromkeys([*(node.get("tags") or []), *tags]))
    touch(node, _now(ctx))
    ctx.records.put(ctx.shop, node)
    if parsed[0] == "Order":
        _emit_order(ctx, node)
    return {"node": node, "userErrors": []}


# holds


def _fulfillment_order(ctx: RequestContext, gid: object) -> tuple[Doc, Doc] | None:
    found = get_typed(ctx, gid, "FulfillmentOrder")
    if found is None:
        return None
    order = _order(ctx, found.get("_owner") or found.get("orderId"))
    if order is None:
        return None
    for fulfillment_order in order["fulfillmentOrders"]:
        if fulfillment_order["id"] == gid:
            return order, fulfillment_order
    return None


def _hold_payload(fulfillment_order: Doc) -> Doc:
    return {
        "fulfillment_order": {
            "id": fulfillment_order["id"],
            "status": str(fulfillment_order["status"]).lower(),
            "fulfillment_holds": [
                {"reason": str(h["reason"]).lower(), "reason_notes": h.get("reasonNotes")}
                for h in fulfillment_order["fulfillmentHolds"]
            ],
        },
        "remaining_fulfillment_order": None,
        "held_fulfillment_order_line_items": [],
    }


@idempotent("fulfillmentOrderHold")
def fulfillment_order_hold(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    def refused(field_path: list[str | int], message: str, code: str | None) -> Payload:
        return {
            "fulfillmentHold": None,
            "fulfillmentOrder": None,
            "remainingFulfillmentOrder": None,
            "userErrors": [_error(field_path, message, code)],
        }

    found = _fulfillment_order(ctx, args.get("id"))
    if found is None:
        return refused(["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")
    order, fulfillment_order = found
    if fulfillment_order["status"] not in HOLDABLE_STATUSES:
        return refused(["id"], "The fulfillment order's status must be open or on hold.", None)
    hold_input: dict[str, Any] = dict(args["fulfillmentHold"])
    holds: list[Doc] = fulfillment_order.setdefault("fulfillmentHolds", [])
    handle = str(hold_input.get("handle") or "")
    if len(holds) >= FULFILLMENT_HOLD_LIMIT:
        return refused(
            ["id"],
            "The maximum number of fulfillment holds has been reached.",
            "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED",
        )
    if any(h.get("handle") == handle and h.get("heldByRequestingApp") for h in holds):
        return refused(
            ["fulfillmentHold", "handle"],
            "The handle provided for the fulfillment hold is already in use.",
            "DUPLICATE_FULFILLMENT_HOLD_HANDLE",
        )
    hold = {
        "id": make_gid("FulfillmentHold", ctx.records.next_id(ctx.shop, "FulfillmentHold")),
        "reason": hold_input["reason"],
        "reasonNotes": hold_input.get("reasonNotes"),
        "handle": handle,
        "displayReason": str(hold_input["reason"]).replace("_", " ").capitalize(),
        "heldByRequestingApp": True,
    }
    holds.append(hold)
    stamp = _now(ctx)
    fulfillment_order["status"] = "ON_HOLD"
    fulfillment_order["updatedAt"] = stamp
    _refresh_fulfillment_status(order)
    touch(order, stamp)
    ctx.records.put(ctx.shop, order)
    ctx.events.append(("fulfillment_orders/placed_on_hold", _hold_payload(fulfillment_order)))
    _emit_order(ctx, order)
    return {
        "fulfillmentHold": hold,
        "fulfillmentOrder": fulfillment_order,
        "remainingFulfillmentOrder": None,
        "userErrors": [],
    }


@idempotent("fulfillmentOrderReleaseHold")
def fulfillment_order_release_hold(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    found = _fulfillment_order(ctx, args.get("id"))
    if found is None:
        error = _error(["id"], "Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")
        return {"fulfillmentOrder": None, "userErrors": [error]}
    order, fulfillment_order = found
    if fulfillment_order["status"] != "ON_HOLD":
        error = _error(["id"], "The fulfillment order is not on hold.", None)
        return {"fulfillmentOrder": None, "userErrors": [error]}
    wanted = set(args.get("holdIds") or ())
    holds = fulfillment_order.get("fulfillmentHolds") or []
    kept = [h for h in holds if wanted and h.get("id") not in wanted]
    fulfillment_order["fulfillmentHolds"] = kept
    stamp = _now(ctx)
    if not kept:
        fulfillment_order["status"] = "OPEN"
    fulfillment_order["updatedAt"] = stamp
    _refresh_fulfillment_status(order)
    touch(order, stamp)
    ctx.records.put(ctx.shop, order)
    ctx.events.append(
        (
            "fulfillment_orders/hold_released",
            {
                "fulfillment_order": {
                    "id": fulfillment_order["id"],
                    "status": str(fulfillment_order["status"]).lower(),
                }
            },
        )
    )
    _emit_order(ctx, order)
    return {"fulfillmentOrder": fulfillment_order, "userErrors": []}


# emails sent again


def _recipient(order: Doc) -> str | None:
    return str(order.get("email") or "") or None


def _emailed(ctx: RequestContext, order: Doc, kind: str, to: str) -> None:
    """Kept on the order (never shown by the API): what the store emailed its shopper, for tests."""
    order.setdefault("_emailsSent", []).append({"kind": kind, "to": to, "at": _now(ctx)})


@idempotent("orderInvoiceSend")
def order_invoice_send(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    """Emails the order's invoice (its details and, while unpaid, a link to pay) to the order's email."""
    order = _order(ctx, args.get("id"))
    if order is None:
        return {"order": None, "userErrors": [_error(["id"], "Order does not exist")]}
    email = args.get("email") or {}
    to = str(email.get("to") or "") or _recipient(order)
    if to is None:
        error = _error(
            None, "The order has no email address to send the invoice to.", "ORDER_INVOICE_SEND_UNSUCCESSFUL"
        )
        return {"order": None, "userErrors": [error]}
    _emailed(ctx, order, "invoice", to)
    ctx.records.put(ctx.shop, order)
    return {"order": order, "userErrors": []}


def _fulfillment(ctx: RequestContext, gid: object) -> tuple[Doc, Doc] | None:
    found = get_typed(ctx, gid, "Fulfillment")
    if found is None:
        return None
    order = _order(ctx, found.get("_owner"))
    if order is None:
        return None
    shipment = next((f for f in order["fulfillments"] if f["id"] == gid), None)
    return None if shipment is None else (order, shipment)


@idempotent("fulfillmentTrackingInfoUpdate")
def fulfillment_tracking_info_update(ctx: RequestContext, args: dict[str, Any]) -> Payload:
    """Writes the tracking; with ``notifyCustomer`` the shopper gets the shipping email (again)."""
    found = _fulfillment(ctx, args.get("fulfillmentId"))
    if found is None:
        return {"fulfillment": None, "userErrors": [_error(["fulfillmentId"], "Fulfillment does not exist.")]}
    order, shipment = found
    if shipment.get("status") == "CANCELLED":
        error = _error(["fulfillmentId"], "Cannot update tracking information for a cancelled fulfillment.")
        return {"fulfillment": None, "userErrors": [error]}
    tracking = dict(args.get("trackingInfoInput") or {})
    numbers = [
        str(n) for n in tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
    ]
    if not numbers:
        error = _error(["trackingInfoInput", "number"], "Tracking number can't be blank.")
        return {"fulfillment": None, "userErrors": [error]}
    urls = [str(u) for u in tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else [])]
    shipment["trackingInfo"] = [
        {"company": tracking.get("company"), "number": number, "url": urls[i] if i < len(urls) else None}
        for i, number in enumerate(numbers)
    ]
    stamp = _now(ctx)
    shipment["updatedAt"] = stamp
    to = _recipient(order)
    if args.get("notifyCustomer") and to is not None:
        _emailed(ctx, order, "shipping", to)
    touch(order, stamp)
    ctx.records.put(ctx.shop, order)
    ctx.events.append(("fulfillments/update", rest_payloads.fulfillment_payload(order, shipment)))
    return {"fulfillment": shipment, "userErrors": []}


def _hold_id(ctx: RequestContext, doc: Doc, args: dict[str, Any]) -> str:
    return str(doc.get("id") or make_gid("FulfillmentHold", 0))


SPECIAL[("FulfillmentHold", "id")] = _hold_id
SPECIAL[("FulfillmentHold", "displayReason")] = lambda ctx, doc, args: str(
    doc.get("displayReason") or str(doc.get("reason", "OTHER")).replace("_", " ").capitalize()
)
SPECIAL[("FulfillmentHold", "heldByRequestingApp")] = lambda ctx, doc, args: bool(
    doc.get("heldByRequestingApp")
)
