"""The mirror's rows in the profile's shapes (``shop_app.schemas.profiles``): the customer's facts, each
order with its items, stock over all locations, shipments with tracking links, shipping address and
requested delivery, and the shop's unfinished first import, in the locale's words, dates and money."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from babel.numbers import format_decimal

from shop_app.formats.delivery_requests import requested_delivery
from shop_app.formats.display import Formatter, currency_amount, iso_utc
from shop_app.formats.names_and_addresses import address_lines, person_name
from shop_app.formats.order_words import PlainWord, WordKind, describe, stock_level
from shop_app.formats.phone_numbers import phone_text
from shop_app.formats.tracking_links import carrier_name, tracking_url
from shop_app.schemas.profiles import (
    CustomerFacts,
    ImportProgress,
    LocationStock,
    Money,
    OrderItem,
    ProfileOrder,
    Shipment,
    ShipmentEvent,
    Stock,
    Tracking,
    When,
    Word,
)

Record = Any  # a result row (sqlalchemy.Row) of the profile's statements


def aware(moment: datetime | str | None) -> datetime | None:
    """An aggregate over a UTC column comes back without its type: naive (or text) on SQLite."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def when(fmt: Formatter, moment: datetime) -> When:
    """A moment as ISO 8601 UTC and as the locale writes it in the shop's time zone."""
    return When(iso=iso_utc(moment), display=fmt.moment_text(moment))


def _optional_when(fmt: Formatter, moment: datetime | None) -> When | None:
    return None if moment is None else when(fmt, moment)


def _word(plain: PlainWord) -> Word:
    return Word(code=plain.code, text=plain.text)


def _money(fmt: Formatter, amount: str | None, currency: str | None) -> Money | None:
    number = fmt.parse_amount(amount)
    if number is None:
        return None
    code = (currency or fmt.currency).upper()
    return Money(amount=currency_amount(number, code), currency=code, display=fmt.money_text(number, code))


def customer_facts(
    fmt: Formatter,
    row: Record,
    *,
    first_at: datetime | None,
    last_at: datetime | None,
    country_code: str | None,
) -> CustomerFacts:
    """The customer's row, with the first and last dates of all their orders; phones also as a person in
    the shop's country (``country_code``) reads them."""
    address = row.default_address or {}
    phones = _unique([row.phone, address.get("phone")])
    shown = [phone_text(phone, shop_region=country_code) for phone in phones]
    return CustomerFacts(
        id=row.shopify_id,
        name=person_name(row.first_name, row.last_name),
        emails=_unique([row.email]),
        phones=phones,
        phones_display=_unique(shown),
        tags=list(row.tags or []),
        note=row.note,
        amount_spent=_money(fmt, row.amount_spent, row.currency),
        orders_count=row.orders_count,
        first_order_at=_optional_when(fmt, first_at),
        last_order_at=_optional_when(fmt, last_at),
        synced_at=when(fmt, row.synced_at),
    )


def profile_order(
    fmt: Formatter,
    row: Record,
    items: Sequence[Record],
    shipments: Sequence[Record],
    stock: dict[int, Stock],
) -> ProfileOrder:
    """An order's row with its line items, shipments and the stock of its variants."""
    locale = fmt.locale
    return ProfileOrder(
        id=row.shopify_id,
        name=row.name,
        created_at=when(fmt, row.created_at),
        financial_status=_word(describe(WordKind.FINANCIAL, row.financial_status, locale=locale)),
        fulfillment_status=_word(describe(WordKind.FULFILLMENT, row.fulfillment_status, locale=locale)),
        cancelled_at=_optional_when(fmt, row.cancelled_at),
        cancel_reason=None
        if row.cancel_reason is None
        else describe(WordKind.CANCEL_REASON, row.cancel_reason, locale=locale).text,
        total=_money(fmt, row.total_price, row.currency),
        items=[
            OrderItem(
                id=item.shopify_id,
                title=item.title,
                variant_title=item.variant_title,
                sku=item.sku,
                quantity=item.quantity,
                current_quantity=item.current_quantity,
                variant_id=item.variant_shopify_id,
                stock=None if item.variant_shopify_id is None else stock.get(item.variant_shopify_id),
            )
            for item in items
        ],
        shipping_address=address_lines(row.shipping_address),
        delivery=requested_delivery(row.custom_attributes or [], fmt),
        shipments=[_shipment(fmt, shipment) for shipment in shipments],
        synced_at=when(fmt, row.synced_at),
    )


