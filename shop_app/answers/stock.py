"""Is it in stock: the product a shopper names, narrowed to one variant by the option values they gave
(sizes and colours in either language, or any value as the shop writes it: "ヒノキ", "プレミアム"), and its
stock over all locations (or at the location they named). An ambiguous product or a missing size or
colour gets a question listing the choices; the shopper's messages since the bot's first question are read
together, the newest value of each option winning."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from shop_app.answers.understanding.model import ShopHints, Understanding
from shop_app.formats.order_words import StockLevel, normalise_code, stock_level
from shop_app.models import InventoryLevel, Location, Product, ProductVariant, Shop
from shop_app.models.answers import TemplateKey

MAX_PRODUCT_CHOICES = 5
_WORDS = re.compile(r"[a-z0-9.]+|[^\sa-z0-9.,、。/・?？!！]+")
DEFAULT_VARIANT_TITLE = "Default Title"

Understander = Callable[..., Understanding]


@dataclass(frozen=True, slots=True)
class StockAnswer:
    key: TemplateKey
    context: dict[str, Any]
    reason: str
    handoff: bool = False
    product_ids: list[int] = field(default_factory=list)
    # the variant answered about and the locations asked about (none: anywhere), for a restock offer
    variant_shopify_id: int | None = None
    location_shopify_ids: tuple[int, ...] = ()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


@lru_cache(maxsize=4096)
def _option_words(value: str, understander: Understander) -> frozenset[str]:
    """What an option value means to the classifier: its size and colour words, and itself."""
    seen = understander(value, hints=ShopHints())
    return frozenset(
        {_fold(value), *(s.casefold() for s in seen.sizes), *(c.casefold() for c in seen.colours)}
    )


async def find_products(session: AsyncSession, *, shop_id: int, words: Sequence[str]) -> list[Product]:
    found: dict[int, Product] = {}
    exact: list[Product] = []
    for word in words[:5]:
        folded = word.strip()
        if not folded:
            continue
        pattern = "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = (
            await session.execute(
                select(Product)
                .where(
                    col(Product.shop_id) == shop_id,
                    col(Product.title).ilike(pattern, escape="\\"),
                    col(Product.status).is_distinct_from("ARCHIVED"),
                )
                .order_by(col(Product.id))
                .limit(MAX_PRODUCT_CHOICES + 1)
            )
        ).scalars()
        for product in rows:
            assert product.id is not None
            found.setdefault(product.id, product)
            if _fold(product.title) == _fold(folded):
                exact.append(product)
    return exact[:1] if len(exact) == 1 else list(found.values())


def _item_name(product: Product, variant: ProductVariant | None) -> str:
    if variant is None or variant.title == DEFAULT_VARIANT_TITLE:
        return product.title
    return f"{product.title} ({variant.title})"


def _options(variants: Sequence[ProductVariant]) -> list[dict[str, Any]]:
    """The options in which the variants differ, each with its values in the merchant's order."""
    values: dict[str, list[str]] = {}
    for variant in variants:
        for pair in variant.selected_options:
            if len(pair) == 2:
                values.setdefault(pair[0], [])
                if pair[1] not in values[pair[0]]:
                    values[pair[0]].append(pair[1])
    return [{"name": name, "values": found} for name, found in values.items() if len(found) > 1]


def _mentioned(value: str, folded: str, words: set[str], understander: Understander) -> bool:
    """Whether a message names an option value: by its size or colour word in either language ("紺" for
    Navy), as a word of its own ("M"), or written into Japanese text without spaces ("…ヒノキの在庫")."""
    if _option_words(value, understander) & words:
        return True
    own = _fold(value)
    return bool(own) and not own.isascii() and own in folded


def _chosen_values(
    variants: Sequence[ProductVariant], texts: Sequence[str], product: Product, understander: Understander
) -> dict[str, set[str]]:
    """Per option, the values the newest message naming any of them names."""
    values: dict[str, list[str]] = {}
    for variant in variants:
        for pair in variant.selected_options:
            if len(pair) == 2 and pair[1] not in values.setdefault(pair[0], []):
                values[pair[0]].append(pair[1])
    title = _fold(product.title)
    read = []
    for text in reversed(texts):  # newest first
        folded = _fold(text).replace(title, " ")
        seen = understander(text, hints=ShopHints())
        words = (
            set(_WORDS.findall(folded))
            | {s.casefold() for s in seen.sizes}
            | {c.casefold() for c in seen.colours}
        )
        read.append((folded, words))
    chosen: dict[str, set[str]] = {}
    for name, options in values.items():
        for folded, words in read:
            named = {value for value in options if _mentioned(value, folded, words, understander)}
            if named:
                chosen[name] = named
                break
    return chosen


