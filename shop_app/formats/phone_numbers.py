"""Phone numbers in one spelling, E.164 (``+819012345678``), read with Google's libphonenumber port.

A number written without a country code is read in the shop's country (``default_region``), so
``090-1234-5678`` in a Japanese shop and ``+81 90 1234 5678`` anywhere are the same number. Full-width
digits and punctuation are read as their ASCII forms.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# Longer input is not a phone number: refuse it before the parser spends time on it.
MAX_PHONE_INPUT_CHARS = 64
E164_SHAPE = re.compile(r"\+[1-9][0-9]{6,14}")


def to_e164(raw: str, *, default_region: str | None) -> str | None:
    """The number in E.164, or ``None`` when it is not a valid number (in ``default_region`` when it
    has no country code)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or len(text) > MAX_PHONE_INPUT_CHARS:
        return None
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def stored_phone(raw: str | None, *, default_region: str | None) -> str | None:
    """How the mirror keeps a phone from Shopify: E.164 when it can be read, else as given (trimmed), so
    nothing Shopify sent is lost. Shopify's own E.164 values pass without the parser's cost."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if E164_SHAPE.fullmatch(text):
        return text
    return to_e164(text, default_region=default_region) or text


def phone_spellings(e164: str) -> tuple[str, ...]:
    """Ways people write this number: E.164, national (``090-1234-5678``) and international
    (``+81 90-1234-5678``)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return (e164,)
    formats = (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return (e164, *(phonenumbers.format_number(number, style) for style in formats))


def phone_text(raw: str | None, *, shop_region: str | None) -> str | None:
    """A number as a person in the shop's country reads it: national (``090-1234-5678`` in a Japanese
    shop) when it is in that country's calling code, international (``+1 212-555-1234``) otherwise, and
    as given when it cannot be read as a valid number. ``None`` when there is none."""
    if raw is None or not raw.strip():
        return None
    given = raw.strip()
    text = unicodedata.normalize("NFKC", given)
    if len(text) > MAX_PHONE_INPUT_CHARS:
        return given
    region = shop_region.upper() if shop_region else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return given
    if not phonenumbers.is_valid_number(number):
        return given
    home = phonenumbers.country_code_for_region(region) if region else 0
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
