"""Tracking links for the Japanese carriers whose numbers Shopify often stores without one.

Shopify builds a tracking URL itself only for the company names of its list (``Yamato (JA)``,
``Sagawa (EN)``, ``Japan Post (JA)`` …); order-management systems in Japan write the carrier as free
text (``ヤマト運輸``, ``佐川急便``, ``ゆうパック``) and leave the URL empty. For Yamato Transport, Sagawa
Express and Japan Post a link to the carrier's public tracking page is built when the number has that
carrier's shape. A URL Shopify gives is kept (when it is http or https); an unknown carrier or a number of
the wrong shape gets no link rather than a guessed one.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from urllib.parse import quote, urlsplit

from shop_app.formats.display import UiLocale, ui_locale


class Carrier(StrEnum):
    YAMATO = "yamato"
    SAGAWA = "sagawa"
    JAPAN_POST = "japan_post"


# Substrings of a company name after NFKC, case folding and removing spaces, dots and hyphens.
_CARRIER_NAMES: tuple[tuple[Carrier, tuple[str, ...]], ...] = (
    (Carrier.YAMATO, ("yamato", "kuroneko", "ヤマト", "クロネコ", "宅急便", "ネコポス")),
    (Carrier.SAGAWA, ("sagawa", "佐川", "飛脚")),
    (
        Carrier.JAPAN_POST,
        (
            "japanpost",
            "jppost",
            "yupack",
            "yupacket",
            "日本郵便",
            "日本郵政",
            "ゆうパック",
            "ゆうパケット",
            "ゆうメール",
            "レターパック",
            "郵便局",
        ),
    ),
)
_NAME_NOISE = re.compile(r"[\s.\-_・()]+")
_NUMBER_NOISE = re.compile(r"[\s\-‐‑‒–—―−ー]+")

_DOMESTIC_12 = re.compile(r"\d{12}")
_JAPAN_POST_DOMESTIC = re.compile(r"\d{11,13}")
_UPU_S10 = re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}")  # international mail, e.g. EJ123456785JP

_URL_TEMPLATES = {
    Carrier.YAMATO: "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={number}",
    Carrier.SAGAWA: "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={number}",
    Carrier.JAPAN_POST: (
        "https://trackings.post.japanpost.jp/services/srv/search/direct"
        "?searchKind=S002&locale={locale}&reqCodeNo1={number}"
    ),
}


def recognise_carrier(company: str | None) -> Carrier | None:
    if not company:
        return None
    name = _NAME_NOISE.sub("", unicodedata.normalize("NFKC", company).casefold())
    for carrier, needles in _CARRIER_NAMES:
        if any(needle in name for needle in needles):
            return carrier
    return None


# Each carrier's own name, (English, Japanese), as the carrier writes it.
_CARRIER_WORDS: dict[Carrier, tuple[str, str]] = {
    Carrier.YAMATO: ("Yamato Transport", "ヤマト運輸"),
    Carrier.SAGAWA: ("Sagawa Express", "佐川急便"),
    Carrier.JAPAN_POST: ("Japan Post", "日本郵便"),
}
# Other carriers Japanese shops hand parcels to, named only (no link is built for them).
_OTHER_CARRIER_WORDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("seino", "西濃", "カンガルー便"), "Seino Transportation", "西濃運輸"),
    (("fukuyama", "福山通運"), "Fukuyama Transporting", "福山通運"),
    (("nipponexpress", "nittsu", "日本通運", "日通"), "Nippon Express", "日本通運"),
    (("dhl",), "DHL", "DHL"),
    (("fedex",), "FedEx", "FedEx"),
    (("usps",), "USPS", "USPS"),
    (("ups",), "UPS", "UPS"),
)
# Shopify's company names carry the language of the carrier's tracking page: "Yamato (JA)".
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_PAGE_LANGUAGE = re.compile(r"\s*[(（]\s*(?:ja|en|jp)\s*[)）]\s*$", re.IGNORECASE)


def carrier_name(company: str | None, *, locale: str | UiLocale = UiLocale.JA) -> str | None:
    """The carrier's own name in the reader's language (``Yamato (JA)`` or ``クロネコヤマト`` →
    ヤマト運輸 / Yamato Transport); another company as written, without Shopify's page-language suffix."""
    if not company or not company.strip():
        return None
    japanese = ui_locale(locale) == UiLocale.JA
    carrier = recognise_carrier(company)
    if carrier is not None:
        english, native = _CARRIER_WORDS[carrier]
        return native if japanese else english
    folded = unicodedata.normalize("NFKC", company).casefold()
    name, words = _NAME_NOISE.sub("", folded), set(_ASCII_WORD.findall(folded))
    for needles, english, native in _OTHER_CARRIER_WORDS:
        # a short Latin name (UPS, DHL) only as a word of its own: "Groups" is no carrier
        if any(
            needle in words if needle.isascii() and len(needle) <= 4 else needle in name for needle in needles
        ):
            return native if japanese else english
    return _PAGE_LANGUAGE.sub("", company.strip()) or company.strip()


def clean_number(number: str) -> str:
    """Full-width digits, spaces and hyphens (``4444-1375-8703``) as the carrier's form wants them."""
    return _NUMBER_NOISE.sub("", unicodedata.normalize("NFKC", number)).upper()


def number_fits(carrier: Carrier, number: str) -> bool:
    cleaned = clean_number(number)
    if carrier is Carrier.JAPAN_POST:
        return bool(_JAPAN_POST_DOMESTIC.fullmatch(cleaned) or _UPU_S10.fullmatch(cleaned))
    return bool(_DOMESTIC_12.fullmatch(cleaned))


def carrier_url(carrier: Carrier, number: str, *, locale: str | UiLocale = UiLocale.JA) -> str | None:
    """The carrier's public tracking page for the number; None when the number has another shape."""
    if not number_fits(carrier, number):
        return None
    return _URL_TEMPLATES[carrier].format(
        number=quote(clean_number(number), safe=""), locale=ui_locale(locale).value
    )


def safe_url(url: str | None) -> str | None:
    """A link an agent may click: http or https with a host; anything else (``javascript:`` …) is None."""
    if not url:
        return None
    stripped = url.strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return stripped


def tracking_url(
    *, company: str | None, number: str, given_url: str | None, locale: str | UiLocale = UiLocale.JA
) -> str | None:
    """Shopify's URL when it gave one, else a built link for a recognised carrier, else None."""
    kept = safe_url(given_url)
    if kept is not None:
        return kept
    carrier = recognise_carrier(company)
    return None if carrier is None else carrier_url(carrier, number, locale=locale)
