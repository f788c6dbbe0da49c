"""Order-status replies that tell what is known and no more: an estimate that has passed is a late order
(apologise, give the last tracking event and its date, and hand to a person with priority), the requested
delivery day and time slot is mentioned where the order has one, and carriers are named in the reply's
language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from shop_app.answers import HANDOFF_TAG, PRIORITY_TAG, Trust, check_template
from shop_app.answers.templates import DEFAULTS
from shop_app.models import DecisionAction
from shop_app.models.answers import TemplateKey
from tests.answers.answer_world import HANAKO, World, world

__all__ = ["world"]

SIGNED_IN = Trust(storefront_customer_id=HANAKO, source="ip:198.51.100.4")
YAMATO = {"number": "4444-1375-8703", "company": "Yamato (JA)"}
SHIP_BY = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # the 24th in Tokyo
ARRIVE_BY = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # the 25th in Tokyo
DECEMBER_3RD = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 11:00 in Tokyo
LAST_EVENT = {"status": "IN_TRANSIT", "happened_at": "2026-11-26T09:30:00+00:00", "message": "Sorted"}
ASKED_FOR = [["配送希望日", "2026/11/26"], ["配達時間帯", "14時〜16時"]]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("language", "question", "fragments"),
    [
        (
            "ja",
            "注文#1001はいつ届きますか？",
            ["大変申し訳ございません", "2026/11/24に発送の予定でしたが", "まだ発送"],
        ),
        (
            "en",
            "When will order #1001 arrive?",
            ["We are sorry", "was due to ship on Nov 24, 2026", "not shipped"],
        ),
    ],
)
async def test_a_ship_date_that_has_passed_is_a_late_order_for_a_person(
    world: World, language: str, question: str, fragments: list[str]
) -> None:
    await world.add_order(1001, fulfillment_orders=[{"status": "OPEN", "fulfill_at": SHIP_BY}])

    with time_machine.travel(DECEMBER_3RD, tick=False):
        decision, ticket = await world.ask(question, trust=SIGNED_IN, now=None)

    assert decision.reason == "order late"
    assert decision.action == DecisionAction.HANDOFF
    assert decision.priority is True
    assert decision.reply is not None
    for fragment in fragments:
        assert fragment in decision.reply
    assert "発送の予定です" not in decision.reply
    assert {HANDOFF_TAG, PRIORITY_TAG} <= set(ticket.tags)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("language", "question", "fragments"),
    [
        (
            "ja",
            "注文#1001はいつ届きますか？",
            [
                "2026/11/25にお届けの予定でしたが",
                "最新の配送状況は「輸送中」（2026/11/26）",
                "ヤマト運輸 追跡番号",
            ],
        ),
        (
            "en",
            "When will order #1001 arrive?",
            [
                "was expected to arrive by Nov 25, 2026",
                "The latest tracking update: On the way (Nov 26, 2026)",
                "Yamato Transport tracking number",
            ],
        ),
    ],
)
async def test_an_estimated_delivery_that_has_passed_apologises_with_the_last_tracking_event(
    world: World, language: str, question: str, fragments: list[str]
) -> None:
    shipment = {
        "display_status": "IN_TRANSIT",
        "tracking": [YAMATO],
        "estimated_delivery_at": ARRIVE_BY,
        "events": [LAST_EVENT],
    }
    await world.add_order(1001, shipments=[shipment])
    on_the_day = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo: still the 25th

    still_ahead, _ = await world.ask(question, trust=SIGNED_IN, now=on_the_day)
    decision, _ = await world.ask(question, trust=SIGNED_IN, now=DECEMBER_3RD)

    assert still_ahead.reason == "order in_transit"
    assert still_ahead.action == DecisionAction.REPLY
    assert decision.reason == "order late"
    assert decision.action == DecisionAction.HANDOFF
    assert decision.priority is True
    assert decision.reply is not None
    for fragment in fragments:
        assert fragment in decision.reply


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("注文#1001の配送状況を教えてください", "（ご希望のお届け日時：2026/11/26 14時〜16時）"),
        ("Where is my order #1001?", "Requested delivery: Nov 26, 2026, 14:00–16:00."),
    ],
)
async def test_the_requested_delivery_day_and_slot_are_in_the_order_status_answer(
    world: World, question: str, fragment: str
) -> None:
    await world.add_order(
        1001,
        custom_attributes=ASKED_FOR,
        shipments=[{"display_status": "IN_TRANSIT", "tracking": [YAMATO]}],
    )
    await world.add_order(1002, fulfillment_orders=[{"status": "OPEN"}])

    with_request, _ = await world.ask(question, trust=SIGNED_IN)
    without, _ = await world.ask(question.replace("1001", "1002"), trust=SIGNED_IN)

    assert with_request.reply is not None
    assert fragment in with_request.reply
    assert without.reply is not None
    assert "ご希望のお届け日時" not in without.reply
    assert "Requested delivery" not in without.reply


def test_reply_templates_can_name_the_requested_delivery_and_the_late_orders_facts() -> None:
    sample = check_template(
        TemplateKey.ORDER_IN_TRANSIT,
        "{{ requested_delivery_date }} {{ requested_delivery_slot }} / {{ expected_on }} {{ last_event }}",
    )

    assert sample == "2026/11/26 14時〜16時 / 2026/11/26 On the way"
    for language in ("ja", "en"):
        assert check_template(TemplateKey.ORDER_LATE, DEFAULTS[(TemplateKey.ORDER_LATE, language)])


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("company", "japanese", "english"),
    [
        ("Yamato (JA)", "ヤマト運輸 追跡番号", "Yamato Transport tracking number"),
        ("Sagawa (EN)", "佐川急便 追跡番号", "Sagawa Express tracking number"),
        ("ゆうパック", "日本郵便 追跡番号", "Japan Post tracking number"),
    ],
)
async def test_carriers_are_named_in_the_replys_language(
    world: World, company: str, japanese: str, english: str
) -> None:
    shipment = {"display_status": "IN_TRANSIT", "tracking": [{"number": "123456789012", "company": company}]}
    await world.add_order(1001, shipments=[shipment])

    in_japanese, _ = await world.ask("注文#1001の配送状況を教えてください", trust=SIGNED_IN)
    in_english, _ = await world.ask("Where is my order #1001?", trust=SIGNED_IN)

    assert in_japanese.reply is not None
    assert japanese in in_japanese.reply
    assert in_english.reply is not None
    assert english in in_english.reply
    assert company not in in_english.reply
