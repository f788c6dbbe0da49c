"""'Can I return order #1043?' is answered from the order's delivery day and the shop's return window
together (never from the policy alone), only to a verified shopper, in Japanese and English; an order not
delivered, a window that has ended or is not set goes to a person. The window is read from the refund
policy's words to prefill the merchant's setting."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.answers.answer_settings import set_return_window
from shop_app.database import transaction
from shop_app.knowledge.return_window import detect_return_window
from shop_app.models import BotDecision, DecisionAction, Verification
from tests.answers.answer_world import NOW, World, world
from tests.knowledge.policy_texts import REFUND_EN, REFUND_JA, SHIPPING_EN, SHIPPING_JA
from tests.knowledge.test_policy_answers import with_policies

__all__ = ["world"]

DELIVERED = datetime(2026, 11, 19, 16, 0, tzinfo=UTC)  # the 20th in Tokyo
DELIVERED_SHIPMENT = {"display_status": "DELIVERED", "delivered_at": DELIVERED}


# ---- reading the window from the policy


@pytest.mark.parametrize(
    ("body", "days", "label"),
    [
        (REFUND_EN, 30, "policy:REFUND_POLICY#1"),
        (REFUND_JA, 30, "policy:REFUND_POLICY#1"),
        (
            "<h2>Exchanges</h2><p>Exchanges within 60 days.</p><h2>Returns</h2><p>Returns up to 14 days.</p>",
            14,
            "policy:REFUND_POLICY#2",
        ),
        ("<p>返品は商品到着後８日以内にご連絡ください。</p>", 8, "policy:REFUND_POLICY#1"),
        ("<p>We offer a 45-day return guarantee.</p>", 45, "policy:REFUND_POLICY#1"),
    ],
)
def test_the_window_is_read_from_the_passage_about_returns(body: str, days: int, label: str) -> None:
    found = detect_return_window(body)

    assert found is not None
    assert (found.days, found.label) == (days, label)
    assert str(days) in unicodedata.normalize("NFKC", found.text)  # shown as written, ８ and all


@pytest.mark.parametrize(
    "body",
    [
        SHIPPING_EN,  # days to deliver, not to return
        SHIPPING_JA,
        "<h2>Exchanges</h2><p>We exchange sizes within 30 days.</p>",
        "<p>Returns are not accepted.</p>",
        "<p>Returns within 9999 days.</p>",  # not a window anyone means
    ],
)
def test_no_window_is_read_where_none_is_stated(body: str) -> None:
    assert detect_return_window(body) is None


# ---- answering


async def _shop_with_window(world: World, language: str, days: int | None = 30) -> None:
    await with_policies(world, world.alpha, language)
    async with transaction(world.sessions) as session:
        await set_return_window(session, shop=world.alpha, days=days)


async def _stored_reason(world: World, decision_id: int | None) -> str:
    async with world.sessions() as session:
        row = (
            await session.execute(select(BotDecision).where(col(BotDecision.id) == decision_id))
        ).scalar_one()
    return row.reason


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("language", "question", "expected"),
    [
        (
            "en",
            "Can I return order #1043?",
            ["delivered on Nov 20, 2026", "within 30 days", "until Dec 20, 2026"],
        ),
        ("ja", "注文#1043を返品できますか", ["2026/11/20にお届け", "30日以内", "2026/12/20まで"]),
        ("ja", "#1043はいつまで返品できますか？", ["2026/11/20にお届け", "2026/12/20まで"]),
    ],
)
async def test_a_verified_shopper_hears_until_when_their_order_can_be_returned(
    world: World, language: str, question: str, expected: list[str]
) -> None:
    # given a shop whose return window is set, and order #1043 delivered on 20 November (Tokyo)
    await _shop_with_window(world, language)
    await world.add_order(1043, shipments=[DELIVERED_SHIPMENT], fulfillment_status="FULFILLED")

    # when an unverified shopper asks whether it can be returned, the bot first asks for the order's details
    asked, ticket = await world.ask(question)
    assert asked.action == DecisionAction.ASK, asked.reason
    assert asked.verification == Verification.NEEDED
    assert asked.reply is not None and "30" not in asked.reply

    # and once the shopper proves the order, it answers from the delivery day and the window together
    decision, _ = await world.ask("hanako@example.jp", ticket=ticket)
    assert decision.action == DecisionAction.REPLY, decision.reason
    assert decision.verification == Verification.ORDER_DETAILS
    assert decision.reply is not None
    for words in expected:
        assert words in decision.reply, decision.reply
    assert "https://shop.example/policies/refund-policy" in decision.reply
    # the audit names the passage the window came from and the order's facts
    reason = await _stored_reason(world, decision.decision_id)
    assert "policy:REFUND_POLICY#1" in reason
    assert "#1043 delivered 2026-11-20" in reason and "until 2026-12-20" in reason
    assert decision.order_name == "#1043"


@pytest.mark.anyio
async def test_a_signed_in_shopper_is_answered_at_once(world: World) -> None:
    from shop_app.answers import Trust

    await _shop_with_window(world, "en", days=14)
    await world.add_order(1043, shipments=[DELIVERED_SHIPMENT], fulfillment_status="FULFILLED")

    decision, _ = await world.ask(
        "Can I still return my order #1043?", trust=Trust(storefront_customer_id=501, source="widget:1")
    )

    assert decision.action == DecisionAction.REPLY, decision.reason
    assert decision.reply is not None
    assert "within 14 days" in decision.reply and "until Dec 4, 2026" in decision.reply
    # 14 days is the merchant's own number, not the policy's 30: the audit says so
    assert "the merchant's setting" in decision.reason


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("shipments", "days", "created_at", "why"),
    [
        ([{"display_status": "IN_TRANSIT"}], 30, NOW - timedelta(days=2), "#1043 order in_transit"),
        ([], 30, NOW - timedelta(days=2), "#1043 order not_shipped"),
        (
            [{"display_status": "DELIVERED", "delivered_at": NOW - timedelta(days=40)}],
            30,
            NOW - timedelta(days=45),
            "return window ended: #1043 delivered 2026-10-13",
        ),
        ([DELIVERED_SHIPMENT], None, NOW - timedelta(days=2), "return window is not set"),
    ],
)
async def test_what_the_bot_cannot_settle_goes_to_a_person_with_the_facts(
    world: World,
    shipments: list[dict[str, object]],
    days: int | None,
    created_at: datetime,
    why: str,
) -> None:
    from shop_app.answers import Trust

    await _shop_with_window(world, "en", days=days)
    await world.add_order(1043, shipments=shipments, created_at=created_at)

    decision, ticket = await world.ask(
        "Can I return order #1043?", trust=Trust(storefront_customer_id=501, source="widget:1")
    )

    assert decision.action == DecisionAction.HANDOFF, decision.reason
    assert why in decision.reason
    assert decision.reply is not None and "30 days" not in decision.reply
    assert "bot-handoff" in ticket.tags


@pytest.mark.anyio
async def test_another_customers_order_is_never_told(world: World) -> None:
    from shop_app.answers import Trust

    await _shop_with_window(world, "en")
    await world.add_order(1043, customer=777, shipments=[DELIVERED_SHIPMENT], fulfillment_status="FULFILLED")

    # signed in as Hanako, asking about someone else's order: asked for its details, told nothing
    decision, _ = await world.ask(
        "Can I return order #1043?", trust=Trust(storefront_customer_id=501, source="widget:1")
    )
    assert decision.action == DecisionAction.ASK
    assert decision.reply is not None and "Nov 20" not in decision.reply

    # and wrong details do not open it either
    wrong, _ = await world.ask("Can I return order #1043? my email is someone@example.com")
    assert wrong.action == DecisionAction.ASK
    assert wrong.verification == Verification.FAILED
    assert wrong.reply is not None and "Nov 20" not in wrong.reply


@pytest.mark.anyio
async def test_a_return_to_arrange_still_goes_to_a_person(world: World) -> None:
    from shop_app.answers import Trust

    await _shop_with_window(world, "en")
    await world.add_order(1043, shipments=[DELIVERED_SHIPMENT], fulfillment_status="FULFILLED")

    decision, _ = await world.ask(
        "I want to return order #1043, please send a label",
        trust=Trust(storefront_customer_id=501, source="widget:1"),
    )

    assert decision.action == DecisionAction.HANDOFF
    assert "return_exchange is for a person" in decision.reason
