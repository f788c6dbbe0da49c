"""The profile beside a conversation, read from the mirror: the customer (or the guest's email and
phone), their newest orders with items, each variant's current stock over all locations, every shipment
with its tracking links, the requested delivery day and slot, and their earlier tickets.

A fixed handful of indexed queries, however many orders the page shows, each filtered by the shop: the
customer; the count and first/last dates of their orders; the page of orders; then for the whole page at
once the line items, the shipments, the variants with their stock levels and locations; the earlier
tickets.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.models import (
    Contact,
    Customer,
    Fulfillment,
    InventoryLevel,
    Location,
    Order,
    OrderLineItem,
    ProductVariant,
    Shop,
    Ticket,
)
from shop_app.models.base import utcnow
from shop_app.schemas.profiles import (
    CustomerFacts,
    CustomerProfile,
    Delivery,
    EarlierTicket,
    GuestFacts,
    LocationStock,
    Money,
    OrderItem,
    ProfileOrder,
    Shipment,
    ShipmentEvent,
    ShippingAddress,
    Stock,
    Tracking,
    When,
    Word,
)
from shop_app.services.display_formats import Formatter, UiLocale, currency_amount, formatter, iso_utc
from shop_app.services.order_words import PlainWord, WordKind, describe, stock_level
from shop_app.services.tracking_links import tracking_url

CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
LINE_ITEMS: Table = OrderLineItem.__table__  # type: ignore[attr-defined]
FULFILLMENTS: Table = Fulfillment.__table__  # type: ignore[attr-defined]
VARIANTS: Table = ProductVariant.__table__  # type: ignore[attr-defined]
LEVELS: Table = InventoryLevel.__table__  # type: ignore[attr-defined]
LOCATIONS: Table = Location.__table__  # type: ignore[attr-defined]
TICKETS: Table = Ticket.__table__  # type: ignore[attr-defined]
CONTACTS: Table = Contact.__table__  # type: ignore[attr-defined]

Record = Any  # a result row (sqlalchemy.Row) of the columns selected below

EARLIER_TICKETS_LIMIT = 20
MAX_ORDERS_LIMIT = 50


@dataclass(frozen=True, slots=True)
class ProfileTarget:
    """Whose profile: a Shopify customer, or a guest known by the email or phone of their orders."""

    customer_shopify_id: int | None
    guest_email: str | None = None
    guest_phone: str | None = None

    def __post_init__(self) -> None:
        if self.customer_shopify_id is None and not self.guest_email and not self.guest_phone:
            raise ValueError("a profile needs a customer id, a guest email or a guest phone")


async def build_profile(
    session: AsyncSession,
    *,
    shop: Shop,
    target: ProfileTarget,
    locale: str,
    exclude_ticket_id: int | None = None,
    orders_limit: int = 10,
    now: datetime | None = None,
) -> CustomerProfile:
    """The profile as the mirror holds it now. A customer id the mirror does not (or no longer) hold
    gives ``customer: null`` with whatever orders still carry that id."""
    assert shop.id is not None
    shop_id = shop.id
    limit = max(0, min(orders_limit, MAX_ORDERS_LIMIT))
    fmt = formatter(locale, shop.iana_timezone, shop.currency_code)
    as_of = now or utcnow()

    customer_row = None
    if target.customer_shopify_id is not None:
        customer_row = (
            await session.execute(
                select(*_CUSTOMER_COLUMNS).where(
                    CUSTOMERS.c.shop_id == shop_id, CUSTOMERS.c.shopify_id == target.customer_shopify_id
                )
            )
        ).first()

    whose = _orders_of(shop_id, target)
    stats = (
        await session.execute(
            select(func.count(), func.min(ORDERS.c.created_at), func.max(ORDERS.c.created_at)).where(whose)
        )
    ).one()
    total_orders = int(stats[0] or 0)
    orders = (
        (
            await session.execute(
                select(*_ORDER_COLUMNS)
                .where(whose)
                .order_by(ORDERS.c.created_at.desc(), ORDERS.c.id.desc())
                .limit(limit)
            )
        ).all()
        if limit and total_orders
        else []
    )
    order_ids = [row.id for row in orders]

    items_by_order: dict[int, list[Record]] = defaultdict(list)
    shipments_by_order: dict[int, list[Record]] = defaultdict(list)
    stock_by_variant: dict[int, Stock] = {}
    if order_ids:
        for item in await session.execute(
            select(*_LINE_ITEM_COLUMNS)
            .where(LINE_ITEMS.c.shop_id == shop_id, LINE_ITEMS.c.order_id.in_(order_ids))
            .order_by(LINE_ITEMS.c.order_id, LINE_ITEMS.c.id)
        ):
            items_by_order[item.order_id].append(item)
        for shipment in await session.execute(
            select(*_FULFILLMENT_COLUMNS)
            .where(FULFILLMENTS.c.shop_id == shop_id, FULFILLMENTS.c.order_id.in_(order_ids))
            .order_by(FULFILLMENTS.c.order_id, FULFILLMENTS.c.created_at, FULFILLMENTS.c.id)
        ):
            shipments_by_order[shipment.order_id].append(shipment)
        variant_ids = sorted(
            {
                item.variant_shopify_id
                for items in items_by_order.values()
                for item in items
                if item.variant_shopify_id is not None
            }
        )
        if variant_ids:
            stock_by_variant = await _stock(session, shop_id, variant_ids, fmt)

    tickets = await _earlier_tickets(session, shop_id, target, exclude_ticket_id)

    return CustomerProfile(
        as_of=_when(fmt, as_of),
        customer=None
        if customer_row is None
        else _customer(fmt, customer_row, first_at=stats[1], last_at=stats[2]),
        guest=None
        if target.customer_shopify_id is not None
        else GuestFacts(email=target.guest_email, phone=target.guest_phone),
        orders=[
            _order(
                fmt,
                order,
                items_by_order.get(order.id, []),
                shipments_by_order.get(order.id, []),
                stock_by_variant,
            )
            for order in orders
        ],
        more_orders=max(0, total_orders - len(orders)),
        earlier_tickets=[
            EarlierTicket(id=t.id, subject=t.subject, status=t.status, created_at=_when(fmt, t.created_at))
            for t in tickets
        ],
    )


# Queries --------------------------------------------------------------------------------------------

_CUSTOMER_COLUMNS = tuple(
    CUSTOMERS.c[name]
    for name in (
        "shopify_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "tags",
        "note",
        "amount_spent",
        "currency",
        "orders_count",
        "default_address",
        "synced_at",
    )
)
_ORDER_COLUMNS = tuple(
    ORDERS.c[name]
    for name in (
        "id",
        "shopify_id",
        "name",
        "created_at",
        "cancelled_at",
        "cancel_reason",
        "financial_status",
        "fulfillment_status",
        "currency",
        "total_price",
        "shipping_address",
        "custom_attributes",
        "synced_at",
    )
)
_LINE_ITEM_COLUMNS = tuple(
    LINE_ITEMS.c[name]
    for name in ("order_id", "title", "variant_title", "sku", "quantity", "variant_shopify_id")
)
_FULFILLMENT_COLUMNS = tuple(
    FULFILLMENTS.c[name]
    for name in (
        "order_id",
        "shopify_id",
        "status",
        "display_status",
        "delivered_at",
        "estimated_delivery_at",
        "tracking",
        "events",
    )
)


def _orders_of(shop_id: int, target: ProfileTarget) -> ColumnElement[bool]:
    if target.customer_shopify_id is not None:
        return and_(ORDERS.c.shop_id == shop_id, ORDERS.c.customer_shopify_id == target.customer_shopify_id)
    by: list[ColumnElement[bool]] = []
    if target.guest_email:
        by.append(ORDERS.c.email == target.guest_email)
    if target.guest_phone:
        by.append(ORDERS.c.phone == target.guest_phone)
    return and_(ORDERS.c.shop_id == shop_id, ORDERS.c.customer_shopify_id.is_(None), or_(*by))


async def _stock(
    session: AsyncSession, shop_id: int, variant_ids: Sequence[int], fmt: Formatter
) -> dict[int, Stock]:
    """Each variant's levels at every location, in one query (variants without levels included)."""
    found = await session.execute(
        select(
            VARIANTS.c.shopify_id,
            VARIANTS.c.inventory_policy,
            LEVELS.c.location_shopify_id,
            LEVELS.c.available,
            LEVELS.c.on_hand,
            LEVELS.c.incoming,
            LOCATIONS.c.name,
        )
        .select_from(
            VARIANTS.outerjoin(
                LEVELS,
                and_(
                    LEVELS.c.shop_id == VARIANTS.c.shop_id,
                    LEVELS.c.inventory_item_shopify_id == VARIANTS.c.inventory_item_shopify_id,
                ),
            ).outerjoin(
                LOCATIONS,
                and_(
                    LOCATIONS.c.shop_id == LEVELS.c.shop_id,
                    LOCATIONS.c.shopify_id == LEVELS.c.location_shopify_id,
                ),
            )
        )
        .where(VARIANTS.c.shop_id == shop_id, VARIANTS.c.shopify_id.in_(list(variant_ids)))
    )
    policies: dict[int, str | None] = {}
    levels: dict[int, list[Record]] = defaultdict(list)
    for row in found:
        policies[row.shopify_id] = row.inventory_policy
        if row.location_shopify_id is not None:
            levels[row.shopify_id].append(row)
    return {
        variant_id: _stock_of(fmt, policy, levels.get(variant_id, []))
        for variant_id, policy in policies.items()
    }


