"""Intent rules: weighted Japanese and English patterns over the folded, typo-corrected message.

Each rule that matches adds its weight to one intent (a negative weight is a cue against it) and is named in
the reasons. The intent with the highest score wins; the confidence grows with that score and with its lead
over the runner-up, so a message that fits two intents, or none well, gets a low confidence and a person.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from shop_app.answers.understanding.model import AUTO_INTENTS, Intent
from shop_app.answers.understanding.rules import RULES, Rule

# Below this score nothing was recognised: the message is OTHER.
MIN_INTENT_SCORE = 2.0
# Score at which confidence reaches about 70% before the margin is considered.
CONFIDENCE_SCALE = 2.5
# A strong cue of a person-only intent (cancel, refund, damaged…) counts against answering automatically.
PERSON_CUE_WEIGHT = 4.5
PERSON_CUE_PENALTY = 2.0
ORDER_REF_BONUS = 1.5
# A question about the shopper's own order is not a question about the shop's policies alone.
OWN_ORDER_POLICY_PENALTY = 2.0
# Rules that name a policy of the shop (returns, refunds, payment methods) outright.
EXPLICIT_POLICY_RULES = frozenset(
    {"en:return_policy", "ja:return_policy", "en:payment_methods", "ja:payment_methods"}
)
POLICY_NAME_PENALTY = 6.0
SHOP_QUESTION_SCORE = 5.0
SHOP_QUESTION_PENALTY = 2.0


# A word that means "this is the order I have" weakens the shipping-policy reading.
OWN_ORDER = re.compile(
    r"\bmy (?:order|package|parcel|delivery)\b|注文した|ご注文の|私の注文|注文番号|購入した"
)
# Whose presence means it is not about an existing order, whatever else matched.
CLEARANCE_SALE = re.compile(r"在庫処分|clearance sale|stock clearance|warehouse sale")


# Named in the reasons when the message speaks of the shopper's own order: a policy answer then needs the
# order's facts, so the engine hands it to a person.
OWN_ORDER_REASON = "own_order"

INTENT_ORDER = {intent: position for position, intent in enumerate(Intent)}


@dataclass(frozen=True, slots=True)
class Scored:
    intent: Intent
    confidence: float
    reasons: tuple[str, ...]


def score_intent(text: str, *, has_order_ref: bool, has_variant: bool, has_product: bool) -> Scored:
    scores: dict[Intent, float] = dict.fromkeys(Intent, 0.0)
    reasons: list[str] = []
    matched: list[Rule] = []
    own_order = OWN_ORDER.search(text) is not None or has_order_ref
    for rule in RULES:
        if rule.pattern.search(text) is None:
            continue
        matched.append(rule)
        weight = rule.weight
        if rule.intent is Intent.POLICY and own_order:
            weight -= OWN_ORDER_POLICY_PENALTY
        scores[rule.intent] += weight
        reasons.append(f"{rule.name}{weight:+g}")
    strong_person_cue = any(
        rule.intent not in AUTO_INTENTS
        and rule.intent is not Intent.OTHER
        and rule.weight >= PERSON_CUE_WEIGHT
        for rule in matched
    )
    if strong_person_cue:
        scores[Intent.ORDER_STATUS] -= PERSON_CUE_PENALTY
        scores[Intent.STOCK] -= PERSON_CUE_PENALTY
        reasons.append(f"neg:person_only_cue→order_status,stock-{PERSON_CUE_PENALTY:g}")
    if CLEARANCE_SALE.search(text):
        scores[Intent.STOCK] -= 4.0
        reasons.append("neg:clearance_sale→stock-4")
    if own_order:
        reasons.append(OWN_ORDER_REASON)
    if not own_order and any(rule.name in EXPLICIT_POLICY_RULES for rule in matched):
        # "what is your refund policy?": the words of a person-only intent inside a policy's name
        scores[Intent.RETURN_EXCHANGE] -= POLICY_NAME_PENALTY
        scores[Intent.BILLING_REFUND] -= POLICY_NAME_PENALTY
        reasons.append(f"neg:policy_named→return_exchange,billing_refund-{POLICY_NAME_PENALTY:g}")
    if scores[Intent.POLICY] >= SHOP_QUESTION_SCORE and not own_order:
        # "do you have a store in Kyoto?" asks about the shop, not about stock
        scores[Intent.STOCK] -= SHOP_QUESTION_PENALTY
        reasons.append(f"neg:shop_question→stock-{SHOP_QUESTION_PENALTY:g}")
    if max(scores[Intent.OTHER], scores[Intent.POLICY]) >= 4.0 and not own_order:
        scores[Intent.ORDER_STATUS] -= 3.0
        reasons.append("neg:policy_question→order_status-3")
    if has_order_ref:
        scores[Intent.ORDER_STATUS] += ORDER_REF_BONUS
        reasons.append(f"order_ref→order_status+{ORDER_REF_BONUS:g}")
    if (has_variant or has_product) and scores[Intent.STOCK] > 0:
        scores[Intent.STOCK] += 1.0
        reasons.append("product_or_variant→stock+1")
    ranked = sorted(scores.items(), key=lambda item: (-item[1], INTENT_ORDER[item[0]]))
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < MIN_INTENT_SCORE:
        confidence = 0.5 if best is Intent.OTHER else 0.3
        return Scored(Intent.OTHER, confidence, (*reasons, "no_intent_recognised"))
    saturation = 1.0 - math.exp(-top / CONFIDENCE_SCALE)
    margin = max(top - max(second, 0.0), 0.0) / top
    confidence = round(saturation * (0.5 + 0.5 * margin), 3)
    return Scored(best, confidence, tuple(reasons))
