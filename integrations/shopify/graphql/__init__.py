"""The Admin GraphQL documents the app sends, one ``.graphql`` file each (validated against the schema
in the tests)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def document(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.graphql").read_text(encoding="utf-8")


def document_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".graphql")
        for entry in resources.files(__package__).iterdir()
        if entry.name.endswith(".graphql")
    )
