"""The profile beside a conversation, read from the mirror: the customer (or the guest's email and
phone), their newest orders with items, each variant's current stock over all locations, every shipment
with its tracking links, the requested delivery day and slot, and their earlier tickets.

Five indexed queries, however many orders the page shows, each filtered by the shop: the customer; the
page of orders (carrying the count and first/last dates of all of them); for the whole page at once, the
line items joined to their variants, stock levels and locations; the shipments; the earlier tickets. The
statements are built once, with bound parameters, so a request only binds and runs them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, Table, and_, bindparam, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.formats.display import Formatter, UiLocale, currency_amount, formatter, iso_utc
from shop_app.formats.order_words import PlainWord, WordKind, describe, stock_level
from shop_app.formats.tracking_links import tracking_url
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
    limit = max(1, min(orders_limit, MAX_ORDERS_LIMIT))
    fmt = formatter(locale, shop.iana_timezone, shop.currency_code)
    as_of = now or utcnow()
    connection = await session.connection()
    by = _keys(target)
    params = {
        "shop_id": shop_id,
        "customer_id": target.customer_shopify_id,
        "email": target.guest_email,
        "phone": target.guest_phone,
        "limit": limit,
        "exclude_id": exclude_ticket_id or 0,  # ticket ids start at 1
    }

    customer_row = None
    if target.customer_shopify_id is not None:
        customer_row = (await connection.execute(_CUSTOMER_STATEMENT, params)).first()

    orders = (await connection.execute(_orders_statement(by), params)).all()
    total_orders = int(orders[0].total_orders) if orders else 0
    first_at = _aware(orders[0].first_at) if orders else None
    last_at = _aware(orders[0].last_at) if orders else None
    order_ids = [row.id for row in orders]
    # always ``limit`` ids (0 matches no row), so each statement's text is the same on every call and
    # PostgreSQL keeps one prepared plan for it instead of planning again per number of orders
    padded_ids = order_ids + [0] * (limit - len(order_ids))

    items_by_order: dict[int, list[Record]] = defaultdict(list)
    shipments_by_order: dict[int, list[Record]] = defaultdict(list)
    stock_by_variant: dict[int, Stock] = {}
    if order_ids:
        found = await connection.execute(_ITEMS_STATEMENT, {**params, "order_ids": padded_ids})
        items, stock_by_variant = _items_and_stock(found, fmt)
        for item in items:
            items_by_order[item.order_id].append(item)
        for shipment in await connection.execute(_SHIPMENTS_STATEMENT, {**params, "order_ids": padded_ids}):
            shipments_by_order[shipment.order_id].append(shipment)

    tickets = (await connection.execute(_tickets_statement(by), params)).all()

    return CustomerProfile(
        as_of=_when(fmt, as_of),
        customer=None
        if customer_row is None
        else _customer(fmt, customer_row, first_at=first_at, last_at=last_at),
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
    for name in ("id", "order_id", "title", "variant_title", "sku", "quantity", "variant_shopify_id")
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


_SHOP: BindParameter[int] = bindparam("shop_id")
_ORDER_IDS: BindParameter[list[int]] = bindparam("order_ids", expanding=True)

_CUSTOMER_STATEMENT = select(*_CUSTOMER_COLUMNS).where(
    CUSTOMERS.c.shop_id == _SHOP, CUSTOMERS.c.shopify_id == bindparam("customer_id")
)

# Each line item of the page's orders with its variant's stock at every location: a row per item and
# location (an item whose variant is not mirrored, or has no levels, once).
_ITEMS_STATEMENT = (
    select(
        *_LINE_ITEM_COLUMNS,
        VARIANTS.c.shopify_id.label("mirrored_variant_id"),
        VARIANTS.c.inventory_policy,
        LEVELS.c.location_shopify_id,
        LEVELS.c.available,
        LEVELS.c.on_hand,
        LEVELS.c.incoming,
        LOCATIONS.c.name.label("location_name"),
    )
    .select_from(
        LINE_ITEMS.outerjoin(
            VARIANTS,
            and_(VARIANTS.c.shop_id == _SHOP, VARIANTS.c.shopify_id == LINE_ITEMS.c.variant_shopify_id),
        )
        .outerjoin(
            LEVELS,
            and_(
                LEVELS.c.shop_id == _SHOP,
                LEVELS.c.inventory_item_shopify_id == VARIANTS.c.inventory_item_shopify_id,
            ),
        )
        .outerjoin(
            LOCATIONS,
            and_(LOCATIONS.c.shop_id == _SHOP, LOCATIONS.c.shopify_id == LEVELS.c.location_shopify_id),
        )
    )
    .where(LINE_ITEMS.c.shop_id == _SHOP, LINE_ITEMS.c.order_id.in_(_ORDER_IDS))
    .order_by(LINE_ITEMS.c.order_id, LINE_ITEMS.c.id)
)

_SHIPMENTS_STATEMENT = (
    select(*_FULFILLMENT_COLUMNS)
    .where(FULFILLMENTS.c.shop_id == _SHOP, FULFILLMENTS.c.order_id.in_(_ORDER_IDS))
    .order_by(FULFILLMENTS.c.order_id, FULFILLMENTS.c.created_at, FULFILLMENTS.c.id)
)


def _keys(target: ProfileTarget) -> tuple[str, ...]:
    """What the profile is looked up by: ``("customer",)``, or the guest's ``email`` and/or ``phone``."""
    if target.customer_shopify_id is not None:
        return ("customer",)
    return tuple(
        key for key, value in (("email", target.guest_email), ("phone", target.guest_phone)) if value
    )


