"""The delivery day and time slot a customer asked for at checkout (配送希望日・時間帯), read from the
order's custom attributes and written in the locale's format."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date

from shop_app.formats.display import Formatter, UiLocale
from shop_app.schemas.profiles import Delivery

_KEY_NOISE = re.compile(r"[\s_\-・:：]+")
# Substrings of a custom attribute's name (NFKC, case-folded, without spaces or separators).
_SLOT_KEYS = (
    "時間帯",
    "時間指定",
    "希望時間",
    "配達時間",
    "配送時間",
    "timeslot",
    "deliverytime",
    "deliveryslot",
    "deliverywindow",
    "timewindow",
)
_DATE_KEYS = ("希望日", "お届け日", "配達日", "配送日", "着日", "お届け予定日", "deliverydate", "deliveryday")
_NO_PREFERENCE = frozenset({"指定なし", "なし", "希望なし", "指定無し", "none", "nopreference", "any", "-"})
_DATE_VALUE = re.compile(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})")
_SLOT_RANGE = re.compile(
    r"^(\d{1,2})(?::(\d{2}))?\s*時?\s*(?:〜|～|~|-|–|—|から)\s*(\d{1,2})(?::(\d{2}))?\s*時?(?:まで)?$"
)
_MORNING = frozenset({"午前中", "午前", "morning", "am"})


def _key(name: str) -> str:
    return _KEY_NOISE.sub("", unicodedata.normalize("NFKC", name).casefold())


def requested_delivery(attributes: Sequence[Sequence[str]], fmt: Formatter) -> Delivery | None:
    """The delivery day and time slot a customer asked for at checkout, from the order's custom
    attributes (``配送希望日`` / ``配達時間帯`` / ``Delivery date`` / ``Time slot`` …)."""
    day: str | None = None
    slot: str | None = None
    for pair in attributes:
        if len(pair) != 2:
            continue
        key, value = _key(pair[0]), str(pair[1]).strip()
        if not value:
            continue
        if slot is None and any(needle in key for needle in _SLOT_KEYS):
            slot = delivery_slot(value, fmt.locale)
        elif day is None and any(needle in key for needle in _DATE_KEYS):
            day = delivery_day(value, fmt)
    return None if day is None and slot is None else Delivery(date=day, slot=slot)


def delivery_day(value: str, fmt: Formatter) -> str | None:
    """A day written ``2026-11-24``, ``2026/11/24`` or ``2026年11月24日`` in the locale's format; other text
    as written; "no preference" as none."""
    text = unicodedata.normalize("NFKC", value).strip()
    if _key(text) in _NO_PREFERENCE:
        return None
    found = _DATE_VALUE.search(text)
    if found:
        try:
            return fmt.day_text(date(int(found[1]), int(found[2]), int(found[3])))
        except ValueError:
            return value.strip()
    return value.strip()


def delivery_slot(value: str, locale: UiLocale) -> str:
    """``14時〜16時`` / ``14-16`` / ``14:00~16:00`` → ``14:00–16:00`` (en) or ``14時〜16時`` (ja);
    ``午前中`` and "no preference" in the locale's words; other text as written."""
    text = unicodedata.normalize("NFKC", value).strip()
    key = _key(text)
    japanese = locale == UiLocale.JA
    if key in _NO_PREFERENCE:
        return "指定なし" if japanese else "No preference"
    if key in _MORNING:
        return "午前中" if japanese else "Morning (before noon)"
    found = _SLOT_RANGE.match(text)
    if found:
        start, start_minutes, end, end_minutes = found[1], found[2], found[3], found[4]
        if int(start) < 24 and int(end) <= 24:
            whole_hours = (start_minutes or "00") == "00" and (end_minutes or "00") == "00"
            if japanese and whole_hours:
                return f"{int(start)}時〜{int(end)}時"
            start_at, end_at = f"{int(start)}:{start_minutes or '00'}", f"{int(end)}:{end_minutes or '00'}"
            return f"{start_at}〜{end_at}" if japanese else f"{start_at}–{end_at}"
    return value.strip()
