"""Admin GraphQL nodes (as the ``integrations/shopify/graphql`` documents select them, or as bulk
operation lines carry them) turned into the typed resources of ``resources.py``.

Parsing is strict about what the app relies on (ids, ``updatedAt``) and raises ``MalformedNode``
otherwise; optional fields missing from a node become ``None``. Connections are read in either shape,
``nodes`` or ``edges { node }``; a child connection a node does not carry becomes ``None`` (keep what is
stored).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from integrations.shopify.resources import (
    Address,
    Customer,
    Fulfillment,
    FulfillmentEvent,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryLevel,
    LineItem,
    Location,
    Money,
    Order,
    Product,
    TrackingInfo,
    Variant,
    decimal_text,
)

Node = Mapping[str, Any]
INVENTORY_QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", "reserved")


class MalformedNode(ValueError):
    """A GraphQL node lacks something the app needs (an id, a timestamp)."""


def gid_type(gid: str) -> str:
    parts = gid.removeprefix("gid://shopify/").split("/")
    return parts[0] if len(parts) >= 2 and gid.startswith("gid://shopify/") else ""


def id_from_gid(gid: object) -> int:
    """``gid://shopify/Order/123`` (or ``…/InventoryLevel/1?inventory_item_id=2``) → ``123``."""
    if not isinstance(gid, str) or not gid.startswith("gid://shopify/"):
        raise MalformedNode(f"not a Shopify gid: {gid!r}")
    tail = gid.rsplit("/", 1)[-1].split("?", 1)[0]
    if not tail.isdigit():
        raise MalformedNode(f"not a Shopify gid: {gid!r}")
    return int(tail)


def gid_for(type_name: str, shopify_id: int) -> str:
    return f"gid://shopify/{type_name}/{shopify_id}"


