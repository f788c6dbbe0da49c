"""REST-shaped webhook bodies parsed strictly into the typed resources (``resources.py``).

Ids come from ``admin_graphql_api_id`` when a body carries one (numeric ids that went through JavaScript
are rounded); statuses are mapped to their GraphQL enum spelling; money strings are kept as sent. A body
that does not have the shape Shopify documents raises ``MalformedPayload``.

What REST bodies do not carry is left unknown: an order's fulfillment orders and a fulfillment's events are
``None`` (keep what is stored), as are a fulfillment's display status when ``shipment_status`` is null, a
customer's locale, and every stock quantity but ``available``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.shopify import resources
from integrations.shopify.webhook_payloads import MalformedPayload

FULFILLMENT_ORDER_GID = re.compile(r"gid://shopify/FulfillmentOrder/[1-9][0-9]{0,19}")

Payload = dict[str, Any]

GID = re.compile(r"^gid://shopify/(?P<type>\w+)/(?P<id>\d+)(?:\?(?P<query>.*))?$")
FULFILLMENT_STATUS = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED"}


@dataclass(frozen=True, slots=True)
class FulfillmentEventNotice:
    """``fulfillment_events/create``: one carrier event of a fulfillment."""

    fulfillment_shopify_id: int
    order_shopify_id: int
    event: resources.FulfillmentEvent
    estimated_delivery_at: datetime | None


@dataclass(frozen=True, slots=True)
class RefundNotice:
    shopify_id: int
    order_shopify_id: int


@dataclass(frozen=True, slots=True)
class InventoryItemNotice:
    shopify_id: int
    sku: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InventoryLevelKey:
    inventory_item_shopify_id: int
    location_shopify_id: int


# Resources --------------------------------------------------------------------------------------------


def parse_order(payload: Payload) -> resources.Order:
    currency = _opt_str(payload, "currency")
    order_id = _resource_id(payload, "Order")
    customer = _opt_obj(payload, "customer")
    line_items = _opt_list(payload, "line_items")
    fulfillments = _opt_list(payload, "fulfillments")
    return resources.Order(
        shopify_id=order_id,
        name=_str(payload, "name"),
        created_at=_datetime(payload, "created_at"),
        updated_at=_datetime(payload, "updated_at"),
        number=_opt_int(payload, "number"),
        customer_shopify_id=_resource_id(customer, "Customer") if customer else None,
        email=_opt_str(payload, "email") or _opt_str(payload, "contact_email"),
        phone=_opt_str(payload, "phone"),
        processed_at=_opt_datetime(payload, "processed_at"),
        cancelled_at=_opt_datetime(payload, "cancelled_at"),
        cancel_reason=_enum(_opt_str(payload, "cancel_reason")),
        closed_at=_opt_datetime(payload, "closed_at"),
        financial_status=_enum(_opt_str(payload, "financial_status")),
        fulfillment_status=_fulfillment_status(_opt_str(payload, "fulfillment_status")),
        currency=currency,
        total_price=_opt_money(payload, "total_price"),
        subtotal_price=_opt_money(payload, "subtotal_price"),
        total_refunded=_total_refunded(payload),
        shipping_address=_opt_address(payload, "shipping_address"),
        custom_attributes=_attributes(payload, "note_attributes"),
        tags=_tags(payload),
        note=_opt_str(payload, "note"),
        line_items=None
        if line_items is None
        else tuple(_line_item(_as_obj(i), currency) for i in line_items),
        fulfillments=None
        if fulfillments is None
        else tuple(parse_fulfillment(_as_obj(f), order_shopify_id=order_id) for f in fulfillments),
        fulfillment_orders=None,
    )


def parse_fulfillment(payload: Payload, *, order_shopify_id: int | None = None) -> resources.Fulfillment:
    """``order_shopify_id`` overrides the body's numeric ``order_id`` when the exact id is known."""
    numbers = _str_list(payload, "tracking_numbers")
    single = _opt_str(payload, "tracking_number")
    if not numbers and single:
        numbers = (single,)
    urls = _str_list(payload, "tracking_urls")
    single_url = _opt_str(payload, "tracking_url")
    if not urls and single_url:
        urls = (single_url,)
    company = _opt_str(payload, "tracking_company")
    tracking = tuple(
        resources.TrackingInfo(number=number, company=company, url=urls[index] if index < len(urls) else None)
        for index, number in enumerate(numbers)
    )
    items = _opt_list(payload, "line_items") or []
    return resources.Fulfillment(
        shopify_id=_resource_id(payload, "Fulfillment"),
        order_shopify_id=order_shopify_id if order_shopify_id is not None else _int(payload, "order_id"),
        status=_str(payload, "status").upper(),
        created_at=_datetime(payload, "created_at"),
        updated_at=_datetime(payload, "updated_at"),
        display_status=_enum(_opt_str(payload, "shipment_status")),
        estimated_delivery_at=_opt_datetime(payload, "estimated_delivery_at"),
        tracking=tracking,
        events=None,
        line_items=tuple(
            (_resource_id(line, "LineItem"), _int(line, "quantity")) for line in map(_as_obj, items)
        ),
        location_shopify_id=_opt_int(payload, "location_id"),
    )


