"""Webhook bodies: REST-shaped resources (snake_case, integer ids, ``admin_graphql_api_id``) converted from
the store's GraphQL-shaped documents, as Shopify sends them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devstore.generator.ids import legacy_id, minor_units

Doc = dict[str, Any]
Resolve = Callable[[str], Doc | None]


def _id(gid_value: str | None) -> int | None:
    return None if gid_value is None else legacy_id(gid_value)


def _money_set(bag: Doc | None) -> Doc | None:
    if bag is None:
        return None
    return {
        key: {"amount": _rest_amount(bag[src]), "currency_code": bag[src]["currencyCode"]}
        for key, src in (("shop_money", "shopMoney"), ("presentment_money", "presentmentMoney"))
    }


def _rest_amount(money: Doc) -> str:
    """REST prints amounts with the currency's decimals: ``"19.90"``, ``"4980"``."""
    currency = money["currencyCode"]
    minor = minor_units(money["amount"], currency)
    if currency == "JPY":
        return str(minor)
    return f"{minor // 100}.{minor % 100:02d}" if minor >= 0 else f"-{-minor // 100}.{-minor % 100:02d}"


def _amount(bag: Doc | None) -> str | None:
    return None if bag is None else _rest_amount(bag["shopMoney"])


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _address(address: Doc | None) -> Doc | None:
    if address is None:
        return None
    return {
        "first_name": address.get("firstName"),
        "last_name": address.get("lastName"),
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province": address.get("province"),
        "province_code": address.get("provinceCode"),
        "zip": address.get("zip"),
        "country": address.get("country"),
        "country_code": address.get("countryCodeV2") or address.get("countryCode"),
        "phone": address.get("phone"),
        "latitude": None,
        "longitude": None,
    }


def _tags(tags: list[str] | None) -> str:
    return ", ".join(tags or [])


def line_item_payload(item: Doc) -> Doc:
    return {
        "id": _id(item["id"]),
        "admin_graphql_api_id": item["id"],
        "variant_id": _id(item.get("variant")),
        "product_id": _id(item.get("product")),
        "title": item["title"],
        "name": item.get("name") or item["title"],
        "variant_title": item.get("variantTitle"),
        "sku": item.get("sku"),
        "vendor": item.get("vendor"),
        "quantity": item["quantity"],
        "current_quantity": item.get("currentQuantity", item["quantity"]),
        "fulfillable_quantity": item.get("unfulfilledQuantity", 0),
        "fulfillment_status": _line_fulfillment_status(item),
        "fulfillment_service": "manual",
        "requires_shipping": item.get("requiresShipping", True),
        "taxable": item.get("taxable", True),
        "gift_card": item.get("isGiftCard", False),
        "product_exists": True,
        "variant_inventory_management": "shopify",
        "properties": [{"name": a["key"], "value": a["value"]} for a in item.get("customAttributes", [])],
        "grams": 0,
        "price": _amount(item.get("originalUnitPriceSet")),
        "price_set": _money_set(item.get("originalUnitPriceSet")),
        "total_discount": "0" if _is_jpy(item) else "0.00",
        "discount_allocations": [],
        "duties": [],
        "tax_lines": [],
    }


def _is_jpy(item: Doc) -> bool:
    bag = item.get("originalUnitPriceSet")
    return bag is not None and bag["shopMoney"]["currencyCode"] == "JPY"


def _line_fulfillment_status(item: Doc) -> str | None:
    left, quantity = item.get("unfulfilledQuantity", 0), item.get("currentQuantity", item["quantity"])
    if quantity and left == 0:
        return "fulfilled"
    if left < item["quantity"] and left > 0:
        return "partial"
    return None


