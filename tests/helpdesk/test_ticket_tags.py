"""A tag is read one way whatever is typed (Hypothesis over any text): the spelling kept is short, free of
control characters, and read again the same; one that cannot be kept is refused, never cut or guessed."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_app.errors import Unprocessable
from shop_app.helpdesk.ticket_tags import MAX_STORED_TAGS, normalise_tag, normalise_tags
from shop_app.models.helpdesk import MAX_TAG_CHARS


@given(st.text(max_size=120))
def test_any_text_is_one_tag_spelling_or_none(raw: str) -> None:
    tag = normalise_tag(raw)

    if tag is not None:
        assert 0 < len(tag) <= MAX_TAG_CHARS
        assert tag == tag.strip() == tag.lower() and "  " not in tag
        assert not any(unicodedata.category(char).startswith("C") for char in tag)
        assert normalise_tag(tag) == tag
        if raw.isascii():
            assert normalise_tag(raw.upper()) == tag  # letter case never makes another tag


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("VIP", "vip"),
        ("ｖｉｐ", "vip"),
        ("  Late \t Parcel ", "late parcel"),
        ("返品", "返品"),
        ("ﾍﾝﾋﾟﾝ", "ヘンピン"),
    ],
)
def test_spellings_of_one_tag_are_one_tag(typed: str, kept: str) -> None:
    assert normalise_tag(typed) == kept


def test_a_list_is_kept_in_order_without_repeats_and_refused_whole_when_one_is_bad() -> None:
    assert normalise_tags(["VIP", "late", "vip"]) == ["vip", "late"]
    with pytest.raises(Unprocessable):
        normalise_tags(["fine", "bad\u200e"])  # a direction mark is a format (control) character
    with pytest.raises(Unprocessable):
        normalise_tags([f"t{n}" for n in range(MAX_STORED_TAGS + 1)])
