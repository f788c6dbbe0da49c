"""The default shops: a Japanese D2C apparel and cosmetics brand and an English-language one."""

from __future__ import annotations

from dataclasses import dataclass, replace

from devstore.config import HINODE_SHOP, NORTHWIND_SHOP


@dataclass(frozen=True, slots=True)
class LocationSpec:
    name: str
    address1: str
    city: str
    province: str
    province_code: str
    zip: str
    phone: str
    fulfills_online_orders: bool


@dataclass(frozen=True, slots=True)
class ShopProfile:
    domain: str
    name: str
    email: str
    owner: str
    currency: str
    timezone: str
    timezone_abbreviation: str
    country_code: str
    country: str
    locale: str
    japanese: bool
    plan: str
    locations: tuple[LocationSpec, ...]


HINODE = ShopProfile(
    domain=HINODE_SHOP,
    name="日の出アパレル Hinode Apparel",
    email="support@hinode-apparel.example.jp",
    owner="山田 花子",
    currency="JPY",
    timezone="Asia/Tokyo",
    timezone_abbreviation="JST",
    country_code="JP",
    country="Japan",
    locale="ja",
    japanese=True,
    plan="Basic",
    locations=(
        LocationSpec("東京倉庫", "東雲2-9-13", "江東区", "Tōkyō", "JP-13", "135-0062", "03-5500-1234", True),
        LocationSpec(
            "大阪倉庫", "南港北1-2-3", "大阪市住之江区", "Ōsaka", "JP-27", "559-0034", "06-6612-3456", True
        ),
        LocationSpec("渋谷店", "神宮前6-1-1", "渋谷区", "Tōkyō", "JP-13", "150-0001", "03-6450-7788", False),
    ),
)

NORTHWIND = ShopProfile(
    domain=NORTHWIND_SHOP,
    name="Northwind Goods",
    email="help@northwind-goods.example.com",
    owner="Jordan Ellis",
    currency="USD",
    timezone="America/New_York",
    timezone_abbreviation="EST",
    country_code="US",
    country="United States",
    locale="en",
    japanese=False,
    plan="Advanced",
    locations=(
        LocationSpec(
            "Secaucus Warehouse",
            "400 Plaza Dr",
            "Secaucus",
            "New Jersey",
            "NJ",
            "07094",
            "+1 201-555-0140",
            True,
        ),
        LocationSpec(
            "Reno Fulfillment Center",
            "1550 Lear Blvd",
            "Reno",
            "Nevada",
            "NV",
            "89502",
            "+1 775-555-0190",
            True,
        ),
        LocationSpec(
            "Brooklyn Store",
            "210 Bedford Ave",
            "Brooklyn",
            "New York",
            "NY",
            "11249",
            "+1 718-555-0123",
            False,
        ),
    ),
)

DEFAULT_PROFILES = (HINODE, NORTHWIND)


def profile_for(shop: str, index: int = 0) -> ShopProfile:
    """The profile of a default shop; any other shop reuses a default profile under its own domain."""
    for profile in DEFAULT_PROFILES:
        if profile.domain == shop:
            return profile
    base = DEFAULT_PROFILES[index % len(DEFAULT_PROFILES)]
    handle = shop.split(".", 1)[0]
    return replace(
        base, domain=shop, name=handle.replace("-", " ").title(), email=f"owner@{handle}.example.com"
    )