async def _earlier_tickets(
    session: AsyncSession, shop_id: int, target: ProfileTarget, exclude_ticket_id: int | None
) -> Sequence[Record]:
    if target.customer_shopify_id is not None:
        whose: ColumnElement[bool] = TICKETS.c.customer_shopify_id == target.customer_shopify_id
    else:
        # a guest's tickets are those of the contacts with the guest's email or phone (both indexed)
        by: list[ColumnElement[bool]] = []
        if target.guest_email:
            by.append(CONTACTS.c.email == target.guest_email)
        if target.guest_phone:
            by.append(CONTACTS.c.phone == target.guest_phone)
        whose = TICKETS.c.contact_id.in_(
            select(CONTACTS.c.id).where(CONTACTS.c.shop_id == shop_id, or_(*by)).scalar_subquery()
        )
    statement = select(TICKETS.c.id, TICKETS.c.subject, TICKETS.c.status, TICKETS.c.created_at).where(
        TICKETS.c.shop_id == shop_id, whose
    )
    if exclude_ticket_id is not None:
        statement = statement.where(TICKETS.c.id != exclude_ticket_id)
    statement = statement.order_by(TICKETS.c.created_at.desc(), TICKETS.c.id.desc()).limit(
        EARLIER_TICKETS_LIMIT
    )
    return (await session.execute(statement)).all()


