# ruff: noqa: F811 - tests take the imported `desk` fixture by name
"""The bot's self-service in the storefront widget: a signed-in shopper's "cancel my order" is restated
with yes/no buttons (``choices``: a tap sends the word). The offer against Shopify is tested against the
simulated store (tests/actions/test_bot_self_service_engine.py); here it is stood in for, so what is
checked is the widget's delivery of the self-service turn."""

from __future__ import annotations

import pytest

from shop_app.actions import self_service
from shop_app.actions.policy import load_policy, save_policy
from shop_app.answers.self_service import turn
from shop_app.database import transaction
from tests.answers.test_widget import signed, start
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
