# ruff: noqa: F811 - tests take the imported `desk` fixture by name
"""The widget's after-hours acknowledgement: a shopper whose first message waits for a person outside the
shop's business hours is told, in their language, when the team is back and by when a person answers; the
notice is no answer (the first-response clock keeps running); inside the hours, or for the other shop, or
when the bot answered, nothing is added."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from shop_app.database import transaction
from shop_app.models import Shop, Ticket
from tests.answers.test_widget import signed, start
from tests.helpdesk.conftest import ALPHA, BETA, Desk, desk  # noqa: F401 - registers the fixture

pytestmark = pytest.mark.anyio

HOURS = {
    "timezone": "Asia/Tokyo",
    "week": {day: {"opens": "09:00", "closes": "18:00"} for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-31"],
}
SATURDAY_NOON_TOKYO = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
THURSDAY_10_TOKYO = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
NEW_YEARS_EVE_10_TOKYO = datetime(2026, 12, 31, 1, 0, tzinfo=UTC)


async def _set_hours(desk: Desk, domain: str = ALPHA) -> None:
    async with transaction(desk.services.sessions) as session:
        (await session.get_one(Shop, desk.shop_ids[domain])).business_hours = HOURS


async def _chat(desk: Desk, moment: datetime, message: str, domain: str = ALPHA) -> list[dict[str, Any]]:
    with time_machine.travel(moment, tick=False):
        begun = await start(desk.client, signed(desk.services.settings, domain), message, name="Mia")
    assert begun.status_code == 201, begun.text
    return list(begun.json()["messages"])


async def test_a_first_message_outside_hours_is_acknowledged_in_japanese_and_english(desk: Desk) -> None:
    await _set_hours(desk)

    japanese = await _chat(desk, SATURDAY_NOON_TOKYO, "担当者と話したいです")
    english = await _chat(desk, NEW_YEARS_EVE_10_TOKYO, "Can I talk to a person please?")

    assert "営業時間外" in japanese[-1]["body"] and "2026/12/07 9:00" in japanese[-1]["body"]
    assert japanese[-1]["author"] == "bot"
    assert "business hours" in english[-1]["body"] and "Jan 1, 2027" in english[-1]["body"]
    async with desk.services.sessions() as session:
        tickets = list((await session.execute(select(Ticket))).scalars())
    assert [t.first_response_at for t in tickets] == [None, None]  # told when, not answered


async def test_inside_hours_or_in_a_shop_without_hours_nothing_is_added(desk: Desk) -> None:
    await _set_hours(desk)

    open_now = await _chat(desk, THURSDAY_10_TOKYO, "Can I talk to a person please?")
    other_shop = await _chat(desk, SATURDAY_NOON_TOKYO, "Can I talk to a person please?", BETA)

    for messages in (open_now, other_shop):
        assert not any("business hours" in m["body"] for m in messages), messages