# Shapes ---------------------------------------------------------------------------------------------


def _when(fmt: Formatter, moment: datetime) -> When:
    return When(iso=iso_utc(moment), display=fmt.moment_text(moment))


def _optional_when(fmt: Formatter, moment: datetime | None) -> When | None:
    return None if moment is None else _when(fmt, moment)


def _word(plain: PlainWord) -> Word:
    return Word(code=plain.code, text=plain.text)


def _money(fmt: Formatter, amount: str | None, currency: str | None) -> Money | None:
    number = fmt.parse_amount(amount)
    if number is None:
        return None
    code = (currency or fmt.currency).upper()
    return Money(amount=currency_amount(number, code), currency=code, display=fmt.money_text(number, code))


def _customer(
    fmt: Formatter, row: Record, *, first_at: datetime | None, last_at: datetime | None
) -> CustomerFacts:
    address = row.default_address or {}
    phones = _unique([row.phone, address.get("phone")])
    return CustomerFacts(
        id=row.shopify_id,
        name=person_name(row.first_name, row.last_name),
        emails=_unique([row.email]),
        phones=phones,
        tags=list(row.tags or []),
        note=row.note,
        amount_spent=_money(fmt, row.amount_spent, row.currency),
        orders_count=row.orders_count,
        first_order_at=_optional_when(fmt, first_at),
        last_order_at=_optional_when(fmt, last_at),
        synced_at=_when(fmt, row.synced_at),
    )


