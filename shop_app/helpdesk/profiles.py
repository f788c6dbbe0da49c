"""The profile beside a conversation, read from the mirror: the customer (or the guest's email and
phone), their newest orders with items, each variant's current stock over all locations, every shipment
with its tracking links, the requested delivery day and slot, and their earlier tickets.

Six indexed queries, however many orders the page shows, each filtered by the shop: the customer; the
page of orders (carrying the count and first/last dates of all of them); for the whole page at once, the
line items joined to their variants, stock levels and locations; the shipments; the earlier tickets; and
how fresh the mirror is for them (the newest ``synced_at`` of all their orders and shipments) with the
shop's first import if it is unfinished. The statements are built once, with bound parameters, so a
request only binds and runs them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, Table, and_, bindparam, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.formats.display import Formatter, formatter
from shop_app.formats.phone_numbers import phone_text
from shop_app.helpdesk.profile_shapes import (
    aware,
    customer_facts,
    first_import,
    profile_order,
    stock_of,
    when,
)
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
    SyncState,
    Ticket,
)
from shop_app.models.base import utcnow
from shop_app.schemas.profiles import CustomerProfile, EarlierTicket, GuestFacts, Stock

CUSTOMERS: Table = Customer.__table__  # type: ignore[attr-defined]
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
LINE_ITEMS: Table = OrderLineItem.__table__  # type: ignore[attr-defined]
FULFILLMENTS: Table = Fulfillment.__table__  # type: ignore[attr-defined]
VARIANTS: Table = ProductVariant.__table__  # type: ignore[attr-defined]
LEVELS: Table = InventoryLevel.__table__  # type: ignore[attr-defined]
LOCATIONS: Table = Location.__table__  # type: ignore[attr-defined]
TICKETS: Table = Ticket.__table__  # type: ignore[attr-defined]
CONTACTS: Table = Contact.__table__  # type: ignore[attr-defined]
SYNC_STATES: Table = SyncState.__table__  # type: ignore[attr-defined]

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
    """The profile as the mirror holds it now, with how fresh that is for this customer. A customer id
    the mirror does not (or no longer) hold gives ``customer: null`` with whatever orders still carry
    that id."""
    assert shop.id is not None
    shop_id = shop.id
    limit = max(1, min(orders_limit, MAX_ORDERS_LIMIT))
    fmt = formatter(locale, shop.iana_timezone, shop.currency_code)
    read_at = now or utcnow()
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
    first_at = aware(orders[0].first_at) if orders else None
    last_at = aware(orders[0].last_at) if orders else None
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
    fresh = (await connection.execute(_freshness_statement(by), params)).one()
    touched = [
        moment
        for moment in (
            None if customer_row is None else aware(customer_row.synced_at),
            aware(fresh.orders_synced_at),
            aware(fresh.shipments_synced_at),
        )
        if moment is not None
    ]

    return CustomerProfile(
        as_of=when(fmt, max(touched)) if touched else None,
        read_at=when(fmt, read_at),
        importing=first_import(
            fmt,
            watermarks=fresh.watermarks,
            progress=fresh.progress,
            lease_until=fresh.lease_until,
            now=read_at,
        ),
        customer=None
        if customer_row is None
        else customer_facts(
            fmt, customer_row, first_at=first_at, last_at=last_at, country_code=shop.country_code
        ),
        guest=None
        if target.customer_shopify_id is not None
        else GuestFacts(
            email=target.guest_email,
            phone=target.guest_phone,
            phone_display=phone_text(target.guest_phone, shop_region=shop.country_code),
        ),
        orders=[
            profile_order(
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
            EarlierTicket(id=t.id, subject=t.subject, status=t.status, created_at=when(fmt, t.created_at))
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
    for name in (
        "id",
        "shopify_id",
        "order_id",
        "title",
        "variant_title",
        "sku",
        "quantity",
        "current_quantity",
        "variant_shopify_id",
    )
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


def _whose_orders(by: tuple[str, ...]) -> ColumnElement[bool]:
    if by == ("customer",):
        return and_(ORDERS.c.shop_id == _SHOP, ORDERS.c.customer_shopify_id == bindparam("customer_id"))
    # One indexed lookup per key, united. The customer test is written so that no index serves it:
    # SQLite otherwise takes (shop_id, customer_shopify_id) for ``IS NULL`` and walks every guest order.
    return and_(
        ORDERS.c.shop_id == _SHOP,
        (ORDERS.c.customer_shopify_id + 0).is_(None),
        ORDERS.c.id.in_(
            _united(
                select(ORDERS.c.id).where(ORDERS.c.shop_id == _SHOP, ORDERS.c[key] == bindparam(key))
                for key in by
            )
        ),
    )


@cache
def _orders_statement(by: tuple[str, ...]) -> Select[Any]:
    """The page of orders, newest first, each row carrying the count and the first and last dates of all
    of them (uncorrelated subqueries: computed once per query)."""
    whose = _whose_orders(by)
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
def _freshness_statement(by: tuple[str, ...]) -> Select[Any]:
    """One row: the newest ``synced_at`` of all the orders and of all their shipments (line items are
    written with their order), and the shop's sync state that tells whether its first import is done."""
    whose = _whose_orders(by)
    state = SYNC_STATES.c.shop_id == _SHOP
    return select(
        select(func.max(ORDERS.c.synced_at)).where(whose).scalar_subquery().label("orders_synced_at"),
        select(func.max(FULFILLMENTS.c.synced_at))
        .where(FULFILLMENTS.c.shop_id == _SHOP, FULFILLMENTS.c.order_id.in_(select(ORDERS.c.id).where(whose)))
        .scalar_subquery()
        .label("shipments_synced_at"),
        select(SYNC_STATES.c.watermarks).where(state).scalar_subquery().label("watermarks"),
        select(SYNC_STATES.c.progress).where(state).scalar_subquery().label("progress"),
        select(SYNC_STATES.c.lease_until).where(state).scalar_subquery().label("lease_until"),
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
        variant_id: stock_of(fmt, policy, list(levels.get(variant_id, {}).values()))
        for variant_id, policy in policies.items()
    }
    return list(items.values()), stock
