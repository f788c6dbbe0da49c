"""A policy's HTML as short plain-text passages, the units the bot quotes: one per paragraph or list item,
each with the heading above it, long paragraphs cut at sentence ends. Only text is kept (no tag,
attribute or script survives), so a quote is plain text that the channels escape like any other reply."""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_PASSAGE_CHARS = 400
MAX_QUOTE_CHARS = 220
# A policy's body may be up to 512 kB (Shopify's limit); more than this is not read.
MAX_POLICY_CHARS = 600_000

_BLOCKS = frozenset(
    {"p", "div", "li", "ul", "ol", "br", "tr", "table", "section", "article", "blockquote", "dd", "dt"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SKIPPED = frozenset({"script", "style", "template", "noscript"})
_SPACE = re.compile(r"\s+")
# What an unclosed tag or comment at the end of broken HTML leaves in the text: removed, never quoted.
_LEFTOVER_MARKUP = re.compile(r"<[!/?a-zA-Z][^>]*>?")
_SENTENCE_END = re.compile(r"(?<=[。！？!?.])\s*")


class _Blocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[bool, str]] = []  # (is a heading, text)
        self._text: list[str] = []
        self._heading = False
        self._skipping = 0

    def _flush(self) -> None:
        text = _SPACE.sub(" ", _LEFTOVER_MARKUP.sub(" ", "".join(self._text))).strip()
        if text:
            self.blocks.append((self._heading, text))
        self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS or tag in _HEADINGS:
            self._flush()
            self._heading = tag in _HEADINGS

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(self._skipping - 1, 0)
        elif tag in _BLOCKS or tag in _HEADINGS:
            self._flush()
            self._heading = False

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._text.append(data)


def _pieces(text: str) -> list[str]:
    if len(text) <= MAX_PASSAGE_CHARS:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        if current and len(current) + len(sentence) > MAX_PASSAGE_CHARS:
            pieces.append(current.strip())
            current = ""
        current += sentence if not current or _is_japanese_end(current) else " " + sentence
        while len(current) > MAX_PASSAGE_CHARS:
            pieces.append(current[:MAX_PASSAGE_CHARS])
            current = current[MAX_PASSAGE_CHARS:]
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _is_japanese_end(text: str) -> bool:
    return text.endswith(("。", "！", "？"))


def html_text(html: str) -> list[tuple[bool, str]]:
    parser = _Blocks()
    parser.feed(html[:MAX_POLICY_CHARS])
    parser.close()
    parser._flush()
    return parser.blocks


def policy_passages(html: str) -> list[tuple[str | None, str]]:
    """(heading, passage text) in the order of the policy."""
    passages: list[tuple[str | None, str]] = []
    heading: str | None = None
    for is_heading, text in html_text(html):
        if is_heading:
            heading = text[:200]
            continue
        passages.extend((heading, piece) for piece in _pieces(text))
    return passages


def quote(text: str, *, limit: int = MAX_QUOTE_CHARS) -> str:
    """The start of a passage, whole sentences where they fit, else cut with an ellipsis."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        joined = kept + sentence if not kept or _is_japanese_end(kept) else kept + " " + sentence
        if len(joined) > limit:
            break
        kept = joined
    return kept if kept else text[: limit - 1].rstrip() + "…"
