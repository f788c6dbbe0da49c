"""Small documents shaped like the Admin GraphQL objects (as the store's generator writes them)."""

from __future__ import annotations

from typing import Any

SHOP_A = "hinode-test.myshopify.com"
SHOP_B = "northwind-test.myshopify.com"


def money(amount: str, currency: str = "JPY") -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def shop_doc(domain: str, num: int) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Shop/{num}",
        "name": domain.split(".")[0],
        "myshopifyDomain": domain,
        "email": f"owner@{domain}",
        "currencyCode": "JPY",
        "ianaTimezone": "Asia/Tokyo",
        "plan": {"publicDisplayName": "Basic", "partnerDevelopment": True, "shopifyPlus": False},
    }


def customer_doc(num: int) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Customer/{num}",
        "firstName": "Hanako",
        "lastName": f"Yamada{num}",
        "defaultEmailAddress": {"emailAddress": f"hanako{num}@example.jp"},
        "defaultPhoneNumber": {"phoneNumber": f"+81 90-0000-{num:04d}"},
        "tags": ["vip"] if num == 1 else [],
        "numberOfOrders": 1,
        "amountSpent": {"amount": "3600.0", "currencyCode": "JPY"},
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-02T00:00:00Z",
        "locale": "ja",
    }


def order_doc(num: int, *, customer: int | None = 1) -> dict[str, Any]:
    """Order `num` (1-based): name #100{num}, updated `num` hours after 2026-11-01T00:00Z, 3 line items."""
    status = ["PAID", "PENDING", "REFUNDED"][num % 3]
    return {
        "id": f"gid://shopify/Order/{num}",
        "name": f"#{1000 + num}",
        "createdAt": f"2026-10-{1 + num % 28:02d}T00:00:00Z",
        "updatedAt": f"2026-11-{1 + num // 24:02d}T{num % 24:02d}:00:00Z",
        "processedAt": "2026-10-01T00:00:00Z",
        "closedAt": "2026-11-20T00:00:00Z" if num % 5 == 0 else None,
        "cancelledAt": "2026-11-20T00:00:00Z" if num % 10 == 0 else None,
        "cancelReason": "CUSTOMER" if num % 10 == 0 else None,
        "displayFinancialStatus": status,
        "displayFulfillmentStatus": "FULFILLED" if num % 2 else "UNFULFILLED",
        "email": f"hanako{customer}@example.jp" if customer else f"guest{num}@example.com",
        "phone": None,
        "currencyCode": "JPY",
        "totalPriceSet": money("3600.0"),
        "subtotalPriceSet": money("3600.0"),
        "totalRefundedSet": money("0.0"),
        "customAttributes": [{"key": "配送希望日", "value": "2026-11-03"}],
        "tags": ["gift"] if num % 4 == 0 else [],
        "note": None,
        "customer": f"gid://shopify/Customer/{customer}" if customer else None,
        "lineItems": [
            {
                "id": f"gid://shopify/LineItem/{num * 10 + k}",
                "title": "Tシャツ",
                "variantTitle": "M / ネイビー",
                "sku": f"TS-{k}" if num != 7 else "RARE-SKU",
                "quantity": 1,
                "currentQuantity": 1,
                "variant": "gid://shopify/ProductVariant/11",
                "originalUnitPriceSet": money("1200.0"),
            }
            for k in range(3)
        ],
        "fulfillments": [
            {
                "id": f"gid://shopify/Fulfillment/{num}",
                "status": "SUCCESS",
                "displayStatus": "IN_TRANSIT",
                "createdAt": "2026-11-02T00:00:00Z",
                "updatedAt": "2026-11-02T00:00:00Z",
                "trackingInfo": [
                    {"company": "ヤマト運輸", "number": f"1234-{num}", "url": None},
                    {"company": "Yamato", "number": f"5678-{num}", "url": None},
                ],
                "events": [
                    {
                        "id": f"gid://shopify/FulfillmentEvent/{num}",
                        "status": "IN_TRANSIT",
                        "happenedAt": "2026-11-02T00:00:00Z",
                        "message": None,
                    }
                ],
            }
        ],
    }


def product_doc() -> dict[str, Any]:
    return {
        "id": "gid://shopify/Product/1",
        "title": "Tシャツ",
        "handle": "t-shirt",
        "status": "ACTIVE",
        "vendor": "Hinode",
        "productType": "Shirts",
        "tags": [],
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
        "options": [{"id": "gid://shopify/ProductOption/1", "name": "Size", "position": 1, "values": ["M"]}],
        "variants": [
            {
                "id": "gid://shopify/ProductVariant/11",
                "title": "M / ネイビー",
                "sku": "TS-0",
                "price": "1200.00",
                "inventoryPolicy": "CONTINUE",
                "selectedOptions": [{"name": "Size", "value": "M"}],
                "createdAt": "2026-01-01T00:00:00Z",
                "updatedAt": "2026-01-01T00:00:00Z",
                "inventoryItem": {
                    "id": "gid://shopify/InventoryItem/21",
                    "sku": "TS-0",
                    "tracked": True,
                    "createdAt": "2026-01-01T00:00:00Z",
                    "updatedAt": "2026-01-01T00:00:00Z",
                    "inventoryLevels": [
                        {
                            "id": "gid://shopify/InventoryLevel/31?inventory_item_id=21",
                            "location": "gid://shopify/Location/1",
                            "updatedAt": "2026-01-01T00:00:00Z",
                            "quantities": [
                                {"name": "available", "quantity": 5},
                                {"name": "on_hand", "quantity": 7},
                            ],
                        }
                    ],
                },
            }
        ],
    }


def location_doc() -> dict[str, Any]:
    return {
        "id": "gid://shopify/Location/1",
        "name": "東京倉庫",
        "isActive": True,
        "fulfillsOnlineOrders": True,
        "address": {"city": "Tokyo", "countryCode": "JP"},
    }