def _fits(variant: ProductVariant, chosen: dict[str, set[str]]) -> bool:
    own = {pair[0]: pair[1] for pair in variant.selected_options if len(pair) == 2}
    return all(own.get(name) in values for name, values in chosen.items())


async def answer_stock(
    session: AsyncSession,
    *,
    shop: Shop,
    understanding: Understanding,
    texts: Sequence[str],
    exact_counts: bool,
    understander: Understander,
) -> StockAnswer:
    """``texts``: the shopper's messages on this question, oldest first, the one being answered last."""
    assert shop.id is not None
    base: dict[str, Any] = {
        "shop_name": shop.name or shop.domain,
        "item": "",
        "product": "",
        "variant": None,
        "available": None,
        "incoming": None,
        "location": None,
        "options": [],
        "products": [],
    }
    products = await find_products(session, shop_id=shop.id, words=understanding.product_words)
    if len(products) != 1:
        titles = [product.title for product in products[:MAX_PRODUCT_CHOICES]]
        reason = "no product named" if not products else "several products match"
        return StockAnswer(TemplateKey.STOCK_ASK_PRODUCT, {**base, "products": titles}, reason)
    product = products[0]
    variants = list(
        (
            await session.execute(
                select(ProductVariant)
                .where(col(ProductVariant.shop_id) == shop.id, col(ProductVariant.product_id) == product.id)
                .order_by(col(ProductVariant.id))
            )
        ).scalars()
    )
    base = {**base, "product": product.title, "item": product.title}
    chosen = _chosen_values(variants, texts, product, understander)
    narrowed = [v for v in variants if _fits(v, chosen)]
    if len(narrowed) != 1:
        options = _options(narrowed or variants)
        if not options:
            return StockAnswer(TemplateKey.STOCK_UNKNOWN, base, "variants cannot be told apart", handoff=True)
        return StockAnswer(
            TemplateKey.STOCK_ASK_VARIANT,
            {**base, "options": options},
            "size or colour missing" if narrowed else "no variant with that size or colour",
        )
    variant = narrowed[0]
    base = {**base, "variant": variant.title, "item": _item_name(product, variant)}
    rows = (
        await session.execute(
            select(InventoryLevel, col(Location.name))
            .outerjoin(
                Location,
                (col(Location.shop_id) == col(InventoryLevel.shop_id))
                & (col(Location.shopify_id) == col(InventoryLevel.location_shopify_id)),
            )
            .where(
                col(InventoryLevel.shop_id) == shop.id,
                col(InventoryLevel.inventory_item_shopify_id) == variant.inventory_item_shopify_id,
            )
        )
    ).all()
    folded = _fold(" ".join(texts))
    named = [(level, name) for level, name in rows if name and _fold(name) in folded]
    location = named[0][1] if named else None
    levels = [level for level, _ in named] if named else [level for level, _ in rows]
    known_available = [level.available for level in levels if level.available is not None]
    available = sum(known_available) if known_available else None
    incoming = sum(level.incoming or 0 for level in levels)
    level = stock_level(available, policy=variant.inventory_policy)
    context = {
        **base,
        "location": location,
        "available": available if exact_counts and available is not None and available > 0 else None,
        "incoming": incoming if exact_counts and incoming > 0 else None,
    }
    if location is not None and level == StockLevel.BACKORDER:
        level = StockLevel.SOLD_OUT  # selling on is a shop-wide promise, not a shelf at that location
    if level == StockLevel.UNKNOWN:
        return StockAnswer(TemplateKey.STOCK_UNKNOWN, context, "no stock levels mirrored", handoff=True)
    asked_at = tuple(sorted({lv.location_shopify_id for lv in levels})) if named else ()
    if level == StockLevel.SOLD_OUT and incoming > 0:
        return StockAnswer(
            TemplateKey.STOCK_RESTOCK,
            context,
            "sold out, restock incoming",
            variant_shopify_id=variant.shopify_id,
            location_shopify_ids=asked_at,
        )
    key = {
        StockLevel.IN_STOCK: TemplateKey.STOCK_IN_STOCK,
        StockLevel.LOW_STOCK: TemplateKey.STOCK_LOW,
        StockLevel.SOLD_OUT: TemplateKey.STOCK_SOLD_OUT,
        StockLevel.BACKORDER: TemplateKey.STOCK_BACKORDER,
    }[level]
    policy = normalise_code(variant.inventory_policy)
    return StockAnswer(
        key,
        context,
        f"stock {level.value.lower()} (policy {policy.lower()})",
        variant_shopify_id=variant.shopify_id,
        location_shopify_ids=asked_at,
    )
