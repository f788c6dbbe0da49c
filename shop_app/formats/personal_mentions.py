"""Where a person's emails, phone numbers, postal addresses and full name appear in free text, however
they are spelled, so that a privacy erasure can replace exactly those spans.

- Phone numbers: every span that libphonenumber reads (``PhoneNumberMatcher`` in the shop's country, at
  its most lenient) as one of the person's numbers in E.164, and every run of digits and phone punctuation
  whose digits are one of the number's national or international forms (``817021631386``,
  ``070ー2163ー1386``, ``+81 (0)70 …``): full-width digits, spaces, dashes, dots and brackets included.
- Emails, addresses and names: compared after folding both sides the same way, character by character
  (compatibility decomposition, so full-width and half-width forms are equal; case folded; whitespace,
  dashes and commas dropped), so ``東京都 渋谷区 神南１－２－３`` is found for ``東京都渋谷区神南1-2-3``. A
  needle that starts or ends with a letter or digit does not match inside a longer word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import Leniency, PhoneMetadata, PhoneNumberMatcher

from shop_app.formats.emails import stored_email

REDACTED_TEXT = "[redacted]"
# Shorter folded needles are too common to be a person's (an address line "101", a two-letter name).
MIN_NEEDLE_CHARS = 4
MIN_DIGITS_ONLY_NEEDLE_CHARS = 7
MIN_PHONE_DIGITS = 7
MAX_PHONE_TOKENS = 8  # groups a spelling of one number is written in, at most
# International call prefixes people type before a country code (00 most places, 010 from Japan, 011
# from North America, 001 and 0011 from some others).
INTERNATIONAL_PREFIXES = ("00", "010", "011", "001", "0011")

_FOLD_DROPPED = frozenset("-‐‑‒–—―−－ーｰ﹣,，、､")
_FAST_DROPPED = re.compile(r"[\s\-‐‑‒–—―−－ーｰ﹣,，、､]+")
_NOT_DIGIT = re.compile(r"\D+")
_PHONE_RUN = re.compile(r"[+＋(（]*\d[\d\s()（）\-‐‑‒–—―−－ーｰ.．/／]*")
_TOKEN = re.compile(r"\S+")
_TOKEN_HEAD = frozenset("+＋(（")
_TOKEN_TAIL = frozenset(")）")


class MentionKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    kind: MentionKind


@dataclass(frozen=True, slots=True)
class _Needle:
    folded: str  # as ``_fold`` leaves it
    quick: str  # as ``_quick_fold`` leaves it (for the cheap first look)
    kind: MentionKind


@dataclass(frozen=True, slots=True)
class _Phone:
    e164: str
    national_number: str
    digit_forms: frozenset[str]


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch.isspace():
        return ""
    return "".join(
        c for c in unicodedata.normalize("NFKD", ch).casefold() if c not in _FOLD_DROPPED and not c.isspace()
    )


def _fold(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each of its characters the index of the character it came from."""
    folded: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        for c in _fold_char(ch):
            folded.append(c)
            origin.append(index)
    return "".join(folded), origin


def _quick_fold(text: str) -> str:
    return _FAST_DROPPED.sub("", unicodedata.normalize("NFKC", text).casefold())


def _ascii_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def _needle(text: str | None, kind: MentionKind) -> _Needle | None:
    if not text:
        return None
    folded, _ = _fold(text)
    short = MIN_DIGITS_ONLY_NEEDLE_CHARS if folded.isdigit() else MIN_NEEDLE_CHARS
    if len(folded) < short:
        return None
    return _Needle(folded=folded, quick=_quick_fold(text), kind=kind)


def _phone(raw: str, region: str | None) -> _Phone | None:
    try:
        number = phonenumbers.parse(unicodedata.normalize("NFKC", raw), region)
    except phonenumbers.NumberParseException:
        return None
    national = phonenumbers.national_significant_number(number)
    if len(national) < MIN_PHONE_DIGITS - 2:
        return None
    if number.country_code is None:
        return None
    country = str(number.country_code)
    home = PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(number.country_code))
    trunk = (home.national_prefix or "") if home is not None else ""
    international = country + national
    forms = {
        national,
        trunk + national,
        international,
        country + trunk + national,  # +81 (0)70 …
        *(prefix + international for prefix in INTERNATIONAL_PREFIXES),
    }
    return _Phone(
        e164="+" + international,
        national_number=national,
        digit_forms=frozenset(form for form in forms if len(form) >= MIN_PHONE_DIGITS),
    )


