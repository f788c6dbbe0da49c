"""What tests read from a server-rendered page: script tags, inline scripts, inline event handlers, the
root's lang, the body's data (and the catalogue handed to scripts), elements by tag and visible text."""

from __future__ import annotations

import json
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_scripts: list[str] = []
        self.handlers: list[str] = []
        self.lang: str | None = None
        self.body: dict[str, str | None] = {}
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.elements.append((tag, found))
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append(found)
            self._in_script = True
        elif tag == "html":
            self.lang = found.get("lang")
        elif tag == "body":
            self.body = found

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)
        elif data.strip():
            self.text.append(data.strip())

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]

    @property
    def messages(self) -> dict[str, str]:
        return dict(json.loads(self.body["data-messages"] or "{}"))