def _order(
    fmt: Formatter,
    row: Record,
    items: Sequence[Record],
    shipments: Sequence[Record],
    stock: dict[int, Stock],
) -> ProfileOrder:
    locale = fmt.locale
    return ProfileOrder(
        id=row.shopify_id,
        name=row.name,
        created_at=_when(fmt, row.created_at),
        financial_status=_word(describe(WordKind.FINANCIAL, row.financial_status, locale=locale)),
        fulfillment_status=_word(describe(WordKind.FULFILLMENT, row.fulfillment_status, locale=locale)),
        cancelled_at=_optional_when(fmt, row.cancelled_at),
        cancel_reason=None
        if row.cancel_reason is None
        else describe(WordKind.CANCEL_REASON, row.cancel_reason, locale=locale).text,
        total=_money(fmt, row.total_price, row.currency),
        items=[
            OrderItem(
                title=item.title,
                variant_title=item.variant_title,
                sku=item.sku,
                quantity=item.quantity,
                variant_id=item.variant_shopify_id,
                stock=None if item.variant_shopify_id is None else stock.get(item.variant_shopify_id),
            )
            for item in items
        ],
        shipping_address=address_lines(row.shipping_address),
        delivery=requested_delivery(row.custom_attributes or [], fmt),
        shipments=[_shipment(fmt, shipment) for shipment in shipments],
        synced_at=_when(fmt, row.synced_at),
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
            company=entry.get("company"),
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
            at=_when(fmt, datetime.fromisoformat(last["happened_at"])),
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


def _stock_of(fmt: Formatter, policy: str | None, levels: Sequence[Record]) -> Stock:
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
            LocationStock(id=level.location_shopify_id, name=level.name, available=level.available)
            for level in sorted(levels, key=lambda level: (level.name or "", level.location_shopify_id))
        ],
    )


def _unique(values: Sequence[str | None]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


# Names, addresses, delivery requests ---------------------------------------------------------------

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def person_name(first: str | None, last: str | None) -> str | None:
    """Japanese names family name first (``山田 花子``), others given name first (``Jane Doe``)."""
    first, last = (first or "").strip(), (last or "").strip()
    if not first and not last:
        return None
    parts = [last, first] if _CJK.search(first + last) else [first, last]
    return " ".join(part for part in parts if part)


def address_lines(address: dict[str, Any] | None) -> ShippingAddress | None:
    """As written on a parcel: Japanese addresses postcode first and prefecture to building, others
    street first and country last."""
    if not address:
        return None

    def field(name: str) -> str:
        return str(address.get(name) or "").strip()

    if field("country_code").upper() == "JP":
        postcode = field("zip")
        lines = [
            f"〒{postcode}" if postcode else "",
            field("province") + field("city") + field("address1"),
            field("address2"),
            field("company"),
            field("name"),
        ]
    else:
        region = " ".join(
            part for part in (field("province_code") or field("province"), field("zip")) if part
        )
        lines = [
            field("name"),
            field("company"),
            field("address1"),
            field("address2"),
            ", ".join(part for part in (field("city"), region) if part),
            field("country"),
        ]
    kept = [line for line in lines if line]
    return ShippingAddress(lines=kept) if kept else None


_KEY_NOISE = re.compile(r"[\s_\-・:：]+")
# Substrings of a custom attribute's name (NFKC, case-folded, without spaces or separators).
_SLOT_KEYS = (
    "時間帯",
    "時間指定",
    "希望時間",
    "配達時間",
    "配送時間",
    "timeslot",
    "deliverytime",
    "deliveryslot",
    "deliverywindow",
    "timewindow",
)
_DATE_KEYS = ("希望日", "お届け日", "配達日", "配送日", "着日", "お届け予定日", "deliverydate", "deliveryday")
_NO_PREFERENCE = frozenset({"指定なし", "なし", "希望なし", "指定無し", "none", "nopreference", "any", "-"})
_DATE_VALUE = re.compile(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})")
_SLOT_RANGE = re.compile(
    r"^(\d{1,2})(?::(\d{2}))?\s*時?\s*(?:〜|～|~|-|–|—|から)\s*(\d{1,2})(?::(\d{2}))?\s*時?(?:まで)?$"
)
_MORNING = frozenset({"午前中", "午前", "morning", "am"})


