"""Understanding a shopper's message (Japanese or English): the intent with a confidence, and the order
references, contact details, sizes, colours and products it names. Deterministic rules, no model."""

from __future__ import annotations

import re

from shop_app.answers.understanding.entities import (
    find_colours,
    find_emails,
    find_order_refs,
    find_phones,
    find_postal_codes,
    find_product_words,
    find_sizes,
)
from shop_app.answers.understanding.intents import score_intent
from shop_app.answers.understanding.model import (
    AUTO_ANSWER_THRESHOLD,
    AUTO_INTENTS,
    Intent,
    ShopHints,
    Understanding,
)
from shop_app.answers.understanding.normalise import correct_typos, fold, is_japanese

__all__ = [
    "AUTO_ANSWER_THRESHOLD",
    "AUTO_INTENTS",
    "Intent",
    "ShopHints",
    "Understanding",
    "understand",
]

# Longer messages are cut: the rules read the start, where shoppers put the question.
MAX_MESSAGE_CHARS = 4000
ANGER = re.compile(
    r"terrible|awful|\bworst\b|ridiculous|unacceptable|disgust\w*|furious|\bangry\b|\bscam\b|\bfraud\b|"
    r"pathetic|horrible|useless|\bwtf\b|fed up|sick of|\bjoke\b|never (?:again|buying|ordering|shop)|"
    r"complain\w*|unbelievable|outrageous|what the hell|\bseriously\b|incompetent|rip-?off|lawyer|"
    r"!{3,}|最悪|ふざけ|いい加減|怒|ひどい|酷い|詐欺|クレーム|どうなってるんだ|どうなってんの|何度も|"
    r"二度と|信じられない|ありえない|あり得ない|許せない|早くしろ|金返せ|訴え|消費者センター|不誠実|"
    r"ちゃんとして|がっかり|不愉快|腹が立"
)
SHOUTING = re.compile(r"(?:\b[A-Z]{3,}\b[^a-z]*){3,}")
# an email typed in capitals (HANAKO@EXAMPLE.JP) is not shouting
CAPITAL_EMAIL = re.compile(r"\S+@\S+")


def understand(text: str, *, hints: ShopHints = ShopHints()) -> Understanding:  # noqa: B008 - frozen
    original = text[:MAX_MESSAGE_CHARS]
    folded = fold(original)
    reasons: list[str] = []
    emails, rest = find_emails(folded)
    postal_codes, rest = find_postal_codes(rest)
    phones, rest = find_phones(rest, default_region=hints.default_region)
    order_refs, ref_reasons = find_order_refs(rest, prefix=hints.order_prefix, suffix=hints.order_suffix)
    reasons.extend(ref_reasons)
    sizes = find_sizes(folded)
    colours = find_colours(folded)
    products = find_product_words(folded, hints.product_titles)
    corrected, corrections = correct_typos(folded)
    reasons.extend(f"typo:{c}" for c in corrections)
    scored = score_intent(
        corrected,
        has_order_ref=bool(order_refs),
        has_variant=bool(sizes or colours),
        has_product=bool(products),
    )
    reasons.extend(scored.reasons)
    angry = ANGER.search(folded) is not None or SHOUTING.search(CAPITAL_EMAIL.sub(" ", original)) is not None
    if angry:
        reasons.append("angry")
    return Understanding(
        intent=scored.intent,
        confidence=scored.confidence,
        language="ja" if is_japanese(folded) else "en",
        order_refs=order_refs,
        emails=emails,
        phones=phones,
        postal_codes=postal_codes,
        sizes=sizes,
        colours=colours,
        product_words=products,
        angry=angry,
        reasons=tuple(reasons),
    )
