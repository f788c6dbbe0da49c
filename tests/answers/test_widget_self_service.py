# ruff: noqa: F811 - tests take the imported `desk` fixture by name
"""The bot's self-service in the storefront widget: a signed-in shopper's "cancel my order" is restated
with yes/no buttons (``choices``: a tap sends the word). The offer against Shopify is tested against the
simulated store (tests/actions/test_bot_self_service_engine.py); here it is stood in for, so what is
checked is the widget's delivery of the self-service turn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from shop_app.actions import self_service
from shop_app.actions.policy import load_policy, save_policy
from shop_app.answers.self_service import turn
from shop_app.database import transaction
from shop_app.models import ActionKind, OrderAction, Shop, Ticket
from shop_app.models.base import utcnow
from tests.answers.test_widget import PROXY, signed, start
from tests.factories import seed_shipped_order
from tests.helpdesk.conftest import ALPHA, Desk, desk  # noqa: F401 - registers the fixture

pytestmark = pytest.mark.anyio
RESTATED = "ご注文 #1001 をキャンセルします。よろしいですか？"


async def _switched_on(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """Hanako's order, the shop's self-service cancellation on, and the offer stood in for: what it got."""
    await seed_shipped_order(desk.services.sessions, shop_id=desk.shop_ids[ALPHA])
    async with transaction(desk.services.sessions) as session:
        policy = await load_policy(session, shop_id=desk.shop_ids[ALPHA])
        policy.bot_cancel = True
        await save_policy(session, policy=policy)
    offered: list[dict[str, object]] = []

    async def restated(services: object, **given: object) -> self_service.BotStep:
        offered.append(given)
        return self_service.BotStep(self_service.Step.CONFIRM, RESTATED, "asked")

    monkeypatch.setattr(turn, "offer", restated)
    return offered


async def test_a_signed_in_shopper_gets_the_restated_action_with_yes_and_no_buttons(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered = await _switched_on(desk, monkeypatch)
    # when: signed in on the storefront, she asks to cancel
    begun = await start(
        desk.client, signed(desk.services.settings, customer_id=7001), "注文 #1001 をキャンセルしたい"
    )
    # then: the restated action is the bot's answer, with the two buttons
    assert begun.status_code == 201, begun.text
    assert [(given["verified"], given["language"]) for given in offered] == [(True, "ja")]
    assert [(m["author"], m["body"]) for m in begun.json()["messages"]][-1] == ("bot", RESTATED)
    assert begun.json()["choices"] == [
        {"label": "はい", "text": "はい"},
        {"label": "いいえ", "text": "いいえ"},
    ]


async def test_a_visitor_not_signed_in_gets_no_buttons_and_nothing_is_offered(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered = await _switched_on(desk, monkeypatch)
    begun = await start(desk.client, signed(desk.services.settings), "注文 #1001 をキャンセルしたい")
    assert begun.status_code == 201, begun.text
    assert offered == [] and begun.json()["choices"] == []
    assert RESTATED not in [m["body"] for m in begun.json()["messages"]]


async def test_the_buttons_shown_again_on_a_poll_speak_the_shoppers_language_not_the_shops(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered = await _switched_on(desk, monkeypatch)
    shop_id = desk.shop_ids[ALPHA]
    async with transaction(desk.services.sessions) as session:
        shop = await session.get_one(Shop, shop_id)
        shop.primary_locale = "ja"  # a Japanese shop; the shopper writes in English
    settings = desk.services.settings
    begun = await start(desk.client, signed(settings, customer_id=7001), "Please cancel my order #1001")
    assert begun.status_code == 201, begun.text
    assert [given["language"] for given in offered] == ["en"]
    # given: the action waits for her yes (the offer is stood in, so its row is written here)
    async with transaction(desk.services.sessions) as session:
        ticket_id = (
            await session.execute(select(col(Ticket.id)).where(col(Ticket.shop_id) == shop_id))
        ).scalar_one()
        session.add(
            OrderAction(
                shop_id=shop_id,
                ticket_id=ticket_id,
                order_shopify_id=1001,
                kind=ActionKind.CANCEL,
                by_shopper=True,
                idempotency_key="test-waiting-yes",
                expires_at=utcnow() + timedelta(minutes=30),
            )
        )
    # when: she polls later, with no new message of hers
    last_id = max(m["id"] for m in begun.json()["messages"])
    polled = await desk.client.get(
        f"{PROXY}/messages?{signed(settings, customer_id=7001, extra={'after': str(last_id)})}",
        headers={"X-Widget-Session": begun.json()["session"]},
    )
    # then: the buttons are in English, the language the bot asked in
    assert polled.status_code == 200, polled.text
    assert polled.json()["choices"] == [{"label": "Yes", "text": "Yes"}, {"label": "No", "text": "No"}]
