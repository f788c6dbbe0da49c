"""Order-status replies for every state of an order, in Japanese and in English, with dates in the shop's
time zone and every tracking number with its link; delayed and failed deliveries apologise and go to a
person with priority; "not received" after delivery goes to a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shop_app.answers import HANDOFF_TAG, PRIORITY_TAG, Trust
from shop_app.models import DecisionAction, Verification
from tests.answers.answer_world import HANAKO, NOW, World, world

__all__ = ["world"]

SIGNED_IN = Trust(storefront_customer_id=HANAKO, source="ip:198.51.100.4")
QUESTION = {"ja": "注文番号1001の配送状況を教えてください", "en": "Where is my order #1001?"}
YAMATO = {"number": "4444-1375-8703", "company": "ヤマト運輸"}
SAGAWA = {"number": "123456789012", "company": "佐川急便"}
LATE_UTC = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # already the 25th in Tokyo
DELIVERED_UTC = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)  # the 22nd in Tokyo


def event(status: str) -> dict[str, Any]:
    return {"status": status, "happened_at": (NOW - timedelta(hours=2)).isoformat()}


# state: (order fields, action, priority, Japanese fragments, English fragments)
STATES: dict[str, tuple[dict[str, Any], DecisionAction, bool, list[str], list[str]]] = {
    "not_shipped": (
        {"fulfillment_orders": [{"status": "OPEN", "fulfill_at": LATE_UTC}]},
        DecisionAction.REPLY,
        False,
        ["#1001", "2026/11/25に発送の予定です"],
        ["#1001", "has not shipped yet", "Nov 25, 2026"],
    ),
    "on_hold": (
        {"fulfillment_orders": [{"status": "ON_HOLD"}]},
        DecisionAction.HANDOFF,
        False,
        ["保留"],
        ["on hold"],
    ),
    "partially_shipped": (
        {
            "shipments": [{"display_status": "IN_TRANSIT", "tracking": [YAMATO]}],
            "fulfillment_orders": [{"status": "OPEN"}],
        },
        DecisionAction.REPLY,
        False,
        ["一部を発送", "4444-1375-8703", "kuronekoyamato.co.jp", "id=444413758703"],
        ["Part of your order", "4444-1375-8703", "kuronekoyamato.co.jp"],
    ),
    "label_created": (
        {"shipments": [{"display_status": "LABEL_PURCHASED", "tracking": [YAMATO]}]},
        DecisionAction.REPLY,
        False,
        ["送り状を発行"],
        ["shipping label has been created"],
    ),
    "in_transit": (
        {
            "shipments": [
                {
                    "display_status": "IN_TRANSIT",
                    "tracking": [YAMATO, SAGAWA],
                    "estimated_delivery_at": LATE_UTC,
                }
            ]
        },
        DecisionAction.REPLY,
        False,
        [
            "お届けに向かっております",
            "2026/11/25",
            "ヤマト運輸 追跡番号: 4444-1375-8703",
            "sagawa-exp.co.jp",
            "123456789012",
        ],
        [
            "on its way",
            "Nov 25, 2026",
            "Yamato Transport tracking number: 4444-1375-8703",
            "Sagawa Express tracking number: 123456789012",
            "sagawa-exp.co.jp",
        ],
    ),
    "out_for_delivery": (
        {
            "shipments": [
                {"display_status": "IN_TRANSIT", "tracking": [YAMATO], "events": [event("OUT_FOR_DELIVERY")]}
            ]
        },
        DecisionAction.REPLY,
        False,
        ["本日配達中"],
        ["out for delivery"],
    ),
    "delivered": (
        {"shipments": [{"display_status": "DELIVERED", "delivered_at": DELIVERED_UTC}]},
        DecisionAction.REPLY,
        False,
        ["2026/11/22に配達が完了", "お受け取りになっていない場合"],
        ["delivered on Nov 22, 2026", "If you have not received it"],
    ),
    "delayed": (
        {"shipments": [{"display_status": "DELAYED", "tracking": [YAMATO]}]},
        DecisionAction.HANDOFF,
        True,
        ["申し訳ございません", "遅れ", "4444-1375-8703"],
        ["We are sorry", "delayed", "4444-1375-8703"],
    ),
    "failed_attempt": (
        {
            "shipments": [
                {
                    "display_status": "IN_TRANSIT",
                    "tracking": [YAMATO],
                    "events": [event("ATTEMPTED_DELIVERY")],
                }
            ]
        },
        DecisionAction.HANDOFF,
        True,
        ["お届けできず", "再配達", "kuronekoyamato.co.jp"],
        ["could not deliver", "redelivery", "kuronekoyamato.co.jp"],
    ),
    "cancelled": (
        {"cancelled_at": DELIVERED_UTC, "cancel_reason": "CUSTOMER"},
        DecisionAction.REPLY,
        False,
        ["2026/11/22にキャンセル"],
        ["was cancelled on Nov 22, 2026"],
    ),
    "refunded": (
        {"financial_status": "REFUNDED", "total_refunded": "3300"},
        DecisionAction.REPLY,
        False,
        ["返金の手続きが完了", "3,300"],
        ["has been refunded", "3,300"],
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("state", list(STATES))
async def test_each_order_state_is_answered_in_the_shoppers_language(
    world: World, state: str, language: str
) -> None:
    fields, action, priority, japanese, english = STATES[state]
    await world.add_order(1001, **fields)

    decision, ticket = await world.ask(QUESTION[language], trust=SIGNED_IN)

    assert decision.reason == f"order {state}"
    assert decision.action == action
    assert decision.priority is priority
    assert decision.language == language
    assert decision.verification == Verification.STOREFRONT
    assert decision.order_name == "#1001"
    assert decision.reply is not None
    for fragment in japanese if language == "ja" else english:
        assert fragment in decision.reply
    posted = await world.messages(ticket)
    assert posted[1].body == decision.reply
    if action == DecisionAction.HANDOFF:
        assert HANDOFF_TAG in ticket.tags
        assert (PRIORITY_TAG in ticket.tags) is priority
    else:
        assert ticket.tags == []


@pytest.mark.anyio
async def test_an_order_that_is_not_the_signed_in_customers_is_not_described(world: World) -> None:
    await world.add_order(
        1001, customer=999, shipments=[{"display_status": "IN_TRANSIT", "tracking": [YAMATO]}]
    )

    decision, _ = await world.ask(QUESTION["en"], trust=SIGNED_IN)

    assert decision.action == DecisionAction.ASK
    assert decision.verification == Verification.NEEDED
    assert decision.reply is not None
    assert "4444" not in decision.reply


@pytest.mark.anyio
async def test_delivered_but_not_received_goes_to_a_person_with_priority(world: World) -> None:
    await world.add_order(1001, shipments=[{"display_status": "DELIVERED", "delivered_at": DELIVERED_UTC}])

    decision, ticket = await world.ask("注文1001が配達済みになっていますが、届いていません", trust=SIGNED_IN)

    assert decision.action == DecisionAction.HANDOFF
    assert decision.priority is True
    assert decision.reason == "delivered but not received"
    assert {HANDOFF_TAG, PRIORITY_TAG} <= set(ticket.tags)


@pytest.mark.anyio
async def test_the_shops_own_order_name_format_is_used(world: World) -> None:
    await world.add_order(
        2001, prefix="SHOP-", shipments=[{"display_status": "IN_TRANSIT", "tracking": [YAMATO]}]
    )

    decision, _ = await world.ask("Where is my order 2001?", trust=SIGNED_IN)

    assert decision.order_name == "SHOP-2001"
    assert decision.action == DecisionAction.REPLY
    assert decision.reply is not None
    assert "SHOP-2001" in decision.reply


@pytest.mark.anyio
async def test_a_signed_in_customer_with_one_open_order_gets_it_without_naming_it(world: World) -> None:
    await world.add_order(1001, created_at=NOW - timedelta(days=90), fulfillment_status="FULFILLED")
    await world.add_order(1002, shipments=[{"display_status": "IN_TRANSIT", "tracking": [SAGAWA]}])

    decision, _ = await world.ask("Where is my order?", trust=SIGNED_IN)

    assert decision.action == DecisionAction.REPLY
    assert decision.order_name == "#1002"


@pytest.mark.anyio
async def test_several_open_orders_are_listed_and_the_answer_picks_one(world: World) -> None:
    await world.add_order(1001)
    await world.add_order(1002, shipments=[{"display_status": "IN_TRANSIT", "tracking": [SAGAWA]}])

    asked, ticket = await world.ask("注文した商品はいつ届きますか？", trust=SIGNED_IN)
    answered, _ = await world.ask("1002です", ticket=ticket, trust=SIGNED_IN)

    assert asked.action == DecisionAction.ASK
    assert asked.reply is not None
    assert "#1001" in asked.reply
    assert "#1002" in asked.reply
    assert answered.action == DecisionAction.REPLY
    assert answered.order_name == "#1002"
    assert answered.reply is not None
    assert "123456789012" in answered.reply