def customer_payload(customer: Doc) -> Doc:
    email = (customer.get("defaultEmailAddress") or {}).get("emailAddress")
    phone = (customer.get("defaultPhoneNumber") or {}).get("phoneNumber")
    default_address = customer.get("defaultAddress")
    customer_id = _id(customer["id"])
    address = None
    if default_address is not None:
        address = {
            "id": _id(default_address["id"]) if default_address.get("id") else None,
            "customer_id": customer_id,
            **(_address(default_address) or {}),
            "country_name": default_address.get("country"),
            "default": True,
        }
    return {
        "id": customer_id,
        "email": email,
        "created_at": customer.get("createdAt"),
        "updated_at": customer.get("updatedAt"),
        "first_name": customer.get("firstName"),
        "last_name": customer.get("lastName"),
        "orders_count": int(customer.get("numberOfOrders") or 0),
        "state": _lower(customer.get("state")) or "disabled",
        "total_spent": _rest_amount(customer["amountSpent"]) if customer.get("amountSpent") else "0.00",
        "last_order_id": _id(customer.get("lastOrder")),
        "note": customer.get("note"),
        "verified_email": customer.get("verifiedEmail", False),
        "multipass_identifier": None,
        "tax_exempt": customer.get("taxExempt", False),
        "tags": _tags(customer.get("tags")),
        "currency": (customer.get("amountSpent") or {}).get("currencyCode"),
        "phone": phone,
        "addresses": [address] if address else [],
        "default_address": address,
        "tax_exemptions": [],
        "email_marketing_consent": None,
        "sms_marketing_consent": None,
        "admin_graphql_api_id": customer["id"],
    }


def fulfillment_payload(order: Doc, fulfillment: Doc) -> Doc:
    items = {item["id"]: item for item in order.get("lineItems", [])}
    tracking = fulfillment.get("trackingInfo") or []
    numbers = [t["number"] for t in tracking if t.get("number")]
    urls = [t["url"] for t in tracking if t.get("url")]
    shipped = []
    for line in fulfillment.get("fulfillmentLineItems", []):
        item = items.get(line["lineItem"])
        if item is not None:
            shipped.append({**line_item_payload(item), "quantity": line["quantity"]})
    return {
        "id": _id(fulfillment["id"]),
        "admin_graphql_api_id": fulfillment["id"],
        "order_id": _id(order["id"]),
        "name": fulfillment.get("name"),
        "status": "success" if fulfillment.get("status") == "SUCCESS" else _lower(fulfillment.get("status")),
        "shipment_status": _shipment_status(fulfillment.get("displayStatus")),
        "created_at": fulfillment.get("createdAt"),
        "updated_at": fulfillment.get("updatedAt"),
        "service": "manual",
        "location_id": _id(fulfillment.get("location")),
        "origin_address": None,
        "email": order.get("email"),
        "destination": _address(order.get("shippingAddress")),
        "tracking_company": tracking[0].get("company") if tracking else None,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
        "line_items": shipped,
        "receipt": {},
    }


def _shipment_status(display_status: str | None) -> str | None:
    if display_status in {None, "FULFILLED", "MARKED_AS_FULFILLED", "CONFIRMED"}:
        return None
    return display_status.lower() if display_status else None


def fulfillment_order_status_payload(fulfillment_order: Doc) -> Doc:
    """The body of ``fulfillment_orders/order_routing_complete`` and ``hold_released``: the fulfillment
    order's gid and status only."""
    status = str(fulfillment_order["status"]).lower()
    return {"fulfillment_order": {"id": fulfillment_order["id"], "status": status}}


def fulfillment_event_payload(order: Doc, fulfillment: Doc, event: Doc, *, shop_id: int) -> Doc:
    return {
        "id": _id(event["id"]),
        "admin_graphql_api_id": event["id"],
        "fulfillment_id": _id(fulfillment["id"]),
        "order_id": _id(order["id"]),
        "shop_id": shop_id,
        "status": _lower(event["status"]),
        "message": event.get("message"),
        "happened_at": event.get("happenedAt"),
        "created_at": event.get("createdAt"),
        "updated_at": event.get("createdAt"),
        "estimated_delivery_at": event.get("estimatedDeliveryAt"),
        "city": event.get("city"),
        "province": event.get("province"),
        "country": event.get("country"),
        "zip": event.get("zip"),
        "address1": event.get("address1"),
        "latitude": event.get("latitude"),
        "longitude": event.get("longitude"),
    }


