"""The customer profile beside a conversation: who the customer is, their orders with items, stock and
shipments, and their earlier tickets.

Every amount is a ``Money``, every time a ``When`` and every status a ``Word``: the code for programs and
the text (or display string) for people, already formatted for the reader's locale and the shop's
currency and time zone. Ids are Shopify's numeric ids, except tickets' (the helpdesk's own).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shop_app.models.helpdesk import TicketStatus


class ProfileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(ProfileModel):
    amount: str = Field(description="Decimal amount with the currency's minor digits", examples=["1234"])
    currency: str = Field(description="ISO 4217 code", examples=["JPY"])
    display: str = Field(description="Formatted for the locale", examples=["￥1,234"])


class When(ProfileModel):
    iso: str = Field(description="ISO 8601, UTC", examples=["2026-11-20T05:03:00Z"])
    display: str = Field(description="In the shop's time zone, for the locale", examples=["2026/11/20 14:03"])


class Word(ProfileModel):
    code: str = Field(description="Shopify's (or the app's) code", examples=["PAID"])
    text: str = Field(description="Plain words for the locale", examples=["支払い済み"])


class CustomerFacts(ProfileModel):
    id: int
    name: str | None
    emails: list[str]
    phones: list[str] = Field(description="E.164", examples=[["+819012345678"]])
    phones_display: list[str] = Field(
        description="The same numbers as a person in the shop's country reads them: national for the "
        "shop's country, international for others",
        examples=[["090-1234-5678"]],
    )
    tags: list[str]
    note: str | None
    amount_spent: Money | None
    orders_count: int | None
    first_order_at: When | None
    last_order_at: When | None
    synced_at: When


class GuestFacts(ProfileModel):
    email: str | None
    phone: str | None = Field(description="E.164", examples=["+819012345678"])
    phone_display: str | None = Field(
        description="As a person in the shop's country reads it", examples=["090-1234-5678"]
    )


class LocationStock(ProfileModel):
    id: int
    name: str | None
    available: int | None


class Stock(ProfileModel):
    available: int | None = Field(description="Summed over locations; null when unknown")
    on_hand: int | None
    incoming: int | None
    policy: str | None = Field(description="DENY or CONTINUE (keeps selling when none are left)")
    level: Word
    locations: list[LocationStock]


class OrderItem(ProfileModel):
    id: int = Field(description="The Shopify line item id (legacy numeric id), as a refund names it")
    title: str
    variant_title: str | None
    sku: str | None
    quantity: int
    current_quantity: int | None = Field(
        description="What is left of the line after refunds and removals (null: not known yet)"
    )
    variant_id: int | None
    stock: Stock | None = Field(description="Null when the variant is not in the mirror (or was deleted)")


class ShippingAddress(ProfileModel):
    lines: list[str]


class Delivery(ProfileModel):
    date: str | None = Field(description="Requested delivery day, for display", examples=["2026/11/24"])
    slot: str | None = Field(description="Requested time slot, for display", examples=["14時〜16時"])


class Tracking(ProfileModel):
    number: str
    url: str | None = Field(description="Shopify's link, or one built for Yamato, Sagawa and Japan Post")
    company: str | None = Field(
        description="The carrier's own name in the reader's language", examples=["ヤマト運輸"]
    )


class ShipmentEvent(ProfileModel):
    status: Word
    at: When
    message: str | None


class Shipment(ProfileModel):
    id: int
    status: Word
    carrier: str | None = Field(
        description="The carrier's own name in the reader's language (Shopify's `Yamato (JA)` reads "
        "ヤマト運輸 or Yamato Transport)",
        examples=["ヤマト運輸"],
    )
    tracking: list[Tracking]
    estimated_delivery_at: When | None
    delivered_at: When | None
    last_event: ShipmentEvent | None


class ProfileOrder(ProfileModel):
    id: int
    name: str
    created_at: When
    financial_status: Word
    fulfillment_status: Word
    cancelled_at: When | None
    cancel_reason: str | None = Field(description="Why it was cancelled, in plain words for the locale")
    total: Money | None
    items: list[OrderItem]
    shipping_address: ShippingAddress | None
    delivery: Delivery | None
    shipments: list[Shipment]
    synced_at: When


class EarlierTicket(ProfileModel):
    id: int
    subject: str
    status: TicketStatus
    created_at: When


class ImportProgress(ProfileModel):
    orders_imported: int = Field(description="Orders of the shop in the mirror so far")
    orders_total: int | None = Field(description="Orders in the shop (null until counted)")
    running: bool = Field(description="False when the import stopped (it resumes where it stopped)")
    eta_seconds: float | None = Field(description="Estimated time left while it runs")
    text: str = Field(
        description="In words for the locale",
        examples=["取り込み中：注文 2,000件中 232件 · 残り約14分", "Still importing: 232 of 2,000 orders"],
    )


class CustomerProfile(ProfileModel):
    as_of: When | None = Field(
        description="How fresh the mirror is for this customer: the last time Shopify's word (a webhook, "
        "the import or a reconciliation) was written to their customer record, orders or shipments; null "
        "when the mirror holds none of them"
    )
    read_at: When = Field(description="When this profile was read from the mirror")
    importing: ImportProgress | None = Field(
        description="Set while the shop's first import is unfinished: the profile may lack orders"
    )
    customer: CustomerFacts | None
    guest: GuestFacts | None = Field(description="Set when the ticket is linked to guest orders")
    orders: list[ProfileOrder] = Field(description="Newest first")
    more_orders: int = Field(description="Orders not listed (older than the last one shown)")
    earlier_tickets: list[EarlierTicket] = Field(description="Newest first, without the current ticket")
