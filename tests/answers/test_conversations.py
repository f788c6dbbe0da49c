"""Conversations as first users had them: a bare postcode after an order question, a US ZIP in Japanese,
replies in the conversation's language, handoff notes in the agent's, a stock question answered over
several turns without asking again, a verified shopper linked to the order's customer, and a settled
conversation resolved by the bot (reopened when the shopper writes again)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.answers import Trust
from shop_app.database import transaction
from shop_app.helpdesk.customer_matching import link_reason_text
from shop_app.helpdesk.tickets import list_tickets, update_ticket
from shop_app.models import (
    Agent,
    AuthorType,
    DecisionAction,
    LinkReason,
    Membership,
    Message,
    Ticket,
    TicketStatus,
    Verification,
)
from tests.answers.answer_world import HANAKO, World, world

__all__ = ["world"]

IN_TRANSIT = [
    {"display_status": "IN_TRANSIT", "tracking": [{"number": "444413758703", "company": "ヤマト運輸"}]}
]
TOKYO = 61


@pytest.mark.anyio
async def test_a_bare_postcode_after_an_order_question_verifies_that_order(world: World) -> None:
    await world.add_order(1004, zip_code="160-0023", shipments=IN_TRANSIT)

    asked, ticket = await world.ask("注文#1004はいつ届きますか？")
    answered, _ = await world.ask("1600023", ticket=ticket)

    assert asked.action == DecisionAction.ASK
    assert answered.action == DecisionAction.REPLY
    assert answered.verification == Verification.ORDER_DETAILS
    assert answered.order_name == "#1004"
    assert answered.language == "ja"
    assert answered.reply is not None
    assert "444413758703" in answered.reply
    assert "1600023" not in answered.reply


@pytest.mark.anyio
async def test_a_us_zip_in_a_japanese_message_verifies_like_an_english_one(world: World) -> None:
    await world.add_order(1004, zip_code="10001", shipments=IN_TRANSIT)

    in_japanese, _ = await world.ask("注文#1004の配送状況を教えてください。郵便番号は10001です")
    in_english, _ = await world.ask("Where is order #1004? My zip code is 10001")

    assert in_japanese.verification == in_english.verification == Verification.ORDER_DETAILS
    assert in_japanese.action == in_english.action == DecisionAction.REPLY
    assert in_japanese.order_name == "#1004"


@pytest.mark.anyio
async def test_a_reply_follows_the_conversations_language_not_the_last_messages_script(world: World) -> None:
    await world.add_order(1004, zip_code="160-0023", fulfillment_orders=[{"status": "ON_HOLD"}])
    await world.add_product("リネンシャツ", [{"options": [["サイズ", "M"]], "stock": {TOKYO: (9, 0)}}])

    # a question the bot asks back, answered with numbers only
    asked, ticket = await world.ask("注文の配送状況を教えてください")
    on_hold, ticket = await world.ask("#1004 160-0023", ticket=ticket)
    # and numbers only after a question the bot settled
    answered, settled = await world.ask("リネンシャツのMの在庫はありますか？")
    handed, _ = await world.ask("#1004 160-0023", ticket=settled)

    assert asked.language == on_hold.language == "ja"
    assert on_hold.action == DecisionAction.HANDOFF
    assert on_hold.reply is not None
    assert "保留" in on_hold.reply
    assert answered.action == DecisionAction.REPLY
    assert handed.action == DecisionAction.HANDOFF
    assert handed.language == "ja"
    assert (
        handed.reply
        == "お問い合わせありがとうございます。担当者より順次ご返信いたしますので、少々お待ちください。"
    )


@pytest.mark.anyio
async def test_a_message_without_words_is_answered_in_the_shops_language(world: World) -> None:
    in_a_japanese_shop, _ = await world.ask("#1004 160-0023")
    in_an_english_shop, _ = await world.ask("#1004 10001", shop=world.beta)

    assert in_a_japanese_shop.language == "ja"
    assert in_an_english_shop.language == "en"


async def _note(world: World, ticket: Ticket) -> str:
    notes = [m.body for m in await world.messages(ticket) if m.author_type == AuthorType.NOTE]
    assert len(notes) == 1
    return notes[0]


@pytest.mark.anyio
async def test_handoff_notes_are_in_the_agents_language_in_words_not_codes(world: World) -> None:
    # given a Japanese shop, one conversation unassigned and one assigned to an agent who reads English
    unassigned = await world.open("こんにちは")
    assigned = await world.open("hello")
    async with transaction(world.sessions) as session:
        agent = Agent(email="sam@example.com", name="Sam", password_hash="x", locale="en")
        session.add(agent)
        await session.flush()
        assert agent.id is not None and world.alpha.id is not None
        session.add(Membership(shop_id=world.alpha.id, agent_id=agent.id))
        await session.flush()
        await update_ticket(
            session, ticket=await session.get_one(Ticket, assigned.id), assignee_id=agent.id, assign=True
        )

    # when both ask something that is for a person
    await world.ask("コートの素材は何ですか", ticket=unassigned)
    await world.ask("What material is the coat made of?", ticket=assigned)

    # then each note is in its reader's language, with no intent, state or verification codes
    japanese, english = await _note(world, unassigned), await _note(world, assigned)
    assert "その他のお問い合わせは担当者が対応します" in japanese
    assert "本人確認：不要" in japanese
    assert "A person handles another question." in english
    assert "verification: not needed" in english
    for note in (japanese, english):
        for code in ("other is for a person", "not_needed", "order_status", "other (", "en:", "ja:"):
            assert code not in note


@pytest.mark.anyio
async def test_a_product_and_an_option_value_in_one_japanese_message_find_the_variant(world: World) -> None:
    await world.add_product(
        "日焼け止めジェル(プレミアム)",
        [
            {"options": [["香り", "無香料"]], "stock": {TOKYO: (0, 0)}},
            {"options": [["香り", "ゆず"]], "stock": {TOKYO: (4, 0)}},
            {"options": [["香り", "ヒノキ"]], "stock": {TOKYO: (30, 0)}},
        ],
    )

    decision, _ = await world.ask("日焼け止めジェル(プレミアム) ヒノキの在庫はありますか？")

    assert decision.action == DecisionAction.REPLY, decision.reason
    assert decision.reply is not None
    assert decision.reply.startswith("日焼け止めジェル(プレミアム) (ヒノキ)は在庫がございます")


@pytest.mark.anyio
async def test_what_the_shopper_said_is_kept_over_every_turn_of_a_stock_question(world: World) -> None:
    await world.add_product(
        "オーガニックコットンTシャツ",
        [
            {"options": [["カラー", "白"], ["サイズ", "S"]], "stock": {TOKYO: (9, 0)}},
            {"options": [["カラー", "白"], ["サイズ", "M"]], "stock": {TOKYO: (0, 0)}},
            {"options": [["カラー", "黒"], ["サイズ", "S"]], "stock": {TOKYO: (0, 0)}},
            {"options": [["カラー", "黒"], ["サイズ", "M"]], "stock": {TOKYO: (9, 0)}},
        ],
    )

    first, ticket = await world.ask("オーガニックコットンTシャツの在庫はありますか？")
    colour, ticket = await world.ask("白", ticket=ticket)
    size, ticket = await world.ask("S", ticket=ticket)

    assert first.action == colour.action == DecisionAction.ASK
    assert colour.reply is not None
    assert "サイズ：S、M" in colour.reply
    assert "カラー" not in colour.reply
    assert size.action == DecisionAction.REPLY, size.reason
    assert size.reply is not None
    assert size.reply.startswith("オーガニックコットンTシャツ (白 / S)は在庫がございます")


@pytest.mark.anyio
@pytest.mark.parametrize("customer", [HANAKO, None], ids=["customer", "guest"])
async def test_a_shopper_verified_by_order_details_is_linked_to_that_orders_customer(
    world: World, customer: int | None
) -> None:
    await world.add_order(1004, customer=customer, shipments=IN_TRANSIT)
    unlinked_by_agent = await world.open("hello")
    async with transaction(world.sessions) as session:
        (await session.get_one(Ticket, unlinked_by_agent.id)).unlinked_by_agent = True

    wrong, not_proved = await world.ask("Where is order #1004? My email is someone@example.com")
    decision, ticket = await world.ask("Where is order #1004? My email is hanako@example.jp")
    also_proved, kept_unlinked = await world.ask(
        "Where is order #1004? My email is hanako@example.jp", ticket=unlinked_by_agent
    )

    assert wrong.verification == Verification.FAILED
    assert not_proved.link_reason is None
    assert also_proved.verification == Verification.ORDER_DETAILS
    assert kept_unlinked.link_reason is None  # an agent said "not this customer": a proof does not undo it
    assert decision.verification == Verification.ORDER_DETAILS
    assert ticket.link_reason == LinkReason.VERIFIED_ORDER
    assert ticket.customer_shopify_id == customer
    assert ticket.guest_email == (None if customer else "hanako@example.jp")
    async with world.sessions() as session:
        assert await link_reason_text(session, ticket=ticket, locale="en") == "verified order #1004"
        assert await link_reason_text(session, ticket=ticket, locale="ja") == "注文#1004で本人確認"


@pytest.mark.anyio
async def test_a_settled_conversation_is_resolved_by_the_bot_until_the_shopper_writes_again(
    world: World,
) -> None:
    await world.add_order(1004, shipments=IN_TRANSIT)
    signed_in = Trust(storefront_customer_id=HANAKO, source="ip:198.51.100.4")

    answered, ticket = await world.ask("注文#1004はいつ届きますか？", trust=signed_in)
    open_queue = await _open_ids(world)
    thanked, ticket_after_thanks = await world.ask("ありがとうございます", ticket=ticket, trust=signed_in)
    again, reopened = await world.ask("返品したいのですが", ticket=ticket, trust=signed_in)

    assert answered.action == DecisionAction.REPLY
    assert ticket.status == TicketStatus.RESOLVED
    assert ticket.resolved_by_bot is True
    assert ticket.resolved_at is not None
    assert ticket.id not in open_queue
    assert thanked.action == DecisionAction.SILENT
    assert ticket_after_thanks.status == TicketStatus.RESOLVED
    assert ticket_after_thanks.resolved_by_bot is True
    assert again.action == DecisionAction.HANDOFF
    assert reopened.status == TicketStatus.OPEN
    assert reopened.resolved_by_bot is False
    assert reopened.resolved_at is None
    assert reopened.id in await _open_ids(world)


@pytest.mark.anyio
async def test_a_conversation_waiting_on_the_shoppers_answer_is_not_in_the_open_queue(world: World) -> None:
    asked, ticket = await world.ask("Where is my order?")

    assert asked.action == DecisionAction.ASK
    assert ticket.status == TicketStatus.PENDING
    assert ticket.resolved_by_bot is False
    assert ticket.id not in await _open_ids(world)
    async with world.sessions() as session:
        replies = (
            await session.execute(
                select(Message).where(col(Message.ticket_id) == ticket.id, col(Message.author_type) == "bot")
            )
        ).all()
    assert len(replies) == 1


async def _open_ids(world: World) -> set[int | None]:
    async with world.sessions() as session:
        page = await list_tickets(session, shop=world.alpha, status=TicketStatus.OPEN, limit=100)
    return {row.ticket.id for row in page.rows}
