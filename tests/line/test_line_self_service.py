"""The bot's self-service on LINE: a linked shopper's "cancel my order" is restated with はい/いいえ quick
replies (a tap sends the word), using the event's reply token. What the offer itself does against Shopify
is tested against the simulated store (tests/actions/test_bot_self_service_engine.py); here it is stood in
for, so what is checked is LINE's delivery of the self-service turn."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.actions import self_service
from shop_app.actions.policy import load_policy, save_policy
from shop_app.answers.self_service import turn
from shop_app.database import transaction
from shop_app.models import BotDecision, Ticket, TicketStatus
from tests.helpdesk.conftest import ALPHA
from tests.line.conftest import LineDesk
from tests.line.test_line_conversations import HANAKO, account_link_event, link

pytestmark = pytest.mark.anyio


async def test_a_linked_shopper_is_asked_to_confirm_with_yes_and_no_quick_replies(
    line_desk: LineDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a linked shopper, the shop's self-service cancellation on
    await line_desk.seed_order()
    async with transaction(line_desk.desk.services.sessions) as session:
        policy = await load_policy(session, shop_id=line_desk.desk.shop_ids[ALPHA])
        policy.bot_cancel = True
        await save_policy(session, policy=policy)
    offered: list[dict[str, object]] = []

    async def restated(services: object, **given: object) -> self_service.BotStep:
        offered.append(given)
        return self_service.BotStep(
            self_service.Step.CONFIRM, "ご注文 #1001 をキャンセルします。よろしいですか？", "asked"
        )

    monkeypatch.setattr(turn, "offer", restated)
    page = await link(line_desk)
    nonce = parse_qs(urlsplit(page.headers["location"]).query)["nonce"][0]
    await line_desk.post([account_link_event(line_desk, HANAKO, nonce)])
    await line_desk.settle()
    # when
    await line_desk.post([line_desk.event(HANAKO, text="注文 #1001 をキャンセルしたいです")])
    await line_desk.settle()
    # then: the order proved by the link, the restated action replied with はい/いいえ
    assert [(given["order_id"], given["verified"], given["language"]) for given in offered] == [
        (8001, True, "ja")  # the seeded #1001 is Shopify order 8001
    ]
    messages = line_desk.line.sent("reply")[-1]["messages"]
    assert messages[-1]["text"] == "ご注文 #1001 をキャンセルします。よろしいですか？"
    assert [(i["action"]["label"], i["action"]["text"]) for i in messages[-1]["quickReply"]["items"]] == [
        ("はい", "はい"),
        ("いいえ", "いいえ"),
    ]
    async with line_desk.desk.services.sessions() as session:
        decision = (
            (await session.execute(select(BotDecision).order_by(col(BotDecision.id).desc())))
            .scalars()
            .first()
        )
        assert decision is not None and decision.action == "ask" and decision.intent == "cancel"
        ticket = await session.get_one(Ticket, decision.ticket_id)
        assert ticket.status == TicketStatus.PENDING