def parse_fulfillment_event(payload: Payload) -> FulfillmentEventNotice:
    return FulfillmentEventNotice(
        fulfillment_shopify_id=_int(payload, "fulfillment_id"),
        order_shopify_id=_int(payload, "order_id"),
        event=resources.FulfillmentEvent(
            shopify_id=_resource_id(payload, "FulfillmentEvent"),
            status=_str(payload, "status").upper(),
            happened_at=_datetime(payload, "happened_at"),
            message=_opt_str(payload, "message"),
        ),
        estimated_delivery_at=_opt_datetime(payload, "estimated_delivery_at"),
    )


def parse_refund(payload: Payload) -> RefundNotice:
    return RefundNotice(
        shopify_id=_resource_id(payload, "Refund"), order_shopify_id=_int(payload, "order_id")
    )


def parse_order_edit(payload: Payload) -> int:
    """``orders/edited``: the id of the edited order."""
    return _int(_obj(payload, "order_edit"), "order_id")


def parse_customer(payload: Payload) -> resources.Customer:
    spent = _opt_money(payload, "total_spent")
    currency = _opt_str(payload, "currency")
    return resources.Customer(
        shopify_id=_resource_id(payload, "Customer"),
        updated_at=_datetime(payload, "updated_at"),
        created_at=_opt_datetime(payload, "created_at"),
        first_name=_opt_str(payload, "first_name"),
        last_name=_opt_str(payload, "last_name"),
        email=_opt_str(payload, "email"),
        phone=_opt_str(payload, "phone"),
        tags=_tags(payload),
        note=_opt_str(payload, "note"),
        amount_spent=resources.Money(spent, currency) if spent is not None and currency else None,
        orders_count=_opt_int(payload, "orders_count"),
        default_address=_opt_address(payload, "default_address"),
    )


def parse_product(payload: Payload) -> resources.Product:
    product_id = _resource_id(payload, "Product")
    options = [_as_obj(option) for option in _opt_list(payload, "options") or []]
    option_names = tuple(_str(option, "name") for option in options)
    variants = _opt_list(payload, "variants")
    return resources.Product(
        shopify_id=product_id,
        title=_str(payload, "title"),
        updated_at=_datetime(payload, "updated_at"),
        created_at=_opt_datetime(payload, "created_at"),
        handle=_opt_str(payload, "handle"),
        status=_enum(_opt_str(payload, "status")),
        vendor=_opt_str(payload, "vendor"),
        product_type=_opt_str(payload, "product_type"),
        tags=_tags(payload),
        options=tuple(
            (name, _str_list(option, "values")) for name, option in zip(option_names, options, strict=True)
        ),
        variants=None
        if variants is None
        else tuple(_variant(_as_obj(v), product_id, option_names) for v in variants),
    )


def parse_inventory_level(payload: Payload) -> resources.InventoryLevel:
    key = parse_inventory_level_key(payload)
    return resources.InventoryLevel(
        inventory_item_shopify_id=key.inventory_item_shopify_id,
        location_shopify_id=key.location_shopify_id,
        updated_at=_datetime(payload, "updated_at"),
        available=_opt_int(payload, "available"),
    )


def parse_inventory_level_key(payload: Payload) -> InventoryLevelKey:
    """The level's item and location; the item id exact from ``admin_graphql_api_id``
    (``gid://shopify/InventoryLevel/{id}?inventory_item_id={item}``) when the body carries it."""
    item, location = _int(payload, "inventory_item_id"), _int(payload, "location_id")
    gid = _opt_str(payload, "admin_graphql_api_id")
    if gid is not None:
        match = GID.match(gid)
        if match is None or match["type"] != "InventoryLevel":
            raise MalformedPayload("admin_graphql_api_id is not an InventoryLevel id")
        query = dict(part.partition("=")[::2] for part in (match["query"] or "").split("&") if part)
        if query.get("inventory_item_id", "").isdigit():
            item = int(query["inventory_item_id"])
    return InventoryLevelKey(inventory_item_shopify_id=item, location_shopify_id=location)


