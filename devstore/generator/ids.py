"""Global ids, gids and money formatting shared by the generator and the store activity."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

GID_PREFIX = "gid://shopify/"

# Realistic 13- and 14-digit magnitudes, one range per type; each shop gets its own slice.
TYPE_BASES: Mapping[str, int] = {
    "Shop": 60_000_000_000,
    "Location": 71_000_000_000,
    "Customer": 7_400_000_000_000,
    "Product": 8_900_000_000_000,
    "ProductOption": 10_100_000_000_000,
    "ProductVariant": 45_100_000_000_000,
    "InventoryItem": 47_200_000_000_000,
    "InventoryLevel": 110_000_000_000,
    "Order": 6_100_000_000_000,
    "LineItem": 15_800_000_000_000,
    "FulfillmentOrder": 6_900_000_000_000,
    "FulfillmentOrderLineItem": 14_300_000_000_000,
    "Fulfillment": 5_600_000_000_000,
    "FulfillmentLineItem": 12_700_000_000_000,
    "FulfillmentEvent": 3_900_000_000_000,
    "Refund": 1_000_000_000_000,
    "RefundLineItem": 560_000_000_000,
}
SHOP_SLICE = 10_000_000_000


def gid(type_name: str, number: int) -> str:
    return f"{GID_PREFIX}{type_name}/{number}"


def legacy_id(gid_value: str) -> int:
    """The REST integer id of a gid (``gid://shopify/InventoryLevel/1?inventory_item_id=2`` → 1)."""
    return int(gid_value.rsplit("/", 1)[1].split("?", 1)[0])


def gid_type(gid_value: str) -> str:
    return gid_value[len(GID_PREFIX) :].split("/", 1)[0]


class IdAllocator:
    """Hands out increasing numeric ids per type, starting where a shop's slice of the type begins."""

    def __init__(self, shop_index: int, start: Mapping[str, int] | None = None) -> None:
        self._next = {name: base + shop_index * SHOP_SLICE + 1 for name, base in TYPE_BASES.items()}
        if start:
            for name, value in start.items():
                self._next[name] = max(self._next.get(name, 1), value)

    def take(self, type_name: str) -> int:
        number = self._next[type_name]
        self._next[type_name] = number + 1
        return number

    def gid(self, type_name: str) -> str:
        return gid(type_name, self.take(type_name))

    def snapshot(self) -> dict[str, int]:
        return dict(self._next)


MINOR_UNITS = {"JPY": 0, "USD": 2}


def money_amount(minor: int, currency: str) -> str:
    """A GraphQL ``Decimal`` amount as Shopify prints it: ``"4980.0"``, ``"19.99"``, ``"20.0"``."""
    digits = MINOR_UNITS.get(currency, 2)
    value = Decimal(minor).scaleb(-digits)
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def money(minor: int, currency: str) -> dict[str, Any]:
    return {"amount": money_amount(minor, currency), "currencyCode": currency}


def money_bag(minor: int, currency: str) -> dict[str, Any]:
    amount = money(minor, currency)
    return {"shopMoney": amount, "presentmentMoney": dict(amount)}


def minor_units(amount: str, currency: str) -> int:
    return int(Decimal(amount).scaleb(MINOR_UNITS.get(currency, 2)))