def refund_payload(order: Doc, refund: Doc) -> Doc:
    items = {item["id"]: item for item in order.get("lineItems", [])}
    return {
        "id": _id(refund["id"]),
        "admin_graphql_api_id": refund["id"],
        "order_id": _id(order["id"]),
        "created_at": refund.get("createdAt"),
        "processed_at": refund.get("processedAt"),
        "note": refund.get("note"),
        "user_id": None,
        "restock": any(line.get("restocked") for line in refund.get("refundLineItems", [])),
        "duties": [],
        "return": None,
        "refund_line_items": [
            {
                "id": _id(line["id"]),
                "line_item_id": _id(line["lineItem"]),
                "quantity": line["quantity"],
                "location_id": _id(line.get("location")),
                "restock_type": _lower(line.get("restockType")),
                "subtotal": float(_amount(line.get("subtotalSet")) or 0),
                "subtotal_set": _money_set(line.get("subtotalSet")),
                "total_tax": 0,
                "total_tax_set": _money_set(line.get("totalTaxSet")),
                "line_item": line_item_payload(items[line["lineItem"]])
                if line["lineItem"] in items
                else None,
            }
            for line in refund.get("refundLineItems", [])
        ],
        "transactions": [
            {
                "kind": "refund",
                "status": "success",
                "amount": _amount(refund.get("totalRefundedSet")),
                "currency": (refund.get("totalRefundedSet") or {}).get("shopMoney", {}).get("currencyCode"),
                "gateway": "shopify_payments",
            }
        ],
        "order_adjustments": [],
    }


_FINANCIAL = {
    "PENDING": "pending",
    "AUTHORIZED": "authorized",
    "PAID": "paid",
    "PARTIALLY_PAID": "partially_paid",
    "PARTIALLY_REFUNDED": "partially_refunded",
    "REFUNDED": "refunded",
    "VOIDED": "voided",
    "EXPIRED": "expired",
}
_FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}


def order_payload(order: Doc, resolve: Resolve) -> Doc:
    """``resolve`` fetches a referenced document (the customer) by gid."""
    customer_doc = resolve(order["customer"]) if order.get("customer") else None
    currency = order.get("currencyCode")
    return {
        "id": _id(order["id"]),
        "admin_graphql_api_id": order["id"],
        "name": order["name"],
        "number": order.get("number"),
        "order_number": int(order["name"].lstrip("#")) if order["name"].lstrip("#").isdigit() else None,
        "email": order.get("email"),
        "contact_email": order.get("email"),
        "phone": order.get("phone"),
        "created_at": order.get("createdAt"),
        "updated_at": order.get("updatedAt"),
        "processed_at": order.get("processedAt"),
        "closed_at": order.get("closedAt"),
        "cancelled_at": order.get("cancelledAt"),
        "cancel_reason": _lower(order.get("cancelReason")),
        "confirmed": order.get("confirmed", True),
        "test": order.get("test", False),
        "currency": currency,
        "presentment_currency": order.get("presentmentCurrencyCode", currency),
        "customer_locale": order.get("customerLocale"),
        "financial_status": _FINANCIAL.get(order.get("displayFinancialStatus") or ""),
        "fulfillment_status": _FULFILLMENT.get(order.get("displayFulfillmentStatus") or ""),
        "source_name": order.get("sourceName", "web"),
        "payment_gateway_names": order.get("paymentGatewayNames", []),
        "taxes_included": order.get("taxesIncluded", False),
        "tags": _tags(order.get("tags")),
        "note": order.get("note"),
        "note_attributes": [
            {"name": a["key"], "value": a["value"]} for a in order.get("customAttributes", [])
        ],
        "buyer_accepts_marketing": order.get("customerAcceptsMarketing", False),
        "subtotal_price": _amount(order.get("subtotalPriceSet")),
        "subtotal_price_set": _money_set(order.get("subtotalPriceSet")),
        "current_subtotal_price": _amount(order.get("currentSubtotalPriceSet")),
        "current_subtotal_price_set": _money_set(order.get("currentSubtotalPriceSet")),
        "total_price": _amount(order.get("totalPriceSet")),
        "total_price_set": _money_set(order.get("totalPriceSet")),
        "current_total_price": _amount(order.get("currentTotalPriceSet")),
        "current_total_price_set": _money_set(order.get("currentTotalPriceSet")),
        "total_tax": _amount(order.get("totalTaxSet")),
        "total_tax_set": _money_set(order.get("totalTaxSet")),
        "total_discounts": _amount(order.get("totalDiscountsSet")),
        "total_discounts_set": _money_set(order.get("totalDiscountsSet")),
        "total_shipping_price_set": _money_set(order.get("totalShippingPriceSet")),
        "total_outstanding": _amount(order.get("totalOutstandingSet")),
        "shipping_address": _address(order.get("shippingAddress")),
        "billing_address": _address(order.get("billingAddress")),
        "customer": customer_payload(customer_doc) if customer_doc else None,
        "line_items": [line_item_payload(item) for item in order.get("lineItems", [])],
        "fulfillments": [fulfillment_payload(order, f) for f in order.get("fulfillments", [])],
        "refunds": [refund_payload(order, r) for r in order.get("refunds", [])],
        "shipping_lines": [],
        "discount_codes": [],
        "tax_lines": [],
    }


