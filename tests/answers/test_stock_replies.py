"""Stock replies for every inventory situation: in stock, low, sold out, can be ordered now (CONTINUE),
restock expected; at the location asked about; exact counts only when the merchant allows; an ambiguous
product or a missing size or colour gets a question listing the options, and the answer to it is read
together with the question."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.answers import update_answer_settings
from shop_app.database import transaction
from shop_app.models import BotDecision, DecisionAction, Ticket
from tests.answers.answer_world import World, world

__all__ = ["world"]

TOKYO, OSAKA = 61, 62


def tee(stock: dict[int, tuple[int | None, int | None]], *, policy: str = "DENY") -> list[dict[str, Any]]:
    """A linen shirt in M and L, navy; the M variant carries the stock given."""
    return [
        {"options": [["Size", "M"], ["Color", "Navy"]], "stock": stock, "policy": policy},
        {"options": [["Size", "L"], ["Color", "Navy"]], "stock": {TOKYO: (40, 0)}},
    ]


SITUATIONS = {
    "in stock": (
        {TOKYO: (30, 0), OSAKA: (12, 0)},
        "DENY",
        "Linen Shirt (M / Navy) is in stock",
        "在庫がございます",
    ),
    "low stock": ({TOKYO: (2, 0), OSAKA: (1, 0)}, "DENY", "only a few left", "残りわずか"),
    "sold out": ({TOKYO: (0, 0), OSAKA: (0, 0)}, "DENY", "is sold out", "在庫切れです"),
    "backorder": ({TOKYO: (0, 0)}, "CONTINUE", "you can still order it", "ご注文いただけます"),
    "restock": ({TOKYO: (0, 24)}, "DENY", "a restock is on its way", "再入荷を予定"),
}
QUESTION = {
    "en": "Is the Linen Shirt in stock in size M navy?",
    "ja": "リネンシャツのMサイズ、ネイビーの在庫はありますか？",
}


async def _asked_about(world: World, ticket: Ticket) -> tuple[str | None, str | None]:
    """The product and variant the ticket's latest decision kept (for Insights)."""
    async with world.sessions() as session:
        row = (
            await session.execute(
                select(BotDecision)
                .where(col(BotDecision.ticket_id) == ticket.id)
                .order_by(col(BotDecision.id).desc())
                .limit(1)
            )
        ).scalar_one()
    return row.product_title, row.variant_title


@pytest.mark.anyio
@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("situation", list(SITUATIONS))
async def test_each_stock_situation_gets_its_reply(world: World, situation: str, language: str) -> None:
    stock, policy, english, japanese = SITUATIONS[situation]
    title = "Linen Shirt" if language == "en" else "リネンシャツ"
    await world.add_product(title, tee(stock, policy=policy))

    decision, ticket = await world.ask(QUESTION[language])

    assert decision.action == DecisionAction.REPLY, decision.reason
    assert decision.reply is not None
    assert decision.language == language
    assert (english if language == "en" else japanese) in decision.reply.replace(
        "リネンシャツ (M / Navy)", "X"
    )
    assert not any(str(n) in decision.reply for n in (30, 42, 12)), "no exact counts unless allowed"
    # kept for Insights: which product and variant the question was about
    assert await _asked_about(world, ticket) == (title, "M / Navy")


@pytest.mark.anyio
async def test_exact_counts_only_when_the_merchant_allows(world: World) -> None:
    await world.add_product("Linen Shirt", tee({TOKYO: (30, 0), OSAKA: (12, 0)}))
    before, _ = await world.ask(QUESTION["en"])
    async with transaction(world.sessions) as session:
        await update_answer_settings(session, shop=world.alpha, auto_reply=None, exact_stock_counts=True)

    after, _ = await world.ask(QUESTION["en"])

    assert before.reply is not None
    assert "42" not in before.reply
    assert after.reply is not None
    assert "(42 available)" in after.reply


