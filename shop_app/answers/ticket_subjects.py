"""A new conversation's subject in the shop's language, read from its first message: what it is about and
the order it names (``配送状況の確認 #1004``, ``Order status #1004``); a message read as "another question",
or read with little confidence, keeps its first sentence (``formats.ticket_subjects``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.answers.shop_config import order_name, shop_hints
from shop_app.answers.understanding import understand
from shop_app.answers.understanding.model import Intent, ShopHints
from shop_app.formats.display import UiLocale, ui_locale
from shop_app.formats.ticket_subjects import ticket_subject
from shop_app.models import Shop

# Below this confidence the message's own first sentence says more than a guessed topic.
SUBJECT_TOPIC_MIN_CONFIDENCE = 0.5

# (English, Japanese), as a subject line reads
SUBJECT_WORDS: dict[Intent, tuple[str, str]] = {
    Intent.ORDER_STATUS: ("Order status", "配送状況の確認"),
    Intent.STOCK: ("Stock question", "在庫の確認"),
    Intent.CANCEL: ("Cancellation", "注文のキャンセル"),
    Intent.RETURN_EXCHANGE: ("Return or exchange", "返品・交換"),
    Intent.ADDRESS_CHANGE: ("Change of address or delivery time", "お届け先・お届け日時の変更"),
    Intent.ORDER_CHANGE: ("Change to an order", "注文内容の変更"),
    Intent.BILLING_REFUND: ("Payment or refund", "お支払い・返金"),
    Intent.DAMAGED_WRONG_ITEM: ("Damaged or wrong item", "破損・誤配送"),
    Intent.HUMAN: ("Asks for a person", "担当者との対応を希望"),
}


def subject_from_message(text: str, *, hints: ShopHints, locale: str | None) -> str:
    seen = understand(text, hints=hints)
    words = SUBJECT_WORDS.get(seen.intent) if seen.confidence >= SUBJECT_TOPIC_MIN_CONFIDENCE else None
    if words is None:
        return ticket_subject(text)
    english, japanese = words
    topic = japanese if ui_locale(locale) == UiLocale.JA else english
    named = order_name(seen.order_ref, hints) if seen.order_ref is not None else None
    return ticket_subject(text, topic=topic, order_name=named)


async def new_ticket_subject(session: AsyncSession, *, shop: Shop, first_message: str) -> str:
    """The subject for a conversation opening with ``first_message``, in the shop's language."""
    hints = await shop_hints(session, shop=shop)
    return subject_from_message(first_message, hints=hints, locale=shop.primary_locale)