def _shipment(fmt: Formatter, row: Record) -> Shipment:
    tracking = [
        Tracking(
            number=str(entry.get("number") or ""),
            url=tracking_url(
                company=entry.get("company"),
                number=str(entry.get("number") or ""),
                given_url=entry.get("url"),
                locale=fmt.locale,
            ),
            company=carrier_name(entry.get("company"), locale=fmt.locale),
        )
        for entry in row.tracking or []
        if entry.get("number")
    ]
    carrier = next((entry.company for entry in tracking if entry.company), None)
    events = row.events or []
    last_event = None
    if events:
        last = events[-1]
        last_event = ShipmentEvent(
            status=_word(describe(WordKind.SHIPMENT, last.get("status"), locale=fmt.locale)),
            at=when(fmt, datetime.fromisoformat(last["happened_at"])),
            message=last.get("message"),
        )
    return Shipment(
        id=row.shopify_id,
        status=_word(describe(WordKind.SHIPMENT, row.display_status or row.status, locale=fmt.locale)),
        carrier=carrier,
        tracking=tracking,
        estimated_delivery_at=_optional_when(fmt, row.estimated_delivery_at),
        delivered_at=_optional_when(fmt, row.delivered_at),
        last_event=last_event,
    )


IMPORT_TEXTS = {
    "en": {
        "counted": "Still importing: {done} of {total} orders",
        "counting": "Still importing: {done} orders so far",
        "seconds": "about {count} s left",
        "minutes": "about {count} min left",
        "hours": "about {count} h left",
    },
    "ja": {
        "counted": "取り込み中：注文 {total}件中 {done}件",
        "counting": "取り込み中：これまでに注文 {done}件",
        "seconds": "残り約{count}秒",
        "minutes": "残り約{count}分",
        "hours": "残り約{count}時間",
    },
}


def first_import(
    fmt: Formatter,
    *,
    watermarks: Mapping[str, Any] | None,
    progress: Mapping[str, Any] | None,
    lease_until: datetime | None,
    now: datetime,
) -> ImportProgress | None:
    """The shop's first import while it is unfinished (no import has ever completed: its completion sets
    the orders' reconciliation watermark), from the progress the import commits with each page."""
    if watermarks is None or "orders" in watermarks:
        return None
    orders = ((progress or {}).get("resources") or {}).get("orders") or {}
    done = int(orders.get("done") or 0)
    total = orders.get("total")
    until = aware(lease_until)
    running = until is not None and until > now
    eta = (progress or {}).get("eta_seconds") if running else None
    texts = IMPORT_TEXTS[fmt.locale.value]
    number = fmt.locale.value

    def count(value: int) -> str:
        return format_decimal(value, locale=number)

    if total is None:
        text = texts["counting"].format(done=count(done))
    else:
        text = texts["counted"].format(done=count(done), total=count(max(int(total), done)))
    if eta is not None:
        text = f"{text} · {_time_left(texts, float(eta))}"
    return ImportProgress(
        orders_imported=done,
        orders_total=None if total is None else max(int(total), done),
        running=running,
        eta_seconds=None if eta is None else float(eta),
        text=text,
    )


def _time_left(texts: Mapping[str, str], seconds: float) -> str:
    if seconds < 60:
        return texts["seconds"].format(count=max(1, math.ceil(seconds)))
    if seconds < 3600:
        return texts["minutes"].format(count=math.ceil(seconds / 60))
    return texts["hours"].format(count=f"{seconds / 3600:.1f}")


def stock_of(fmt: Formatter, policy: str | None, levels: Sequence[Record]) -> Stock:
    """A variant's stock summed over its levels (a row per location), and each location's."""

    def total(name: str) -> int | None:
        values = [getattr(level, name) for level in levels if getattr(level, name) is not None]
        return sum(values) if values else None

    available = total("available")
    return Stock(
        available=available,
        on_hand=total("on_hand"),
        incoming=total("incoming"),
        policy=policy,
        level=_word(describe(WordKind.STOCK, stock_level(available, policy=policy), locale=fmt.locale)),
        locations=[
            LocationStock(id=level.location_shopify_id, name=level.location_name, available=level.available)
            for level in sorted(
                levels, key=lambda level: (level.location_name or "", level.location_shopify_id)
            )
        ],
    )


def _unique(values: Sequence[str | None]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen
