from __future__ import annotations

import pytest

from integrations.shopify.errors import InvalidShopDomain
from integrations.shopify.shop_domains import is_valid_shop_domain, normalise_shop_domain
from tests.factories import BAD_SHOP_DOMAINS


@pytest.mark.parametrize("raw", BAD_SHOP_DOMAINS)
def test_a_domain_that_is_not_a_myshopify_shop_is_rejected(raw: str | None) -> None:
    with pytest.raises(InvalidShopDomain):
        normalise_shop_domain(raw)
    assert not is_valid_shop_domain(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Some-Shop.myshopify.com", "some-shop.myshopify.com"),
        ("SHOP.MYSHOPIFY.COM", "shop.myshopify.com"),
        ("shop-1.myshopify.com", "shop-1.myshopify.com"),
        ("0shop.myshopify.com", "0shop.myshopify.com"),
    ],
)
def test_a_myshopify_domain_is_lowercased(raw: str, expected: str) -> None:
    assert normalise_shop_domain(raw) == expected
    assert is_valid_shop_domain(raw)


def test_an_overlong_domain_is_rejected() -> None:
    with pytest.raises(InvalidShopDomain):
        normalise_shop_domain("a" * 250 + ".myshopify.com")
