"""The console's UI strings: one JSON catalogue per locale in ``frontend/i18n``, and the choice of locale.

Catalogues are flat (``"list.tab.open": "Open"``) with ``{name}`` placeholders, read by the server for the
pages it renders and handed whole to the page's scripts. Money, dates and statuses are not here: the API
formats those (Babel, the shop's currency and time zone).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError

CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "frontend" / "i18n"
SUPPORTED_LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "console_locale"
LOCALE_COOKIE_MAX_AGE_SECONDS = 365 * 86400


@dataclass(frozen=True, slots=True)
class Catalogue:
    locale: str
    messages: Mapping[str, str]

    def text(self, key: str, **values: object) -> str:
        """The message for ``key`` with its ``{placeholders}`` filled; the key itself when it is missing,
        so a forgotten string shows up on the page instead of failing it."""
        message = self.messages.get(key, key)
        return message.format_map(values) if values else message

    def as_json(self, *, prefix: str = "") -> str:
        """The messages (those whose key starts with ``prefix``) for a page's scripts."""
        chosen = {key: text for key, text in self.messages.items() if key.startswith(prefix)}
        return json.dumps(chosen, ensure_ascii=False, separators=(",", ":"))


@cache
def catalogue(locale: str) -> Catalogue:
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(f"Unsupported locale: {locale}")
    raw = json.loads((CATALOGUE_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    return Catalogue(locale=locale, messages={str(key): str(value) for key, value in raw.items()})


def supported_locale(raw: str | None) -> str | None:
    """``ja``, ``ja-JP``, ``ja_JP`` → ``ja``; anything unsupported or unreadable → ``None``."""
    if not raw:
        return None
    try:
        language = Locale.parse(raw.strip().replace("-", "_")).language
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return language if language in SUPPORTED_LOCALES else None


def accepted_locales(header: str | None) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def choose_locale(
    *,
    requested: str | None = None,
    cookie: str | None = None,
    agent_locale: str | None = None,
    accept_language: str | None = None,
) -> str:
    """The first supported of: an explicit switch, the remembered switch, the agent's own locale, the
    browser's languages; English otherwise."""
    return first_supported(requested, cookie, agent_locale, *accepted_locales(accept_language))


def first_supported(*candidates: str | None) -> str:
    """The first candidate that names a supported locale; English otherwise."""
    for candidate in candidates:
        locale = supported_locale(candidate)
        if locale is not None:
            return locale
    return DEFAULT_LOCALE
