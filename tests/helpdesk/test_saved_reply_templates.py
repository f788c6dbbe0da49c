"""A saved reply's text can reach its fields and nothing else, whatever an admin (or a stolen admin session)
writes: Hypothesis builds texts from plain words, the fields in any spacing, and pieces of template code;
a text is taken exactly when it holds no code, and then renders to its words with the values put in once."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_app.errors import Unprocessable
from shop_app.helpdesk.saved_replies import FIELDS, Field, check_template, render_template

VALUES = {field: f"<{field.value}:{{{{ shop_name }}}}>" for field in Field}  # values that look like code
CODE = [
    "{{ customer_name.__class__ }}",
    "{{ customer_name|e }}",
    "{{ x }}",
    "{{ 1 }}",
    "{{ customer_name ~ shop_name }}",
    "{% if customer_name %}y{% endif %}",
    "{% for c in customer_name %}{{ c }}{% endfor %}",
    "{{ range(10) }}",
    "{{ customer_name[0] }}",
    "{{ {'a': 1} }}",
    "{% macro m() %}{% endmacro %}",
    "{{ namespace() }}",
]
plain = st.text(st.characters(exclude_characters="{}%#", exclude_categories=("Cs",)), max_size=30)
field = st.builds(
    lambda f, left, right: f"{{{{{left}{f.value}{right}}}}}",
    st.sampled_from(sorted(FIELDS)),
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", " ", "\t"]),
)
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@given(st.lists(st.one_of(plain, field), max_size=12))
def test_text_and_fields_render_to_the_text_with_each_value_put_in_once(pieces: list[str]) -> None:
    text = "".join(pieces)

    rendered = render_template(text, VALUES)

    # (line ends are written \n, as the reply box writes them)
    expected = PLACEHOLDER.sub(lambda m: VALUES[Field(m.group(1))], re.sub(r"\r\n?", "\n", text))
    assert rendered == expected


@given(
    st.lists(st.one_of(plain, field), max_size=6),
    st.sampled_from(CODE),
    st.lists(st.one_of(plain, field), max_size=6),
)
def test_any_piece_of_template_code_is_refused(before: list[str], code: str, after: list[str]) -> None:
    with pytest.raises(Unprocessable):
        check_template("".join(before) + code + "".join(after))


@given(st.text(max_size=200))
def test_any_text_is_refused_or_renders_without_reaching_further(text: str) -> None:
    try:
        used = check_template(text)
    except Unprocessable:
        return
    rendered = render_template(text, VALUES)
    assert used <= FIELDS
    # nothing but the text and the values: never longer than the text with every value put in
    assert len(rendered) <= len(text) + sum(len(v) for v in VALUES.values()) * text.count("{{")