@pytest.mark.anyio
async def test_a_named_location_is_answered_for_that_location(world: World) -> None:
    await world.add_location(TOKYO, "Tokyo Store")
    await world.add_location(OSAKA, "Osaka Store")
    await world.add_product("Linen Shirt", tee({TOKYO: (0, 0), OSAKA: (9, 0)}))

    at_tokyo, _ = await world.ask("Is the Linen Shirt in M navy in stock at the Tokyo Store?")
    at_osaka, _ = await world.ask("Is the Linen Shirt in M navy in stock at the Osaka Store?")

    assert at_tokyo.reply is not None
    assert "sold out at Tokyo Store" in at_tokyo.reply
    assert at_osaka.reply is not None
    assert "in stock at Osaka Store" in at_osaka.reply


@pytest.mark.anyio
async def test_a_missing_size_is_asked_for_and_the_answer_completes_the_question(world: World) -> None:
    await world.add_product(
        "Linen Shirt",
        [
            {"options": [["Size", "S"], ["Color", "Navy"]], "stock": {TOKYO: (0, 0)}},
            {"options": [["Size", "M"], ["Color", "Navy"]], "stock": {TOKYO: (30, 0)}},
            {"options": [["Size", "L"], ["Color", "Navy"]], "stock": {TOKYO: (0, 0)}},
        ],
    )

    asked, ticket = await world.ask("Linen Shirtのネイビーは在庫ありますか？")
    answered, _ = await world.ask("Mでお願いします", ticket=ticket)

    assert asked.action == DecisionAction.ASK
    assert await _asked_about(world, ticket) == ("Linen Shirt", "M / Navy")  # the answer completed it
    assert asked.reply is not None
    assert "S、M、L" in asked.reply
    assert "Color" not in asked.reply  # only the options still to choose
    assert answered.action == DecisionAction.REPLY
    assert answered.reply is not None
    assert "在庫がございます" in answered.reply


@pytest.mark.anyio
async def test_a_japanese_colour_name_finds_the_english_option(world: World) -> None:
    await world.add_product(
        "Linen Shirt",
        [
            {"options": [["Size", "M"], ["Color", "Navy"]], "stock": {TOKYO: (30, 0)}},
            {"options": [["Size", "M"], ["Color", "Black"]], "stock": {TOKYO: (0, 0)}},
        ],
    )

    navy, _ = await world.ask("Linen ShirtのMサイズで紺色はありますか？在庫を知りたいです")
    black, _ = await world.ask("Linen ShirtのMサイズ、黒の在庫はありますか？")

    assert navy.reply is not None
    assert "Linen Shirt (M / Navy)は在庫がございます" in navy.reply
    assert black.reply is not None
    assert "Linen Shirt (M / Black)は現在在庫切れです" in black.reply


@pytest.mark.anyio
async def test_an_ambiguous_or_unknown_product_gets_a_question(world: World) -> None:
    await world.add_product("Linen Shirt", tee({TOKYO: (30, 0)}))
    await world.add_product("Linen Shirt Long Sleeve", tee({TOKYO: (30, 0)}))
    await world.add_product("Linen Pants", tee({TOKYO: (30, 0)}))

    ambiguous, _ = await world.ask("Do you have anything linen in stock?")
    unknown, _ = await world.ask("Is the wool coat in stock?")

    assert ambiguous.action == DecisionAction.ASK
    assert unknown.action == DecisionAction.ASK
    assert unknown.reply is not None
    assert unknown.reply.startswith("Which product do you mean?")
    assert "Linen" not in unknown.reply


@pytest.mark.anyio
async def test_another_shops_products_are_never_answered(world: World) -> None:
    await world.add_product("Linen Shirt", tee({TOKYO: (30, 0)}), shop=world.beta)

    decision, _ = await world.ask(QUESTION["en"])

    assert decision.action == DecisionAction.ASK
    assert decision.reply is not None
    assert "in stock" not in decision.reply