def _merged(mentions: Iterable[Mention]) -> list[Mention]:
    merged: list[Mention] = []
    for mention in sorted(mentions, key=lambda m: (m.start, -m.end)):
        if merged and mention.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Mention(last.start, max(last.end, mention.end), last.kind)
        else:
            merged.append(mention)
    return merged


@dataclass(frozen=True, slots=True)
class PersonalMarks:
    """How one person can be recognised in text: build with ``personal_marks``."""

    region: str | None = None
    phones: tuple[_Phone, ...] = ()
    needles: tuple[_Needle, ...] = ()
    emails: frozenset[str] = frozenset()  # as the app stores them (NFKC, trimmed, lower case)

    def __bool__(self) -> bool:
        return bool(self.phones or self.needles)

    @property
    def phone_numbers(self) -> frozenset[str]:
        """The person's phone numbers in E.164."""
        return frozenset(phone.e164 for phone in self.phones)

    def could_mention(self, text: str | None) -> bool:
        """A cheap first look: False means ``mentions`` finds nothing."""
        if not text or not self:
            return False
        quick = _quick_fold(text)
        if any(needle.quick in quick for needle in self.needles):
            return True
        digits = _NOT_DIGIT.sub("", quick)
        return any(phone.national_number in digits for phone in self.phones)

    def is_phone(self, raw: str | None) -> bool:
        """The whole value is one of the person's phone numbers, however written."""
        if not raw or not self.could_mention(raw):
            return False
        phone = _phone(raw, self.region)
        return phone is not None and phone.e164 in self.phone_numbers

    def is_email(self, raw: str | None) -> bool:
        return bool(raw) and stored_email(raw) in self.emails

    def mentions(self, text: str | None, kinds: Iterable[MentionKind] | None = None) -> list[Mention]:
        """Where the person appears in the text, overlapping finds merged, in order."""
        if not text or not self.could_mention(text):
            return []
        wanted = frozenset(kinds) if kinds is not None else frozenset(MentionKind)
        found: list[Mention] = []
        if MentionKind.PHONE in wanted:
            found += self._phone_mentions(text)
        needles = [needle for needle in self.needles if needle.kind in wanted]
        if needles:
            found += self._needle_mentions(text, needles)
        return _merged(found)

    def redact(self, text: str, replacement: str = REDACTED_TEXT) -> str:
        """The text with every mention replaced."""
        mentions = self.mentions(text)
        for mention in reversed(mentions):
            text = text[: mention.start] + replacement + text[mention.end :]
        return text

    def _phone_mentions(self, text: str) -> list[Mention]:
        if not self.phones:
            return []
        numbers = self.phone_numbers
        found = [
            Mention(match.start, match.end, MentionKind.PHONE)
            for match in PhoneNumberMatcher(text, self.region, leniency=Leniency.POSSIBLE)
            if phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164) in numbers
        ]
        forms = frozenset().union(*(phone.digit_forms for phone in self.phones))
        longest = max(len(form) for form in forms) if forms else 0
        for run in _PHONE_RUN.finditer(text):
            tokens = [
                (run.start() + token.start(), run.start() + token.end())
                for token in _TOKEN.finditer(run.group())
            ]
            tokens = [span for span in (self._trimmed(text, *token) for token in tokens) if span]
            for first in range(len(tokens)):
                digits = ""
                for last in range(first, min(first + MAX_PHONE_TOKENS, len(tokens))):
                    digits += _digits(text[tokens[last][0] : tokens[last][1]])
                    if len(digits) > longest:
                        break
                    if digits in forms:
                        found.append(Mention(tokens[first][0], tokens[last][1], MentionKind.PHONE))
        return found

    @staticmethod
    def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
        """A token of a phone run without punctuation at its ends (brackets and a plus may stay)."""
        while start < end and not (text[start].isdecimal() or text[start] in _TOKEN_HEAD):
            start += 1
        while end > start and not (text[end - 1].isdecimal() or text[end - 1] in _TOKEN_TAIL):
            end -= 1
        return (start, end) if start < end else None

    @staticmethod
    def _needle_mentions(text: str, needles: list[_Needle]) -> list[Mention]:
        folded, origin = _fold(text)
        found: list[Mention] = []
        for needle in needles:
            size = len(needle.folded)
            at = folded.find(needle.folded)
            while at != -1:
                end = at + size
                # a needle starting (ending) with a letter or digit does not begin (end) inside a word
                clear_before = not (
                    _ascii_word_char(needle.folded[0])
                    and at > 0
                    and _ascii_word_char(folded[at - 1])
                    and origin[at - 1] >= origin[at] - 1
                )
                clear_after = not (
                    _ascii_word_char(needle.folded[-1])
                    and end < len(folded)
                    and _ascii_word_char(folded[end])
                    and origin[end] <= origin[end - 1] + 1
                )
                if clear_before and clear_after:
                    found.append(Mention(origin[at], origin[end - 1] + 1, needle.kind))
                at = folded.find(needle.folded, at + 1)
        return found


