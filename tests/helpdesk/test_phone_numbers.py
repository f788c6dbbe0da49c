"""Phone numbers in E.164: Japanese and American spellings, full-width digits, the shop's country as the
default region, and what the mirror keeps when a number cannot be read."""

from __future__ import annotations

import pytest

from shop_app.formats.phone_numbers import phone_spellings, stored_phone, to_e164


@pytest.mark.parametrize(
    "typed",
    [
        "090-1234-5678",
        "09012345678",
        "090 1234 5678",
        "(090) 1234-5678",
        "+81 90 1234 5678",
        "+81-90-1234-5678",
        "+819012345678",
        "０９０－１２３４－５６７８",
        "＋８１ ９０ １２３４ ５６７８",
        "  090-1234-5678\n",
    ],
)
def test_a_japanese_mobile_number_reads_the_same_however_it_is_written(typed: str) -> None:
    assert to_e164(typed, default_region="JP") == "+819012345678"


def test_a_tokyo_landline_and_an_american_number_read_in_their_own_countries() -> None:
    assert to_e164("03-1234-5678", default_region="JP") == "+81312345678"
    assert to_e164("(212) 555-1234", default_region="US") == "+12125551234"
    assert to_e164("212.555.1234", default_region="us") == "+12125551234"


def test_a_number_with_its_country_code_needs_no_region() -> None:
    assert to_e164("+81 90 1234 5678", default_region=None) == "+819012345678"
    assert to_e164("+1 212-555-1234", default_region="JP") == "+12125551234"


def test_the_default_region_decides_what_a_national_number_is() -> None:
    assert to_e164("090-1234-5678", default_region=None) is None
    assert to_e164("090-1234-5678", default_region="US") is None


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("", "JP"),
        ("   ", "JP"),
        ("12", "JP"),
        ("abc", "JP"),
        ("090-1234", "JP"),
        ("+81 90 1234 5678 9999 0000", "JP"),
        ("9" * 80, "JP"),
        ("090-1234-5678 or 5679", "JP"),
        ("555-625-1199", "US"),  # the 555 exchange is reserved for fiction
    ],
)
def test_what_is_not_a_valid_number_gives_none(typed: str, region: str) -> None:
    assert to_e164(typed, default_region=region) is None


def test_the_mirror_keeps_e164_as_it_is_and_reads_the_rest_or_keeps_it_as_given() -> None:
    assert stored_phone("+819012345678", default_region=None) == "+819012345678"
    assert stored_phone("+81 90-1234-5678", default_region=None) == "+819012345678"
    assert stored_phone("090-1234-5678", default_region="JP") == "+819012345678"
    assert stored_phone(" 090-1234-5678 ", default_region=None) == "090-1234-5678"
    assert stored_phone("555-625-1199", default_region="US") == "555-625-1199"
    assert stored_phone("", default_region="JP") is None
    assert stored_phone(None, default_region="JP") is None


def test_a_number_is_spelled_in_e164_national_and_international_forms() -> None:
    assert phone_spellings("+819012345678") == ("+819012345678", "090-1234-5678", "+81 90-1234-5678")
    assert phone_spellings("+12125551234") == ("+12125551234", "(212) 555-1234", "+1 212-555-1234")