def parse_inventory_item(payload: Payload) -> InventoryItemNotice:
    return InventoryItemNotice(
        shopify_id=_resource_id(payload, "InventoryItem"),
        sku=_opt_str(payload, "sku"),
        updated_at=_datetime(payload, "updated_at"),
    )


def parse_location(payload: Payload) -> resources.Location:
    return resources.Location(
        shopify_id=_resource_id(payload, "Location"),
        name=_str(payload, "name"),
        is_active=_opt_bool(payload, "active", default=True),
        address=resources.Address(
            address1=_opt_str(payload, "address1"),
            address2=_opt_str(payload, "address2"),
            city=_opt_str(payload, "city"),
            province=_opt_str(payload, "province"),
            province_code=_opt_str(payload, "province_code"),
            zip=_opt_str(payload, "zip"),
            country=_opt_str(payload, "country_name"),
            country_code=_opt_str(payload, "country_code"),
            phone=_opt_str(payload, "phone"),
        ),
        updated_at=_opt_datetime(payload, "updated_at"),
    )


def parse_deleted_id(payload: Payload, resource_type: str) -> int:
    """``*/delete`` bodies: ``{"id": …}``, with ``admin_graphql_api_id`` on some topics."""
    return _resource_id(payload, resource_type)


def parse_fulfillment_order_gids(payload: Payload) -> list[str]:
    """``fulfillment_orders/*`` bodies: every fulfillment order they name (``fulfillment_order``, and by
    topic ``replacement_``, ``remaining_``, ``original_``, ``moved_`` or ``destination`` ones), in order."""
    found: list[str] = []
    for value in payload.values():
        for candidate in value if isinstance(value, list) else [value]:
            if isinstance(candidate, dict):
                named = candidate.get("id")
                if isinstance(named, str) and FULFILLMENT_ORDER_GID.fullmatch(named) and named not in found:
                    found.append(named)
    if not found:
        raise MalformedPayload("the body names no fulfillment order")
    return found


# Parts ----------------------------------------------------------------------------------------------


def _line_item(payload: Payload, currency: str | None) -> resources.LineItem:
    price = _opt_money(payload, "price")
    price_set = _opt_obj(payload, "price_set")
    shop_money = _opt_obj(price_set, "shop_money") if price_set else None
    price_currency = _opt_str(shop_money, "currency_code") if shop_money else None
    item_currency = price_currency or currency
    return resources.LineItem(
        shopify_id=_resource_id(payload, "LineItem"),
        title=_str(payload, "title"),
        quantity=_int(payload, "quantity"),
        current_quantity=_opt_int(payload, "current_quantity"),
        variant_title=_opt_str(payload, "variant_title"),
        sku=_opt_str(payload, "sku"),
        variant_shopify_id=_opt_int(payload, "variant_id"),
        product_shopify_id=_opt_int(payload, "product_id"),
        unit_price=resources.Money(price, item_currency) if price is not None and item_currency else None,
    )


def _variant(payload: Payload, product_id: int, option_names: tuple[str, ...]) -> resources.Variant:
    values = [_opt_str(payload, f"option{n}") for n in (1, 2, 3)]
    selected = tuple(
        (name, value) for name, value in zip(option_names, values, strict=False) if value is not None
    )
    return resources.Variant(
        shopify_id=_resource_id(payload, "ProductVariant"),
        product_shopify_id=product_id,
        title=_opt_str(payload, "title") or "",
        updated_at=_opt_datetime(payload, "updated_at"),
        sku=_opt_str(payload, "sku"),
        barcode=_opt_str(payload, "barcode"),
        price=_opt_money(payload, "price"),
        inventory_policy=_enum(_opt_str(payload, "inventory_policy")),
        selected_options=selected,
        inventory_item_shopify_id=_opt_int(payload, "inventory_item_id"),
    )


def _fulfillment_status(value: str | None) -> str:
    return FULFILLMENT_STATUS.get(value) or (value or "").upper()


def _enum(value: str | None) -> str | None:
    return value.upper() if value else None


def _tags(payload: Payload) -> tuple[str, ...]:
    value = payload.get("tags")
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return tuple(tag.strip() for tag in value if tag.strip())
    if not isinstance(value, str):
        raise MalformedPayload("tags must be a string")
    return tuple(tag.strip() for tag in value.split(",") if tag.strip())


