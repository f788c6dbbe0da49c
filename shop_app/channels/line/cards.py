"""The bot's words as LINE messages: an order answer as a Flex card (order, state, items, a tracking button
per number) whose plain-text alternative is the bot's own reply, and the quick replies for the usual next
steps (注文状況 / 在庫確認 / 担当者と話す), in the conversation's language."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.line.messages import (
    CardItem,
    CardTracking,
    LineMessage,
    OrderCard,
    QuickReply,
    order_card_message,
    text_messages,
)
from shop_app.answers.order_status import load_order_facts, order_context, order_state
from shop_app.i18n import catalogue, first_supported
from shop_app.models import Order, OrderLineItem, Shop
from shop_app.models.base import utcnow

QUICK_REPLY_KEYS = ("line.quick.order_status", "line.quick.stock", "line.quick.human")


def words(language: str | None) -> str:
    return first_supported(language)


def quick_replies(language: str | None) -> list[QuickReply]:
    text = catalogue(words(language)).text
    return [QuickReply(label=text(key), text=text(key)) for key in QUICK_REPLY_KEYS]


def reply_messages(
    text: str, *, language: str | None, restock_offer_url: str | None = None
) -> list[LineMessage]:
    """The bot's reply; a sold-out answer's first button opens the back-in-stock page (入荷お知らせ)."""
    buttons = quick_replies(language)
    if restock_offer_url is not None:
        label = catalogue(words(language)).text("notices.stock.button")
        buttons = [QuickReply(label=label, text=label, uri=restock_offer_url), *buttons]
    return text_messages(text, quick_replies=buttons)


async def order_card(
    session: AsyncSession, *, shop: Shop, order_shopify_id: int, language: str, alt_text: str
) -> LineMessage | None:
    """The order's card, or ``None`` when the mirror no longer holds it."""
    order = (
        await session.execute(
            select(Order).where(col(Order.shop_id) == shop.id, col(Order.shopify_id) == order_shopify_id)
        )
    ).scalar_one_or_none()
    if order is None:
        return None
    lang = words(language)
    text = catalogue(lang).text
    facts = await load_order_facts(session, order=order)
    context = order_context(facts, shop=shop, language=lang)
    state = order_state(facts, now=utcnow(), timezone=shop.iana_timezone)
    items = list(
        (
            await session.execute(
                select(OrderLineItem)
                .where(col(OrderLineItem.shop_id) == shop.id, col(OrderLineItem.order_id) == order.id)
                .order_by(col(OrderLineItem.id))
            )
        ).scalars()
    )
    trackings = [
        CardTracking(
            label=" ".join(
                part for part in (entry["company"] or shipment["carrier"], entry["number"]) if part
            ),
            url=entry["url"],
        )
        for shipment in context["shipments"]
        for entry in shipment["tracking"]
    ]
    card = OrderCard(
        title=text("line.card.title", order_name=order.name),
        state=text(f"line.state.{state.value}"),
        items_heading=text("line.card.items"),
        items=[
            CardItem(
                title=" ".join(part for part in (item.title, item.variant_title) if part),
                quantity=item.current_quantity if item.current_quantity is not None else item.quantity,
            )
            for item in items
        ],
        tracking_heading=text("line.card.tracking"),
        trackings=trackings,
        track_button_label=text("line.card.track"),
        alt_text=alt_text,
        more_items_label=text("line.card.more_items", count=max(0, len(items) - 10)),
    )
    return order_card_message(card, quick_replies=quick_replies(lang))
