"""The shop document, its locations and its products with variants and per-location stock."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from devstore.generator.ids import IdAllocator, gid, legacy_id, minor_units, money_amount
from devstore.generator.policies import policy_docs
from devstore.generator.shops import ShopProfile
from devstore.generator.vocabulary import COLOURS, PRODUCT_KINDS, SCENTS, SERIES_EN, SERIES_JA, ProductKind
from devstore.state import isoformat_z

QUANTITY_NAMES = ("available", "on_hand", "committed", "incoming", "reserved")
CONTINUE_POLICY_EVERY = 8
SOLD_OUT_EVERY = 7


@dataclass(frozen=True, slots=True)
class VariantRef:
    """What an order line needs to know about a variant."""

    variant_id: str
    product_id: str
    inventory_item_id: str
    product_title: str
    variant_title: str
    sku: str
    vendor: str
    price_minor: int


def shop_doc(profile: ShopProfile, ids: IdAllocator, created_at: datetime) -> dict[str, Any]:
    shop_id = ids.take("Shop")
    primary = profile.locations[0]
    address = {
        "address1": primary.address1,
        "city": primary.city,
        "province": primary.province,
        "provinceCode": primary.province_code,
        "zip": primary.zip,
        "country": profile.country,
        "countryCodeV2": profile.country_code,
        "phone": primary.phone,
    }
    return {
        "id": gid("Shop", shop_id),
        "name": profile.name,
        "myshopifyDomain": profile.domain,
        "email": profile.email,
        "contactEmail": profile.email,
        "shopOwnerName": profile.owner,
        "currencyCode": profile.currency,
        "enabledPresentmentCurrencies": [profile.currency],
        "ianaTimezone": profile.timezone,
        "timezoneAbbreviation": profile.timezone_abbreviation,
        "taxesIncluded": profile.japanese,
        "weightUnit": "KILOGRAMS" if profile.japanese else "POUNDS",
        "url": f"https://{profile.domain}",
        "createdAt": isoformat_z(created_at),
        "updatedAt": isoformat_z(created_at),
        "billingAddress": address,
        "shopAddress": dict(address),
        "plan": {
            "publicDisplayName": profile.plan,
            "partnerDevelopment": True,
            "shopifyPlus": False,
        },
        "shopPolicies": policy_docs(
            shop_id=shop_id, domain=profile.domain, japanese=profile.japanese, created_at=created_at
        ),
        "_locale": profile.locale,
        # the primary locale first; English is published beside Japanese, as on most Japanese stores
        "_locales": [
            {"locale": locale, "primary": locale == profile.locale, "published": True}
            for locale in dict.fromkeys((profile.locale, "en"))
        ],
    }


def location_docs(profile: ShopProfile, ids: IdAllocator, created_at: datetime) -> list[dict[str, Any]]:
    docs = []
    for position, spec in enumerate(profile.locations):
        number = ids.take("Location")
        docs.append(
            {
                "id": gid("Location", number),
                "legacyResourceId": str(number),
                "name": spec.name,
                "isActive": True,
                "isPrimary": position == 0,
                "fulfillsOnlineOrders": spec.fulfills_online_orders,
                "shipsInventory": spec.fulfills_online_orders,
                "hasActiveInventory": True,
                "createdAt": isoformat_z(created_at),
                "updatedAt": isoformat_z(created_at),
                "address": {
                    "address1": spec.address1,
                    "address2": None,
                    "city": spec.city,
                    "province": spec.province,
                    "provinceCode": spec.province_code,
                    "zip": spec.zip,
                    "country": profile.country,
                    "countryCode": profile.country_code,
                    "phone": spec.phone,
                    "formatted": [spec.address1, f"{spec.city} {spec.province} {spec.zip}", profile.country],
                },
            }
        )
    return docs


def _option_axes(kind: ProductKind, rng: random.Random, japanese: bool) -> list[tuple[str, list[str]]]:
    colour_name, size_name, scent_name = (
        ("カラー", "サイズ", "香り") if japanese else ("Color", "Size", "Scent")
    )
    if kind.sizes:
        colours = rng.sample(COLOURS, rng.randint(1, 3))
        return [
            (colour_name, [ja if japanese else en for ja, en in colours]),
            (size_name, list(kind.sizes)),
        ]
    if kind.product_type_en in {"Skincare", "Cosmetics"}:
        scents = rng.sample(SCENTS, rng.randint(1, 3))
        return [(scent_name, [ja if japanese else en for ja, en in scents])]
    colours = rng.sample(COLOURS, rng.randint(1, 4))
    return [(colour_name, [ja if japanese else en for ja, en in colours])]


def _combinations(axes: list[tuple[str, list[str]]]) -> list[list[tuple[str, str]]]:
    combos: list[list[tuple[str, str]]] = [[]]
    for name, values in axes:
        combos = [[*combo, (name, value)] for combo in combos for value in values]
    return combos


def _quantities(rng: random.Random, *, sold_out: bool, oversold: bool) -> dict[str, int]:
    committed = rng.randint(0, 4)
    reserved = rng.choice((0, 0, 0, 1))
    if oversold:
        available = -rng.randint(1, 5)
    elif sold_out:
        available = 0
    else:
        available = rng.choice((1, 2, 3, 5, 8, 12, 20, 35, 60, 120))
    incoming = rng.choice((0, 0, 10, 24, 50)) if (sold_out or oversold or available < 5) else 0
    on_hand = max(available, 0) + committed + reserved
    return {
        "available": available,
        "on_hand": on_hand,
        "committed": committed,
        "incoming": incoming,
        "reserved": reserved,
    }


def quantities_list(values: dict[str, int], updated_at: str) -> list[dict[str, Any]]:
    return [{"name": name, "quantity": values[name], "updatedAt": updated_at} for name in QUANTITY_NAMES]


def product_docs(
    profile: ShopProfile,
    ids: IdAllocator,
    rng: random.Random,
    *,
    count: int,
    locations: list[dict[str, Any]],
    created_at: datetime,
) -> tuple[list[dict[str, Any]], list[VariantRef]]:
    products: list[dict[str, Any]] = []
    refs: list[VariantRef] = []
    vendor = profile.name.split(" ")[0] if profile.japanese else profile.name
    for index in range(count):
        kind = PRODUCT_KINDS[index % len(PRODUCT_KINDS)]
        series = index // len(PRODUCT_KINDS) % len(SERIES_EN)
        if profile.japanese:
            title = f"{kind.title_ja}({SERIES_JA[series]})"
            product_type = kind.product_type_ja
            price = kind.price_jpy + 550 * (index // len(PRODUCT_KINDS) % 3)
        else:
            title = f"{SERIES_EN[series]} {kind.title_en}"
            product_type = kind.product_type_en
            price = kind.price_usd_cents + 500 * (index // len(PRODUCT_KINDS) % 3)
        product_number = ids.take("Product")
        product_gid = gid("Product", product_number)
        moment = created_at + timedelta(hours=index * 7)
        stamp = isoformat_z(moment)
        handle = f"{kind.title_en.lower().replace(' ', '-')}-{index + 1}"
        axes = _option_axes(kind, rng, profile.japanese)
        # Every shop has pre-order products (sold past zero) and sold-out ones, however few products.
        continue_policy = index % CONTINUE_POLICY_EVERY == 3
        product_sold_out = index % SOLD_OUT_EVERY == 5 or (continue_policy and index % 2 == 1)
        variants: list[dict[str, Any]] = []
        sku_base = f"{'HN' if profile.japanese else 'NW'}-{index + 1:04d}"
        for position, combo in enumerate(_combinations(axes), start=1):
            variant_number = ids.take("ProductVariant")
            item_number = ids.take("InventoryItem")
            variant_title = " / ".join(value for _, value in combo)
            sku = f"{sku_base}-{position:02d}"
            sold_out = product_sold_out or rng.random() < 0.08
            levels = []
            total_available = 0
            stocked_locations = locations if rng.random() < 0.6 else locations[:2]
            for location in stocked_locations:
                level_number = ids.take("InventoryLevel")
                values = _quantities(
                    rng, sold_out=sold_out, oversold=continue_policy and sold_out and rng.random() < 0.5
                )
                total_available += values["available"]
                levels.append(
                    {
                        "id": f"gid://shopify/InventoryLevel/{level_number}?inventory_item_id={item_number}",
                        "location": location["id"],
                        "isActive": True,
                        "createdAt": stamp,
                        "updatedAt": stamp,
                        "quantities": quantities_list(values, stamp),
                    }
                )
            variants.append(
                {
                    "id": gid("ProductVariant", variant_number),
                    "legacyResourceId": str(variant_number),
                    "title": variant_title,
                    "displayName": f"{title} - {variant_title}",
                    "sku": sku,
                    "barcode": f"49{legacy_id(product_gid) % 10**9:09d}{position:02d}"
                    if profile.japanese
                    else None,
                    "price": _price_text(price, profile.currency),
                    "compareAtPrice": None,
                    "position": position,
                    "inventoryPolicy": "CONTINUE" if continue_policy else "DENY",
                    "inventoryQuantity": total_available,
                    "availableForSale": continue_policy or total_available > 0,
                    "taxable": True,
                    "selectedOptions": [{"name": name, "value": value} for name, value in combo],
                    "createdAt": stamp,
                    "updatedAt": stamp,
                    "inventoryItem": {
                        "id": gid("InventoryItem", item_number),
                        "legacyResourceId": str(item_number),
                        "sku": sku,
                        "tracked": True,
                        "requiresShipping": True,
                        "createdAt": stamp,
                        "updatedAt": stamp,
                        "inventoryLevels": levels,
                    },
                }
            )
            refs.append(
                VariantRef(
                    variant_id=gid("ProductVariant", variant_number),
                    product_id=product_gid,
                    inventory_item_id=gid("InventoryItem", item_number),
                    product_title=title,
                    variant_title=variant_title,
                    sku=sku,
                    vendor=vendor,
                    price_minor=price,
                )
            )
        total_inventory = sum(v["inventoryQuantity"] for v in variants)
        products.append(
            {
                "id": product_gid,
                "legacyResourceId": str(product_number),
                "title": title,
                "handle": handle,
                "status": "ACTIVE" if index % 23 != 22 else "DRAFT",
                "vendor": vendor,
                "productType": product_type,
                "tags": [product_type, kind.title_en.split(" ")[-1].lower()],
                "descriptionHtml": f"<p>{title}</p>",
                "createdAt": stamp,
                "updatedAt": stamp,
                "publishedAt": stamp,
                "options": [
                    {
                        "id": gid("ProductOption", ids.take("ProductOption")),
                        "name": name,
                        "position": position,
                        "values": values,
                    }
                    for position, (name, values) in enumerate(axes, start=1)
                ],
                "totalInventory": total_inventory,
                "tracksInventory": True,
                "hasOnlyDefaultVariant": False,
                "hasOutOfStockVariants": any(v["inventoryQuantity"] <= 0 for v in variants),
                "variants": variants,
            }
        )
    return products, refs


def _price_text(minor: int, currency: str) -> str:
    return money_amount(minor, currency)


def variant_refs(product: dict[str, Any], currency: str) -> list[VariantRef]:
    """Rebuild order-line references from a stored product document (used by the store activity)."""
    return [
        VariantRef(
            variant_id=variant["id"],
            product_id=product["id"],
            inventory_item_id=variant["inventoryItem"]["id"],
            product_title=product["title"],
            variant_title=variant["title"],
            sku=variant["sku"],
            vendor=product["vendor"],
            price_minor=minor_units(variant["price"], currency),
        )
        for variant in product["variants"]
    ]
