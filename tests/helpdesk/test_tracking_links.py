"""Tracking links: Shopify's own URL is kept; Yamato, Sagawa and Japan Post numbers without one get a link
to the carrier's tracking page when the carrier is recognised and the number has its shape; nothing is
invented for any other carrier."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from shop_app.formats.tracking_links import (
    Carrier,
    carrier_name,
    carrier_url,
    clean_number,
    recognise_carrier,
    safe_url,
    tracking_url,
)


@pytest.mark.parametrize(
    ("company", "carrier"),
    [
        ("Yamato (JA)", Carrier.YAMATO),
        ("Yamato (EN)", Carrier.YAMATO),
        ("ヤマト運輸", Carrier.YAMATO),
        ("ヤマト運輸株式会社", Carrier.YAMATO),
        ("Yamato Transport", Carrier.YAMATO),
        ("クロネコヤマト", Carrier.YAMATO),
        ("宅急便", Carrier.YAMATO),
        ("ｸﾛﾈｺﾔﾏﾄ", Carrier.YAMATO),  # half-width katakana
        ("Sagawa (JA)", Carrier.SAGAWA),
        ("Sagawa (EN)", Carrier.SAGAWA),
        ("佐川急便", Carrier.SAGAWA),
        ("Sagawa Express", Carrier.SAGAWA),
        ("SAGAWA EXPRESS CO., LTD.", Carrier.SAGAWA),
        ("Japan Post (JA)", Carrier.JAPAN_POST),
        ("Japan Post (EN)", Carrier.JAPAN_POST),
        ("日本郵便", Carrier.JAPAN_POST),
        ("ゆうパック", Carrier.JAPAN_POST),
        ("ゆうパケット", Carrier.JAPAN_POST),
        ("JP Post", Carrier.JAPAN_POST),
        ("Yu-Pack", Carrier.JAPAN_POST),
    ],
)
def test_carriers_are_recognised_by_shopifys_names_and_japanese_spellings(
    company: str, carrier: Carrier
) -> None:
    assert recognise_carrier(company) is carrier


@pytest.mark.parametrize(
    "company", ["UPS", "FedEx", "DHL Express", "Seino", "西濃運輸", "福山通運", "Other", "", None]
)
def test_other_carriers_are_not_recognised(company: str | None) -> None:
    assert recognise_carrier(company) is None


def test_a_yamato_number_links_to_yamatos_tracking_page() -> None:
    url = tracking_url(company="ヤマト運輸", number="4444-1375-8703", given_url=None)

    assert url == "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=444413758703"


def test_a_sagawa_number_links_to_sagawas_tracking_page() -> None:
    url = tracking_url(company="Sagawa (JA)", number="512547514334", given_url=None)

    assert url == "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo=512547514334"


@pytest.mark.parametrize(("locale", "expected"), [("ja", "ja"), ("en", "en"), ("fr", "en")])
def test_a_japan_post_number_links_to_japan_posts_tracking_page_in_the_agents_language(
    locale: str, expected: str
) -> None:
    url = tracking_url(company="日本郵便", number="4055-4842-4886", given_url=None, locale=locale)

    assert url is not None
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "trackings.post.japanpost.jp")
    assert parts.path == "/services/srv/search/direct"
    assert parse_qs(parts.query) == {
        "searchKind": ["S002"],
        "locale": [expected],
        "reqCodeNo1": ["405548424886"],
    }


def test_international_japan_post_numbers_are_recognised() -> None:
    url = carrier_url(Carrier.JAPAN_POST, "EJ 123456785 JP")

    assert url is not None and url.endswith("reqCodeNo1=EJ123456785JP")


@pytest.mark.parametrize(
    "number", ["４４４４－１３７５－８７０３", "4444 1375 8703", "4444‐1375‐8703", " 444413758703 "]
)
def test_full_width_digits_spaces_and_dashes_are_cleaned(number: str) -> None:
    assert clean_number(number) == "444413758703"
    assert tracking_url(company="Yamato (JA)", number=number, given_url=None) == (
        "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=444413758703"
    )


@pytest.mark.parametrize(
    ("carrier", "number"),
    [
        (Carrier.YAMATO, "12345"),
        (Carrier.YAMATO, "1234567890123"),  # 13 digits
        (Carrier.YAMATO, "1Z999AA10123456784"),
        (Carrier.SAGAWA, "12345678901"),  # 11 digits
        (Carrier.SAGAWA, "ABCDEFGHIJKL"),
        (Carrier.JAPAN_POST, "1234567890"),  # 10 digits
        (Carrier.JAPAN_POST, "12345678901234"),  # 14 digits
        (Carrier.JAPAN_POST, "E123456785JP"),
    ],
)
def test_a_number_of_the_wrong_shape_gets_no_link(carrier: Carrier, number: str) -> None:
    assert carrier_url(carrier, number) is None


def test_a_url_shopify_gives_is_kept() -> None:
    given = "https://www.ups.com/track?tracknum=1Z999AA10123456784"

    assert tracking_url(company="UPS", number="1Z999AA10123456784", given_url=given) == given
    yamato_own = "https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number01=444413758703"
    assert tracking_url(company="Yamato (JA)", number="444413758703", given_url=yamato_own) == yamato_own


def test_an_unknown_carrier_without_a_url_gets_no_invented_link() -> None:
    assert tracking_url(company="西濃運輸", number="444413758703", given_url=None) is None
    assert tracking_url(company=None, number="444413758703", given_url=None) is None
    assert tracking_url(company="UPS", number="1Z999AA10123456784", given_url="") is None


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<script>x</script>", "//evil.example/x",
            "ftp://example.com/x", "https://", "http://[::1"],
)  # fmt: skip
def test_a_given_url_that_is_not_a_web_link_is_not_kept(url: str) -> None:
    assert safe_url(url) is None
    assert tracking_url(company="UPS", number="1Z999AA10123456784", given_url=url) is None


def test_a_given_url_that_is_not_a_web_link_is_replaced_for_a_known_carrier() -> None:
    assert tracking_url(company="佐川急便", number="5125-4751-4334", given_url="javascript:alert(1)") == (
        "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo=512547514334"
    )


@pytest.mark.parametrize(
    ("company", "japanese", "english"),
    [
        ("Yamato (JA)", "ヤマト運輸", "Yamato Transport"),
        ("クロネコヤマト", "ヤマト運輸", "Yamato Transport"),
        ("Sagawa (EN)", "佐川急便", "Sagawa Express"),
        ("Japan Post (JA)", "日本郵便", "Japan Post"),
        ("ゆうパケット", "日本郵便", "Japan Post"),
        ("西濃運輸", "西濃運輸", "Seino Transportation"),
        ("Fukuyama", "福山通運", "Fukuyama Transporting"),
        ("DHL Express", "DHL", "DHL"),
        ("Groups Courier (EN)", "Groups Courier", "Groups Courier"),
    ],
)
def test_each_carrier_is_named_in_the_readers_language(company: str, japanese: str, english: str) -> None:
    assert carrier_name(company, locale="ja") == japanese
    assert carrier_name(company, locale="en") == english
