"""Money, dates and times for the agent's locale in the shop's currency and time zone (Babel), and the
plain words for every status code the mirror stores, in English and Japanese."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shop_app.formats.display import (
    UiLocale,
    currency_amount,
    formatter,
    iso_utc,
    time_zone,
    ui_locale,
)
from shop_app.formats.order_words import (
    StockLevel,
    WordKind,
    describe,
    known_codes,
    normalise_code,
    stock_level,
)
from tests.conftest import REFERENCE

SCHEMA = REFERENCE / "admin-graphql-schema" / "admin-2026-07.graphql"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# 14:03 in Tokyo, 00:03 in New York (EST), 05:03 UTC
MOMENT = datetime(2026, 11, 20, 5, 3, 41, tzinfo=UTC)


def schema_enum(name: str) -> list[str]:
    text = SCHEMA.read_text(encoding="utf-8")
    found = re.search(r"^enum " + name + r" \{(.*?)^\}", text, re.MULTILINE | re.DOTALL)
    assert found is not None, name
    body = re.sub(r'""".*?"""', "", found[1], flags=re.DOTALL)
    return re.findall(r"^\s+([A-Z][A-Z_]+)\b", body, re.MULTILINE)


# Locales and time zones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ja", UiLocale.JA), ("ja-JP", UiLocale.JA), ("JA_jp", UiLocale.JA), ("en", UiLocale.EN),
     ("en-GB", UiLocale.EN), ("fr", UiLocale.EN), ("", UiLocale.EN), (None, UiLocale.EN)],
)  # fmt: skip
def test_only_english_and_japanese_are_ui_locales(raw: str | None, expected: UiLocale) -> None:
    assert ui_locale(raw) == expected


def test_an_unknown_or_missing_time_zone_is_utc() -> None:
    assert time_zone(None) is UTC
    assert time_zone("Mars/Olympus_Mons") is UTC
    assert time_zone("Asia/Tokyo").utcoffset(MOMENT) is not None


def test_times_are_iso_utc_to_the_second() -> None:
    assert iso_utc(MOMENT) == "2026-11-20T05:03:41Z"
    tokyo = MOMENT.astimezone(time_zone("Asia/Tokyo"))
    assert iso_utc(tokyo) == "2026-11-20T05:03:41Z"


def test_japanese_date_times_are_in_the_shops_time_zone() -> None:
    fmt = formatter("ja", "Asia/Tokyo", "JPY")

    assert fmt.moment_text(MOMENT) == "2026/11/20 14:03"
    assert fmt.day_text(datetime(2026, 11, 20, 16, 0, tzinfo=UTC)) == "2026/11/21"  # 01:00 next day in Tokyo


def test_english_date_times_are_in_the_shops_time_zone() -> None:
    fmt = formatter("en", "America/New_York", "USD")

    assert fmt.moment_text(MOMENT).replace("\u202f", " ") == "Nov 20, 2026, 12:03 AM"
    assert fmt.day_text(MOMENT) == "Nov 20, 2026"
    assert fmt.day_text(date(2026, 1, 2)) == "Jan 2, 2026"


def test_the_same_moment_reads_differently_per_time_zone() -> None:
    utc = formatter("en", None, "USD").moment_text(MOMENT)
    tokyo = formatter("en", "Asia/Tokyo", "USD").moment_text(MOMENT)

    assert "5:03" in utc
    assert "2:03" in tokyo and "PM" in tokyo


# Money ----------------------------------------------------------------------------------------------


def test_yen_has_no_decimals_in_either_locale() -> None:
    assert formatter("ja", "Asia/Tokyo", "JPY").money_text(Decimal("1234")) == "￥1,234"
    assert formatter("en", "Asia/Tokyo", "JPY").money_text(Decimal("1234")) == "¥1,234"
    assert formatter("ja", None, "JPY").money_text(Decimal("1234567.4")) == "￥1,234,567"


def test_dollars_have_cents_and_the_shops_currency_is_the_default() -> None:
    en = formatter("en", None, "USD")
    assert en.money_text(Decimal("19.9")) == "$19.90"
    assert en.money_text(Decimal("19.9"), "jpy") == "¥20"
    assert formatter("ja", None, "usd").money_text(Decimal("1234.5")) == "$1,234.50"


def test_a_shop_without_a_currency_shows_dollars() -> None:
    assert formatter("en", None, None).money_text(Decimal("5")) == "$5.00"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [("1234", "JPY", "1234"), ("1234.00", "JPY", "1234"), ("19.9", "USD", "19.90"), ("0", "USD", "0.00"),
     ("19.925", "USD", "19.925"), ("12.5", "JPY", "12.5")],
)  # fmt: skip
def test_amounts_carry_their_currencys_minor_digits_without_losing_any(
    amount: str, currency: str, expected: str
) -> None:
    assert currency_amount(Decimal(amount), currency) == expected


def test_amounts_that_are_not_numbers_are_not_money() -> None:
    fmt = formatter("en", None, "USD")
    assert fmt.parse_amount("abc") is None
    assert fmt.parse_amount("NaN") is None
    assert fmt.parse_amount(None) is None
    assert fmt.parse_amount("12.50") == Decimal("12.50")


# Plain words ----------------------------------------------------------------------------------------

FINANCIAL = ["PAID", "PENDING", "AUTHORIZED", "PARTIALLY_PAID", "REFUNDED", "PARTIALLY_REFUNDED", "VOIDED",
             "EXPIRED"]  # fmt: skip
FULFILLMENT = ["UNFULFILLED", "FULFILLED", "PARTIALLY_FULFILLED", "IN_PROGRESS", "ON_HOLD", "SCHEDULED",
               "RESTOCKED", "PENDING_FULFILLMENT", "OPEN", "REQUEST_DECLINED"]  # fmt: skip
SHIPMENT = ["LABEL_PRINTED", "LABEL_PURCHASED", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED", "ATTEMPTED_DELIVERY",
            "FAILURE", "DELAYED", "READY_FOR_PICKUP", "CONFIRMED", "CARRIER_PICKED_UP", "PICKED_UP", "CANCELED",
            "SUCCESS", "CANCELLED", "ERROR"]  # fmt: skip
ALL = (
    [(WordKind.FINANCIAL, code) for code in FINANCIAL]
    + [(WordKind.FULFILLMENT, code) for code in FULFILLMENT]
    + [(WordKind.SHIPMENT, code) for code in SHIPMENT]
    + [(WordKind.STOCK, level.value) for level in StockLevel]
    + [(WordKind.CANCEL_REASON, code) for code in schema_enum("OrderCancelReason")]
)


@pytest.mark.parametrize(("kind", "code"), ALL)
def test_every_status_has_its_own_words_in_english_and_japanese(kind: WordKind, code: str) -> None:
    english = describe(kind, code, locale="en")
    japanese = describe(kind, code, locale="ja")

    assert english.code == japanese.code == code
    assert code in known_codes(kind)
    assert english.text.isascii() and english.text[:1].isupper()
    assert JAPANESE.search(japanese.text), japanese.text  # the readable-code fallback has none
    assert english.text != japanese.text


@pytest.mark.parametrize(
    ("kind", "code", "english", "japanese"),
    [
        (WordKind.FINANCIAL, "PAID", "Paid", "支払い済み"),
        (WordKind.FINANCIAL, "PARTIALLY_REFUNDED", "Partially refunded", "一部返金済み"),
        (WordKind.FULFILLMENT, "UNFULFILLED", "Not shipped yet", "未発送"),
        (WordKind.FULFILLMENT, "PARTIALLY_FULFILLED", "Partly shipped", "一部発送済み"),
        (WordKind.SHIPMENT, "IN_TRANSIT", "On the way", "輸送中"),
        (WordKind.SHIPMENT, "OUT_FOR_DELIVERY", "Out for delivery", "配達中"),
        (WordKind.SHIPMENT, "DELIVERED", "Delivered", "配達完了"),
        (WordKind.STOCK, "BACKORDER", "Out of stock, can still be ordered", "在庫切れ（注文は可能）"),
    ],
)
def test_status_words_read_naturally(kind: WordKind, code: str, english: str, japanese: str) -> None:
    assert describe(kind, code, locale="en-US").text == english
    assert describe(kind, code, locale="ja-JP").text == japanese


@pytest.mark.parametrize(
    ("kind", "enum"),
    [
        (WordKind.FINANCIAL, "OrderDisplayFinancialStatus"),
        (WordKind.FULFILLMENT, "OrderDisplayFulfillmentStatus"),
        (WordKind.SHIPMENT, "FulfillmentDisplayStatus"),
        (WordKind.SHIPMENT, "FulfillmentEventStatus"),
        (WordKind.SHIPMENT, "FulfillmentStatus"),
        (WordKind.CANCEL_REASON, "OrderCancelReason"),
    ],
)
def test_every_value_of_the_2026_07_schema_enums_has_words(kind: WordKind, enum: str) -> None:
    values = schema_enum(enum)

    assert len(values) >= 5
    assert set(values) <= known_codes(kind), set(values) - known_codes(kind)


def test_rest_spellings_read_like_graphql_ones() -> None:
    assert normalise_code("partially_refunded") == "PARTIALLY_REFUNDED"
    assert describe(WordKind.FINANCIAL, "partially refunded", locale="en").text == "Partially refunded"
    assert describe(WordKind.SHIPMENT, "out-for-delivery", locale="ja").text == "配達中"


def test_an_unknown_code_reads_as_the_code_made_readable() -> None:
    english = describe(WordKind.SHIPMENT, "TELEPORTED_TO_MOON", locale="en")
    japanese = describe(WordKind.SHIPMENT, "TELEPORTED_TO_MOON", locale="ja")

    assert english.code == "TELEPORTED_TO_MOON"
    assert english.text == japanese.text == "Teleported to moon"


def test_a_missing_code_is_unknown() -> None:
    assert describe(WordKind.FINANCIAL, None, locale="en").text == "Unknown"
    assert describe(WordKind.FINANCIAL, "  ", locale="ja").text == "不明"
    assert describe(WordKind.FINANCIAL, None, locale="ja").code == "UNKNOWN"


@pytest.mark.parametrize(
    ("available", "policy", "level"),
    [
        (40, "DENY", StockLevel.IN_STOCK),
        (6, "DENY", StockLevel.IN_STOCK),
        (5, "DENY", StockLevel.LOW_STOCK),
        (1, "CONTINUE", StockLevel.LOW_STOCK),
        (0, "DENY", StockLevel.SOLD_OUT),
        (-3, None, StockLevel.SOLD_OUT),
        (0, "CONTINUE", StockLevel.BACKORDER),
        (-2, "continue", StockLevel.BACKORDER),
        (None, "DENY", StockLevel.UNKNOWN),
        (None, "CONTINUE", StockLevel.UNKNOWN),
    ],
)
def test_stock_levels_follow_the_units_available_and_the_inventory_policy(
    available: int | None, policy: str | None, level: StockLevel
) -> None:
    assert stock_level(available, policy=policy) == level
