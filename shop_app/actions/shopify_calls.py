"""What the actions ask Shopify: a refund's suggestion (and the order's state beside it), and each mutation
sent with its `@idempotent` key, its userErrors read back as words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from integrations.shopify.admin_graphql import AdminGraphQLClient
from integrations.shopify.graphql import document
from integrations.shopify.graphql_resources import gid_for, id_from_gid
from shop_app.models import ActionKind

DOCUMENTS = {
    ActionKind.CANCEL: ("order_cancel", "orderCancel", "orderCancelUserErrors"),
    ActionKind.REFUND: ("refund_create", "refundCreate", "userErrors"),
    ActionKind.ADDRESS: ("order_update", "orderUpdate", "userErrors"),
    ActionKind.NOTE: ("order_update", "orderUpdate", "userErrors"),
    ActionKind.TAG: ("tags_add", "tagsAdd", "userErrors"),
    ActionKind.HOLD: ("fulfillment_order_hold", "fulfillmentOrderHold", "userErrors"),
    ActionKind.RELEASE_HOLD: ("fulfillment_order_release_hold", "fulfillmentOrderReleaseHold", "userErrors"),
    ActionKind.RESEND_INVOICE: ("order_invoice_send", "orderInvoiceSend", "userErrors"),
    ActionKind.RESEND_SHIPPING: (
        "fulfillment_tracking_info_update",
        "fulfillmentTrackingInfoUpdate",
        "userErrors",
    ),
}


@dataclass(frozen=True, slots=True)
class SuggestedLine:
    line_item_id: int
    name: str
    quantity: int
    subtotal: Decimal


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Shopify's suggested refund for an order, with the order's state as Shopify has it now."""

    order_name: str
    currency: str
    cancelled: bool
    financial_status: str
    fulfillment_status: str
    fulfillment_orders: list[tuple[int, str]]
    amount: Decimal
    maximum: Decimal
    subtotal: Decimal
    tax: Decimal
    shipping: Decimal
    lines: list[SuggestedLine] = field(default_factory=list)
    parent_transaction: str | None = None
    gateway: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "order_name": self.order_name,
            "currency": self.currency,
            "cancelled": self.cancelled,
            "financial_status": self.financial_status,
            "fulfillment_status": self.fulfillment_status,
            "fulfillment_orders": [[fo_id, status] for fo_id, status in self.fulfillment_orders],
            "amount": str(self.amount),
            "maximum": str(self.maximum),
            "subtotal": str(self.subtotal),
            "tax": str(self.tax),
            "shipping": str(self.shipping),
            "lines": [
                {
                    "line_item_id": ln.line_item_id,
                    "name": ln.name,
                    "quantity": ln.quantity,
                    "subtotal": str(ln.subtotal),
                }
                for ln in self.lines
            ],
            "parent_transaction": self.parent_transaction,
            "gateway": self.gateway,
        }


def _money(bag: Any) -> Decimal:
    if isinstance(bag, Mapping):
        money = bag.get("shopMoney")
        if isinstance(money, Mapping):
            return Decimal(str(money.get("amount", "0")))
    return Decimal(0)


async def suggest_refund(
    client: AdminGraphQLClient,
    *,
    order_id: int,
    lines: list[dict[str, Any]] | None = None,
    refund_shipping: bool = False,
    full: bool = False,
) -> Suggestion | None:
    """None when the shop has no such order."""
    variables = {
        "id": gid_for("Order", order_id),
        "lines": lines or [],
        "refundShipping": refund_shipping,
        "full": full,
    }
    result = await client.execute(document("order_suggested_refund"), variables)
    order = result.data.get("order")
    if not isinstance(order, Mapping):
        return None
    suggested = order.get("suggestedRefund") or {}
    transactions = suggested.get("suggestedTransactions") or []
    first = transactions[0] if transactions else {}
    parent = first.get("parentTransaction") or {}
    return Suggestion(
        order_name=str(order.get("name", "")),
        currency=str(order.get("currencyCode", "")),
        cancelled=order.get("cancelledAt") is not None,
        financial_status=str(order.get("displayFinancialStatus") or ""),
        fulfillment_status=str(order.get("displayFulfillmentStatus") or ""),
        fulfillment_orders=[
            (id_from_gid(node["id"]), str(node.get("status")))
            for node in (order.get("fulfillmentOrders") or {}).get("nodes") or []
        ],
        amount=_money(suggested.get("amountSet")),
        maximum=_money(suggested.get("maximumRefundableSet")),
        subtotal=_money(suggested.get("subtotalSet")),
        tax=_money(suggested.get("totalTaxSet")),
        shipping=_money((suggested.get("shipping") or {}).get("amountSet")),
        lines=[
            SuggestedLine(
                line_item_id=id_from_gid(line["lineItem"]["id"]),
                name=str(line["lineItem"].get("name") or ""),
                quantity=int(line["quantity"]),
                subtotal=_money(line.get("subtotalSet")),
            )
            for line in suggested.get("refundLineItems") or []
        ],
        parent_transaction=parent.get("id"),
        gateway=first.get("gateway"),
    )


@dataclass(frozen=True, slots=True)
class ShopifyAnswer:
    applied: bool
    errors: list[str]
    raw: dict[str, Any]


async def send(
    client: AdminGraphQLClient, kind: ActionKind, *, key: str, variables: dict[str, Any]
) -> ShopifyAnswer:
    """Send the action's mutation once with this idempotency key (Shopify answers a repeat with the first
    answer and does not act again)."""
    name, field_name, errors_field = DOCUMENTS[kind]
    result = await client.execute(document(name), {"key": key, **variables})
    payload = result.data.get(field_name) or {}
    errors = [str(error.get("message", "")) for error in payload.get(errors_field) or []]
    return ShopifyAnswer(applied=not errors, errors=errors, raw=dict(payload))
