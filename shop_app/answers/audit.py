"""What the console reads about the bot besides its answers: a ticket's stored decisions, and a reply
template previewed against a real order of the shop or the sample context."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.order_status import load_order_facts, order_context
from shop_app.answers.templates import SAMPLES, parse_key, render
from shop_app.errors import NotFound
from shop_app.formats.display import formatter
from shop_app.models import BotDecision, Order, OrderLineItem, Shop, Ticket
from shop_app.models.answers import TemplateGroup


async def ticket_decisions(session: AsyncSession, *, ticket: Ticket, limit: int = 200) -> list[BotDecision]:
    rows = await session.execute(
        select(BotDecision)
        .where(col(BotDecision.ticket_id) == ticket.id)
        .order_by(col(BotDecision.id))
        .limit(limit)
    )
    return list(rows.scalars())


async def preview_template(
    session: AsyncSession, *, shop: Shop, key: str, language: str, body: str, order_id: int | None
) -> str:
    """The template rendered against a real order of the shop (its Shopify id), or the sample reply."""
    chosen, lang = parse_key(key, language)
    context = dict(SAMPLES[chosen.group])
    if order_id is not None:
        order = (
            await session.execute(
                select(Order).where(col(Order.shop_id) == shop.id, col(Order.shopify_id) == order_id)
            )
        ).scalar_one_or_none()
        if order is None:
            raise NotFound("No such order", code="order_not_found")
        if chosen.group == TemplateGroup.ORDER:
            context = order_context(await load_order_facts(session, order=order), shop=shop, language=lang)
        elif chosen.group == TemplateGroup.GENERAL:
            day = formatter(lang, shop.iana_timezone, shop.currency_code).day_text(order.created_at)
            context.update(order_name=order.name, orders=[{"name": order.name, "ordered_on": day}])
        else:
            item = (
                await session.execute(
                    select(OrderLineItem)
                    .where(col(OrderLineItem.order_id) == order.id)
                    .order_by(col(OrderLineItem.id))
                    .limit(1)
                )
            ).scalar_one_or_none()
            if item is not None:
                context.update(
                    product=item.title,
                    variant=item.variant_title,
                    item=item.title + (f" ({item.variant_title})" if item.variant_title else ""),
                )
    context["shop_name"] = shop.name or shop.domain
    return render(body, context)