def product_payload(product: Doc) -> Doc:
    product_id = _id(product["id"])
    options = product.get("options", [])
    return {
        "id": product_id,
        "admin_graphql_api_id": product["id"],
        "title": product["title"],
        "body_html": product.get("descriptionHtml"),
        "vendor": product.get("vendor"),
        "product_type": product.get("productType"),
        "handle": product.get("handle"),
        "status": _lower(product.get("status")),
        "tags": _tags(product.get("tags")),
        "created_at": product.get("createdAt"),
        "updated_at": product.get("updatedAt"),
        "published_at": product.get("publishedAt"),
        "published_scope": "web",
        "template_suffix": None,
        "options": [
            {
                "id": _id(option["id"]) if option.get("id") else None,
                "product_id": product_id,
                "name": option["name"],
                "position": option.get("position", index),
                "values": option.get("values", []),
            }
            for index, option in enumerate(options, start=1)
        ],
        "variants": [variant_payload(product_id, variant) for variant in product.get("variants", [])],
        "images": [],
        "image": None,
    }


def variant_payload(product_id: int | None, variant: Doc) -> Doc:
    selected = [o["value"] for o in variant.get("selectedOptions", [])] + [None, None, None]
    item = variant.get("inventoryItem") or {}
    return {
        "id": _id(variant["id"]),
        "admin_graphql_api_id": variant["id"],
        "product_id": product_id,
        "title": variant.get("title"),
        "sku": variant.get("sku"),
        "barcode": variant.get("barcode"),
        "price": variant.get("price"),
        "compare_at_price": variant.get("compareAtPrice"),
        "position": variant.get("position"),
        "inventory_policy": _lower(variant.get("inventoryPolicy")),
        "inventory_management": "shopify",
        "inventory_item_id": _id(item.get("id")),
        "inventory_quantity": variant.get("inventoryQuantity"),
        "old_inventory_quantity": variant.get("inventoryQuantity"),
        "fulfillment_service": "manual",
        "taxable": variant.get("taxable", True),
        "requires_shipping": item.get("requiresShipping", True),
        "option1": selected[0],
        "option2": selected[1],
        "option3": selected[2],
        "created_at": variant.get("createdAt"),
        "updated_at": variant.get("updatedAt"),
        "grams": 0,
        "weight": 0,
        "weight_unit": "kg",
        "image_id": None,
    }


