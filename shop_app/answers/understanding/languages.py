"""Which language to answer in: the conversation's, not the last message's script alone. A message with
words (Japanese, or English words) says its language; a bare order number, email, postcode or size
("#1004 160-0023", "hanako@example.jp", "XL") follows the conversation, then the shopper's chosen
language, then the shop's."""

from __future__ import annotations

import re
from collections.abc import Sequence

from shop_app.answers.understanding.normalise import JAPANESE_CHARS, fold

LANGUAGES = ("ja", "en")
_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|[\d\W_]+")
_LATIN_WORD = re.compile(r"[a-z]{2,}")
# Latin letters that are codes, not English: sizes, "no." of an order number, Shopify's order prefix.
_CODES = frozenset({"xxs", "xs", "xl", "xxl", "xxxl", "no", "nr", "cm", "mm", "jp"})
# An English message needs this many words; one English word alone decides only a conversation with
# no language yet ("hello" opening a chat in a Japanese shop is still answered in English).
MIN_ENGLISH_WORDS = 2


def _said(text: str) -> tuple[str | None, bool]:
    """The language a message's words are in, and whether they are enough to decide it."""
    rest = _NOT_WORDS.sub(" ", fold(text))
    if JAPANESE_CHARS.search(rest):
        return "ja", True
    words = [word for word in _LATIN_WORD.findall(rest) if word not in _CODES]
    if not words:
        return None, False
    return "en", len(words) >= MIN_ENGLISH_WORDS


def conversation_language(text: str, *, earlier: Sequence[str] = ()) -> str | None:
    """``ja`` or ``en`` from ``text`` and the shopper's ``earlier`` messages (oldest first); None when no
    message has a word to tell by."""
    language, decided = _said(text)
    if language is not None and decided:
        return language
    weak: str | None = language
    for message in reversed(earlier):
        said, enough = _said(message)
        if said is not None and enough:
            return said
        weak = weak or said
    return weak


def fallback_language(fallbacks: Sequence[str | None]) -> str:
    """The first of ``fallbacks`` (``ja``, ``ja-JP``, ``en_US``…) that is Japanese or English; else ``en``."""
    for fallback in fallbacks:
        code = (fallback or "").strip().replace("_", "-").split("-", 1)[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def reply_language(text: str, *, earlier: Sequence[str] = (), fallbacks: Sequence[str | None] = ()) -> str:
    """``ja`` or ``en`` for a reply to ``text``: the conversation's language, else the first fallback
    that is one (the shopper's chosen language, the shop's), else English."""
    return conversation_language(text, earlier=earlier) or fallback_language(fallbacks)
