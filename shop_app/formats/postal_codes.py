"""Postal codes as the app compares them and as people read them.

Compared: ``〒150-0001``, ``１５０ー０００１`` and ``1500001`` are one code, as are ``SW1A 1AA`` and
``sw1a1aa``. Full-width characters are read as their ASCII forms; spaces, hyphens of every kind, the
katakana long mark written as a hyphen and the postal mark are dropped; letters are upper case.

Shown: as the code's country writes it (``〒150-0001``, ``10001-1234``, ``SW1A 1AA``, ``K1A 0B1``). A code
whose shape its country does not use is shown as given, so nothing the shopper or Shopify wrote is lost;
formatting never changes which code it is (``postal_key`` of what is shown is the key of what was given).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_POSTAL_NOISE = re.compile(r"[\s\-‐‑–—−ー〒]+")
POSTAL_MARK = "〒"


def postal_key(code: str) -> str:
    return _POSTAL_NOISE.sub("", unicodedata.normalize("NFKC", code)).upper()


def _split(at: int, separator: str) -> Callable[[str], str]:
    return lambda key: key[:at] + separator + key[at:]


def _inward_last(key: str) -> str:
    # UK, Crown dependencies: the outward code, a space, the inward code (always three characters)
    return key[:-3] + " " + key[-3:]


_US_ZIP = re.compile(r"\d{5}(?:\d{4})?")
_UK = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}")
# country → (the key's shape there, how that country writes it)
_SHAPES: dict[str, tuple[re.Pattern[str], Callable[[str], str]]] = {
    "JP": (re.compile(r"\d{7}"), lambda key: f"{POSTAL_MARK}{key[:3]}-{key[3:]}"),
    "US": (_US_ZIP, lambda key: key if len(key) == 5 else f"{key[:5]}-{key[5:]}"),
    "PR": (_US_ZIP, lambda key: key if len(key) == 5 else f"{key[:5]}-{key[5:]}"),
    "CA": (re.compile(r"[A-Z]\d[A-Z]\d[A-Z]\d"), _split(3, " ")),
    "GB": (_UK, _inward_last),
    "IM": (_UK, _inward_last),
    "JE": (_UK, _inward_last),
    "GG": (_UK, _inward_last),
    "NL": (re.compile(r"\d{4}[A-Z]{2}"), _split(4, " ")),
    "BR": (re.compile(r"\d{8}"), _split(5, "-")),
    "PL": (re.compile(r"\d{5}"), _split(2, "-")),
    "SE": (re.compile(r"\d{5}"), _split(3, " ")),
    "CZ": (re.compile(r"\d{5}"), _split(3, " ")),
    "SK": (re.compile(r"\d{5}"), _split(3, " ")),
    "GR": (re.compile(r"\d{5}"), _split(3, " ")),
    "PT": (re.compile(r"\d{7}"), _split(4, "-")),
    "KR": (re.compile(r"\d{5}"), str),
    "TW": (re.compile(r"\d{3}(?:\d{2,3})?"), str),
    "CN": (re.compile(r"\d{6}"), str),
    "IN": (re.compile(r"\d{6}"), str),
    "DE": (re.compile(r"\d{5}"), str),
    "FR": (re.compile(r"\d{5}"), str),
    "IT": (re.compile(r"\d{5}"), str),
    "ES": (re.compile(r"\d{5}"), str),
    "AU": (re.compile(r"\d{4}"), str),
    "NZ": (re.compile(r"\d{4}"), str),
    "SG": (re.compile(r"\d{6}"), str),
}


def postcode_text(code: str | None, *, country_code: str | None) -> str | None:
    """The code as its country writes it (Japan: ``〒160-0023``); ``None`` when there is none."""
    if code is None:
        return None
    given = unicodedata.normalize("NFKC", code).strip()
    key = postal_key(code)
    if not key:
        return None
    shape = _SHAPES.get((country_code or "").strip().upper())
    if shape is not None and shape[0].fullmatch(key):
        return shape[1](key)
    if (country_code or "").strip().upper() == "JP":
        return given if given.startswith(POSTAL_MARK) else f"{POSTAL_MARK}{given}"
    return given
