"""The Admin GraphQL documents the app sends, one ``.graphql`` file each, validated against the pinned
schema in the tests. Fragments shared between documents live in ``fragments/<Name>.graphql`` and are
appended to every document that spreads them (``...Name``), so each selection is written once."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

FRAGMENT_SPREAD = re.compile(r"\.\.\.\s*(?!on\b)([A-Za-z_]\w*)")
FRAGMENT_DEFINITION = re.compile(r"^fragment\s+([A-Za-z_]\w*)\s+on\b", re.MULTILINE)


@cache
def document(name: str) -> str:
    return with_fragments(_read(f"{name}.graphql"))


def with_fragments(text: str) -> str:
    """The document with every fragment it spreads (and they spread) defined once, at the end."""
    parts = [text.rstrip()]
    defined = set(FRAGMENT_DEFINITION.findall(text))
    while missing := sorted(set(FRAGMENT_SPREAD.findall("\n".join(parts))) - defined):
        for name in missing:
            parts.append(_read(f"fragments/{name}.graphql").rstrip())
            defined.add(name)
    return "\n\n".join(parts) + "\n"


def document_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".graphql")
        for entry in resources.files(__package__).iterdir()
        if entry.name.endswith(".graphql")
    )


def _read(relative: str) -> str:
    return resources.files(__package__).joinpath(relative).read_text(encoding="utf-8")
