from __future__ import annotations

import pytest

from integrations.shopify.resources import decimal_text


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("19.90", "19.9"),
        ("19.9", "19.9"),
        ("193050.0", "193050"),
        ("193050", "193050"),
        ("100", "100"),
        ("0.00", "0"),
        ("1E+2", "100"),
        ("-5.50", "-5.5"),
    ],
)
def test_amounts_from_rest_and_graphql_get_one_spelling(raw: str, canonical: str) -> None:
    assert decimal_text(raw) == canonical


@pytest.mark.parametrize("raw", ["", "abc", "NaN", "Infinity", "1,000"])
def test_what_is_not_an_amount_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a decimal amount"):
        decimal_text(raw)