def _address_needles(address: Mapping[str, Any]) -> list[_Needle | None]:
    def part(key: str) -> str:
        value = address.get(key)
        return value.strip() if isinstance(value, str) else ""

    line1, line2, city, province, zip_code = (
        part(key) for key in ("address1", "address2", "city", "province", "zip")
    )
    combos = [
        line1,
        line2,
        city + line1 if city and line1 else "",
        province + city + line1 if province and city and line1 else "",
        zip_code + city if zip_code and city else "",
        city + zip_code if zip_code and city else "",
        zip_code + province + city if zip_code and province and city else "",
        province + city + zip_code if zip_code and province and city else "",
    ]
    return [_needle(combo, MentionKind.ADDRESS) for combo in combos]


def _name_needles(family: str | None, given: str | None) -> list[_Needle | None]:
    if not (family and given and family.strip() and given.strip()):
        return []
    return [_needle(family + given, MentionKind.NAME), _needle(given + family, MentionKind.NAME)]


def personal_marks(
    *,
    emails: Iterable[str | None] = (),
    phones: Iterable[str | None] = (),
    addresses: Iterable[Mapping[str, Any] | None] = (),
    names: Iterable[tuple[str | None, str | None]] = (),
    full_names: Iterable[str | None] = (),
    region: str | None = None,
) -> PersonalMarks:
    """The marks of one person: their emails, phone numbers (read in ``region`` when written without a
    country code), addresses as Shopify holds them (``address1``, ``address2``, ``city``, ``province``,
    ``zip``: each line, and the city with its postcode or its first line), and full names: as (family,
    given), in either order, or as written (a name of one word alone is too common to look for)."""
    region = region.upper() if region else None
    addresses_of_mail = {stored_email(email) for email in emails} - {None}
    found: list[_Needle | None] = [_needle(email, MentionKind.EMAIL) for email in addresses_of_mail]
    numbers: dict[str, _Phone] = {}
    for raw in phones:
        if not raw or not raw.strip():
            continue
        phone = _phone(raw, region)
        if phone is None:
            found.append(_needle(raw, MentionKind.PHONE))  # not a number libphonenumber reads: as typed
        else:
            numbers.setdefault(phone.e164, phone)
    for address in addresses:
        if address:
            found += _address_needles(address)
    for family, given in names:
        found += _name_needles(family, given)
    for name in full_names:
        if name and len(name.split()) > 1:
            found.append(_needle(name, MentionKind.NAME))
    unique = {(n.folded, n.kind): n for n in found if n is not None}
    return PersonalMarks(
        region=region,
        phones=tuple(numbers.values()),
        needles=tuple(sorted(unique.values(), key=lambda n: -len(n.folded))),
        emails=frozenset(email for email in addresses_of_mail if email),
    )
