"""What the bot knows of a shop besides the message: its hints for understanding (the order name format,
product titles), its settings and template overrides, both cached briefly (``shop_cache``), and an order's
name in the shop's format."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.answer_settings import AnswerChoices, get_answer_settings
from shop_app.answers.shop_cache import cached, forget_shop, remember
from shop_app.answers.templates import shop_templates
from shop_app.answers.understanding.model import ShopHints
from shop_app.models import Order, Product, Shop

HINTS_TTL_SECONDS = 300.0
CONFIG_TTL_SECONDS = 30.0
MAX_HINT_TITLES = 2000
_ORDER_NAME = re.compile(r"^(\D*?)(\d+)(\D*)$")


# cached: the order name format and product titles change rarely
async def shop_hints(session: AsyncSession, *, shop: Shop) -> ShopHints:
    assert shop.id is not None
    known = cached("hints", shop=shop, ttl_seconds=HINTS_TTL_SECONDS)
    if isinstance(known, ShopHints):
        return known
    name = (
        await session.execute(
            select(col(Order.name))
            .where(col(Order.shop_id) == shop.id)
            .order_by(col(Order.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    prefix, suffix = "#", ""
    found = _ORDER_NAME.match(name or "")
    if found:
        prefix, suffix = found[1], found[3]
    titles = (
        await session.execute(
            select(col(Product.title))
            .where(col(Product.shop_id) == shop.id, col(Product.status).is_distinct_from("ARCHIVED"))
            .order_by(col(Product.id))
            .limit(MAX_HINT_TITLES)
        )
    ).scalars()
    hints = ShopHints(
        order_prefix=prefix,
        order_suffix=suffix,
        default_region=shop.country_code,
        product_titles=tuple(titles),
    )
    remember("hints", shop=shop, value=hints)
    return hints


def forget_shop_cache(shop_id: int) -> None:
    forget_shop(shop_id)


async def shop_config(
    session: AsyncSession, *, shop: Shop
) -> tuple[AnswerChoices, dict[tuple[str, str], str]]:
    """The shop's settings and its own templates (every language)."""
    assert shop.id is not None
    known = cached("config", shop=shop, ttl_seconds=CONFIG_TTL_SECONDS)
    if isinstance(known, tuple):
        return known
    found = (
        await get_answer_settings(session, shop_id=shop.id),
        await shop_templates(session, shop_id=shop.id),
    )
    remember("config", shop=shop, value=found)
    return found


def order_name(number: int, hints: ShopHints) -> str:
    return f"{hints.order_prefix}{number}{hints.order_suffix}"
