"""The shop's own settings (name, country, currency, IANA time zone, primary locale), read strictly from
the ``shop_details.graphql`` answer or from a ``shop/update`` webhook body (the REST shop resource).

A field that is absent, null or not in the expected shape (a country that is not two letters, a time zone
``zoneinfo`` does not know) becomes ``None``: unknown, keep what is stored. A field of the wrong JSON type
raises (``MalformedNode`` / ``MalformedPayload``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrations.shopify.graphql_resources import MalformedNode, id_from_gid
from integrations.shopify.webhook_payloads import MalformedPayload

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_NAME_CHARS = 255
MAX_TIMEZONE_CHARS = 64
MAX_LOCALE_CHARS = 20


@dataclass(frozen=True, slots=True)
class ShopDetails:
    shopify_id: int | None = None
    name: str | None = None
    country_code: str | None = None
    currency_code: str | None = None
    iana_timezone: str | None = None
    primary_locale: str | None = None


def parse_shop_details(data: Mapping[str, Any]) -> ShopDetails:
    """The ``data`` of a ``ShopDetails`` query."""
    shop = data.get("shop")
    if not isinstance(shop, Mapping):
        raise MalformedNode("shop must be an object")
    address = shop.get("shopAddress")
    if address is not None and not isinstance(address, Mapping):
        raise MalformedNode("shopAddress must be an object")
    locales = data.get("shopLocales")
    if locales is not None and not isinstance(locales, list):
        raise MalformedNode("shopLocales must be a list")
    primary = [
        entry.get("locale") for entry in locales or () if isinstance(entry, Mapping) and entry.get("primary")
    ]
    try:
        return ShopDetails(
            shopify_id=id_from_gid(shop["id"]) if shop.get("id") is not None else None,
            name=_name(_text(shop, "name")),
            country_code=_matching(_text(address or {}, "countryCodeV2"), COUNTRY_CODE),
            currency_code=_matching(_text(shop, "currencyCode"), CURRENCY_CODE),
            iana_timezone=_timezone(_text(shop, "ianaTimezone")),
            primary_locale=_locale(primary[0] if primary and isinstance(primary[0], str) else None),
        )
    except _WrongType as error:
        raise MalformedNode(str(error)) from None


def parse_shop_update(payload: Mapping[str, Any]) -> ShopDetails:
    """A ``shop/update`` body: the REST shop resource."""
    plain_id = payload.get("id")
    if plain_id is not None and type(plain_id) is not int:
        raise MalformedPayload("id must be an integer")
    try:
        return ShopDetails(
            shopify_id=plain_id,
            name=_name(_text(payload, "name")),
            country_code=_matching(_text(payload, "country_code"), COUNTRY_CODE),
            currency_code=_matching(_text(payload, "currency"), CURRENCY_CODE),
            iana_timezone=_timezone(_text(payload, "iana_timezone")),
            primary_locale=_locale(_text(payload, "primary_locale")),
        )
    except _WrongType as error:
        raise MalformedPayload(str(error)) from None


class _WrongType(ValueError):
    pass


def _text(source: Mapping[str, Any], key: str) -> str | None:
    value = source.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _WrongType(f"{key} must be a string")
    return value.strip() or None


def _name(value: str | None) -> str | None:
    return value[:MAX_NAME_CHARS] if value else None


def _matching(value: str | None, pattern: re.Pattern[str]) -> str | None:
    return value if value is not None and pattern.match(value) else None


def _timezone(value: str | None) -> str | None:
    if value is None or len(value) > MAX_TIMEZONE_CHARS:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return value


def _locale(value: str | None) -> str | None:
    if value is None or len(value) > MAX_LOCALE_CHARS or not LOCALE.match(value):
        return None
    return value
