"""Postcodes as their country writes them and phones as a person in the shop's country reads them: the
formatting never changes which code or number it is, and input a stranger typed never breaks it."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_app.formats.names_and_addresses import address_lines
from shop_app.formats.phone_numbers import phone_text, to_e164
from shop_app.formats.postal_codes import postal_key, postcode_text

COUNTRIES = ("JP", "US", "CA", "GB", "NL", "BR", "PL", "DE", "FR", "AU", "KR", "XX", "", None)


@pytest.mark.parametrize(
    ("typed", "country", "shown"),
    [
        ("1600023", "JP", "〒160-0023"),
        ("160-0023", "JP", "〒160-0023"),
        ("〒160-0023", "JP", "〒160-0023"),
        ("１６０ー００２３", "JP", "〒160-0023"),
        ("160 0023", "jp", "〒160-0023"),
        ("10001", "US", "10001"),
        ("100011234", "US", "10001-1234"),
        ("10001-1234", "US", "10001-1234"),
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("SW1A 1AA", "GB", "SW1A 1AA"),
        ("m11ae", "GB", "M1 1AE"),
        ("k1a0b1", "CA", "K1A 0B1"),
        ("1234ab", "NL", "1234 AB"),
        ("01310100", "BR", "01310-100"),
        ("00950", "PL", "00-950"),
        ("10115", "DE", "10115"),
        ("2000", "AU", "2000"),
    ],
)
def test_a_postcode_reads_as_its_country_writes_it(typed: str, country: str, shown: str) -> None:
    assert postcode_text(typed, country_code=country) == shown


@pytest.mark.parametrize(
    ("typed", "country", "shown"),
    [
        ("12345", "JP", "〒12345"),  # not a Japanese shape: as given, still marked as a postcode
        ("1234", "US", "1234"),
        ("ABC", "GB", "ABC"),
        (" 75008 ", "ZZ", "75008"),
        ("  ", "JP", None),
        ("", "US", None),
        (None, "JP", None),
    ],
)
def test_a_postcode_of_another_shape_is_shown_as_given(
    typed: str | None, country: str, shown: str | None
) -> None:
    assert postcode_text(typed, country_code=country) == shown


@given(code=st.text(max_size=40), country=st.sampled_from(COUNTRIES))
def test_showing_a_postcode_never_changes_which_code_it_is(code: str, country: str | None) -> None:
    shown = postcode_text(code, country_code=country)
    if shown is None:
        assert postal_key(code) == ""
    else:
        assert postal_key(shown) == postal_key(code)


@given(digits=st.from_regex(r"[0-9０-９]{3}[-‐ー－ ]?[0-9０-９]{4}", fullmatch=True))
def test_every_japanese_postcode_is_shown_with_the_postal_mark_and_one_hyphen(digits: str) -> None:
    shown = postcode_text(digits, country_code="JP")
    assert shown is not None and re.fullmatch(r"〒\d{3}-\d{4}", shown)


def test_addresses_show_their_postcodes_as_their_country_writes_them() -> None:
    tokyo = address_lines(
        {"zip": "1600023", "province": "東京都", "city": "新宿区", "address1": "西新宿1-1-1",
         "name": "井上 恵", "country_code": "JP"}
    )  # fmt: skip
    new_york = address_lines(
        {"name": "Jane Doe", "address1": "1 Main St", "city": "New York", "province_code": "NY",
         "zip": "100011234", "country": "United States", "country_code": "US"}
    )  # fmt: skip
    london = address_lines(
        {"name": "Jane Doe", "address1": "10 Downing St", "city": "London", "zip": "sw1a2aa",
         "country": "United Kingdom", "country_code": "GB"}
    )  # fmt: skip

    assert tokyo is not None and tokyo.lines == ["〒160-0023", "東京都新宿区西新宿1-1-1", "井上 恵"]
    assert new_york is not None and new_york.lines[-2:] == ["New York, NY 10001-1234", "United States"]
    assert london is not None and london.lines[-2:] == ["London, SW1A 2AA", "United Kingdom"]


# Phones ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "shop_region", "shown"),
    [
        ("+819012345678", "JP", "090-1234-5678"),
        ("+81312345678", "JP", "03-1234-5678"),
        ("09012345678", "JP", "090-1234-5678"),
        ("+12125551234", "JP", "+1 212-555-1234"),
        ("+12125551234", "US", "(212) 555-1234"),
        ("+819012345678", "US", "+81 90-1234-5678"),
        ("+447911123456", "GB", "07911 123456"),
        ("+819012345678", None, "+81 90-1234-5678"),
        ("not a phone", "JP", "not a phone"),  # kept as given: nothing Shopify sent is lost
        ("12345", "JP", "12345"),
        ("", "JP", None),
        (None, "JP", None),
    ],
)
def test_a_phone_is_national_in_the_shops_country_and_international_elsewhere(
    stored: str | None, shop_region: str | None, shown: str | None
) -> None:
    assert phone_text(stored, shop_region=shop_region) == shown


REGIONS = ("JP", "US", "GB", "CA", "AU", "DE", "FR", "KR", "BR")


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(
        region,
        draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])),
    )
    assert example is not None
    national = str(example.national_number)
    # vary the last digits of the country's example number, keeping those that stay valid
    tail = draw(st.text(alphabet="0123456789", min_size=2, max_size=2))
    example.national_number = int(national[:-2] + tail)
    number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(example):
        return phonenumbers.format_number(
            phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
            or phonenumbers.example_number(region),
            phonenumbers.PhoneNumberFormat.E164,
        )
    return number


@given(number=valid_numbers(), shop_region=st.sampled_from(REGIONS))
def test_a_shown_phone_reads_back_as_the_same_number_in_the_shops_country(
    number: str, shop_region: str
) -> None:
    shown = phone_text(number, shop_region=shop_region)
    assert shown is not None
    assert to_e164(shown, default_region=shop_region) == number
    home = phonenumbers.country_code_for_region(shop_region)
    assert shown.startswith("+") == (phonenumbers.parse(number).country_code != home)


@given(typed=st.text(max_size=80), shop_region=st.sampled_from((*REGIONS, "zz", "", None)))
def test_any_typed_text_is_shown_without_error(typed: str, shop_region: str | None) -> None:
    shown = phone_text(typed, shop_region=shop_region)
    assert shown is None or shown.strip() == shown
    assert (shown is None) == (not typed.strip())


def test_the_name_on_an_address_follows_one_order_from_its_parts() -> None:
    # Shopify's name on an address is its first and last name in that order: "恵 井上"
    japanese = {
        "name": "恵 井上",
        "first_name": "恵",
        "last_name": "井上",
        "zip": "1600023",
        "province": "東京都",
        "city": "新宿区",
        "address1": "西新宿1-1-1",
        "country_code": "JP",
    }
    american = {
        **japanese,
        "name": "Jane Doe",
        "first_name": "Jane",
        "last_name": "Doe",
        "country_code": "US",
    }
    only_name = {key: value for key, value in japanese.items() if key not in ("first_name", "last_name")}

    shown = address_lines(japanese)
    assert shown is not None and shown.lines[-1] == "井上 恵"
    assert (address_lines(american) or shown).lines[0] == "Jane Doe"
    assert (address_lines(only_name) or shown).lines[-1] == "恵 井上"  # older rows: as Shopify wrote it