def _attributes(payload: Payload, key: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for attribute in map(_as_obj, _opt_list(payload, key) or []):
        value = attribute.get("value")
        if isinstance(value, bool) or not isinstance(value, str | int | float | type(None)):
            raise MalformedPayload(f"{key} values must be strings")
        pairs.append((_str(attribute, "name"), "" if value is None else str(value)))
    return tuple(pairs)


def _total_refunded(payload: Payload) -> str | None:
    """The sum of the successful refund transactions, when the body lists the refunds."""
    refunds = _opt_list(payload, "refunds")
    if refunds is None:
        return None
    total_price = _opt_money(payload, "total_price")
    total = Decimal(total_price) * 0 if total_price is not None else Decimal(0)
    for refund in map(_as_obj, refunds):
        for transaction in map(_as_obj, _opt_list(refund, "transactions") or []):
            if transaction.get("kind") == "refund" and transaction.get("status") == "success":
                amount = _opt_money(transaction, "amount")
                total += _decimal(amount) if amount is not None else 0
    return resources.decimal_text(total)


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise MalformedPayload(f"not a decimal amount: {value!r}") from None


def _opt_address(payload: Payload, key: str) -> resources.Address | None:
    address = _opt_obj(payload, key)
    if address is None:
        return None
    name = _opt_str(address, "name")
    if not name:
        parts = [_opt_str(address, "first_name"), _opt_str(address, "last_name")]
        name = " ".join(p for p in parts if p) or None
    return resources.Address(
        name=name,
        first_name=_opt_str(address, "first_name"),
        last_name=_opt_str(address, "last_name"),
        company=_opt_str(address, "company"),
        address1=_opt_str(address, "address1"),
        address2=_opt_str(address, "address2"),
        city=_opt_str(address, "city"),
        province=_opt_str(address, "province"),
        province_code=_opt_str(address, "province_code"),
        zip=_opt_str(address, "zip"),
        country=_opt_str(address, "country"),
        country_code=_opt_str(address, "country_code"),
        phone=_opt_str(address, "phone"),
    )


# Scalars --------------------------------------------------------------------------------------------


def _resource_id(payload: Payload, resource_type: str) -> int:
    gid = payload.get("admin_graphql_api_id")
    if gid is None:
        return _int(payload, "id")
    if not isinstance(gid, str):
        raise MalformedPayload("admin_graphql_api_id must be a string")
    match = GID.match(gid)
    if match is None or match["type"] != resource_type:
        raise MalformedPayload(f"admin_graphql_api_id is not a {resource_type} id")
    return int(match["id"])


def _as_obj(value: Any) -> Payload:
    if not isinstance(value, dict):
        raise MalformedPayload("expected an object")
    return value


def _obj(payload: Payload, key: str) -> Payload:
    value = payload.get(key)
    if not isinstance(value, dict):
        raise MalformedPayload(f"{key} must be an object")
    return value


def _opt_obj(payload: Payload, key: str) -> Payload | None:
    value = payload.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise MalformedPayload(f"{key} must be an object")


def _opt_list(payload: Payload, key: str) -> list[Any] | None:
    value = payload.get(key)
    if value is None or isinstance(value, list):
        return value
    raise MalformedPayload(f"{key} must be a list")


def _str_list(payload: Payload, key: str) -> tuple[str, ...]:
    value = _opt_list(payload, key) or []
    if not all(isinstance(v, str) for v in value):
        raise MalformedPayload(f"{key} must be a list of strings")
    return tuple(value)


def _str(payload: Payload, key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str):
        raise MalformedPayload(f"{key} must be a string")
    return value


def _opt_str(payload: Payload, key: str) -> str | None:
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    raise MalformedPayload(f"{key} must be a string")


def _int(payload: Payload, key: str) -> int:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"{key} must be an integer")
    return value


def _opt_int(payload: Payload, key: str) -> int | None:
    return None if payload.get(key) is None else _int(payload, key)


def _opt_bool(payload: Payload, key: str, *, default: bool) -> bool:
    value = payload.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise MalformedPayload(f"{key} must be a boolean")
    return value


def _opt_money(payload: Payload, key: str) -> str | None:
    value = _opt_str(payload, key)
    if value is None:
        return None
    try:
        return resources.decimal_text(value)
    except ValueError as error:
        raise MalformedPayload(str(error)) from None


def _datetime(payload: Payload, key: str) -> datetime:
    value = _opt_datetime(payload, key)
    if value is None:
        raise MalformedPayload(f"{key} is missing")
    return value


def _opt_datetime(payload: Payload, key: str) -> datetime | None:
    value = _opt_str(payload, key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedPayload(f"{key} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise MalformedPayload(f"{key} has no UTC offset")
    return parsed.astimezone(UTC)