def parse_datetime(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedNode(f"not a datetime: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedNode(f"not a datetime: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _required_datetime(node: Node, key: str) -> datetime:
    value = parse_datetime(node.get(key))
    if value is None:
        raise MalformedNode(f"{key} is missing")
    return value


def _ref_id(value: object) -> int | None:
    """The id of a ``{ id }`` reference (or a bare gid), None when absent."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return None if value is None else id_from_gid(value)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise MalformedNode(f"not an integer: {value!r}") from None


def connection_nodes(value: object) -> list[Node] | None:
    """The nodes of a connection in ``nodes`` or ``edges { node }`` shape; None when absent."""
    if not isinstance(value, Mapping):
        return None
    if isinstance(value.get("nodes"), list):
        return [n for n in value["nodes"] if isinstance(n, Mapping)]
    if isinstance(value.get("edges"), list):
        return [
            e["node"] for e in value["edges"] if isinstance(e, Mapping) and isinstance(e.get("node"), Mapping)
        ]
    return []


def has_next_page(value: object) -> tuple[bool, str | None]:
    info = value.get("pageInfo") if isinstance(value, Mapping) else None
    if not isinstance(info, Mapping):
        return False, None
    return bool(info.get("hasNextPage")), _text(info.get("endCursor"))


def _money(value: object) -> Money | None:
    if not isinstance(value, Mapping):
        return None
    money: Mapping[str, Any] = value["shopMoney"] if isinstance(value.get("shopMoney"), Mapping) else value
    amount, currency = money.get("amount"), money.get("currencyCode")
    if amount is None or currency is None:
        return None
    return Money(amount=decimal_text(amount), currency=str(currency))


def _address(value: object) -> Address | None:
    if not isinstance(value, Mapping):
        return None
    return Address(
        name=_text(value.get("name")),
        first_name=_text(value.get("firstName")),
        last_name=_text(value.get("lastName")),
        company=_text(value.get("company")),
        address1=_text(value.get("address1")),
        address2=_text(value.get("address2")),
        city=_text(value.get("city")),
        province=_text(value.get("province")),
        province_code=_text(value.get("provinceCode")),
        zip=_text(value.get("zip")),
        country=_text(value.get("country")),
        country_code=_text(value.get("countryCodeV2") or value.get("countryCode")),
        phone=_text(value.get("phone")),
    )


def _tags(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(tag) for tag in value)
    if isinstance(value, str):
        return tuple(tag.strip() for tag in value.split(",") if tag.strip())
    return ()


def parse_customer(node: Node) -> Customer:
    email = node.get("defaultEmailAddress")
    phone = node.get("defaultPhoneNumber")
    return Customer(
        shopify_id=id_from_gid(node.get("id")),
        updated_at=_required_datetime(node, "updatedAt"),
        created_at=parse_datetime(node.get("createdAt")),
        first_name=_text(node.get("firstName")),
        last_name=_text(node.get("lastName")),
        email=_text(email.get("emailAddress")) if isinstance(email, Mapping) else None,
        phone=_text(phone.get("phoneNumber")) if isinstance(phone, Mapping) else None,
        tags=_tags(node.get("tags")),
        note=_text(node.get("note")),
        amount_spent=_money(node.get("amountSpent")),
        orders_count=_int(node.get("numberOfOrders")),
        locale=_text(node.get("locale")),
        default_address=_address(node.get("defaultAddress")),
    )


def parse_line_item(node: Node) -> LineItem:
    return LineItem(
        shopify_id=id_from_gid(node.get("id")),
        title=str(node.get("title") or ""),
        quantity=_int(node.get("quantity")) or 0,
        current_quantity=_int(node.get("currentQuantity")),
        variant_title=_text(node.get("variantTitle")),
        sku=_text(node.get("sku")),
        variant_shopify_id=_ref_id(node.get("variant")),
        product_shopify_id=_ref_id(node.get("product")),
        unit_price=_money(node.get("originalUnitPriceSet")),
    )


def parse_fulfillment_event(node: Node) -> FulfillmentEvent:
    return FulfillmentEvent(
        shopify_id=id_from_gid(node.get("id")),
        status=str(node.get("status") or ""),
        happened_at=_required_datetime(node, "happenedAt"),
        message=_text(node.get("message")),
    )


def _fulfillment_line(node: Node) -> tuple[int, int]:
    line_item = _ref_id(node.get("lineItem"))
    if line_item is None:
        raise MalformedNode("fulfillment line without a line item")
    return line_item, _int(node.get("quantity")) or 0


def parse_fulfillment(
    node: Node,
    *,
    order_shopify_id: int,
    events: Sequence[Node] | None = None,
    lines: Sequence[Node] | None = None,
) -> Fulfillment:
    """A shipment; ``events``/``lines`` override the node's own (first page only) connections."""
    event_nodes = events if events is not None else connection_nodes(node.get("events"))
    line_nodes = lines if lines is not None else connection_nodes(node.get("fulfillmentLineItems"))
    tracking = tuple(
        TrackingInfo(number=str(t["number"]), company=_text(t.get("company")), url=_text(t.get("url")))
        for t in node.get("trackingInfo") or ()
        if isinstance(t, Mapping) and t.get("number")
    )
    return Fulfillment(
        shopify_id=id_from_gid(node.get("id")),
        order_shopify_id=order_shopify_id,
        status=str(node.get("status") or ""),
        created_at=_required_datetime(node, "createdAt"),
        updated_at=_required_datetime(node, "updatedAt"),
        display_status=_text(node.get("displayStatus")),
        delivered_at=parse_datetime(node.get("deliveredAt")),
        in_transit_at=parse_datetime(node.get("inTransitAt")),
        estimated_delivery_at=parse_datetime(node.get("estimatedDeliveryAt")),
        tracking=tracking,
        events=None if event_nodes is None else tuple(parse_fulfillment_event(e) for e in event_nodes),
        line_items=tuple(_fulfillment_line(line) for line in line_nodes or ()),
        location_shopify_id=_ref_id(node.get("location")),
    )


def parse_fulfillment_order(node: Node, *, lines: Sequence[Node] | None = None) -> FulfillmentOrder:
    line_nodes = lines if lines is not None else connection_nodes(node.get("lineItems"))
    assigned = node.get("assignedLocation")
    location = assigned.get("location") if isinstance(assigned, Mapping) else None
    return FulfillmentOrder(
        shopify_id=id_from_gid(node.get("id")),
        status=str(node.get("status") or ""),
        request_status=_text(node.get("requestStatus")),
        fulfill_at=parse_datetime(node.get("fulfillAt")),
        location_shopify_id=_ref_id(location),
        line_items=tuple(
            FulfillmentOrderLine(
                line_item_shopify_id=_ref_id(line.get("lineItem")) or 0,
                remaining_quantity=_int(line.get("remainingQuantity")) or 0,
                total_quantity=_int(line.get("totalQuantity")) or 0,
            )
            for line in line_nodes or ()
        ),
    )


def parse_order(
    node: Node,
    *,
    line_items: Sequence[Node] | None = None,
    fulfillments: Sequence[Fulfillment] | None = None,
    fulfillment_orders: Sequence[FulfillmentOrder] | None = None,
) -> Order:
    """An order; the keyword arguments replace the node's own (possibly partial) child collections."""
    shopify_id = id_from_gid(node.get("id"))
    total = _money(node.get("totalPriceSet"))
    subtotal = _money(node.get("subtotalPriceSet"))
    refunded = _money(node.get("totalRefundedSet"))
    item_nodes = line_items if line_items is not None else connection_nodes(node.get("lineItems"))
    if fulfillments is None and isinstance(node.get("fulfillments"), list):
        fulfillments = [
            parse_fulfillment(f, order_shopify_id=shopify_id)
            for f in node["fulfillments"]
            if isinstance(f, Mapping)
        ]
    if fulfillment_orders is None:
        fo_nodes = connection_nodes(node.get("fulfillmentOrders"))
        if fo_nodes is not None:
            fulfillment_orders = [parse_fulfillment_order(fo) for fo in fo_nodes]
    return Order(
        shopify_id=shopify_id,
        name=str(node.get("name") or ""),
        created_at=_required_datetime(node, "createdAt"),
        updated_at=_required_datetime(node, "updatedAt"),
        number=_int(node.get("number")),
        customer_shopify_id=_ref_id(node.get("customer")),
        email=_text(node.get("email")),
        phone=_text(node.get("phone")),
        processed_at=parse_datetime(node.get("processedAt")),
        cancelled_at=parse_datetime(node.get("cancelledAt")),
        cancel_reason=_text(node.get("cancelReason")),
        closed_at=parse_datetime(node.get("closedAt")),
        financial_status=_text(node.get("displayFinancialStatus")),
        fulfillment_status=_text(node.get("displayFulfillmentStatus")),
        currency=_text(node.get("currencyCode")) or (total.currency if total else None),
        total_price=total.amount if total else None,
        subtotal_price=subtotal.amount if subtotal else None,
        total_refunded=refunded.amount if refunded else None,
        shipping_address=_address(node.get("shippingAddress")),
        custom_attributes=tuple(
            (str(a.get("key")), str(a.get("value") or ""))
            for a in node.get("customAttributes") or ()
            if isinstance(a, Mapping)
        ),
        tags=_tags(node.get("tags")),
        note=_text(node.get("note")),
        line_items=None if item_nodes is None else tuple(parse_line_item(i) for i in item_nodes),
        fulfillments=None if fulfillments is None else tuple(fulfillments),
        fulfillment_orders=None if fulfillment_orders is None else tuple(fulfillment_orders),
    )


def parse_variant(node: Node, *, product_shopify_id: int) -> Variant:
    return Variant(
        shopify_id=id_from_gid(node.get("id")),
        product_shopify_id=product_shopify_id,
        title=str(node.get("title") or ""),
        updated_at=parse_datetime(node.get("updatedAt")),
        sku=_text(node.get("sku")),
        barcode=_text(node.get("barcode")),
        price=decimal_text(node["price"]) if node.get("price") is not None else None,
        inventory_policy=_text(node.get("inventoryPolicy")),
        selected_options=tuple(
            (str(o.get("name")), str(o.get("value")))
            for o in node.get("selectedOptions") or ()
            if isinstance(o, Mapping)
        ),
        inventory_item_shopify_id=_ref_id(node.get("inventoryItem")),
    )


def parse_product(node: Node, *, variants: Sequence[Node] | None = None) -> Product:
    shopify_id = id_from_gid(node.get("id"))
    variant_nodes = variants if variants is not None else connection_nodes(node.get("variants"))
    return Product(
        shopify_id=shopify_id,
        title=str(node.get("title") or ""),
        updated_at=_required_datetime(node, "updatedAt"),
        created_at=parse_datetime(node.get("createdAt")),
        handle=_text(node.get("handle")),
        status=_text(node.get("status")),
        vendor=_text(node.get("vendor")),
        product_type=_text(node.get("productType")),
        tags=_tags(node.get("tags")),
        options=tuple(
            (str(o.get("name")), tuple(str(v) for v in o.get("values") or ()))
            for o in node.get("options") or ()
            if isinstance(o, Mapping)
        ),
        variants=None
        if variant_nodes is None
        else tuple(parse_variant(v, product_shopify_id=shopify_id) for v in variant_nodes),
    )


def parse_location(node: Node) -> Location:
    return Location(
        shopify_id=id_from_gid(node.get("id")),
        name=str(node.get("name") or ""),
        is_active=bool(node.get("isActive", True)),
        address=_address(node.get("address")),
        updated_at=parse_datetime(node.get("updatedAt")),
    )


def parse_inventory_level(node: Node, *, inventory_item_shopify_id: int) -> InventoryLevel:
    quantities = {
        str(q.get("name")): _int(q.get("quantity"))
        for q in node.get("quantities") or ()
        if isinstance(q, Mapping)
    }
    location = _ref_id(node.get("location"))
    if location is None:
        raise MalformedNode("inventory level without a location")
    return InventoryLevel(
        inventory_item_shopify_id=inventory_item_shopify_id,
        location_shopify_id=location,
        updated_at=_required_datetime(node, "updatedAt"),
        available=quantities.get("available"),
        on_hand=quantities.get("on_hand"),
        committed=quantities.get("committed"),
        incoming=quantities.get("incoming"),
        reserved=quantities.get("reserved"),
    )
