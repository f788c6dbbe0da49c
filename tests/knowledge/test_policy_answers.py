"""The bot answers a shop's policy questions from its policies and FAQ entries, in Japanese and English,
only when the match is confident; questions about the shopper's own order, and anything it cannot match
well, go to a person as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.database import transaction
from shop_app.knowledge.faq import FaqDraft, create_faq_entry, set_faq_entry_enabled
from shop_app.knowledge.policies import store_policies
from shop_app.models import BotDecision, DecisionAction, Shop
from tests.answers.answer_world import World, world
from tests.knowledge.policy_texts import records

__all__ = ["world"]


async def with_policies(world: World, shop: Shop, language: str) -> None:
    assert shop.id is not None
    async with transaction(world.sessions) as session:
        await store_policies(session, shop_id=shop.id, policies=records(language))


async def with_faq(world: World, shop: Shop, draft: FaqDraft) -> int:
    assert shop.id is not None
    async with transaction(world.sessions) as session:
        entry = await create_faq_entry(session, shop_id=shop.id, draft=draft)
    assert entry.id is not None
    return entry.id


WRAPPING = FaqDraft(
    questions_ja=["ギフトラッピングはできますか", "プレゼント用に包装してもらえますか"],
    questions_en=["Do you offer gift wrapping?", "Can you wrap my purchase as a present?"],
    answer_ja="ギフトラッピングは1点につき300円で承ります。ご注文時にお選びください。",
    answer_en="Gift wrapping is 300 yen per item; choose it at checkout.",
)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("language", "question", "expected", "passage"),
    [
        ("en", "What are your shipping costs?", "flat 800 yen", "policy:SHIPPING_POLICY#2"),
        ("en", "Do you ship to Canada?", "United States, Canada and Europe", "policy:SHIPPING_POLICY#3"),
        ("en", "What is your return policy?", "within 30 days of delivery", "policy:REFUND_POLICY#1"),
        ("ja", "送料はいくらですか", "全国一律800円", "policy:SHIPPING_POLICY#2"),
        ("ja", "海外発送はしていますか？", "EMSで発送", "policy:SHIPPING_POLICY#3"),
        ("ja", "返品の条件を教えてください", "30日以内であれば返品", "policy:REFUND_POLICY#1"),
    ],
)
async def test_a_policy_question_is_answered_with_a_quote_and_the_policy_link(
    world: World, language: str, question: str, expected: str, passage: str
) -> None:
    # given a shop whose policies are written in the shopper's language
    await with_policies(world, world.alpha, language)

    # when a shopper asks about them
    decision, _ = await world.ask(question)

    # then the bot quotes the passage and links the policy, and the audit names the passage
    assert decision.action == DecisionAction.REPLY, decision.reason
    assert decision.intent == "policy"
    assert decision.reply is not None
    assert expected in decision.reply
    assert "https://shop.example/policies/" in decision.reply
    assert passage in decision.reason
    async with world.sessions() as session:
        stored = (
            await session.execute(select(BotDecision).where(col(BotDecision.id) == decision.decision_id))
        ).scalar_one()
    assert passage in stored.reason


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Do you offer gift wrapping?", "300 yen per item"),
        ("ラッピングはできますか", "1点につき300円"),
    ],
)
async def test_a_faq_entry_answers_in_the_shoppers_language(world: World, question: str, answer: str) -> None:
    entry_id = await with_faq(world, world.alpha, WRAPPING)

    decision, _ = await world.ask(question)

    assert decision.action == DecisionAction.REPLY, decision.reason
    assert decision.reply is not None
    assert answer in decision.reply
    assert f"faq:{entry_id}" in decision.reason


@pytest.mark.anyio
async def test_a_switched_off_entry_no_longer_answers(world: World) -> None:
    assert world.alpha.id is not None
    entry_id = await with_faq(world, world.alpha, WRAPPING)
    async with transaction(world.sessions) as session:
        await set_faq_entry_enabled(session, shop_id=world.alpha.id, entry_id=entry_id, enabled=False)

    decision, _ = await world.ask("Do you offer gift wrapping?")

    assert decision.action == DecisionAction.HANDOFF
    assert "no confident policy answer" in decision.reason


@pytest.mark.anyio
async def test_another_shops_entries_and_policies_never_answer(world: World) -> None:
    await with_faq(world, world.beta, WRAPPING)
    await with_policies(world, world.beta, "en")

    for question in ("Do you offer gift wrapping?", "What are your shipping costs?"):
        decision, _ = await world.ask(question)
        assert decision.action == DecisionAction.HANDOFF, question


@pytest.mark.anyio
@pytest.mark.parametrize(
    "question",
    [
        "What are your business hours?",  # nothing written about it
        "営業時間を教えてください",
        "Do you offer gift wrapping for furniture deliveries by drone?",  # mostly words it never saw
    ],
)
async def test_a_question_without_a_confident_match_is_handed_off(world: World, question: str) -> None:
    await with_policies(world, world.alpha, "en")
    await with_faq(world, world.alpha, WRAPPING)

    decision, _ = await world.ask(question)

    assert decision.action == DecisionAction.HANDOFF, decision.reason
    assert decision.intent == "policy"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "question",
    [
        "Can I return order #1043?",
        "What is the return policy for my order #1043?",
        "注文#1043を返品できますか",
        "Can you gift wrap my order?",
    ],
)
async def test_a_question_about_the_shoppers_own_order_is_never_answered_from_policy_alone(
    world: World, question: str
) -> None:
    await with_policies(world, world.alpha, "ja" if "注文" in question else "en")
    await with_faq(world, world.alpha, WRAPPING)

    decision, _ = await world.ask(question)

    assert decision.action == DecisionAction.HANDOFF, decision.reason
    assert decision.reply is not None
    assert "30 days" not in decision.reply and "30日" not in decision.reply
    assert "300" not in decision.reply


@pytest.mark.anyio
async def test_policy_answers_can_be_switched_off(world: World) -> None:
    from shop_app.answers import update_answer_settings

    await with_policies(world, world.alpha, "en")
    async with transaction(world.sessions) as session:
        await update_answer_settings(
            session, shop=world.alpha, auto_reply={"policy": False}, exact_stock_counts=None
        )

    decision, _ = await world.ask("What are your shipping costs?")

    assert decision.action == DecisionAction.HANDOFF
    assert "switched off" in decision.reason
