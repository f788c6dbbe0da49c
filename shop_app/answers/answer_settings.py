"""A shop's choices for the bot: which intents it answers by itself, whether stock replies may give
exact counts, and the return window (days after delivery) it may tell a shopper about their order."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from shop_app.answers.shop_cache import forget_shop
from shop_app.answers.understanding.model import AUTO_INTENTS, Intent
from shop_app.errors import BadRequest
from shop_app.models import AnswerSettings, Shop
from shop_app.models.base import utcnow


@dataclass(frozen=True, slots=True)
class AnswerChoices:
    auto_reply: dict[str, bool]
    exact_stock_counts: bool
    return_window_days: int | None = None

    def answers(self, intent: Intent) -> bool:
        return intent in AUTO_INTENTS and self.auto_reply.get(intent.value, True)


def _choices(row: AnswerSettings | None) -> AnswerChoices:
    stored = row.auto_reply if row is not None else {}
    return AnswerChoices(
        auto_reply={intent.value: bool(stored.get(intent.value, True)) for intent in sorted(AUTO_INTENTS)},
        exact_stock_counts=row.exact_stock_counts if row is not None else False,
        return_window_days=row.return_window_days if row is not None else None,
    )


async def get_answer_settings(session: AsyncSession, *, shop_id: int) -> AnswerChoices:
    return _choices(await session.get(AnswerSettings, shop_id))


MAX_RETURN_WINDOW_DAYS = 365


async def set_return_window(session: AsyncSession, *, shop: Shop, days: int | None) -> AnswerChoices:
    """The merchant's return window (1–365 days after delivery), or None to forget it."""
    assert shop.id is not None
    if days is not None and not 1 <= days <= MAX_RETURN_WINDOW_DAYS:
        raise BadRequest(
            f"The return window is between 1 and {MAX_RETURN_WINDOW_DAYS} days", code="invalid_return_window"
        )
    row = await session.get(AnswerSettings, shop.id)
    if row is None:
        row = AnswerSettings(shop_id=shop.id)
        session.add(row)
    row.return_window_days = days
    row.updated_at = utcnow()
    await session.flush()
    forget_shop(shop.id)
    return _choices(row)


async def update_answer_settings(
    session: AsyncSession, *, shop: Shop, auto_reply: dict[str, bool] | None, exact_stock_counts: bool | None
) -> AnswerChoices:
    assert shop.id is not None
    row = await session.get(AnswerSettings, shop.id)
    if row is None:
        row = AnswerSettings(shop_id=shop.id)
        session.add(row)
    if auto_reply is not None:
        allowed = {intent.value for intent in AUTO_INTENTS}
        unknown = sorted(set(auto_reply) - allowed)
        if unknown:
            raise BadRequest(
                f"Only {', '.join(sorted(allowed))} are answered automatically; not {', '.join(unknown)}",
                code="invalid_intent",
            )
        row.auto_reply = {**row.auto_reply, **auto_reply}
    if exact_stock_counts is not None:
        row.exact_stock_counts = exact_stock_counts
    row.updated_at = utcnow()
    await session.flush()
    forget_shop(shop.id)
    return _choices(row)