def inventory_item_payload(item: Doc) -> Doc:
    return {
        "id": _id(item["id"]),
        "admin_graphql_api_id": item["id"],
        "sku": item.get("sku"),
        "created_at": item.get("createdAt"),
        "updated_at": item.get("updatedAt"),
        "requires_shipping": item.get("requiresShipping", True),
        "cost": None,
        "country_code_of_origin": None,
        "province_code_of_origin": None,
        "harmonized_system_code": None,
        "tracked": item.get("tracked", True),
        "country_harmonized_system_codes": [],
    }


def inventory_level_payload(item: Doc, level: Doc) -> Doc:
    quantities = {q["name"]: q["quantity"] for q in level.get("quantities", [])}
    return {
        "inventory_item_id": _id(item["id"]),
        "location_id": _id(level["location"]),
        "available": quantities.get("available"),
        "updated_at": level.get("updatedAt"),
        "admin_graphql_api_id": level["id"],
    }


def location_payload(location: Doc) -> Doc:
    address = location.get("address") or {}
    return {
        "id": _id(location["id"]),
        "admin_graphql_api_id": location["id"],
        "name": location["name"],
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "zip": address.get("zip"),
        "province": address.get("province"),
        "province_code": address.get("provinceCode"),
        "country": address.get("countryCode"),
        "country_code": address.get("countryCode"),
        "country_name": address.get("country"),
        "phone": address.get("phone"),
        "created_at": location.get("createdAt"),
        "updated_at": location.get("updatedAt"),
        "legacy": False,
        "active": location.get("isActive", True),
    }


def shop_payload(shop: Doc) -> Doc:
    """The shop resource, as ``app/uninstalled`` and ``shop/update`` carry it."""
    billing = shop.get("shopAddress") or shop.get("billingAddress") or {}
    return {
        "id": _id(shop["id"]),
        "name": shop.get("name"),
        "email": shop.get("email"),
        "domain": shop.get("myshopifyDomain"),
        "myshopify_domain": shop.get("myshopifyDomain"),
        "province": billing.get("province"),
        "country": billing.get("countryCodeV2"),
        "country_code": billing.get("countryCodeV2"),
        "address1": billing.get("address1"),
        "zip": billing.get("zip"),
        "city": billing.get("city"),
        "phone": billing.get("phone"),
        "primary_locale": shop.get("_locale", "en"),
        "created_at": shop.get("createdAt"),
        "updated_at": shop.get("updatedAt"),
        "currency": shop.get("currencyCode"),
        "customer_email": shop.get("contactEmail"),
        "iana_timezone": shop.get("ianaTimezone"),
        "shop_owner": shop.get("shopOwnerName"),
        "plan_display_name": (shop.get("plan") or {}).get("publicDisplayName"),
        "taxes_included": shop.get("taxesIncluded"),
        "enabled_presentment_currencies": shop.get("enabledPresentmentCurrencies", []),
        "admin_graphql_api_id": shop["id"],
    }


def customers_data_request_payload(shop: Doc, customer: Doc, order_ids: list[int], request_id: int) -> Doc:
    return {
        "shop_id": _id(shop["id"]),
        "shop_domain": shop.get("myshopifyDomain"),
        "orders_requested": order_ids,
        "customer": _compliance_customer(customer),
        "data_request": {"id": request_id},
    }


def customers_redact_payload(shop: Doc, customer: Doc, order_ids: list[int]) -> Doc:
    return {
        "shop_id": _id(shop["id"]),
        "shop_domain": shop.get("myshopifyDomain"),
        "customer": _compliance_customer(customer),
        "orders_to_redact": order_ids,
    }


def shop_redact_payload(shop: Doc) -> Doc:
    return {"shop_id": _id(shop["id"]), "shop_domain": shop.get("myshopifyDomain")}


def _compliance_customer(customer: Doc) -> Doc:
    return {
        "id": _id(customer["id"]),
        "email": (customer.get("defaultEmailAddress") or {}).get("emailAddress"),
        "phone": (customer.get("defaultPhoneNumber") or {}).get("phoneNumber"),
    }