def _key(name: str) -> str:
    return _KEY_NOISE.sub("", unicodedata.normalize("NFKC", name).casefold())


def requested_delivery(attributes: Sequence[Sequence[str]], fmt: Formatter) -> Delivery | None:
    """The delivery day and time slot a customer asked for at checkout, from the order's custom
    attributes (``配送希望日`` / ``配達時間帯`` / ``Delivery date`` / ``Time slot`` …)."""
    day: str | None = None
    slot: str | None = None
    for pair in attributes:
        if len(pair) != 2:
            continue
        key, value = _key(pair[0]), str(pair[1]).strip()
        if not value:
            continue
        if slot is None and any(needle in key for needle in _SLOT_KEYS):
            slot = delivery_slot(value, fmt.locale)
        elif day is None and any(needle in key for needle in _DATE_KEYS):
            day = delivery_day(value, fmt)
    return None if day is None and slot is None else Delivery(date=day, slot=slot)


def delivery_day(value: str, fmt: Formatter) -> str | None:
    """A day written ``2026-11-24``, ``2026/11/24`` or ``2026年11月24日`` in the locale's format; other text
    as written; "no preference" as none."""
    text = unicodedata.normalize("NFKC", value).strip()
    if _key(text) in _NO_PREFERENCE:
        return None
    found = _DATE_VALUE.search(text)
    if found:
        try:
            return fmt.day_text(date(int(found[1]), int(found[2]), int(found[3])))
        except ValueError:
            return value.strip()
    return value.strip()


def delivery_slot(value: str, locale: UiLocale) -> str:
    """``14時〜16時`` / ``14-16`` / ``14:00~16:00`` → ``14:00–16:00`` (en) or ``14時〜16時`` (ja);
    ``午前中`` and "no preference" in the locale's words; other text as written."""
    text = unicodedata.normalize("NFKC", value).strip()
    key = _key(text)
    japanese = locale == UiLocale.JA
    if key in _NO_PREFERENCE:
        return "指定なし" if japanese else "No preference"
    if key in _MORNING:
        return "午前中" if japanese else "Morning (before noon)"
    found = _SLOT_RANGE.match(text)
    if found:
        start, start_minutes, end, end_minutes = found[1], found[2], found[3], found[4]
        if int(start) < 24 and int(end) <= 24:
            whole_hours = (start_minutes or "00") == "00" and (end_minutes or "00") == "00"
            if japanese and whole_hours:
                return f"{int(start)}時〜{int(end)}時"
            start_at, end_at = f"{int(start)}:{start_minutes or '00'}", f"{int(end)}:{end_minutes or '00'}"
            return f"{start_at}〜{end_at}" if japanese else f"{start_at}–{end_at}"
    return value.strip()