@cache
def _orders_statement(by: tuple[str, ...]) -> Select[Any]:
    """The page of orders, newest first, each row carrying the count and the first and last dates of all
    of them (uncorrelated subqueries: computed once per query)."""
    if by == ("customer",):
        whose = and_(ORDERS.c.shop_id == _SHOP, ORDERS.c.customer_shopify_id == bindparam("customer_id"))
    else:
        # One indexed lookup per key, united. The customer test is written so that no index serves it:
        # SQLite otherwise takes (shop_id, customer_shopify_id) for ``IS NULL`` and walks every guest order.
        whose = and_(
            ORDERS.c.shop_id == _SHOP,
            (ORDERS.c.customer_shopify_id + 0).is_(None),
            ORDERS.c.id.in_(
                _united(
                    select(ORDERS.c.id).where(ORDERS.c.shop_id == _SHOP, ORDERS.c[key] == bindparam(key))
                    for key in by
                )
            ),
        )
    return (
        select(
            *_ORDER_COLUMNS,
            select(func.count()).where(whose).scalar_subquery().label("total_orders"),
            select(func.min(ORDERS.c.created_at)).where(whose).scalar_subquery().label("first_at"),
            select(func.max(ORDERS.c.created_at)).where(whose).scalar_subquery().label("last_at"),
        )
        .where(whose)
        .order_by(ORDERS.c.created_at.desc(), ORDERS.c.id.desc())
        .limit(bindparam("limit"))
    )


@cache
def _tickets_statement(by: tuple[str, ...]) -> Select[Any]:
    if by == ("customer",):
        whose: ColumnElement[bool] = TICKETS.c.customer_shopify_id == bindparam("customer_id")
    else:
        # a guest's tickets are those of the contacts with the guest's email or phone (both indexed)
        whose = TICKETS.c.contact_id.in_(
            _united(
                select(CONTACTS.c.id).where(CONTACTS.c.shop_id == _SHOP, CONTACTS.c[key] == bindparam(key))
                for key in by
            )
        )
    return (
        select(TICKETS.c.id, TICKETS.c.subject, TICKETS.c.status, TICKETS.c.created_at)
        .where(TICKETS.c.shop_id == _SHOP, whose, TICKETS.c.id != bindparam("exclude_id"))
        .order_by(TICKETS.c.created_at.desc(), TICKETS.c.id.desc())
        .limit(EARLIER_TICKETS_LIMIT)
    )


def _united(selects: Iterable[Select[Any]]) -> Any:
    chosen = list(selects)
    return chosen[0] if len(chosen) == 1 else union(*chosen)


def _items_and_stock(found: Iterable[Record], fmt: Formatter) -> tuple[list[Record], dict[int, Stock]]:
    items: dict[int, Record] = {}
    policies: dict[int, str | None] = {}
    levels: dict[int, dict[int, Record]] = defaultdict(dict)
    for row in found:
        items.setdefault(row.id, row)
        variant_id = row.mirrored_variant_id
        if variant_id is None:
            continue
        policies[variant_id] = row.inventory_policy
        if row.location_shopify_id is not None:
            levels[variant_id][row.location_shopify_id] = row
    stock = {
        variant_id: _stock_of(fmt, policy, list(levels.get(variant_id, {}).values()))
        for variant_id, policy in policies.items()
    }
    return list(items.values()), stock


# Shapes ---------------------------------------------------------------------------------------------


def _aware(moment: datetime | str | None) -> datetime | None:
    """An aggregate over a UTC column comes back without its type: naive (or text) on SQLite."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
