"""The decision around the answers: person-only intents, asking for a person, anger, low confidence and
switched-off intents go to the agents' queue with a summary note; the bot never says the same thing twice;
it is silent once an agent has replied or it has handed off; every decision is stored for the audit."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.answers import (
    HANDOFF_TAG,
    PRIORITY_TAG,
    Trust,
    answer_message,
    ticket_decisions,
    update_answer_settings,
)
from shop_app.answers.handoff_notes import reason_words
from shop_app.answers.understanding import understand
from shop_app.answers.understanding.model import Intent, ShopHints, Understanding
from shop_app.database import transaction
from shop_app.helpdesk.tickets import post_message, update_ticket
from shop_app.models import AuthorType, BotDecision, DecisionAction, Ticket, TicketStatus, Verification
from tests.answers.answer_world import HANAKO, NOW, VISITOR, World, world

__all__ = ["world"]

SIGNED_IN = Trust(storefront_customer_id=HANAKO, source="ip:198.51.100.4")
IN_TRANSIT = [
    {"display_status": "IN_TRANSIT", "tracking": [{"number": "444413758703", "company": "佐川急便"}]}
]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("text", "reason", "priority"),
    [
        ("I want to cancel my order #1001", "cancel is for a person", False),
        ("注文した商品を返品したいです", "return_exchange is for a person", False),
        ("Talk to a human please", "asked for a person", False),
        ("This is ridiculous, where is my order #1001?? Still nothing!", "anger or complaint", True),
    ],
)
async def test_person_only_intents_anger_and_asking_for_a_person_go_to_the_queue(
    world: World, text: str, reason: str, priority: bool
) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)
    ticket = await world.open("hello")
    async with transaction(world.sessions) as session:
        await update_ticket(
            session, ticket=await session.get_one(Ticket, ticket.id), status=TicketStatus.PENDING
        )

    decision, ticket = await world.ask(text, ticket=ticket, trust=SIGNED_IN)

    assert decision.action == DecisionAction.HANDOFF
    assert decision.reason == reason
    assert decision.priority is priority
    assert ticket.status == TicketStatus.OPEN
    assert HANDOFF_TAG in ticket.tags
    assert (PRIORITY_TAG in ticket.tags) is priority
    messages = await world.messages(ticket)
    bot, note = messages[-2], messages[-1]
    assert bot.author_type == AuthorType.BOT
    assert bot.body == decision.reply
    assert note.author_type == AuthorType.NOTE
    assert reason_words(reason, locale="ja") in note.body  # in words, in the shop's language
    assert reason not in note.body
    assert f"（確信度 {decision.confidence:.2f}）" in note.body  # the shop works in Japanese
    assert "444413758703" not in (decision.reply or "")


@pytest.mark.anyio
async def test_low_confidence_hands_off_even_for_an_order_question(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)

    def unsure(text: str, *, hints: ShopHints) -> Understanding:
        return replace(understand(text, hints=hints), intent=Intent.ORDER_STATUS, confidence=0.41)

    ticket = await world.open("#1001?")
    message = (await world.messages(ticket))[0]
    async with transaction(world.sessions) as session:
        fresh = await session.get_one(Ticket, ticket.id)
        decision = await answer_message(
            session,
            shop=world.alpha,
            ticket=fresh,
            message=message,
            trust=SIGNED_IN,
            now=NOW,
            understander=unsure,
        )

    assert decision.action == DecisionAction.HANDOFF
    assert decision.reason.startswith("low confidence (0.41")


@pytest.mark.anyio
async def test_a_switched_off_intent_goes_to_a_person(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)
    async with transaction(world.sessions) as session:
        await update_answer_settings(
            session, shop=world.alpha, auto_reply={"order_status": False}, exact_stock_counts=None
        )

    decision, _ = await world.ask("Where is my order #1001?", trust=SIGNED_IN)

    assert decision.action == DecisionAction.HANDOFF
    assert decision.reason == "automatic order_status replies are switched off"


@pytest.mark.anyio
async def test_the_bot_never_repeats_itself(world: World) -> None:
    first, ticket = await world.ask("Where is my order?")
    second, ticket = await world.ask("Where is my order???", ticket=ticket)
    third, ticket = await world.ask("hello?", ticket=ticket)

    assert first.action == DecisionAction.ASK
    assert second.action == DecisionAction.HANDOFF
    assert second.reason.startswith("would repeat itself")
    assert second.reply != first.reply
    assert third.action == DecisionAction.SILENT
    bot_bodies = [m.body for m in await world.messages(ticket) if m.author_type == AuthorType.BOT]
    assert len(bot_bodies) == len(set(bot_bodies)) == 2


@pytest.mark.anyio
async def test_silent_once_an_agent_has_replied(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)
    ticket = await world.open("hello")
    async with transaction(world.sessions) as session:
        await post_message(
            session, ticket=await session.get_one(Ticket, ticket.id), author_type=AuthorType.AGENT, body="Hi!"
        )

    decision, ticket = await world.ask("Where is my order #1001?", ticket=ticket, trust=SIGNED_IN)

    assert decision.action == DecisionAction.SILENT
    assert decision.reply is None
    assert decision.reason == "an agent has replied in this ticket"
    assert [m.author_type for m in await world.messages(ticket)] == [
        AuthorType.CUSTOMER,
        AuthorType.AGENT,
        AuthorType.CUSTOMER,
    ]


@pytest.mark.anyio
async def test_every_decision_is_stored_with_its_inputs(world: World) -> None:
    await world.add_order(1001, shipments=IN_TRANSIT)

    decision, ticket = await world.ask("Where is my order #1001?", trust=SIGNED_IN)
    dry, _ = await world.ask("And when will #1001 arrive?", ticket=ticket, trust=VISITOR, post=False)

    async with world.sessions() as session:
        rows = await ticket_decisions(session, ticket=ticket)
        stored = (
            await session.execute(select(BotDecision).where(col(BotDecision.id) == decision.decision_id))
        ).scalar_one()
    assert [row.id for row in rows] == [decision.decision_id, dry.decision_id]
    assert stored.intent == "order_status"
    assert stored.confidence == decision.confidence
    assert stored.order_name == "#1001"
    assert stored.order_shopify_id == decision.order_id
    assert stored.verification == Verification.STOREFRONT
    assert stored.action == DecisionAction.REPLY
    assert stored.reply == decision.reply
    assert stored.reason == "order in_transit"
    assert stored.reply_message_id == decision.reply_message_id
    assert stored.message_id is not None
    assert rows[1].reply_message_id is None  # not posted
    assert rows[1].verification == Verification.NEEDED
    assert len(await world.messages(ticket)) == 3  # the dry run posted nothing
