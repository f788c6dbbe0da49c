"""People's names and shipping addresses as the shop writes them: Japanese names family name first, and
addresses in the order written on a parcel (Japanese ones postcode first, others country last), postcodes
as their country writes them (``〒160-0023``, ``10001-1234``, ``SW1A 1AA``)."""

from __future__ import annotations

import re
from typing import Any

from shop_app.formats.postal_codes import postcode_text
from shop_app.schemas.profiles import ShippingAddress

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def person_name(first: str | None, last: str | None) -> str | None:
    """Japanese names family name first (``山田 花子``), others given name first (``Jane Doe``)."""
    first, last = (first or "").strip(), (last or "").strip()
    if not first and not last:
        return None
    parts = [last, first] if _CJK.search(first + last) else [first, last]
    return " ".join(part for part in parts if part)


def address_lines(address: dict[str, Any] | None) -> ShippingAddress | None:
    """As written on a parcel: Japanese addresses postcode first and prefecture to building, others
    street first and country last."""
    if not address:
        return None

    def field(name: str) -> str:
        return str(address.get(name) or "").strip()

    country = field("country_code").upper()
    postcode = postcode_text(field("zip"), country_code=country) or ""
    # from its parts when Shopify sent them (one name order everywhere); else as Shopify wrote it
    name = person_name(field("first_name"), field("last_name")) or field("name")
    if country == "JP":
        lines = [
            postcode,
            field("province") + field("city") + field("address1"),
            field("address2"),
            field("company"),
            name,
        ]
    else:
        region = " ".join(part for part in (field("province_code") or field("province"), postcode) if part)
        lines = [
            name,
            field("company"),
            field("address1"),
            field("address2"),
            ", ".join(part for part in (field("city"), region) if part),
            field("country"),
        ]
    kept = [line for line in lines if line]
    return ShippingAddress(lines=kept) if kept else None
