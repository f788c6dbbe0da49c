"""Shapes of order actions in the API: what each action takes (strict), a previewed or finished action, the
confirmation and the approval decision, and the shop's action policy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel

from shop_app.schemas.tickets import whole_number

MAX_NOTE_CHARS = 5000
MAX_TAG_CHARS = 40
MAX_LINES = 100
SHOPIFY_ID_MAX = 2**63 - 1
ROW_ID_MAX = 2**31 - 1
CONFIRMATION_PATTERN = r"^\d{1,10}\.[0-9a-f]{64}$"

ShopifyId = Annotated[int, Field(ge=1, le=SHOPIFY_ID_MAX), BeforeValidator(whole_number)]
RowId = Annotated[int, Field(ge=1, le=ROW_ID_MAX), BeforeValidator(whole_number)]
Short = Annotated[str, Field(max_length=255)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ActionTarget(Strict):
    order_id: ShopifyId = Field(description="The Shopify order id (legacy numeric id)")
    ticket_id: RowId | None = Field(default=None, description="The ticket whose timeline shows the outcome")


class CancelIn(ActionTarget):
    kind: Literal["cancel"]
    reason: Literal["CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"] = "CUSTOMER"
    refund_to: Literal["original", "store_credit"] = "original"
    restock: bool = True
    notify: bool = False
    staff_note: Annotated[str, Field(max_length=MAX_NOTE_CHARS)] | None = None


class RefundLine(Strict):
    line_item_id: ShopifyId
    quantity: Annotated[int, Field(ge=1, le=10_000), BeforeValidator(whole_number)]


class RefundIn(ActionTarget):
    kind: Literal["refund"]
    lines: list[RefundLine] = Field(default_factory=list, max_length=MAX_LINES)
    shipping: bool = Field(default=False, description="Refund the shipping still refundable")
    restock: bool = False
    notify: bool = False
    note: Annotated[str, Field(max_length=MAX_NOTE_CHARS)] | None = None


class AddressIn(ActionTarget):
    kind: Literal["address"]
    first_name: Short | None = None
    last_name: Short | None = None
    company: Short | None = None
    address1: Short
    address2: Short | None = None
    city: Short
    province_code: Annotated[str, Field(max_length=10)] | None = Field(
        default=None, description="JP-13 for Tokyo; for Japan read from the postcode when left out"
    )
    zip: Annotated[str, Field(max_length=20)]
    country_code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    phone: Annotated[str, Field(max_length=32)] | None = None


class HoldIn(ActionTarget):
    kind: Literal["hold"]
    reason: Literal[
        "AWAITING_PAYMENT",
        "HIGH_RISK_OF_FRAUD",
        "INCORRECT_ADDRESS",
        "INVENTORY_OUT_OF_STOCK",
        "UNKNOWN_DELIVERY_DATE",
        "OTHER",
    ] = "OTHER"
    notes: Annotated[str, Field(max_length=MAX_NOTE_CHARS)] | None = None
    fulfillment_order_id: ShopifyId | None = None


class ReleaseHoldIn(ActionTarget):
    kind: Literal["release_hold"]
    fulfillment_order_id: ShopifyId | None = None


class NoteIn(ActionTarget):
    kind: Literal["note"]
    note: Annotated[str, Field(max_length=MAX_NOTE_CHARS)]


class TagIn(ActionTarget):
    kind: Literal["tag"]
    tags: list[Annotated[str, Field(min_length=1, max_length=MAX_TAG_CHARS)]] = Field(
        min_length=1, max_length=20
    )


class ResendInvoiceIn(ActionTarget):
    """Shopify's invoice email for the order (its details and, while unpaid, a link to pay)."""

    kind: Literal["resend_invoice"]


class ResendShippingIn(ActionTarget):
    """The shipping email again, for the shipment named (else the latest with a tracking number)."""

    kind: Literal["resend_shipping"]
    fulfillment_id: ShopifyId | None = None


AnyActionIn = (
    CancelIn
    | RefundIn
    | AddressIn
    | HoldIn
    | ReleaseHoldIn
    | NoteIn
    | TagIn
    | ResendInvoiceIn
    | ResendShippingIn
)


class ActionIn(RootModel[AnyActionIn]):
    root: Annotated[AnyActionIn, Field(discriminator="kind")]

    def parameters(self) -> dict[str, Any]:
        return self.root.model_dump(exclude={"kind", "order_id", "ticket_id"}, exclude_none=True)


class ConfirmIn(Strict):
    token: Annotated[str, Field(pattern=CONFIRMATION_PATTERN)] = Field(
        description="The token the preview gave"
    )


class DecisionIn(Strict):
    approve: bool


class ActionEventOut(BaseModel):
    kind: str
    agent_id: int | None
    api_key_id: int | None
    by_shopper: bool
    at: datetime


class ActionOut(BaseModel):
    id: int
    kind: str
    status: str
    order_id: int
    order_name: str
    ticket_id: int | None
    amount: str | None
    currency: str | None
    amount_text: str | None = Field(description="The amount in the caller's language and the shop's currency")
    amounts_text: dict[str, str] = Field(
        default_factory=dict,
        description="The preview's subtotal, tax and shipping (and each line's, as line:<id>) in the "
        "caller's language and the shop's currency",
    )
    summary: str = Field(description="The action in words, in the caller's language, with Shopify's refusal")
    preview: dict[str, Any]
    needs_approval: bool
    errors: list[str]
    requested_by_agent_id: int | None
    by_shopper: bool
    decided_by_agent_id: int | None
    expires_at: datetime
    created_at: datetime
    confirmed_by_shopify_at: datetime | None = Field(
        default=None, description="When Shopify's webhook for this change arrived (None until then)"
    )
    token: str | None = Field(default=None, description="Only on a preview: send it back to confirm")
    events: list[ActionEventOut] = Field(default_factory=list)


class ActionList(BaseModel):
    actions: list[ActionOut]


class OrderActionsOut(BaseModel):
    available: list[str] = Field(description="The actions this caller may start on this order")
    hidden: dict[str, str] = Field(
        description="Actions hidden, each with why (scope_missing, action_not_allowed)"
    )
    actions: list[ActionOut]


class PolicyOut(BaseModel):
    roles: dict[str, list[str]]
    approval_amount: str | None
    approval_hours: int
    bot_cancel: bool
    bot_address: bool
    bot_window_minutes: int
    missing_scopes: list[str]


class PolicyIn(Strict):
    roles: dict[
        Literal["cancel", "refund", "address", "hold", "release_hold", "note", "tag"],
        list[Literal["admin", "agent"]],
    ] = Field(default_factory=dict)
    approval_amount: Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,2})?$")] | None = None
    approval_hours: Annotated[int, Field(ge=1, le=168), BeforeValidator(whole_number)] = 24
    bot_cancel: bool = False
    bot_address: bool = False
    bot_window_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60), BeforeValidator(whole_number)] = 120
