"""Shoppers: names, emails, phone numbers and addresses, Japanese and American."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devstore.generator.ids import money
from devstore.generator.vocabulary import (
    JA_EMAIL_DOMAINS,
    JA_GIVEN,
    JA_MOBILE_PREFIXES,
    JA_PLACES,
    JA_SURNAMES,
    US_EMAIL_DOMAINS,
    US_FIRST,
    US_LAST,
    US_PLACES,
    US_STREETS,
)
from devstore.state import isoformat_z

_JAPANESE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def display_name(first_name: str | None, last_name: str | None) -> str:
    """As Shopify's admin shows a customer: a name in Japanese script family name first (井上 恵), others
    given name first (Jane Doe)."""
    first, last = (first_name or "").strip(), (last_name or "").strip()
    parts = (last, first) if _JAPANESE_SCRIPT.search(first + last) else (first, last)
    return " ".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    last_name: str
    email: str | None
    phone_e164: str | None
    address_phone: str | None
    address: dict[str, Any]
    locale: str
    japanese: bool

    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name)


def person(seed: int, shop_index: int, index: int, *, japanese_shop: bool) -> Person:
    """The shopper number ``index`` of a shop, the same for the same seed wherever it is asked for."""
    rng = random.Random(seed * 1_000_003 + shop_index * 7_919 + index * 104_729)
    japanese = rng.random() < (0.92 if japanese_shop else 0.06)
    return _japanese(rng, index) if japanese else _american(rng, index)


def _japanese(rng: random.Random, index: int) -> Person:
    surname, surname_title = rng.choice(JA_SURNAMES)
    surname_roman = surname_title.lower()
    given, given_roman = rng.choice(JA_GIVEN)
    prefecture, province_code, city, town, postal = rng.choice(JA_PLACES)
    mobile = f"{rng.choice(JA_MOBILE_PREFIXES)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    shape = rng.random()
    # How shoppers type postal codes: 150-0001, 1500001, 〒150-0001
    zip_code = postal if shape < 0.75 else postal.replace("-", "") if shape < 0.9 else f"〒{postal}"
    email = None if rng.random() < 0.03 else _email(rng, given_roman, surname_roman, index, JA_EMAIL_DOMAINS)
    has_phone = rng.random() < 0.8
    address = {
        "firstName": given,
        "lastName": surname,
        "name": f"{surname} {given}",
        "company": None,
        "address1": f"{town}{rng.randint(1, 6)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}",
        "address2": rng.choice(
            (None, None, f"{rng.choice(('メゾン', 'コーポ', 'ハイツ'))}{rng.randint(101, 905)}号室")
        ),
        "city": city,
        "province": prefecture,
        "provinceCode": province_code,
        "zip": zip_code,
        "country": "Japan",
        "countryCodeV2": "JP",
        "phone": mobile if rng.random() < 0.9 else None,
    }
    return Person(
        first_name=given,
        last_name=surname,
        email=email
        if email or has_phone
        else _email(rng, given_roman, surname_roman, index, JA_EMAIL_DOMAINS),
        phone_e164="+81" + mobile.replace("-", "")[1:] if has_phone else None,
        address_phone=address["phone"],
        address=address,
        locale="ja",
        japanese=True,
    )


def _american(rng: random.Random, index: int) -> Person:
    first = rng.choice(US_FIRST)
    last = rng.choice(US_LAST)
    state, state_code, city, zip_code, area = rng.choice(US_PLACES)
    line = f"{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    phone_shape = rng.random()
    # How shoppers type US numbers: (212) 555-1234, +1 212-555-1234, 212.555.1234
    address_phone = (
        f"({area}) {line}"
        if phone_shape < 0.5
        else f"+1 {area}-{line}"
        if phone_shape < 0.8
        else f"{area}.{line.replace('-', '.')}"
    )
    has_phone = rng.random() < 0.7
    address = {
        "firstName": first,
        "lastName": last,
        "name": f"{first} {last}",
        "company": rng.choice((None, None, None, "Acme Corp")),
        "address1": f"{rng.randint(10, 9999)} {rng.choice(US_STREETS)}",
        "address2": rng.choice((None, None, f"Apt {rng.randint(1, 40)}{rng.choice('ABCD')}")),
        "city": city,
        "province": state,
        "provinceCode": state_code,
        "zip": zip_code,
        "country": "United States",
        "countryCodeV2": "US",
        "phone": address_phone if rng.random() < 0.85 else None,
    }
    return Person(
        first_name=first,
        last_name=last,
        email=_email(rng, first.lower(), last.lower().replace("'", ""), index, US_EMAIL_DOMAINS),
        phone_e164=f"+1{area}{line.replace('-', '')}" if has_phone else None,
        address_phone=address["phone"],
        address=address,
        locale="en",
        japanese=False,
    )


def _email(rng: random.Random, given: str, surname: str, index: int, domains: tuple[str, ...]) -> str:
    shape = rng.randrange(4)
    local = (
        f"{given}.{surname}{index}"
        if shape == 0
        else f"{given[0]}{surname}{index}"
        if shape == 1
        else f"{surname}_{given}{index % 1000}_{index}"
        if shape == 2
        else f"{given}{index}"
    )
    return f"{local}@{rng.choice(domains)}"


def customer_doc(
    customer_gid: str,
    someone: Person,
    *,
    currency: str,
    created_at: datetime,
    updated_at: datetime,
    orders: int,
    spent_minor: int,
    last_order: str | None,
) -> dict[str, Any]:
    number = customer_gid.rsplit("/", 1)[1]
    address = {"id": f"gid://shopify/MailingAddress/{number}?model_name=CustomerAddress", **someone.address}
    tags = ["リピーター"] if someone.japanese and orders >= 3 else ["vip"] if orders >= 5 else []
    return {
        "id": customer_gid,
        "legacyResourceId": number,
        "firstName": someone.first_name,
        "lastName": someone.last_name,
        "displayName": someone.display_name,
        "defaultEmailAddress": {"emailAddress": someone.email, "marketingState": "NOT_SUBSCRIBED"}
        if someone.email
        else None,
        "defaultPhoneNumber": {"phoneNumber": someone.phone_e164, "marketingState": "NOT_SUBSCRIBED"}
        if someone.phone_e164
        else None,
        "locale": someone.locale,
        "state": "ENABLED" if orders else "DISABLED",
        "verifiedEmail": someone.email is not None,
        "taxExempt": False,
        "tags": tags,
        "note": None,
        "numberOfOrders": str(orders),
        "amountSpent": money(spent_minor, currency),
        "lastOrder": last_order,
        "createdAt": isoformat_z(created_at),
        "updatedAt": isoformat_z(updated_at),
        "defaultAddress": address,
        "addresses": [address],
    }
