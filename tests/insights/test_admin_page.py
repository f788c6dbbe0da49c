"""The embedded admin's Insights page: its figures drawn as SVG on the server in the admin's language, every
chart with its numbers a click away, user text escaped, another shop's figures never shown."""

from __future__ import annotations

import re

import pytest

from shop_app.database import transaction
from shop_app.models import BotDecision, DecisionAction, Verification
from tests.factories import session_token
from tests.helpdesk.conftest import ALPHA, BETA
from tests.insights.conftest import Desk
from tests.insights.world import World, tokyo

RANGE = {"start": "2026-11-01", "end": "2026-11-10"}


def admin(shop: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token(shop)}"}


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("ja", ["注文100件あたりの問い合わせ", "配送中", "担当者との会話を希望", "数値を表示", "150.00"]),
        (
            "en",
            ["Inquiries per 100 orders", "In transit", "Asked for a person", "Show the numbers", "150.00"],
        ),
    ],
)
async def test_the_figures_are_drawn_in_the_admins_language(
    desk: Desk, world: World, locale: str, words: list[str]
) -> None:
    answer = await desk.client.get(
        "/api/admin/insights", params={**RANGE, "locale": locale}, headers=admin(ALPHA)
    )

    assert answer.status_code == 200, answer.text
    for word in words:
        assert word in answer.text
    assert answer.text.count("<svg") == 5 and answer.text.count('role="img"') == 5
    assert answer.text.count("<title id=") == 5
    # the days' numbers, one row a day, a click away
    numbers = answer.text[answer.text.index('data-role="numbers-days"') :]
    assert len(re.findall(r'<th scope="row">2026-11-\d\d</th>', numbers)) == 10
    assert "Yamato" in answer.text


async def test_user_text_is_escaped(desk: Desk, world: World) -> None:
    async with transaction(desk.services.sessions) as session:
        session.add(
            BotDecision(
                shop_id=desk.shop_ids[ALPHA],
                ticket_id=world.tickets["t5"],
                intent="stock",
                confidence=0.9,
                language="ja",
                verification=Verification.NOT_NEEDED,
                action=DecisionAction.REPLY,
                reason="stock in_stock (policy deny)",
                product_title='<img src=x onerror="alert(1)">',
                created_at=tokyo(2026, 11, 6, 11, 1),
            )
        )
    answer = await desk.client.get("/api/admin/insights", params=RANGE, headers=admin(ALPHA))

    assert "<img src=x" not in answer.text and "&lt;img src=x" in answer.text


async def test_another_shop_sees_its_own_figures_and_strangers_nothing(desk: Desk, world: World) -> None:
    beta = await desk.client.get("/api/admin/insights", params={**RANGE, "locale": "en"}, headers=admin(BETA))

    assert beta.status_code == 200
    assert "Yamato" not in beta.text and "America/New_York" in beta.text
    assert (await desk.client.get("/api/admin/insights", params=RANGE)).status_code == 401
    assert (
        await desk.client.get("/api/admin/insights", params={"start": "2026-13-01"}, headers=admin(ALPHA))
    ).status_code == 422


async def test_the_page_is_in_the_admins_menu(desk: Desk) -> None:
    page = await desk.client.get(
        "/app/insights", params={"shop": ALPHA, "locale": "ja", "id_token": session_token(ALPHA)}
    )

    assert page.status_code == 200
    assert "インサイト" in page.text and "/static/admin/insights.js" in page.text
    assert 'data-role="filters"' in page.text and "CSVを書き出す" in page.text
