"""Money, dates and times as an agent reads them: Babel's patterns for the UI locale, amounts in their
currency (JPY without decimals), times in the shop's IANA time zone.

The console supports English and Japanese; any other locale is shown in English. An unknown or missing
time zone is UTC, a missing currency is the shop's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import DateTimePattern, parse_pattern
from babel.numbers import UnknownCurrencyError, format_currency, get_currency_precision

DEFAULT_CURRENCY = "USD"


class UiLocale(StrEnum):
    EN = "en"
    JA = "ja"


def ui_locale(raw: str | None) -> UiLocale:
    """``ja``, ``ja-JP``, ``ja_JP`` → ja; anything else → en."""
    language = (raw or "").strip().replace("_", "-").split("-", 1)[0].lower()
    return UiLocale.JA if language == UiLocale.JA else UiLocale.EN


def time_zone(name: str | None) -> tzinfo:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def iso_utc(moment: datetime) -> str:
    """``2026-11-20T05:03:00Z``: whole seconds, UTC, as the API's times are."""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def currency_amount(amount: Decimal, currency: str) -> str:
    """The amount with its currency's minor digits: ``1234`` JPY, ``19.90`` USD."""
    try:
        digits = get_currency_precision(currency)
    except UnknownCurrencyError:  # pragma: no cover - babel knows every ISO currency; defensive
        digits = 2
    exponent = Decimal(1).scaleb(-digits)
    quantised = amount.quantize(exponent) if amount == amount.quantize(exponent) else amount
    return format(quantised, "f")


@dataclass(frozen=True, slots=True)
class Formatter:
    """One locale, time zone and currency; build it with ``formatter()`` (cached)."""

    locale: UiLocale
    timezone: tzinfo
    currency: str
    _babel: Locale = field(repr=False)
    _date_pattern: DateTimePattern = field(repr=False)
    _datetime_pattern: DateTimePattern = field(repr=False)

    def parse_amount(self, amount: str | None) -> Decimal | None:
        if amount is None:
            return None
        try:
            number = Decimal(amount)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None

    def money_text(self, amount: Decimal, currency: str | None = None) -> str:
        return _money_text(self.locale, amount, (currency or self.currency).upper())

    def moment_text(self, moment: datetime) -> str:
        """``2026/11/20 14:03`` (ja) or ``Nov 20, 2026, 2:03 PM`` (en), in the shop's time zone."""
        return self._datetime_pattern.apply(moment.astimezone(self.timezone), self._babel)

    def day_text(self, day: date | datetime) -> str:
        """A calendar day; a datetime is first taken to the shop's time zone."""
        if isinstance(day, datetime):
            day = day.astimezone(self.timezone).date()
        return self._date_pattern.apply(day, self._babel)


@lru_cache(maxsize=256)
def formatter(locale: str | None, timezone: str | None, currency: str | None) -> Formatter:
    chosen = ui_locale(locale)
    babel = Locale.parse(chosen.value)
    date_pattern = babel.date_formats["medium"].pattern
    time_pattern = babel.time_formats["short"].pattern
    datetime_pattern = str(babel.datetime_formats["medium"]).replace("{1}", date_pattern)
    datetime_pattern = datetime_pattern.replace("{0}", time_pattern)
    return Formatter(
        locale=chosen,
        timezone=time_zone(timezone),
        currency=(currency or DEFAULT_CURRENCY).upper(),
        _babel=babel,
        _date_pattern=parse_pattern(date_pattern),
        _datetime_pattern=parse_pattern(datetime_pattern),
    )


@lru_cache(maxsize=4096)
def _money_text(locale: UiLocale, amount: Decimal, currency: str) -> str:
    # a store's prices repeat: formatting each amount once per locale saves most of Babel's work
    return format_currency(amount, currency, locale=locale.value)
