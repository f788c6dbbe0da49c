"""The internal note a handoff leaves for the agents: why the bot stepped back, what it understood, which
order and how far the shopper proved it is theirs, in the agent's language (the assignee's, else the
shop's) and in words: no intent, state or verification codes. The decision log keeps the codes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shop_app.answers.understanding.model import Intent
from shop_app.formats.display import UiLocale, ui_locale
from shop_app.models import Verification

# (English, Japanese)
INTENT_WORDS: dict[Intent, tuple[str, str]] = {
    Intent.ORDER_STATUS: ("where an order is", "注文の配送状況"),
    Intent.STOCK: ("whether something is in stock", "在庫の確認"),
    Intent.POLICY: ("the shop's policies or FAQ", "ショップのポリシー・よくある質問"),
    Intent.CANCEL: ("cancelling an order", "注文のキャンセル"),
    Intent.RETURN_EXCHANGE: ("a return or an exchange", "返品・交換"),
    Intent.ADDRESS_CHANGE: ("changing the address or delivery time", "お届け先・お届け日時の変更"),
    Intent.ORDER_CHANGE: ("changing an order already placed", "注文内容の変更"),
    Intent.BILLING_REFUND: ("a payment or a refund", "お支払い・返金"),
    Intent.DAMAGED_WRONG_ITEM: ("a damaged or wrong item", "破損・誤配送"),
    Intent.HUMAN: ("talking to a person", "担当者との対応"),
    Intent.OTHER: ("another question", "その他のお問い合わせ"),
}
VERIFICATION_WORDS: dict[Verification, tuple[str, str]] = {
    Verification.NOT_NEEDED: ("not needed", "不要"),
    Verification.TRUSTED_CALLER: ("asked by a trusted caller", "信頼済みの連携先からの問い合わせ"),
    Verification.STOREFRONT: ("signed in on the storefront", "ストアにログイン済み"),
    Verification.ORDER_DETAILS: ("confirmed with the order's details", "注文情報で本人確認済み"),
    Verification.NEEDED: ("not confirmed yet", "未確認"),
    Verification.FAILED: ("the details given did not match", "いただいた情報が一致しませんでした"),
    Verification.LIMITED: ("too many failed attempts", "確認の失敗が上限に達しました"),
}
STATE_WORDS: dict[str, tuple[str, str]] = {
    "not_shipped": ("not shipped yet", "未発送"),
    "on_hold": ("on hold", "発送保留中"),
    "partially_shipped": ("partly shipped", "一部発送済み"),
    "label_created": ("label created, not yet with the carrier", "送り状発行済み・集荷前"),
    "in_transit": ("on its way", "配送中"),
    "out_for_delivery": ("out for delivery", "配達中"),
    "delivered": ("delivered", "配達完了"),
    "delayed": ("delayed by the carrier", "配送遅延"),
    "failed_attempt": ("the carrier could not deliver it", "配達できず持ち戻り"),
    "cancelled": ("cancelled", "キャンセル済み"),
    "refunded": ("refunded", "返金済み"),
    "late": ("late: past its ship date or estimated delivery", "予定日を過ぎても届いていない（遅延）"),
}


def _intent(code: str, japanese: bool) -> str:
    try:
        english, native = INTENT_WORDS[Intent(code)]
    except ValueError:
        return code.replace("_", " ")
    return native if japanese else english


def _state(code: str, japanese: bool) -> str:
    english, native = STATE_WORDS.get(code, (code.replace("_", " "), code.replace("_", " ")))
    return native if japanese else english


# Each reason the engine records, in words: (pattern, English, Japanese); {intent} and {state} are filled.
_REASONS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), english, japanese)
    for pattern, english, japanese in (
        (
            r"^asked for a person$",
            "The shopper asked for a person.",
            "お客様が担当者との対応を希望しています。",
        ),
        (
            r"^anger or complaint$",
            "The shopper sounds upset or is complaining.",
            "お客様がご不満・苦情をお持ちのようです。",
        ),
        (
            r"^(?P<intent>\w+) is for a person$",
            "A person handles {intent}.",
            "{intent}は担当者が対応します。",
        ),
        (
            r"^low confidence \(",
            "The bot could not tell what the shopper wants.",
            "ボットがご用件を判断できませんでした。",
        ),
        (
            r"^automatic (?P<intent>\w+) replies are switched off$",
            "Automatic replies about {intent} are switched off.",
            "{intent}への自動返信はオフになっています。",
        ),
        (
            r"^would repeat itself",
            "The bot would have sent the same answer again.",
            "ボットが同じ返信を繰り返すところでした。",
        ),
        (
            r"^verification (?:attempts exhausted|failed; attempts exhausted)$",
            "Too many attempts to confirm the order's details failed.",
            "ご注文情報の確認に規定回数以上失敗しました。",
        ),
        (
            r"^delivered but not received$",
            "The carrier says it was delivered, but the shopper has not received it.",
            "配達完了となっていますが、お客様は受け取っていないとのことです。",
        ),
        (r"^order (?P<state>\w+)$", "The order is {state}.", "ご注文の状況：{state}。"),
        (
            r"^variants cannot be told apart$",
            "The product's variants cannot be told apart.",
            "商品のバリエーションを区別できませんでした。",
        ),
        (
            r"^no stock levels mirrored$",
            "No stock levels are known for the item.",
            "この商品の在庫数がわかりません。",
        ),
    )
)


def reason_words(reason: str, *, locale: str | UiLocale) -> str:
    """A decision's recorded reason as an agent reads it; an unknown reason as recorded."""
    japanese = ui_locale(locale) == UiLocale.JA
    for pattern, english, native in _REASONS:
        found = pattern.search(reason)
        if found is None:
            continue
        values = found.groupdict()
        return (native if japanese else english).format(
            intent=_intent(values.get("intent") or "", japanese),
            state=_state(values.get("state") or "", japanese),
        )
    return reason


@dataclass(frozen=True, slots=True)
class HandoffFacts:
    reason: str
    intent: str
    confidence: float
    order_name: str | None
    verification: Verification
    priority: bool
    bot_replies: Sequence[str]


def handoff_note(facts: HandoffFacts, *, locale: str | UiLocale) -> str:
    japanese = ui_locale(locale) == UiLocale.JA
    english_words, native_words = VERIFICATION_WORDS[Verification(facts.verification)]
    proof = native_words if japanese else english_words
    why = reason_words(facts.reason, locale=locale)
    intent = _intent(facts.intent, japanese)
    if japanese:
        lines = [
            f"ボットから引き継ぎ{'（優先）' if facts.priority else ''}：{why}",
            f"ご用件：{intent}（確信度 {facts.confidence:.2f}）",
            f"ご注文：{facts.order_name or 'なし'}（本人確認：{proof}）",
            f"ボットの返信数：{len(facts.bot_replies)}",
        ]
        if facts.bot_replies:
            lines.append(f"直前の返信：{facts.bot_replies[-1][:200]}")
    else:
        lines = [
            f"Bot handoff{' (priority)' if facts.priority else ''}: {why}",
            f"The shopper asks about: {intent} (confidence {facts.confidence:.2f})",
            f"Order: {facts.order_name or 'none'} (verification: {proof})",
            f"Bot replies so far: {len(facts.bot_replies)}",
        ]
        if facts.bot_replies:
            lines.append(f"Last bot reply: {facts.bot_replies[-1][:200]}")
    return "\n".join(lines)
