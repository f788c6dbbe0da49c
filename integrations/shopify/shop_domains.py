from __future__ import annotations

import re

from integrations.shopify.errors import InvalidShopDomain

SHOP_DOMAIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
MAX_SHOP_DOMAIN_LENGTH = 255


def normalise_shop_domain(raw: str | None) -> str:
    """The shop's ``*.myshopify.com`` domain, lowercased; anything else raises before any request.

    Only ASCII letters, digits and hyphens pass, so look-alike unicode, paths, ports, userinfo and
    suffix tricks such as ``shop.myshopify.com.evil.com`` are all refused.
    """
    if not raw or len(raw) > MAX_SHOP_DOMAIN_LENGTH or not raw.isascii():
        raise InvalidShopDomain("Not a myshopify.com shop domain")
    candidate = raw.lower()
    if SHOP_DOMAIN_PATTERN.fullmatch(candidate) is None:
        raise InvalidShopDomain("Not a myshopify.com shop domain")
    return candidate


def is_valid_shop_domain(raw: str | None) -> bool:
    try:
        normalise_shop_domain(raw)
    except InvalidShopDomain:
        return False
    return True
