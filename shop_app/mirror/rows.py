"""Shopify resources → rows of the mirror's tables: one dict per row, in the JSON shapes described in
``shop_app.mirror.writes``, emails and phones normalised as stored."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from integrations.shopify import resources
from shop_app.formats.emails import stored_email
from shop_app.formats.phone_numbers import stored_phone

TRACKING_NUMBER_SEPARATORS = re.compile(r"[,，、;；\n]+")

Row = dict[str, Any]


def split_tracking(tracking: Iterable[resources.TrackingInfo]) -> list[dict[str, str | None]]:
    """One entry per tracking number: numbers comma-joined into one field (as Japanese order-management
    systems write them) become entries of their own with the same company and link."""
    entries: list[dict[str, str | None]] = []
    seen: set[tuple[str, str | None]] = set()
    for info in tracking:
        for part in TRACKING_NUMBER_SEPARATORS.split(info.number):
            number = part.strip()
            if not number or (number, info.company) in seen:
                continue
            seen.add((number, info.company))
            entries.append({"company": info.company, "number": number, "url": info.url})
    return entries


def _address(address: resources.Address | None) -> dict[str, Any] | None:
    return None if address is None else asdict(address)


def customer_row(shop_id: int, customer: resources.Customer, synced_at: datetime, region: str | None) -> Row:
    spent = customer.amount_spent
    return {
        "shop_id": shop_id,
        "shopify_id": customer.shopify_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": stored_email(customer.email),
        "phone": stored_phone(customer.phone, default_region=region),
        "tags": list(customer.tags),
        "note": customer.note,
        "amount_spent": spent.amount if spent else None,
        "currency": spent.currency if spent else None,
        "orders_count": customer.orders_count,
        "locale": customer.locale,
        "default_address": _address(customer.default_address),
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "synced_at": synced_at,
    }


def order_row(shop_id: int, order: resources.Order, synced_at: datetime, region: str | None) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": order.shopify_id,
        "name": order.name,
        "number": order.number,
        "customer_shopify_id": order.customer_shopify_id,
        "email": stored_email(order.email),
        "phone": stored_phone(order.phone, default_region=region),
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "processed_at": order.processed_at,
        "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason,
        "closed_at": order.closed_at,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "currency": order.currency,
        "total_price": order.total_price,
        "subtotal_price": order.subtotal_price,
        "total_refunded": order.total_refunded,
        "shipping_address": _address(order.shipping_address),
        "custom_attributes": [list(pair) for pair in order.custom_attributes],
        "tags": list(order.tags),
        "note": order.note,
        "synced_at": synced_at,
    }


def line_item_row(
    shop_id: int, order_id: int, item: resources.LineItem, synced_at: datetime, currency: str | None
) -> Row:
    price = item.unit_price
    return {
        "shop_id": shop_id,
        "shopify_id": item.shopify_id,
        "order_id": order_id,
        "title": item.title,
        "variant_title": item.variant_title,
        "sku": item.sku,
        "quantity": item.quantity,
        "current_quantity": item.current_quantity,
        "variant_shopify_id": item.variant_shopify_id,
        "product_shopify_id": item.product_shopify_id,
        "unit_price": price.amount if price else None,
        "currency": price.currency if price else currency,
        "synced_at": synced_at,
    }


def event_json(event: resources.FulfillmentEvent) -> dict[str, Any]:
    return {
        "id": event.shopify_id,
        "status": event.status,
        "happened_at": event.happened_at.isoformat(),
        "message": event.message,
    }


def fulfillment_row(
    shop_id: int, order_id: int, fulfillment: resources.Fulfillment, synced_at: datetime
) -> Row:
    events = sorted(
        (event_json(event) for event in fulfillment.events or ()), key=lambda e: (e["happened_at"], e["id"])
    )
    return {
        "shop_id": shop_id,
        "shopify_id": fulfillment.shopify_id,
        "order_id": order_id,
        "status": fulfillment.status,
        "display_status": fulfillment.display_status,
        "created_at": fulfillment.created_at,
        "updated_at": fulfillment.updated_at,
        "delivered_at": fulfillment.delivered_at,
        "in_transit_at": fulfillment.in_transit_at,
        "estimated_delivery_at": fulfillment.estimated_delivery_at,
        "tracking": split_tracking(fulfillment.tracking),
        "events": events,
        "line_items": [[line_item_id, quantity] for line_item_id, quantity in fulfillment.line_items],
        "location_shopify_id": fulfillment.location_shopify_id,
        "synced_at": synced_at,
    }


def fulfillment_order_row(
    shop_id: int, order_id: int, fulfillment_order: resources.FulfillmentOrder, synced_at: datetime
) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": fulfillment_order.shopify_id,
        "order_id": order_id,
        "status": fulfillment_order.status,
        "request_status": fulfillment_order.request_status,
        "fulfill_at": fulfillment_order.fulfill_at,
        "location_shopify_id": fulfillment_order.location_shopify_id,
        "line_items": [
            {
                "line_item_id": line.line_item_shopify_id,
                "remaining_quantity": line.remaining_quantity,
                "total_quantity": line.total_quantity,
            }
            for line in fulfillment_order.line_items
        ],
        "synced_at": synced_at,
    }


def product_row(shop_id: int, product: resources.Product, synced_at: datetime) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": product.shopify_id,
        "title": product.title,
        "handle": product.handle,
        "status": product.status,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "tags": list(product.tags),
        "options": [{"name": name, "values": list(values)} for name, values in product.options],
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "synced_at": synced_at,
    }


def variant_row(shop_id: int, product_id: int, variant: resources.Variant, synced_at: datetime) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": variant.shopify_id,
        "product_id": product_id,
        "title": variant.title,
        "sku": variant.sku,
        "barcode": variant.barcode,
        "price": variant.price,
        "inventory_policy": variant.inventory_policy,
        "selected_options": [list(pair) for pair in variant.selected_options],
        "inventory_item_shopify_id": variant.inventory_item_shopify_id,
        "updated_at": variant.updated_at,
        "synced_at": synced_at,
    }


def location_row(shop_id: int, location: resources.Location, synced_at: datetime) -> Row:
    return {
        "shop_id": shop_id,
        "shopify_id": location.shopify_id,
        "name": location.name,
        "is_active": location.is_active,
        "address": _address(location.address),
        "updated_at": location.updated_at,
        "synced_at": synced_at,
    }


def inventory_level_row(shop_id: int, level: resources.InventoryLevel, synced_at: datetime) -> Row:
    return {
        "shop_id": shop_id,
        "inventory_item_shopify_id": level.inventory_item_shopify_id,
        "location_shopify_id": level.location_shopify_id,
        "available": level.available,
        "on_hand": level.on_hand,
        "committed": level.committed,
        "incoming": level.incoming,
        "reserved": level.reserved,
        "updated_at": level.updated_at,
        "synced_at": synced_at,
    }
