"""What a reader of the repository follows: the README's links and paths stay inside it and exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(text: str) -> list[str]:
    return [
        target.split("#", 1)[0]
        for target in MARKDOWN_LINK.findall(text)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")
    ]


def test_the_readme_points_at_nothing_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../" not in readme, "the README refers to a path outside the repository"


def test_every_relative_link_in_the_readme_and_docs_exists() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for document in documents:
        for target in relative_links(document.read_text(encoding="utf-8")):
            resolved = (document.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), (document.name, target)
            assert resolved.exists(), (document.name, target)


def test_the_readme_links_the_product_description_kept_in_the_repository() -> None:
    assert "docs/PRODUCT.md" in relative_links((ROOT / "README.md").read_text(encoding="utf-8"))
    product = (ROOT / "docs" / "PRODUCT.md").read_text(encoding="utf-8")
    assert "## Who uses it" in product
