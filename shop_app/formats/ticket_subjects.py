"""A new conversation's subject, so the ticket list does not repeat the first message: what it is about in
words and the order it names (``配送状況の確認 #1004``), or, when what it is about has no name, the first
sentence of its first line, trimmed."""

from __future__ import annotations

import re
import unicodedata

SUBJECT_MAX_CHARS = 40
ELLIPSIS = "…"
_SPACES = re.compile(r"\s+")
# the end of a sentence: Japanese and full-width marks, or Latin ones before a space
_SENTENCE_END = re.compile(r"[。！？!?](?=.)|[.](?=\s)")
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}


def ticket_subject(first_message: str, *, topic: str | None = None, order_name: str | None = None) -> str:
    """``topic`` (what the message is about, in the shop's language) with the ``order_name`` it names; with
    no topic, the message's first sentence, at most ``SUBJECT_MAX_CHARS`` characters."""
    if topic:
        return f"{topic} {order_name}" if order_name else topic
    return first_sentence(first_message)


def first_sentence(text: str, *, limit: int = SUBJECT_MAX_CHARS) -> str:
    """The first sentence of the first line with words in it, control and format characters as spaces,
    spaces collapsed; cut at ``limit`` characters (on a word's end where words are spaced) with "…"."""
    lines = (
        "".join(" " if unicodedata.category(c) in _INVISIBLE else c for c in line)
        for line in text.splitlines()
    )
    line = _SPACES.sub(" ", next((line for line in lines if line.strip()), "")).strip()
    end = _SENTENCE_END.search(line)
    sentence = line[: end.end()] if end else line
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS
